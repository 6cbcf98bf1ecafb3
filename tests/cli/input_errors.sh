#!/usr/bin/env bash
# Bad input: one line naming file:line:column (or the --set argument) and what was
# expected, exit status 2, nothing on stdout, and no output file (nor a temporary one) left
# behind. One case per kind of mistake, grouped as in issue 7: files, syntax and keys,
# types and ranges, the time horizon, values that used to die at run time, profiles,
# names, YAML aliases, --set, placement. (Sweep blocks: tests/cli/sweep_errors.sh.)
# usage: input_errors.sh path/to/infersim
set -u
shopt -s lastpipe  # `... | case_ NAME` runs case_ in this shell, so its counts stick
. "$(dirname "$0")/lib.sh"
fails=0
cases=0

DEFAULT_TENANT='  - {model: resnet50_v1, arrival: {process: poisson, rate: 100}}'
good() {  # a valid experiment; $1 replaces the tenants line (line 7)
  local tenant=${1:-$DEFAULT_TENANT}
  cat <<EOF2
name: bad
seed: 1
duration_s: 1
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 1}
policy: {name: exclusive, max_batch: 4}
tenants:
$tenant
EOF2
}
# A valid experiment with line $1 replaced by $2 (sed, so \n and \xNN work in $2).
good_with() { good | sed "$1s|.*|$2|"; }
tenant() { good "  - {model: resnet50_v1, $1}"; }  # a tenant entry's own keys

# expect NAME FILE PATTERN [infersim args...]: exit 2, one stderr line matching PATTERN,
# nothing on stdout, no output file.
expect() {
  local name=$1 file=$2 pattern=$3
  shift 3
  cases=$((cases + 1))
  local out="$work/out_$name.h5"
  timeout 20 "$INFERSIM" run "$file" -o "$out" "$@" > "$work/stdout" 2> "$work/stderr" < /dev/null
  local rc=$?
  local lines
  lines=$(wc -l < "$work/stderr")
  if [ "$rc" -ne 2 ]; then
    echo "FAIL $name: exit $rc, expected 2"; head -3 "$work/stderr"; fails=$((fails + 1))
  elif [ "$lines" -ne 1 ]; then
    echo "FAIL $name: $lines lines on stderr, expected 1:"; cat "$work/stderr"; fails=$((fails + 1))
  elif [ -s "$work/stdout" ]; then
    echo "FAIL $name: output on stdout:"; head -3 "$work/stdout"; fails=$((fails + 1))
  elif ! grep -Eq -- "$pattern" "$work/stderr"; then
    echo "FAIL $name: stderr does not match /$pattern/:"; cat "$work/stderr"; fails=$((fails + 1))
  elif ls -d "$work"/out_"$name".h5* > /dev/null 2>&1; then
    echo "FAIL $name: an output file was left behind"; fails=$((fails + 1))
  else
    echo "ok   $name: $(cat "$work/stderr")"
  fi
}
# case NAME PATTERN [infersim args...]: the file comes from stdin.
case_() {
  local name=$1 pattern=$2
  shift 2
  cat > "$work/$name.yaml"
  expect "$name" "$work/$name.yaml" "$name.yaml:$pattern" "$@"
}

# MIG and MPS SM caps (issue 11): a layout NVIDIA does not allow, mig on a GPU without MIG,
# and an active_thread_percentage outside 1..100.
h100() {  # an H100 (roofline profile) experiment; $1 the policy line, $2 the tenant line
  cat <<EOF2
name: bad
seed: 1
duration_s: 1
hardware: {profile: roofline, gpu: h100}
$1
tenants:
$2
EOF2
}
h100 "policy: {name: mig, instances: [4g.40gb, 4g.40gb]}" "$DEFAULT_TENANT" > "$work/mig_layout.yaml"
expect mig_layout "$work/mig_layout.yaml" \
  "mig_layout.yaml:5:[0-9]+: MIG layout 4g.40gb\+4g.40gb is not valid on GPU 'h100'.*valid layouts.*4g.40gb\+3g.40gb"
