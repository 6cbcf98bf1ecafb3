#!/usr/bin/env bash
# A disk that fills up (issue 7, item 8), simulated without root by a file-size limit
# (`ulimit -f`: a write past it fails with EFBIG, as one past a full disk fails with ENOSPC).
# infersim must never crash (HDF5 1.10 segfaulted in H5Ocopy and in its exit cleanup) nor
# be killed by SIGXFSZ; it exits 1 with one line on stderr per failure, leaves no temporary
# file and never a partial result file, and keeps the shards, so that --resume finishes the
# job once there is room:
#   1. `run` whose merge hits the limit (every shard fits): exit 1, one line, the shards
#      kept; --resume then merges them into the same result set as an unlimited run;
#   2. `merge` into a limit at about 24 points from 4 KiB to the whole file, and twice that:
#      exit 1 and one line each time (or 0 once the file fits), never a crash, never a
#      temporary file;
#   3. `run` whose shards hit the limit: every run fails cleanly; --resume completes.
# usage: disk_full.sh path/to/infersim
set -u
INFERSIM=$(realpath "$1")
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
temps() { find "$work" -name '*.tmp.*' | wc -l; }

cat > "$work/exp.yaml" <<'EOF2'
name: full
seed: 3
duration_s: 4
warmup_s: 0.5
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 300}}
  - {model: densenet121, slo_ms: 50, arrival: {process: gamma, rate: 100, cv: 2}}
sweep:
  grid:
    tenants.0.arrival.rate: [100, 200, 300]
    policy.max_batch: [2, 4, 8, 16]
  replications: 3
output: {requests: true}
EOF2
"$INFERSIM" run "$work/exp.yaml" -o "$work/ref.h5" -q --keep-shards > /dev/null || fail "reference run"
ref_kib=$(( $(stat -c %s "$work/ref.h5") / 1024 ))
shard_kib=$(( $(stat -c %s "$work"/ref.h5.d/run-*.h5 | sort -n | tail -1) / 1024 + 8 ))
[ "$shard_kib" -lt "$ref_kib" ] || fail "shards ($shard_kib KiB) not smaller than the result ($ref_kib KiB)"

# 1. run: the shards fit, the merged file does not.
(ulimit -f "$shard_kib"; exec "$INFERSIM" run "$work/exp.yaml" -o "$work/a.h5" -q) \
  > "$work/a.out" 2> "$work/a.err"
rc=$?
[ "$rc" -eq 1 ] || fail "run, merge past the limit: exit $rc, expected 1: $(head -3 "$work/a.err")"
[ "$(wc -l < "$work/a.err")" -eq 1 ] || fail "run: $(wc -l < "$work/a.err") lines on stderr: $(cat "$work/a.err")"
grep -q "cannot write $work/a.h5: File too large" "$work/a.err" || fail "run: $(cat "$work/a.err")"
[ ! -e "$work/a.h5" ] || fail "run: a partial a.h5 was left"
[ "$(temps)" -eq 0 ] || fail "run: temporary files left: $(find "$work" -name '*.tmp.*')"
[ "$(ls "$work/a.h5.d" | grep -c '^run-')" -eq 36 ] || fail "run: the shards were not kept"
echo "ok   run, disk full during the merge: $(cat "$work/a.err")"
"$INFERSIM" run "$work/exp.yaml" -o "$work/a.h5" -q --resume > "$work/a2.out" \
  || fail "--resume after the disk filled: $(cat "$work/a2.out")"
grep -q "0 ok, 0 failed, 36 skipped" "$work/a2.out" || fail "--resume re-ran runs: $(cat "$work/a2.out")"
$PY tests/python/compare_results.py "$work/ref.h5" "$work/a.h5" > /dev/null || fail "--resume gave other results"
echo "ok   --resume then merges the kept shards into the same result set"

# 2. merge at 24 limits.
step=$(( ref_kib / 22 + 1 ))
ok=0 full=0
for kib in 4 $(seq "$step" "$step" "$ref_kib") $(( 2 * ref_kib )); do
  (ulimit -f "$kib"; exec "$INFERSIM" merge "$work/ref.h5.d" -o "$work/m.h5" -q) \
    > /dev/null 2> "$work/m.err"
  rc=$?
  if [ "$rc" -eq 0 ]; then
    ok=$((ok + 1)); rm -f "$work/m.h5"
  elif [ "$rc" -eq 1 ]; then
    full=$((full + 1))
    [ "$(wc -l < "$work/m.err")" -eq 1 ] || fail "merge at $kib KiB: $(wc -l < "$work/m.err") lines: $(head -5 "$work/m.err")"
    grep -q "File too large" "$work/m.err" || fail "merge at $kib KiB: $(cat "$work/m.err")"
    [ ! -e "$work/m.h5" ] || fail "merge at $kib KiB: a partial m.h5 was left"
  else
    fail "merge at $kib KiB: exit $rc (crashed?): $(head -3 "$work/m.err")"
  fi
  [ "$(temps)" -eq 0 ] || fail "merge at $kib KiB: temporary files left"
done
[ "$full" -ge 20 ] && [ "$ok" -ge 1 ] || fail "merge: $full failed, $ok fit (expected most to fail, the last to fit)"
echo "ok   merge at $((full + ok)) limits from 4 KiB to twice the ${ref_kib} KiB result: $full failed cleanly, $ok fit"

# 3. run: even the shards do not fit.
(ulimit -f 12; exec "$INFERSIM" run "$work/exp.yaml" -o "$work/c.h5" -q -j 2) \
  > "$work/c.out" 2> "$work/c.err"
rc=$?
[ "$rc" -eq 1 ] || fail "run, shards past the limit: exit $rc: $(head -3 "$work/c.err")"
bad=$(grep -v -e "^infersim: run [0-9]* failed (.*): cannot write .*: File too large" \
  -e "^infersim: .* not merged: " "$work/c.err" | head -3)
[ -z "$bad" ] || fail "run, shards past the limit: unexpected stderr: $bad"
[ "$(temps)" -eq 0 ] || fail "run, shards past the limit: temporary files left"
[ ! -e "$work/c.h5" ] || fail "run, shards past the limit: c.h5 written"
echo "ok   run, disk full while writing shards: $(grep -c "^infersim: run [0-9]* failed" "$work/c.err") runs failed cleanly"
"$INFERSIM" run "$work/exp.yaml" -o "$work/c.h5" -q --resume > /dev/null || fail "--resume after shards failed"
$PY tests/python/compare_results.py "$work/ref.h5" "$work/c.h5" > /dev/null || fail "--resume gave other results"
echo "all disk-full checks passed"
