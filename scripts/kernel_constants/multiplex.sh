#!/usr/bin/env bash
# Runs multiplex.cu on the local CUDA GPU and, when Nsight Compute is installed, records the
# grid, block, registers, shared memory and occupancy limits of the cuBLAS kernels it
# launches. Writes ${OUT:-/tmp/multiplex}/: multiplex.txt (graph replays, host dispatch, the
# co-residence probe), gated.txt and gated_connections32.txt (eager launches behind a gate),
# sizes.txt, ksweep.txt and rsweep.txt (sweeps), and under ncu: ncu.csv and ncu_occupancy.csv (kernels, grids,
# limits), single0..2.csv (each plain problem's kernel durations) and ksweep_kernels.csv
# (the kernels of ksweep.txt's problems). ~2 minutes on an H100.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/multiplex}
mkdir -p "$out"
nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv,noheader | tee "$out/gpu.txt"
nvcc -O2 -arch=native -o "$out/multiplex" "$here/multiplex.cu" -lcublas || exit 1
timeout 240 "$out/multiplex" | tee "$out/multiplex.txt"
if command -v ncu >/dev/null; then
  timeout 90 ncu --csv --print-units base \
    --metrics launch__grid_size,launch__block_size,launch__registers_per_thread,launch__shared_mem_per_block,gpu__time_duration.sum \
    "$out/multiplex" --once > "$out/ncu.csv" 2> "$out/ncu.log"
  echo "ncu: rc $?, $(wc -l < "$out/ncu.csv") lines"
  timeout 60 ncu --csv --print-units base \
    --metrics launch__occupancy_limit_blocks,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,launch__occupancy_limit_warps,sm__warps_active.avg.pct_of_peak_sustained_active \
    "$out/multiplex" --once > "$out/ncu_occupancy.csv" 2>> "$out/ncu.log"
  echo "ncu occupancy: rc $?, $(wc -l < "$out/ncu_occupancy.csv") lines"
fi
timeout 60 "$out/multiplex" --gated | tee "$out/gated.txt"
CUDA_DEVICE_MAX_CONNECTIONS=32 timeout 60 "$out/multiplex" --gated | tee "$out/gated_connections32.txt"
timeout 120 "$out/multiplex" --sizes | tee "$out/sizes.txt"
timeout 120 "$out/multiplex" --ksweep | tee "$out/ksweep.txt"
timeout 120 "$out/multiplex" --rsweep | tee "$out/rsweep.txt"
# Each plain problem's kernels, timed one by one under ncu.
if command -v ncu >/dev/null; then
  for i in 0 1 2; do
    timeout 60 ncu --csv --print-units base --launch-skip 20 --launch-count 20 \
      --metrics gpu__time_duration.sum "$out/multiplex" --single $i > "$out/single$i.csv" 2>/dev/null
    echo "shape $i: $(wc -l < "$out/single$i.csv") lines"
  done
  timeout 90 ncu --csv --print-units base --metrics launch__grid_size,launch__block_size \
    "$out/multiplex" --ksweep-once > "$out/ksweep_kernels.csv" 2>/dev/null
  echo "ksweep kernels: $(wc -l < "$out/ksweep_kernels.csv") lines"
fi
