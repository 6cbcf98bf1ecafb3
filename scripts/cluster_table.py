#!/usr/bin/env python3
"""Prints the policy x router table of experiments/azure_cluster.yaml's result set.

usage: cluster_table.py RESULTS.h5 [--allow-missing]

One Markdown row per run of /summary: the policy, the router (the swept column
tenants__0__router), SLO attainment (requests that met the 100 ms SLO over requests
measured), goodput, p50/p99 latency of completed requests, dropped fraction, cold starts
and the fraction of requests that waited for a model load; then the per-GPU spread of
requests from /gpus (max over mean: 1 is perfectly even). The file is verified first
(scripts/result_set.py, `infersim check`); a partial result set (runs missing) is refused
unless --allow-missing, and then its missing runs have no row.
"""
import sys

from result_set import load


def main():
    args = [a for a in sys.argv[1:] if a != "--allow-missing"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rs = load(args[0], ("summary", "gpus"), allow_missing="--allow-missing" in sys.argv[1:],
              prog="cluster_table.py")
    s, g = rs["summary"], rs["gpus"]
    spread = g.groupby("run")["requests"].agg(lambda r: r.max() / r.mean() if r.mean() else 0)
    print("| policy | max_batch | router | SLO attainment | goodput req/s | p50 ms | p99 ms | dropped "
          "| cold starts | waited for a load | GPU requests max/mean |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for _, r in s.iterrows():
        dropped = r["dropped"] / r["requests"] if r["requests"] else 0
        print(f"| {r['policy']} | {r['policy__max_batch']} | {r['tenants__0__router']} | {r['slo_attainment']:.3f} "
              f"| {r['goodput_rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
              f"| {dropped:.1%} | {int(r['cold_starts'])} | {r['load_wait_fraction']:.2%} "
              f"| {spread[r['run']]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
