#!/usr/bin/env bash
# --resume compares the content of the data files, not their paths (issue 7, item 6): a
# sweep's shards made with one profile (or GPU file) are never merged with runs made after
# the file was edited. Half a sweep is run (--shard 0/2 keeps its shards), the profile is
# edited in place, and --resume must re-run every run and give exactly the result set of a
# fresh run with the edited profile. Then a finished result set must not count as up to
# date once the GPU file changes.
# usage: resume_data_files.sh path/to/infersim
set -eu
INFERSIM=$(realpath "$1")
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cp hardware_profiles/v100_clockwork.yaml "$work/profile.yaml"
cp hardware_profiles/gpus.yaml "$work/gpus.yaml"  # the profile's folder's GPU file
cat > "$work/exp.yaml" <<'EOF2'
name: datafiles
seed: 4
duration_s: 2
hardware: {profile: profile.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 300}}
sweep:
  grid:
    tenants.0.arrival.rate: [200, 400]
    policy.max_batch: [4, 8]
EOF2

"$INFERSIM" run "$work/exp.yaml" -o "$work/out.h5" -q --shard 0/2 > /dev/null
[ "$(ls "$work/out.h5.d" | grep -c '^run-')" -eq 2 ] || fail "--shard 0/2 did not write 2 shards"

# ResNet-50 twice as slow: every latency of its row doubled.
line='    latency_ms: {1: 2.61, 2: 3.78, 4: 5.61, 8: 9.13, 16: 15.67}'
grep -qF "$line" "$work/profile.yaml" || fail "resnet50_v1's latency row changed; update this test"
sed -i "s/^$line\$/    latency_ms: {1: 5.22, 2: 7.56, 4: 11.22, 8: 18.26, 16: 31.34}/" "$work/profile.yaml"

"$INFERSIM" run "$work/exp.yaml" -o "$work/out.h5" -q --resume > "$work/resume.log"
grep -q "4 runs: 4 ok, 0 failed, 0 skipped" "$work/resume.log" \
  || fail "after the profile was edited, --resume kept old shards: $(tail -1 "$work/resume.log")"
"$INFERSIM" run "$work/exp.yaml" -o "$work/fresh.h5" -q > /dev/null
$PY tests/python/compare_results.py "$work/fresh.h5" "$work/out.h5" > /dev/null \
  || fail "the resumed result set differs from a fresh run with the edited profile"
echo "ok   an edited profile makes --resume re-run every run"

# The GPU file: fp32_tflops enters flop_util.
sed -i 's/^    fp32_tflops: 15.7$/    fp32_tflops: 31.4/' "$work/gpus.yaml"
grep -q "fp32_tflops: 31.4" "$work/gpus.yaml" || fail "the V100's fp32_tflops changed; update this test"
"$INFERSIM" run "$work/exp.yaml" -o "$work/out.h5" -q --resume > "$work/gpus.log"
grep -q "up to date" "$work/gpus.log" && fail "an edited GPU file left the result set 'up to date'"
grep -q "4 runs: 4 ok, 0 failed, 0 skipped" "$work/gpus.log" \
  || fail "after the GPU file was edited: $(tail -1 "$work/gpus.log")"
echo "ok   an edited GPU file makes --resume re-run every run"

# A trace: an edited trace is a new run for --resume (traces were not part of the config
# hash, so a cut trace left the old result set 'up to date'), and -o cannot name it.
printf 'time_s,model\n0.1,resnet50_v1\n0.2,resnet50_v1\n0.3,resnet50_v1\n' > "$work/t.csv"
cat > "$work/trace.yaml" <<'EOF2'
name: tracefile
seed: 4
duration_s: 1
hardware: {profile: profile.yaml, gpu: v100, count: 1}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, arrival: {process: trace, path: t.csv}}
EOF2
"$INFERSIM" run "$work/trace.yaml" -o "$work/trace.h5" -q > /dev/null
printf 'time_s,model\n0.1,resnet50_v1\n' > "$work/t.csv"
"$INFERSIM" run "$work/trace.yaml" -o "$work/trace.h5" -q --resume > "$work/trace.log"
grep -q "up to date" "$work/trace.log" && fail "an edited trace left the result set 'up to date'"
[ "$($PY -c "import h5py; print(int(h5py.File('$work/trace.h5')['summary']['requests'][0]))")" = 1 ] \
  || fail "the resumed result set does not hold the edited trace's 1 request"
echo "ok   an edited trace makes --resume re-run"
if "$INFERSIM" run "$work/trace.yaml" -o "$work/t.csv" -q > /dev/null 2> "$work/err"; then
  fail "-o over the trace was accepted"
fi
grep -q "which this command reads" "$work/err" || fail "-o over the trace: $(cat "$work/err")"
[ "$(head -1 "$work/t.csv")" = "time_s,model" ] || fail "the trace was overwritten"
echo "ok   -o cannot name the trace"
