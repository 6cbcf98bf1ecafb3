#!/usr/bin/env bash
# The seed-comparison sweeps and their table scripts, end to end:
# experiments/sgemm_multiplex.yaml (R = 2, 10, 20, and the whole sweep) with
# scripts/sgemm_table.py, and
# experiments/sharing_replicas.yaml + sharing_replicas_kernel.yaml with
# scripts/sharing_table.py; the same sweep on the H100 and the H200 with
# scripts/kernel_constants/multiplex_table.py; checked-in validation reports re-simulated
# (scripts/resimulate_validation.py); lone SGEMMs (scripts/kernel_constants/lone_table.py).
# Short runs check the tables' rows; the figures the README quotes (measured ones, and the
# model's under kernel_sharing: overlap) are checked exactly, at the experiments' durations.
# usage: seed_tables.sh path/to/infersim
set -u
. "$(dirname "$0")/lib.sh"
export INFERSIM  # the binary scripts/result_set.py verifies the result sets with
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# table NAME OUT COMMAND...: runs COMMAND with its stdout in $work/OUT; says why if it fails.
table() {
  local name=$1 out=$2
  shift 2
  "$@" > "$work/$out" 2> "$work/err" && return 0
  fail "$name"
  cat "$work/err"
  return 1
}
# expect NAME OUT REGEX...: every extended REGEX matches a line of $work/OUT.
expect() {
  local name=$1 out=$2 row before=$fails
  shift 2
  for row in "$@"; do grep -Eq "$row" "$work/$out" || fail "$name row: $row"; done
  [ "$fails" -eq "$before" ] && echo "ok   $name"
}
sim() { "$INFERSIM" run "$@" > /dev/null 2> "$work/err"; }
tab() { /usr/bin/python3 "$@"; }

grid='{tenants.0.model: [sgemm_rnn, sgemm_conv2_2, sgemm_square], tenants.0.replicas: [2, 10, 20],
  policy: [{name: time_sliced, granularity: kernel, max_batch: 1, context_mib: 0},
           {name: mps, granularity: kernel, max_batch: 1, context_mib: 0, max_clients: 120},
           {name: space_time, granularity: kernel, max_batch: 120}]}'
if ! sim experiments/sgemm_multiplex.yaml --set duration_s=0.01 --set warmup_s=0.001 \
    --set "sweep.grid=$grid" -o "$work/sgemm.h5"; then
  fail "sgemm_multiplex run"; cat "$work/err"
elif table "sgemm_table.py" sgemm.md tab scripts/sgemm_table.py "$work/sgemm.h5"; then
  # One row per shape with a bold geomean, the next best named, the seed's figures beside.
  rows=()
  for shape in sgemm_rnn sgemm_conv2_2 sgemm_square; do
    rows+=("^\| $shape \| [0-9.]+x \(over (time|space)-only\) \| [0-9.]+x .*\*\*[0-9.]+x\*\* \| (time|space)-only \| .*\*\*[0-9.]+x\*\*")
  done
  expect "sgemm_multiplex + sgemm_table.py" sgemm.md "${rows[@]}" '2\.48x'
fi

# The whole V100 sweep at the experiment's own settings: the README quotes its geomeans
# (2.29x / 2.16x / 2.89x against the seed's 2.48x / 3.23x / 4.93x).
if ! sim experiments/sgemm_multiplex.yaml -o "$work/sgemm_full.h5"; then
  fail "sgemm_multiplex run (full)"; cat "$work/err"
elif table "sgemm_table.py (full)" sgemm_full.md tab scripts/sgemm_table.py "$work/sgemm_full.h5"; then
  expect "sgemm_multiplex (V100, full) + sgemm_table.py" sgemm_full.md \
    '^\| sgemm_rnn \| .* \*\*2\.29x\*\* \| space-only \| .* -8% \|$' \
    '^\| sgemm_conv2_2 \| .* \*\*2\.16x\*\* \| space-only \| .* -33% \|$' \
    '^\| sgemm_square \| .* \*\*2\.89x\*\* \| space-only \| .* -41% \|$'
fi

# The same shapes on the H100 beside multiplex.cu's checked-in measurements: the measured
# columns are computed from scripts/kernel_constants/h100/ alone, so their figures (quoted in
# the README) are checked exactly.
grid_h100='{tenants.0.model: [sgemm_rnn, sgemm_conv2_2, sgemm_square], tenants.0.replicas: [1, 2, 10, 20, 60, 120],
  policy: [{name: time_sliced, granularity: kernel, max_batch: 1, context_mib: 0},
           {name: mps, granularity: kernel, max_batch: 1, context_mib: 0, max_clients: 120},
           {name: space_time, granularity: kernel, max_batch: 120}]}'
if ! sim experiments/sgemm_multiplex.yaml --set duration_s=0.01 --set warmup_s=0.001 \
    --set hardware.gpu=h100 --set "sweep.grid=$grid_h100" -o "$work/h100.h5"; then
  fail "sgemm_multiplex run on the h100"; cat "$work/err"
