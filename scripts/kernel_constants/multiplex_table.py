#!/usr/bin/env python3
"""The kernel model against multiplex.cu's measurements of seed 003 Table 1's shapes.

    infersim run experiments/sgemm_multiplex.yaml -o SIM.h5 --set hardware.gpu=h100 \
        --set 'sweep.grid={...R = 1, 2, 10, 20, 60, 120...}'        (README, "Table 1 ... H100")
    python3 scripts/kernel_constants/multiplex_table.py SIM.h5 [MEASURED_DIR] [--allow-missing]

MEASURED_DIR (default scripts/kernel_constants/h100; h200 holds second_gpu.sh's run on an
H200, to be read against a simulation with --set hardware.gpu=h200) holds multiplex.sh's outputs:
gated.txt (GPU time per problem, eager launches held behind a spinning kernel) and
multiplex.txt (CUDA-graph replays, and a polling host dispatcher). Prints, per shape and R,
the GPU time per problem measured and simulated under one-at-a-time (time-only), R streams
(space-only) and one batched kernel (space-time); then space-time's gain over the next best
scheduler, as a geometric mean over R = 2, 10, 20, 60, 120, for the simulation, the three
measurements and seed 003 (V100); and, from rsweep.txt, how well kernel_sharing: overlap's
law (policies/kernel_gpu.h) predicts the gain of R streams over one at a time.

SIM.h5 is verified first (scripts/result_set.py, `infersim check`); a partial result set
(runs missing) is refused unless --allow-missing, and then a figure that needs a missing run
is shown as —.
"""
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from result_set import DASH, cell, complete_means, load  # noqa: E402 (scripts/result_set.py)

SHAPES = {"512x1x512": "sgemm_rnn", "256x128x1152": "sgemm_conv2_2", "256x256x256": "sgemm_square"}
SEED = {"512x1x512": (2.48, "time-only"), "256x128x1152": (3.23, "space-only"),
        "256x256x256": (4.93, "space-only")}
RS = [2, 10, 20, 60, 120]
NAMES = ["time-only", "space-only", "space-time"]


def tables(path):
    """{shape: {R: [numbers of the row]}} from a multiplex.cu output."""
    out, shape = {}, None
    for line in open(path):
        m = re.match(r"^(\d+x\d+x\d+): ", line)
        if m:
            shape = m.group(1)
            out.setdefault(shape, {})
            continue
        m = re.match(r"^\s*(\d+) \|(.*)$", line)
        if m and shape:
            out[shape][int(m.group(1))] = [float(x) for x in m.group(2).split("|")]
    return out


def gain(per_problem):
    """Space-time's throughput over the next best, from times per problem [time, space,
    space-time]; and which is next best. NaN and None when a time is missing."""
    if any(math.isnan(x) for x in per_problem):
        return math.nan, None
    best = min(per_problem[0], per_problem[1])
    return best / per_problem[2], NAMES[0] if per_problem[0] < per_problem[1] else NAMES[1]


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def gpu_label(measured):
    """'H100', 'H200', ... from the measured folder's gpu.txt (nvidia-smi's name)."""
    name = open(os.path.join(measured, "gpu.txt")).readline()
    m = re.search(r"\b([A-Z]\d{3})\b", name)
    return m.group(1) if m else name.split(",")[0]


def simulated(sim_path, allow_missing):
    """{(model, R, policy): simulated us per problem}, the mean throughput over replications;
    a point that lacks a run (a partial result set) has none."""
    rs = load(sim_path, allow_missing=allow_missing, prog="multiplex_table.py")
    s = rs["summary"]
    keys = ["tenants__0__model", "tenants__0__replicas", "policy"]
    thr = complete_means(s, keys, "throughput_rps", rs.replications).dropna()
    return {(m, int(r), p): 1e6 / t for (m, r, p), t in thr.items()}


def main(sim_path, measured, allow_missing=False):
    sim = simulated(sim_path, allow_missing)
    gpu = gpu_label(measured)
    gated = tables(os.path.join(measured, "gated.txt"))
    full = tables(os.path.join(measured, "multiplex.txt"))

    def us(key):  # NaN for a point missing from a partial result set
        return sim.get(key, math.nan)

    print(f"GPU time per problem, us: measured on the {gpu} (eager launches held behind a"
          f" spinning kernel, median of 5) / kernel model (profile: roofline, gpu:"
          f" {gpu.lower()})\n")
    print("| problem | R | time-only | space-only (R streams) | space-time (batched) |")
    print("|---|---|---|---|---|")
    for shape, model in SHAPES.items():
        for r in [1] + RS:
            m = gated[shape][r]
            p = [us((model, r, pol)) for pol in ("time_sliced", "mps", "space_time")]
            print(f"| {shape} | {r} | "
                  + " | ".join(f"{a:.2f} / {cell(b, '.2f')}" for a, b in zip(m, p)) + " |")

    print("\nSpace-time over the next best scheduler, geometric mean over R = 2, 10, 20, 60, 120"
          " (next best, by majority of R):\n")
    print(f"| problem | kernel model, {gpu} | measured GPU time, eager | measured GPU time, CUDA graphs"
          " | measured with the host dispatching | seed 003, V100 |")
    print("|---|---|---|---|---|---|")
    for shape, model in SHAPES.items():
        cells = []
        for source in ("sim", "gated", "graph", "host"):
            gains, nexts = [], []
            for r in RS:
                if source == "sim":
                    t = [us((model, r, pol)) for pol in ("time_sliced", "mps", "space_time")]
                elif source == "gated":
                    t = gated[shape][r]
                elif source == "graph":
                    t = full[shape][r][0:3]
                else:  # problems/s -> us per problem
                    t = [1e6 / x for x in full[shape][r][3:6]]
                g, n = gain(t)
                gains.append(g)
                nexts.append(n)
            if None in nexts:
                cells.append(DASH)
                continue
            nb = max(set(nexts), key=nexts.count)
            cells.append(f"{geomean(gains):.2f}x ({nb})")
        seed = SEED[shape]
        print(f"| {shape} | " + " | ".join(cells) + f" | {seed[0]:.2f}x ({seed[1]}) |")

    print("\nSpace-only's gain over time-only (R streams against one at a time), geometric mean"
          " over R = 10, 20, 60, 120: measured GPU time (eager) / kernel model\n")
    for shape, model in SHAPES.items():
        meas = geomean([gated[shape][r][0] / gated[shape][r][1] for r in RS[1:]])
        simg = geomean([us((model, r, "time_sliced")) / us((model, r, "mps")) for r in RS[1:]])
        print(f"- {shape}: {meas:.2f}x / {cell(simg, '.2f', 'x')}")


