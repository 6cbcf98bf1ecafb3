#include "policies/batching.h"

#include <limits>

namespace infersim {

std::vector<ParamSpec> common_policy_params() {
  return {
      {"max_batch", ParamKind::kInteger, 16,
       "largest batch (or super-kernel) size; 16 is the largest size the Clockwork V100 "
       "profile measures",
       1, 4096},
      {"batch_timeout_ms", ParamKind::kMilliseconds, 0,
       "how long a partial batch may wait to fill before it runs; 0 = greedy, "
       "work-conserving batching",
       0},
      {"drop_late", ParamKind::kBool, 0,
       "drop a request at batch formation when even a batch of 1 started now would miss "
       "its SLO (as Clockwork does)",
       0, 1},
      {"granularity",
       ParamKind::kString,
       0,
       "batch: a batch runs as one unit of L(b) GPU time; kernel: as its sequence of kernels "
       "(the model's kernel graph, each kernel timed by the roofline model, calibrated to the "
       "profile's L(b) unless the profile is `roofline`), which the sharing policies schedule "
       "kernel by kernel",
       -std::numeric_limits<double>::infinity(),
       std::numeric_limits<double>::infinity(),
       false,
       "batch",
       {"batch", "kernel"}},
      {"context_mib", ParamKind::kNumber, 500,
       "GPU memory per process for its CUDA context, framework and allocator pools, MiB; with "
       "the activation buffers this makes 18 ResNet-50 processes fill a 16 GB V100 and a 19th "
       "fail, the memory wall of seed 003 (Figure 5)",
       0},
  };
}

PolicyNeeds common_needs(const Params& p, int max_tenants_per_gpu) {
  return PolicyNeeds{max_tenants_per_gpu, p.get("context_mib"),
                     static_cast<int>(p.get_int("max_batch")), kernel_granularity(p)};
}

bool kernel_granularity(const Params& p) { return p.get_text("granularity") == "kernel"; }

std::vector<ParamSpec> kernel_sharing_params() {
  return {
      {"kernel_sharing",
       ParamKind::kString,
       0,
       "granularity kernel: how concurrent kernels share the GPU. sm_budget: side by side "
       "while their SMs fit, each at its solo speed, queued in launch order otherwise; "
       "overlap: every launched kernel runs at once (thread blocks of concurrent kernels "
       "share SMs), and one that starts while k-1 others run takes (1 + u*(k-1)) of its solo "
       "time, u = overlap_floor + (1 - overlap_floor) * its solo share of the GPU's "
       "achievable throughput (kernel_gpu.h)",
       0,
       0,
       false,
       "sm_budget",
       {"sm_budget", "overlap"},
       "granularity",
       {"kernel"}},
      {"overlap_floor",
       ParamKind::kNumber,
       0.30,
       "kernel_sharing overlap: the slowdown a co-running kernel of no throughput share "
       "still causes per other kernel; 0.30 fits one H100 measurement (16 streams of "
       "512x1x512 SGEMMs, 2.56x faster than one at a time: "
       "scripts/kernel_constants/h100/rsweep.txt) and predicts the other shapes there",
       0,
       1,
       false,
       {},
       {},
       "kernel_sharing",
       {"overlap"}},
  };
}

bool overlap_sharing(const Params& p) { return p.get_text("kernel_sharing") == "overlap"; }

}  // namespace infersim