good | sed 's/name: exclusive, max_batch: 4/name: mig, instances: [1g.10gb]/' > "$work/mig_v100.yaml"
expect mig_v100 "$work/mig_v100.yaml" "mig_v100.yaml:5:[0-9]+: policy 'mig' needs a MIG-capable GPU, but GPU 'v100'"
for pct in 0 101; do
  h100 "policy: {name: mps, granularity: kernel}" \
    "  - {model: resnet50_v1, active_thread_percentage: $pct, arrival: {process: poisson, rate: 10}}" \
    > "$work/atp_$pct.yaml"
  expect "active_thread_percentage_$pct" "$work/atp_$pct.yaml" \
    "atp_$pct.yaml:7:[0-9]+: expected 'active_thread_percentage' between 1 and 100"
done

# kernel_sharing (how kernels share the GPU) is a setting of granularity kernel, and
# overlap_floor one of kernel_sharing: overlap.
h100 "policy: {name: mps, kernel_sharing: overlap}" \
  "  - {model: resnet50_v1, arrival: {process: poisson, rate: 10}}" > "$work/sharing_batch.yaml"
expect kernel_sharing_at_batch_granularity "$work/sharing_batch.yaml" \
  "sharing_batch.yaml:5:[0-9]+: 'kernel_sharing' applies only with granularity: kernel \(here granularity: batch\)"
h100 "policy: {name: space_time, granularity: kernel, overlap_floor: 0.5}" \
  "  - {model: resnet50_v1, arrival: {process: poisson, rate: 10}}" > "$work/floor_budget.yaml"
expect overlap_floor_without_overlap "$work/floor_budget.yaml" \
  "floor_budget.yaml:5:[0-9]+: 'overlap_floor' applies only with kernel_sharing: overlap \(here kernel_sharing: sm_budget\)"
h100 "policy: {name: time_sliced, granularity: kernel, kernel_sharing: overlap}" \
  "  - {model: resnet50_v1, arrival: {process: poisson, rate: 10}}" > "$work/sharing_ts.yaml"
good_with 5 'policy: {name: space_time, evict_ms: 10}' |
  case_ evict_ms_without_eviction "5:[0-9]+: 'evict_ms' applies only with evict_stragglers: true \\(here evict_stragglers: false\\)"
good_with 5 'policy: {name: time_sliced, compute_preemption: true}' |
  case_ compute_preemption_at_batch_granularity "5:[0-9]+: 'compute_preemption' applies only with granularity: kernel"
expect kernel_sharing_on_time_sliced "$work/sharing_ts.yaml" \
  "sharing_ts.yaml:5:[0-9]+: .*kernel_sharing"

good > "$work/ok.yaml"

# ---- the file itself
expect missing_file "$work/nope.yaml" "nope.yaml:1:1: cannot open file"
expect directory "$work" "$(basename "$work"):1:1: is a directory"
: > "$work/empty.yaml"
expect empty_file "$work/empty.yaml" "empty.yaml:1:1: the file is empty"
printf '# only a comment\n\n' | case_ comments_only "1:1: the file is empty"
expect device /dev/zero "/dev/zero:1:1: is not a regular file"
mkfifo "$work/fifo.yaml"
expect fifo "$work/fifo.yaml" "fifo.yaml:1:1: is not a regular file"
{ good; head -c 1100000 /dev/zero | tr '\0' '#'; } | case_ too_large "1:1: file is larger than 1 MiB"
printf 'name: x\nseed: 1\nduration_s: [1,\n' | case_ syntax "[0-9]+:[0-9]+: YAML syntax error"
{ good; printf -- '---\nname: second\n'; } | case_ second_document "8:1: expected one YAML document"
printf 'name: x\n\tseed: 1\n' | case_ tab_indent "[0-9]+:[0-9]+: YAML syntax error"
printf '[1, 2, 3]\n' | case_ top_is_list "1:1: expected a mapping for 'experiment'"
{ printf 'name: '; head -c 600 /dev/zero | tr '\0' '['; } | case_ deep_nesting "1:[0-9]+: YAML nested more than [0-9]+ levels deep"

# ---- keys
good_with 3 'duraton_s: 1' | case_ unknown_key "3:1: unknown key 'duraton_s'"
good | sed 's/^seed: 1/seed: 1\nseed: 2/' | case_ duplicate_key "3:1: duplicate key 'seed'"
good_with 5 'policy: {name: exclusive, max_batch: 4, max_batch: 8}' |
  case_ duplicate_flow_key "5:[0-9]+: duplicate key 'max_batch'"
good_with 2 '"se\\ned": 1' | case_ newline_in_key "2:1: unknown key 'se\\\\ned'"
good_with 4 'hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpus: 2}' |
  case_ unknown_hardware_key "4:[0-9]+: unknown key 'gpus' in hardware"
