#!/usr/bin/env bash
# Sweep throughput: a 200-point sweep of ~100k-request runs (four ResNet-50 tenants on
# four V100s; 20 loads zipped with durations that keep ~100k requests per run, x 10
# max_batch values), run with -j 1 and with -j 2. Prints each wall time and the speed-up,
# and checks both result sets are identical. Not a test: no timing is asserted.
# usage: scripts/bench_sweep.sh [BUILD_DIR]   (make bench-sweep)
set -euo pipefail
BUILD=${1:-build}
INFERSIM=$(realpath "$BUILD/infersim")
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rates=() durations=()
for i in $(seq 0 19); do
  r=$((100 + 15 * i))
  rates+=("$r")
  durations+=("$(awk -v r="$r" 'BEGIN { printf "%.3f", 100000 / (4 * r) + 1 }')")
done
join() { local IFS=,; echo "$*"; }
cat > "$work/bench.yaml" <<EOF2
name: bench_sweep
seed: 1
duration_s: 100
warmup_s: 1
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 4}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, replicas: 4, slo_ms: 25, arrival: {process: poisson, rate: 100}}
sweep:
  zip:
    tenants.0.arrival.rate: [$(join "${rates[@]}")]
    duration_s: [$(join "${durations[@]}")]
  grid:
    policy.max_batch: [4, 5, 6, 7, 8, 10, 12, 14, 16, 20]
EOF2

"$INFERSIM" run "$work/bench.yaml" -o "$work/dry.h5" --dry-run > "$work/dry.log"
head -1 "$work/dry.log"
wall() {  # wall seconds of one sweep run with -j $1
  local t0 t1
  t0=$(date +%s.%N)
  "$INFERSIM" run "$work/bench.yaml" -o "$work/j$1.h5" -j "$1" -q > "$work/j$1.log"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
w1=$(wall 1)
echo "-j 1: $w1 s   ($(tail -1 "$work/j1.log"))"
w2=$(wall 2)
echo "-j 2: $w2 s   ($(tail -1 "$work/j2.log"))"
requests=$(/usr/bin/python3 -c "import h5py,sys; s=h5py.File(sys.argv[1])['summary'][:]; print(int(s['requests'].sum()))" "$work/j1.h5")
awk -v a="$w1" -v b="$w2" -v n="$requests" -v c="$(nproc)" 'BEGIN {
  printf "speed-up -j 2 / -j 1: %.2fx on %d core(s); %d runs, %.1f M requests (%.2f M simulated requests/s with -j 2)\n",
         a / b, c, 200, n / 1e6, n / 1e6 / b }'
/usr/bin/python3 tests/python/compare_results.py "$work/j1.h5" "$work/j2.h5" > /dev/null \
  && echo "results of -j 1 and -j 2 identical (but wall_s)"
