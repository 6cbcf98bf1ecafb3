#!/usr/bin/env bash
# The notebooks run headless on small sweeps (experiments/policy_sweep.yaml shortened to
# one simulated second and two replications; experiments/azure_cluster.yaml to eight
# simulated seconds, 2 of them warm-up) and write every figure they promise. The cluster
# notebook refuses the policy sweep, which sweeps no router.
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
"$INFERSIM" run experiments/azure_cluster.yaml -o "$work/cluster.h5" -q \
  --set duration_s=8 --set warmup_s=2
bash notebooks/execute.sh "$work/small.h5" "$work/figures" "$work/executed" \
  notebooks/policy_comparison.ipynb notebooks/sweep_explorer.ipynb
bash notebooks/execute.sh "$work/cluster.h5" "$work/figures" "$work/executed" notebooks/cluster.ipynb
for f in policy_slo_vs_load policy_p99_vs_load policy_goodput_per_gpu policy_latency_cdf sweep_explorer \
  cluster_slo_cold_starts cluster_gpu_spread; do
  [ -s "$work/figures/$f.png" ] || { echo "FAIL: figure $f.png not written"; exit 1; }
done
# The executed notebooks hold no error output, and no warning about column names.
if grep -l '"output_type": "error"' "$work"/executed/*.ipynb; then
  echo "FAIL: a notebook cell raised"; exit 1
fi
if grep -l 'NaturalNameWarning' "$work"/executed/*.ipynb; then
  echo "FAIL: pandas warned about a column name"; exit 1
fi
# The cluster notebook found the three routers and two configurations of azure_cluster.yaml.
grep -q 'routers: model_affinity, least_outstanding, round_robin; configurations: space_time, max_batch 16; space_time, max_batch 4' \
  "$work/executed/cluster.ipynb" || { echo "FAIL: cluster.ipynb did not read the routers and configurations"; exit 1; }
# On a result set that sweeps no router it stops with a message instead of drawing nothing.
if bash notebooks/execute.sh "$work/small.h5" "$work/refused" "$work/refused" notebooks/cluster.ipynb \
    > "$work/refused.log" 2>&1; then
  echo "FAIL: cluster.ipynb ran on a result set that sweeps no router"; exit 1
fi
grep -q '^ValueError: .*small.h5 sweeps no router' "$work/refused.log" \
  || { cat "$work/refused.log"; echo "FAIL: cluster.ipynb did not raise 'sweeps no router'"; exit 1; }
echo "notebooks ok: $(ls "$work/figures" | tr '\n' ' ')"
