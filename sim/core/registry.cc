#include <fmt/format.h>

#include <stdexcept>

#include "sim/core/arrival.h"
#include "sim/core/error.h"
#include "sim/core/policy.h"

namespace infersim {
namespace {

template <typename Entry>
void add_entry(std::vector<Entry>& entries, Entry info, const char* what) {
  for (const auto& e : entries) {
    if (e.name == info.name) throw std::logic_error(fmt::format("duplicate {} '{}'", what, e.name));
  }
  entries.push_back(std::move(info));
}

template <typename Entry>
const Entry& get_entry(const std::vector<Entry>& entries, const std::string& name,
                       const Mark& where, const char* what) {
  std::string list;
  for (const auto& e : entries) {
    if (e.name == name) return e;
    list += (list.empty() ? "" : ", ") + e.name;
  }
  throw InputError(where, fmt::format("unknown {} '{}' (expected one of: {})", what, name, list));
}

}  // namespace

std::vector<ParamSpec> common_policy_params() {
  return {
      {"max_batch", ParamKind::kInteger, 16,
       "largest batch (or super-kernel) size; 16 is the largest size the Clockwork V100 "
       "profile measures",
       1, 4096},
      {"batch_timeout_ms", ParamKind::kNumber, 0,
       "how long a partial batch may wait to fill before it runs; 0 = greedy, "
       "work-conserving batching",
       0},
      {"drop_late", ParamKind::kBool, 0,
       "drop a request at batch formation when even a batch of 1 started now would miss "
       "its SLO (as Clockwork does)",
       0, 1},
      {"context_mib", ParamKind::kNumber, 500,
       "GPU memory per process for its CUDA context, framework and allocator pools, MiB; with "
       "the activation buffers this makes 18 ResNet-50 processes fill a 16 GB V100 and a 19th "
       "fail, the memory wall of seed 003 (Figure 5)",
       0},
  };
}

void PolicyRegistry::add(PolicyInfo info) { add_entry(entries_, std::move(info), "policy"); }
const PolicyInfo& PolicyRegistry::get(const std::string& name, const Mark& where) const {
  return get_entry(entries_, name, where, "policy");
}
void ArrivalRegistry::add(ArrivalInfo info) {
  add_entry(entries_, std::move(info), "arrival process");
}
const ArrivalInfo& ArrivalRegistry::get(const std::string& name, const Mark& where) const {
  return get_entry(entries_, name, where, "arrival process");
}

}  // namespace infersim
