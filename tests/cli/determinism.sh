#!/usr/bin/env bash
# The same experiment and seed give identical /summary bytes across two runs (every
# column but wall_s, the run's wall-clock time, which is zeroed before comparing), and
# the result files read with h5py and pandas (tests/python/check_results.py).
# usage: determinism.sh path/to/infersim
set -eu
. "$(dirname "$0")/lib.sh"
for i in 1 2; do
  "$INFERSIM" run experiments/quickstart.yaml -o "$work/run$i.h5" -q \
    --set duration_s=20 --set output.requests=true > /dev/null
done
/usr/bin/python3 - "$work/run1.h5" "$work/run2.h5" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
for name in ("summary", "tenants", "gpus", "runs/0/requests"):
    x, y = a[name][:], b[name][:]
    if "wall_s" in x.dtype.names:
        x["wall_s"] = 0
        y["wall_s"] = 0
    assert x.dtype == y.dtype, name
    assert x.tobytes() == y.tobytes(), f"/{name} differs between two runs of one seed"
    print(f"/{name}: {len(x)} rows, {x.nbytes} bytes identical")
PY
/usr/bin/python3 tests/python/check_results.py "$work/run1.h5"