elif table "multiplex_table.py" h100.md tab scripts/kernel_constants/multiplex_table.py "$work/h100.h5"; then
  expect "sgemm_multiplex on the h100 + multiplex_table.py" h100.md \
    '^\| 512x1x512 \| [0-9.]+x \(space-only\) \| 2\.27x \(space-only\) \| 2\.49x \(space-only\) \| 7\.97x \(space-only\) \| 2\.48x \(time-only\) \|$' \
    '^\| 256x128x1152 \| [0-9.]+x \(space-only\) \| 1\.71x \(space-only\) \| 2\.14x \(space-only\) \| 3\.63x \(space-only\) \| 3\.23x \(space-only\) \|$' \
    '^\| 256x256x256 \| [0-9.]+x \(space-only\) \| 2\.52x \(space-only\) \| 3\.47x \(space-only\) \| 7\.86x \(space-only\) \| 4\.93x \(space-only\) \|$' \
    '^\| 256x128x1152 \| 120 \| 12\.07 / [0-9.]+ \| 5\.40 / [0-9.]+ \| 1\.67 / [0-9.]+ \|$'
fi

# With kernel_sharing: overlap, at the experiment's own duration, the model's space-time
# ratios are the ones the README sets beside the GPU-only measurements: on the H100 2.51x /
# 1.56x / 2.14x ("Table 1's shapes on the H100"), on the H200 3.45x / 1.64x / 2.30x, with
# the H200's checked-in measurements (scripts/kernel_constants/h200/).
grid_overlap="${grid_h100//max_clients: 120\}/max_clients: 120, kernel_sharing: overlap\}}"
grid_overlap="${grid_overlap//max_batch: 120\}/max_batch: 120, kernel_sharing: overlap\}}"
if ! sim experiments/sgemm_multiplex.yaml --set hardware.gpu=h100 --set "sweep.grid=$grid_overlap" \
    -o "$work/h100_overlap.h5"; then
  fail "sgemm_multiplex run on the h100, overlap"; cat "$work/err"
elif table "multiplex_table.py (overlap)" h100_overlap.md \
    tab scripts/kernel_constants/multiplex_table.py "$work/h100_overlap.h5"; then
  expect "sgemm_multiplex on the h100 with kernel_sharing overlap" h100_overlap.md \
    '^\| 512x1x512 \| 2\.51x \(space-only\) \| 2\.27x' '^\| 256x128x1152 \| 1\.56x \(space-only\) \| 1\.71x' \
    '^\| 256x256x256 \| 2\.14x \(space-only\) \| 2\.52x'
fi
if ! sim experiments/sgemm_multiplex.yaml --set hardware.gpu=h200 --set "sweep.grid=$grid_overlap" \
    -o "$work/h200_overlap.h5"; then
  fail "sgemm_multiplex run on the h200, overlap"; cat "$work/err"
elif table "multiplex_table.py (h200)" h200_overlap.md \
    tab scripts/kernel_constants/multiplex_table.py "$work/h200_overlap.h5" scripts/kernel_constants/h200; then
  expect "sgemm_multiplex on the h200 with kernel_sharing overlap" h200_overlap.md \
    '^\| 512x1x512 \| 3\.45x \(space-only\) \| 2\.30x \(space-only\) \|' \
    '^\| 256x128x1152 \| 1\.64x \(space-only\) \| 1\.66x \(space-only\) \|' \
    '^\| 256x256x256 \| 2\.30x \(space-only\) \| 2\.47x \(space-only\) \|' \
    '^with the default floor 0\.30 \(the H100.s\), all 8 shapes: median \|error\| 6%, largest 29%$'
fi

# kernel_sharing: overlap against checked-in validation reports, re-simulated with each
# report's profile, rates and seed (the README's overlap tables quote these p50 errors): an
# H100's, and an H200's batch-granularity run at kernel granularity.
v=validation/reports/h100-2026-11-25
if table "resimulate_validation.py" resim.md tab scripts/resimulate_validation.py \
    $v/validate_report.md $v/resnet50_profile.yaml --kernel-sharing overlap --policies mps --infersim "$INFERSIM"; then
  expect "resimulate_validation.py (kernel_sharing overlap, H100 2026-11-25)" resim.md \
    '^\| mps \| 342\.0753 \| 1\.798 / 1\.864 \(-3\.5%\) \|' \
    '^\| mps \| 684\.1505 \| [0-9.]+ / 3\.891 \(-3\.8%\) \|' \
    '^\| mps \| 969\.2132 \| [0-9.]+ / 5\.456 \(\+6\.6%\) \|'
