#!/usr/bin/env python3
"""FP32 GEMM and convolution kernels on a CUDA GPU, through PyTorch (cuBLAS, cuDNN), TF32 off.

  python3 tiles.py run             copy bandwidth, an 8192^3 GEMM, and single-layer latencies
                                   (CUDA-graph replays, so no host overhead)
  ncu ... python3 tiles.py profile every case once, each under an NVTX range F<flops>
  python3 tiles.py parse N.csv     per kernel: tile, threads, registers, shared memory, grid,
                                   duration and the fraction of FP32 peak; then the best
                                   fraction per tile over launches of >= 2 blocks per SM

measure.sh runs all three. The peak is SMs x 128 FP32 lanes x 2 x the SM clock (Hopper).
"""
import csv
import itertools
import re
import sys
from collections import defaultdict

CONVS = list(itertools.product([64, 128, 256, 512], [1, 3], [7, 14, 28], [8, 32]))
GEMMS = [(8192, 8192, 8192), (512, 784, 4608), (64, 12544, 576), (128, 3136, 576),
         (512, 1, 512), (256, 128, 1152), (256, 256, 256)]
LAYERS_B1 = [(512, 3, 7, 1), (256, 3, 14, 1)]  # batch-1 ResNet-50 3x3 convs: lone blocks


def torch_setup():
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    return torch


def graph_ms(torch, f, n=50):
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        for _ in range(3):
            f()
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        f()
    g.replay()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(n):
        g.replay()
    b.record()
    torch.cuda.synchronize()
    return a.elapsed_time(b) / n


def peak_flops(torch):
    import subprocess
    mhz = int(subprocess.check_output(["nvidia-smi", "--query-gpu=clocks.max.sm",
                                       "--format=csv,noheader,nounits"]).split()[0])
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    return sms * 128 * 2 * mhz * 1e6


def run():
    torch = torch_setup()
    peak = peak_flops(torch)
    print(f"GPU {torch.cuda.get_device_name(0)}; FP32 peak {peak / 1e12:.1f} TFLOP/s")
    a = torch.empty(2 ** 28, device="cuda")
    b = torch.empty_like(a)
    for _ in range(5):
        b.copy_(a)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(20):
        b.copy_(a)
    end.record()
    torch.cuda.synchronize()
    eager = start.elapsed_time(end) / 20
    graph = graph_ms(torch, lambda: b.copy_(a), 20)
    for how, ms in (("eager copies", eager), ("CUDA-graph replays", graph)):
        print(f"copy of 1 GiB ({how}): {2 * a.numel() * 4 / ms / 1e6:.0f} GB/s "
              "counting read + write")
    del a, b
    A = torch.randn(8192, 8192, device="cuda")
    B = torch.randn(8192, 8192, device="cuda")
    ms = graph_ms(torch, lambda: torch.mm(A, B), 10)
    tf = 2 * 8192 ** 3 / ms / 1e9
    print(f"8192^3 GEMM: {tf:.1f} TFLOP/s = {tf * 1e12 / peak:.3f} of peak")
    with torch.no_grad():
        for c, k, hw, bs in LAYERS_B1:
            conv = torch.nn.Conv2d(c, c, k, padding=k // 2, bias=False).cuda()
            x = torch.randn(bs, c, hw, hw, device="cuda")
            ms = graph_ms(torch, lambda: conv(x), 200)
            steps = c * k * k // 8
            print(f"conv {c}ch {k}x{k} {hw}x{hw} batch {bs}: {ms * 1e3:.1f} us, "
                  f"{ms * 1e6 / steps:.0f} ns per k-step of 8 ({steps} steps)")


def profile():
    torch = torch_setup()

    def once(label, f):
        for _ in range(2):
            f()
        torch.cuda.synchronize()
        torch.cuda.nvtx.range_push(label)
        f()
        torch.cuda.synchronize()
        torch.cuda.nvtx.range_pop()

    with torch.no_grad():
        for c, k, hw, bs in CONVS + LAYERS_B1:
            conv = torch.nn.Conv2d(c, c, k, padding=k // 2, bias=False).cuda()
            x = torch.randn(bs, c, hw, hw, device="cuda")
            once(f"F{2 * c * c * k * k * hw * hw * bs}:conv{c}k{k}hw{hw}b{bs}", lambda: conv(x))
        for m, n, k in GEMMS:
            A = torch.randn(m, k, device="cuda")
            B = torch.randn(k, n, device="cuda")
            once(f"F{2 * m * n * k}:gemm{m}x{n}x{k}", lambda: torch.mm(A, B))


def parse(path):
    torch = torch_setup()
    peak = peak_flops(torch)
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    rows = list(csv.DictReader(l for l in open(path) if l.startswith('"')))
    nvtx = next(c for c in rows[0] if "Push/Pop" in c)
    kernels = {}
    for r in rows:
        k = kernels.setdefault(r["ID"], {"name": r["Kernel Name"], "range": r[nvtx]})
        k[r["Metric Name"].split("__")[1]] = float(r["Metric Value"].replace(",", ""))
    best = defaultdict(list)
    print("case | kernel tile | threads regs shared grid | us | fraction of peak")
    for _, k in sorted(kernels.items(), key=lambda kv: int(kv[0])):
        label = re.search(r"F(\d+):(\w+)", k["range"])
        tile = re.search(r"tilesize(\d+x\d+)x\d+", k["name"])
        if not label:
            continue
        name = tile.group(1) if tile else k["name"].split("<")[0].split("(")[0][-40:]
        us = k["gpu__time_duration.sum" if "gpu__time_duration.sum" in k else
               "time_duration.sum"] / 1e3
        frac = int(label.group(1)) / (us * 1e-6) / peak
        grid, threads = int(k["grid_size"]), int(k["block_size"])
        print(f"{label.group(2)} | {name} | {threads} {int(k['registers_per_thread'])} "
              f"{int(k['shared_mem_per_block'])} {grid} | {us:.1f} | {frac:.3f}")
        if tile and grid >= 2 * sms:
            best[name].append((frac, label.group(2)))
    print("\nbest fraction of peak per tile over launches of >= 2 blocks per SM:")
    for name, v in sorted(best.items()):
        frac, case = max(v)
        print(f"  {name}: {frac:.3f} ({case}; {len(v)} launches)")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "run"
    if mode == "run":
        run()
    elif mode == "profile":
        profile()
    elif mode == "parse":
        parse(sys.argv[2])
    else:
        sys.exit(__doc__)
