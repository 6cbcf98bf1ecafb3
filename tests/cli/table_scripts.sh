#!/usr/bin/env bash
# The table scripts (scripts/*_table.py, scripts/kernel_constants/multiplex_table.py) read a
# result set only through scripts/result_set.py, which runs `infersim check` first (h3
# probe, F2-F5):
#   - a damaged file (one digit of the `overrides` text changed), a file that is not HDF5
#     and a missing one are refused by every script: one line "SCRIPT: FILE: ...", exit 2,
#     no traceback; without an infersim binary the file is read with one warning;
#   - a partial result set (merge --allow-missing) is refused unless --allow-missing; then
#     each script says how many runs are missing and gives no mean over fewer replications
#     (a figure that needs a missing run is —, or says which R it covers);
#   - sharing_table.py labels the granularity the runs used, a --set override's too (F3);
#   - isolation_table.py shows a tenant without completions as — and reads a single run (F4);
#   - sgemm_table.py names the R a sweep has, compares its geomeans with the seed's only
#     over the seed's 2..120, and shows a missing R = 20 as — (F5).
# usage: table_scripts.sh path/to/infersim
set -u
. "$(dirname "$0")/lib.sh"
export INFERSIM  # the binary scripts/result_set.py verifies with
PY=/usr/bin/python3
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
sim() { "$INFERSIM" run "$@" -q > /dev/null 2> "$work/err" || { fail "run $*: $(cat "$work/err")"; }; }
# script SCRIPT ARGS...: runs a table script, stdout in $work/out, stderr in $work/err; $rc.
# (run COMMAND... runs any command so.)
run() { "$@" > "$work/out" 2> "$work/err"; rc=$?; }
script() { run $PY "$@"; }
# refused WHY COMMAND...: the command exits 2 with one line on stderr matching WHY.
refused() {
  local why=$1
  shift
  run "$@"
  if [ "$rc" -ne 2 ] || [ "$(wc -l < "$work/err")" -ne 1 ] || ! grep -Eq "$why" "$work/err"; then
    fail "$*: exit $rc, expected 2 and one line matching '$why': $(cat "$work/err")"
    return 1
  fi
}
# has WHAT REGEX...: every extended REGEX matches a line of $work/out, else FAIL naming WHAT.
has() {
  local what=$1 re
  shift
  for re in "$@"; do grep -Eq "$re" "$work/out" || { fail "$what: no line '$re': $(cat "$work/out" "$work/err")"; return 1; }; done
}
# partial FILE RUN...: FILE made again from its kept shards without RUN... (merge --allow-missing).
partial() {
  local out=$1 r
  shift
  for r in "$@"; do rm "$out.d/run-$(printf %06d "$r").h5"; done
  rm -f "$out"
  "$INFERSIM" merge "$out.d" -o "$out" --allow-missing -q > /dev/null || fail "merge --allow-missing $out"
}

# Result sets: the sharing sweep (ResNet-50 only), its twin with --set policy.granularity,
# the SGEMM sweep at R = 2, 10, 12, the isolation sweep with a tenant that never arrives,
# the partitioning sweep (3 replications) and the H100 SGEMM sweep, each short.
short=(--set duration_s=0.5 --set warmup_s=0.05)
one_model=(--set 'sweep.grid={tenants.0.model: [resnet50_v1]}')
sim experiments/sharing_replicas.yaml "${short[@]}" "${one_model[@]}" -o "$work/batch.h5" --keep-shards
sim experiments/sharing_replicas.yaml "${short[@]}" "${one_model[@]}" -o "$work/kernel.h5" \
  --set policy.granularity=kernel
sgemm_grid() {
  echo "{tenants.0.model: [sgemm_rnn, sgemm_conv2_2, sgemm_square], tenants.0.replicas: [$1],
  policy: [{name: time_sliced, granularity: kernel, max_batch: 1, context_mib: 0},
           {name: mps, granularity: kernel, max_batch: 1, context_mib: 0, max_clients: 120},
           {name: space_time, granularity: kernel, max_batch: 120}]}"
}
tiny=(--set duration_s=0.01 --set warmup_s=0.001)
sim experiments/sgemm_multiplex.yaml "${tiny[@]}" --set "sweep.grid=$(sgemm_grid "2, 10, 12")" -o "$work/sg12.h5"
sim experiments/sgemm_multiplex.yaml "${tiny[@]}" --set "sweep.grid=$(sgemm_grid "2, 10, 20")" \
  --set sweep.replications=2 -o "$work/sg_reps.h5" --keep-shards
sim experiments/sgemm_multiplex.yaml "${tiny[@]}" --set hardware.gpu=h100 \
  --set "sweep.grid=$(sgemm_grid "1, 2, 10, 20, 60, 120")" -o "$work/h100.h5" --keep-shards
