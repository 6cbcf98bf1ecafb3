#!/usr/bin/env python3
"""The README's isolation table from experiments/isolation.yaml's result set.

usage: isolation_table.py RESULTS.h5 [--allow-missing]

Per policy and burst rate: the bursty tenant's p99, the steady tenants' worst p99 with
the burst over their p99 alone on the same trace, SLO attainment and Jain's index, and a
column for each other swept parameter (none in isolation.yaml). The burst rate is the
swept tenants.0.arrival.rate, or the run's own (a single run, or a sweep that does not vary
it); a figure with nothing to measure (a tenant without a completed request) is shown as —.
The file is verified first (scripts/result_set.py, `infersim check`); a partial result set
(runs missing) is refused unless --allow-missing.
"""
import sys

from result_set import cell, load


def main(path, allow_missing):
    rs = load(path, ("summary", "tenants"), allow_missing=allow_missing, prog="isolation_table.py")
    s = rs["summary"].set_index("run")
    t = rs["tenants"]
    t["name"] = t["name"].astype(str)
    other = [c for c in rs.swept if c not in ("policy__name", "tenants__0__arrival__rate")]
    print("| policy | burst rate (req/s) | bursty p99 ms | steady p99 ms (alone) "
          "| steady worst p99 / alone | SLO attainment | Jain |"
          + "".join(f" {rs.path_of.get(c, c)} |" for c in other))
    print("|---|---|---|---|---|---|---|" + "---|" * len(other))
    for run, g in t.groupby("run"):
        row = s.loc[run]
        if "tenants__0__arrival__rate" in s.columns:
            rate = row["tenants__0__arrival__rate"]
        else:  # not swept: the rate the run used
            rate = rs.experiment(row)["tenants"][0]["arrival"].get("rate", float("nan"))
        bursty = g[g["name"] == "bursty"].iloc[0]
        steady = g[g["name"] != "bursty"]
        # The steady tenant isolated worst; NaN (no completion alone or beside) when none has
        # an isolation figure.
        worst = steady.loc[steady["isolation"].idxmax()] if steady["isolation"].notna().any() \
            else steady.iloc[0]
        print(f"| {row['policy']} | {cell(rate, '.0f')} | {cell(bursty['p99_ms'], '.1f')} "
              f"| {cell(worst['p99_ms'], '.1f')} ({cell(worst['p99_alone_ms'], '.1f')}) "
              f"| {cell(worst['isolation'], '.2f', 'x')} | {cell(row['slo_attainment'], '.3f')} "
              f"| {cell(row['jain_fairness'], '.2f')} |" + "".join(f" {row[c]} |" for c in other))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--allow-missing"]
    if len(args) != 1:
        sys.exit(__doc__)
    main(args[0], "--allow-missing" in sys.argv[1:])
