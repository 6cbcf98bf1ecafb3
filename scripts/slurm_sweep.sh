#!/usr/bin/env bash
# A Slurm job array for a large sweep: task I of N runs the sweep's runs with index
# I mod N into OUT.h5.d/ (shared storage), then one dependent job merges them.
#
#   jobid=$(sbatch --parsable --array=0-31 scripts/slurm_sweep.sh experiments/policy_sweep.yaml results/sweep.h5)
#   sbatch --dependency=afterok:$jobid --wrap "build/infersim merge results/sweep.h5.d -o results/sweep.h5"
#
# A task that dies can be re-run alone (same --shard): finished shards are kept
# (--resume skips them), and merge refuses to build OUT.h5 while any run is missing.
#SBATCH --job-name=infersim-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
#SBATCH --output=infersim-%A_%a.log
set -euo pipefail
EXPERIMENT=$1
OUT=$2
N=${SLURM_ARRAY_TASK_COUNT:?run as a job array (sbatch --array=0-N)}
I=${SLURM_ARRAY_TASK_ID:?run as a job array}
exec build/infersim run "$EXPERIMENT" -o "$OUT" --shard "$I/$N" --resume \
  -j "${SLURM_CPUS_PER_TASK:-1}" -q
