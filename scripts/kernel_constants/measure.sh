#!/usr/bin/env bash
# Measures the kernel-model constants of sim/kernels/roofline.cc on the local CUDA GPU
# (needs nvcc, Nsight Compute's ncu and PyTorch). Output recorded in README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${TMPDIR:-/tmp}/kernel_constants
mkdir -p "$out"
nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv,noheader
nvcc -O2 -o "$out/launch" "$here/launch.cu" && "$out/launch"
nvcc -O2 -o "$out/chase" "$here/chase.cu" && "$out/chase"
python3 "$here/tiles.py" run
ncu --clock-control none --cache-control none --nvtx --nvtx-include 'regex:F.*/' \
  --metrics launch__block_size,launch__grid_size,launch__registers_per_thread,launch__shared_mem_per_block,gpu__time_duration.sum \
  --csv python3 "$here/tiles.py" profile > "$out/tiles.csv" 2> "$out/ncu.log"
python3 "$here/tiles.py" parse "$out/tiles.csv"
