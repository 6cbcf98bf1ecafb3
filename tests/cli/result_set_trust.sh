#!/usr/bin/env bash
# A result set is trusted only when it verifies and holds every run (probe B, items 1-2):
#   - `merge --allow-missing` marks a partial result set (root attribute runs_missing), and
#     `run --resume` then runs the missing runs and rebuilds it, keeping the finished shards
#     until it has (also for the `--shard I/N --resume` jobs of scripts/slurm_sweep.sh);
#   - one flipped byte in OUT.h5 is detected: in a datatype by any HDF5 reader (h5py), as
#     the metadata carries checksums; in attribute text (the global heap, which has none)
#     by infersim's content checksum; `compare` refuses the file (exit 2, one line), and
#     `--resume` does not call it up to date nor delete the shards it kept;
#   - `infersim check` (what scripts/result_set.py runs before pandas reads a file) passes a
#     whole, verified result set and refuses, in one line with exit 2, a partial one (unless
#     --allow-missing), a changed byte of the `overrides` text, and files that are not
#     result sets.
# Each result is compared with an uninterrupted run (tests/python/compare_results.py).
# usage: result_set_trust.sh path/to/infersim
set -u
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }

cat > "$work/exp.yaml" <<EOF2
name: trust
seed: 8
duration_s: 20
hardware: {profile: $(pwd)/hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 300}}
sweep:
  grid:
    tenants.0.arrival.rate: [100, 200, 300]
    policy.max_batch: [2, 4, 8, 16]
EOF2
"$INFERSIM" run "$work/exp.yaml" -o "$work/ref.h5" -q > /dev/null || fail "reference run"
attr() { $PY -c "import h5py,sys; print(h5py.File(sys.argv[1])['/'].attrs[sys.argv[2]])" "$@"; }
runs() { $PY -c "import h5py,sys; print(len(h5py.File(sys.argv[1])['summary']))" "$1"; }
[ "$(attr "$work/ref.h5" runs_missing)" = 0 ] || fail "a complete result set: runs_missing is not 0"

# 1. A partial merge, then --resume: runs 5 and 7 run, and the finished shards are used.
"$INFERSIM" run "$work/exp.yaml" -o "$work/pm.h5" -q --keep-shards > /dev/null || fail "pm run"
mkdir "$work/away"
mv "$work/pm.h5.d/run-000005.h5" "$work/pm.h5.d/run-000007.h5" "$work/away/"
rm "$work/pm.h5"
"$INFERSIM" merge "$work/pm.h5.d" --allow-missing -q > /dev/null || fail "merge --allow-missing"
[ "$(runs "$work/pm.h5")" = 10 ] && [ "$(attr "$work/pm.h5" runs_missing)" = 2 ] \
  || fail "the partial merge is not marked: runs_missing=$(attr "$work/pm.h5" runs_missing)"
# check_refuses WHY FILE... : `infersim check FILE...` exits 2 with one line on stderr that
# matches the extended regex WHY.
check_refuses() {
  local why=$1
  shift
  "${damaged_env[@]}" "$INFERSIM" check "$@" > "$work/check.out" 2> "$work/check.err"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "check $*: exit $rc, expected 2: $(cat "$work/check.out" "$work/check.err")"
  [ "$(wc -l < "$work/check.err")" -eq 1 ] && grep -Eq "$why" "$work/check.err" \
    || fail "check $*: expected one line matching '$why': $(cat "$work/check.err")"
  echo "ok   check refuses $(basename "$1"), exit 2: $(cut -c1-150 "$work/check.err")"
}
damaged_env=()
# HDF5 1.10 leaks a metadata-cache block when a checksum fails (H5C_protect; see
# tests/python/corrupt_shards.py): under `make sanitize`, leak checking is off for the
# commands that read the damaged files below.
if [ -n "${ASAN_OPTIONS:-}" ]; then damaged_env=(env "ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0"); fi
out=$("$INFERSIM" check "$work/ref.h5" 2> "$work/check.err") || fail "check of a whole result set: $(cat "$work/check.err")"
[ "$out" = "$work/ref.h5: verified, 12 runs" ] && [ ! -s "$work/check.err" ] \
  || fail "check of a whole result set printed: $out $(cat "$work/check.err")"
echo "ok   check passes a whole result set: $out"
check_refuses "pm\.h5: a partial result set: 2 of 12 runs missing" "$work/pm.h5"
out=$("$INFERSIM" check "$work/pm.h5" --allow-missing) || fail "check --allow-missing of a partial result set"
[ "$out" = "$work/pm.h5: verified, 10 runs, 2 missing" ] || fail "check --allow-missing printed: $out"
echo "ok   check --allow-missing passes it: $out"

