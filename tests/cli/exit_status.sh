#!/usr/bin/env bash
# Exit statuses (DESIGN.md): 0 success, 1 a run failed at run time, 2 bad input, 3 an
# internal error (a bug: the message asks for a report). A sweep whose run fails, by a
# run-time error or an internal one, still reports that run and runs the others; --resume
# then finishes the set. Also `infersim --version` and a one-line unknown command.
# usage: exit_status.sh path/to/infersim path/to/infersim_faulty (tests/cli/fault_main.cc)
set -u
FAULTY=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

cat > "$work/exp.yaml" <<'EOF2'
name: status
seed: 3
duration_s: 0.5
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 1}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, arrival: {process: poisson, rate: 100}}
sweep:
  grid: {tenants.0.arrival.rate: [50, 100, 150, 200]}
EOF2

# 0: everything ran.
"$INFERSIM" run "$work/exp.yaml" -o "$work/ok.h5" -q -j 1 > /dev/null 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ -f "$work/ok.h5" ] || fail "a good sweep: exit $rc"

# 3: run 1 hits a broken invariant (std::logic_error). It is reported as an internal
# error asking for a report; runs 0, 2 and 3 still run and keep their shards.
INFERSIM_BUG_RUNS=1 "$FAULTY" run "$work/exp.yaml" -o "$work/bug.h5" -q -j 1 > "$work/out" 2> "$work/err"
rc=$?
[ "$rc" -eq 3 ] || fail "internal error in a run: exit $rc, expected 3"
grep -q "run 1 failed (point 1, replication 0: tenants.0.arrival.rate=100): internal error: injected broken invariant" "$work/err" ||
  fail "the internal error is not reported with its run: $(cat "$work/err")"
grep -q "please report it" "$work/err" || fail "no request for a bug report: $(cat "$work/err")"
[ "$(grep -c 'failed (point' "$work/err")" -eq 1 ] || fail "another run failed: $(cat "$work/err")"
for r in 0 2 3; do
  [ -f "$work/bug.h5.d/run-00000$r.h5" ] || fail "run $r did not run after run 1's internal error"
done
[ ! -e "$work/bug.h5" ] || fail "a result set was merged although run 1 failed"
"$INFERSIM" run "$work/exp.yaml" -o "$work/bug.h5" -q -j 1 --resume > "$work/resume" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ -f "$work/bug.h5" ] || fail "--resume after the internal error: exit $rc"
grep -q "4 runs: 1 ok, 0 failed, 3 skipped (already done)" "$work/resume" ||
  fail "--resume re-ran more than run 1: $(cat "$work/resume")"

# 1: a run-time failure (std::runtime_error), the others go on.
INFERSIM_FAIL_RUNS=2 "$FAULTY" run "$work/exp.yaml" -o "$work/fail.h5" -q -j 2 > /dev/null 2> "$work/err"
rc=$?
[ "$rc" -eq 1 ] || fail "run-time failure: exit $rc, expected 1"
grep -q "run 2 failed .*injected failure" "$work/err" || fail "the failure is not reported: $(cat "$work/err")"
! grep -q "internal error" "$work/err" || fail "a run-time failure reported as an internal error"
[ "$(ls "$work/fail.h5.d" | grep -c '^run-.*\.h5$')" -eq 3 ] || fail "the other runs did not all run"

# Both in one sweep: the internal error decides the status.
INFERSIM_FAIL_RUNS=0 INFERSIM_BUG_RUNS=3 "$FAULTY" run "$work/exp.yaml" -o "$work/both.h5" -q -j 1 > /dev/null 2>&1
rc=$?
[ "$rc" -eq 3 ] || fail "a run-time failure and an internal error: exit $rc, expected 3"

