// Self-documenting settings of a pluggable component (a policy, an arrival process, a router).
//
// Each component declares its keys with a description, a default and a range; the config
// layer validates a YAML mapping against that list (unknown keys, wrong types and values
// out of range are errors with file:line:column) and hands the component a Params.
#pragma once

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/time.h"

namespace infersim {

// kSeconds/kMilliseconds/kMicroseconds: a time, written in that unit (the key ends in _s,
// _ms or _us). It is range-checked like a number and must also convert to nanoseconds
// within the horizon (sim/core/time.h); a positive lower bound (min 0, min_exclusive)
// then means at least 1 ns. Components read it as nanoseconds with Params::get_ns.
enum class ParamKind {
  kNumber,
  kInteger,
  kBool,
  kSeconds,
  kMilliseconds,
  kMicroseconds,
  kString,      // one of `choices` (any text when choices is empty)
  kPath,        // a data file; the config layer resolves it (relative to the experiment)
  kNumberList,  // a non-empty list of numbers, each within [min, max]
  kNameList,    // a non-empty list of names (a sequence, or one name), each one of `choices`
};

// The unit of a time kind; nullopt for the other kinds.
std::optional<TimeUnit> time_unit(ParamKind kind);

struct ParamSpec {
  std::string key;
  ParamKind kind = ParamKind::kNumber;
  double default_value = kRequired;  // kRequired: the key must be given (numeric kinds)
  std::string description;           // with units and the source of the default
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;  // value must be > min rather than >= min
  // Text kinds (kString, kPath): the default (empty: required) and the allowed values.
  std::string default_text = {};
  std::vector<std::string> choices = {};
  // The key may be given only when text key `only_with` has one of `only_with_values`
  // (e.g. `minutes` only with `format: azure2019`; a true/false key's values are "true" and
  // "false"); otherwise giving it is an error.
  std::string only_with = {};
  std::vector<std::string> only_with_values = {};

  static constexpr double kRequired = std::numeric_limits<double>::quiet_NaN();
  bool is_text() const { return kind == ParamKind::kString || kind == ParamKind::kPath; }
  bool required() const { return is_text() ? default_text.empty() : std::isnan(default_value); }
};

// Validated values, every declared key present (a list key without a default is empty).
class Params {
 public:
  double get(const std::string& key) const;  // throws std::logic_error for undeclared keys
  std::int64_t get_int(const std::string& key) const { return static_cast<std::int64_t>(get(key)); }
  bool get_bool(const std::string& key) const { return get(key) != 0.0; }
  // A time-kind key in nanoseconds, converted by to_ns_checked (resolve_params checked it
  // fits); throws std::logic_error for a key that is not a time.
  SimTime get_ns(const std::string& key) const;
  void set(const std::string& key, double v) { values_[key] = v; }
  // Sets a time-kind key: its value as written, in `unit`.
  void set_time(const std::string& key, double v, TimeUnit unit);
  const std::string& get_text(const std::string& key) const;
  const std::vector<double>& get_list(const std::string& key) const;        // kNumberList
  const std::vector<std::string>& get_names(const std::string& key) const;  // kNameList
  void set_text(const std::string& key, std::string v) { texts_[key] = std::move(v); }
  void set_list(const std::string& key, std::vector<double> v) { lists_[key] = std::move(v); }
  void set_names(const std::string& key, std::vector<std::string> v) { names_[key] = std::move(v); }
  const std::map<std::string, double>& values() const { return values_; }
  // Whether the user gave the key (rather than it taking its default).
  bool given(const std::string& key) const { return given_.count(key) > 0; }
  void mark_given(const std::string& key, const Mark& m) { given_[key] = m; }
  // Where a given key's value was written; `fallback` for a defaulted key.
  Mark mark_of(const std::string& key, const Mark& fallback) const;
  // Every value as "key=value" lines in key order: equal settings, equal text.
  std::string canonical() const;

 private:
  std::map<std::string, double> values_;
  std::map<std::string, TimeUnit> units_;  // the time-kind keys
  std::map<std::string, std::string> texts_;
  std::map<std::string, std::vector<double>> lists_;
  std::map<std::string, std::vector<std::string>> names_;
  std::map<std::string, Mark> given_;
};

// What the user wrote for one key, already converted to the spec's kind by the config
// layer (`value` for numeric kinds, `text` for text kinds, `list` for kNumberList, `names`
// for kNameList).
struct GivenParam {
  double value = 0;
  Mark mark;
  std::string text = {};
  std::vector<double> list = {};
  std::vector<std::string> names = {};
};
// Fills defaults; `given` holds the keys the user wrote. Range and required checks throw
// InputError at the key's mark (or `where` for a missing key).
Params resolve_params(const std::vector<ParamSpec>& specs,
                      const std::map<std::string, GivenParam>& given, const Mark& where,
                      const std::string& what);

// The spec of `key`, or nullptr.
const ParamSpec* find_spec(const std::vector<ParamSpec>& specs, const std::string& key);

// Renders a spec list as aligned "key  default  description" lines (for --help).
std::string describe_params(const std::vector<ParamSpec>& specs);

}  // namespace infersim
