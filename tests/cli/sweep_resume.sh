#!/usr/bin/env bash
# Crash safety of sweeps: a sweep killed with SIGKILL part-way (twice), then finished with
# --resume, gives the same result set as an uninterrupted run (every /summary, /tenants
# and /aggregate byte but wall_s), re-runs none of the finished runs, and leaves no
# temporary file behind; a second --resume finds OUT.h5 up to date. Also: a failing run
# (injected with INFERSIM_FAIL_RUNS) is reported, the others go on, exit status 1 and no
# OUT.h5; --stop-on-error stops early; --resume then completes the set.
# usage: sweep_resume.sh path/to/infersim path/to/infersim_faulty (tests/cli/fault_main.cc)
set -eu
INFERSIM=$(realpath "$1")
FAULTY=$(realpath "$2")
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 40 runs of ~100k requests each: about a second on two cores.
cat > "$work/exp.yaml" <<'EOF'
name: resume
seed: 11
duration_s: 200
warmup_s: 1
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 300}}
  - {model: densenet121, slo_ms: 50, arrival: {process: gamma, rate: 200, cv: 2}}
sweep:
  grid:
    tenants.0.arrival.rate: [100, 200, 300, 400, 500]
    policy.max_batch: [2, 4, 8, 16]
  replications: 2
EOF

"$INFERSIM" run "$work/exp.yaml" -o "$work/full.h5" -q -j 2 > "$work/full.log"
[ -f "$work/full.h5" ] || fail "uninterrupted run wrote no full.h5"
[ ! -e "$work/full.h5.d" ] || fail "the shard directory was not removed after the merge"

shards() { ls "$work/part.h5.d" 2>/dev/null | grep -c '^run-[0-9]*\.h5$' || true; }

# Start the sweep and SIGKILL it once at least $1 shards exist.
kill_after() {
  local want=$1 extra=${2:-}
  "$INFERSIM" run "$work/exp.yaml" -o "$work/part.h5" -q -j 2 $extra > "$work/killed.log" 2>&1 &
  local pid=$! i
  for i in $(seq 1 2000); do
    [ "$(shards)" -ge "$want" ] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.005
  done
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  [ ! -e "$work/part.h5" ] || fail "the sweep finished before it could be killed (make it longer)"
}

kill_after 5
first=$(shards)
echo "killed with $first of 40 shards written"
[ "$first" -ge 5 ] && [ "$first" -lt 40 ] || fail "unexpected shard count $first"

# Resume, and kill again part-way through the rest.
kill_after $((first + (40 - first) / 3 + 1)) --resume
second=$(shards)
echo "killed again with $second of 40 shards written"
[ "$second" -gt "$first" ] || fail "the resumed run wrote no new shard"

"$INFERSIM" run "$work/exp.yaml" -o "$work/part.h5" -q -j 2 --resume > "$work/resume.log"
cat "$work/resume.log"
grep -q "40 runs: $((40 - second)) ok, 0 failed, $second skipped (already done)" "$work/resume.log" \
  || fail "--resume did not skip exactly the $second finished runs"
[ ! -e "$work/part.h5.d" ] || fail "part.h5.d left after the merge"
leftover=$(find "$work" -name '*.tmp.*' | wc -l)
[ "$leftover" -eq 0 ] || fail "$leftover temporary file(s) left behind"

$PY tests/python/compare_results.py "$work/full.h5" "$work/part.h5"

"$INFERSIM" run "$work/exp.yaml" -o "$work/part.h5" -q --resume > "$work/again.log"
grep -q "up to date" "$work/again.log" || fail "a second --resume re-ran something"

# A failing run: reported, the rest go on, exit 1, no result file; --resume completes it.
set +e
INFERSIM_FAIL_RUNS=3,17 "$FAULTY" run "$work/exp.yaml" -o "$work/f.h5" -q -j 2 \
  --set duration_s=5 > "$work/f.log" 2> "$work/f.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "exit status $rc with failing runs, expected 1"
grep -q "run 3 failed (point 1, replication 1: tenants.0.arrival.rate=100 policy.max_batch=4)" \
  "$work/f.err" || fail "run 3's failure was not reported: $(cat "$work/f.err")"
grep -q "38 ok, 2 failed" "$work/f.log" || fail "wrong totals: $(cat "$work/f.log")"
[ ! -e "$work/f.h5" ] || fail "a result file was written despite failed runs"
[ "$(ls "$work/f.h5.d" | grep -c '^run-')" -eq 38 ] || fail "the other runs' shards are missing"
"$INFERSIM" run "$work/exp.yaml" -o "$work/f.h5" -q --resume --set duration_s=5 > "$work/f2.log"
grep -q "2 ok, 0 failed, 38 skipped" "$work/f2.log" || fail "resume after failures: $(cat "$work/f2.log")"

set +e
INFERSIM_FAIL_RUNS=0 "$FAULTY" run "$work/exp.yaml" -o "$work/s.h5" -q -j 1 --stop-on-error \
  --set duration_s=5 > "$work/s.log" 2> /dev/null
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "--stop-on-error: exit status $rc, expected 1"
grep -q "0 ok, 1 failed, 39 skipped (not started)" "$work/s.log" \
  || fail "--stop-on-error went on: $(cat "$work/s.log")"
echo "all sweep resume checks passed"
