#include "sim/config/yaml_reader.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace infersim {
namespace {

Mark to_mark(const YAML::Mark& m, const std::string& file) {
  if (m.is_null()) return Mark{file, 0, 0};
  return Mark{file, m.line + 1, m.column + 1};
}

// yaml-cpp keeps the last of duplicate keys silently; walk the tree and reject them. The
// tree has no aliases (AliasCheck), so it is a tree, and yaml-cpp's parser bounds its depth.
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

// Parser events, read before the node tree is built: rejects the first alias (a
// self-reference `&r [*r]` would make the tree a cycle, and nine levels of nine aliases
// expand to 9^9 nodes) and a second document (YAML::Load would silently ignore it).
class AliasCheck final : public YAML::EventHandler {
 public:
  explicit AliasCheck(const std::string& name) : name_(name) {}
  void OnDocumentStart(const YAML::Mark& m) override {
    if (++documents_ > 1) {
      throw InputError(to_mark(m, name_),
                       "expected one YAML document, found a second one (a '---' line)");
    }
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override {
    throw InputError(to_mark(m, name_),
                     "YAML aliases (*name) are not supported: they would make several "
                     "settings one node; write the value out");
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  std::string name_;
  int documents_ = 0;
};

[[noreturn]] void syntax_error(const YAML::Exception& e, const std::string& name) {
  if (const auto* deep = dynamic_cast<const YAML::DeepRecursion*>(&e)) {
    // yaml-cpp bounds its recursion (its message is only "bad file").
    throw InputError(to_mark(e.mark, name),
                     fmt::format("YAML nested more than {} levels deep", deep->depth() - 1));
  }
  throw InputError(to_mark(e.mark, name), fmt::format("YAML syntax error: {}", e.msg));
}

// Whether `text` holds nothing but blanks and comments.
bool blank_document(const std::string& text) {
  bool comment = false;
  for (char c : text) {
    if (c == '\n') {
      comment = false;
    } else if (!comment) {
      if (c == '#') {
        comment = true;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return false;
      }
    }
  }
  return true;
}

YAML::Node parse(const std::string& text, const std::string& name) {
  // The event pass costs a second parse; only text that could hold an alias or a second
  // document needs it (an experiment is parsed once per sweep point).
  if (text.find('*') != std::string::npos || text.find("---") != std::string::npos ||
      text.find("...") != std::string::npos) {
    try {
      std::istringstream in(text);
      YAML::Parser parser(in);
      AliasCheck check(name);
      while (parser.HandleNextDocument(check)) {
      }
    } catch (const YAML::Exception& e) {
      syntax_error(e, name);
    }
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    syntax_error(e, name);
  }
  check_duplicates(root, name);
  return root;
}

YAML::Node parse_document(const std::string& text, const std::string& name) {
  if (blank_document(text)) {
    throw InputError(Mark{name, 1, 1}, "the file is empty; expected a YAML mapping");
  }
  return parse(text, name);
}

}  // namespace

std::string read_input_file(const std::string& path) {
  const Mark where{path, 1, 1};
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    throw InputError(where, fmt::format("cannot open file: {}",
                                        ec ? ec.message() : "No such file or directory"));
  }
  if (std::filesystem::is_directory(st)) {
    throw InputError(where, "is a directory; expected a YAML file");
  }
  if (!std::filesystem::is_regular_file(st)) {
    throw InputError(where,
                     "is not a regular file (a device, FIFO or socket); expected a "
                     "YAML file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(where, "cannot open file for reading");
  // Read at most one byte past the limit: the size stat() reports may change meanwhile.
  std::string text(kMaxInputFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw InputError(where, "cannot read file");
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxInputFileBytes) {
    throw InputError(where, fmt::format("file is larger than {} MiB, the most an input file "
                                        "may hold",
                                        kMaxInputFileBytes >> 20));
  }
  return text;
}

YAML::Node load_yaml_file(const std::string& path) {
  return parse_document(read_input_file(path), path);
}

YAML::Node load_yaml_string(const std::string& text, const std::string& name) {
  return parse_document(text, name);
}

YAML::Node load_yaml_value(const std::string& text, const Mark& where) {
  try {
    return parse(text, "value");
  } catch (const InputError& e) {
    std::string msg = e.message();
    if (e.mark().line > 0) msg += fmt::format(" (at column {} of the value)", e.mark().column);
    throw InputError(where, msg);
  }
}

namespace {
thread_local Overrides g_overrides;
}  // namespace

void register_override(const YAML::Node& node, const Mark& where) {
  g_overrides.emplace_back(node, where);
}

void register_override_tree(const YAML::Node& node, const Mark& where) {
  register_override(node, where);
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      register_override_tree(it->first, where);
      register_override_tree(it->second, where);
    }
  } else if (node.IsSequence()) {
    for (const auto& child : node) register_override_tree(child, where);
  }
}

void clear_overrides() { g_overrides.clear(); }

Overrides take_overrides() {
  Overrides out;
  out.swap(g_overrides);
  return out;
}

void install_overrides(const Overrides& overrides) { g_overrides = overrides; }

Mark mark_of(const YAML::Node& node, const std::string& file) {
  for (const auto& [n, where] : g_overrides) {
    if (n.is(node)) return where;
  }
  return to_mark(node.Mark(), file);
}

const char* node_kind(const YAML::Node& n) {
  if (n.IsScalar()) return "a scalar";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "empty";
}

namespace {

// A number as YAML 1.2's core schema writes one, in decimal, and not quoted or tagged as
// anything but a number: `"100"`, `!!str 100`, `0x64` and `0x1p6` are refused (strtod
// alone reads all four as numbers), `!!float 100` is 100. Sign, digits, an optional
// fraction and an optional exponent.
bool plain_decimal(const YAML::Node& n, bool integer) {
  if (!n.IsScalar()) return false;
  const std::string& tag = n.Tag();  // "?" plain, "!" quoted; !!int and !!float are numbers
  if (tag != "?" && !tag.empty() && tag != "tag:yaml.org,2002:int" &&
      tag != "tag:yaml.org,2002:float") {
    return false;
  }
  const std::string& s = n.Scalar();
  std::size_t i = 0, digits = 0;
  auto run = [&] {
    std::size_t k = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) ++k;
    return k;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  digits += run();
  if (!integer && i < s.size() && s[i] == '.') {
    ++i;
    digits += run();
  }
  if (digits == 0) return false;
  if (!integer && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (run() == 0) return false;
  }
  return i == s.size();
}

}  // namespace

double yaml_double(const YAML::Node& n, const std::string& file, const std::string& what) {
  if (plain_decimal(n, false)) {
    const std::string& s = n.Scalar();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(v)) return v;
  }
  throw InputError(mark_of(n, file), fmt::format("expected a number for '{}'", what));
}