good_with 5 'policy: {name: exclusive, quantum_ms: 2}' |
  case_ unknown_policy_key "5:[0-9]+: unknown key 'quantum_ms' in policy 'exclusive'"
tenant 'arrival: {process: poisson, rate: 100, burst: 2}' |
  case_ unknown_arrival_key "7:[0-9]+: unknown key 'burst' in arrival 'poisson'"
tenant 'slo: 5, arrival: {process: poisson, rate: 100}' |
  case_ unknown_tenant_key "7:[0-9]+: unknown key 'slo' in tenant"
{ good; echo 'output: {request: true}'; } | case_ unknown_output_key "8:[0-9]+: unknown key 'request' in output"
good_with 1 '[a]: 1' | case_ complex_key "1:1: expected a key name in experiment"
good | sed '/^duration_s/d' | case_ missing_duration "1:1: missing key 'duration_s'"
good | sed '/^tenants/,$d' | case_ missing_tenants "1:1: missing key 'tenants'"
good "  - {arrival: {process: poisson, rate: 100}}" | case_ missing_model "7:5: missing key 'model' in tenant"
tenant 'arrival: {rate: 100}' | case_ missing_process "7:[0-9]+: missing key 'process' in arrival"
tenant 'arrival: {process: gamma, rate: 100}' | case_ missing_param "7:[0-9]+: missing key 'cv' in arrival 'gamma'"

# ---- types and ranges
tenant 'arrival: {process: poisson, rate: fast}' | case_ wrong_type "7:[0-9]+: expected a number for 'rate'"
good_with 2 'seed: 1.5' | case_ seed_not_integer "2:7: expected an integer for 'seed'"
good_with 2 'seed: -3' | case_ negative_seed "2:7: expected 'seed' >= 0"
{ good; echo 'output: {requests: maybe}'; } | case_ not_a_bool "8:[0-9]+: expected true or false for 'requests'"
good_with 5 'policy: {name: exclusive, drop_late: 0.5}' | case_ bool_param_half "5:[0-9]+: expected true or false for 'drop_late'"
good_with 5 'policy: {name: exclusive, drop_late: on}' | case_ bool_param_on "5:[0-9]+: expected true or false for 'drop_late'"
# A number tagged as one is still a number: the run goes through (exit 0).
tenant 'arrival: {process: poisson, rate: !!float 100}' > "$work/float_tag.yaml"
cases=$((cases + 1))
if "$INFERSIM" run "$work/float_tag.yaml" -o "$work/float_tag.h5" -q > /dev/null 2>&1; then
  echo "ok   float_tag: !!float 100 is a rate"
else
  echo "FAIL float_tag: !!float 100 refused"; fails=$((fails + 1))
fi
tenant 'arrival: {process: poisson, rate: "100"}' | case_ quoted_number "7:[0-9]+: expected a number for 'rate'"
tenant 'arrival: {process: poisson, rate: !!str 100}' | case_ tagged_number "7:[0-9]+: expected a number for 'rate'"
tenant 'arrival: {process: poisson, rate: 0x64}' | case_ hex_number "7:[0-9]+: expected a number for 'rate'"
good_with 2 'seed: "7"' | case_ quoted_integer "2:7: expected an integer for 'seed'"
tenant 'arrival: {process: poisson, rate: true}' | case_ bool_as_rate "7:[0-9]+: expected a number for 'rate'"
good_with 5 'policy: {name: exclusive, max_batch: false}' | case_ bool_as_max_batch "5:[0-9]+: expected a number for 'max_batch'"
good_with 4 'hardware: {profile: hardware_profiles/v100_clockwork.yaml, count: 4, nodes: 4611686018427387904}' |
  case_ nodes_times_count_overflows "4:[0-9]+: expected 'nodes' >= 1 with nodes x count <= 100000"
