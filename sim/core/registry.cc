#include <fmt/format.h>

#include <stdexcept>

#include "sim/core/arrival.h"
#include "sim/core/error.h"
#include "sim/core/policy.h"
#include "sim/core/router.h"

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
    list += list.empty() ? "" : ", ";
    list += e.name;
  }
  throw InputError(where, fmt::format("unknown {} '{}' (expected one of: {})", what, name, list));
}

}  // namespace

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

void RouterRegistry::add(RouterInfo info) { add_entry(entries_, std::move(info), "router"); }
const RouterInfo& RouterRegistry::get(const std::string& name, const Mark& where) const {
  return get_entry(entries_, name, where, "router");
}

}  // namespace infersim
