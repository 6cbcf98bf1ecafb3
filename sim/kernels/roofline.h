// Roofline kernel-time model: how long one KernelCall takes on a GPU (or on a slice of one),
// as thread-block tiles in waves over the SMs, bounded by device-memory bandwidth, plus the
// fixed cost of a launch. Pure functions; no engine state.
//
// A kGemm call (m, n, k) x count runs as thread blocks, each computing a t_m x t_n tile of C
// over k / split_k of the common dimension:
//   blocks      = ceil(m / t_m) * ceil(n / t_n) * count * split_k
//   per block   = 2 * t_m * t_n * ceil(k / (split_k * t_k)) * t_k FLOPs (a partial tile
//                 costs a full one: tile quantization)
//   busiest SM  = ceil(blocks / SMs) blocks (the block scheduler deals blocks evenly)
//   compute     = busiest SM's blocks * per block / SM rate, where an SM runs at
//                 peak / SM count * min(tile efficiency,
//                                       resident warps * warp_issue / schedulers)
//                 for cuBLAS's kernels (a warp of them issues at most a measured 0.349 of
//                 its scheduler's rate, roofline.cc), and for TVM's at
//                 peak / SM count * tile efficiency * min(1, resident warps / schedulers):
//                 the tile's main loop reaches a measured fraction of peak on a full SM, and
//                 too few resident warps leave issue slots idle
//   memory      = (call bytes + split_k * m * n * count * 4 partial-sum bytes when split)
//                 / (bandwidth * bandwidth_efficiency)
//   time        = max(compute, memory) + launch_overhead + 2 * memory_latency
//                 (the first tile's loads and the last tile's stores are not overlapped),
//                 and never less than the host's launch interval;
//                 plus, when K is split, the reduce kernel cuBLAS launches after it:
//   reduce      = launch_overhead + memory_latency
//                 + (split_k + 1) * m * n * count * 4 B / (bandwidth * bandwidth_efficiency),
//                 and never less than the host's launch interval.
// With full waves (blocks a multiple of SMs * blocks_per_sm) the compute term is exactly
// waves x (blocks_per_sm x per-block time): the "waves x tile time" of a wave-quantized
// roofline; partial waves are charged for the blocks they hold, not for a full wave.
// The library picks the tile and split-K factor with the least time, as cuBLAS's
// heuristics and TVM's auto-tuning do; the split-K factors it may use are a property of the
// library (none for TVM's and cuDNN's convolutions, see default_kernel_params). A kMemory call
// takes
//   launch_overhead + memory_latency + bytes / (bandwidth * bandwidth_efficiency),
// and so does a matrix-vector product (n = 1) where the library runs it as a GEMV kernel
// (cuBLAS: KernelModelParams::gemv).
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/time.h"
#include "sim/gpu/profile.h"
#include "sim/kernels/graph.h"
#include "sim/kernels/kernel_call.h"