tenant 'replicas: 4, instances: 4611686018427387905, arrival: {process: poisson, rate: 1}' |
  case_ instances_times_replicas_overflows "7:[0-9]+: expected 'instances' >= 1 with instances x replicas <= 1000000"
{ good | sed '6,$d'; echo 'tenants: {model: resnet50_v1}'; } | case_ tenants_not_list "6:10: expected a non-empty list for 'tenants'"
{ good | sed '6,$d'; echo 'tenants: []'; } | case_ tenants_empty "6:10: expected a non-empty list for 'tenants'"
tenant 'arrival: {process: poisson, rate: -5}' | case_ negative_rate "7:[0-9]+: expected 'rate' > 0"
tenant 'arrival: {process: poisson, rate: 1e13}' | case_ rate_too_high "7:[0-9]+: expected 'rate' > 0 and <= 1000000000000"
tenant 'arrival: {process: closed, n: 0}' | case_ closed_n_zero "7:[0-9]+: expected 'n' >= 1"
tenant 'replicas: 0, arrival: {process: poisson, rate: 1}' | case_ replicas_zero "7:[0-9]+: expected 'replicas' between 1 and 100000"
tenant 'replicas: 100001, arrival: {process: poisson, rate: 1}' | case_ replicas_too_many "7:[0-9]+: expected 'replicas' between 1 and 100000"
tenant 'gpu: 1, arrival: {process: poisson, rate: 1}' | case_ gpu_index "7:[0-9]+: expected 'gpu' between 0 and 0"
good_with 4 'hardware: {profile: hardware_profiles/v100_clockwork.yaml, count: 0}' |
  case_ gpu_count_zero "4:[0-9]+: expected 'count' between 1 and 100000"
good_with 5 'policy: {name: exclusive, max_batch: 0}' | case_ max_batch_zero "5:[0-9]+: expected 'max_batch' >= 1 and <= 4096"
good_with 5 'policy: {name: mps, interference: -1}' | case_ interference_negative "5:[0-9]+: expected 'interference' >= 0"
good | sed 's/^duration_s: 1/duration_s: 1\nwarmup_s: 1/' | case_ warmup_not_below_duration "4:11: expected 'warmup_s' < duration_s"

# ---- the time horizon (1e18 ns): beyond it is an input error, never a wrapped number
good_with 3 'duration_s: 1e30' | case_ duration_1e30 "3:13: expected 'duration_s' <= 1e\\+09 s \\(the time horizon"
good_with 3 'duration_s: 1e308' | case_ duration_1e308 "3:13: expected 'duration_s' <= 1e\\+09 s"
good_with 3 'duration_s: 9.3e9' | case_ duration_9e9 "3:13: expected 'duration_s' <= 1e\\+09 s"
good_with 3 'duration_s: 1e-10' | case_ duration_below_1ns "3:13: expected 'duration_s' >= 1e-9 \\(1 ns\\)"
good | sed 's/^duration_s: 1/duration_s: 1e31\nwarmup_s: 1e30/' | case_ warmup_1e30 "3:13: expected 'duration_s' <= 1e\\+09 s"
tenant 'slo_ms: 1e13, arrival: {process: poisson, rate: 1}' | case_ slo_1e13 "7:[0-9]+: expected 'slo_ms' <= 1e\\+12 ms"
good_with 5 'policy: {name: exclusive, batch_timeout_ms: 1e30}' | case_ batch_timeout_1e30 "5:[0-9]+: expected 'batch_timeout_ms' <= 1e\\+12 ms"
good_with 5 'policy: {name: exclusive, batch_timeout_ms: 9.2e12}' | case_ batch_timeout_9e12 "5:[0-9]+: expected 'batch_timeout_ms' <= 1e\\+12 ms"
good_with 5 'policy: {name: space_time, evict_ms: 2e12}' | case_ evict_beyond "5:[0-9]+: expected 'evict_ms' <= 1e\\+12 ms"

# ---- values that used to be accepted and then killed the run (exit 1)
tenant 'arrival: {process: closed, n: 1, think_ms: 1e13}' | case_ think_1e13 "7:[0-9]+: expected 'think_ms' <= 1e\\+12 ms"
good_with 5 'policy: {name: time_sliced, quantum_ms: 1e-7}' | case_ quantum_below_1ns "5:[0-9]+: expected 'quantum_ms' >= 1e-06 ms \\(1 ns"
tenant 'arrival: {process: gamma, rate: 10, cv: 1e-200}' | case_ cv_1e200 "7:[0-9]+: expected 'cv' >= 1e-06"

