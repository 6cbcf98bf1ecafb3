#!/usr/bin/env python3
"""Seed 003's Table 1 from experiments/sgemm_multiplex.yaml's result set.

usage: sgemm_table.py RESULTS.h5 [--detail] [--allow-missing]

For each SGEMM shape: space-time's throughput (problems/s) over the next best of time-only
(time_sliced) and space-only (mps) at R = 10 and R = 20, and the geometric mean over every R
in the sweep of space-time over the scheduler that is next best overall (the one with the
higher geometric-mean throughput), beside the seed's figures; then which scheduler is next
best, and the flop_util of each policy at R = 10, 20 and the largest R. With --detail, every
R's throughputs and ratio.

The seed (Table 1, "space-time scheduling throughput increases over next best approach",
R SGEMM problems queued on a V100): 1.21x / 2.14x / 2.48x (matrix-vector, next best
time-only), 1.68x / 2.88x / 3.23x (conv2_2, space-only), 2.42x / 2.47x / 4.93x (square,
space-only) at R = 10 / R = 20 / geomean over 2 <= R <= 120. A sweep of other R than
experiments/sgemm_multiplex.yaml's (2..120) names its R in the header and is not compared
with the seed's geomeans; an R = 10 or 20 it lacks is shown as —.

The file is verified first (scripts/result_set.py, `infersim check`); a partial result set
(runs missing) is refused unless --allow-missing, and then a figure that needs a missing run
is shown as —.
"""
import os
import sys

import numpy as np
import yaml

from result_set import DASH, REPO, cell, complete_means, load

SEED = {  # shape: (R=10, R=20, geomean, next best)
    "sgemm_rnn": (1.21, 2.14, 2.48, "time-only"),
    "sgemm_conv2_2": (1.68, 2.88, 3.23, "space-only"),
    "sgemm_square": (2.42, 2.47, 4.93, "space-only"),
}
NAME = {"time_sliced": "time-only", "mps": "space-only", "space_time": "space-time"}
POLICIES = ("time_sliced", "mps", "space_time")
MODEL, REPS = "tenants__0__model", "tenants__0__replicas"


def geomean(xs):
    xs = np.asarray(list(xs), dtype=float)
    return float(np.exp(np.log(xs).mean()))


def experiment_rs():
    """The R of experiments/sgemm_multiplex.yaml: the seed's 2..120, which its geomeans are
    over; a sweep of other R is not compared with them. None when the file is unreadable."""
    try:
        with open(os.path.join(REPO, "experiments", "sgemm_multiplex.yaml")) as f:
            return sorted(yaml.safe_load(f)["sweep"]["grid"]["tenants.0.replicas"])
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return None


def r_text(rs):
    """'2..120' for the experiment's R, else the values: '2, 10, 20'."""
    rs = [int(r) for r in rs]
    return ", ".join(map(str, rs)) if len(rs) <= 6 else f"{rs[0]}..{rs[-1]} ({len(rs)} values)"


def per_point(s, column, replications):
    """(shape, R) x policy: the mean of `column` over replications, NaN where a run is
    missing (a partial result set) rather than a mean over fewer."""
    means = complete_means(s, [MODEL, REPS, "policy"], column, replications)
    return means.unstack("policy").sort_index().reindex(columns=list(POLICIES))


def value(t, r, p):
    return t.loc[r, p] if r in t.index else np.nan


def main(path, detail, allow_missing):
    rs = load(path, allow_missing=allow_missing, prog="sgemm_table.py")
    s = rs["summary"]
    thr = per_point(s, "throughput_rps", rs.replications)
    util = per_point(s, "flop_util", rs.replications)
    present = sorted(set(thr.index.get_level_values(REPS)))
    full = present == experiment_rs()
    span = f"{present[0]}..{present[-1]}" if full else r_text(present)
    print(f"| problem | R = 10 | R = 20 | geomean, R = {span} | next best | seed 003: R = 10 "
          "/ 20 / geomean, next best | geomean vs seed |")
    print("|---|---|---|---|---|---|---|")
    notes = []
    for shape in ("sgemm_rnn", "sgemm_conv2_2", "sgemm_square"):
        sd = SEED[shape]
        seed = f"{sd[0]:.2f}x / {sd[1]:.2f}x / **{sd[2]:.2f}x**, {sd[3]}"
        if shape not in thr.index.get_level_values(MODEL):
            print(f"| {shape} | {DASH} | {DASH} | {DASH} | {DASH} | {seed} | {DASH} |")
            continue
        t = thr.loc[shape]
        others = t[["time_sliced", "mps"]]
        # The next best overall: the higher geometric-mean throughput over R (unknown, like
        # the geomean, when a run is missing).
        best = max(("time_sliced", "mps"), key=lambda p: geomean(t[p]))
        g = geomean(t["space_time"] / t[best])
        at = {}
        for r in (10, 20):
            if r in t.index and not t.loc[r].isna().any():
                nb = others.loc[r].idxmax()
                at[r] = f"{t.loc[r, 'space_time'] / others.loc[r].max():.2f}x (over {NAME[nb]})"
            else:
                at[r] = DASH
        vs = f"{100 * (g / sd[2] - 1):+.0f}%" if full and not np.isnan(g) else DASH
        print(f"| {shape} | {at[10]} | {at[20]} | **{cell(g, '.2f', 'x')}** "
              f"| {NAME[best] if not np.isnan(g) else DASH} | {seed} | {vs} |")
        u = util.loc[shape]
        rmax = int(t.index.max())
        notes.append(f"{shape}: flop_util at R = 10 / 20 / {rmax}: " + "; ".join(
            f"{NAME[p]} {cell(value(u, 10, p), '.3f')} / {cell(value(u, 20, p), '.3f')} / "
            f"{cell(value(u, rmax, p), '.3f')}" for p in POLICIES))
        if detail:
            for r in t.index:
                row = t.loc[r]
                nb = others.loc[r].idxmax() if not others.loc[r].isna().all() else None
                ratio = row["space_time"] / others.loc[r].max()
                notes.append(f"  R={int(r):4d} time-only {cell(row['time_sliced'], '10.0f')} "
                             f"space-only {cell(row['mps'], '10.0f')} space-time "
                             f"{cell(row['space_time'], '10.0f')}  {cell(ratio, '5.2f', 'x')} "
                             f"over {NAME[nb] if nb else DASH}")
    print()
    if not full:
        print(f"geomean vs seed: not compared: this sweep's R ({r_text(present)}) are not the "
              f"seed's 2..120 (experiments/sgemm_multiplex.yaml's R), which its geomeans are "
              f"over\n")
    for n in notes:
        print(n)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a not in ("--detail", "--allow-missing")]
    if len(args) != 1:
        sys.exit(__doc__)
    main(args[0], "--detail" in sys.argv[1:], "--allow-missing" in sys.argv[1:])