iso=(--set duration_s=2 --set warmup_s=0.5)
sim experiments/isolation.yaml "${iso[@]}" -o "$work/iso_nan.h5" \
  --set 'sweep.grid={policy.name: [time_sliced, mps], tenants.1.arrival.rate: [0.000001, 100]}'
sim experiments/isolation.yaml "${iso[@]}" -o "$work/iso_one.h5" --set 'sweep={}' \
  --set tenants.0.arrival.rate=50
sim experiments/partitioning.yaml --set duration_s=1 --set warmup_s=0.2 -o "$work/part.h5" --keep-shards
sim experiments/azure_cluster.yaml --set duration_s=4 --set warmup_s=1 -o "$work/cluster.h5"

# 1. Files no script may read: one digit of the --set text changed (only the content
# checksum sees it), a text file, no file.
cp "$work/batch.h5" "$work/tampered.h5"
$PY - "$work/tampered.h5" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.index(b"duration_s=0.5\n") + len("duration_s=0.")
data[at] = ord("6")
open(sys.argv[1], "wb").write(bytes(data))
EOF
echo "run,policy" > "$work/text.h5"
scripts=(scripts/sharing_table.py scripts/sgemm_table.py scripts/isolation_table.py
         scripts/partitioning_table.py scripts/cluster_table.py scripts/kernel_constants/multiplex_table.py)
before=$fails
for s in "${scripts[@]}"; do
  name=$(basename "$s")
  refused "^$name: .*tampered\.h5: damaged or not a result set \(content checksum mismatch" $PY "$s" "$work/tampered.h5"
  refused "^$name: .*text\.h5: not an HDF5 file" $PY "$s" "$work/text.h5"
done
refused "^sharing_table\.py: .*absent\.h5: no such file" $PY scripts/sharing_table.py "$work/absent.h5"
refused "^sharing_table\.py: INFERSIM=$work/none is not an executable" env INFERSIM="$work/none" \
  $PY scripts/sharing_table.py "$work/batch.h5"
[ "$fails" -eq "$before" ] && echo "ok   every table script refuses a damaged, a non-HDF5 and a missing file in one line, exit 2"

# Without a binary (scripts copied away from build/): one warning, then read; a text file
# is still one line, exit 2.
mkdir -p "$work/bare/scripts"
cp scripts/result_set.py scripts/sharing_table.py "$work/bare/scripts/"
run env -u INFERSIM $PY "$work/bare/scripts/sharing_table.py" "$work/batch.h5"
if [ "$rc" -eq 0 ] && [ "$(grep -c "warning: no infersim binary" "$work/err")" -eq 1 ]; then
  has "sharing_table.py unverified" '^\| resnet50_v1 \| [0-9.]+x \|' && echo "ok   without a binary: one warning, then the table"
else
  fail "sharing_table.py without a binary: exit $rc: $(cat "$work/err")"
fi
run env -u INFERSIM $PY "$work/bare/scripts/sharing_table.py" "$work/text.h5"
[ "$rc" -eq 2 ] && [ "$(wc -l < "$work/err")" -eq 2 ] && grep -q "warning: no infersim binary" "$work/err" \
  && tail -1 "$work/err" | grep -Eq "^sharing_table\.py: .*text\.h5: cannot read it as a result set" \
  && echo "ok   without a binary a text file is the warning and one line, exit 2" \
  || fail "sharing_table.py without a binary on a text file: exit $rc: $(cat "$work/err")"

# 2. F3: the granularity a --set gave is in the label.
script scripts/sharing_table.py "$work/batch.h5" "$work/kernel.h5"
has "sharing_table.py granularity" '^\| resnet50_v1 \(batch granularity\) \| [0-9.]+x' \
  '^\| resnet50_v1 \(kernel granularity\) \| [0-9.]+x' \
  && echo "ok   sharing_table.py labels --set policy.granularity=kernel as kernel granularity"

# 3. Partial result sets: refused, then read with --allow-missing, which says how many runs
# are missing and averages no mean over fewer replications.
partial "$work/batch.h5" 13 15  # time_sliced at R = 6 and 10
refused "^sharing_table\.py: .*batch\.h5: a partial result set: 2 of 40 runs missing" \
  $PY scripts/sharing_table.py "$work/batch.h5" && echo "ok   sharing_table.py refuses a partial result set"
script scripts/sharing_table.py "$work/batch.h5" --allow-missing
[ "$rc" -eq 0 ] && grep -q "batch.h5 lacks 2 of 40 runs" "$work/err" \
  && has "sharing_table.py --allow-missing" '^\| resnet50_v1, only R = 2, 4, 8, 12, 14, 16, 18 \| [0-9.]+x' \
  && echo "ok   sharing_table.py --allow-missing: 2 runs missing said, the row names the R it covers" \
  || fail "sharing_table.py --allow-missing: exit $rc: $(cat "$work/err")"