# ---- hardware profiles and GPUs (errors point into the profile file)
good_with 4 'hardware: {profile: nowhere.yaml}' | case_ unknown_profile "4:[0-9]+: file 'nowhere.yaml' not found"
mkdir "$work/profiles"
printf 'gpu: v100\nmodels:\n  m1:\n    input_kb: 602\n    output_kb: 4\n    weights_mb: 10\n    transfer_ms: 1\n    latency_ms: {1: 1e30, 2: 1e30}\n' > "$work/profiles/huge.yaml"
cp hardware_profiles/gpus.yaml "$work/profiles/gpus.yaml"
good_with 4 "hardware: {profile: $work/profiles/huge.yaml}" | sed 's/resnet50_v1/m1/' > "$work/huge_exp.yaml"
expect profile_latency_1e30 "$work/huge_exp.yaml" "huge.yaml:8:[0-9]+: expected 'latency_ms\\[1\\]' <= 1e\\+12 ms"
printf 'gpu: v100\nmodels:\n  m1:\n    input_kb: 602\n    output_kb: 4\n    weights_mb: 10\n    transfer_ms: 1\n    latency_ms: {1: 1e11, 2: 2e11}\n' > "$work/profiles/steep.yaml"
good_with 4 "hardware: {profile: $work/profiles/steep.yaml}" | sed 's/resnet50_v1/m1/; s/max_batch: 4/max_batch: 16/' |
  case_ latency_extrapolated_beyond "7:[0-9]+: model 'm1': L\\(16\\) = 1.6e\\+12 ms"
printf 'gpu: v100\nmodels:\n  m1: {input_kb: 1, output_kb: 1, weights_mb: 1, transfer_ms: 1, latency_ms: {1: 1, 1: 2}}\n' > "$work/profiles/dup.yaml"
good_with 4 "hardware: {profile: $work/profiles/dup.yaml}" | sed 's/resnet50_v1/m1/' > "$work/dup_exp.yaml"
expect profile_duplicate_key "$work/dup_exp.yaml" "dup.yaml:3:[0-9]+: duplicate key '1'"
good_with 4 'hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v101}' | case_ unknown_gpu "4:[0-9]+: unknown GPU 'v101'"
good_with 4 'hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: h100}' | case_ profile_of_another_gpu "4:[0-9]+: the profile hardware_profiles/v100_clockwork.yaml was measured on 'v100', not 'h100'"

# ---- names: valid UTF-8 without control characters
good_with 1 'name: bad\xff\xfe' | case_ name_invalid_utf8 "1:7: experiment name 'bad\\\\xff\\\\xfe' must be valid UTF-8"
good_with 1 'name: "a\\0b"' | case_ name_nul "1:7: experiment name 'a\\\\x00b' must be valid UTF-8 without control"
good_with 1 'name: "line\\nbreak"' | case_ name_newline "1:7: experiment name 'line\\\\nbreak' must be"
tenant 'name: "t\x1b[31m", arrival: {process: poisson, rate: 1}' | case_ tenant_name_escape "7:[0-9]+: tenant name 't\\\\x1b\\[31m' must be valid UTF-8"
tenant $'name: t\xff\xfe, arrival: {process: poisson, rate: 1}' | case_ tenant_name_invalid_utf8 "7:[0-9]+: tenant name 't\\\\xff\\\\xfe' must be"
tenant "name: $(head -c 300 /dev/zero | tr '\0' 'n'), arrival: {process: poisson, rate: 1}" | case_ tenant_name_too_long "7:[0-9]+: tenant name is 300 bytes long; at most 255"
tenant 'name: "", arrival: {process: poisson, rate: 1}' | case_ tenant_name_empty "7:[0-9]+: expected a non-empty tenant name"
good "  - {model: resnet50_v1, name: a, arrival: {process: poisson, rate: 1}}
  - {model: googlenet, name: a, arrival: {process: poisson, rate: 1}}" |
  case_ duplicate_tenant_name "8:[0-9]+: duplicate tenant name 'a'"

# ---- YAML aliases: a self-reference segfaulted, a nine-level bomb took 69 s
{ good; echo 'extra: &r [*r]'; } | case_ alias_self_reference "8:12: YAML aliases \\(\\*name\\) are not supported"
{
  good
  echo 'a0: &a0 [x, x, x, x, x, x, x, x, x]'
  for i in 1 2 3 4 5 6 7 8; do echo "a$i: &a$i [*a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1)), *a$((i - 1))]"; done
} > "$work/alias_bomb.yaml"
start=$(date +%s%N)
expect alias_bomb "$work/alias_bomb.yaml" "alias_bomb.yaml:9:[0-9]+: YAML aliases"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
# It took 69 s before the bound (yaml-cpp expanded 9^9 nodes); now milliseconds, but a
# sanitizer build on a busy machine starts slowly: 10 s still tells the two apart.
if [ "$elapsed_ms" -gt 10000 ]; then echo "FAIL alias_bomb: took $elapsed_ms ms"; fails=$((fails + 1)); fi
good "  - {model: resnet50_v1, arrival: &arr {process: poisson, rate: 1}}
  - {model: googlenet, arrival: *arr}" | case_ alias_shared_value "8:[0-9]+: YAML aliases"