# The H100's achievable rates, measured (scripts/kernel_constants/README.md): an 8192^3 FP32
# GEMM at 51.6 TFLOP/s (the best tile's rate) and a 1 GiB copy at 3012 GB/s. The simulator
# derives them from gpus.yaml: 67 TFLOP/s peak x 0.772 best tile efficiency = 51.7 TFLOP/s,
# and copy_bandwidth_gbs 3012. A folder from second_gpu.sh has its GPU's own in
# tiles_run.txt and copy.txt.
ACHIEVABLE_FLOPS = 51.6e12
ACHIEVABLE_BYTES = 3012e9
# kernel_sharing's overlap_floor default (policies/batching.cc), fitted on the H100's
# rsweep.txt (512x1x512 at R = 16): on another GPU, the law with it is a prediction.
DEFAULT_FLOOR = 0.30


def achievable(measured):
    flops, bytes_ = ACHIEVABLE_FLOPS, ACHIEVABLE_BYTES
    for name in ("tiles_run.txt", "copy.txt"):
        path = os.path.join(measured, name)
        if not os.path.exists(path):
            continue
        for line in open(path):
            m = re.match(r"8192\^3 GEMM: ([\d.]+) TFLOP/s", line)
            if m:
                flops = float(m.group(1)) * 1e12
            m = re.match(r"copy of 1 GiB \(eager[^)]*\): (\d+) GB/s", line)
            if m:
                bytes_ = float(m.group(1)) * 1e9
    return flops, bytes_


def overlap_law(measured):
    """kernel_sharing: overlap's law against rsweep.txt: R streams of one shape run
    R / (1 + (R - 1) u) times faster than one at a time, u = floor + (1 - floor) x the
    kernel's solo share. The floor is fitted on the 512x1x512 shape at R = 16; the other
    shapes are predictions."""
    path = os.path.join(measured, "rsweep.txt")
    if not os.path.exists(path):
        return
    rows = {}
    for line in open(path):
        p = [x.strip() for x in line.split("|")]
        if len(p) == 6 and p[2].isdigit():
            rows.setdefault((p[0], p[1]), {})[int(p[2])] = (float(p[3]), float(p[4]))
    flops, bytes_ = achievable(measured)
    shares = {}
    for key, d in rows.items():
        m, n, k = map(int, key[1].split("x"))
        solo = d[1][0] * 1e-6
        shares[key] = max(2.0 * m * n * k / solo / flops,
                          4.0 * (m * k + k * n + m * n) / solo / bytes_)
    def law(r, floor, share):  # R streams' gain over one at a time
        return r / (1 + (r - 1) * (floor + (1 - floor) * share))

    def summary(errors):
        errors = sorted(errors)
        return (f"median |error| {100 * errors[len(errors) // 2]:.0f}%,"
                f" largest {100 * errors[-1]:.0f}%")

    fit = next(key for key in rows if key[1] == "512x1x512")
    u_fit = (16 / (rows[fit][16][0] / rows[fit][16][1]) - 1) / 15
    floor = (u_fit - shares[fit]) / (1 - shares[fit])
    print(f"\nkernel_sharing overlap's law against rsweep.txt: floor {floor:.3f}, fitted on "
          "512x1x512 at R = 16; gain of R streams over one at a time, measured / law\n")
    print("| shape | m x n x k | solo us | solo share | u | R = 2 | R = 4 | R = 8 | R = 16 |")
    print("|---|---|---|---|---|---|---|---|---|")
    errors = []
    for key, d in rows.items():
        u = floor + (1 - floor) * shares[key]
        cells = []
        for r in (2, 4, 8, 16):
            g = d[r][0] / d[r][1]
            predicted = law(r, floor, shares[key])
            cells.append(f"{g:.2f} / {predicted:.2f}")
            if key != fit:
                errors.append(abs(predicted / g - 1))
        print(f"| {key[0]} | {key[1]} | {d[1][0]:.2f} | {shares[key]:.2f} | {u:.2f} | "
              + " | ".join(cells) + " |")
    print(f"\nthe other {len(rows) - 1} shapes: {summary(errors)}")
    # The law with the simulator's default floor, fitted on the H100: every shape predicted.
    errors = [abs(law(r, DEFAULT_FLOOR, shares[key]) / (d[r][0] / d[r][1]) - 1)
              for key, d in rows.items() for r in (2, 4, 8, 16)]
    print(f"with the default floor {DEFAULT_FLOOR:.2f} (the H100's), all {len(rows)} shapes:"
          f" {summary(errors)}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--allow-missing"]
    if not args:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    measured_dir = args[1] if len(args) > 1 else os.path.join(here, "h100")
    main(args[0], measured_dir, "--allow-missing" in sys.argv[1:])
    overlap_law(measured_dir)
