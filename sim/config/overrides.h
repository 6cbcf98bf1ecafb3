// Edits of an experiment's YAML tree in place: --set path=value on the command line and the
// values of sweep points. The nodes around an edit keep their file:line:column marks, so
// errors in the edited tree still point into the file (or name the --set argument).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace infersim {

// Splits "a.b.0.c" into its components.
std::vector<std::string> split_path(const std::string& path);
// The first n components joined with dots ("a.b").
std::string join_path(const std::vector<std::string>& parts, std::size_t n);

// A path component as a list index: digits as the index is written ("0", "12"), nothing
// else. "00", "+0" and " 0" would address the same element as "0" under another name, so
// that two paths naming one setting would escape the checks that compare paths as text.
std::optional<std::size_t> list_index(const std::string& component);

// Sets the dotted `parts` of `root` to `value` in place (the nodes around keep their
// marks). Every component but the last must exist; the last may be a new key of a mapping
// when `allow_new_key`. Errors are InputError at `where`.
void set_path(YAML::Node& root, const std::vector<std::string>& parts, const YAML::Node& value,
              const Mark& where, bool allow_new_key);
// Applies "a.b.0.c=value" (value parsed as YAML) in place; map keys may be new, list indices
// must exist. Errors name the --set argument. Unlike a copy (YAML::Clone), the tree keeps
// its file:line:column marks.
void apply_set_in_place(YAML::Node& root, const std::string& assignment);

}  // namespace infersim
