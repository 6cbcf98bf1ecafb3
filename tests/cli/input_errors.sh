#!/usr/bin/env bash
# Bad input: one line naming file:line:column and what was expected, exit status 2, and
# no output file (nor a temporary one) left behind.
# usage: input_errors.sh path/to/infersim
set -u
INFERSIM=$(realpath "$1")
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

DEFAULT_TENANT='  - {model: resnet50_v1, arrival: {process: poisson, rate: 100}}'
good() {  # a valid experiment; $1 replaces the tenants line
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

# expect NAME FILE PATTERN [infersim args...]: exit 2, one stderr line matching PATTERN.
expect() {
  local name=$1 file=$2 pattern=$3
  shift 3
  local out="$work/out_$name.h5"
  "$INFERSIM" run "$file" -o "$out" "$@" > "$work/stdout" 2> "$work/stderr"
  local rc=$?
  local lines
  lines=$(wc -l < "$work/stderr")
  if [ "$rc" -ne 2 ]; then
    echo "FAIL $name: exit $rc, expected 2"; fails=$((fails + 1))
  elif [ "$lines" -ne 1 ]; then
    echo "FAIL $name: $lines lines on stderr, expected 1:"; cat "$work/stderr"; fails=$((fails + 1))
  elif ! grep -Eq -- "$pattern" "$work/stderr"; then
    echo "FAIL $name: stderr does not match /$pattern/:"; cat "$work/stderr"; fails=$((fails + 1))
  elif ls "$work"/out_"$name".h5* > /dev/null 2>&1; then
    echo "FAIL $name: an output file was left behind"; fails=$((fails + 1))
  else
    echo "ok   $name: $(cat "$work/stderr")"
  fi
}

expect missing_file "$work/nope.yaml" "nope.yaml:1:1: cannot open"

printf 'name: x\nseed: 1\nduration_s: [1,\n' > "$work/syntax.yaml"
expect syntax "$work/syntax.yaml" "syntax.yaml:[0-9]+:[0-9]+: YAML syntax error"

good | sed 's/^duration_s:/duraton_s:/' > "$work/unknown_key.yaml"
expect unknown_key "$work/unknown_key.yaml" "unknown_key.yaml:3:1: unknown key 'duraton_s'"

good | sed 's/^seed: 1/seed: 1\nseed: 2/' > "$work/dup.yaml"
expect duplicate_key "$work/dup.yaml" "dup.yaml:3:1: duplicate key 'seed'"

good "  - {model: resnet50_v1, arrival: {process: poisson, rate: fast}}" > "$work/type.yaml"
expect wrong_type "$work/type.yaml" "type.yaml:7:[0-9]+: expected a number for 'rate'"

good "  - {model: resnet50_v1, arrival: {process: poisson, rate: -5}}" > "$work/neg.yaml"
expect negative_rate "$work/neg.yaml" "neg.yaml:7:[0-9]+: expected 'rate' > 0"

good "  - {model: resnet51, arrival: {process: poisson, rate: 5}}" > "$work/model.yaml"
expect unknown_model "$work/model.yaml" "model.yaml:7:[0-9]+: unknown model 'resnet51'"

good "  - {model: resnet50_v1, arrival: {process: poison, rate: 5}}" > "$work/proc.yaml"
expect unknown_arrival "$work/proc.yaml" "proc.yaml:7:[0-9]+: unknown arrival process 'poison'.*poisson"

good | sed 's/gpu: v100/gpu: v101/' > "$work/gpu.yaml"
expect unknown_gpu "$work/gpu.yaml" "gpu.yaml:4:[0-9]+: unknown GPU 'v101'"

good | sed 's/name: exclusive/name: exclusiv/' > "$work/policy.yaml"
expect unknown_policy "$work/policy.yaml" "policy.yaml:5:[0-9]+: unknown policy 'exclusiv'"

good "  - {model: resnet50_v1, replicas: 2, arrival: {process: poisson, rate: 5}}" > "$work/place.yaml"
expect placement "$work/place.yaml" "place.yaml:7:[0-9]+: policy 'exclusive' allows 1 tenant"

good > "$work/ok.yaml"
expect bad_set "$work/ok.yaml" "--set tenants.3.model=x.*not an index" --set tenants.3.model=x
expect set_value "$work/ok.yaml" "expected 'rate' > 0" --set tenants.0.arrival.rate=0

if [ "$fails" -ne 0 ]; then echo "$fails input-error check(s) failed"; exit 1; fi
echo "all input-error checks passed"