"$INFERSIM" run "$work/exp.yaml" -o "$work/pm.h5" -q --resume > "$work/pm.log"
rc=$?
[ "$rc" -eq 0 ] || fail "--resume after a partial merge: exit $rc: $(cat "$work/pm.log")"
grep -q "up to date" "$work/pm.log" && fail "a partial result set was called up to date"
grep -q "12 runs: 2 ok, 0 failed, 10 skipped" "$work/pm.log" \
  || fail "--resume did not run exactly the 2 missing runs: $(tail -1 "$work/pm.log")"
$PY tests/python/compare_results.py "$work/ref.h5" "$work/pm.h5" > /dev/null \
  || fail "the rebuilt result set differs from an uninterrupted run"
echo "ok   --resume after merge --allow-missing runs the 2 missing runs and rebuilds OUT.h5"

# The same with --shard jobs (scripts/slurm_sweep.sh always passes --resume).
for i in 0 2 3; do
  "$INFERSIM" run "$work/exp.yaml" -o "$work/sh.h5" --shard $i/4 -q > /dev/null || fail "shard $i/4"
done
"$INFERSIM" merge "$work/sh.h5.d" --allow-missing -q > /dev/null || fail "merge of 3 shards of 4"
"$INFERSIM" run "$work/exp.yaml" -o "$work/sh.h5" --shard 1/4 --resume -q > "$work/sh.log" \
  || fail "--shard 1/4 --resume: $(cat "$work/sh.log")"
grep -q "3 runs: 3 ok" "$work/sh.log" || fail "--shard 1/4 --resume ran: $(tail -1 "$work/sh.log")"
"$INFERSIM" merge "$work/sh.h5.d" -q > /dev/null || fail "merge after the missing shard ran"
$PY tests/python/compare_results.py "$work/ref.h5" "$work/sh.h5" > /dev/null \
  || fail "the sharded result set differs from an uninterrupted run"
echo "ok   --shard 1/4 --resume after a partial merge runs its slice"

# 2. One byte of OUT.h5 changed. flip FILE WHAT: WHAT is `bias` (the low byte of the
# exponent bias of /summary's p99_ms float, 1023 -> 1022: every p99 doubled) or `text`
# (a digit of the experiment's YAML in the root attribute experiment_yaml).
flip() {
  $PY - "$@" <<'EOF2'
import sys
path, what = sys.argv[1], sys.argv[2]
data = bytearray(open(path, "rb").read())
if what == "bias":
    # An IEEE float64 datatype's properties: bit offset 0, precision 64, exponent at bit 52,
    # 11 bits, mantissa at 0, 52 bits, bias 1023; the first one after the name p99_ms.
    props = bytes([0, 0, 64, 0, 52, 11, 0, 52, 0xFF, 3, 0, 0])
    at = data.index(props, data.index(b"p99_ms\0")) + 8
    assert data[at] == 0xFF
    data[at] = 0xFE
else:
    at = data.index(b"seed: 8\n") + 6
    data[at] = ord("9")
open(path, "wb").write(bytes(data))
EOF2
}
for what in bias text; do
  cp "$work/ref.h5" "$work/$what.h5"
  flip "$work/$what.h5" $what || fail "cannot find the $what byte in the result set"
  [ "$(cmp -l "$work/ref.h5" "$work/$what.h5" | wc -l)" -eq 1 ] || fail "$what: not one byte"
  "${damaged_env[@]}" "$INFERSIM" compare "$work/$what.h5" "$work/ref.h5" > "$work/cmp.out" 2> "$work/cmp.err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "compare read a result set with a changed $what byte: exit $rc: $(tail -1 "$work/cmp.out")"
  [ "$(wc -l < "$work/cmp.err")" -eq 1 ] && grep -q "$what.h5: damaged" "$work/cmp.err" \
    || fail "compare's message: $(cat "$work/cmp.err")"
  echo "ok   compare refuses a result set with one $what byte changed: $(cut -c1-150 "$work/cmp.err")"
done
$PY -c "
import sys, warnings
import pandas as pd
warnings.simplefilter('ignore')
try:
    p99 = pd.read_hdf(sys.argv[1], 'summary').p99_ms.tolist()
except Exception:
    sys.exit(0)
