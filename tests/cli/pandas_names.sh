#!/usr/bin/env bash
# Swept columns are Python identifiers (issue 7, item 14): pd.read_hdf of /summary and
# /aggregate raises no warning at all (PyTables' NaturalNameWarning for a dotted name
# included; `python3 -W error`), the columns are the paths with "__" for "." (a path that is
# a fixed column gets the prefix "sweep__"), and each table's swept_paths attribute maps
# every swept column back to its dotted path.
# usage: pandas_names.sh path/to/infersim
set -eu
INFERSIM=$(realpath "$1")
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$work/exp.yaml" <<'EOF2'
name: names
seed: 2
duration_s: 1
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 100}}
sweep:
  grid:
    tenants.0.arrival.rate: [100, 200]
    policy.max_batch: [4, 8]
    seed: [2, 3]
  replications: 2
EOF2
"$INFERSIM" run "$work/exp.yaml" -o "$work/out.h5" -q > /dev/null

$PY -W error - "$work/out.h5" <<'EOF2' || fail "pandas could not read the swept columns silently"
import sys
import h5py
import pandas as pd

path = sys.argv[1]
expected = {  # column: dotted path, by hand
    "tenants__0__arrival__rate": "tenants.0.arrival.rate",
    "policy__max_batch": "policy.max_batch",
    "sweep__seed": "seed",
}
for table in ("summary", "aggregate"):
    df = pd.read_hdf(path, table)  # -W error: any warning fails
    swept = [c for c in df.columns if c in expected]
    assert swept == list(expected), f"/{table}: swept columns {swept}, expected {list(expected)}"
    assert all(c.isidentifier() for c in df.columns), f"/{table}: {list(df.columns)}"
    with h5py.File(path, "r") as f:
        text = f[table].attrs["swept_paths"]
        assert isinstance(text, str), type(text)
    paths = dict(line.split("=", 1) for line in text.splitlines() if line)
    assert paths == expected, f"/{table} swept_paths: {paths}"
print("ok   pd.read_hdf reads /summary and /aggregate without a warning:",
      ", ".join(expected))
EOF2
$PY -W error tests/python/check_results.py "$work/out.h5"
echo "all pandas name checks passed"
