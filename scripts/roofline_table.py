#!/usr/bin/env python3
"""The README's roofline table: `infersim models --roofline` (V100) as Markdown.

usage: infersim models --roofline | roofline_table.py

One row per model with a kernel graph and a Clockwork V100 row: in each cell the predicted
L(b) in ms / the measured one (signed error), at every profiled batch size; then the median
and worst |error| per batch size and over all, as the report prints them.
"""
import sys


def main(lines):
    rows = []  # (model, predicted cells, measured cells, error cells)
    batches = []
    summary = []
    pending = None
    in_summary = False
    for line in lines:
        f = line.split()
        if not f:
            continue
        if f[0] == "model" and f[-1].startswith("L"):
            batches = [x[1:] for x in f if x.startswith("L") and x[1:].isdigit()]
        elif f[0] == "batch" and "median|err|" in f:
            in_summary = True
        elif in_summary:
            summary.append(f)
        elif f[-1] == "predicted":
            pending = (f[0], f[-1 - len(batches):-1])
        elif f[-1] == "measured" and pending:
            meas = f[-1 - len(batches):-1]
            rows.append([pending[0], pending[1], meas, None])
        elif f[-1] == "error" and rows:
            rows[-1][3] = f[-1 - len(batches):-1]
    if not batches or not rows:
        sys.exit("roofline_table.py: no roofline report with measurements on stdin")
    print("| model | " + " | ".join(f"L({b}) ms" for b in batches) + " |")
    print("|---|" + "---|" * len(batches))
    for model, pred, meas, err in rows:
        cells = [f"{p} / {m} ({e})" for p, m, e in zip(pred, meas, err or ["-"] * len(pred))]
        print(f"| {model} | " + " | ".join(cells) + " |")
    print()
    print("| batch | pairs | median \\|error\\| | worst \\|error\\| | worst model |")
    print("|---|---|---|---|---|")
    for s in summary:
        print(f"| {s[0]} | {s[1]} | {s[2]} | {s[3]} | {s[4] if len(s) > 4 else ''} |")


if __name__ == "__main__":
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    main(sys.stdin.read().splitlines())
