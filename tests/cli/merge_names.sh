#!/usr/bin/env bash
# `merge` trusts a shard's content, not its file name (issue 7, item 11). With run 4's shard
# copied over run 5's, merge (with or without --allow-missing) refuses in one line naming
# the copy, instead of merging run 4 twice (a wrong /aggregate) or reporting 31 runs
# missing; --resume moves the copy aside and runs run 5 again. With one shard deleted,
# merge reports exactly that run missing, and --allow-missing merges the other 35 once each.
# usage: merge_names.sh path/to/infersim
set -u
INFERSIM=$(realpath "$1")
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$work/exp.yaml" <<'EOF2'
name: names
seed: 6
duration_s: 2
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 300}}
sweep:
  grid:
    tenants.0.arrival.rate: [100, 200, 300]
    policy.max_batch: [2, 4, 8, 16]
  replications: 3
EOF2
"$INFERSIM" run "$work/exp.yaml" -o "$work/ref.h5" -q --keep-shards > /dev/null || fail "reference run"

# merge_expect NAME DIR PATTERN [merge args]: exit 2, one line on stderr matching PATTERN.
merge_expect() {
  local name=$1 dir=$2 pattern=$3
  shift 3
  "$INFERSIM" merge "$dir" -o "$work/$name.h5" -q "$@" > /dev/null 2> "$work/err"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2: $(cat "$work/err")"
  [ "$(wc -l < "$work/err")" -eq 1 ] || fail "$name: $(wc -l < "$work/err") lines: $(cat "$work/err")"
  grep -Eq -- "$pattern" "$work/err" || fail "$name: stderr does not match /$pattern/: $(cat "$work/err")"
  [ ! -e "$work/$name.h5" ] || fail "$name: a result file was written"
  echo "ok   $name: $(cat "$work/err")"
}

cp -r "$work/ref.h5.d" "$work/dup.h5.d"
cp "$work/dup.h5.d/run-000004.h5" "$work/dup.h5.d/run-000005.h5"
copy="run-000005.h5: holds run 4, not run 5 \(a copy of run-000004.h5\?\)"
merge_expect duplicate "$work/dup.h5.d" "$copy"
merge_expect duplicate_allow_missing "$work/dup.h5.d" "$copy" --allow-missing

"$INFERSIM" run "$work/exp.yaml" -o "$work/dup.h5" -q --resume > "$work/dup.log" 2> "$work/dup.err" \
  || fail "--resume with a copied shard: $(cat "$work/dup.err")"
grep -q "run-000005.h5 is corrupt (it holds run 4, not run 5); moved aside" "$work/dup.err" \
  || fail "--resume did not report the copy: $(cat "$work/dup.err")"
grep -q "36 runs: 1 ok, 0 failed, 35 skipped" "$work/dup.log" || fail "--resume: $(cat "$work/dup.log")"
$PY tests/python/compare_results.py "$work/ref.h5" "$work/dup.h5" > /dev/null \
  || fail "--resume after a copied shard gave other results"
ls "$work/dup.h5.d"/run-000005.h5.corrupt-* > /dev/null 2>&1 || fail "the copy was not kept aside"
echo "ok   --resume moves the copy aside, runs run 5 again and gives the reference's results"

cp -r "$work/ref.h5.d" "$work/gap.h5.d"
rm "$work/gap.h5.d/run-000007.h5"
merge_expect missing_one "$work/gap.h5.d" "1 of 36 runs have no shard \(run 7\)"
"$INFERSIM" merge "$work/gap.h5.d" -o "$work/gap.h5" -q --allow-missing > "$work/gap.log" \
  || fail "--allow-missing with one run missing"
grep -q "35 of 36 runs from .*; 1 missing" "$work/gap.log" || fail "$(cat "$work/gap.log")"
$PY - "$work/gap.h5" <<'EOF2' || fail "the merge with a run missing is wrong"
import sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    runs = list(f["summary"]["run"])
    agg = f["aggregate"][:]
assert runs == [r for r in range(36) if r != 7], runs
# Run 7 is point 2 (7 // 3), replication 1: that point has 2 replications, the rest 3.
reps = {int(p): int(n) for p, n in zip(agg["point"], agg["replications"])}
assert reps == {p: 2 if p == 2 else 3 for p in range(12)}, reps
EOF2
echo "ok   --allow-missing merges the other 35 runs once each (/aggregate: point 2 has 2 replications)"
echo "all merge name checks passed"
