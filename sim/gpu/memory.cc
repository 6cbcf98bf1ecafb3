#include "sim/gpu/memory.h"

#include <fmt/format.h>

namespace infersim {

MemoryDemand GpuMemory::with(const ModelProfile& m) const {
  // Profiles give sizes in decimal units, as the Clockwork table does (weights_mb: 1e6
  // bytes, input_kb: 1e3 bytes; ResNet-50's 602 kB input is 224*224*3*4 = 602,112 bytes);
  // demand is reported in MiB (2^20 bytes), the unit GPU memory comes in.
  constexpr double kMiBPerMB = 1e6 / (1024.0 * 1024.0);
  constexpr double kMiBPerKB = 1e3 / (1024.0 * 1024.0);
  MemoryDemand d = d_;
  d.weights_mib += m.weights_mb * kMiBPerMB;
  const double act = s_.max_batch * (m.input_kb * kMiBPerKB) * s_.activation_factor;
  if (processes_ == ProcessModel::kProcessPerTenant || !archs_.count(m.name)) {
    d.activation_mib += act;
  }
  d.processes = processes_ == ProcessModel::kProcessPerTenant ? static_cast<int>(models_ + 1) : 1;
  d.context_mib = d.processes * s_.context_mib;
  return d;
}

MemoryDemand memory_demand(const std::vector<const ModelProfile*>& models, ProcessModel processes,
                           const MemorySettings& s) {
  GpuMemory g(processes, s);
  for (const ModelProfile* m : models) g.add(*m);
  return g.demand();
}

std::string describe(const MemoryDemand& d) {
  return fmt::format(
      "{} process{}: {:.0f} MiB context + {:.0f} MiB weights + {:.0f} MiB "
      "activations = {:.0f} MiB",
      d.processes, d.processes == 1 ? "" : "es", d.context_mib, d.weights_mib, d.activation_mib,
      d.total());
}

}  // namespace infersim
