"""Opens an infersim result set for the scripts and notebooks, verified first.

    from result_set import load
    rs = load(path, ("summary", "tenants"), allow_missing=False, prog="sharing_table.py")
    rs["summary"]           # pandas DataFrames, read with pd.read_hdf
    rs.attrs["overrides"]   # root attributes, as str
    rs.experiment(row)      # the experiment a run used: its YAML, --set overrides, swept values

Before pandas reads the file, `infersim check` verifies it (its HDF5 metadata checksums and
its content checksum, the one a flipped byte in an attribute's text would otherwise slip
past) and that it lacks no run of its sweep (`runs_missing`, written by `merge
--allow-missing`; allowed with allow_missing). The binary is $INFERSIM, else build/infersim
of this repository; without one the file is read unverified, with a warning on stderr.

A file that fails (missing, truncated, not HDF5, not a result set, damaged, partial) is one
line: with `prog` (a script) "prog: FILE: what is wrong" on stderr and exit status 2, no
traceback; without (a notebook) a ResultSetError with that line.
"""
import copy
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DASH = "—"  # a figure that cannot be given (a run missing, nothing measured)
_warned_unverified = False


class ResultSetError(Exception):
    """A result set that cannot be read as one; str() is one line naming the file."""


def _fail(prog, message):
    if prog:
        print(f"{prog}: {message}", file=sys.stderr)
        sys.exit(2)
    raise ResultSetError(message)


def _say(prog, message):
    print(f"{prog or 'result_set'}: {message}", file=sys.stderr)


def infersim_binary(prog=None):
    """$INFERSIM (which must then be a program), else build/infersim here, else None."""
    given = os.environ.get("INFERSIM")
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            _fail(prog, f"INFERSIM={given} is not an executable infersim")
        return given
    built = os.path.join(REPO, "build", "infersim")
    return built if os.access(built, os.X_OK) else None


def _read_unverified(prog, path, why):
    global _warned_unverified
    if not _warned_unverified:
        _say(prog, f"warning: {why}; reading {path} without verifying it")
        _warned_unverified = True


def verify(path, allow_missing=False, prog=None):
    """Runs `infersim check` on the file; on failure, _fail with its line."""
    if not os.path.exists(path):
        _fail(prog, f"{path}: no such file")
    binary = infersim_binary(prog)
    if binary is None:
        _read_unverified(prog, path, "no infersim binary ($INFERSIM, or build/infersim)")
        return
    arg = path if not path.startswith("-") else os.path.join(".", path)
    cmd = [binary, "check", arg] + (["--allow-missing"] if allow_missing else [])
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    except OSError as e:
        _fail(prog, f"{path}: cannot run {binary} check: {e}")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    if r.returncode != 0 and any("unknown command 'check'" in l for l in lines):
        _read_unverified(prog, path, f"{binary} is older than `infersim check`")
        return
    for line in lines if r.returncode == 0 else []:  # e.g. no content checksum (older file)
        _say(prog, re.sub(r"^infersim: ", "", line))
    if r.returncode != 0:
        line = lines[-1] if lines else f"{binary} check exited with status {r.returncode}"
        _fail(prog, re.sub(r"^infersim: ", "", line))