# 1: inputs within the horizon that carry the simulated clock past its limit (4e18 ns)
# stop the run with a run-time error, not a wrapped clock (tests/horizon_test.cc derives
# the schedule): L = 1e12 ms per batch, an arrival every 1e8 s for 1e9 s.
mkdir "$work/hw"
printf 'gpu: v100\nmodels:\n  m1:\n    input_kb: 1\n    output_kb: 1\n    weights_mb: 1\n    transfer_ms: 1\n    latency_ms: {1: 1e12, 2: 1e12}\n' > "$work/hw/p.yaml"
cp hardware_profiles/gpus.yaml "$work/hw/gpus.yaml"
cat > "$work/clock.yaml" <<EOF2
name: clock
duration_s: 1e9
hardware: {profile: $work/hw/p.yaml}
policy: {name: exclusive, max_batch: 1}
tenants:
  - {model: m1, arrival: {process: constant, rate: 1e-8}}
EOF2
"$INFERSIM" run "$work/clock.yaml" -o "$work/clock.h5" -q > /dev/null 2> "$work/err"
rc=$?
[ "$rc" -eq 1 ] || fail "clock past its limit: exit $rc, expected 1"
grep -q "run 0 failed .*clock limit" "$work/err" || fail "clock limit not reported: $(cat "$work/err")"

# --version: the version and the git revision it was built from (-dirty: with tracked files
# changed).
out=$("$INFERSIM" --version)
rc=$?
[ "$rc" -eq 0 ] || fail "--version: exit $rc"
echo "$out" | grep -Eq '^infersim [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{12}(-dirty)?|unknown)\)$' ||
  fail "--version printed '$out'"

# An unknown command: one line, exit 2.
"$INFERSIM" frobnicate > "$work/out" 2> "$work/err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && [ ! -s "$work/out" ] ||
  fail "unknown command: exit $rc, $(wc -l < "$work/err") lines"

# -j out of range: one line, exit 2, before anything is allocated for the jobs (-j 1e9 used
# to size a table of temporary-file slots by it: bad_alloc, exit 1).
for j in -1 4097 1000000000; do
  "$INFERSIM" run "$work/exp.yaml" -o "$work/j.h5" -q -j "$j" > "$work/out" 2> "$work/err"
  rc=$?
  [ "$rc" -eq 2 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q "from 0 to 4096" "$work/err" &&
    [ ! -e "$work/j.h5" ] || fail "-j $j: exit $rc, $(cat "$work/err")"
done

# 2 when the runs fail only on input that a run alone can find bad (a closed loop that drops
# and replaces its requests at one instant), and no empty shard directory is left behind.
cat > "$work/loop.yaml" <<'EOF2'
name: loop
duration_s: 0.01
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 1}
policy: {name: exclusive, max_batch: 1, drop_late: true}
tenants:
  - {model: resnet50_v1, slo_ms: 1, arrival: {process: closed, n: 1}}
EOF2
timeout 20 "$INFERSIM" run "$work/loop.yaml" -o "$work/loop.h5" -q > /dev/null 2> "$work/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "would never advance" "$work/err" && grep -q "no run finished" "$work/err" &&
  [ ! -e "$work/loop.h5.d" ] && [ ! -e "$work/loop.h5" ] ||
  fail "a run whose closed loop never advances: exit $rc, $(cat "$work/err"), $(ls "$work" | grep loop)"

# The listing commands take no arguments.
for c in policies arrivals routers; do
  "$INFERSIM" "$c" resnet50_v1 > "$work/out" 2> "$work/err"
  rc=$?
  [ "$rc" -eq 2 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q "takes no arguments" "$work/err" ||
    fail "$c with an argument: exit $rc, $(cat "$work/err")"
done

# -o with an empty name (an unset shell variable): exit 2, not the default output.
(cd "$work" && "$INFERSIM" run "$work/exp.yaml" -o '' -q > "$work/out" 2> "$work/err")
rc=$?
[ "$rc" -eq 2 ] && grep -q "expects a file name" "$work/err" && [ ! -e "$work/results" ] ||
  fail "-o '': exit $rc, $(cat "$work/err"), $(ls "$work")"

if [ "$fails" -ne 0 ]; then echo "$fails exit-status check(s) failed"; exit 1; fi
echo "all exit-status checks passed"
