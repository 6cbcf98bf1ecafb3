#include "sim/config/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace infersim {
namespace {

Mark to_mark(const YAML::Mark& m, const std::string& file) {
  if (m.is_null()) return Mark{file, 0, 0};
  return Mark{file, m.line + 1, m.column + 1};
}

// yaml-cpp keeps the last of duplicate keys silently; walk the tree and reject them.
void check_duplicates(const YAML::Node& n, const std::string& file) {
  if (n.IsMap()) {
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: it->first lives in a temporary proxy
      std::string k = key.IsScalar() ? key.Scalar() : std::string("<complex key>");
      if (!seen.insert(k).second) {
        throw InputError(to_mark(key.Mark(), file), fmt::format("duplicate key '{}'", k));
      }
      check_duplicates(it->second, file);
    }
  } else if (n.IsSequence()) {
    for (const auto& child : n) check_duplicates(child, file);
  }
}

YAML::Node parse(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(to_mark(e.mark, name), fmt::format("YAML syntax error: {}", e.msg));
  }
  check_duplicates(root, name);
  return root;
}

}  // namespace

YAML::Node load_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(Mark{path, 0, 0}, "cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

YAML::Node load_yaml_string(const std::string& text, const std::string& name) {
  return parse(text, name);
}

namespace {
thread_local std::vector<std::pair<YAML::Node, std::string>> g_overrides;
}  // namespace

void register_override(const YAML::Node& node, const std::string& label) {
  g_overrides.emplace_back(node, label);
}

void clear_overrides() { g_overrides.clear(); }

Mark mark_of(const YAML::Node& node, const std::string& file) {
  for (const auto& [n, label] : g_overrides) {
    if (n.is(node)) return Mark{label, 0, 0};
  }
  return to_mark(node.Mark(), file);
}

const char* node_kind(const YAML::Node& n) {
  if (n.IsScalar()) return "a scalar";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "empty";
}

double yaml_double(const YAML::Node& n, const std::string& file, const std::string& what) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(v)) return v;
  }
  throw InputError(mark_of(n, file), fmt::format("expected a number for '{}'", what));
}

std::int64_t yaml_int(const YAML::Node& n, const std::string& file, const std::string& what) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0) return v;
  }
  throw InputError(mark_of(n, file), fmt::format("expected an integer for '{}'", what));
}

bool yaml_bool(const YAML::Node& n, const std::string& file, const std::string& what) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "no") return false;
  }
  throw InputError(mark_of(n, file), fmt::format("expected true or false for '{}'", what));
}

std::string yaml_string(const YAML::Node& n, const std::string& file, const std::string& what) {
  if (n.IsScalar()) return n.Scalar();
  throw InputError(mark_of(n, file), fmt::format("expected a string for '{}'", what));
}

MapReader::MapReader(const YAML::Node& node, std::string file, std::string what)
    : node_(node), file_(std::move(file)), what_(std::move(what)) {
  if (!node_.IsMap()) {
    throw InputError(mark_of(node_, file_), fmt::format("expected a mapping for '{}'", what_));
  }
}

MapReader::MapReader(const YAML::Node& node, std::string file, std::string what,
                     const std::vector<std::string>& keys)
    : MapReader(node, std::move(file), std::move(what)) {
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    std::string list;
    for (const auto& v : keys) list += (list.empty() ? "" : ", ") + v;
    throw InputError(mark_of(it->first, file_),
                     fmt::format("unknown key '{}' in {} (expected one of: {})", k, what_, list));
  }
}

bool MapReader::has(const std::string& key) const {
  const YAML::Node& n = node_;
  return static_cast<bool>(n[key]);
}

Mark MapReader::mark(const std::string& key) const {
  const YAML::Node& n = node_;
  if (n[key]) return mark_of(n[key], file_);
  return mark();
}

void MapReader::fail(const std::string& key, const std::string& message) const {
  throw InputError(mark(key), message);
}

std::optional<YAML::Node> MapReader::find(const std::string& key) {
  const YAML::Node& n = node_;
  if (!n[key]) return std::nullopt;
  return n[key];
}

YAML::Node MapReader::get(const std::string& key) {
  auto v = find(key);
  if (!v) throw InputError(mark(), fmt::format("missing key '{}' in {}", key, what_));
  return *v;
}

double MapReader::get_double(const std::string& key) { return yaml_double(get(key), file_, key); }
std::int64_t MapReader::get_int(const std::string& key) { return yaml_int(get(key), file_, key); }
std::string MapReader::get_string(const std::string& key) {
  return yaml_string(get(key), file_, key);
}
bool MapReader::get_bool(const std::string& key) { return yaml_bool(get(key), file_, key); }

double MapReader::get_double(const std::string& key, double def) {
  auto v = find(key);
  return v ? yaml_double(*v, file_, key) : def;
}
std::int64_t MapReader::get_int(const std::string& key, std::int64_t def) {
  auto v = find(key);
  return v ? yaml_int(*v, file_, key) : def;
}
std::string MapReader::get_string(const std::string& key, const std::string& def) {
  auto v = find(key);
  return v ? yaml_string(*v, file_, key) : def;
}
bool MapReader::get_bool(const std::string& key, bool def) {
  auto v = find(key);
  return v ? yaml_bool(*v, file_, key) : def;
}

double MapReader::get_positive(const std::string& key) {
  double v = get_double(key);
  if (!(v > 0)) fail(key, fmt::format("expected '{}' > 0, got {}", key, v));
  return v;
}
double MapReader::get_positive(const std::string& key, double def) {
  double v = get_double(key, def);
  if (!(v > 0)) fail(key, fmt::format("expected '{}' > 0, got {}", key, v));
  return v;
}
double MapReader::get_nonnegative(const std::string& key, double def) {
  double v = get_double(key, def);
  if (!(v >= 0)) fail(key, fmt::format("expected '{}' >= 0, got {}", key, v));
  return v;
}

}  // namespace infersim
