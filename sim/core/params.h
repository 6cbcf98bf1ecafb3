// Self-documenting settings of a pluggable component (a policy, an arrival process).
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
// kString: one of `choices` (any text when choices is empty), read with Params::get_text.
enum class ParamKind {
  kNumber,
  kInteger,
  kBool,
  kSeconds,
  kMilliseconds,
  kMicroseconds,
  kString,
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
  // kString: the default (empty: required) and the allowed values.
  std::string default_text = {};
  std::vector<std::string> choices = {};
  // kString: the value is a list of names (a YAML sequence, or one name), kept as the names
  // joined by ','; `choices` then apply to each name. Read with Params::get_list.
  bool list = false;

  static constexpr double kRequired = std::numeric_limits<double>::quiet_NaN();
  bool is_text() const { return kind == ParamKind::kString; }
  bool required() const { return is_text() ? default_text.empty() : std::isnan(default_value); }
};

// Validated values, every declared key present.
class Params {
 public:
  double get(const std::string& key) const;  // throws std::logic_error for undeclared keys
  std::int64_t get_int(const std::string& key) const { return static_cast<std::int64_t>(get(key)); }
  bool get_bool(const std::string& key) const { return get(key) != 0.0; }
  // A time-kind key in nanoseconds, converted by to_ns_checked (resolve_params checked it
  // fits); throws std::logic_error for a key that is not a time.
  SimTime get_ns(const std::string& key) const;
  const std::string& get_text(const std::string& key) const;        // a kString key
  std::vector<std::string> get_list(const std::string& key) const;  // a list kString key
  void set(const std::string& key, double v) { values_[key] = v; }
  // Sets a time-kind key: its value as written, in `unit`.
  void set_time(const std::string& key, double v, TimeUnit unit);
  void set_text(const std::string& key, std::string v) { texts_[key] = std::move(v); }
  const std::map<std::string, double>& values() const { return values_; }
  // Whether the user gave the key (rather than it taking its default).
  bool given(const std::string& key) const { return given_.count(key) > 0; }
  void mark_given(const std::string& key, const Mark& m) { given_[key] = m; }
  // Where the user gave the key; nullptr when it took its default.
  const Mark* mark_of(const std::string& key) const {
    auto it = given_.find(key);
    return it == given_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, double> values_;
  std::map<std::string, TimeUnit> units_;  // the time-kind keys
  std::map<std::string, std::string> texts_;
  std::map<std::string, Mark> given_;
};

// What the user wrote for one key, already converted to the spec's kind by the config
// layer (`value` for numeric kinds, `text` for kString).
struct GivenParam {
  double value = 0;
  Mark mark;
  std::string text = {};
};

// The spec of `key`, or nullptr.
const ParamSpec* find_spec(const std::vector<ParamSpec>& specs, const std::string& key);

// Fills defaults; `given` holds the keys the user wrote. Range and required checks throw
// InputError at the key's mark (or `where` for a missing key).
Params resolve_params(const std::vector<ParamSpec>& specs,
                      const std::map<std::string, GivenParam>& given, const Mark& where,
                      const std::string& what);

// Renders a spec list as aligned "key  default  description" lines (for --help).
std::string describe_params(const std::vector<ParamSpec>& specs);

}  // namespace infersim