sys.exit('read ' + str(p99[:3]))" "$work/bias.h5" || fail "pandas read /summary with a changed datatype"
echo "ok   pandas (PyTables) refuses /summary with a changed datatype (checksummed metadata)"

# `check` on what scripts might be handed: the probe's tampered `overrides` text (one digit
# of a --set value, in the global heap: only the content checksum sees it), a file cut
# short, one that is not HDF5, an HDF5 file that is not a result set, none at all. Each is
# refused alone and beside a good file, which still gets its line.
"$INFERSIM" run "$work/exp.yaml" -o "$work/ov.h5" -q --set duration_s=5 \
  --set 'sweep.grid={policy.max_batch: [4]}' > /dev/null || fail "run with --set"
"$INFERSIM" check "$work/ov.h5" > /dev/null || fail "check of a result set with overrides"
$PY - "$work/ov.h5" <<'EOF2' || fail "cannot find the --set text in the result set"
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.index(b"duration_s=5\n") + len("duration_s=")
data[at] = ord("6")
open(sys.argv[1], "wb").write(bytes(data))
EOF2
[ "$($PY -c "import h5py,sys; print(h5py.File(sys.argv[1]).attrs['overrides'].split()[0])" "$work/ov.h5")" = duration_s=6 ] \
  || fail "the flipped override is not what h5py reads"
check_refuses "ov\.h5: damaged or not a result set \(content checksum mismatch" "$work/ov.h5"
head -c 20000 "$work/ref.h5" > "$work/cut.h5"
check_refuses "cut\.h5: damaged or not a result set \(.*truncated file" "$work/cut.h5"
echo "run,policy" > "$work/text.h5"
check_refuses "text\.h5: not an HDF5 file" "$work/text.h5"
$PY -c "import h5py,sys; h5py.File(sys.argv[1], 'w')['x'] = [1, 2]" "$work/other.h5"
check_refuses "other\.h5: an HDF5 file but not an infersim result set" "$work/other.h5"
check_refuses "absent\.h5: no such file" "$work/absent.h5"
"$INFERSIM" check "$work/ref.h5" "$work/absent.h5" > "$work/check.out" 2> "$work/check.err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(cat "$work/check.out")" = "$work/ref.h5: verified, 12 runs" ] \
  && [ "$(wc -l < "$work/check.err")" -eq 1 ] || fail "check of a good and a missing file: exit $rc"
echo "ok   check of a good and a missing file: the good one's line, the other's error, exit 2"
# A result set of an older infersim, without a content checksum: read, with a warning.
cp "$work/ref.h5" "$work/old.h5"
$PY -c "import h5py,sys; del h5py.File(sys.argv[1], 'r+').attrs['content_checksum']" "$work/old.h5"
out=$("$INFERSIM" check "$work/old.h5" 2> "$work/check.err") || fail "check of an older file: exit $?"
grep -q "warning: .*old.h5 has no content checksum" "$work/check.err" \
  || fail "check of an older file did not warn: $(cat "$work/check.err")"
echo "ok   check reads an older result set with a warning, exit 0: $out"

# A damaged OUT.h5 whose shards were kept: --resume rebuilds it and keeps nothing unverified.
"$INFERSIM" run "$work/exp.yaml" -o "$work/kp.h5" -q --keep-shards > /dev/null || fail "kp run"
flip "$work/kp.h5" bias
"${damaged_env[@]}" "$INFERSIM" run "$work/exp.yaml" -o "$work/kp.h5" -q --resume > "$work/kp.log" \
  || fail "--resume over a damaged OUT.h5: $(cat "$work/kp.log")"
grep -q "up to date" "$work/kp.log" && fail "a damaged result set was called up to date"
grep -q "kp.h5 fails verification" "$work/kp.log" || fail "not reported: $(cat "$work/kp.log")"
grep -q "12 runs: 0 ok, 0 failed, 12 skipped" "$work/kp.log" \
  || fail "--resume re-ran runs its kept shards hold: $(tail -1 "$work/kp.log")"
$PY tests/python/compare_results.py "$work/ref.h5" "$work/kp.h5" > /dev/null \
  || fail "the rebuilt result set differs from an uninterrupted run"
"$INFERSIM" run "$work/exp.yaml" -o "$work/kp.h5" -q --resume > "$work/kp2.log" || fail "resume 2"
grep -q "is up to date (12 runs)" "$work/kp2.log" || fail "a verified result set: $(cat "$work/kp2.log")"
echo "ok   --resume rebuilds a damaged OUT.h5 from its kept shards, then finds it up to date"
