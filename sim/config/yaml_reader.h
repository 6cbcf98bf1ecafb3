// Strict, mark-preserving access to YAML documents (yaml-cpp 0.7).
//
// yaml-cpp accepts duplicate keys silently and gives missing keys no mark, so every read
// goes through these helpers: duplicate keys, unknown keys, missing keys and wrong types
// become InputError naming file:line:column and what was expected. Nodes are only ever read
// through const references (non-const operator[] inserts keys).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/time.h"

namespace infersim {

// Input files (experiments, profiles, GPU lists) are small; anything larger than this is
// refused before it is read (a FIFO or /dev/zero would otherwise be read until memory ran
// out). 1 MiB is about 10,000 tenant entries written out one by one.
constexpr std::size_t kMaxInputFileBytes = std::size_t{1} << 20;

// The text of an input file: a regular file of at most kMaxInputFileBytes. Anything else
// (missing, a directory, a device or FIFO, too large, unreadable) is an InputError at
// path:1:1.
std::string read_input_file(const std::string& path);

// Parses a file / string holding one YAML document. Syntax errors, duplicate keys, aliases
// (*name: they would share one node between settings, and let a few bytes expand
// exponentially or refer to themselves) and more than one document throw InputError; so
// does a document with nothing in it (at name:1:1).
YAML::Node load_yaml_file(const std::string& path);
YAML::Node load_yaml_string(const std::string& text, const std::string& name);
// A value given on the command line (--set path=VALUE): the same checks, but every error
// is reported at `where` (the --set argument), and an empty value is a null node.
YAML::Node load_yaml_value(const std::string& text, const Mark& where);

Mark mark_of(const YAML::Node& node, const std::string& file);

// What a node is, for messages: "a scalar", "a list", "a mapping" or "empty".
const char* node_kind(const YAML::Node& n);

// Values set from the command line (--set, sweep points) have no place in the file; once
// registered, mark_of() reports them at `where` (e.g. the argument "--set
// tenants.0.arrival.rate=0", or the sweep entry that added a key) instead. The registry is
// per thread; clear it when the tree is no longer used.
void register_override(const YAML::Node& node, const Mark& where);
// Registers `node` and every node below it (keys included).
void register_override_tree(const YAML::Node& node, const Mark& where);
void clear_overrides();
// The thread's registrations, taken out (the registry is left empty), and put back: for a
// tree that is built once and then reused for many parses (PointBuilder).
using Overrides = std::vector<std::pair<YAML::Node, Mark>>;
Overrides take_overrides();
void install_overrides(const Overrides& overrides);

// Scalar conversions with typed errors ("expected a number for 'rate'").
double yaml_double(const YAML::Node& n, const std::string& file, const std::string& what);
std::int64_t yaml_int(const YAML::Node& n, const std::string& file, const std::string& what);
bool yaml_bool(const YAML::Node& n, const std::string& file, const std::string& what);
std::string yaml_string(const YAML::Node& n, const std::string& file, const std::string& what);
// A time-valued key written in `unit`: a number >= 0 converted to nanoseconds by
// to_ns_checked (sim/core/time.h); beyond the horizon is an error naming the limit.
SimTime yaml_time(const YAML::Node& n, const std::string& file, const std::string& what,
                  TimeUnit unit);
// A name (of an experiment, tenant, model): a non-empty string of valid UTF-8 without
// control characters, at most kMaxNameBytes bytes, since names become HDF5 strings,
// table cells and file names that pandas and terminals must read back.
constexpr std::size_t kMaxNameBytes = 255;
std::string yaml_name(const YAML::Node& n, const std::string& file, const std::string& what);
// The same checks for a name that does not come from a node (e.g. a file's stem), throwing
// at `where`.
void check_name(const std::string& name, const Mark& where, const std::string& what);

// Reads one mapping. Its valid keys are given once, when it is opened: any other key is an
// error at once (at the key), so a misspelt key is named as unknown rather than reported
// as the missing key it was meant to be.
class MapReader {
 public:
  // `what` names the mapping in errors, e.g. "tenant", "hardware"; `keys` are its valid keys.
  MapReader(const YAML::Node& node, std::string file, std::string what,
            const std::vector<std::string>& keys);
  // A mapping whose keys another check validates (a component's declared parameters,
  // resolve_params).
  MapReader(const YAML::Node& node, std::string file, std::string what);

  bool has(const std::string& key) const;
  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  Mark mark() const { return mark_of(node_, file_); }
  Mark mark(const std::string& key) const;  // the key's value if present, else the map

  // Required: missing key is an error at the mapping's mark.
  YAML::Node get(const std::string& key);
  double get_double(const std::string& key);
  std::int64_t get_int(const std::string& key);
  std::string get_string(const std::string& key);
  bool get_bool(const std::string& key);
  // Optional with default.
  std::optional<YAML::Node> find(const std::string& key);
  double get_double(const std::string& key, double def);
  std::int64_t get_int(const std::string& key, std::int64_t def);
  std::string get_string(const std::string& key, const std::string& def);
  bool get_bool(const std::string& key, bool def);

  // Time-valued keys (yaml_time); the variant without a default is required.
  SimTime get_time(const std::string& key, TimeUnit unit);
  SimTime get_time(const std::string& key, TimeUnit unit, SimTime def);

  // Range-checked variants: error "expected X > 0" etc. at the value's mark.
  double get_positive(const std::string& key);
  double get_positive(const std::string& key, double def);
  double get_nonnegative(const std::string& key, double def);

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  const YAML::Node* lookup(const std::string& key) const;  // nullptr when absent

  YAML::Node node_;
  std::string file_;
  std::string what_;
  // The mapping's scalar keys and values, read once: yaml-cpp's own lookup converts every
  // key of the mapping on each access, which dominated checking a million sweep points.
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

}  // namespace infersim
