#!/usr/bin/env python3
"""The README's isolation table from experiments/isolation.yaml's result set.

usage: isolation_table.py RESULTS.h5

Per policy and burst rate: the bursty tenant's p99, the steady tenants' worst p99 with
the burst over their p99 alone on the same trace, SLO attainment and Jain's index.
"""
import sys

import pandas as pd


def main(path):
    s = pd.read_hdf(path, "summary").set_index("run")
    t = pd.read_hdf(path, "tenants")
    t["name"] = t["name"].astype(str)
    print("| policy | burst rate (req/s) | bursty p99 ms | steady p99 ms (alone) "
          "| steady worst p99 / alone | SLO attainment | Jain |")
    print("|---|---|---|---|---|---|---|")
    for run, g in t.groupby("run"):
        row = s.loc[run]
        bursty = g[g["name"] == "bursty"].iloc[0]
        steady = g[g["name"] != "bursty"]
        worst = steady.loc[steady["isolation"].idxmax()]
        print(f"| {row['policy']} | {row['tenants__0__arrival__rate']:.0f} | {bursty['p99_ms']:.1f} "
              f"| {worst['p99_ms']:.1f} ({worst['p99_alone_ms']:.1f}) | {worst['isolation']:.2f}x "
              f"| {row['slo_attainment']:.3f} | {row['jain_fairness']:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
