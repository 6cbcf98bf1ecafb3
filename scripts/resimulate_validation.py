#!/usr/bin/env python3
"""Re-simulates a checked-in validation report (scripts/validate.sh's report.md) under other
model settings, without the device: the same profile, model, SLO, tenants, rates and seed,
so the same arrivals, and the report's measured figures beside the new simulated ones.

    python3 scripts/resimulate_validation.py REPORT.md PROFILE.yaml [--granularity batch|kernel]
        [--kernel-sharing sm_budget|overlap] [--policies mps,space_time] [--infersim build/infersim]

PROFILE.yaml is the profile the report's run measured first (validate.sh's profile.yaml).
Prints, per run of the chosen policies, p50 and p99 simulated / measured (error).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import pandas as pd


def parse_report(path):
    text = open(path).read()
    model = re.search(r"^- model: (\S+),", text, re.M).group(1)
    slo = re.search(r"SLO ([0-9.]+) ms", text).group(1)
    duration, warmup = re.search(r"; ([0-9.]+) s per run, ([0-9.]+) s warm-up", text).groups()
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[0].isdigit():
            p50 = float(cells[6].split("/")[1].split("(")[0])
            p99 = float(cells[7].split("/")[1].split("(")[0])
            rows.append({"policy": cells[1], "replicas": int(cells[3]), "rate": cells[4],
                         "p50": p50, "p99": p99})
    return model, slo, duration, warmup, rows


def resimulate(report, profile, granularity="kernel", kernel_sharing="sm_budget",
               policies=("mps", "space_time"), infersim="build/infersim"):
    """Re-simulates REPORT's runs of `policies` on PROFILE. Returns the report's rows, each
    with the simulated p50 and p99 added as sim_p50 and sim_p99 (ms)."""
    model, slo, duration, warmup, rows = parse_report(report)
    rows = [r for r in rows if r["policy"] in policies]
    if not rows:
        sys.exit(f"no runs of {','.join(policies)} in {report}")
    specs = []
    for r in rows:
        spec = f"name: {r['policy']}, max_batch: 16, granularity: {granularity}"
        if granularity == "kernel" and r["policy"] in ("mps", "space_time"):
            spec += f", kernel_sharing: {kernel_sharing}"
        specs.append("{" + spec + "}")
    zip_ = ("{policy: [" + ", ".join(specs) + "], tenants.0.replicas: ["
            + ", ".join(str(r["replicas"]) for r in rows) + "], tenants.0.arrival.rate: ["
            + ", ".join(r["rate"] for r in rows) + "]}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sim.h5")
        gpu = re.search(r"^gpu: (\S+)", open(profile).read(), re.M).group(1)
        subprocess.run([infersim, "run", "experiments/validation.yaml", "-o", out, "-q",
                        "--set", f"hardware.profile={os.path.abspath(profile)}",
                        "--set", f"hardware.gpu={gpu}", "--set", f"duration_s={duration}",
                        "--set", f"warmup_s={warmup}", "--set", f"tenants.0.model={model}",
                        "--set", f"tenants.0.slo_ms={slo}", "--set", "output.requests=false",
                        "--set", f"sweep.zip={zip_}"], check=True, stdout=subprocess.DEVNULL)
        s = pd.read_hdf(out, "summary")
    for i, r in enumerate(rows):
        r["sim_p50"], r["sim_p99"] = s["p50_ms"][i], s["p99_ms"][i]
    return rows


def error_cells(r):
    """'sim / measured (error)' for p50 and p99, as the tables print them."""
    return (f"{r['sim_p50']:.3f} / {r['p50']:.3f} ({100 * (r['sim_p50'] / r['p50'] - 1):+.1f}%)",
            f"{r['sim_p99']:.3f} / {r['p99']:.3f} ({100 * (r['sim_p99'] / r['p99'] - 1):+.1f}%)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report")
    ap.add_argument("profile")
    ap.add_argument("--granularity", default="kernel", choices=["batch", "kernel"])
    ap.add_argument("--kernel-sharing", default="sm_budget", choices=["sm_budget", "overlap"])
    ap.add_argument("--policies", default="mps,space_time")
    ap.add_argument("--infersim", default="build/infersim")
    a = ap.parse_args()
    if a.kernel_sharing == "overlap" and a.granularity != "kernel":
        sys.exit("--kernel-sharing overlap needs --granularity kernel")
    rows = resimulate(a.report, a.profile, a.granularity, a.kernel_sharing,
                      a.policies.split(","), a.infersim)
    print(f"{os.path.basename(a.report)}: granularity {a.granularity}, kernel_sharing "
          f"{a.kernel_sharing}; ms simulated / measured (error)")
    print("| policy | rate | p50 | p99 |")
    print("|---|---|---|---|")
    for r in rows:
        p50, p99 = error_cells(r)
        print(f"| {r['policy']} | {r['rate']} | {p50} | {p99} |")


if __name__ == "__main__":
    main()
