#!/usr/bin/env bash
# Bad sweeps: one line naming file:line:column (of the sweep entry, or of the value), exit
# status 2, and nothing written (no OUT.h5, no OUT.h5.d) - every point is checked before
# anything runs. Also --dry-run (lists runs, writes nothing) and `infersim merge` refusing
# incomplete or mixed shard directories.
# usage: sweep_errors.sh path/to/infersim
set -u
. "$(dirname "$0")/lib.sh"
fails=0

# A valid two-GPU experiment; $1 is appended (the sweep block, line 8 on).
exp() {
  cat <<EOF2
name: bad
seed: 1
duration_s: 1
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 4}
tenants:
  - {model: resnet50_v1, arrival: {process: poisson, rate: 100}}
sweep:
$1
EOF2
}

# expect NAME PATTERN SWEEP-BLOCK [infersim args...]: exit 2, one stderr line matching.
expect() {
  local name=$1 pattern=$2 block=$3
  shift 3
  exp "$block" > "$work/$name.yaml"
  "$INFERSIM" run "$work/$name.yaml" -o "$work/out_$name.h5" "$@" > "$work/stdout" 2> "$work/stderr"
  local rc=$? lines
  lines=$(wc -l < "$work/stderr")
  if [ "$rc" -ne 2 ]; then
    echo "FAIL $name: exit $rc, expected 2"; cat "$work/stderr"; fails=$((fails + 1))
  elif [ "$lines" -ne 1 ]; then
    echo "FAIL $name: $lines lines on stderr, expected 1:"; cat "$work/stderr"; fails=$((fails + 1))
  elif ! grep -Eq -- "$pattern" "$work/stderr"; then
    echo "FAIL $name: stderr does not match /$pattern/:"; cat "$work/stderr"; fails=$((fails + 1))
  elif ls -d "$work"/out_"$name".h5* > /dev/null 2>&1; then
    echo "FAIL $name: an output file or shard directory was left behind"; fails=$((fails + 1))
  else
    echo "ok   $name: $(cat "$work/stderr")"
  fi
}

expect missing_key "missing_key.yaml:9:10: 'tenants.0.arrivl.rate' does not exist: no key 'arrivl'" \
  "  grid: {tenants.0.arrivl.rate: [1, 2]}"
expect bad_index "bad_index.yaml:9:10: '3' in 'tenants.3.model' is not an index of 'tenants'" \
  "  grid: {tenants.3.model: [a, b]}"
expect unknown_last_key "unknown_last_key.yaml:9:10: unknown key 'cnt' in hardware" \
  "  grid: {hardware.cnt: [1, 2]}"
expect unknown_param "unknown_param.yaml:9:[0-9]+: unknown key 'max_batchx' in policy 'exclusive'" \
  "  grid: {policy.max_batchx: [1, 2]}"
expect scalar_parent "scalar_parent.yaml:9:10: 'seed.x' does not exist: 'seed' is a scalar" \
  "  grid: {seed.x: [1, 2]}"
expect bad_value "bad_value.yaml:9:[0-9]+: expected 'rate' > 0.*sweep point 1: tenants.0.arrival.rate=-1" \
  "  grid: {tenants.0.arrival.rate: [100, -1]}"
expect bad_placement "bad_placement.yaml:7:[0-9]+: policy 'exclusive' allows 1 tenant.*sweep point 1" \
  "  grid: {tenants.0.replicas: [1, 3]}"
expect not_a_list "not_a_list.yaml:9:[0-9]+: expected a non-empty list of values" \
  "  grid: {hardware.count: 2}"
expect zip_length "zip_length.yaml:11:5: zip lists must have the same length: .seed. has 3 values, .hardware.count. has 2" \
  "  zip:
    hardware.count: [1, 2]
    seed: [1, 2, 3]"
expect exclude_path "exclude_path.yaml:10:[0-9]+: exclude: 'hardware.cont' is not a swept path" \
  "  grid: {hardware.count: [1, 2]}
  exclude: [{hardware.cont: 1}]"
expect exclude_value "exclude_value.yaml:10:[0-9]+: exclude: 3 is not one of the values" \
  "  grid: {hardware.count: [1, 2]}
  exclude: [{hardware.count: 3}]"
expect exclude_all "exclude_all.yaml:10:[0-9]+: exclude removes every point" \
  "  grid: {hardware.count: [1, 2]}
  exclude: [{hardware.count: [1, 2]}]"
expect replications "replications.yaml:10:[0-9]+: expected 'replications' between 1" \
  "  grid: {hardware.count: [1, 2]}
  replications: 0"
