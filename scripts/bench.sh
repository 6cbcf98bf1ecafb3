#!/usr/bin/env bash
# `make bench`: simulated requests per second of wall time, one core, per policy; and
# peak memory at 1M vs 10M requests (flat memory: it must not grow with the count).
set -euo pipefail
BUILD=${1:-build}
B="$BUILD/infersim_bench"
echo "# exclusive, one tenant, Poisson at load 0.7, memory vs request count"
"$B" exclusive 1000000
"$B" exclusive 10000000
# Load 0.4: one that every policy sustains with four tenants, so queues stay bounded and
# memory flat (an overloaded policy's queues grow without bound, and so does its memory).
echo "# every policy at load 0.4, 4 tenants sharing one GPU (exclusive: one tenant), 10M requests"
# (`mig` is left out: it splits a GPU into instances that an inner policy runs, and it
# takes neither the bench's one-GPU settings nor `granularity`; the rows here time those
# inner policies.)
for p in $("$BUILD/infersim" policies | sed -n 's/^\([a-z_]*\): .*/\1/p'); do
  case "$p" in
    mig) ;;
    exclusive) "$B" "$p" 10000000 1 0.4 ;;
    *) "$B" "$p" 10000000 4 0.4 ;;
  esac
done
# Kernel granularity: each batch is ResNet-50's 56 kernels (calibrated to the Clockwork L(b));
# mps and space_time time their kernels' SM sharing, time_sliced switches between kernels.
echo "# the sharing policies at granularity kernel, load 0.4, 4 tenants, 10M requests"
for p in time_sliced mps space_time; do "$B" "$p" 10000000 4 0.4 kernel; done
# Cluster scale (issue 10): the whole run (placement, set-up, simulation), one core. Each
# row runs at 1 M and 10 M requests, and `margin` (bench_margin_fn.sh) prints the speed
# between the two.
source "$(dirname "$0")/bench_margin_fn.sh"
row() { local out; out=$("$B" "$1" 1000000; "$B" "$1" 10000000); echo "$out"; echo "$out" | margin; }
echo "# 1,000 V100s x 10,000 resnet18_v1 tenants under space_time, 500 k requests/s offered, 1 M and 10 M requests"
row cluster
echo "# trace-driven: 1,000 V100s, 2,000 services x 5 replicas, Azure 2019 sample at ~1 M requests/s, 1 M and 10 M requests"
row trace
# The same with glibc's malloc asking for transparent huge pages (Debian 12's glibc 2.36
# reads this tunable; the kernel's THP mode must be "madvise" or "always"). The trace row's
# state is spread over ~80 MiB of 4 KiB pages and misses the TLB. Huge pages gained 6% in
# one session and nothing beyond this VM's noise in later ones (docs/performance-history.md);
# the row stays so that the next machine can say.
echo "# the trace-driven row with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown))"
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 "$B" trace 10000000
# The event queue alone (sim/core/event_queue.h): its sorted layout against its 4-ary heap at
# 8..128 pending events, 30 M pop-then-push steps each; EventQueue::kSortedMax comes from it.
echo "# event queue: sorted array vs heap, seconds for 30 M holds at n pending events (heap alone at 512, 2048)"
"$B" queue 30000000
# The machine (not infersim): ns per dependent load against the working set's size. Where it
# jumps, the working set has outgrown the last-level cache; the trace-driven row's cost is
# mostly such misses (README, "At cluster scale").
echo "# memory latency of this machine: a pointer chase through a random cycle of cache lines"
"$B" memory
