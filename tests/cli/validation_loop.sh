#!/usr/bin/env bash
# Validation mode end to end on the cpu backend (CI has no GPU): profile -> run -> measure
# -> compare, then the comparison table's shape and sanity, and the bad input `measure` and
# `compare` must refuse with one line and exit status 2.
# usage: validation_loop.sh path/to/infersim
set -u
. "$(dirname "$0")/lib.sh"
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# 1. A small profile of this machine: a chain of two 256^3 SGEMMs, ~1 ms a batch of 1.
"$INFERSIM" profile --backend cpu --models sgemm_square_x2 --batches 1,2,4 --repeats 5 \
  --warmup 1 --no-peak -o "$work/profile.yaml" > "$work/profile.log" 2>&1 ||
  { cat "$work/profile.log"; fail "profile"; }
grep -q '^  device: ' "$work/profile.yaml" || fail "profile names no device"
grep -q '^  libraries: "OpenBLAS' "$work/profile.yaml" || fail "profile names no library"
grep -q '^  date: ' "$work/profile.yaml" || fail "profile has no date"
"$INFERSIM" models "$work/profile.yaml" > /dev/null || fail "profile does not load"

# 2. Every policy at a low load: capacity from L(4) (4 / L(4)), 25% of it, 4 tenants
# sharing, 1.5 s per run.
l4=$(awk '/latency_ms:/ { s = $0; sub(/.*4: /, "", s); sub(/}.*/, "", s); print s; exit }' \
  "$work/profile.yaml")
rate=$(awk -v l="$l4" 'BEGIN { printf "%.3f", 0.25 * 4 / (l / 1000) / 4 }')
slo=$(awk -v l="$l4" 'BEGIN { printf "%.3f", 4 * l }')
cat > "$work/exp.yaml" <<EOF2
name: loop
seed: 3
duration_s: 1.5
warmup_s: 0.2
hardware: {profile: profile.yaml, gpu: cpu, count: 1, gpus_file: $PWD/hardware_profiles/gpus.yaml}
policy: {name: exclusive, max_batch: 4}
tenants:
  - {model: sgemm_square_x2, replicas: 4, slo_ms: $slo, arrival: {process: poisson, rate: $rate}}
output: {requests: true}
sweep:
  zip:
    policy.name: [exclusive, time_sliced, mps, space_time]
    tenants.0.replicas: [1, 4, 4, 4]
    tenants.0.arrival.rate: [$(awk -v r="$rate" 'BEGIN { printf "%.3f", 4 * r }'), $rate, $rate, $rate]
EOF2
"$INFERSIM" run "$work/exp.yaml" -o "$work/sim.h5" -q > /dev/null 2>&1 || fail "run"
"$INFERSIM" measure "$work/exp.yaml" --backend cpu -o "$work/meas.h5" --allow-busy -q \
  > "$work/measure.log" 2>&1 || { cat "$work/measure.log"; fail "measure"; }
"$INFERSIM" compare "$work/sim.h5" "$work/meas.h5" -o "$work/cmp.h5" --report "$work/cmp.md" \
  > "$work/compare.log" 2>&1 || { cat "$work/compare.log"; fail "compare"; }

# 3. Shape and sanity of /comparison and of the measured result set.
/usr/bin/python3 - "$work" <<'EOF2' || fail "comparison table"
import sys, math
import h5py, numpy as np
w = sys.argv[1]
meas, sim = h5py.File(w + "/meas.h5"), h5py.File(w + "/sim.h5")
for name in ("summary", "tenants"):
    a, b = sim[name][:], meas[name][:]
    assert a.dtype.names == b.dtype.names, f"/{name} columns differ"
    assert len(a) == len(b), f"/{name} rows differ"
summary = meas["summary"][:]
assert len(summary) == 4 and list(summary["policy"].astype(str)) == [
    "exclusive", "time_sliced", "mps", "space_time"]
assert meas.attrs["sweep_id"] == sim.attrs["sweep_id"]
for a in ("measured_device", "measured_backend", "measured_clock", "measured_libraries"):
    assert meas.attrs[a], a
assert len(meas["dispatch"][:]) == 4
for run in range(4):
    r = meas[f"runs/{run}/requests"][:]
    assert len(r) > 0
    assert np.all(r["end_ns"] >= r["start_ns"]) and np.all(r["start_ns"] >= r["arrival_ns"])
    # The same seeded trace: request arrival instants equal the simulation's.
    s = sim[f"runs/{run}/requests"][:]
    assert sorted(zip(r["tenant"], r["arrival_ns"])) == sorted(zip(s["tenant"], s["arrival_ns"]))
