#!/usr/bin/env bash
# The notebooks run headless on small sweeps (experiments/policy_sweep.yaml shortened to
# one simulated second, with two replications and with one, which has no confidence
# intervals; experiments/azure_cluster.yaml to eight simulated seconds, 2 of them warm-up)
# and write every figure they promise. The cluster notebook refuses the policy sweep, which
# sweeps no router, and says how the run held its weights. A partial result set is refused
# unless INFERSIM_ALLOW_MISSING=1 (the files are read through scripts/result_set.py, which
# runs `infersim check`).
# Exit 77 (skipped) when jupyter nbconvert or matplotlib is not installed.
# usage: notebooks_test.sh path/to/infersim
set -eu
INFERSIM=$(realpath "$1")
export INFERSIM  # the binary scripts/result_set.py verifies the result sets with
cd "$(dirname "$0")/../.."
if ! /usr/bin/python3 -c "import nbconvert, matplotlib, ipykernel" 2> /dev/null; then
  echo "skipped: nbconvert, matplotlib or ipykernel missing (scripts/install-deps.sh installs them)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$INFERSIM" run experiments/policy_sweep.yaml -o "$work/small.h5" -q \
  --set duration_s=1 --set warmup_s=0.2 --set sweep.replications=2
"$INFERSIM" run experiments/policy_sweep.yaml -o "$work/one.h5" -q --keep-shards \
  --set duration_s=1 --set warmup_s=0.2 --set sweep.replications=1
"$INFERSIM" run experiments/azure_cluster.yaml -o "$work/cluster.h5" -q \
  --set duration_s=8 --set warmup_s=2
bash notebooks/execute.sh "$work/small.h5" "$work/figures" "$work/executed" \
  notebooks/policy_comparison.ipynb notebooks/sweep_explorer.ipynb
bash notebooks/execute.sh "$work/cluster.h5" "$work/figures" "$work/executed" notebooks/cluster.ipynb
# One replication: no /aggregate, no confidence interval, so no error bars (matplotlib 3.6
# raised StopIteration on an all-NaN yerr).
bash notebooks/execute.sh "$work/one.h5" "$work/figures1" "$work/executed1" \
  notebooks/policy_comparison.ipynb notebooks/sweep_explorer.ipynb
for f in policy_slo_vs_load policy_p99_vs_load policy_goodput_per_gpu policy_latency_cdf sweep_explorer; do
  [ -s "$work/figures1/$f.png" ] || { echo "FAIL: one replication: figure $f.png not written"; exit 1; }
done
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
# The title says how the runs held their weights: azure_cluster.yaml loads them on demand,
# a service whose replicas fit keeps them resident.
grep -q 'GPUs, ~[0-9,]* requests/s, 100 ms SLO, weights loaded on demand' "$work/executed/cluster.ipynb" \
  || { echo "FAIL: cluster.ipynb did not say the weights load on demand"; exit 1; }
cat > "$work/svc.yaml" <<EOF
name: svc
seed: 1
duration_s: 2
warmup_s: 0.2
hardware: {profile: $(pwd)/hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: space_time, max_batch: 8}
tenants:
  - {model: resnet50_v1, replicas: 2, router: round_robin, slo_ms: 50, arrival: {process: poisson, rate: 100}}
sweep: {grid: {tenants.0.router: [round_robin, model_affinity]}}
EOF
"$INFERSIM" run "$work/svc.yaml" -o "$work/svc.h5" -q > /dev/null
bash notebooks/execute.sh "$work/svc.h5" "$work/svc" "$work/svc" notebooks/cluster.ipynb > /dev/null
grep -q 'requests/s, 50 ms SLO, weights resident' "$work/svc/cluster.ipynb" \
  || { echo "FAIL: cluster.ipynb did not say the weights stay resident"; exit 1; }
# A partial result set (a run's shard lost, merged with --allow-missing) is refused in one
# line, and read with INFERSIM_ALLOW_MISSING=1.
rm "$work/one.h5.d/run-000005.h5"
"$INFERSIM" merge "$work/one.h5.d" -o "$work/partial.h5" --allow-missing -q > /dev/null
if bash notebooks/execute.sh "$work/partial.h5" "$work/p" "$work/p" notebooks/sweep_explorer.ipynb \
    > "$work/partial.log" 2>&1; then
  echo "FAIL: sweep_explorer.ipynb read a partial result set"; exit 1
fi
grep -q '^ResultSetError: .*partial.h5: a partial result set: 1 of 32 runs missing' "$work/partial.log" \
  || { cat "$work/partial.log"; echo "FAIL: sweep_explorer.ipynb did not refuse the partial result set"; exit 1; }
INFERSIM_ALLOW_MISSING=1 bash notebooks/execute.sh "$work/partial.h5" "$work/p" "$work/p" \
  notebooks/sweep_explorer.ipynb > /dev/null
grep -q 'partial.h5: 31 runs (1 of 32 missing)' "$work/p/sweep_explorer.ipynb" \
  || { echo "FAIL: sweep_explorer.ipynb did not say a run is missing"; exit 1; }
echo "notebooks ok: $(ls "$work/figures" | tr '\n' ' ')"
