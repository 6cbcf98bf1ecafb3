// GPU memory demand of a placement: model weights, one context per process, and
// activation buffers for every batch that can run at once.
//
// This is what produces seed 003's memory wall (Figure 5): with one process per tenant
// (time-sliced, MPS) every replica pays a context and its own activation buffers, so a
// 16 GB V100 holds 18 ResNet-50 replicas; one process (space-time) pays them once.
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "sim/core/policy.h"
#include "sim/core/time.h"
#include "sim/gpu/profile.h"

namespace infersim {

struct MemorySettings {
  double context_mib = 500;       // per process (policy setting context_mib)
  double activation_factor = 32;  // activation bytes per sample = factor x input bytes
  int max_batch = 16;
};

struct MemoryDemand {
  double weights_mib = 0;
  double context_mib = 0;
  double activation_mib = 0;
  int processes = 0;
  double total() const { return weights_mib + context_mib + activation_mib; }
};

// A model's weights in MiB (the profile gives decimal MB) and in bytes.
double weights_mib(const ModelProfile& m);
std::int64_t weights_bytes(const ModelProfile& m);

// Time to copy a model's weights host -> GPU over PCIe: the profile's transfer_ms (the
// Clockwork table measures it) when given (> 0), else the weights over the GPU's pcie_gbs.
SimTime weights_load_ns(const ModelProfile& m, const GpuSpec& gpu);

// Demand of the given models placed together on one GPU under a process model. Batch
// slots: one per process, or for a single process one per distinct architecture (a
// space-time super-kernel per architecture; exclusive holds one tenant).
MemoryDemand memory_demand(const std::vector<const ModelProfile*>& models, ProcessModel processes,
                           const MemorySettings& s);

// memory_demand() of models added one at a time, each step O(1) (plus a hash lookup of the
// architecture), with the same floating-point sums: placement asks it whether a tenant
// fits on each candidate GPU without re-adding the GPU's models (which made placing 10,000
// tenants quadratic).
class MemoryTally {
 public:
  MemoryTally(ProcessModel processes, const MemorySettings& s) : processes_(processes), s_(s) {}
  // The demand with `m` added (m == nullptr: as it is).
  MemoryDemand with(const ModelProfile* m) const;
  void add(const ModelProfile& m);
  std::size_t count() const { return count_; }
  double largest_weights_mib() const { return largest_mib_; }

 private:
  double activation_of(const ModelProfile& m) const;

  ProcessModel processes_;
  MemorySettings s_;
  std::size_t count_ = 0;
  double weights_mib_ = 0;
  double activation_mib_ = 0;
  double largest_mib_ = 0;
  std::unordered_set<std::string> archs_;
};

// "19 processes: 9500 MiB context + 1854 MiB weights + 5585 MiB activations = 16939 MiB"
std::string describe(const MemoryDemand& d);

}  // namespace infersim
