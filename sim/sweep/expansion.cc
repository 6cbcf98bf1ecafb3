#include "sim/sweep/expansion.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "sim/config/overrides.h"
#include "sim/config/yaml_reader.h"

namespace infersim {
namespace {

// Largest number of combinations a sweep may expand to (before exclude:).
constexpr double kMaxCombinations = 10'000'000;

// Navigation without inserting: the child of `n` at `key` (a map key or a list index), or
// an invalid node.
YAML::Node child(const YAML::Node& n, const std::string& key) {
  const YAML::Node& c = n;
  if (c.IsSequence()) {
    const auto idx = list_index(key);
    if (!idx || *idx >= c.size()) return YAML::Node(YAML::NodeType::Undefined);
    return c[*idx];
  }
  if (c.IsMap()) return c[key];
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string flow_yaml(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

bool parse_int(const std::string& s, std::int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() || errno != 0) return false;
  *out = v;
  return true;
}

bool parse_number(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// Whether two YAML values are the same setting: numerically equal numbers, equal text, or
// (for lists and mappings) the same flow YAML.
bool same_value(const YAML::Node& a, const YAML::Node& b) {
  if (a.IsScalar() && b.IsScalar()) {
    double x, y;
    if (parse_number(a.Scalar(), &x) && parse_number(b.Scalar(), &y)) return x == y;
    return a.Scalar() == b.Scalar();
  }
  if (a.IsScalar() != b.IsScalar()) return false;
  return flow_yaml(a) == flow_yaml(b);
}

// Forgets the --set values registered while building trees (see register_override).
struct OverrideScope {
  OverrideScope() = default;
  OverrideScope(const OverrideScope&) = delete;
  OverrideScope& operator=(const OverrideScope&) = delete;
  ~OverrideScope() { clear_overrides(); }
};

}  // namespace

// ------------------------------------------------------------------------------- Sweep

Sweep Sweep::load(const std::string& path, const std::vector<std::string>& sets) {
  return from_text(read_input_file(path), path, sets);
}

YAML::Node Sweep::base_tree() const {
  YAML::Node root = load_yaml_string(text_, file_);
  for (const auto& s : sets_) apply_set_in_place(root, s);
  return root;
}

Sweep Sweep::from_text(const std::string& text, const std::string& file,
                       const std::vector<std::string>& sets) {
  Sweep sw;
  sw.file_ = file;
  sw.text_ = text;
  sw.sets_ = sets;
  OverrideScope scope;
  const YAML::Node root = sw.base_tree();
  if (!root.IsMap() || !root["sweep"]) {
    sw.points_.emplace_back();
    return sw;
  }
  sw.has_sweep_ = true;
  const YAML::Node block = root["sweep"];
  const Mark block_mark = mark_of(block, file);
  if (!block.IsMap()) {
    if (block.IsNull()) {  // `sweep:` with nothing: one point
      sw.points_.emplace_back();
      return sw;
    }
    throw InputError(block_mark,
                     "expected a mapping for 'sweep' (keys: grid, zip, exclude, "
                     "replications)");
  }

  // Axes of the product, each a list of parameter indices that advance together.
  std::vector<std::vector<std::size_t>> axes;
  std::vector<std::size_t> axis_size;
  YAML::Node exclude;

  // Adds one swept path with its value list; returns its index.
  auto add_param = [&](const YAML::Node& key, const YAML::Node& values,
                       std::vector<std::string> locator) -> std::size_t {
    SweptParam p;
    p.mark = mark_of(key, file);
    if (!key.IsScalar() || key.Scalar().empty()) {
      throw InputError(p.mark, "expected a dotted path such as tenants.0.arrival.rate");
    }
    p.path = key.Scalar();
    p.parts = split_path(p.path);
    if (p.parts.front() == "sweep") throw InputError(p.mark, "a sweep cannot sweep 'sweep'");
    if (!values.IsSequence() || values.size() == 0) {
      throw InputError(
          mark_of(values, file),
          fmt::format("expected a non-empty list of values for '{}', e.g. [a, b]", p.path));
    }
    // The path must lead somewhere in the file; its last key may be left to its default.
    YAML::Node cur;
    cur.reset(root);
    for (std::size_t i = 0; i < p.parts.size(); ++i) {
      const std::string& k = p.parts[i];
      const bool last = i + 1 == p.parts.size();
      if (k.empty()) throw InputError(p.mark, fmt::format("empty component in path '{}'", p.path));
      YAML::Node next = child(cur, k);
      if (!next) {
        const std::string where =
            i ? fmt::format("'{}'", join_path(p.parts, i)) : std::string("the experiment");
        if (cur.IsSequence()) {
          throw InputError(p.mark,
                           fmt::format("'{}' in '{}' is not an index of {}, a list of {} "
                                       "element{}",
                                       k, p.path, where, cur.size(), cur.size() == 1 ? "" : "s"));
        }
        if (cur.IsMap() && last) {
          p.new_key = true;
          break;
        }
        if (cur.IsMap()) {
          throw InputError(p.mark,
                           fmt::format("'{}' does not exist: no key '{}' in {}", p.path, k, where));
        }
        throw InputError(p.mark, fmt::format("'{}' does not exist: {} is {}, it has no '{}'",
                                             p.path, where, node_kind(cur), k));
      }
      cur.reset(next);
    }
    for (const SweptParam& q : sw.params_) {
      std::size_t n = std::min(p.parts.size(), q.parts.size());
      if (std::equal(p.parts.begin(), p.parts.begin() + n, q.parts.begin())) {
        throw InputError(p.mark, p.parts.size() == q.parts.size()
                                     ? fmt::format("'{}' is swept twice (also at {})", p.path,
                                                   format_mark(q.mark))
                                     : fmt::format("'{}' overlaps '{}', swept at {}", p.path,
                                                   q.path, format_mark(q.mark)));
      }
    }
    bool all_int = true, all_num = true;
    for (const auto& v : values) {
      std::int64_t i;
      double d;
      if (!v.IsScalar() || !parse_int(v.Scalar(), &i)) all_int = false;
      if (!v.IsScalar() || !parse_number(v.Scalar(), &d)) all_num = false;
      p.labels.push_back(v.IsScalar() ? v.Scalar() : flow_yaml(v));
    }
    p.type = all_int ? ColType::Int64 : all_num ? ColType::Float64 : ColType::String;
    for (const auto& v : values) {
      std::int64_t i = 0;
      double d = 0;
      if (all_int) {
        parse_int(v.Scalar(), &i);
        p.cells.emplace_back(i);
      } else if (all_num) {
        parse_number(v.Scalar(), &d);
        p.cells.emplace_back(d);
      } else {
        p.cells.emplace_back(v.IsScalar() ? v.Scalar() : flow_yaml(v));
      }
    }
    locator.push_back(p.path);
    sw.params_.push_back(std::move(p));
    sw.locators_.push_back(std::move(locator));
    return sw.params_.size() - 1;
  };

  auto add_zip_group = [&](const YAML::Node& group, std::vector<std::string> locator) {
    if (!group.IsMap() || group.size() == 0) {
      throw InputError(mark_of(group, file),
                       "expected a mapping of paths to lists of equal length for 'zip'");
    }
    std::vector<std::size_t> axis;
    std::size_t len = 0;
    for (auto it = group.begin(); it != group.end(); ++it) {
      std::size_t p = add_param(it->first, it->second, locator);
      std::size_t n = it->second.size();
      if (!axis.empty() && n != len) {
        throw InputError(sw.params_[p].mark,
                         fmt::format("zip lists must have the same length: '{}' has {} value{}, "
                                     "'{}' has {}",
                                     sw.params_[p].path, n, n == 1 ? "" : "s",
                                     sw.params_[axis.front()].path, len));
      }
      len = n;
      axis.push_back(p);
    }
    axes.push_back(std::move(axis));
    axis_size.push_back(len);
  };

  for (auto it = block.begin(); it != block.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    const std::string k = key.IsScalar() ? key.Scalar() : "";
    if (k == "grid") {
      if (!value.IsMap()) {
        throw InputError(mark_of(value, file),
                         "expected a mapping of paths to value lists for 'grid', e.g. "
                         "{policy.name: [exclusive, mps]}");
      }
      for (auto g = value.begin(); g != value.end(); ++g) {
        std::size_t p = add_param(g->first, g->second, {"sweep", "grid"});
        axes.push_back({p});
        axis_size.push_back(g->second.size());
      }
    } else if (k == "zip") {
      if (value.IsSequence()) {
        for (std::size_t g = 0; g < value.size(); ++g) {
          add_zip_group(value[g], {"sweep", "zip", std::to_string(g)});
        }
      } else {
        add_zip_group(value, {"sweep", "zip"});
      }
    } else if (k == "exclude") {
      exclude = value;
    } else if (k == "replications") {
      std::int64_t r = yaml_int(value, file, "replications");
      if (r < 1 || r > 1'000'000) {
        throw InputError(mark_of(value, file), "expected 'replications' between 1 and 1000000");
      }
      sw.replications_ = static_cast<int>(r);
    } else {
      throw InputError(mark_of(key, file),
                       fmt::format("unknown key '{}' in sweep (expected one of: grid, zip, "
                                   "exclude, replications)",
                                   k));
    }
  }

  double combinations = 1;
  for (std::size_t n : axis_size) combinations *= static_cast<double>(n);
  if (combinations > kMaxCombinations) {
    throw InputError(block_mark, fmt::format("the sweep has {:.0f} combinations; at most {:.0f} "
                                             "are supported",
                                             combinations, kMaxCombinations));
  }

  // exclude: a list of mappings path -> value (or list of values, meaning any of them).
  using Rule = std::vector<std::pair<std::size_t, std::set<std::size_t>>>;
  std::vector<Rule> rules;
  if (exclude && !exclude.IsNull()) {
    if (!exclude.IsSequence()) {
      throw InputError(mark_of(exclude, file),
                       "expected a list of mappings for 'exclude', e.g. "
                       "[{policy.name: exclusive, tenants.0.arrival.rate: 400}]");
    }
    for (const auto& entry : exclude) {
      if (!entry.IsMap() || entry.size() == 0) {
        throw InputError(mark_of(entry, file),
                         "expected a mapping of swept paths to values in 'exclude'");
      }
      Rule rule;
      for (auto it = entry.begin(); it != entry.end(); ++it) {
        const YAML::Node key = it->first;
        const std::string path = key.IsScalar() ? key.Scalar() : "";
        std::size_t p = sw.params_.size();
        for (std::size_t i = 0; i < sw.params_.size(); ++i) {
          if (sw.params_[i].path == path) p = i;
        }
        if (p == sw.params_.size()) {
          std::string list;
          for (const auto& q : sw.params_) list += (list.empty() ? "" : ", ") + q.path;
          throw InputError(mark_of(key, file),
                           fmt::format("exclude: '{}' is not a swept path (swept: {})", path,
                                       list.empty() ? "none" : list));
        }
        const YAML::Node values = locator_node(root, sw.locators_[p]);
        // A copy: it->second lives in a temporary proxy, which a range-for over it would
        // outlive (ASan: stack-use-after-scope when the entry holds a list).
        const YAML::Node entry_value = it->second;
        std::vector<YAML::Node> wanted;
        if (entry_value.IsSequence()) {
          for (const auto& v : entry_value) wanted.push_back(v);
        } else {
          wanted.push_back(entry_value);
        }
        std::set<std::size_t> match;
        for (const auto& w : wanted) {
          bool found = false;
          for (std::size_t v = 0; v < values.size(); ++v) {
            if (same_value(values[v], w)) {
              match.insert(v);
              found = true;
            }
          }
          if (!found) {
            std::string list;
            for (const auto& l : sw.params_[p].labels) list += (list.empty() ? "" : ", ") + l;
            throw InputError(mark_of(w, file),
                             fmt::format("exclude: {} is not one of the values of '{}' ({})",
                                         w.IsScalar() ? w.Scalar() : flow_yaml(w), path, list));
          }
        }
        rule.emplace_back(p, std::move(match));
      }
      rules.push_back(std::move(rule));
    }
  }

  // The product, first axis slowest.
  std::vector<std::size_t> idx(axes.size(), 0);
  bool done = false;
  while (!done) {
    std::vector<std::size_t> values(sw.params_.size(), 0);
    for (std::size_t a = 0; a < axes.size(); ++a) {
      for (std::size_t p : axes[a]) values[p] = idx[a];
    }
    bool skip = false;
    for (const Rule& rule : rules) {
      bool all = true;
      for (const auto& [p, set] : rule) all = all && set.count(values[p]) > 0;
      if (all) {
        skip = true;
        break;
      }
    }
    if (skip) {
      ++sw.excluded_;
    } else {
      sw.points_.push_back(std::move(values));
    }
    done = true;
    for (std::size_t a = axes.size(); a-- > 0;) {
      if (++idx[a] < axis_size[a]) {
        done = false;
        break;
      }
      idx[a] = 0;
    }
  }
  if (sw.points_.empty()) {
    throw InputError(mark_of(exclude, file), "exclude removes every point of the sweep");
  }
  return sw;
}

YAML::Node Sweep::locator_node(const YAML::Node& root, const std::vector<std::string>& loc) {
  YAML::Node cur;
  cur.reset(root);
  for (const auto& k : loc) {
    YAML::Node next = child(cur, k);
    cur.reset(next);
  }
  return cur;
}

std::string Sweep::describe(std::size_t point) const {
  std::string s;
  for (std::size_t p = 0; p < params_.size(); ++p) {
    s += fmt::format("{}{}={}", s.empty() ? "" : " ", params_[p].path,
                     params_[p].labels[points_[point][p]]);
  }
  return s;
}

void Sweep::rethrow_for_point(std::size_t point, const InputError& e) const {
  Mark m = e.mark();
  std::string msg = e.message();
  if (m.line <= 0 && m.file == file_) {
    // No location: a node the point or a --set added. Blame the sweep entry that added a key.
    for (std::size_t p = 0; p < params_.size(); ++p) {
      if (params_[p].new_key) {
        m = params_[p].mark;
        msg += fmt::format(" (the sweep sets '{}', which is not in the file)", params_[p].path);
        break;
      }
    }
    if (m.line <= 0 && !sets_.empty()) msg += " (check the --set overrides)";
  }
  if (has_sweep_ && !params_.empty()) {
    msg += fmt::format(" [sweep point {}: {}]", point, describe(point));
  }
  throw InputError(m, msg);
}

Experiment Sweep::experiment(std::size_t point, const Registries& reg) const {
  PointBuilder b(*this);
  return b.experiment(point, reg);
}

std::string Sweep::effective_yaml(std::size_t point) const {
  PointBuilder b(*this);
  return b.effective_yaml(point);
}

// ------------------------------------------------------------------------ PointBuilder

PointBuilder::PointBuilder(const Sweep& sweep) : sweep_(sweep) {
  OverrideScope scope;
  root_ = sweep_.base_tree();
  for (const auto& loc : sweep_.locators_) lists_.push_back(Sweep::locator_node(root_, loc));
  // Point 0 first: a key the sweep adds to the file is inserted now (and registered, to
  // be blamed on its sweep entry), so later points only reassign existing keys.
  for (std::size_t p = 0; p < sweep_.params_.size(); ++p) {
    const YAML::Node& list = lists_[p];
    set_path(root_, sweep_.params_[p].parts, list[sweep_.points_[0][p]], sweep_.params_[p].mark,
             true);
  }
  if (sweep_.has_sweep_) root_.remove("sweep");  // its value lists stay alive in lists_
  overrides_ = take_overrides();
}

PointBuilder::~PointBuilder() = default;

const YAML::Node& PointBuilder::tree(std::size_t point) {
  install_overrides(overrides_);
  for (std::size_t p = 0; p < sweep_.params_.size(); ++p) {
    const YAML::Node& list = lists_[p];
    set_path(root_, sweep_.params_[p].parts, list[sweep_.points_[point][p]], sweep_.params_[p].mark,
             true);
  }
  return root_;
}

Experiment PointBuilder::experiment(std::size_t point, const Registries& reg) {
  OverrideScope scope;
  try {
    return parse_experiment(tree(point), sweep_.file_, sweep_.text_, reg);
  } catch (const InputError& e) {
    sweep_.rethrow_for_point(point, e);
  }
}

std::string PointBuilder::effective_yaml(std::size_t point) {
  OverrideScope scope;
  YAML::Emitter e;
  e << tree(point);
  return std::string(e.c_str()) + "\n";
}

}  // namespace infersim