fi
v=validation/reports/h200-2026-11-26
if table "resimulate_validation.py (h200)" resim200.md tab scripts/resimulate_validation.py \
    $v/batch_report.md $v/batch_profile.yaml --granularity kernel --kernel-sharing overlap --policies mps \
    --infersim "$INFERSIM"; then
  expect "resimulate_validation.py (kernel_sharing overlap, H200 2026-11-26)" resim200.md \
    '^\| mps \| 349\.9154 \| [0-9.]+ / 2\.253 \(-44\.6%\) \|' \
    '^\| mps \| 699\.8309 \| [0-9.]+ / 3\.514 \(-16\.8%\) \|' \
    '^\| mps \| 991\.4271 \| [0-9.]+ / 5\.226 \(\+3\.8%\) \|'
fi

# The batch sizes a profile did not measure, filled three ways (the README's table under
# "GPU results at kernel granularity" quotes these p50 errors).
v=validation/reports/h100-2026-11-26
if table "interpolation_sensitivity.py" interp.md tab scripts/interpolation_sensitivity.py \
    $v/densenet121_graph_report.md $v/densenet121_graph_profile.yaml --raise 7,15 --infersim "$INFERSIM"; then
  expect "interpolation_sensitivity.py (DenseNet-121, H100 2026-11-26)" interp.md \
    '^kernel model.s L\(b\) over its own line, unmeasured sizes: .* 11: 1\.102,' \
    '^\| linear \(as simulated\) \| exclusive \| 2892\.3862 \| [0-9.]+ / 6\.177 \(-24\.4%\) \|' \
    '^\| kernel-model shape \| exclusive \| 2892\.3862 \| [0-9.]+ / 6\.177 \(-18\.0%\) \|' \
    '^\| uniform \+7% \| exclusive \| 2041\.6844 \| [0-9.]+ / 3\.285 \(-1\.0%\) \|' \
    '^\| uniform \+15% \| exclusive \| 2892\.3862 \| [0-9.]+ / 6\.177 \(\+1\.1%\) \|'
fi

# Lone SGEMMs against the model, k by k: the README quotes the two summary lines, on the
# H100 (measured column from h100/ksweep.txt) and the H200 (h200/ksweep.txt).
if table "lone_table.py" lone.md tab scripts/kernel_constants/lone_table.py "$INFERSIM"; then
  expect "lone_table.py (lone SGEMMs on the H100 against the model)" lone.md \
    '^\| 256x128x16384 \| 37\.90 \| [0-9.]+ \| [-+][0-9]+% \| 2 / 2 \|' \
    '^24 shapes where the model launches as many kernels as cuBLAS: median \|error\| 16%, largest 37%$' \
    '^12 shapes where the model launches fewer kernels than cuBLAS: median \|error\| 55%, largest 60%$'
fi
if table "lone_table.py (h200)" lone200.md tab scripts/kernel_constants/lone_table.py "$INFERSIM" \
    scripts/kernel_constants/h200; then
  expect "lone_table.py (lone SGEMMs on the H200 against the model)" lone200.md \
    '^24 shapes where the model launches as many kernels as cuBLAS: median \|error\| 11%, largest 34%$' \
    '^12 shapes where the model launches fewer kernels than cuBLAS: median \|error\| 47%, largest 55%$'
fi

short=(--set duration_s=0.5 --set warmup_s=0.05)
if ! sim experiments/sharing_replicas.yaml "${short[@]}" -o "$work/batch.h5" ||
   ! sim experiments/sharing_replicas_kernel.yaml "${short[@]}" -o "$work/kernel.h5"; then
  fail "sharing_replicas runs"; cat "$work/err"
elif table "sharing_table.py" sharing.md tab scripts/sharing_table.py "$work/batch.h5" "$work/kernel.h5"; then
  expect "sharing_replicas (batch, kernel) + sharing_table.py" sharing.md \
    '^\| resnet50_v1 \(batch granularity\) \|' '^\| mobile_pose_mobilenet1\.0 \(batch granularity\) \|' \
    '^\| resnet50_v1, measured profile \(kernel granularity\) \|' \
    '^\| resnet50_v1, roofline profile \(kernel granularity\) \|' '^\| seed 003 \(measured\) \|'
fi

# The same table with kernel_sharing: overlap, at the experiments' own durations: the
# README quotes its space-only slowdowns, 1.24x and 1.53x.
if ! sim experiments/sharing_replicas.yaml -o "$work/batch_full.h5" ||
   ! sim experiments/sharing_replicas_overlap.yaml -o "$work/overlap.h5"; then
  fail "sharing_replicas_overlap runs"; cat "$work/err"
elif table "sharing_table.py (overlap)" sharing_overlap.md \
    tab scripts/sharing_table.py "$work/batch_full.h5" "$work/overlap.h5"; then
  expect "sharing_replicas_overlap + sharing_table.py" sharing_overlap.md \
    '^\| resnet50_v1, measured profile \(kernel granularity\) \| 2\.30x \| 1\.24x \|' \
    '^\| resnet50_v1, roofline profile \(kernel granularity\) \| 3\.02x \| 1\.53x \|'
fi

if [ "$fails" -ne 0 ]; then echo "$fails seed-table check(s) failed"; exit 1; fi
