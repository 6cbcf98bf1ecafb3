#!/usr/bin/env python3
"""The README's sharing table from experiments/sharing_replicas.yaml's result set.

usage: sharing_table.py RESULTS.h5 [RESULTS.h5 ...]

Several result sets (e.g. experiments/sharing_replicas.yaml and its kernel-granular twin
experiments/sharing_replicas_kernel.yaml) give one block of rows each, labelled with the
policies' granularity. For each model and R >= 2 replicas: a shared policy's slowdown is its mean query latency
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


def granularity(path):
    """The policies' granularity in the experiment the result set was run from."""
    import h5py
    import yaml

    with h5py.File(path, "r") as f:
        text = f.attrs["experiment_yaml"]
    text = text.decode() if isinstance(text, bytes) else str(text)
    return (yaml.safe_load(text).get("policy") or {}).get("granularity", "batch")


def rows_of(path):
    s = pd.read_hdf(path, "summary")
    s["R"] = np.where(s["policy"] == "exclusive", s["tenants__0__arrival__n"], s["tenants__0__replicas"])
    s = s[s["R"] >= 2]
    rows = []
    per_model = {}
    # A swept profile (hardware.profile) makes one row per model and profile.
    if "hardware__profile" in s.columns:
        s = s.assign(row=s["tenants__0__model"] + ", " + s["hardware__profile"].map(
            lambda p: "roofline profile" if p == "roofline" else "measured profile"))
    else:
        s = s.assign(row=s["tenants__0__model"])
    for model, g in s.groupby("row", sort=False):
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
    return per_model


def main(paths):
    print("| model | time-only slowdown | space-only (MPS) slowdown | space-time slowdown "
          "| space-time throughput / time-only | space-time throughput / space-only |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        per_model = rows_of(path)
        label = f" ({granularity(path)} granularity)" if len(paths) > 1 else ""
        for model, v in per_model.items():
            print(f"| {model}{label} | {v[0]:.2f}x | {v[1]:.2f}x | {v[2]:.2f}x | {v[3]:.2f}x "
                  f"| {v[4]:.2f}x |")
        allv = list(per_model.values())
        if len(allv) > 1 and "," not in "".join(per_model):  # several models, one profile
            g = [geomean(v[i] for v in allv) for i in range(5)]
            print(f"| **geomean, {len(allv)} models{label}** | **{g[0]:.2f}x** | **{g[1]:.2f}x** "
                  f"| **{g[2]:.2f}x** | **{g[3]:.2f}x** | **{g[4]:.2f}x** |")
    print("| seed 003 (measured) | 4.6x | 2.2x | – | 7.71x | 3.23x |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