std::int64_t yaml_int(const YAML::Node& n, const std::string& file, const std::string& what) {
  if (plain_decimal(n, true)) {
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

SimTime yaml_time(const YAML::Node& n, const std::string& file, const std::string& what,
                  TimeUnit unit) {
  const double v = yaml_double(n, file, what);
  if (v < 0) throw InputError(mark_of(n, file), fmt::format("expected '{}' >= 0, got {}", what, v));
  auto ns = to_ns_checked(v, unit);
  if (!ns) {
    throw InputError(mark_of(n, file),
                     fmt::format("expected '{}' <= {:g} {} (the time horizon, 1e18 ns or about "
                                 "31.7 years), got {}",
                                 what, horizon_in(unit), unit_suffix(unit), v));
  }
  return *ns;
}

void check_name(const std::string& name, const Mark& where, const std::string& what) {
  if (name.empty()) throw InputError(where, fmt::format("expected a non-empty {}", what));
  if (name.size() > kMaxNameBytes) {
    throw InputError(where, fmt::format("{} is {} bytes long; at most {} are allowed", what,
                                        name.size(), kMaxNameBytes));
  }
  if (!is_printable_utf8(name)) {
    throw InputError(
        where, fmt::format("{} '{}' must be valid UTF-8 without control characters", what, name));
  }
}

std::string yaml_name(const YAML::Node& n, const std::string& file, const std::string& what) {
  std::string name = yaml_string(n, file, what);
  check_name(name, mark_of(n, file), what);
  return name;
}

MapReader::MapReader(const YAML::Node& node, std::string file, std::string what)
    : node_(node), file_(std::move(file)), what_(std::move(what)) {
  if (!node_.IsMap()) {
    throw InputError(mark_of(node_, file_), fmt::format("expected a mapping for '{}'", what_));
  }
  entries_.reserve(node_.size());
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const YAML::Node key = it->first;  // copies: the iterator's pair is a temporary proxy
    const YAML::Node value = it->second;
    if (key.IsScalar()) entries_.emplace_back(key.Scalar(), value);
  }
}

const YAML::Node* MapReader::lookup(const std::string& key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

MapReader::MapReader(const YAML::Node& node, std::string file, std::string what,
                     const std::vector<std::string>& keys)
    : MapReader(node, std::move(file), std::move(what)) {
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: it->first lives in a temporary proxy
    if (!key.IsScalar()) {
      throw InputError(mark_of(key, file_),
                       fmt::format("expected a key name in {}, got {}", what_, node_kind(key)));
    }
    const std::string k = key.Scalar();
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    std::string list;
    for (const auto& v : keys) list += (list.empty() ? "" : ", ") + v;
    throw InputError(mark_of(key, file_),
                     fmt::format("unknown key '{}' in {} (expected one of: {})", k, what_, list));
  }
}

bool MapReader::has(const std::string& key) const { return lookup(key) != nullptr; }

Mark MapReader::mark(const std::string& key) const {
  if (const YAML::Node* v = lookup(key)) return mark_of(*v, file_);
  return mark();
}

void MapReader::fail(const std::string& key, const std::string& message) const {
  throw InputError(mark(key), message);
}

std::optional<YAML::Node> MapReader::find(const std::string& key) {
  if (const YAML::Node* v = lookup(key)) return *v;
  return std::nullopt;
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

SimTime MapReader::get_time(const std::string& key, TimeUnit unit) {
  return yaml_time(get(key), file_, key, unit);
}
SimTime MapReader::get_time(const std::string& key, TimeUnit unit, SimTime def) {
  auto v = find(key);
  return v ? yaml_time(*v, file_, key, unit) : def;
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
