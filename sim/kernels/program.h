// A model's kernels, timed on one GPU (or one share of a GPU), at every batch size up to a
// largest: what the kernel-granular policies run. Built once per (model, share, timing) and
// shared by every tenant of that model; the policies read it, allocating nothing per event.
//
// Two uses of the kernel model (issue 8):
//  - calibrated: the profile measured L(b). Each batch's modelled kernel times are scaled to
//    sum to exactly L(b) ns (integer ns, the rounding distributed by largest remainder), so a
//    batch takes what the profile says; the kernel graph supplies the structure: where the
//    kernel boundaries fall and how many SMs each kernel occupies.
//  - predicted (`hardware.profile: roofline`): the modelled times themselves.
//
// A GpuShare (an MPS SM cap, a MIG slice) times the kernels on fewer SMs and less bandwidth;
// their SM counts are then within the share. One program per share. Calibrated on a share,
// a batch keeps the whole GPU's calibration: it takes L(b) x (its modelled time on the share
// / its modelled time on the whole GPU).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/core/time.h"
#include "sim/kernels/graph.h"
#include "sim/kernels/kernel_call.h"
#include "sim/kernels/roofline.h"

namespace infersim::kernels {

struct TimedKernel {
  SimTime ns = 0;  // duration when it has its SMs to itself (calibrated or predicted)
  // SMs it occupies while it runs: its thread blocks spread one per SM, as the block
  // scheduler deals them (KernelTime::sms_touched; the kernel's time assumes exactly this
  // placement). A multi-wave kernel occupies every SM of its share.
  int sms = 0;
  // The fraction of the GPU's achievable throughput the kernel reaches alone: the larger of
  // its FLOP rate over the best tile's rate (peak x best tile efficiency) and its byte rate
  // over the achievable bandwidth, at `ns`, at most 1 (solo_share below). What the
  // `kernel_sharing: overlap` law of kernel_gpu.h slows co-running kernels by.
  float share = 0;
};

// A kernel's solo share (TimedKernel::share) when call `c` takes `ns` on the GPU of `p`.
float solo_share(const KernelCall& c, SimTime ns, const KernelModelParams& p);

// One batch: its kernels in launch order.
struct BatchKernels {
  std::vector<TimedKernel> kernels;
  std::vector<SimTime> end;         // end[i]: time into the batch at which kernel i ends
  std::vector<std::int64_t> sm_ns;  // sm_ns[i]: SM-ns of kernels 0..i (sum of ns x sms)

  SimTime total() const { return end.empty() ? 0 : end.back(); }
  // The first kernel boundary at or after `offset` into the batch: where a context that
  // may switch only between kernels is preempted after running to `offset`. total() for an
  // offset at or past the end.
  SimTime boundary_at_or_after(SimTime offset) const;
  // Appends a kernel, extending `end` and `sm_ns`.
  void push(const TimedKernel& k);
};

struct KernelProgram {
  std::string model;
  const Architecture* architecture = nullptr;
  KernelModelParams params;  // the GPU's constants with the architecture's GEMM library
  GpuShare share;
  bool calibrated = false;
  std::vector<std::vector<KernelCall>> calls;  // [b]: lower(architecture, b); [0] empty
  std::vector<BatchKernels> batches;           // [b]: the timed kernels; [0] empty
  std::vector<double> scale;                   // [b]: L(b) / modelled total; 1 when predicted

  int max_batch() const { return static_cast<int>(batches.size()) - 1; }
};

// Scales integer durations to sum to exactly `target` ns: duration i gets
// floor(t_i * target / T) (T = their sum) and the ns left over go one each to the largest
// remainders, ties to the earlier one; exact integer arithmetic. With T = 0 the target is
// spread evenly. The calibration of build_program.
std::vector<SimTime> calibrate_durations(const std::vector<SimTime>& t, SimTime target);

// Lowers `arch` at b = 1..max_batch and times every kernel on `share` of the GPU of `gpu`
// (with the architecture's library). `measured_ns` empty: predicted times; otherwise
// measured_ns[b] = L(b) for b = 1..max_batch (index 0 unused) and each batch is calibrated
// to it exactly. Throws std::invalid_argument for max_batch < 1, a wrong-sized measured_ns
// or a share larger than the GPU.
KernelProgram build_program(const Architecture& arch, std::string model, int max_batch,
                            const KernelModelParams& gpu, const GpuShare& share = {},
                            const std::vector<SimTime>& measured_ns = {});

// The kernels of a space-time super-kernel: the batches of several tenants of the program's
// model (`part_batches`, one batch size per tenant riding in it) with layer i of every part
// merged into one batched kernel (batched_kernel_time: blocks are the sum of the parts'),
// kernel by kernel. Calibrated, their total is scaled by the calibration of a batch of the
// parts' total size, rounded to the nearest ns (at least 1) and split over the kernels as
// calibrate_durations does. One part of b is batches[b] itself.
// Throws std::invalid_argument for no parts, a part outside 1..max_batch or a total above
// max_batch.
BatchKernels merge_batches(const KernelProgram& p, std::span<const int> part_batches);

}  // namespace infersim::kernels
