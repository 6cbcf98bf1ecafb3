#!/usr/bin/env bash
# Swept columns are Python identifiers (issue 7, item 14): pd.read_hdf of /summary and
# /aggregate raises no warning at all (PyTables' NaturalNameWarning for a dotted name
# included; `python3 -W error`), the columns are the paths with "__" for "." (a path that is
# a fixed column gets the prefix "sweep__"), and each table's swept_paths attribute maps
# every swept column back to its dotted path. /points holds each point's experiment.
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

# /points: each point's experiment as its runs simulated it, every --set and swept value
# applied. 2 x 2 x 2 = 8 points of 2 replications; run r is point r // 2. The grid's last
# key varies fastest, so point 5 = rate index 1 (200), max_batch index 0 (4), seed index 1
# (3); the --set gives every point slo_ms 40.
"$INFERSIM" run "$work/exp.yaml" -o "$work/set.h5" -q --set tenants.0.slo_ms=40 > /dev/null
INFERSIM="$INFERSIM" $PY -W error - "$work/set.h5" <<'EOF2' || fail "/points"
import sys
import pandas as pd
import yaml
sys.path.insert(0, "scripts")
from result_set import load

path = sys.argv[1]
points = pd.read_hdf(path, "points")
assert list(points["point"]) == list(range(8)), list(points["point"])
x = yaml.safe_load(points["effective_yaml"][5])
got = (x["tenants"][0]["arrival"]["rate"], x["policy"]["max_batch"], x["seed"],
       x["tenants"][0]["slo_ms"])
assert got == (200, 4, 3, 40), got
assert "sweep" not in x, sorted(x)
rs = load(path)
s = rs["summary"]
for _, row in s.iterrows():  # the loader hands each run its point's experiment
    x = rs.experiment(row)
    assert x["tenants"][0]["arrival"]["rate"] == row["tenants__0__arrival__rate"], row["run"]
    assert x["policy"]["max_batch"] == row["policy__max_batch"], row["run"]
    assert x["seed"] == row["sweep__seed"] and x["tenants"][0]["slo_ms"] == 40, row["run"]
print("ok   /points holds each point's experiment, --set and swept values applied")
EOF2
echo "all pandas name checks passed"