expect set_alias_self_reference "$work/ok.yaml" "^infersim: --set name=&a \\[\\*a\\]: YAML aliases" --set 'name=&a [*a]'

# ---- --set: errors name the argument, not the file
expect set_bad_index "$work/ok.yaml" "^infersim: --set tenants.3.model=x: '3' is not an index" --set tenants.3.model=x
expect set_value "$work/ok.yaml" "^infersim: --set tenants.0.arrival.rate=0: expected 'rate' > 0" --set tenants.0.arrival.rate=0
expect set_unknown_top_key "$work/ok.yaml" "^infersim: --set foo=1: unknown key 'foo' in experiment" --set foo=1
expect set_unknown_nested_key "$work/ok.yaml" "^infersim: --set tenants.0.foo=1: unknown key 'foo' in tenant" --set tenants.0.foo=1
expect set_no_such_parent "$work/ok.yaml" "^infersim: --set hardware.gpus.x=1: no key 'gpus' in 'hardware'" --set hardware.gpus.x=1
expect set_scalar_parent "$work/ok.yaml" "^infersim: --set seed.x=1: 'seed' is a scalar" --set seed.x=1
expect set_no_equals "$work/ok.yaml" "^infersim: --set seed: expected path=value" --set seed
expect set_empty_component "$work/ok.yaml" "^infersim: --set tenants..model=x: empty component" --set tenants..model=x
expect set_duplicate_key "$work/ok.yaml" "^infersim: --set policy=\\{name: mps, name: exclusive\\}: duplicate key 'name'" --set 'policy={name: mps, name: exclusive}'
expect set_bad_yaml "$work/ok.yaml" "^infersim: --set name=\\[1,: YAML syntax error" --set 'name=[1,'
expect set_inner_value "$work/ok.yaml" "^infersim: --set tenants.0.arrival=\\{process: poisson, rate: x\\}: expected a number for 'rate'" --set 'tenants.0.arrival={process: poisson, rate: x}'
expect set_newline_value "$work/ok.yaml" "^infersim: --set name=\"a\\\\nb\": experiment name 'a\\\\nb' must be" --set 'name="a\nb"'
expect set_horizon "$work/ok.yaml" "^infersim: --set duration_s=1e30: expected 'duration_s' <= 1e\\+09 s" --set duration_s=1e30

# ---- unknown names and placement
good "  - {model: resnet51, arrival: {process: poisson, rate: 5}}" | case_ unknown_model "7:[0-9]+: unknown model 'resnet51'"
good "  - {model: resnet50_v1, arrival: {process: poison, rate: 5}}" | case_ unknown_arrival "7:[0-9]+: unknown arrival process 'poison'.*poisson"
good_with 5 'policy: {name: exclusiv}' | case_ unknown_policy "5:[0-9]+: unknown policy 'exclusiv'"
good "  - {model: resnet50_v1, replicas: 2, arrival: {process: poisson, rate: 5}}" | case_ placement "7:[0-9]+: policy 'exclusive' allows 1 tenant"
good_with 5 'policy: {name: mps}' | sed 's/model: resnet50_v1,/model: resnet50_v1, replicas: 19,/' |
  case_ memory_wall "7:[0-9]+: tenant 'resnet50_v1/18' does not fit in the memory of GPU 0 under policy 'mps'"
good_with 5 'policy: {name: mps, context_mib: 1, max_batch: 1}' | sed 's/model: resnet50_v1,/model: resnet50_v1, replicas: 49,/' |
  case_ mps_client_limit "7:[0-9]+: policy 'mps' allows 48 tenant"

echo "$cases cases"
if [ "$cases" -lt 60 ]; then echo "only $cases cases; issue 7 asks for at least 60"; exit 1; fi
if [ "$fails" -ne 0 ]; then echo "$fails input-error check(s) failed"; exit 1; fi
echo "all input-error checks passed"
