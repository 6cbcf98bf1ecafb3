#!/usr/bin/env bash
# Samples the trace-driven cluster row's speed at the margin, the figure issue 10's target is
# stated for (README, "At cluster scale"). On a shared VM one run says little: the row's
# state is ~80 MiB, and its speed follows the memory traffic of the host's other VMs by up
# to ±30% from minute to minute. So this takes SAMPLES samples, PAUSE seconds apart, each an
# `infersim_bench trace 1000000` and a `trace 10000000` back to back, and prints each
# sample and then the spread of the margin:
#   margin = (requests at 10 M - requests at 1 M) / (CPU s at 10 M - CPU s at 1 M)
# With a second bench binary OTHER, each sample runs both, in alternating order, and the
# summary gives both builds and the paired ratio of their 10 M runs' CPU time.
#
# usage: scripts/bench_margin.sh [SAMPLES [PAUSE [BENCH [OTHER]]]]
#   defaults: 30 samples, 15 s apart, build/infersim_bench; run nothing else meanwhile.
set -euo pipefail
SAMPLES=${1:-30}
PAUSE=${2:-15}
BENCH=${3:-build/infersim_bench}
OTHER=${4:-}
source "$(dirname "$0")/bench_margin_fn.sh"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for i in $(seq "$SAMPLES"); do
  order=("$BENCH")
  if [[ -n "$OTHER" ]]; then
    if (( i % 2 )); then order=("$OTHER" "$BENCH"); else order=("$BENCH" "$OTHER"); fi
  fi
  for b in "${order[@]}"; do
    m=$({ "$b" trace 1000000; "$b" trace 10000000; } | margin)
    [[ -n "$m" ]] || { echo "bench_margin.sh: no margin from $b" >&2; exit 1; }
    echo "$(date -u +%H:%M:%S) $b sample $i:$m"
    # time, binary, sample, then margin's numbers: N10 N1 C10 C1 margin
    echo "$(date -u +%H:%M:%S) $b $i $(echo "$m" | tr -c '0-9.\n' ' ')" >> "$log"
  done
  if (( i < SAMPLES )); then sleep "$PAUSE"; fi
done
/usr/bin/python3 - "$log" "$BENCH" "$OTHER" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def quartiles(v):
    v = sorted(v)
    def q(p):
        k = (len(v) - 1) * p
        f = int(k)
        return v[f] + (v[min(f + 1, len(v) - 1)] - v[f]) * (k - f)
    return "%.2f / %.2f / %.2f / %.2f / %.2f" % (v[0], q(.25), statistics.median(v), q(.75), v[-1])
by = {}
for _, b, i, n10, n1, c10, c1, m in rows:
    by.setdefault(b, {})[int(i)] = (float(m), int(n10) / float(c10) / 1e6, float(c10))
for b in [x for x in sys.argv[2:] if x]:
    s = list(by[b].values())
    m = [x[0] for x in s]
    print("%s: %d samples; margin min / q1 / median / q3 / max: %s M requests/s; "
          "%.0f%% at >= 6 M/s; whole 10 M run, median %.2f M/s" %
          (b, len(s), quartiles(m), 100.0 * sum(x >= 6 for x in m) / len(m),
           statistics.median(x[1] for x in s)))
if sys.argv[3]:
    a, o = by[sys.argv[2]], by[sys.argv[3]]
    r = [a[i][2] / o[i][2] for i in sorted(a) if i in o]
    print("paired: %s's 10 M run took a median %.3fx of %s's CPU time (less in %d of %d pairs)" %
          (sys.argv[2], statistics.median(r), sys.argv[3], sum(x < 1 for x in r), len(r)))
EOF
