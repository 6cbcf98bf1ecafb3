#include "sim/gpu/memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace infersim {

namespace {
// Profiles give sizes in decimal units, as the Clockwork table does (weights_mb: 1e6 bytes,
// input_kb: 1e3 bytes; ResNet-50's 602 kB input is 224*224*3*4 = 602,112 bytes); demand is
// reported in MiB (2^20 bytes), the unit GPU memory comes in.
constexpr double kMiBPerMB = 1e6 / (1024.0 * 1024.0);
constexpr double kMiBPerKB = 1e3 / (1024.0 * 1024.0);
}  // namespace

double weights_mib(const ModelProfile& m) { return m.weights_mb * kMiBPerMB; }

std::int64_t weights_bytes(const ModelProfile& m) {
  return static_cast<std::int64_t>(std::llround(m.weights_mb * 1e6));
}

SimTime weights_load_ns(const ModelProfile& m, const GpuSpec& gpu) {
  if (m.transfer_ms > 0) return ms_to_ns(m.transfer_ms);
  return s_to_ns(m.weights_mb * 1e6 / (gpu.pcie_gbs * 1e9));
}

MemoryDemand memory_demand(const std::vector<const ModelProfile*>& models, ProcessModel processes,
                           const MemorySettings& s) {
  MemoryTally tally(processes, s);
  for (const ModelProfile* m : models) tally.add(*m);
  return tally.with(nullptr);
}

double MemoryTally::activation_of(const ModelProfile& m) const {
  return s_.max_batch * (m.input_kb * kMiBPerKB) * s_.activation_factor;
}

MemoryDemand MemoryTally::with(const ModelProfile* m) const {
  MemoryDemand d;
  const std::size_t n = count_ + (m ? 1 : 0);
  if (n == 0) return d;
  // The same sums, in the same order, as memory_demand() over the models in adding order.
  d.weights_mib = m ? weights_mib_ + weights_mib(*m) : weights_mib_;
  d.activation_mib = activation_mib_;
  if (m && (processes_ == ProcessModel::kProcessPerTenant || !archs_.count(m->name))) {
    d.activation_mib += activation_of(*m);
  }
  d.processes = processes_ == ProcessModel::kProcessPerTenant ? static_cast<int>(n) : 1;
  d.context_mib = d.processes * s_.context_mib;
  return d;
}

void MemoryTally::add(const ModelProfile& m) {
  weights_mib_ += weights_mib(m);
  if (processes_ == ProcessModel::kProcessPerTenant || archs_.insert(m.name).second) {
    activation_mib_ += activation_of(m);
  }
  largest_mib_ = std::max(largest_mib_, weights_mib(m));
  ++count_;
}

std::string describe(const MemoryDemand& d) {
  return fmt::format(
      "{} process{}: {:.0f} MiB context + {:.0f} MiB weights + {:.0f} MiB "
      "activations = {:.0f} MiB",
      d.processes, d.processes == 1 ? "" : "es", d.context_mib, d.weights_mib, d.activation_mib,
      d.total());
}

}  // namespace infersim
