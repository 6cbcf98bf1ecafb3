// The experiment's `sweep:` block, expanded into run points.
//
//   sweep:
//     grid:                         # cartesian product, one axis per path
//       policy.name: [exclusive, time_sliced]
//       tenants.0.arrival.rate: [100, 200, 400]
//     zip:                          # lists that advance together: one axis per group
//       tenants.0.slo_ms: [50, 40, 30]
//       tenants.1.slo_ms: [80, 60, 40]
//     exclude:                      # combinations to skip; a list value means "any of"
//       - {policy.name: exclusive, tenants.0.arrival.rate: 400}
//     replications: 3
//
// Paths are dotted: map keys and list indices of the experiment file (`tenants.0` is the
// first entry of `tenants:` as written, before `replicas:` expands it). `zip:` is one
// mapping (one group) or a list of mappings (several groups). Axes vary in the order they
// are written, the first slowest (like nested loops): every `grid:` key is one axis, every
// zip group one axis. Excluded combinations are dropped before numbering, so points are
// numbered 0..P-1 without gaps, and run r is point r / R, replication r % R (R =
// replications; point-major, replication-minor).
//
// Each point's experiment is the file's tree, then the --set overrides, then the point's
// values, edited in place so every node keeps its file:line:column; it is validated with
// parse_experiment. Every path but its last component must exist in the file; the last may
// be a key the file leaves to its default (e.g. `hardware.count`), and a key that does not
// exist is reported at the sweep entry.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/config/experiment.h"
#include "sim/config/yaml_reader.h"
#include "sim/results/table.h"

namespace infersim {

struct SweptParam {
  std::string path;                 // dotted path, as written
  std::vector<std::string> parts;   // its components
  Mark mark;                        // the entry's key in the sweep block
  bool new_key = false;             // the last component is not in the file (default value)
  std::vector<std::string> labels;  // each value as text (scalars as written, others flow YAML)
  std::vector<Cell> cells;          // each value as a table cell, all of `type`
  ColType type = ColType::String;   // Int64 if every value is an integer, Float64 if numeric
};

class Sweep {
 public:
  // Reads the experiment file, applies `sets` (--set path=value) and expands its sweep
  // block (an experiment without one is a single point). Throws InputError (file:line:col).
  static Sweep load(const std::string& path, const std::vector<std::string>& sets);
  static Sweep from_text(const std::string& text, const std::string& file,
                         const std::vector<std::string>& sets);

  const std::string& file() const { return file_; }
  const std::string& text() const { return text_; }
  const std::vector<std::string>& sets() const { return sets_; }
  bool has_sweep() const { return has_sweep_; }

  const std::vector<SweptParam>& params() const { return params_; }
  std::size_t points() const { return points_.size(); }
  int replications() const { return replications_; }
  std::size_t runs() const { return points_.size() * static_cast<std::size_t>(replications_); }
  std::size_t excluded() const { return excluded_; }  // combinations dropped by exclude:
  std::size_t combinations() const { return points_.size() + excluded_; }

  std::size_t point_of_run(std::size_t run) const { return run / replications_; }
  int replication_of_run(std::size_t run) const { return static_cast<int>(run % replications_); }
  // Index into params()[i].labels/cells of each parameter's value at `point`.
  const std::vector<std::size_t>& point_values(std::size_t point) const { return points_[point]; }
  // "policy.name=mps tenants.0.arrival.rate=400" ("" without a sweep).
  std::string describe(std::size_t point) const;

  // The point's validated experiment (file + --set + the point's values, no `sweep` key,
  // every node keeping its mark in the file). Errors carry the point: those whose location
  // is unknown (a key the point added) are reported at the sweep entry. Parses the file;
  // to go through many points, use a PointBuilder.
  Experiment experiment(std::size_t point, const Registries& reg) const;
  // Re-throws an InputError raised while checking `point` with the point named in it.
  [[noreturn]] void rethrow_for_point(std::size_t point, const InputError& e) const;
  // The point's effective experiment as YAML text (what its runs simulate).
  std::string effective_yaml(std::size_t point) const;

 private:
  friend class PointBuilder;
  YAML::Node base_tree() const;  // file + --set overrides, with `sweep` still in
  static YAML::Node locator_node(const YAML::Node& root, const std::vector<std::string>& loc);

  std::string file_;
  std::string text_;
  std::vector<std::string> sets_;
  bool has_sweep_ = false;
  std::vector<SweptParam> params_;
  // Where each parameter's value list sits in the tree: "sweep", "grid"|"zip", [group], path.
  std::vector<std::vector<std::string>> locators_;
  std::vector<std::vector<std::size_t>> points_;
  std::size_t excluded_ = 0;
  int replications_ = 1;
};

// Builds the trees of a sweep's points one after another from one parse of the file: the
// swept paths are set to each point's values in place. (Parsing the file for every point
// made a --dry-run of a 1000 x 1000 grid take hours: the file holds the 2,000 values of
// its lists, and was parsed twice per point.) Not thread-safe: one per thread. While it
// works on a point, the thread's override registry (yaml_reader.h) holds its --set values.
class PointBuilder {
 public:
  explicit PointBuilder(const Sweep& sweep);
  ~PointBuilder();
  PointBuilder(const PointBuilder&) = delete;
  PointBuilder& operator=(const PointBuilder&) = delete;

  // As Sweep::experiment and Sweep::effective_yaml.
  Experiment experiment(std::size_t point, const Registries& reg);
  std::string effective_yaml(std::size_t point);
  // The shared tree, set to `point`'s values (valid until the next call; keeps marks).
  const YAML::Node& tree(std::size_t point);

 private:
  const Sweep& sweep_;
  YAML::Node root_;
  std::vector<YAML::Node> lists_;  // each parameter's list of values (kept alive)
  Overrides overrides_;            // the --set values and keys the sweep adds
};

}  // namespace infersim
