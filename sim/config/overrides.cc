#include "sim/config/overrides.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

#include "sim/config/yaml_reader.h"

namespace infersim {

std::optional<std::size_t> list_index(const std::string& component) {
  if (component.empty() || component.size() > 18) return std::nullopt;
  if (component.size() > 1 && component[0] == '0') return std::nullopt;
  std::size_t v = 0;
  for (char ch : component) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<std::size_t>(ch - '0');
  }
  return v;
}
namespace {

// A copy of a value parsed from a --set argument without its marks: those would point into
// the argument's text, not the experiment file.
YAML::Node without_marks(const YAML::Node& n, const Mark& where) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return YAML::Node(n.Scalar());
    case YAML::NodeType::Sequence: {
      YAML::Node s(YAML::NodeType::Sequence);
      for (const auto& c : n) s.push_back(without_marks(c, where));
      return s;
    }
    case YAML::NodeType::Map: {
      YAML::Node m(YAML::NodeType::Map);
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (!it->first.IsScalar()) throw InputError(where, "only scalar map keys are supported");
        m[it->first.Scalar()] = without_marks(it->second, where);
      }
      return m;
    }
    default:
      return YAML::Node(YAML::NodeType::Null);
  }
}

}  // namespace

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string join_path(const std::vector<std::string>& parts, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n && i < parts.size(); ++i) s += (i ? "." : "") + parts[i];
  return s;
}

void set_path(YAML::Node& root, const std::vector<std::string>& parts, const YAML::Node& value,
              const Mark& where, bool allow_new_key) {
  YAML::Node cur;
  cur.reset(root);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& key = parts[i];
    const bool last = i + 1 == parts.size();
    if (key.empty()) {
      throw InputError(where, fmt::format("empty component in path '{}'", join_path(parts, 99)));
    }
    const YAML::Node& c = cur;
    if (c.IsSequence()) {
      const auto index = list_index(key);
      if (!index || *index >= c.size()) {
        throw InputError(where, fmt::format("'{}' is not an index of '{}', a list of {} element{}",
                                            key, i ? join_path(parts, i) : "(top)", c.size(),
                                            c.size() == 1 ? "" : "s"));
      }
      const std::size_t idx = *index;
      if (last) {
        cur[static_cast<std::size_t>(idx)] = value;
      } else {
        YAML::Node next = c[static_cast<std::size_t>(idx)];
        cur.reset(next);
      }
    } else if (c.IsMap() || (c.IsNull() && i > 0)) {
      const bool exists = c.IsMap() && static_cast<bool>(c[key]);
      if (!exists && (!last || !allow_new_key)) {
        throw InputError(where, fmt::format("no key '{}' in '{}'", key,
                                            i ? join_path(parts, i) : "the experiment"));
      }
      if (last) {
        cur[key] = value;
        if (!exists) {
          // The new key node has no mark: errors about it (e.g. an unknown key) name the
          // --set argument or sweep entry that added it, not the file.
          const YAML::Node& m = cur;
          for (auto it = m.begin(); it != m.end(); ++it) {
            if (it->first.IsScalar() && it->first.Scalar() == key) {
              register_override(it->first, where);
            }
          }
        }
      } else {
        YAML::Node next = c[key];
        cur.reset(next);
      }
    } else {
      throw InputError(where,
                       fmt::format("'{}' is {}, it has no '{}'",
                                   i ? join_path(parts, i) : "the experiment", node_kind(c), key));
    }
  }
}

void apply_set_in_place(YAML::Node& root, const std::string& assignment) {
  Mark where{"--set " + assignment, 0, 0};
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(where, "expected path=value, e.g. tenants.0.arrival.rate=100");
  }
  // Checked like a file (duplicate keys, aliases), every error reported at the argument.
  YAML::Node value = without_marks(load_yaml_value(assignment.substr(eq + 1), where), where);
  set_path(root, split_path(assignment.substr(0, eq)), value, where, true);
  // Errors about the value, or anything inside it, name the --set argument (mark_of;
  // cleared by clear_overrides).
  register_override_tree(value, where);
}

}  // namespace infersim
