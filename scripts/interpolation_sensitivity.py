#!/usr/bin/env python3
"""How much a validation report's simulated latencies depend on the batch sizes its profile
did not measure. A profile holds L(b) at a few sizes (1, 2, 4, 8, 16 by default) and the
simulation interpolates the rest linearly, while the measured run executes every size that
greedy batching forms. This re-simulates the report (scripts/resimulate_validation.py: same
arrivals, rates and seed) with the unmeasured sizes filled three ways:

  - linear: the profile as it is (what the report simulated);
  - kernel-model shape: the linear value times the kernel model's own ratio of L(b) to its
    linear interpolation between the same sizes (`infersim models --roofline`, the
    profile's GPU), a prediction of where wave quantization makes L(b) jump;
  - uniform +x%: every unmeasured size x% above the line, for each --raise.

Measured sizes are never changed, and each filled value is held between its measured
neighbours (L(b) must not decrease). Nothing here is fitted: the kernel-model row uses no
figure of the report.

    python3 scripts/interpolation_sensitivity.py REPORT.md PROFILE.yaml [--policies exclusive]
        [--raise 3,7,15] [--granularity batch|kernel] [--infersim build/infersim]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resimulate_validation import error_cells, parse_report, resimulate  # noqa: E402


def latency_line(text, model):
    """The model's `latency_ms: {...}` line in a profile: (its span in text, {b: ms})."""
    block = re.search(rf"^  {re.escape(model)}:\n((?:    .*\n|\s*#.*\n)+)", text, re.M)
    if block is None:
        sys.exit(f"profile has no model '{model}'")
    m = re.search(r"^    latency_ms: \{([^}]*)\}", block.group(1), re.M)
    if m is None:
        sys.exit(f"profile's model '{model}' has no latency_ms")
    span = (block.start(1) + m.start(), block.start(1) + m.end())
    pairs = [kv.split(":") for kv in m.group(1).split(",")]
    return span, {int(b): float(ms) for b, ms in pairs}


def linear(points, b):
    """L(b) on the line between the measured sizes around b (b itself when measured)."""
    if b in points:
        return points[b]
    lo = max(k for k in points if k < b)
    hi = min(k for k in points if k > b)
    return points[lo] + (points[hi] - points[lo]) * (b - lo) / (hi - lo)


def kernel_model(infersim, model, gpu, batches):
    """The kernel model's predicted L(b) in ms for b in batches (`models --roofline`)."""
    out = subprocess.run([infersim, "models", "--roofline", "--gpu", gpu, "--batches",
                          ",".join(map(str, batches))], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == model:
            return dict(zip(batches, map(float, cells[5:5 + len(batches)])))
    sys.exit(f"`infersim models --roofline` has no row for '{model}' (no kernel graph?)")


def filled(points, sizes, value):
    """{b: ms} for every b in sizes: measured sizes as they are, the rest value(b), each held
    between its measured neighbours."""
    out = {}
    for b in sizes:
        if b in points:
            out[b] = points[b]
        else:
            lo = max(k for k in points if k < b)
            hi = min(k for k in points if k > b)
            out[b] = min(max(value(b), points[lo]), points[hi])
    for b in sizes[1:]:  # non-decreasing between two unmeasured neighbours too
        out[b] = max(out[b], out[b - 1])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report")
    ap.add_argument("profile")
    ap.add_argument("--policies", default="exclusive")
    ap.add_argument("--raise", dest="raises", default="3,7,15",
                    help="comma-separated percentages for the uniform rows")
    ap.add_argument("--granularity", default="batch", choices=["batch", "kernel"])
    ap.add_argument("--infersim", default="build/infersim")
    a = ap.parse_args()
    model = parse_report(a.report)[0]
    text = open(a.profile).read()
    gpu = re.search(r"^gpu: (\S+)", text, re.M).group(1)
    span, points = latency_line(text, model)
    sizes = list(range(1, max(points) + 1))
    if len(points) == len(sizes):
        sys.exit(f"{a.profile} measured every batch size of '{model}': nothing is interpolated")
    model_l = kernel_model(a.infersim, model, gpu, sizes)
    model_points = {b: model_l[b] for b in points}
    variants = [("linear (as simulated)", lambda b: linear(points, b)),
                ("kernel-model shape", lambda b: linear(points, b) * model_l[b]
                 / linear(model_points, b))]
    for x in a.raises.split(","):
        variants.append((f"uniform +{x}%", lambda b, f=1 + float(x) / 100: linear(points, b) * f))

    print(f"{os.path.basename(a.report)} ({model} on {gpu}): measured sizes "
          f"{sorted(points)}, granularity {a.granularity}; ms simulated / measured (error)")
    shape = ", ".join(f"{b}: {model_l[b] / linear(model_points, b):.3f}" for b in sizes
                      if b not in points)
    print(f"kernel model's L(b) over its own line, unmeasured sizes: {shape}")
    print("| unmeasured sizes | policy | rate | p50 | p99 |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in variants:
            lat = filled(points, sizes, value)
            line = "    latency_ms: {" + ", ".join(f"{b}: {lat[b]:.4f}" for b in sizes) + "}"
            path = os.path.join(tmp, "profile.yaml")
            with open(path, "w") as f:
                f.write(text[:span[0]] + line + text[span[1]:])
            for r in resimulate(a.report, path, a.granularity, "sm_budget",
                                a.policies.split(","), a.infersim):
                p50, p99 = error_cells(r)
                print(f"| {name} | {r['policy']} | {r['rate']} | {p50} | {p99} |")


if __name__ == "__main__":
    main()
