#!/usr/bin/env bash
# The notebooks run headless on a small sweep (experiments/policy_sweep.yaml shortened to
# one simulated second and two replications) and write every figure they promise.
# Exit 77 (skipped) when jupyter nbconvert or matplotlib is not installed.
# usage: notebooks_test.sh path/to/infersim
set -eu
INFERSIM=$(realpath "$1")
cd "$(dirname "$0")/../.."
if ! /usr/bin/python3 -c "import nbconvert, matplotlib, ipykernel" 2> /dev/null; then
  echo "skipped: nbconvert, matplotlib or ipykernel missing (scripts/install-deps.sh installs them)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$INFERSIM" run experiments/policy_sweep.yaml -o "$work/small.h5" -q \
  --set duration_s=1 --set warmup_s=0.2 --set sweep.replications=2
bash notebooks/execute.sh "$work/small.h5" "$work/figures" "$work/executed"
for f in policy_slo_vs_load policy_p99_vs_load policy_goodput_per_gpu policy_latency_cdf sweep_explorer; do
  [ -s "$work/figures/$f.png" ] || { echo "FAIL: figure $f.png not written"; exit 1; }
done
# The executed notebooks hold no error output, and no warning about column names.
if grep -l '"output_type": "error"' "$work"/executed/*.ipynb; then
  echo "FAIL: a notebook cell raised"; exit 1
fi
if grep -l 'NaturalNameWarning' "$work"/executed/*.ipynb; then
  echo "FAIL: pandas warned about a column name"; exit 1
fi
echo "notebooks ok: $(ls "$work/figures" | tr '\n' ' ')"
