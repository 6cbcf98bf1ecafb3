#!/usr/bin/env bash
# The kernel-model constants and seed 003 Table 1's shapes on another GPU, without Nsight
# Compute (35 s on an H200; the step timeouts allow about twelve minutes in all): launch.cu, chase.cu and copy.cu (the gpus.yaml
# kernel_model constants), tiles.py run where PyTorch is installed (copy, 8192^3 GEMM), and
# multiplex.cu's default run, --gated, --rsweep and --ksweep (GPU time of the three shapes
# one at a time, on R streams and batched; the overlap law's R sweep; lone problems by k).
# Writes ${OUT:-/tmp/second_gpu}/, one file per step, as each step ends.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/second_gpu}
bin=$(mktemp -d)
mkdir -p "$out"
nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv,noheader | tee "$out/gpu.txt"
nvcc --version | tail -2 > "$out/nvcc.txt"
step() {  # step NAME TIMEOUT COMMAND...: run, keep its output in $out/NAME.txt
  local name=$1 limit=$2
  shift 2
  echo "== $name"
  timeout "$limit" "$@" > "$out/$name.txt" 2>&1
  echo "rc $? after ${SECONDS}s" >> "$out/$name.txt"
  tail -4 "$out/$name.txt"
}
nvcc -O2 -o "$bin/launch" "$here/launch.cu" && step launch 60 "$bin/launch"
nvcc -O2 -o "$bin/chase" "$here/chase.cu" && step chase 60 "$bin/chase"
nvcc -O2 -o "$bin/copy" "$here/copy.cu" && step copy 60 "$bin/copy"
if python3 -c 'import torch' 2>/dev/null; then step tiles_run 120 python3 "$here/tiles.py" run; fi
nvcc -O2 -arch=native -o "$bin/multiplex" "$here/multiplex.cu" -lcublas || exit 1
step gated 90 "$bin/multiplex" --gated
step rsweep 120 "$bin/multiplex" --rsweep
step multiplex 150 "$bin/multiplex"
step ksweep 90 "$bin/multiplex" --ksweep
