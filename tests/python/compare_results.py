#!/usr/bin/env python3
"""Check that infersim result sets hold the same results.

usage: compare_results.py [--ignore COLUMN ...] REFERENCE.h5 OTHER.h5 [OTHER.h5 ...]

Every file must be readable with pandas (pd.read_hdf(path, "summary"), and "aggregate"
when the reference has one) and h5py. Against the reference, each other file must have
byte-identical /summary, /tenants, /aggregate and /runs/<run>/requests datasets, except
the summary's wall_s column (the wall-clock time of a run), which is zeroed first, and
any column named with --ignore (with its /aggregate _mean and _ci95; e.g. `events`, to
compare a build that handles the same simulation with fewer engine events).
Prints one line per file; exits 1 on any difference.
"""

import sys
import warnings

import h5py
import numpy as np
import pandas as pd

TABLES = ("summary", "tenants", "gpus", "aggregate")


IGNORED = ["wall_s"]


def datasets(path):
    """{name: numpy structured array} of the tables and request datasets of a file."""
    out = {}
    with h5py.File(path, "r") as f:
        for name in TABLES:
            if name in f:
                a = f[name][:]
                for column in a.dtype.names or ():
                    # An ignored column, and in /aggregate its _mean and _ci95.
                    if column in IGNORED or column.rsplit("_", 1)[0] in IGNORED:
                        a[column] = 0
                out[name] = a
        if "runs" in f:
            for run in f["runs"]:
                out[f"runs/{run}/requests"] = f["runs"][run]["requests"][:]
    return out


def read_with_pandas(path, want_aggregate):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. NaturalNameWarning for a non-identifier column
        summary = pd.read_hdf(path, "summary")
        assert len(summary) > 0, f"{path}: empty /summary"
        assert "wall_s" in summary.columns and "run" in summary.columns
        assert list(summary["run"]) == sorted(summary["run"]), f"{path}: runs out of order"
        if want_aggregate:
            agg = pd.read_hdf(path, "aggregate")
            assert len(agg) > 0, f"{path}: empty /aggregate"
            assert "p99_ms_mean" in agg.columns and "p99_ms_ci95" in agg.columns
            assert (agg["replications"] >= 2).all()
            # The half-width of a 95% interval is non-negative wherever it is defined.
            ci = agg["p99_ms_ci95"].dropna()
            assert (ci >= 0).all(), f"{path}: negative ci95"
    return len(summary)


def main(argv):
    argv = list(argv)
    while len(argv) > 2 and argv[1] == "--ignore":
        IGNORED.append(argv[2])
        del argv[1:3]
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ref_path, others = argv[1], argv[2:]
    ref = datasets(ref_path)
    want_agg = "aggregate" in ref
    rows = read_with_pandas(ref_path, want_agg)
    print(f"ok   {ref_path}: {rows} runs, datasets {sorted(ref)[:4]}{'...' if len(ref) > 4 else ''}")
    failed = 0
    for path in others:
        problems = []
        try:
            read_with_pandas(path, want_agg)
            other = datasets(path)
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            problems.append(f"cannot read: {type(e).__name__}: {e}")
            other = {}
        if other:
            if sorted(other) != sorted(ref):
                problems.append(f"datasets differ: {sorted(set(ref) ^ set(other))[:6]}")
            for name in sorted(set(ref) & set(other)):
                a, b = ref[name], other[name]
                if a.dtype != b.dtype:
                    problems.append(f"/{name}: columns differ: {a.dtype.names} vs {b.dtype.names}")
                elif a.tobytes() != b.tobytes():
                    rows_differ = int(np.sum(a != b)) if a.shape == b.shape else "all"
                    problems.append(f"/{name}: {rows_differ} of {len(a)} rows differ")
        if problems:
            failed += 1
            print(f"FAIL {path}", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
        else:
            print(f"ok   {path}: identical to {ref_path} (but {', '.join(IGNORED)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
