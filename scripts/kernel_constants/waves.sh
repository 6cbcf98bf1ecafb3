#!/usr/bin/env bash
# Runs waves.cu on the local CUDA GPU and, when Nsight Compute is installed, records the
# kernel, grid, block, registers and shared memory of every launch it times. Writes
# ${OUT:-/tmp/waves}/: waves.txt, ncu.csv and waves_kernels.txt (ncu.csv, one row per launch).
# About 30 s on an H100.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/waves}
mkdir -p "$out"
nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv,noheader | tee "$out/gpu.txt"
nvcc -O2 -arch=native -o "$out/waves" "$here/waves.cu" -lcublas || exit 1
timeout 120 "$out/waves" | tee "$out/waves.txt"
ncu=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
if [ -x "$ncu" ]; then
  timeout 120 "$ncu" --csv --print-units base \
    --metrics launch__grid_size,launch__block_size,launch__registers_per_thread,launch__shared_mem_per_block,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,launch__occupancy_limit_warps,gpu__time_duration.sum \
    "$out/waves" --once > "$out/ncu.csv" 2> "$out/ncu.log"
  echo "ncu: rc $?, $(wc -l < "$out/ncu.csv") lines"
  python3 - "$out/ncu.csv" > "$out/waves_kernels.txt" <<'PY'
import csv, io, sys
text = open(sys.argv[1]).read()
rows = csv.DictReader(io.StringIO(text[text.index('"ID"'):]))
launches = {}
for r in rows:
    launches.setdefault((int(r["ID"]), r["Kernel Name"]), {})[r["Metric Name"]] = r["Metric Value"]
print("waves --once under ncu (its default clock control: durations at base clock, not for rates):")
print("launch | shape m x n | B/SMs | k | kernel | grid | block | registers | shared bytes"
      " | blocks per SM by registers / shared / warps | ns")
shapes, per_sm = ["64x64", "128x64", "128x128", "256x128"], [1, 2, 3, 4, 6, 8]
for (i, name), m in sorted(launches.items()):  # launch order: shape, B, then k and 4k
    print(f"{i} | {shapes[i // 12]} | {per_sm[i % 12 // 2]} | {1024 if i % 2 == 0 else 4096} | {name}"
          f" | {m['launch__grid_size']} | {m['launch__block_size']} | {m['launch__registers_per_thread']}"
          f" | {m['launch__shared_mem_per_block']} | {m['launch__occupancy_limit_registers']}"
          f" / {m['launch__occupancy_limit_shared_mem']} / {m['launch__occupancy_limit_warps']}"
          f" | {m['gpu__time_duration.sum']}")
PY
fi
rm -f "$out/waves"
