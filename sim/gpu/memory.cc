#include "sim/gpu/memory.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

namespace infersim {

namespace {
constexpr double kMiBPerMB = 1e6 / (1024.0 * 1024.0);
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
  MemoryDemand d;
  if (models.empty()) return d;
  std::set<std::string> archs;
  for (const ModelProfile* m : models) {
    d.weights_mib += weights_mib(*m);
    double act = s.max_batch * (m->input_kb / 1024.0) * s.activation_factor;
    if (processes == ProcessModel::kProcessPerTenant) {
      d.activation_mib += act;
    } else if (archs.insert(m->name).second) {
      d.activation_mib += act;
    }
  }
  d.processes = processes == ProcessModel::kProcessPerTenant ? static_cast<int>(models.size()) : 1;
  d.context_mib = d.processes * s.context_mib;
  return d;
}

std::string describe(const MemoryDemand& d) {
  return fmt::format(
      "{} process{}: {:.0f} MiB context + {:.0f} MiB weights + {:.0f} MiB "
      "activations = {:.0f} MiB",
      d.processes, d.processes == 1 ? "" : "es", d.context_mib, d.weights_mib, d.activation_mib,
      d.total());
}

}  // namespace infersim
