#!/usr/bin/env bash
# Validation mode on the cuda backend: a short profile -> run -> measure -> compare on the
# GPU. Skips (exit 77, a ctest SKIP) with a one-line reason when this infersim has no cuda
# backend or the machine has no usable GPU -- as on CI.
# usage: validation_cuda.sh path/to/infersim
set -u
INFERSIM=$(realpath "$1")
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$INFERSIM" profile --backend cuda --models sgemm_conv2_2_x4 --batches 1,2,4 --repeats 5 \
  --no-peak -o "$work/profile.yaml" > "$work/log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  if grep -Eq "not built into this infersim|no CUDA device" "$work/log"; then
    echo "SKIP: $(tail -1 "$work/log")"
    exit 77
  fi
  cat "$work/log"
  exit 1
fi
# One device, every policy, a third of the batched capacity, 1 s per run.
l4=$(awk '/latency_ms:/ { s = $0; sub(/.*4: /, "", s); sub(/}.*/, "", s); print s; exit }' \
  "$work/profile.yaml")
rate=$(awk -v l="$l4" 'BEGIN { printf "%.3f", 4 / (l / 1000) / 3 }')
gpu=$(awk '/^gpu:/ { print $2; exit }' "$work/profile.yaml")
cat > "$work/exp.yaml" <<EOF2
name: cuda_loop
seed: 3
duration_s: 1
warmup_s: 0.1
hardware: {profile: profile.yaml, gpu: $gpu, count: 1, gpus_file: $PWD/hardware_profiles/gpus.yaml}
policy: {name: exclusive, max_batch: 4}
tenants:
  - {model: sgemm_conv2_2_x4, replicas: 1, slo_ms: $(awk -v l="$l4" 'BEGIN { print 10 * l }'), arrival: {process: poisson, rate: $rate}}
sweep:
  zip:
    policy.name: [exclusive, time_sliced, mps, space_time]
    tenants.0.replicas: [1, 4, 4, 4]
    tenants.0.arrival.rate: [$rate, $(awk -v r="$rate" 'BEGIN { print r / 4 }'), $(awk -v r="$rate" 'BEGIN { print r / 4 }'), $(awk -v r="$rate" 'BEGIN { print r / 4 }')]
EOF2
set -e
"$INFERSIM" run "$work/exp.yaml" -o "$work/sim.h5" -q > /dev/null
"$INFERSIM" measure "$work/exp.yaml" --backend cuda -o "$work/meas.h5" -q --idle-wait 30
"$INFERSIM" compare "$work/sim.h5" "$work/meas.h5" -o "$work/cmp.h5"
# Batches as CUDA graphs (`profile --launch graph`): measure launches exclusive's and mps's
# batches as the profile was measured, and says so in the result set.
"$INFERSIM" profile --backend cuda --models sgemm_conv2_2_x4 --batches 1,2,4 --repeats 5 \
  --no-peak --launch graph -o "$work/profile.yaml" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
grep -q '^  launch: graph$' "$work/profile.yaml"
sed -i 's/^    policy.name: .*/    policy.name: [exclusive, mps]/; s/^    tenants.0.replicas: .*/    tenants.0.replicas: [1, 4]/' "$work/exp.yaml"
sed -i "s/^    tenants.0.arrival.rate: \[\([^,]*\), \([^,]*\), .*/    tenants.0.arrival.rate: [\1, \2]/" "$work/exp.yaml"
"$INFERSIM" run "$work/exp.yaml" -o "$work/sim_graph.h5" -q > /dev/null
"$INFERSIM" measure "$work/exp.yaml" --backend cuda -o "$work/meas_graph.h5" -q --idle-wait 30
if /usr/bin/python3 -c 'import h5py' 2> /dev/null; then
  /usr/bin/python3 -c 'import h5py, sys; a = h5py.File(sys.argv[1]).attrs["measured_launch"]; sys.exit((a.decode() if isinstance(a, bytes) else a) != "graph")' "$work/meas_graph.h5"
fi
"$INFERSIM" compare "$work/sim_graph.h5" "$work/meas_graph.h5" -o "$work/cmp_graph.h5"
echo "cuda validation loop: passed (eager and graph launches)"
