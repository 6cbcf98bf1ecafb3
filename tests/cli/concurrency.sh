#!/usr/bin/env bash
# Concurrent runs and leftovers (issue 7, item 13):
#   1. a second `infersim run` (or `merge`) with the same -o fails at once, exit 1, naming the
#      first one's pid (an flock(2) on OUT.lock); `--shard` jobs of one output share the
#      lock and run side by side;
#   2. SIGINT and SIGHUP end a run without leaving its temporary files or its lock file;
#   3. a `--shard` job cleans up the temporary files a killed (SIGKILL) job of the same
#      output left behind on this machine.
# usage: concurrency.sh path/to/infersim [lock|signals|shard_temps]  (default: all three)
set -u
INFERSIM=$(realpath "$1")
CASES=${2:-lock signals shard_temps}
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 40 runs writing 200k request records each: tens of seconds with -j 1, longer than needed.
cat > "$work/long.yaml" <<'EOF2'
name: long
seed: 9
duration_s: 50
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 4}
policy: {name: exclusive, max_batch: 16}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 4000}}
sweep:
  grid:
    seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    hardware.count: [1, 2, 3, 4]
output: {requests: true}
EOF2
# A short one, 4 runs.
sed -e 's/duration_s: 50/duration_s: 2/' -e 's/seed: \[1, 2, 3, 4, 5, 6, 7, 8, 9, 10\]/seed: [1]/' \
  "$work/long.yaml" > "$work/short.yaml"

# wait_for CONDITION-COMMAND...: polls for up to 20 s.
wait_for() {
  local i
  for i in $(seq 1 400); do "$@" && return 0; sleep 0.05; done
  return 1
}
has_temp() { [ -n "$(find "$work" -name '*.tmp.*' -print -quit)" ]; }
temps() { find "$work" -name '*.tmp.*' | wc -l; }

case_lock() {
"$INFERSIM" run "$work/long.yaml" -o "$work/out.h5" -q -j 1 > /dev/null 2>&1 &
first=$!
pids+=("$first")
wait_for test -e "$work/out.h5.lock" || fail "the first run took no lock ($work/out.h5.lock)"
wait_for has_temp || fail "the first run wrote nothing"
start=$(date +%s%N)
"$INFERSIM" run "$work/short.yaml" -o "$work/out.h5" -q > "$work/second.out" 2> "$work/second.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -eq 1 ] || fail "a second run with the same -o: exit $rc, expected 1: $(cat "$work/second.err")"
[ "$(wc -l < "$work/second.err")" -eq 1 ] || fail "second run: $(cat "$work/second.err")"
grep -q "out.h5 is being written by another infersim (pid $first)" "$work/second.err" \
  || fail "second run: $(cat "$work/second.err")"
grep -q "runs:" "$work/second.out" && fail "the second run simulated"
echo "ok   a second run with the same -o fails in $ms ms: $(cat "$work/second.err")"
"$INFERSIM" merge "$work/out.h5.d" -o "$work/out.h5" -q > /dev/null 2> "$work/merge.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "being written by another infersim (pid $first)" "$work/merge.err" \
  || fail "merge into a locked output: exit $rc: $(cat "$work/merge.err")"
"$INFERSIM" run "$work/short.yaml" -o "$work/out.h5" -q --shard 0/2 > /dev/null 2> "$work/shard.err"
[ $? -eq 1 ] || fail "a --shard job ran beside a full run of the same output"
echo "ok   merge and --shard jobs into the same output are refused too"

kill -INT "$first"
wait "$first"
rc=$?
[ "$rc" -eq 130 ] || fail "SIGINT: exit $rc, expected 130"
[ "$(temps)" -eq 0 ] || fail "SIGINT left temporary files: $(find "$work" -name '*.tmp.*')"
[ ! -e "$work/out.h5.lock" ] || fail "SIGINT left the lock file"
echo "ok   SIGINT leaves no temporary file and no lock file"

# Shard jobs share the lock: both halves at once, then merge.
"$INFERSIM" run "$work/short.yaml" -o "$work/sh.h5" -q --shard 0/2 > "$work/sh0.log" 2>&1 &
p0=$!
"$INFERSIM" run "$work/short.yaml" -o "$work/sh.h5" -q --shard 1/2 > "$work/sh1.log" 2>&1
rc1=$?
wait "$p0"
rc0=$?
[ "$rc0" -eq 0 ] && [ "$rc1" -eq 0 ] || fail "concurrent --shard jobs: $(cat "$work/sh0.log" "$work/sh1.log")"
"$INFERSIM" merge "$work/sh.h5.d" -q > /dev/null || fail "merge of the concurrent shards"
[ ! -e "$work/sh.h5.lock" ] || fail "the shard jobs left the lock file"
echo "ok   --shard jobs of one output run side by side"
}

case_signals() {
for sig in INT HUP TERM; do
  "$INFERSIM" run "$work/long.yaml" -o "$work/sig.h5" -q -j 2 > /dev/null 2>&1 &
  p=$!
  pids+=("$p")
  wait_for has_temp || fail "SIG$sig: no temporary file appeared"
  kill -"$sig" "$p"
  wait "$p"
  rc=$?
  [ "$rc" -gt 128 ] || fail "SIG$sig: exit $rc"
  [ "$(temps)" -eq 0 ] || fail "SIG$sig left temporary files: $(find "$work" -name '*.tmp.*')"
  [ ! -e "$work/sig.h5.lock" ] || fail "SIG$sig left the lock file"
  if [ -d "$work/sig.h5.d" ] && [ -z "$(ls -A "$work/sig.h5.d")" ]; then
    fail "SIG$sig left the empty shard folder it made"
  fi
  echo "ok   SIG$sig leaves no temporary file, no lock file and no empty shard folder"
done
}

case_shard_temps() {
"$INFERSIM" run "$work/long.yaml" -o "$work/k.h5" -q -j 1 --shard 0/2 > /dev/null 2>&1 &
p=$!
pids+=("$p")
wait_for has_temp || fail "the --shard job wrote no temporary file"
kill -9 "$p"
wait "$p" 2> /dev/null
left=$(find "$work" -name '*.tmp.*')
[ -n "$left" ] || fail "SIGKILL left no temporary file to clean up"
"$INFERSIM" run "$work/short.yaml" -o "$work/k.h5" -q --shard 1/2 > /dev/null 2>&1
for f in $left; do
  [ ! -e "$f" ] || fail "the next --shard job left the killed job's $f"
done
echo "ok   a --shard job removes what a killed job left: $(basename $left)"
}

for c in $CASES; do "case_$c"; done
echo "all concurrency checks passed ($CASES)"
