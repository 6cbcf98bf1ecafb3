#include "sim/core/params.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

namespace infersim {

std::optional<TimeUnit> time_unit(ParamKind kind) {
  switch (kind) {
    case ParamKind::kSeconds:
      return TimeUnit::kSeconds;
    case ParamKind::kMilliseconds:
      return TimeUnit::kMilliseconds;
    case ParamKind::kMicroseconds:
      return TimeUnit::kMicroseconds;
    default:
      return std::nullopt;
  }
}

double Params::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("undeclared parameter: " + key);
  return it->second;
}

SimTime Params::get_ns(const std::string& key) const {
  auto unit = units_.find(key);
  if (unit == units_.end()) throw std::logic_error("parameter is not a time: " + key);
  auto ns = to_ns_checked(get(key), unit->second);
  if (!ns) throw std::logic_error("time parameter beyond the horizon: " + key);
  return *ns;
}

void Params::set_time(const std::string& key, double v, TimeUnit unit) {
  values_[key] = v;
  units_[key] = unit;
}

const std::string& Params::get_text(const std::string& key) const {
  auto it = texts_.find(key);
  if (it == texts_.end()) throw std::logic_error("undeclared text parameter: " + key);
  return it->second;
}

std::vector<std::string> Params::get_list(const std::string& key) const {
  const std::string& text = get_text(key);
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t from = 0;
  while (true) {
    const std::size_t comma = text.find(',', from);
    out.push_back(text.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
    if (comma == std::string::npos) return out;
    from = comma + 1;
  }
}

const ParamSpec* find_spec(const std::vector<ParamSpec>& specs, const std::string& key) {
  for (const auto& s : specs) {
    if (s.key == key) return &s;
  }
  return nullptr;
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
      if (s.is_text()) {
        p.set_text(s.key, s.default_text);
      } else if (auto unit = time_unit(s.kind)) {
        p.set_time(s.key, s.default_value, *unit);
      } else {
        p.set(s.key, s.default_value);
      }
      continue;
    }
    const Mark& m = it->second.mark;
    p.mark_given(s.key, m);
    if (s.is_text()) {
      const std::string& text = it->second.text;
      std::vector<std::string> items{text};
      if (s.list) {
        Params one;
        one.set_text(s.key, text);
        items = one.get_list(s.key);
      }
      for (const std::string& item : items) {
        if (!s.choices.empty() &&
            std::find(s.choices.begin(), s.choices.end(), item) == s.choices.end()) {
          throw InputError(m, fmt::format("expected one of {} for '{}', got '{}'",
                                          fmt::join(s.choices, ", "), s.key, item));
        }
      }
      p.set_text(s.key, text);
      continue;
    }
    double v = it->second.value;
    if (s.kind == ParamKind::kInteger && v != std::floor(v)) {
      throw InputError(m, fmt::format("expected an integer for '{}', got {}", s.key, v));
    }
    if (s.kind == ParamKind::kBool && v != 0 && v != 1) {
      throw InputError(m, fmt::format("expected true or false for '{}', got {}", s.key, v));
    }
    bool low = s.min_exclusive ? !(v > s.min) : !(v >= s.min);
    if (low || v > s.max) {
      std::string range;
      if (std::isfinite(s.min)) range += fmt::format("{} {}", s.min_exclusive ? ">" : ">=", s.min);
      if (std::isfinite(s.max))
        range += fmt::format("{}<= {}", range.empty() ? "" : " and ", s.max);
      throw InputError(m, fmt::format("expected '{}' {}, got {}", s.key, range, v));
    }
    if (auto unit = time_unit(s.kind)) {
      // The horizon, and for a time that must be positive at least one nanosecond: a
      // value that rounds to 0 ns would silently mean "none".
      auto ns = to_ns_checked(v, *unit);
      const char* u = unit_suffix(*unit);
      if (!ns) {
        throw InputError(m, fmt::format("expected '{}' <= {:g} {} (the time horizon, 1e18 ns "
                                        "or about 31.7 years), got {}",
                                        s.key, horizon_in(*unit), u, v));
      }
      if (s.min_exclusive && s.min >= 0 && *ns == 0) {
        throw InputError(m, fmt::format("expected '{}' >= {:g} {} (1 ns, the clock's "
                                        "resolution), got {}",
                                        s.key, 1.0 / ns_per(*unit), u, v));
      }
      p.set_time(s.key, v, *unit);
      continue;
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
    if (s.is_text() && !s.required()) def = s.default_text;
    out += fmt::format("    {:<20} {:<10} {}\n", s.key, def, s.description);
  }
  return out;
}

}  // namespace infersim
