#include "sim/core/params.h"

#include <fmt/format.h>

#include <stdexcept>

namespace infersim {

double Params::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("undeclared parameter: " + key);
  return it->second;
}

Params resolve_params(const std::vector<ParamSpec>& specs,
                      const std::map<std::string, GivenParam>& given, const Mark& where,
                      const std::string& what) {
  Params p;
  for (const auto& [key, gp] : given) {
    bool known = false;
    for (const auto& s : specs) known = known || s.key == key;
    if (!known) {
      std::string list;
      for (const auto& s : specs) list += (list.empty() ? "" : ", ") + s.key;
      throw InputError(
          gp.mark, fmt::format("unknown key '{}' in {} (expected one of: {})", key, what, list));
    }
  }
  for (const auto& s : specs) {
    auto it = given.find(s.key);
    if (it == given.end()) {
      if (s.required()) {
        throw InputError(where,
                         fmt::format("missing key '{}' in {} ({})", s.key, what, s.description));
      }
      p.set(s.key, s.default_value);
      continue;
    }
    double v = it->second.value;
    const Mark& m = it->second.mark;
    if (s.kind == ParamKind::kInteger && v != std::floor(v)) {
      throw InputError(m, fmt::format("expected an integer for '{}', got {}", s.key, v));
    }
    bool low = s.min_exclusive ? !(v > s.min) : !(v >= s.min);
    if (low || v > s.max) {
      std::string range;
      if (std::isfinite(s.min)) range += fmt::format("{} {}", s.min_exclusive ? ">" : ">=", s.min);
      if (std::isfinite(s.max))
        range += fmt::format("{}<= {}", range.empty() ? "" : " and ", s.max);
      throw InputError(m, fmt::format("expected '{}' {}, got {}", s.key, range, v));
    }
    p.set(s.key, v);
  }
  return p;
}

std::string describe_params(const std::vector<ParamSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string def = s.required() ? "required" : fmt::format("{}", s.default_value);
    if (s.kind == ParamKind::kBool && !s.required()) def = s.default_value != 0 ? "true" : "false";
    out += fmt::format("    {:<20} {:<10} {}\n", s.key, def, s.description);
  }
  return out;
}

}  // namespace infersim
