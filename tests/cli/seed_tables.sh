#!/usr/bin/env bash
# The seed-comparison sweeps and their table scripts, end to end on short runs:
# experiments/sgemm_multiplex.yaml (R = 2, 10, 20 only) with scripts/sgemm_table.py, and
# experiments/sharing_replicas.yaml + sharing_replicas_kernel.yaml with
# scripts/sharing_table.py. Checks the tables' rows, not their figures (README has those).
# usage: seed_tables.sh path/to/infersim
set -u
. "$(dirname "$0")/lib.sh"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

grid='{tenants.0.model: [sgemm_rnn, sgemm_conv2_2, sgemm_square], tenants.0.replicas: [2, 10, 20],
  policy: [{name: time_sliced, granularity: kernel, max_batch: 1, context_mib: 0},
           {name: mps, granularity: kernel, max_batch: 1, context_mib: 0, max_clients: 120},
           {name: space_time, granularity: kernel, max_batch: 120}]}'
if ! "$INFERSIM" run experiments/sgemm_multiplex.yaml --set duration_s=0.01 --set warmup_s=0.001 \
    --set "sweep.grid=$grid" -o "$work/sgemm.h5" > /dev/null 2> "$work/err"; then
  fail "sgemm_multiplex run"; cat "$work/err"
elif ! /usr/bin/python3 scripts/sgemm_table.py "$work/sgemm.h5" > "$work/sgemm.md" 2> "$work/err"; then
  fail "sgemm_table.py"; cat "$work/err"
else
  # One row per shape with a bold geomean, the next best named, the seed's figures beside.
  for shape in sgemm_rnn sgemm_conv2_2 sgemm_square; do
    grep -Eq "^\| $shape \| [0-9.]+x \(over (time|space)-only\) \| [0-9.]+x .*\*\*[0-9.]+x\*\* \| (time|space)-only \|" \
      "$work/sgemm.md" || fail "sgemm_table row $shape: $(grep "$shape" "$work/sgemm.md" | head -1)"
  done
  grep -q "2.48x" "$work/sgemm.md" || fail "sgemm_table: the seed's 2.48x missing"
  echo "ok   sgemm_multiplex + sgemm_table.py"
fi

short=(--set duration_s=0.5 --set warmup_s=0.05)
if ! "$INFERSIM" run experiments/sharing_replicas.yaml "${short[@]}" -o "$work/batch.h5" > /dev/null 2> "$work/err" ||
   ! "$INFERSIM" run experiments/sharing_replicas_kernel.yaml "${short[@]}" -o "$work/kernel.h5" > /dev/null 2> "$work/err"; then
  fail "sharing_replicas runs"; cat "$work/err"
elif ! /usr/bin/python3 scripts/sharing_table.py "$work/batch.h5" "$work/kernel.h5" > "$work/sharing.md" 2> "$work/err"; then
  fail "sharing_table.py"; cat "$work/err"
else
  for row in "resnet50_v1 (batch granularity)" "mobile_pose_mobilenet1.0 (batch granularity)" \
      "resnet50_v1, measured profile (kernel granularity)" "resnet50_v1, roofline profile (kernel granularity)" \
      "seed 003 (measured)"; do
    grep -Fq "| $row |" "$work/sharing.md" || fail "sharing_table row '$row'"
  done
  echo "ok   sharing_replicas (batch, kernel) + sharing_table.py"
fi

if [ "$fails" -ne 0 ]; then echo "$fails seed-table check(s) failed"; exit 1; fi
