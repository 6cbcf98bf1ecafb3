#!/usr/bin/env python3
"""Writes the synthetic sample traces in workloads/traces/ (checked in; rerun to regenerate).

usage: make_sample_traces.py [OUT_DIR] [--functions N]

Three files, in the real formats infersim reads, each saying in its first line that it is
synthetic (a '#' comment line; real downloads have none and load the same way):

  sample_models.csv         time_s,model rows: twenty seconds of requests for three
                            Clockwork models (Poisson, 40/20/10 requests/s).
  azure2019_sample.csv.gz   Azure Functions 2019 layout (HashOwner,HashApp,HashFunction,
                            Trigger,1..1440): N functions (default 2000) x 1440 per-minute
                            counts. Each function is a timer (one invocation every 1, 5, 15
                            or 60 minutes) or request-driven, with a mean rate drawn from a
                            heavy-tailed log-normal (most functions rare, a few very busy), a
                            day-long sinusoidal (diurnal) swing and occasional bursts.
  azure2021_sample.csv.gz   Azure Functions 2021 layout (app,func,end_timestamp,duration):
                            one row per invocation over five minutes for 24 functions, ordered
                            by end time (so starts are out of order, as in the real trace).

The numbers are made up (seeded, reproducible): they exercise the formats and give the
experiments a skewed, bursty, multi-model load; they are not Azure data.
"""
import gzip
import math
import os
import random
import sys

SEED = 20240601
HEADER = "# synthetic: written by scripts/make_sample_traces.py (seed {}); not Azure data\n"


def poisson(rng, lam):
    """A Poisson draw (Knuth for small means, normal approximation above 60)."""
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def hexid(rng):
    return "%064x" % rng.getrandbits(256)


def models_csv(path, rng):
    rows = []
    for model, rate in (("resnet50_v1", 40.0), ("densenet121", 20.0), ("googlenet", 10.0)):
        t = 0.0
        while True:
            t += rng.expovariate(rate)
            if t >= 20:
                break
            rows.append((round(t, 9), model))
    rows.sort()
    with open(path, "w") as f:
        f.write(HEADER.format(SEED))
        f.write("time_s,model\n")
        for t, m in rows:
            f.write("%.9f,%s\n" % (t, m))


def azure2019(path, rng, functions):
    with gzip.open(path, "wt", compresslevel=9) as f:
        f.write(HEADER.format(SEED))
        f.write("HashOwner,HashApp,HashFunction,Trigger," + ",".join(str(m) for m in range(1, 1441)))
        f.write("\n")
        owner = app = None
        for i in range(functions):
            if owner is None or rng.random() < 0.3:
                owner = hexid(rng)
            if app is None or rng.random() < 0.5:
                app = hexid(rng)
            counts = [0] * 1440
            if rng.random() < 0.3:
                trigger = "timer"
                period = rng.choice((1, 5, 15, 60))
                offset = rng.randrange(period)
                for m in range(offset, 1440, period):
                    counts[m] = 1
            else:
                trigger = rng.choice(("http", "http", "queue", "event", "storage", "orchestration"))
                per_minute = math.exp(rng.gauss(-1.0, 2.5))  # median 0.37/min, heavy tail
                peak = rng.uniform(0, 1440)
                swing = rng.uniform(0.2, 0.9)
                m = 0
                while m < 1440:
                    lam = per_minute * (1 + swing * math.cos(2 * math.pi * (m - peak) / 1440))
                    if rng.random() < 0.002:  # a burst: ten times the rate for a few minutes
                        for _ in range(rng.randint(2, 10)):
                            if m < 1440:
                                counts[m] = poisson(rng, 10 * lam)
                                m += 1
                        continue
                    counts[m] = poisson(rng, lam)
                    m += 1
            f.write("%s,%s,%s,%s," % (owner, app, hexid(rng), trigger))
            f.write(",".join(str(c) for c in counts))
            f.write("\n")


def azure2021(path, rng):
    funcs = []
    for i in range(24):
        app = hexid(rng)
        for _ in range(rng.choice((1, 1, 2, 3))):
            funcs.append((app, hexid(rng), math.exp(rng.gauss(-1.0, 1.8)),
                          math.exp(rng.gauss(-2.5, 1.5))))
            if len(funcs) == 24:
                break
        if len(funcs) == 24:
            break
    rows = []
    for app, func, rate, mean_duration in funcs:
        t = 0.0
        while True:
            t += rng.expovariate(rate)
            if t >= 300:
                break
            duration = round(rng.expovariate(1 / mean_duration), 3)
            rows.append((t + duration, app, func, duration))
    rows.sort()
    with gzip.open(path, "wt", compresslevel=9) as f:
        f.write(HEADER.format(SEED))
        f.write("app,func,end_timestamp,duration\n")
        for end, app, func, duration in rows:
            f.write("%s,%s,%.9f,%.3f\n" % (app, func, end, duration))


def main(argv):
    out = "workloads/traces"
    functions = 2000
    args = list(argv[1:])
    while args:
        a = args.pop(0)
        if a == "--functions":
            functions = int(args.pop(0))
        elif a.startswith("-"):
            print(__doc__, file=sys.stderr)
            return 2
        else:
            out = a
    os.makedirs(out, exist_ok=True)
    rng = random.Random(SEED)
    models_csv(os.path.join(out, "sample_models.csv"), rng)
    azure2019(os.path.join(out, "azure2019_sample.csv.gz"), random.Random(SEED + 1), functions)
    azure2021(os.path.join(out, "azure2021_sample.csv.gz"), random.Random(SEED + 2))
    for name in sorted(os.listdir(out)):
        print("%8d bytes  %s" % (os.path.getsize(os.path.join(out, name)), os.path.join(out, name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
