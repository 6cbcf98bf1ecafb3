// Hardware profiles: per-model latency tables L(b) measured on one GPU (e.g. the Clockwork
// V100 table in hardware_profiles/v100_clockwork.yaml), and GPU specifications
// (hardware_profiles/gpus.yaml).
//
// Profile file layout:
//   gpu: v100                        # the GPU the latencies were measured on
//   models:
//     resnet50_v1:                   # model name (unique)
//       family: ResNet               # optional, default ""
//       input_kb: 602                # required, >= 0
//       output_kb: 4                 # required, >= 0
//       weights_mb: 102.3            # required, >= 0
//       transfer_ms: 8.33            # required, >= 0 (weights host->GPU)
//       latency_ms: {1: 2.61, 2: 3.78, 4: 5.61, 8: 9.13, 16: 15.67}
//                                    # required: batch size (integer >= 1, strictly
//                                    # ascending in the file, at least 2 of them) ->
//                                    # latency in ms (> 0, non-decreasing in batch size)
//       gflop: 7.6                   # optional FLOPs per inference in GFLOP (> 0)
//       architecture: resnet50_v1    # optional: its kernel graph (default: the architecture
//                                    # named like the model or listing it as a Clockwork row)
//   provenance:                      # optional: how a profile was measured (written by
//     device: "AMD EPYC x2 cores"    # `infersim profile`): key -> text. `device` names the
//     backend: cpu                   # hardware; `infersim measure` refuses a profile whose
//     date: 2026-11-25T15:00:00Z     # device is not the one it runs on
//
// GPU file layout:
//   gpus:
//     v100: {memory_gib: 16, fp32_tflops: 15.7, fp16_tflops: 125,
//            memory_bandwidth_gbs: 900, sm_count: 80, pcie_gbs: 16,   # all required, > 0
//            kernel_model: {...}}    # optional: the kernel-level model's constants (GpuKernelSpec)
//
// The files are read by sim/config/hardware_files.h; every problem in either is an
// InputError naming file:line:column.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/error.h"

namespace infersim {

struct ModelProfile {
  std::string name, family;
  double input_kb = 0, output_kb = 0, weights_mb = 0, transfer_ms = 0;
  double gflop = 0;                // FLOPs per inference in GFLOP; 0 = unknown
  std::string architecture;        // kernel graph named by the profile; "" = look up by name
  std::vector<int> batch_sizes;    // ascending profiled sizes, e.g. 1 2 4 8 16
  std::vector<double> latency_ms;  // L(b) at batch_sizes (> 0, non-decreasing)
  Mark mark;                       // where the model is defined (its name key)

  // L(b) in ms for a batch of size b > 0 (b may be fractional):
  //  - at a profiled size: the profiled value;
  //  - between two profiled sizes: linear interpolation between them;
  //  - above the largest: linear extrapolation from the last two points. Since profiles
  //    are non-decreasing, this never falls below the largest profiled latency;
  //  - below the smallest (b1): linear from the first two points, but never below the
  //    proportional line L(b1) * b / b1. The linear part is used while its intercept
  //    (latency at b = 0) is positive; otherwise the proportional line takes over, so
  //    L stays > 0 as b -> 0.
  // The result is positive, continuous and non-decreasing in b.
  // Throws std::invalid_argument if b <= 0 or is not finite, or the profile is empty.
  double latency_ms_at(double b) const;

  // Solo utilization u(b) = (b / L(b)) / max_k (k / L(k)) over profiled sizes k: the
  // fraction of the model's best profiled throughput a batch of b reaches alone. Clamped
  // to (0, 1] (extrapolated sizes above the largest may exceed the profiled peak; they
  // count as 1). Throws std::invalid_argument like latency_ms_at.
  double solo_utilization(double b) const;
};

// The GPU constants of the kernel-level model (sim/kernels/roofline.h) beyond the datasheet
// figures of GpuSpec: `kernel_model:` of a GPU in gpus.yaml, every key required there, each
// with its source in the file's comments. A device without one (e.g. a CPU described like a
// GPU for validation) cannot run the kernel-level model.
struct GpuKernelSpec {
  double copy_bandwidth_gbs = 0;       // achievable device-memory bandwidth (a copy, read + write)
  double launch_overhead_us = 0;       // GPU time per kernel beyond its body
  double host_launch_interval_us = 0;  // the host's fastest launch rate: a floor per kernel
  double memory_latency_ns = 0;        // device-memory load latency
  // Resources that bound the thread blocks resident on one SM (CUDA occupancy limits).
  int max_threads_per_sm = 0, max_blocks_per_sm = 0, registers_per_sm = 0, shared_kib_per_sm = 0;
  int schedulers_per_sm = 0;  // warp schedulers (instructions issued per cycle)
};

// One MIG GPU-instance profile of a GPU (NVIDIA MIG user guide, `nvidia-smi mig -lgip` and
// `-lgipp`; sources in gpus.yaml). A MIG-capable GPU has compute slices (7 on A100/H100/H200)
// and memory slices (8); an instance owns `compute_slices` of the first and `memory_slices` of
// the second, with the L2 cache banks and memory controllers behind them.
struct MigProfile {
  std::string name;  // e.g. "3g.40gb"
  int compute_slices = 0;
  int memory_slices = 0;
  int sms = 0;           // SMs the instance gets (`-lgip` SM column)
  int copy_engines = 0;  // `-lgip` CE column (carried for reference: copies are not simulated)
  // Where it may be placed: first memory slice of each allowed placement (`-lgipp`); it then
  // spans memory_slices slices from there.
  std::vector<int> starts;
  Mark mark;
};

struct MigSpec {
  int compute_slices = 0;  // 0: the GPU has no MIG
  int memory_slices = 0;
  std::vector<MigProfile> profiles;                       // in file order
  const MigProfile* find(const std::string& name) const;  // nullptr if absent
};

struct GpuSpec {
  std::string name;
  double memory_gib = 0, fp32_tflops = 0, fp16_tflops = 0, memory_bandwidth_gbs = 0, pcie_gbs = 0;
  int sm_count = 0;
  Mark mark;                            // where the GPU is defined (its name key)
  std::optional<GpuKernelSpec> kernel;  // `kernel_model:`; absent: no kernel-level model
  MigSpec mig;                          // `mig:`; compute_slices 0: not MIG-capable
};

struct Profile {
  std::string path;
  std::string gpu;  // the GPU the profile was measured on (predicted for, if `predicted`)
  // Latencies predicted by the roofline model from kernel graphs (`hardware.profile:
  // roofline`) rather than measured; a kernel-level model then times kernels by themselves
  // instead of splitting a measured L(b) over them.
  bool predicted = false;
  std::vector<ModelProfile> models;                         // in file order
  const ModelProfile* find(const std::string& name) const;  // nullptr if absent
  // How it was measured (`provenance:`), in file order; empty for a published table.
  std::vector<std::pair<std::string, std::string>> provenance;
  // The provenance value of `key`, or "" when absent.
  std::string provenance_of(const std::string& key) const {
    for (const auto& [k, v] : provenance) {
      if (k == key) return v;
    }
    return "";
  }
};

// nullptr if absent; names are matched exactly.
const GpuSpec* find_gpu(const std::vector<GpuSpec>& gpus, const std::string& name);

// Prints the model table aligned, a header line and then one model a line: name, family,
// weights MB, transfer ms, L(1) L(2) L(4) L(8) L(16) in ms, u(1), gflop ("-" if unknown).
void print_models(const Profile& p, std::ostream& out);

}  // namespace infersim
