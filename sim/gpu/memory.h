// GPU memory demand of a placement: model weights, one context per process, and
// activation buffers for every batch that can run at once.
//
// This is what produces seed 003's memory wall (Figure 5): with one process per tenant
// (time-sliced, MPS) every replica pays a context and its own activation buffers, so a
// 16 GB V100 holds 18 ResNet-50 replicas; one process (space-time) pays them once.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "sim/core/policy.h"
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

// Demand of the given models placed together on one GPU under a process model. Batch
// slots: one per process, or for a single process one per distinct architecture (a
// space-time super-kernel per architecture; exclusive holds one tenant).
MemoryDemand memory_demand(const std::vector<const ModelProfile*>& models, ProcessModel processes,
                           const MemorySettings& s);

// The same demand kept up to date as models are placed on a GPU one at a time, so that
// placement asks "does one more fit?" in O(log architectures) instead of recomputing the
// GPU's whole list (which made placing 100,000 tenants quadratic). Adding models in a given
// order gives exactly memory_demand of that list, bit for bit.
class GpuMemory {
 public:
  GpuMemory(ProcessModel processes, const MemorySettings& s) : processes_(processes), s_(s) {}
  MemoryDemand with(const ModelProfile& m) const;  // the demand if `m` were added
  void add(const ModelProfile& m) {
    d_ = with(m);
    archs_.insert(m.name);
    ++models_;
  }
  const MemoryDemand& demand() const { return d_; }
  std::size_t models() const { return models_; }

 private:
  ProcessModel processes_;
  MemorySettings s_;
  MemoryDemand d_;
  std::set<std::string> archs_;  // distinct architectures placed (model names)
  std::size_t models_ = 0;
};

// "19 processes: 9500 MiB context + 1854 MiB weights + 5585 MiB activations = 16939 MiB"
std::string describe(const MemoryDemand& d);

}  // namespace infersim
