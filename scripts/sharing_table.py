#!/usr/bin/env python3
"""The README's sharing table from experiments/sharing_replicas.yaml's result set.

usage: sharing_table.py RESULTS.h5

For each model and R >= 2 replicas: a shared policy's slowdown is its mean query latency
over exclusive's (one tenant batching R queries, latency L(R)); its throughput is queries
completed per second. Prints a Markdown table with geometric means over R, next to the
figures seed 003 reports (time-only 4.6x and space-only 2.2x slowdown; space-time 7.71x
and 3.23x throughput over time-only and space-only, geomean of its SGEMM benchmarks).
"""
import sys

import numpy as np
import pandas as pd


def geomean(xs):
    xs = np.asarray(list(xs), dtype=float)
    return float(np.exp(np.log(xs).mean()))


def main(path):
    s = pd.read_hdf(path, "summary")
    s["R"] = np.where(s["policy"] == "exclusive", s["tenants__0__arrival__n"], s["tenants__0__replicas"])
    s = s[s["R"] >= 2]
    rows = []
    per_model = {}
    for model, g in s.groupby("tenants__0__model"):
        base = g[g["policy"] == "exclusive"].set_index("R")
        out = {}
        for pol in ("time_sliced", "mps", "space_time"):
            p = g[g["policy"] == pol].set_index("R")
            common = p.index.intersection(base.index)
            out[pol] = {
                "slowdown": geomean(p.loc[common, "mean_ms"] / base.loc[common, "mean_ms"]),
                "thru": p.loc[common, "throughput_rps"],
            }
        st = out["space_time"]["thru"]
        per_model[model] = (
            out["time_sliced"]["slowdown"],
            out["mps"]["slowdown"],
            out["space_time"]["slowdown"],
            geomean(st / out["time_sliced"]["thru"]),
            geomean(st / out["mps"]["thru"]),
        )
    print("| model | time-only slowdown | space-only (MPS) slowdown | space-time slowdown "
          "| space-time throughput / time-only | space-time throughput / space-only |")
    print("|---|---|---|---|---|---|")
    for model, v in per_model.items():
        print(f"| {model} | {v[0]:.2f}x | {v[1]:.2f}x | {v[2]:.2f}x | {v[3]:.2f}x | {v[4]:.2f}x |")
    allv = list(per_model.values())
    g = [geomean(v[i] for v in allv) for i in range(5)]
    print(f"| **geomean, both models** | **{g[0]:.2f}x** | **{g[1]:.2f}x** | **{g[2]:.2f}x** "
          f"| **{g[3]:.2f}x** | **{g[4]:.2f}x** |")
    print("| seed 003 | 4.6x | 2.2x | – | 7.71x | 3.23x |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