partial "$work/sg_reps.h5" 0  # sgemm_rnn, R = 2, time_sliced: one of its two replications
script scripts/sgemm_table.py "$work/sg_reps.h5" --allow-missing
[ "$rc" -eq 0 ] && grep -q "lacks 1 of 54 runs" "$work/err" \
  && has "sgemm_table.py --allow-missing" '^\| sgemm_rnn \| [0-9.]+x \(over space-only\) \| [0-9.]+x \(over space-only\) \| \*\*—\*\* \| — \|' \
  '^\| sgemm_square \| [0-9.]+x \(over space-only\) \| [0-9.]+x .* \| \*\*[0-9.]+x\*\* \| space-only \|' \
  && echo "ok   sgemm_table.py --allow-missing: no geomean over one replication of two" \
  || fail "sgemm_table.py --allow-missing: exit $rc: $(cat "$work/err")"
partial "$work/part.h5" 0  # the first partitioning at the lowest load: one of three replications
script scripts/partitioning_table.py "$work/part.h5" --allow-missing
[ "$rc" -eq 0 ] && grep -q "lacks 1 of 96 runs" "$work/err" \
  && has "partitioning_table.py --allow-missing" '^\| mig 7x1g \| — \| [0-9.]+ \|' \
  && echo "ok   partitioning_table.py --allow-missing: no mean over two replications of three" \
  || fail "partitioning_table.py --allow-missing: exit $rc: $(cat "$work/err")"
partial "$work/h100.h5" 3  # sgemm_rnn, R = 2, time_sliced
script scripts/kernel_constants/multiplex_table.py "$work/h100.h5" --allow-missing
[ "$rc" -eq 0 ] && has "multiplex_table.py --allow-missing" '^\| 512x1x512 \| 2 \| [0-9.]+ / — \|' \
  '^\| 512x1x512 \| — \| [0-9.]+x' && echo "ok   multiplex_table.py --allow-missing: — for the missing run" \
  || fail "multiplex_table.py --allow-missing: exit $rc: $(cat "$work/err")"
script scripts/cluster_table.py "$work/cluster.h5"
[ "$rc" -eq 0 ] && has "cluster_table.py" '^\| space_time \| 16 \| model_affinity \|' \
  && echo "ok   cluster_table.py reads a verified result set" || fail "cluster_table.py: exit $rc: $(cat "$work/err")"

# 4. F4: a steady tenant that never arrives, and a single run.
script scripts/isolation_table.py "$work/iso_nan.h5"
[ "$rc" -eq 0 ] && has "isolation_table.py (a tenant without completions)" \
  '^\| time_sliced \| 100 \| [0-9.]+ \| — \(—\) \| — \| [0-9.]+ \| [0-9.]+ \| 1e-06 \|$' \
  '^\| mps \| 100 \| [0-9.]+ \| [0-9.]+ \([0-9.]+\) \| [0-9.]+x \|' \
  && echo "ok   isolation_table.py shows a tenant without completions as —" \
  || fail "isolation_table.py on a NaN tenant: exit $rc: $(cat "$work/err")"
script scripts/isolation_table.py "$work/iso_one.h5"
[ "$rc" -eq 0 ] && [ "$(grep -c '^| time_sliced | 50 |' "$work/out")" -eq 1 ] \
  && echo "ok   isolation_table.py reads a single run (burst rate 50 from --set)" \
  || fail "isolation_table.py on a single run: exit $rc: $(cat "$work/out" "$work/err")"

# 5. F5: a sweep of R = 2, 10, 12.
script scripts/sgemm_table.py "$work/sg12.h5"
[ "$rc" -eq 0 ] && has "sgemm_table.py (R = 2, 10, 12)" \
  '^\| problem \| R = 10 \| R = 20 \| geomean, R = 2, 10, 12 \|' \
  '^\| sgemm_conv2_2 \| [0-9.]+x \(over space-only\) \| — \| \*\*[0-9.]+x\*\* \| space-only \| 1\.68x / 2\.88x / \*\*3\.23x\*\*, space-only \| — \|$' \
  "^geomean vs seed: not compared: this sweep's R \(2, 10, 12\)" \
  && echo "ok   sgemm_table.py names R = 2, 10, 12, shows R = 20 as — and compares no geomean" \
  || fail "sgemm_table.py on R = 2, 10, 12: exit $rc: $(cat "$work/err")"

if [ "$fails" -ne 0 ]; then echo "$fails table-script check(s) failed"; exit 1; fi
