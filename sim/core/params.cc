#include "sim/core/params.h"

#include <fmt/format.h>

#include <stdexcept>

namespace infersim {
namespace {

std::string range_text(const ParamSpec& s) {
  std::string range;
  if (std::isfinite(s.min)) range += fmt::format("{} {}", s.min_exclusive ? ">" : ">=", s.min);
  if (std::isfinite(s.max)) range += fmt::format("{}<= {}", range.empty() ? "" : " and ", s.max);
  return range;
}

// Checks one number against the spec's kind and range.
void check_number(const ParamSpec& s, double v, const Mark& m, const std::string& label) {
  if ((s.kind == ParamKind::kInteger) && v != std::floor(v)) {
    throw InputError(m, fmt::format("expected an integer for '{}', got {}", label, v));
  }
  bool low = s.min_exclusive ? !(v > s.min) : !(v >= s.min);
  if (low || v > s.max) {
    throw InputError(m, fmt::format("expected '{}' {}, got {}", label, range_text(s), v));
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

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

const std::vector<double>& Params::get_list(const std::string& key) const {
  auto it = lists_.find(key);
  if (it == lists_.end()) throw std::logic_error("undeclared list parameter: " + key);
  return it->second;
}

const std::vector<std::string>& Params::get_names(const std::string& key) const {
  auto it = names_.find(key);
  if (it == names_.end()) throw std::logic_error("undeclared name-list parameter: " + key);
  return it->second;
}

Mark Params::mark_of(const std::string& key, const Mark& fallback) const {
  auto it = given_.find(key);
  return it == given_.end() ? fallback : it->second;
}

std::string Params::canonical() const {
  std::string out;
  for (const auto& [k, v] : values_) out += fmt::format("{}={}\n", k, v);
  for (const auto& [k, v] : texts_) out += fmt::format("{}={}\n", k, v);
  for (const auto& [k, v] : lists_) {
    out += k + "=[";
    for (std::size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{}", i ? "," : "", v[i]);
    out += "]\n";
  }
  for (const auto& [k, v] : names_) out += fmt::format("{}=[{}]\n", k, join(v));
  return out;
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
    if (!find_spec(specs, key)) {
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
      if (auto unit = time_unit(s.kind)) {
        p.set_time(s.key, s.default_value, *unit);
      } else if (s.is_text()) {
        p.set_text(s.key, s.default_text);
      } else if (s.kind == ParamKind::kNumberList) {
        p.set_list(s.key, {});
      } else if (s.kind == ParamKind::kNameList) {
        p.set_names(s.key, {});
      } else {
        p.set(s.key, s.default_value);
      }
      continue;
    }
    const GivenParam& g = it->second;
    const Mark& m = g.mark;
    p.mark_given(s.key, m);
    if (s.is_text()) {
      if (!s.choices.empty()) {
        bool ok = false;
        for (const auto& c : s.choices) ok = ok || c == g.text;
        if (!ok) {
          throw InputError(m, fmt::format("expected '{}' to be one of: {}, got '{}'", s.key,
                                          join(s.choices), g.text));
        }
      }
      if (g.text.empty()) throw InputError(m, fmt::format("expected a value for '{}'", s.key));
      p.set_text(s.key, g.text);
    } else if (s.kind == ParamKind::kNumberList) {
      if (g.list.empty()) {
        throw InputError(m, fmt::format("expected a non-empty list of numbers for '{}'", s.key));
      }
      for (std::size_t i = 0; i < g.list.size(); ++i) {
        check_number(s, g.list[i], m, fmt::format("{}[{}]", s.key, i));
      }
      p.set_list(s.key, g.list);
    } else if (s.kind == ParamKind::kNameList) {
      if (g.names.empty()) {
        throw InputError(m, fmt::format("expected a non-empty list of names for '{}'", s.key));
      }
      for (const std::string& name : g.names) {
        bool ok = s.choices.empty();
        for (const auto& c : s.choices) ok = ok || c == name;
        if (!ok) {
          throw InputError(m, fmt::format("expected each of '{}' to be one of: {}, got '{}'", s.key,
                                          join(s.choices), name));
        }
      }
      p.set_names(s.key, g.names);
    } else {
      check_number(s, g.value, m, s.key);
      const double v = g.value;
      if (s.kind == ParamKind::kBool && v != 0 && v != 1) {
        throw InputError(m, fmt::format("expected true or false for '{}', got {}", s.key, v));
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
      } else {
        p.set(s.key, v);
      }
    }
  }
  // Keys that apply only with a given value of another key.
  for (const auto& s : specs) {
    if (s.only_with.empty() || !p.given(s.key)) continue;
    // A text key's value, or a true/false key's as "true" / "false".
    const ParamSpec* with = find_spec(specs, s.only_with);
    const std::string v = with && with->kind == ParamKind::kBool
                              ? std::string(p.get_bool(s.only_with) ? "true" : "false")
                              : p.get_text(s.only_with);
    bool ok = false;
    for (const auto& w : s.only_with_values) ok = ok || w == v;
    if (!ok) {
      throw InputError(p.mark_of(s.key, where),
                       fmt::format("'{}' applies only with {}: {} (here {}: {}); give it only "
                                   "where it applies (a sweep can list whole maps, each with "
                                   "its own keys)",
                                   s.key, s.only_with, join(s.only_with_values), s.only_with, v));
    }
  }
  return p;
}

std::string describe_params(const std::vector<ParamSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string def = s.required() ? "required" : fmt::format("{}", s.default_value);
    if (s.kind == ParamKind::kBool && !s.required()) def = s.default_value != 0 ? "true" : "false";
    if (s.is_text() && !s.required()) def = s.default_text;
    if ((s.kind == ParamKind::kNumberList || s.kind == ParamKind::kNameList) && !s.required())
      def = "[]";
    std::string desc = s.description;
    if (!s.choices.empty()) desc += " (" + join(s.choices) + ")";
    if (!s.only_with.empty())
      desc += fmt::format(" [{}: {}]", s.only_with, join(s.only_with_values));
    out += fmt::format("    {:<20} {:<10} {}\n", s.key, def, desc);
  }
  return out;
}

}  // namespace infersim
