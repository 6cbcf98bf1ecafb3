#!/usr/bin/env bash
# Seed 003's Table 1, measured on this machine's device: R tenants each keep one SGEMM
# problem queued (closed loop), under time slicing, space-only sharing (mps) and
# space-time sharing (one batched super-kernel over the queued problems); the table gives
# each policy's throughput and space-time's gain over the next best, for the three problem
# shapes of the table (sgemm_rnn 512x1x512, sgemm_conv2_2 256x128x1152, sgemm_square 256^3).
# The simulator's prediction on the same measured profile is printed beside it.
#
#   scripts/sgemm_table.sh [cpu|cuda]      (env: INFERSIM, BUILD, OUT, RS="2 10 20", SECONDS_PER_RUN)
#
# Writes $OUT (default results/sgemm-<backend>/): profile.yaml, simulated.h5, measured.h5,
# table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-cpu}
BUILD=${BUILD:-build}
OUT=${OUT:-results/sgemm-$backend}
RS=${RS:-2 10 20}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-1}
if [ -z "${INFERSIM:-}" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j "$(nproc)" --target infersim
  INFERSIM=$BUILD/infersim
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
prio=()
if [ "$backend" = cpu ] && [ "$(id -u)" -eq 0 ] && command -v chrt >/dev/null; then
  prio=(chrt -f 20)
fi
models=(sgemm_rnn sgemm_conv2_2 sgemm_square)
rmax=0
for r in $RS; do [ "$r" -gt "$rmax" ] && rmax=$r; done
batches="1,2,4,8,16"
[ "$rmax" -gt 16 ] && batches="$batches,$rmax"
"${prio[@]}" "$INFERSIM" profile --backend "$backend" --models "$(IFS=,; echo "${models[*]}")" \
  --batches "$batches" --repeats 30 -o "$OUT/profile.yaml"

# One experiment: model x R x policy, every tenant with one problem always queued.
# The policy is swept as a whole mapping. Seed 003's SGEMM benchmark queues R problems in
# one process: time-only runs them one at a time, space-only on R CUDA streams (up to 120),
# so neither pays a CUDA context per problem (context_mib 0) and mps's client limit (Volta
# MPS: 48 processes) is lifted; space_time merges up to R problems.
pol="" mod="" rep=""
for m in "${models[@]}"; do
  for r in $RS; do
    for p in time_sliced mps space_time; do
      case $p in
        time_sliced) spec="{name: time_sliced, max_batch: 1, context_mib: 0}" ;;
        mps) spec="{name: mps, max_batch: 1, max_clients: $rmax, context_mib: 0}" ;;
        space_time) spec="{name: space_time, max_batch: $r}" ;;
      esac
      pol+="${pol:+, }$spec"; mod+="${mod:+, }$m"; rep+="${rep:+, }$r"
    done
  done
done
cat > "$OUT/experiment.yaml" <<EOF2
name: sgemm_table
seed: 3
duration_s: $SECONDS_PER_RUN
warmup_s: 0.1
hardware: {profile: $OUT/profile.yaml, gpu: $(awk '/^gpu:/ { print $2; exit }' "$OUT/profile.yaml"), count: 1, gpus_file: $PWD/hardware_profiles/gpus.yaml}
policy: {name: time_sliced, max_batch: 1}
tenants:
  - {model: sgemm_rnn, replicas: 2, arrival: {process: closed, n: 1}}
sweep:
  zip:
    policy: [$pol]
    tenants.0.model: [$mod]
    tenants.0.replicas: [$rep]
EOF2
"$INFERSIM" run "$OUT/experiment.yaml" -o "$OUT/simulated.h5" -q
"${prio[@]}" "$INFERSIM" measure "$OUT/experiment.yaml" --backend "$backend" -q \
  --idle-wait 60 ${prio:+--allow-busy} -o "$OUT/measured.h5"

# A Python with h5py (the system one on Debian; a GPU image's default one).
PY=python3
for p in python3 /usr/bin/python3; do
  if "$p" -c "import h5py" 2>/dev/null; then PY=$p; break; fi
done
"$PY" - "$OUT" "$backend" <<'EOF2'
import sys, h5py
out, backend = sys.argv[1], sys.argv[2]
sim, meas = h5py.File(out + "/simulated.h5"), h5py.File(out + "/measured.h5")
s, m = sim["summary"][:], meas["summary"][:]
dev = meas.attrs["measured_device"]
seed = {"sgemm_rnn": "1.21x / 2.14x (time-only)", "sgemm_conv2_2": "1.68x / 2.88x (space-only)",
        "sgemm_square": "2.42x / 2.47x (space-only)"}
rows = {}
for i in range(len(m)):
    key = (m["tenants__0__model"][i].decode(), int(m["tenants__0__replicas"][i]))
    rows.setdefault(key, {})[m["policy"][i].decode()] = (s["throughput_rps"][i], m["throughput_rps"][i])
lines = [f"Measured on {dev} ({backend}); simulated on its profile. Throughput in SGEMM problems/s.",
         "", "| problem | R | time-only meas (sim) | space-only meas (sim) | space-time meas (sim) "
         "| space-time / next best, measured (simulated) | seed 003 V100, R = 10 / 20 |",
         "|---|---|---|---|---|---|---|"]
for (model, r), p in rows.items():
    t, sp, st = p["time_sliced"], p["mps"], p["space_time"]
    best_m = max(t[1], sp[1]); best_s = max(t[0], sp[0])
    nb = "time-only" if t[1] >= sp[1] else "space-only"
    lines.append(f"| {model} | {r} | {t[1]:.0f} ({t[0]:.0f}) | {sp[1]:.0f} ({sp[0]:.0f}) | "
                 f"{st[1]:.0f} ({st[0]:.0f}) | {st[1] / best_m:.2f}x over {nb} ({st[0] / best_s:.2f}x) "
                 f"| {seed[model]} |")
open(out + "/table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF2