namespace infersim::kernels {

// One thread-block configuration of an FP32 (SIMT) GEMM kernel.
struct GemmTile {
  int m = 0, n = 0;       // output tile
  int k = 8;              // common-dimension step per main-loop iteration
  int threads = 0;        // per block
  int registers = 0;      // per thread
  int shared_bytes = 0;   // per block
  double efficiency = 0;  // fraction of the SM's peak its main loop reaches on a full SM
};

// Everything the model needs to time a kernel: the GPU's datasheet figures and its
// `kernel_model:` constants from hardware_profiles/gpus.yaml (each sourced there), and the
// GEMM library's tile catalogue and split-K factors (below, sourced in roofline.cc). The tile
// catalogue stays in code rather than a data file: it describes one software stack's compiled
// kernels (CUDA 13 cuBLAS / cuDNN SIMT GEMMs, their threads, registers and shared memory are
// fixed by the library's binaries), the same on every GPU, and changing it changes the model
// rather than describing new hardware.
struct KernelModelParams {
  std::string gpu;
  Mark gpu_mark;                       // the GPU's entry in gpus.yaml, for errors
  int sm_count = 0;                    // GpuSpec
  double peak_flops = 0;               // FP32 FLOP/s, GpuSpec
  double bandwidth = 0;                // device memory B/s, GpuSpec
  double bandwidth_efficiency = 0;     // copy_bandwidth_gbs / memory_bandwidth_gbs
  double launch_overhead_ns = 0;       // GPU time between dependent kernels
  double host_launch_interval_ns = 0;  // the host's fastest launch rate
  double memory_latency_ns = 0;        // device-memory load latency
  // SM resources that bound resident blocks (CUDA occupancy limits).
  int max_threads_per_sm = 0, max_blocks_per_sm = 0, registers_per_sm = 0, shared_bytes_per_sm = 0,
      schedulers_per_sm = 0;
  std::vector<GemmTile> tiles;  // what the GEMM library can launch
  std::vector<int> split_k;     // split-K factors it may use ({1}: none)
  bool gemv = false;            // it runs n = 1 GEMMs as a bandwidth-bound GEMV kernel
  // The fraction of a scheduler's rate one warp of its GEMM main loop issues at most (0:
  // unmeasured; the SM rate then scales with resident warps up to one per scheduler).
  double warp_issue = 0;
};

// The split-K factors for calls that go through cuBLAS (e.g. the batched SGEMMs of seed 003's
// space-time super-kernels): cuBLAS split K on the small-m*n shapes we profiled (its
// cutlass Kernel2 launches followed by splitKreduce kernels, scripts/kernel_constants/
// README.md); powers of two up to 32 span the slice counts seed 003's shapes (k <= 1152)
// need. cuBLAS went to 64 and 128 slices at k >= 8192 (h100/ksweep_kernels.txt).
std::vector<int> cublas_split_k_factors();

// The split-K factors of the library an architecture's GEMMs go through
// (Architecture::library): {1} for TVM-compiled models, cublas_split_k_factors() for cuBLAS.
std::vector<int> split_k_factors(GemmLibrary library);

// The model for `gpu` from its gpus.yaml entry (datasheet fields and `kernel_model:`), with
// the SIMT tile catalogue and TVM's split-K factors (none). Throws std::invalid_argument for a
// GPU without `kernel_model:`.
KernelModelParams default_kernel_params(const GpuSpec& gpu);

// `p` with the split-K factors of `library`, and for cuBLAS its GEMV kernel for n = 1 and
// its measured warp issue rate.
KernelModelParams with_library(KernelModelParams p, GemmLibrary library);

// The part of a GPU a kernel may use: an MPS SM cap or a MIG slice. Zero / 1.0 = all.
struct GpuShare {
  int sms = 0;                    // SMs available (0: all of them)
  double bandwidth_fraction = 1;  // fraction of device-memory bandwidth available
};

struct KernelTime {
  SimTime ns = 0;           // total, rounded to the nearest nanosecond
  double compute_ns = 0;    // tile work on the busiest SM
  double memory_ns = 0;     // bytes / achievable bandwidth
  double overhead_ns = 0;   // launch and latency terms
  double reduce_ns = 0;     // the split-K reduce kernel (0 unless split_k > 1)
  std::int64_t blocks = 0;  // thread blocks launched
  std::int64_t waves = 0;   // ceil(blocks / (SMs * blocks_per_sm))
  int blocks_per_sm = 0;    // resident blocks an SM can hold (occupancy)
  int sms = 0;              // SMs' worth of block slots: min(SMs, ceil(blocks / blocks_per_sm))
  int sms_touched = 0;      // SMs that receive a block: min(SMs, blocks)
  int tile = -1;            // index into params.tiles; -1 for kMemory
  int split_k = 1;
  bool memory_bound = false;
};

// Resident blocks of `tile` per SM: the least of the thread, block, register and
// shared-memory limits; 0 when one block of the tile does not fit on an SM (the library then
// launches another tile, as cuBLAS's heuristics only pick kernels the device can run).
int blocks_per_sm(const GemmTile& tile, const KernelModelParams& p);

// Threads per block of the element-wise (memory-bound) kernel: 256, one element each.
inline constexpr int kElementwiseThreads = 256;

// What one SM must hold for the model to run every layer on it: a block of the element-wise
// kernel (it has no alternative) and a block of the smallest tile of the catalogue (a GEMM
// falls back to it when larger tiles do not fit). The gpus.yaml loader refuses a GPU whose
// `kernel_model:` offers less, so blocks_per_sm is never 0 for every tile.
struct SmNeeds {
  int threads = 0;       // max(kElementwiseThreads, the smallest tile's threads)
  int registers = 0;     // the smallest tile's registers x threads
  int shared_bytes = 0;  // the smallest tile's shared memory
};
SmNeeds minimum_sm_resources();

// Time of one kernel with a given tile and split-K factor (no choice made).
KernelTime gemm_time(const KernelCall& call, const KernelModelParams& p, int tile, int split_k,
                     const GpuShare& share = {});

// Time of one kernel; for a GEMM, the fastest tile and split-K factor.
// Throws std::invalid_argument for an empty GEMM or a share larger than the GPU, and
// OutOfModelRange for a time beyond the horizon or more than 2^53 blocks.
KernelTime kernel_time(const KernelCall& call, const KernelModelParams& p,
                       const GpuShare& share = {});

// Time of several calls of one layer run as one batched kernel, as a space-time
// super-kernel runs the same layer of several tenants (cublasSgemmBatched; MAGMA's vbatched
// when their batch sizes differ): GEMMs of equal m and k whose blocks are the sum of the
// parts' blocks, ceil(m / t_m) * sum_j ceil(n_j / t_n) * count_j * split_k, with the parts'
// bytes and one launch, at the fastest tile and split-K factor; memory kernels move the sum
// of the parts' bytes in one launch. One part is kernel_time. Throws std::invalid_argument
// for no parts, mixed kinds, or GEMMs of different m or k.
KernelTime batched_kernel_time(std::span<const KernelCall> parts, const KernelModelParams& p,
                               const GpuShare& share = {});

// `e`, thrown while timing `arch` at `batch` on the GPU of `p`, as an InputError at the
// architecture's name that also names the GPU's entry in gpus.yaml.
InputError out_of_range_error(const Architecture& arch, std::int64_t batch,
                              const KernelModelParams& p, const OutOfModelRange& e);

// a + b for two kernel-model times in [0, kHorizon]; OutOfModelRange when the sum passes
// the horizon.
SimTime add_kernel_times(SimTime a, SimTime b);

// Predicted latency of a batch: the kernels run one after another on one stream.
// Throws OutOfModelRange when a kernel or the sum lies beyond the horizon (kHorizon).
SimTime model_latency(const std::vector<KernelCall>& calls, const KernelModelParams& p,
                      const GpuShare& share = {});

}  // namespace infersim::kernels