cmp = h5py.File(w + "/cmp.h5")["comparison"][:]
assert cmp.dtype.names == ("run", "tenant", "metric", "simulated", "measured", "error_pct")
metrics = ["mean", "p50", "p90", "p95", "p99", "throughput", "slo_attainment"]
tenants = 1 + 4 + 4 + 4  # tenant rows of the four runs
assert len(cmp) == (4 + tenants) * len(metrics), len(cmp)
for row in cmp:
    m = row["metric"].decode()
    assert m in metrics
    s, v, e = row["simulated"], row["measured"], row["error_pct"]
    assert math.isfinite(s) and math.isfinite(v) and math.isfinite(e), row
    if m == "slo_attainment":
        assert 0 <= s <= 1 and 0 <= v <= 1 and abs(e - 100 * (s - v)) < 1e-9
    else:
        assert s > 0 and v > 0 and abs(e - 100 * (s - v) / v) < 1e-6 * max(1, abs(e))
# The same trace: every run has the same requests, and (nothing is dropped) all complete
# on both sides. (Latency and throughput depend on how fast this machine is right now, so
# they are checked for shape and arithmetic only.)
ss, ms = sim["summary"][:], meas["summary"][:]
assert list(ss["requests"]) == list(ms["requests"]) and all(ss["requests"] > 0)
assert list(ms["completed"]) == list(ms["requests"]), (ms["completed"], ms["requests"])
EOF2
grep -q '^| run | policy |' "$work/cmp.md" || fail "markdown report"

# 4. Bad input: one line, exit 2, nothing written.
expect() {  # NAME PATTERN command...
  local name=$1 pattern=$2
  shift 2
  "$@" > "$work/stdout" 2> "$work/stderr"
  local rc=$?
  if [ "$rc" -ne 2 ]; then
    fail "$name: exit $rc, expected 2"; cat "$work/stderr"
  elif [ "$(wc -l < "$work/stderr")" -ne 1 ]; then
    fail "$name: expected one line:"; cat "$work/stderr"
  elif ! grep -Eq -- "$pattern" "$work/stderr"; then
    fail "$name: stderr does not match /$pattern/:"; cat "$work/stderr"
  fi
  [ -e "$work/bad.h5" ] && fail "$name: wrote an output file"
  rm -f "$work/bad.h5"
}
expect unknown_backend "unknown backend 'tpu'" \
  "$INFERSIM" measure "$work/exp.yaml" --backend tpu -o "$work/bad.h5"
expect graph_on_cpu "--launch: graph launches need --backend cuda" \
  "$INFERSIM" profile --backend cpu --models sgemm_square_x2 --launch graph -o "$work/bad.h5"
expect unknown_launch "--launch: expected eager or graph, got 'fast'" \
  "$INFERSIM" profile --backend cpu --models sgemm_square_x2 --launch fast -o "$work/bad.h5"
# A model named twice made a profile with a duplicate key, which every later command
# refused; a negative --threads was taken as 0; --warmup -1 was blamed on --repeats. (The
# fast options keep a regression, which would profile, short.)
fast=(--batches 1,2 --repeats 1 --warmup 0 --no-peak)
expect profile_model_twice "^infersim: --models: model 'sgemm_square_x2' is named twice" \
  "$INFERSIM" profile --backend cpu --models sgemm_square_x2,sgemm_square_x2 "${fast[@]}" \
  -o "$work/bad.h5"
expect profile_negative_threads "^infersim: --threads: expected --threads from 0 .* to 4096, got -2" \
  "$INFERSIM" profile --backend cpu --models sgemm_square_x2 --threads -2 "${fast[@]}" \
  -o "$work/bad.h5"
expect profile_negative_warmup "^infersim: --warmup: expected --warmup >= 0, got -1" \
  "$INFERSIM" profile --backend cpu --models sgemm_square_x2 --batches 1,2 --warmup -1 \
  -o "$work/bad.h5"
expect measure_negative_threads "^infersim: --threads: expected --threads from 0 .* to 4096, got -2" \
  "$INFERSIM" measure "$work/exp.yaml" --backend cpu --threads -2 -o "$work/bad.h5"
sed 's|profile: profile.yaml, gpu: cpu|profile: '"$PWD"'/hardware_profiles/v100_clockwork.yaml, gpu: v100|; s|sgemm_square_x2|resnet50_v1|' \
  "$work/exp.yaml" > "$work/v100.yaml"
