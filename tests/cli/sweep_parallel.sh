#!/usr/bin/env bash
# Results never depend on how a sweep is executed: -j 1, -j 2, --shard 0/2 + --shard 1/2 +
# `infersim merge`, and (when an mpirun is given) `mpirun -np 2`, all give byte-identical
# /summary (but wall_s), /tenants, /aggregate and /runs/<run>/requests; pd.read_hdf reads
# /summary and /aggregate (tests/python/compare_results.py).
# usage: sweep_parallel.sh path/to/infersim [path/to/mpirun]
set -eu
INFERSIM=$(realpath "$1")
MPIRUN=${2:-}
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 3 x 2 grid + a zip group, one combination excluded, 2 replications: 22 runs.
cat > "$work/exp.yaml" <<'EOF2'
name: parallel
seed: 5
duration_s: 8
warmup_s: 1
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive, max_batch: 8}
tenants:
  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 300}}
  - {model: densenet121, slo_ms: 50, arrival: {process: gamma, rate: 100, cv: 2}}
sweep:
  grid:
    tenants.0.arrival.rate: [150, 300, 450]
    policy.max_batch: [4, 16]
  zip:
    tenants.1.slo_ms: [40, 80]
    tenants.1.arrival.cv: [1, 3]
  exclude:
    - {tenants.0.arrival.rate: 450, policy.max_batch: 4, tenants.1.slo_ms: 40}
  replications: 2
output: {requests: true}
EOF2

"$INFERSIM" run "$work/exp.yaml" -o "$work/j1.h5" -j 1 > "$work/j1.log"
grep -q "22 runs: 22 ok, 0 failed, 0 skipped" "$work/j1.log" || fail "-j 1: $(tail -1 "$work/j1.log")"
"$INFERSIM" run "$work/exp.yaml" -o "$work/j2.h5" -j 2 -q > /dev/null
"$INFERSIM" run "$work/exp.yaml" -o "$work/sh.h5" -j 1 -q --shard 0/2 > "$work/sh0.log"
grep -q "shard 0/2, 11 runs: 11 ok" "$work/sh0.log" || fail "--shard 0/2: $(cat "$work/sh0.log")"
[ ! -e "$work/sh.h5" ] || fail "--shard merged on its own"
"$INFERSIM" run "$work/exp.yaml" -o "$work/sh.h5" -j 2 -q --shard 1/2 > /dev/null
"$INFERSIM" merge "$work/sh.h5.d" -q > "$work/merge.log"
grep -q "wrote $work/sh.h5 (22 of 22 runs" "$work/merge.log" || fail "merge: $(cat "$work/merge.log")"
files=("$work/j2.h5" "$work/sh.h5")

if [ -n "$MPIRUN" ]; then
  # OpenMPI refuses root without these, and CI machines may have fewer cores than ranks.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # Containers often forbid the cross-memory attach of shared-memory transport.
  export OMPI_MCA_btl_vader_single_copy_mechanism=none
  # Under `make sanitize`, LeakSanitizer must walk OpenMPI's frames (built without frame
  # pointers) to match its suppressions: the slow unwinder, for these two processes only.
  if [ -n "${LSAN_OPTIONS:-}" ]; then export LSAN_OPTIONS="$LSAN_OPTIONS:fast_unwind_on_malloc=0"; fi
  "$MPIRUN" -np 2 --oversubscribe "$INFERSIM" run "$work/exp.yaml" -o "$work/mpi.h5" -j 1 -q \
    > "$work/mpi.log" 2>&1 || { cat "$work/mpi.log"; fail "mpirun -np 2 failed"; }
  grep -q "22 runs: 22 ok, 0 failed, 0 skipped.* x 2 ranks" "$work/mpi.log" \
    || fail "mpirun: $(cat "$work/mpi.log")"
  files+=("$work/mpi.h5")
fi

$PY tests/python/compare_results.py "$work/j1.h5" "${files[@]}"
$PY tests/python/check_results.py "$work/j1.h5"
echo "all sweep parallel checks passed"
