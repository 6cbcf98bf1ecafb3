#!/usr/bin/env python3
"""Seed 003's Table 1 from experiments/sgemm_multiplex.yaml's result set.

usage: sgemm_table.py RESULTS.h5 [--detail]

For each SGEMM shape: space-time's throughput (problems/s) over the next best of time-only
(time_sliced) and space-only (mps) at R = 10 and R = 20, and the geometric mean over every R
in the sweep of space-time over the scheduler that is next best overall (the one with the
higher geometric-mean throughput), beside the seed's figures; then which scheduler is next
best, and the flop_util of each policy at R = 10, 20 and the largest R. With --detail, every
R's throughputs and ratio.

The seed (Table 1, "space-time scheduling throughput increases over next best approach",
R SGEMM problems queued on a V100): 1.21x / 2.14x / 2.48x (matrix-vector, next best
time-only), 1.68x / 2.88x / 3.23x (conv2_2, space-only), 2.42x / 2.47x / 4.93x (square,
space-only) at R = 10 / R = 20 / geomean over 2 <= R <= 120.
"""
import sys

import numpy as np
import pandas as pd

SEED = {  # shape: (R=10, R=20, geomean, next best)
    "sgemm_rnn": (1.21, 2.14, 2.48, "time-only"),
    "sgemm_conv2_2": (1.68, 2.88, 3.23, "space-only"),
    "sgemm_square": (2.42, 2.47, 4.93, "space-only"),
}
NAME = {"time_sliced": "time-only", "mps": "space-only", "space_time": "space-time"}


def geomean(xs):
    xs = np.asarray(list(xs), dtype=float)
    return float(np.exp(np.log(xs).mean()))


def main(path, detail):
    s = pd.read_hdf(path, "summary")
    model, reps = "tenants__0__model", "tenants__0__replicas"
    thr = s.pivot_table(index=[model, reps], columns="policy", values="throughput_rps")
    util = s.pivot_table(index=[model, reps], columns="policy", values="flop_util")
    print("| problem | R = 10 | R = 20 | geomean, R = 2..120 | next best | seed 003: R = 10 / 20 / "
          "geomean, next best | geomean vs seed |")
    print("|---|---|---|---|---|---|---|")
    notes = []
    for shape in ("sgemm_rnn", "sgemm_conv2_2", "sgemm_square"):
        t = thr.loc[shape]
        others = t[["time_sliced", "mps"]]
        # The next best overall: the higher geometric-mean throughput over R.
        best = max(("time_sliced", "mps"), key=lambda p: geomean(t[p]))
        at = {}
        for r in (10, 20):
            nb = others.loc[r].idxmax()
            at[r] = (t.loc[r, "space_time"] / others.loc[r].max(), NAME[nb])
        g = geomean(t["space_time"] / t[best])
        sd = SEED[shape]
        print(f"| {shape} | {at[10][0]:.2f}x (over {at[10][1]}) | {at[20][0]:.2f}x (over {at[20][1]}) "
              f"| **{g:.2f}x** | {NAME[best]} | {sd[0]:.2f}x / {sd[1]:.2f}x / **{sd[2]:.2f}x**, "
              f"{sd[3]} | {100 * (g / sd[2] - 1):+.0f}% |")
        u = util.loc[shape]
        rmax = int(t.index.max())
        notes.append(f"{shape}: flop_util at R = 10 / 20 / {rmax}: " + "; ".join(
            f"{NAME[p]} {u.loc[10, p]:.3f} / {u.loc[20, p]:.3f} / {u.loc[rmax, p]:.3f}"
            for p in ("time_sliced", "mps", "space_time")))
        if detail:
            for r in t.index:
                nb = others.loc[r].idxmax()
                notes.append(f"  R={int(r):4d} time-only {t.loc[r, 'time_sliced']:10.0f} "
                             f"space-only {t.loc[r, 'mps']:10.0f} space-time "
                             f"{t.loc[r, 'space_time']:10.0f}  {t.loc[r, 'space_time'] / others.loc[r].max():5.2f}x "
                             f"over {NAME[nb]}")
    print()
    for n in notes:
        print(n)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--detail"]
    if len(args) != 1:
        sys.exit(__doc__)
    main(args[0], "--detail" in sys.argv[1:])
