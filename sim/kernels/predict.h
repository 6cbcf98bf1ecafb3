// The predictive use of the kernel model: a hardware profile whose latencies come from the
// kernel graphs alone (`hardware.profile: roofline`), for any GPU with `kernel_model:`
// constants in gpus.yaml.
#pragma once

#include <string>
#include <vector>

#include "sim/gpu/profile.h"
#include "sim/kernels/graph.h"

namespace infersim::kernels {

// The batch sizes a predicted profile lists: those of the Clockwork table. Other sizes
// interpolate and extrapolate as in any profile (ModelProfile::latency_ms_at); a kernel-level
// run times every batch size from its kernels directly.
inline const std::vector<int>& predicted_batch_sizes() {
  static const std::vector<int> sizes = {1, 2, 4, 8, 16};
  return sizes;
}

// Every architecture as a profile model, named by each of its Clockwork rows (the names of
// the Clockwork V100 profile, so one experiment runs on either profile), or by its own name
// when it maps to none (e.g. the SGEMM problems). Per model: L(b) = the sum of its kernels'
// roofline times on `gpu` at each predicted batch size; weights, input and output sizes from
// the graph (FP32); transfer_ms = weights / the GPU's PCIe bandwidth; gflop = the conv and FC
// FLOPs per sample; family "roofline"; `architecture` set. Profile::predicted is true and
// `path` is "roofline". Throws std::invalid_argument for a GPU without `kernel_model:`.
Profile predict_profile(const std::vector<Architecture>& archs, const GpuSpec& gpu);

}  // namespace infersim::kernels
