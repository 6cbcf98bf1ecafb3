#!/usr/bin/env python3
"""The README's sharing table from experiments/sharing_replicas.yaml's result set.

usage: sharing_table.py RESULTS.h5 [RESULTS.h5 ...] [--allow-missing]

Several result sets (e.g. experiments/sharing_replicas.yaml and its kernel-granular twin
experiments/sharing_replicas_kernel.yaml) give one block of rows each, labelled with the
granularity the runs used (the experiment's, a --set override's or a swept one's). For each
model and R >= 2 replicas: a shared policy's slowdown is its mean query latency over
exclusive's (one tenant batching R queries, latency L(R)); its throughput is queries
completed per second. Prints a Markdown table with geometric means over R, next to the
figures seed 003 reports (time-only 4.6x and space-only 2.2x slowdown; space-time 7.71x
and 3.23x throughput over time-only and space-only, geomean of its SGEMM benchmarks).

Each file is verified first (scripts/result_set.py, `infersim check`). A partial result set
(runs missing) is refused unless --allow-missing; then a row lacking a run at some R is
taken over the R every policy has, its label says which, and the geomean over models is
shown as —.
"""
import sys

import numpy as np

from result_set import cell, load

POLICIES = ("exclusive", "time_sliced", "mps", "space_time")


def geomean(xs):
    xs = np.asarray(list(xs), dtype=float)
    return float(np.exp(np.log(xs).mean()))


def granularity(rs):
    """The policies' granularity as the runs used it: the experiment's, unless a --set
    override or a swept value (a policy mapping, or policy.granularity) says otherwise."""
    used = {}
    for _, row in rs["summary"].iterrows():
        policy = rs.experiment(row).get("policy")
        used[(policy if isinstance(policy, dict) else {}).get("granularity", "batch")] = True
    return " and ".join(used)


def rows_of(rs):
    s = rs["summary"]
    s = s.assign(R=np.where(s["policy"] == "exclusive", s["tenants__0__arrival__n"],
                            s["tenants__0__replicas"]))
    s = s[s["R"] >= 2]
    per_model, notes = {}, {}
    # A swept profile (hardware.profile) makes one row per model and profile.
    if "hardware__profile" in s.columns:
        s = s.assign(row=s["tenants__0__model"] + ", " + s["hardware__profile"].map(
            lambda p: "roofline profile" if p == "roofline" else "measured profile"))
    else:
        s = s.assign(row=s["tenants__0__model"])
    # Means over replications, of the (row, policy, R) that lack no run: a partial result
    # set's others are left out, never averaged over fewer replications.
    by = s.groupby(["row", "policy", "R"], sort=False)
    m = by[["mean_ms", "throughput_rps"]].mean()[by.size() >= rs.replications].reset_index()
    for model, g in s.groupby("row", sort=False):
        g = m[m["row"] == model]
        every = list(dict.fromkeys(s.loc[s["row"] == model, "R"]))
        # The R at which every policy has its figures: all of them unless runs are missing.
        have = [r for r in every if g[g["R"] == r]["policy"].nunique() == len(POLICIES)]
        if len(have) < len(every):
            notes[model] = f", only R = {', '.join(str(int(r)) for r in have) or 'none'}"
        g = g[g["R"].isin(have)]
        base = g[g["policy"] == "exclusive"].set_index("R")
        out = {}
        for pol in POLICIES[1:]:
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
    return per_model, notes


def main(argv):
    allow_missing = "--allow-missing" in argv
    paths = [a for a in argv if a != "--allow-missing"]
    if not paths:
        sys.exit(__doc__)
    sets = [load(p, allow_missing=allow_missing, prog="sharing_table.py") for p in paths]
    print("| model | time-only slowdown | space-only (MPS) slowdown | space-time slowdown "
          "| space-time throughput / time-only | space-time throughput / space-only |")
    print("|---|---|---|---|---|---|")
    for rs in sets:
        per_model, notes = rows_of(rs)
        label = f" ({granularity(rs)} granularity)" if len(paths) > 1 else ""
        for model, v in per_model.items():
            print(f"| {model}{notes.get(model, '')}{label} | {cell(v[0], '.2f', 'x')} "
                  f"| {cell(v[1], '.2f', 'x')} | {cell(v[2], '.2f', 'x')} "
                  f"| {cell(v[3], '.2f', 'x')} | {cell(v[4], '.2f', 'x')} |")
        allv = list(per_model.values())
        if len(allv) > 1 and "," not in "".join(per_model):  # several models, one profile
            g = [np.nan if notes else geomean(v[i] for v in allv) for i in range(5)]
            print(f"| **geomean, {len(allv)} models{label}** | **{cell(g[0], '.2f', 'x')}** "
                  f"| **{cell(g[1], '.2f', 'x')}** | **{cell(g[2], '.2f', 'x')}** "
                  f"| **{cell(g[3], '.2f', 'x')}** | **{cell(g[4], '.2f', 'x')}** |")
    print("| seed 003 (measured) | 4.6x | 2.2x | – | 7.71x | 3.23x |")


if __name__ == "__main__":
    main(sys.argv[1:])