expect unknown_sweep_key "unknown_sweep_key.yaml:9:3: unknown key 'grd' in sweep" \
  "  grd: {hardware.count: [1, 2]}"
expect twice "twice.yaml:10:[0-9]+: 'hardware.count' is swept twice" \
  "  grid: {hardware.count: [1, 2]}
  zip: {hardware.count: [1, 2]}"
expect set_conflict "set_conflict.yaml:9:10: 'hardware.count' is swept here and also set by --set" \
  "  grid: {hardware.count: [1, 2]}" --set hardware.count=3
expect set_value "--set tenants.0.arrival.rate=-5: expected 'rate' > 0" \
  "  grid: {hardware.count: [1, 2]}" --set tenants.0.arrival.rate=-5
# One setting under two names: a list index is written as digits alone ("00" or "+0" would
# be element 0 again, escaping the checks above), and a --set above or below a swept path
# would be overridden by it, or override part of it, without a word.
expect index_spelled_twice "index_spelled_twice.yaml:9:[0-9]+: '00' in 'tenants.00.arrival.rate' is not an index of 'tenants'" \
  "  grid: {tenants.0.arrival.rate: [50, 100], tenants.00.arrival.rate: [200, 400]}"
expect set_index_spelled_twice "--set tenants.\+0.arrival.rate=400: '\+0' is not an index of 'tenants'" \
  "  grid: {tenants.0.arrival.rate: [50, 100]}" --set 'tenants.+0.arrival.rate=400'
expect set_below_swept "set_below_swept.yaml:9:10: 'tenants.0.arrival' is swept here and also set by --set tenants.0.arrival.rate=400" \
  "  grid: {tenants.0.arrival: [{process: poisson, rate: 50}, {process: constant, rate: 50}]}" \
  --set tenants.0.arrival.rate=400
expect set_above_swept "set_above_swept.yaml:9:10: 'tenants.0.arrival.rate' is swept here and also set by --set tenants.0.arrival=" \
  "  grid: {tenants.0.arrival.rate: [50, 100]}" --set 'tenants.0.arrival={process: poisson, rate: 400}'

# --dry-run: lists every run (excluded combinations left out), writes nothing.
exp "  grid: {hardware.count: [1, 2], tenants.0.arrival.rate: [10, 20, 30]}
  exclude: [{hardware.count: 1, tenants.0.arrival.rate: 30}]
  replications: 2" > "$work/dry.yaml"
if "$INFERSIM" run "$work/dry.yaml" -o "$work/dry.h5" --dry-run > "$work/dry.log" 2>&1 \
  && grep -q "10 runs (5 points x 2 replications, 1 excluded)" "$work/dry.log" \
  && [ "$(grep -c '^ *[0-9]' "$work/dry.log")" -eq 10 ] && ! ls -d "$work"/dry.h5* > /dev/null 2>&1; then
  echo "ok   dry_run"
else
  echo "FAIL dry_run:"; cat "$work/dry.log"; fails=$((fails + 1))
fi

# merge: incomplete and mixed shard directories are refused (exit 2, one line).
merge_expect() {
  local name=$1 pattern=$2
  shift 2
  "$INFERSIM" merge "$@" > /dev/null 2> "$work/stderr"
  local rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l < "$work/stderr")" -eq 1 ] && grep -Eq -- "$pattern" "$work/stderr"; then
    echo "ok   $name: $(cat "$work/stderr")"
  else
    echo "FAIL $name: exit $rc:"; cat "$work/stderr"; fails=$((fails + 1))
  fi
}
"$INFERSIM" run "$work/dry.yaml" -o "$work/m.h5" -q --shard 0/2 > /dev/null
merge_expect merge_missing "5 of 10 runs have no shard \(runs 1, 3, 5" "$work/m.h5.d"
merge_expect merge_no_dir "not a directory of shards" "$work/nope.h5.d"
if "$INFERSIM" merge "$work/m.h5.d" -o "$work/partial.h5" --allow-missing -q > /dev/null \
  && [ -f "$work/partial.h5" ]; then
  echo "ok   merge_allow_missing"
else
  echo "FAIL merge_allow_missing"; fails=$((fails + 1))
fi
"$INFERSIM" run "$work/dry.yaml" -o "$work/m.h5" -q --shard 1/2 --set seed=2 > /dev/null
merge_expect merge_mixed "shards of 2 different sweeps" "$work/m.h5.d"

if [ "$fails" -ne 0 ]; then echo "$fails sweep-error check(s) failed"; exit 1; fi
echo "all sweep-error checks passed"