def _text(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _set_path(tree, path, value):
    """Sets dotted `path` ("tenants.0.arrival.rate") of a YAML tree, as --set does."""
    parts = path.split(".")
    node = tree
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            key = int(part)
            if key >= len(node):
                return
        elif isinstance(node, dict):
            key = part
            if not last and not isinstance(node.get(key), (dict, list)):
                node[key] = {}
        else:
            return
        if last:
            node[key] = value
        else:
            node = node[key]


def _overrides(text):
    """[(path, value text)] of the root attribute `overrides`: one `path=value` a line, and
    a value that spans lines continues on the lines that do not start a new `path=`."""
    out = []
    for line in text.split("\n"):
        m = re.match(r"^([^\s=]+)=(.*)$", line)
        if m:
            out.append([m.group(1), m.group(2)])
        elif out and line:
            out[-1][1] += "\n" + line
    return out


def _plain(v):
    """A table cell as the YAML value it was swept as."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str) and v[:1] in ("{", "["):
        import yaml
        return yaml.safe_load(v)
    return v


class ResultSet:
    """The tables and root attributes of one verified result set."""

    def __init__(self, path, tables, attrs, table_attrs, request_runs):
        self.path = path
        self.tables = tables
        self.attrs = attrs
        # Swept columns (Python identifiers: tenants__0__arrival__rate) -> dotted paths.
        paths = table_attrs.get("summary", {}).get("swept_paths", attrs.get("swept_paths", ""))
        self.path_of = dict(line.split("=", 1) for line in paths.split("\n") if "=" in line)
        self.swept = [c for c in attrs.get("swept_columns", "").split("\n") if c]
        self.request_runs = request_runs
        self.missing = int(attrs.get("runs_missing", "0") or 0)
        self.total = int(attrs.get("runs_total", "0") or 0)
        self.replications = int(attrs.get("replications", "1") or 1)
        self._experiment = None
        self.points = None  # {point: its experiment as YAML text}, from /points when present

    def __getitem__(self, name):
        return self.tables[name]

    def experiment(self, row=None):
        """The experiment as a run used it. Given a /summary row of a result set that has
        /points (infersim writes each point's experiment there, every --set and swept value
        applied), that point's; otherwise rebuilt here: the YAML text as written, the --set
        overrides applied, then the row's swept values (result sets of older infersims)."""
        if row is not None and self.points is not None and "run" in row:
            import yaml
            point = int(row["run"]) // self.replications  # run = point x replications + rep
            if point in self.points:
                return yaml.safe_load(self.points[point]) or {}
        if self._experiment is None:
            import yaml
            x = yaml.safe_load(self.attrs.get("experiment_yaml", "")) or {}
            for path, value in _overrides(self.attrs.get("overrides", "")):
                _set_path(x, path, yaml.safe_load(value))
            self._experiment = x
        x = copy.deepcopy(self._experiment)
        if row is not None:
            for column, path in self.path_of.items():
                if column in row:
                    _set_path(x, path, _plain(row[column]))
        return x


def load(path, tables=("summary",), optional=(), allow_missing=False, prog=None):
    """Verifies `path` (verify()) and reads its `tables` (each must be there) and
    `optional` ones (None when absent) with pandas, and its root attributes. Fixed-length
    strings come back as str. With runs missing (allowed), says how many on stderr."""
    verify(path, allow_missing, prog)
    try:
        import h5py
        with h5py.File(path, "r") as f:
            attrs = {k: _text(v) for k, v in f.attrs.items()}
            table_attrs = {t: {k: _text(v) for k, v in f[t].attrs.items()}
                           for t in list(tables) + list(optional) if t in f}
            request_runs = sorted(int(r) for r in f["runs"]) if "runs" in f else []
            # /points (2026-11-27 on): each point's experiment as its runs simulated it.
            points = ({int(p): _text(y) for p, y in zip(f["points"]["point"],
                                                        f["points"]["effective_yaml"])}
                      if "points" in f else None)
        absent = [t for t in tables if t not in table_attrs]
        if absent:
            raise ResultSetError(f"{path}: has no table {', '.join('/' + t for t in absent)}")
        frames = {}
        for t in list(tables) + list(optional):
            if t not in table_attrs:
                frames[t] = None
                continue
            df = pd.read_hdf(path, t)
            for c in df.columns:
                if df[c].dtype == object and len(df) and isinstance(df[c].iloc[0], bytes):
                    df[c] = df[c].str.decode("utf-8")
            frames[t] = df
    except ResultSetError as e:
        _fail(prog, str(e))
    except Exception as e:  # read unverified (no binary): HDF5, PyTables or pandas errors
        _fail(prog, f"{path}: cannot read it as a result set: {' '.join(str(e).split())}")
    rs = ResultSet(path, frames, attrs, table_attrs, request_runs)
    rs.points = points
    if rs.missing:
        _say(prog, f"warning: {path} lacks {rs.missing} of {rs.total} runs (a partial result "
                   f"set, read with --allow-missing): a figure that needs a missing run is {DASH} "
                   "or says what it covers")
    return rs


def complete_means(df, keys, columns, replications):
    """Means of `columns` per `keys` over replications, NaN where a group has fewer than
    `replications` runs (a partial result set): never a mean over fewer, unsaid."""
    g = df.groupby(keys, sort=False)
    means = g[columns].mean()
    means.loc[g.size() < replications] = np.nan
    return means


def cell(value, spec, suffix=""):
    """format(value, spec) + suffix, or DASH for NaN / None."""
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return DASH
    return format(value, spec) + suffix
