#!/usr/bin/env bash
# Seed 003 Table 1's shapes with one host thread per stream (multiplex.cu --threads), on all
# of the machine's cores and on 8 of them (taskset), with the host CPU recorded: the host
# path is part of what such a harness measures. Writes ${OUT:-/tmp/threads}/: cpu.txt,
# threads_all.txt, threads_8cores.txt. About 40 s.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/threads}
mkdir -p "$out"
{ nvidia-smi --query-gpu=name,clocks.max.sm,driver_version --format=csv,noheader
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket)'; } | tee "$out/cpu.txt"
nvcc -O2 -arch=native -o "$out/multiplex" "$here/multiplex.cu" -lcublas || exit 1
timeout 120 "$out/multiplex" --threads | tee "$out/threads_all.txt"
timeout 120 taskset -c 0-7 "$out/multiplex" --threads | tee "$out/threads_8cores.txt"
rm -f "$out/multiplex"
