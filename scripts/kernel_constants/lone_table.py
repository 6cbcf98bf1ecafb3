#!/usr/bin/env python3
"""A lone SGEMM's GPU time on the H100, measured (h100/ksweep.txt) against the kernel model.

ksweep.txt times 20 problems of each shape one at a time (eager launches behind a gate,
GPU time alone); ksweep_kernels.txt lists the kernels cuBLAS launched for each, under ncu.
This script writes each shape as a one-layer cuBLAS architecture into a temporary folder,
asks `infersim models --graph NAME --gpu h100` for the model's kernel, and prints both side
by side, with the kernels each launches (a split-K GEMM is two: the GEMM and its reduce).
None of these shapes was used to set a model constant.

usage: lone_table.py [INFERSIM [MEASURED_DIR]]   (default build/infersim and
       scripts/kernel_constants/h100, from the repository root)

MEASURED_DIR h200 (second_gpu.sh's run, no ncu) has no ksweep_kernels.txt; the H100's is
used for it, an assumption (the same chip and cuBLAS 13.1, whose heuristics pick the kernels).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def measured(folder):
    rows = {}
    with open(os.path.join(folder, "ksweep.txt")) as f:
        for line in f:
            m = re.match(r"(\d+)x(\d+)x(\d+) \|\s+([\d.]+) \|", line)
            if m:
                rows[tuple(int(x) for x in m.groups()[:3])] = float(m.group(4))
    kernels = {}
    listed = os.path.join(folder, "ksweep_kernels.txt")
    if not os.path.exists(listed):
        listed = os.path.join(HERE, "h100", "ksweep_kernels.txt")
    with open(listed) as f:
        for line in f:
            m = re.match(r"(\d+)x(\d+)x(\d+) \| (.*)", line)
            if m:
                kernels[tuple(int(x) for x in m.groups()[:3])] = len(m.group(4).split("; "))
    return rows, kernels


def model(infersim, shapes, gpu):
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for m, n, k in shapes:
            name = f"lone_{m}x{n}x{k}"
            with open(os.path.join(d, name + ".yaml"), "w") as f:
                # An m x n x k GEMM as a 1x1 convolution: k input channels over n pixels,
                # m output channels (gen_architectures.py writes the Table 1 shapes so).
                f.write(f"name: {name}\ndescription: \"{m}x{n}x{k}\"\nclockwork: []\n"
                        f"library: cublas\ninput: [{k}, 1, {n}]\n"
                        f"layers:\n  - {{name: gemm, op: conv, in: [data], out: {m}, k: 1}}\n")
            text = subprocess.run([infersim, "models", "--graph", name, "--gpu", gpu,
                                   "--architectures", d], check=True, capture_output=True,
                                  text=True).stdout
            row = [l for l in text.splitlines() if l.startswith("gemm ")][-1].split()
            # kernel, shape, (count), tile, split, blocks, waves, SMs, comp, mem, reduce, total
            split, total = int(row[4]), float(row[-1])
            out[(m, n, k)] = (total, 2 if split > 1 else 1, row[3], split)
    return out


def main():
    infersim = sys.argv[1] if len(sys.argv) > 1 else "build/infersim"
    folder = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "h100")
    gpu = os.path.basename(os.path.normpath(folder))  # h100, h200: the gpus.yaml name
    rows, kernels = measured(folder)
    sim = model(infersim, sorted(rows), gpu)
    print(f"lone SGEMM on the {gpu.upper()}, GPU time in us: measured ({gpu}/ksweep.txt) /"
          " kernel model")
    print()
    print("| m x n x k | measured | model | error | kernels, cuBLAS / model | model tile, split |")
    print("|---|---|---|---|---|---|")
    same, differ = [], []  # |error| where cuBLAS and the model launch as many kernels, or not
    for shape in sorted(rows, key=lambda s: (s[0] * s[1], s[0], s[2])):
        t, nk, tile, split = sim[shape]
        err = (t - rows[shape]) / rows[shape]
        (same if kernels.get(shape) == nk else differ).append(abs(err))
        print(f"| {shape[0]}x{shape[1]}x{shape[2]} | {rows[shape]:.2f} | {t:.2f} | {err:+.0%} "
              f"| {kernels.get(shape, '?')} / {nk} | {tile}, {split} |")
    print()
    for label, errs in (("as many kernels as cuBLAS", same),
                        ("fewer kernels than cuBLAS", differ)):
        if errs:
            print(f"{len(errs)} shapes where the model launches {label}: median |error| "
                  f"{statistics.median(errs):.0%}, largest {max(errs):.0%}")


if __name__ == "__main__":
    main()
