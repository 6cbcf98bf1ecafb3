#include "sim/kernels/roofline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <tuple>

namespace infersim::kernels {
namespace {

// The FP32 SIMT GEMM and implicit-GEMM convolution kernels cuBLAS and cuDNN launch (CUDA 13
// on an H100, TF32 off), read with Nsight Compute (scripts/kernel_constants/measure.sh; the
// output is in its README.md): the tile of the xmma kernels' names (..._tilesize{A}x{B}x8_
// stage3_...), launch__block_size, launch__registers_per_thread, launch__shared_mem_per_block,
// and the efficiency: FLOPs / duration / FP32 peak of the fastest launch with about two or
// more blocks per SM (a full SM, so the fraction reflects the tile's main loop, not wave
// quantization). The same kernel computes the transposed product with the tile transposed
// (C^T = B^T A^T; NCHW and NHWC layouts), so each tile is offered both ways.
const std::vector<GemmTile>& simt_tiles() {
  static const std::vector<GemmTile> tiles = [] {
    const std::vector<GemmTile> measured = {
        {32, 32, 8, 64, 92, 7552, 0.385},       // conv 512ch 3x3 14x14 batch 8, 784 blocks
        {128, 32, 8, 128, 166, 17920, 0.413},   // conv 512ch 1x1 14x14 batch 32
        {64, 64, 8, 128, 121, 13696, 0.472},    // GEMM 64 x 12544 x 576, 392 blocks
        {128, 64, 8, 128, 224, 19840, 0.633},   // GEMM 512 x 784 x 4608, 260 blocks
        {256, 64, 8, 128, 255, 34304, 0.608},   // conv 512ch 1x1 28x28 batch 32, 784 blocks
        {256, 128, 8, 256, 254, 68608, 0.772},  // GEMM 8192^3, 2048 blocks
    };
    std::vector<GemmTile> all;
    for (const GemmTile& t : measured) {
      all.push_back(t);
      if (t.m != t.n) {
        GemmTile transposed = t;
        std::swap(transposed.m, transposed.n);
        all.push_back(transposed);
      }
    }
    return all;
  }();
  return tiles;
}

// How fast the main loop of one warp of cuBLAS's SIMT GEMM kernels issues when the SM holds
// too few warps to hide its latencies: kCublasWarpIssue of one warp scheduler's FP32 rate (a
// scheduler issues one warp-wide FMA per cycle at most). Measured on the H100 with
// scripts/kernel_constants/waves.cu (h100/waves.txt and waves_kernels.txt, 2026-11-26): 132
// problems of 64 x 64 x k as one cublasSgemmStridedBatched, one 64x64-tile block of 4 warps
// on each SM (the same kernel and grid at both depths, under ncu), took 46.26 ns per unit of
// k (t(k = 4096) - t(k = 1024), fixed time cancelled): 2 x 64 x 64 / 46.26 ns = 177 GFLOP/s
// per SM, 0.349 of the SM's 507 GFLOP/s, with one warp per scheduler. The same kernel
// reached 0.541 with 2 blocks per SM and 0.60-0.62 with 3 to 8: the tile's full-SM rate.
// So an SM runs at min(tile efficiency, resident warps x kCublasWarpIssue / schedulers).
// Checks against measurements not used here: a lone 32x32 cuDNN block (2 warps, README
// "Results"), 187 ns per k step measured, 185 predicted; a lone 256x128 block (8 warps,
// waves.txt) measured at 0.82 of the SM's peak, predicted at 0.70 (its threads hold 4x the
// accumulators of the 64x64 tile's, so its warps issue more FMAs per load). The figure
// belongs to cuBLAS's compiled kernels; TVM's (the Clockwork models) were not measured.
constexpr double kCublasWarpIssue = 0.349;

}  // namespace

std::vector<int> cublas_split_k_factors() { return {1, 2, 4, 8, 16, 32}; }

std::vector<int> split_k_factors(GemmLibrary library) {
  // TVM v0.7's CUDA conv2d template (the Clockwork models) binds only output axes to thread
  // blocks and keeps the whole reduction inside each block (python/tvm/topi/cuda/
  // conv2d_direct.py, schedule_direct_cuda); cuDNN's FP32 convolutions measured on the H100
  // launched one block per output tile as well. cuBLAS split K on small-m*n GEMMs.
  return library == GemmLibrary::kCublas ? cublas_split_k_factors() : std::vector<int>{1};
}

KernelModelParams default_kernel_params(const GpuSpec& gpu) {
  if (!gpu.kernel) {
    throw std::invalid_argument(
        fmt::format("GPU '{}' has no kernel_model constants in gpus.yaml", gpu.name));
  }
  const GpuKernelSpec& k = *gpu.kernel;
  KernelModelParams p;
  p.gpu = gpu.name;
  p.gpu_mark = gpu.mark;
  p.sm_count = gpu.sm_count;
  p.peak_flops = gpu.fp32_tflops * 1e12;
  p.bandwidth = gpu.memory_bandwidth_gbs * 1e9;
  // The measured copy over the datasheet peak (both GB/s, so the ratio is exact).
  p.bandwidth_efficiency = k.copy_bandwidth_gbs / gpu.memory_bandwidth_gbs;
  p.launch_overhead_ns = k.launch_overhead_us * 1e3;
  p.host_launch_interval_ns = k.host_launch_interval_us * 1e3;
  p.memory_latency_ns = k.memory_latency_ns;
  p.max_threads_per_sm = k.max_threads_per_sm;
  p.max_blocks_per_sm = k.max_blocks_per_sm;
  p.registers_per_sm = k.registers_per_sm;
  p.shared_bytes_per_sm = k.shared_kib_per_sm * 1024;
  p.schedulers_per_sm = k.schedulers_per_sm;
  // The tile catalogue is the GEMM library's, not the GPU's: the same SIMT kernels on every
  // GPU, reaching the fraction of its FP32 peak measured on the H100 (an assumption for the
  // others, README "kernel-model constants").
  p.tiles = simt_tiles();
  p.split_k = split_k_factors(GemmLibrary::kTvm);
  return p;
}

KernelModelParams with_library(KernelModelParams p, GemmLibrary library) {
  p.split_k = split_k_factors(library);
  // cuBLAS runs an SGEMM with n = 1 as a GEMV kernel, alone and batched
  // (scripts/kernel_constants/h100/ncu_kernels.txt: 512x1x512 launches one
  // cublasGemvParamsEx kernel, and no split-K reduce). TVM's models have no such GEMMs.
  p.gemv = library == GemmLibrary::kCublas;
  p.warp_issue = library == GemmLibrary::kCublas ? kCublasWarpIssue : 0.0;
  return p;
}

int blocks_per_sm(const GemmTile& t, const KernelModelParams& p) {
  int n = p.max_blocks_per_sm;
  n = std::min(n, p.max_threads_per_sm / t.threads);
  n = std::min(n, p.registers_per_sm / (t.registers * t.threads));
  n = std::min(n, p.shared_bytes_per_sm / t.shared_bytes);
  return std::max(n, 0);
}

SmNeeds minimum_sm_resources() {
  // The smallest tile is the least in threads, registers and shared memory alike (the 32x32
  // tile); checked here so that a new tile cannot break the loader's guarantee unnoticed.
  const std::vector<GemmTile>& tiles = simt_tiles();
  const auto regs = [](const GemmTile& t) { return t.registers * t.threads; };
  const GemmTile& least =
      *std::min_element(tiles.begin(), tiles.end(), [&](const GemmTile& a, const GemmTile& b) {
        return std::tie(a.threads, a.shared_bytes) < std::tie(b.threads, b.shared_bytes);
      });
  for (const GemmTile& t : tiles) {
    if (t.threads < least.threads || regs(t) < regs(least) || t.shared_bytes < least.shared_bytes) {
      throw std::logic_error("minimum_sm_resources: no tile is the least in every resource");
    }
  }
  return SmNeeds{std::max(kElementwiseThreads, least.threads), regs(least), least.shared_bytes};
}

namespace {

int available_sms(const KernelModelParams& p, const GpuShare& share) {
  if (share.sms < 0 || share.sms > p.sm_count) {
    throw std::invalid_argument(
        fmt::format("GPU share of {} SMs on a {}-SM GPU", share.sms, p.sm_count));
  }
  if (!(share.bandwidth_fraction > 0) || share.bandwidth_fraction > 1) {
    throw std::invalid_argument("GPU share bandwidth fraction must be in (0, 1]");
  }
  return share.sms == 0 ? p.sm_count : share.sms;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// A modelled time rounded to the nearest ns; beyond the horizon (or NaN) is out of range.
SimTime round_ns(double ns, const KernelModelParams& p) {
  if (!(ns <= static_cast<double>(kHorizon))) {
    throw OutOfModelRange(
        fmt::format("a kernel takes {:g} ns on GPU '{}', beyond the time "
                    "horizon of 1e18 ns",
                    ns, p.gpu));
  }
  return round_nearest(ns);
}

// A block count from a double, checked against kMaxModelCount.
std::int64_t checked_count(double n, const KernelModelParams& p) {
  if (!(n <= static_cast<double>(kMaxModelCount))) {
    throw OutOfModelRange(
        fmt::format("a kernel launches {:g} thread blocks on GPU '{}', more than 2^53", n, p.gpu));
  }
  return static_cast<std::int64_t>(n);
}

double achievable_bandwidth(const KernelModelParams& p, const GpuShare& share) {
  return p.bandwidth * p.bandwidth_efficiency * share.bandwidth_fraction;
}

KernelTime memory_time(const KernelCall& call, const KernelModelParams& p, const GpuShare& share) {
  const int sms = available_sms(p, share);
  KernelTime t;
  t.memory_ns = call.bytes / achievable_bandwidth(p, share) * 1e9;
  t.overhead_ns = p.launch_overhead_ns + p.memory_latency_ns;
  t.memory_bound = true;
  // An element-wise kernel: 256-thread blocks, one element read and written per thread.
  constexpr double kBytesPerBlock = kElementwiseThreads * 2 * kBytesPerElement;
  t.blocks = std::max<std::int64_t>(1, checked_count(std::ceil(call.bytes / kBytesPerBlock), p));
  t.blocks_per_sm = std::min(p.max_blocks_per_sm, p.max_threads_per_sm / kElementwiseThreads);
  if (t.blocks_per_sm < 1) {
    throw std::invalid_argument(
        fmt::format("GPU '{}' cannot hold a {}-thread block on an SM", p.gpu, kElementwiseThreads));
  }
  t.waves = ceil_div(t.blocks, static_cast<std::int64_t>(sms) * t.blocks_per_sm);
  t.sms = static_cast<int>(std::min<std::int64_t>(sms, ceil_div(t.blocks, t.blocks_per_sm)));
  t.sms_touched = static_cast<int>(std::min<std::int64_t>(sms, t.blocks));
  t.ns = round_ns(std::max(t.memory_ns + t.overhead_ns, p.host_launch_interval_ns), p);
  return t;
}

}  // namespace

namespace {

// Throws std::invalid_argument unless `parts` are one or more non-empty GEMMs of one m and k.
void check_gemm_parts(std::span<const KernelCall> parts) {
  if (parts.empty()) throw std::invalid_argument("gemm_time: no GEMM");
  const KernelCall& first = parts.front();
  for (const KernelCall& c : parts) {
    if (c.kind != KernelCall::Kind::kGemm || c.m < 1 || c.n < 1 || c.k < 1 || c.count < 1) {
      throw std::invalid_argument("gemm_time: empty GEMM");
    }
    if (c.m != first.m || c.k != first.k) {
      throw std::invalid_argument("gemm_time: batched GEMMs must share m and k");
    }
  }
}

// The GEMMs of `parts` (checked by check_gemm_parts) as one kernel of `tile` and `split_k`:
// blocks are the sum of the parts' blocks. One part is an ordinary GEMM.
KernelTime parts_time(std::span<const KernelCall> parts, const KernelModelParams& p, int tile,
                      int split_k, const GpuShare& share) {
  const KernelCall& first = parts.front();
  if (tile < 0 || tile >= static_cast<int>(p.tiles.size()) || split_k < 1) {
    throw std::invalid_argument("gemm_time: no such tile or split factor");
  }
  const GemmTile& tl = p.tiles[static_cast<std::size_t>(tile)];
  const int sms = available_sms(p, share);
  KernelTime t;
  t.tile = tile;
  t.split_k = split_k;
  t.blocks_per_sm = blocks_per_sm(tl, p);
  if (t.blocks_per_sm < 1) {
    throw std::invalid_argument(fmt::format(
        "gemm_time: a {}x{} tile's block does not fit on an SM of GPU '{}'", tl.m, tl.n, p.gpu));
  }
  double n_tiles = 0;        // column tiles over all problems
  double bytes = 0, mn = 0;  // traffic and output elements of all problems
  for (const KernelCall& c : parts) {
    n_tiles += static_cast<double>(ceil_div(c.n, tl.n)) * static_cast<double>(c.count);
    bytes += c.bytes;
    mn += static_cast<double>(c.m) * static_cast<double>(c.n) * static_cast<double>(c.count);
  }
  // Exact while below 2^53, which checked_count ensures.
  t.blocks = checked_count(static_cast<double>(ceil_div(first.m, tl.m)) * n_tiles * split_k, p);
  t.waves = ceil_div(t.blocks, static_cast<std::int64_t>(sms) * t.blocks_per_sm);
  t.sms = static_cast<int>(std::min<std::int64_t>(sms, ceil_div(t.blocks, t.blocks_per_sm)));
  t.sms_touched = static_cast<int>(std::min<std::int64_t>(sms, t.blocks));

  // Work of one block: a full tile over its slice of k, rounded up to whole k steps.
  const std::int64_t k_steps = ceil_div(first.k, static_cast<std::int64_t>(split_k) * tl.k);
  const double block_flops = 2.0 * tl.m * tl.n * static_cast<double>(k_steps * tl.k);
  // The busiest SM holds ceil(blocks / SMs) of them; it runs at the tile's fraction of the
  // SM's peak, or slower while too few warps are resident to reach it: for cuBLAS's kernels,
  // each warp issues at most warp_issue of one scheduler's rate (measured, kCublasWarpIssue);
  // for TVM's, whose warp rate is unmeasured, the rate scales with resident warps up to one
  // per scheduler.
  const std::int64_t per_sm = ceil_div(t.blocks, sms);
  const std::int64_t resident = std::min<std::int64_t>(per_sm, t.blocks_per_sm);
  const double warps = static_cast<double>(resident) * (tl.threads / 32.0);
  const double fraction = p.warp_issue > 0
                              ? std::min(tl.efficiency, warps * p.warp_issue / p.schedulers_per_sm)
                              : tl.efficiency * std::min(1.0, warps / p.schedulers_per_sm);
  const double sm_rate = p.peak_flops / p.sm_count * fraction;
  t.compute_ns = static_cast<double>(per_sm) * block_flops / sm_rate * 1e9;

  // Split K as cuBLAS runs it (scripts/kernel_constants/h100/ncu_kernels.txt and
  // ksweep_kernels.txt: a GEMM kernel, then a splitKreduce kernel on the same stream): every
  // slice writes its partial C once, and a second, dependent launch reads the split_k
  // partials and writes C. The reduce is bandwidth-bound, with its own launch and latency,
  // and the host cannot issue it sooner than its launch interval either.
  const double bw = achievable_bandwidth(p, share);
  const double partial_bytes = split_k > 1 ? split_k * mn * kBytesPerElement : 0.0;
  t.memory_ns = (bytes + partial_bytes) / bw * 1e9;
  t.memory_bound = t.memory_ns > t.compute_ns;
  t.overhead_ns = p.launch_overhead_ns + 2.0 * p.memory_latency_ns;
  if (split_k > 1) {
    const double reduce_bytes = (split_k + 1) * mn * kBytesPerElement;
    t.reduce_ns = std::max(p.launch_overhead_ns + p.memory_latency_ns + reduce_bytes / bw * 1e9,
                           p.host_launch_interval_ns);
  }
  t.ns = round_ns(
      std::max(std::max(t.compute_ns, t.memory_ns) + t.overhead_ns, p.host_launch_interval_ns) +
          t.reduce_ns,
      p);
  return t;
}

}  // namespace

KernelTime gemm_time(const KernelCall& call, const KernelModelParams& p, int tile, int split_k,
                     const GpuShare& share) {
  const std::span<const KernelCall> parts(&call, 1);
  check_gemm_parts(parts);
  return parts_time(parts, p, tile, split_k, share);
}

KernelTime batched_kernel_time(std::span<const KernelCall> parts, const KernelModelParams& p,
                               const GpuShare& share) {
  if (parts.empty()) throw std::invalid_argument("batched_kernel_time: no kernel");
  if (parts.front().kind == KernelCall::Kind::kMemory) {
    // One launch moving every part's bytes.
    for (const KernelCall& c : parts) {
      if (c.kind != KernelCall::Kind::kMemory) {
        throw std::invalid_argument("batched_kernel_time: a memory kernel merged with a GEMM");
      }
    }
    return memory_time(summed(parts), p, share);
  }
  check_gemm_parts(parts);
  if (p.gemv &&
      std::all_of(parts.begin(), parts.end(), [](const KernelCall& c) { return c.n == 1; })) {
    // A (batched) GEMV streams its matrices once: bandwidth-bound, one launch.
    return memory_time(summed(parts), p, share);
  }
  if (p.tiles.empty() || p.split_k.empty()) {
    throw std::invalid_argument("kernel_time: the model has no GEMM tiles");
  }
  const std::int64_t k = parts.front().k;
  KernelTime best;
  bool found = false;
  for (int tile = 0; tile < static_cast<int>(p.tiles.size()); ++tile) {
    if (blocks_per_sm(p.tiles[static_cast<std::size_t>(tile)], p) < 1) continue;
    for (const int s : p.split_k) {
      // A split must leave each block at least one k step.
      if (s > 1 && static_cast<std::int64_t>(s) * p.tiles[static_cast<std::size_t>(tile)].k > k) {
        continue;
      }
      const KernelTime t = parts_time(parts, p, tile, s, share);
      // Ties keep the earlier (smaller, unsplit) configuration: deterministic.
      if (!found || t.ns < best.ns) {
        best = t;
        found = true;
      }
    }
  }
  if (!found) {
    throw std::invalid_argument(
        fmt::format("kernel_time: no GEMM tile's block fits on an SM of GPU '{}'", p.gpu));
  }
  return best;
}

KernelTime kernel_time(const KernelCall& call, const KernelModelParams& p, const GpuShare& share) {
  return batched_kernel_time(std::span<const KernelCall>(&call, 1), p, share);
}

InputError out_of_range_error(const Architecture& arch, std::int64_t batch,
                              const KernelModelParams& p, const OutOfModelRange& e) {
  return InputError(arch.mark,
                    fmt::format("architecture '{}' at batch {} on GPU '{}' (at {}) is "
                                "outside the kernel model's range: {}",
                                arch.name, batch, p.gpu, format_mark(p.gpu_mark), e.what()));
}

SimTime add_kernel_times(SimTime a, SimTime b) {
  // Each is within the horizon (round_ns), so the sum of two fits in int64.
  if (a < 0 || b < 0 || a > kHorizon || b > kHorizon || a + b > kHorizon) {
    throw OutOfModelRange(
        fmt::format("kernels take {:g} ns one after another, beyond the time "
                    "horizon of 1e18 ns",
                    static_cast<double>(a) + static_cast<double>(b)));
  }
  return a + b;
}

SimTime model_latency(const std::vector<KernelCall>& calls, const KernelModelParams& p,
                      const GpuShare& share) {
  SimTime total = 0;
  for (const KernelCall& c : calls) total = add_kernel_times(total, kernel_time(c, p, share).ns);
  return total;
}

}  // namespace infersim::kernels
