#!/usr/bin/env python3
"""Check infersim result files with the readers a notebook would use.

usage: check_results.py PATH [PATH...]

For each file: /summary, /tenants and /gpus must be readable both as
``pd.DataFrame(h5py.File(path)["summary"][:])`` and as ``pd.read_hdf(path, "summary")``,
with the same columns and more than zero rows, and pd.read_hdf must raise no warning (every
column name is a Python identifier); every swept column of /summary and /aggregate must be
named in the table's ``swept_paths`` attribute (column=dotted.path lines), the column being
the path with "__" for "."; the root attributes experiment_yaml,
infersim_version, git_revision and created_utc must be Python ``str``; every
/runs/<run>/requests dataset must have exactly the seven per-request columns.
Prints one line per file and exits 1 if anything is wrong (2 on bad usage).
Needs only the standard library, numpy, h5py and pandas (+ PyTables for pd.read_hdf).
"""

import sys
import warnings

import h5py
import numpy as np
import pandas as pd

TABLES = ("summary", "tenants", "gpus", "aggregate")
ROOT_ATTRS = ("experiment_yaml", "infersim_version", "git_revision", "created_utc")
REQUEST_COLUMNS = ("tenant", "gpu", "arrival_ns", "start_ns", "end_ns", "batch", "status")


def check_table(path, f, name, problems):
    """Reads /<name> with h5py and with pd.read_hdf; records problems."""
    if name not in f:
        if name != "aggregate":  # only with two or more replications
            problems.append(f"/{name}: missing")
        return
    try:
        df_h5py = pd.DataFrame(f[name][:])
    except Exception as e:  # noqa: BLE001 - any failure is a finding
        problems.append(f"/{name}: pd.DataFrame(h5py[...][:]) failed: {type(e).__name__}: {e}")
        df_h5py = None
    try:
        with warnings.catch_warnings():
            # A column name that is not a Python identifier makes PyTables warn
            # (NaturalNameWarning): every warning is an error here.
            warnings.simplefilter("error")
            df_pandas = pd.read_hdf(path, name)
    except Exception as e:  # noqa: BLE001
        problems.append(f"/{name}: pd.read_hdf failed: {type(e).__name__}: {e}")
        df_pandas = None
    for label, df in (("h5py", df_h5py), ("pd.read_hdf", df_pandas)):
        if df is not None and len(df) == 0:
            problems.append(f"/{name}: no rows ({label})")
    if df_h5py is not None and df_pandas is not None:
        if list(df_h5py.columns) != list(df_pandas.columns):
            problems.append(
                f"/{name}: columns differ between h5py {list(df_h5py.columns)} "
                f"and pd.read_hdf {list(df_pandas.columns)}")
        if len(df_h5py) != len(df_pandas):
            problems.append(
                f"/{name}: row counts differ: h5py {len(df_h5py)}, pd.read_hdf {len(df_pandas)}")


def check_swept_paths(f, name, problems):
    """The swept columns of /<name> are identifiers, each named in its swept_paths attribute."""
    if name not in f or name in ("tenants", "gpus"):  # per-run rows, no swept columns
        return
    swept = [c for c in str(f.attrs.get("swept_columns", "")).split("\n") if c]
    text = f[name].attrs.get("swept_paths")
    if text is None:
        problems.append(f"/{name}: no swept_paths attribute")
        return
    if not isinstance(text, str):
        problems.append(f"/{name}: swept_paths is {type(text).__name__}, expected str")
        return
    paths = dict(line.split("=", 1) for line in text.split("\n") if line)
    if sorted(paths) != sorted(swept):
        problems.append(f"/{name}: swept_paths names {sorted(paths)}, swept columns {swept}")
    for column, dotted in paths.items():
        if column not in f[name].dtype.names:
            problems.append(f"/{name}: swept column {column!r} missing")
        if not column.isidentifier() or column.removeprefix("sweep__").replace("__", ".") != dotted:
            problems.append(f"/{name}: column {column!r} does not name path {dotted!r}")


def check_file(path):
    """Returns a list of problems (empty when the file is fine) and a short summary."""
    problems = []
    try:
        f = h5py.File(path, "r")
    except Exception as e:  # noqa: BLE001
        return [f"cannot open with h5py: {type(e).__name__}: {e}"], ""
    with f:
        for name in TABLES:
            check_table(path, f, name, problems)
            check_swept_paths(f, name, problems)
        for attr in ROOT_ATTRS:
            if attr not in f.attrs:
                problems.append(f"root attribute {attr!r}: missing")
                continue
            value = f.attrs[attr]
            if not isinstance(value, str):
                problems.append(
                    f"root attribute {attr!r}: is {type(value).__name__}, expected str")
        nreq = 0
        if "runs" in f:
            runs = f["runs"]
            if not isinstance(runs, h5py.Group):
                problems.append("/runs: not a group")
            else:
                for run in runs:
                    node = runs[run]
                    if not isinstance(node, h5py.Group) or "requests" not in node:
                        continue
                    ds = node["requests"]
                    where = f"/runs/{run}/requests"
                    if not isinstance(ds, h5py.Dataset) or ds.dtype.names is None:
                        problems.append(f"{where}: not a compound dataset")
                        continue
                    names = tuple(ds.dtype.names)
                    if sorted(names) != sorted(REQUEST_COLUMNS):
                        problems.append(
                            f"{where}: columns {list(names)}, expected {list(REQUEST_COLUMNS)}")
                    elif ds.ndim != 1:
                        problems.append(f"{where}: {ds.ndim}-D, expected 1-D")
                    else:
                        # Reading a few rows proves the chunks decompress.
                        head = ds[: min(ds.shape[0], 16)]
                        if not all(np.issubdtype(head.dtype[c], np.integer)
                                   for c in REQUEST_COLUMNS):
                            problems.append(f"{where}: non-integer columns")
                        nreq += 1
        summary = f"{nreq} request dataset(s)"
    return problems, summary


def main(argv):
    if len(argv) < 2 or any(a in ("-h", "--help") for a in argv[1:]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = 0
    for path in argv[1:]:
        problems, summary = check_file(path)
        if problems:
            failed += 1
            print(f"FAIL {path}", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
        else:
            print(f"ok   {path} ({summary})")
    if failed:
        print(f"check_results: {failed} of {len(argv) - 1} file(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
