#!/usr/bin/env bash
# `make bench`: simulated requests per second of wall time, one core, per policy; and
# peak memory at 1M vs 10M requests (flat memory: it must not grow with the count).
set -euo pipefail
BUILD=${1:-build}
B="$BUILD/infersim_bench"
echo "# exclusive, one tenant, Poisson at load 0.7, memory vs request count"
"$B" exclusive 1000000
"$B" exclusive 10000000
echo "# every policy, 4 tenants sharing one GPU (exclusive: one tenant), 10M requests"
for p in $("$BUILD/infersim" policies | sed -n 's/^\([a-z_]*\): .*/\1/p'); do
  if [ "$p" = exclusive ]; then "$B" "$p" 10000000 1; else "$B" "$p" 10000000 4; fi
done
