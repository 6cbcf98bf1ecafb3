// Builds one run from a validated experiment (placement, latency tables, policies and
// arrival processes from the registries), runs it and computes its metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/experiment.h"
#include "sim/core/engine.h"
#include "sim/metrics/summary.h"

namespace infersim {

struct RunResult {
  std::uint64_t run = 0;
  int replication = 0;
  std::uint64_t seed = 0;  // the seed the run's streams derive from
  std::string policy;
  LatencySummary all;
  std::vector<LatencySummary> tenants;
  std::vector<std::uint32_t> tenant_gpu;
  double gpu_busy = 0;   // mean over GPUs of the fraction of the window with work running
  double gpu_load = 0;   // mean over GPUs of the solo-utilization-weighted share in use
  double flop_util = 0;  // achieved FLOP/s over peak FP32; NaN when a model's FLOPs are unknown
  double window_s = 0;   // measured span: warm-up to the last completion
  std::uint64_t events = 0;
  double wall_s = 0;
  std::size_t peak_in_flight = 0;
};

// The seed of replication `r`. Runs that differ only in swept settings share it, so every
// policy sees the same arrival trace (common random numbers).
std::uint64_t replication_seed(std::uint64_t experiment_seed, int replication);

// GPU index of each tenant: explicit `gpu:` or round-robin over the GPUs. Throws
// InputError when the placement breaks the policy's rule.
std::vector<std::uint32_t> place_tenants(const Experiment& x, const PolicyInfo& policy);

RunResult simulate(const Experiment& x, const Registries& reg, std::uint64_t run_index,
                   int replication, RequestSink* sink = nullptr);

}  // namespace infersim
