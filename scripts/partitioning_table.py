#!/usr/bin/env python3
"""The README's partitioning table and figure from experiments/partitioning.yaml's results.

usage: partitioning_table.py RESULTS.h5 [--svg FIGURE.svg] [--allow-missing]

Per partitioning (policy row) and offered load (each tenant's rate), means over the
replications, one table per metric with a column per load: SLO attainment of all requests,
goodput (requests that met their SLO per second, the run's one GPU), the steady tenants'
worst isolation (p99 beside the neighbours over p99 alone on the same trace; 1.00 =
perfectly isolated) and the bursting tenant's p99. With --svg, SLO attainment and
isolation against load. The file is verified first (scripts/result_set.py, `infersim
check`); a partial result set (runs missing) is refused unless --allow-missing, and then a
mean that lacks a replication is shown as —, not taken over fewer.
"""
import sys

import pandas as pd

from result_set import DASH, complete_means, load


def label(row):
    """A short name for a policy row: 'mig 3g+2g+2g (mps)', 'mps cap 12.12%', ..."""
    text = str(row["sweep__policy"])
    cap = row["tenants__0__active_thread_percentage"]
    name = row["policy"]
    if name == "mig":
        inside = text.split("instances: [")[1].split("]")[0].split(", ")
        counts = {}
        for p in inside:
            counts[p.split(".")[0]] = counts.get(p.split(".")[0], 0) + 1
        shape = "+".join(f"{n}x{k}" if n > 1 else k for k, n in counts.items())
        inner = text.split("inner: ")[1].split(",")[0].split("}")[0] if "inner:" in text else ""
        return f"mig {shape}" + (f" ({inner})" if inner else "")
    if name == "mps":
        return "mps" if cap >= 100 else f"mps cap {cap:g}%"
    return name


def table(path, allow_missing=False):
    rs = load(path, ("summary", "tenants"), allow_missing=allow_missing,
              prog="partitioning_table.py")
    s, t = rs["summary"], rs["tenants"]
    t["name"] = t["name"].astype(str)
    s["row"] = s.apply(label, axis=1)
    s["load"] = s["tenants__0__arrival__rate"]
    steady = t[t["name"] != "burst"].groupby("run")["isolation"].max().rename("steady_isolation")
    burst = t[t["name"] == "burst"].set_index("run")["p99_ms"].rename("burst_p99_ms")
    s = s.join(steady, on="run").join(burst, on="run")
    order = list(dict.fromkeys(s["row"]))
    # Means over replications; NaN (shown as —) where one is missing, not a mean over fewer.
    metrics = ["slo_attainment", "goodput_rps", "steady_isolation", "burst_p99_ms", "p99_ms"]
    agg = complete_means(s, ["row", "load"], metrics, rs.replications).reset_index()
    agg["row"] = pd.Categorical(agg["row"], order)
    return agg.sort_values(["row", "load"])


def main(argv):
    allow_missing = "--allow-missing" in argv
    argv = [a for a in argv if a != "--allow-missing"]
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--svg"):
        sys.exit(__doc__)
    agg = table(argv[1], allow_missing)
    loads = sorted(agg["load"].unique())
    metrics = [("SLO attainment (25 ms)", "slo_attainment", "{:.3f}"),
               ("goodput, req/s", "goodput_rps", "{:.0f}"),
               ("steady tenants' worst p99 / p99 alone", "steady_isolation", "{:.2f}"),
               ("bursting tenant's p99, ms", "burst_p99_ms", "{:.0f}")]
    for title, col, fmt in metrics:
        print(f"{title}, by each tenant's rate (req/s; 7 tenants):\n")
        print("| partitioning | " + " | ".join(f"{l:.0f}" for l in loads) + " |")
        print("|---|" + "---|" * len(loads))
        for row, g in agg.groupby("row", sort=False, observed=True):
            at = [g[g["load"] == l][col] for l in loads]  # none: every replication missing
            cells = [DASH if a.empty or pd.isna(a.iloc[0]) else fmt.format(a.iloc[0]) for a in at]
            print(f"| {row} | " + " | ".join(cells) + " |")
        print()
    if len(argv) == 4:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.rcParams["svg.hashsalt"] = "infersim"  # reproducible SVG ids
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
        for row, g in agg.groupby("row", sort=False, observed=True):
            style = "-" if row.startswith("mig") else "--"
            a.plot(g["load"] * 7, g["slo_attainment"], style, marker="o", label=row)
            b.plot(g["load"] * 7, g["steady_isolation"], style, marker="o", label=row)
        a.set_xlabel("offered load, 7 tenants (req/s)")
        a.set_ylabel("SLO attainment (25 ms)")
        b.set_xlabel("offered load, 7 tenants (req/s)")
        b.set_ylabel("steady tenants' worst p99 / p99 alone")
        b.set_yscale("log")
        b.axhline(1.0, color="grey", linewidth=0.5)
        a.legend(fontsize=7)
        fig.suptitle("H100 (roofline), ResNet-50 x3, DenseNet-121 x2, ResNeXt-50, bursting "
                     "ResNeXt-50")
        fig.tight_layout()
        fig.savefig(argv[3], metadata={"Date": None})


if __name__ == "__main__":
    main(sys.argv)