expect other_device "not measured by .infersim profile." \
  "$INFERSIM" measure "$work/v100.yaml" --backend cpu -o "$work/bad.h5"
sed 's|^  device: .*|  device: "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79 GiB)"|' "$work/profile.yaml" \
  > "$work/h100.yaml"
sed 's|profile: profile.yaml|profile: h100.yaml|' "$work/exp.yaml" > "$work/h100exp.yaml"
expect profile_of_another_device "measured on 'NVIDIA H100" \
  "$INFERSIM" measure "$work/h100exp.yaml" --backend cpu -o "$work/bad.h5"
# The profile given with --set is blamed on the --set, not on the file's hardware line; a
# second node is named as hardware.nodes (it was "hardware.count must be 1, not 2"); and a
# profile of another backend is bad input (exit 2) before the device is opened: with
# --backend cuda and no GPU this exited 1 ("no CUDA device").
expect set_profile_of_another_device \
  "^infersim: --set hardware.profile=h100.yaml: sweep point 0: profile .*h100.yaml was measured on 'NVIDIA H100" \
  "$INFERSIM" measure "$work/exp.yaml" --backend cpu --set hardware.profile=h100.yaml -o "$work/bad.h5"
expect set_two_nodes "^infersim: --set hardware.nodes=2: sweep point 0: measure replays on one device: hardware.nodes must be 1, not 2" \
  "$INFERSIM" measure "$work/exp.yaml" --backend cpu --set hardware.nodes=2 -o "$work/bad.h5"
expect cpu_profile_on_cuda "exp.yaml:5:[0-9]+: sweep point 0: profile .*profile.yaml was measured with the cpu backend .*not with --backend cuda" \
  "$INFERSIM" measure "$work/exp.yaml" --backend cuda -o "$work/bad.h5"
# 150% of the capacity, max_b b / L(b), offered.
over=$(awk '/latency_ms:/ {
    s = $0; sub(/.*\{/, "", s); sub(/\}.*/, "", s); n = split(s, kv, ",")
    for (i = 1; i <= n; i++) { split(kv[i], p, ":"); if (p[1] / p[2] > c) c = p[1] / p[2] }
    printf "%.3f", 1.5 * c * 1000 / 4; exit }' "$work/profile.yaml")
sed "s|tenants.0.arrival.rate: \[.*\]|tenants.0.arrival.rate: [$over, $over, $over, $over]|" \
  "$work/exp.yaml" > "$work/over.yaml"
expect over_capacity "offered load is 150% of the device's measured capacity" \
  "$INFERSIM" measure "$work/over.yaml" --backend cpu -o "$work/bad.h5"
sed 's/^seed: 3/seed: 4/' "$work/exp.yaml" > "$work/other.yaml"
"$INFERSIM" run "$work/other.yaml" -o "$work/other.h5" -q > /dev/null 2>&1 || fail "run other"
expect different_experiments "another experiment .*config hashes differ" \
  "$INFERSIM" compare "$work/other.h5" "$work/meas.h5" -o "$work/bad.h5"

# 5. --max-error: 0% cannot hold for a real measurement; a huge bound does.
"$INFERSIM" compare "$work/sim.h5" "$work/meas.h5" --max-error 0 > /dev/null 2>&1
[ $? -eq 1 ] || fail "--max-error 0 should exit 1"
"$INFERSIM" compare "$work/sim.h5" "$work/meas.h5" --max-error 1e9 > /dev/null 2>&1 ||
  fail "--max-error 1e9 should pass"

# A figure both files leave undefined (NaN: a tenant with no request) agrees with itself:
# a result set compared with its own copy passes --max-error 0, and says nothing differs.
cat > "$work/idle.yaml" <<'EOF2'
name: idle
duration_s: 1
hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}
policy: {name: exclusive}
tenants:
  - {model: resnet50_v1, arrival: {process: poisson, rate: 100}}
  - {model: densenet121, arrival: {process: poisson, rate: 1e-12}}
EOF2
"$INFERSIM" run "$work/idle.yaml" -o "$work/idle.h5" -q > /dev/null 2>&1 || fail "run idle.yaml"
cp "$work/idle.h5" "$work/idle_copy.h5"
"$INFERSIM" compare "$work/idle.h5" "$work/idle_copy.h5" --max-error 0 > "$work/idle.log" 2>&1 &&
  grep -q "largest error: none" "$work/idle.log" ||
  fail "a result set with NaN figures against its copy: $(tail -2 "$work/idle.log")"

[ "$fails" -eq 0 ] && echo "validation loop: all checks passed"
exit $((fails > 0))
