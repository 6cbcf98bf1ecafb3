# Sourced by bench.sh and bench_margin.sh: the speed of a cluster row at the margin.
#
# margin: reads the output of one row at 1 M and then at 10 M requests (infersim_bench's
# `requests=` and `cpu_s=` fields) and prints
#   margin: (N10 - N1) requests / (C10 - C1) CPU s = M M requests/s
# the requests between the two runs over the CPU seconds between them: the speed of a long
# run once the fixed cost of reading the trace, placing 10,000 tenants and summarizing them
# is paid (issue 10's target is for an hour of a 1 M requests/s cluster, 3.6 G requests,
# where that cost is negligible). Prints nothing unless it got two runs, the second slower.
margin() {
  awk '/requests=/ { for (i = 1; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
                     n[++k] = v["requests"]; c[k] = v["cpu_s"] }
       END { if (k == 2 && c[2] > c[1])
               printf "%-12s margin: (%d - %d) requests / (%.3f - %.3f) CPU s = %.2f M requests/s\n",
                      "", n[2], n[1], c[2], c[1], (n[2] - n[1]) / (c[2] - c[1]) / 1e6 }'
}
