// The plan of a sweep: every run (sweep point x replication) with its seed and config hash,
// made and checked before anything runs.
//
// A run's config hash covers the infersim version, its index, point, replication and seed,
// its swept values (path and value), the content of every data file it reads (profile, GPU
// specs) and the experiment the sweep varies (the file and the --set overrides as YAML,
// without the sweep block): together they determine the point's effective experiment, which
// is emitted only when the run executes (emitting it for every point made a --dry-run of a
// million points take an hour). --resume re-runs only runs whose shard is missing,
// unreadable or carries another hash. The sweep id hashes all of them: an OUT.h5 with the
// same sweep id is up to date.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "sim/config/experiment.h"
#include "sim/sweep/expansion.h"
#include "sim/sweep/tables.h"

namespace infersim {

struct RunSpec {
  std::size_t point = 0;
  int replication = 0;
  std::uint64_t seed = 0;
  std::string config_hash;
};

struct Plan {
  Sweep sweep;
  // The /summary column of each swept parameter: a Python identifier (swept_column_name).
  std::vector<std::string> columns;
  std::vector<RunSpec> runs;
  std::vector<bool> point_requests;  // output.requests of each point
  std::string base_yaml;             // the experiment the sweep varies, as YAML (point 0's values)
  // Each point's data files (Experiment::data_files) as "content-hash  path" lines: part of
  // its runs' config hashes, and the `data_files` attribute of their shards.
  std::vector<std::string> data_files;
  // Every file the runs read: the experiment and each point's data files (an output must
  // be none of them).
  std::vector<std::string> input_files;
  // experiment_identity of the experiment file, as its shards record it.
  std::string experiment;
  std::string sweep_id;
  std::string name;  // the experiment's name (of point 0)
  Mark name_mark;    // where it is set (the experiment file when it is the file's stem)

  SweptValues swept_values(std::size_t point) const {
    SweptValues v;
    const auto& values = sweep.point_values(point);
    for (std::size_t p = 0; p < columns.size(); ++p) {
      v.emplace_back(columns[p], sweep.params()[p].cells[values[p]]);
    }
    return v;
  }
  // "column=dotted.path" lines, one per swept parameter: the `swept_paths` attribute that
  // maps each swept column back to the path it was swept by.
  std::string swept_paths() const;
};

// The column name of a swept path: its components joined by "__"
// (`tenants.0.arrival.rate` -> `tenants__0__arrival__rate`), so that every name is a Python
// identifier and pandas/PyTables read it without a NaturalNameWarning. Paths are keys of the
// experiment (snake_case, never "__" or a leading/trailing '_') and list indices, so the
// mapping is reversible; the `swept_paths` attribute keeps the dotted path all the same. A
// name that would collide with a fixed column (`seed`), or be a Python keyword, gets the
// prefix "sweep__". A path that cannot be named so is an InputError at `where`.
std::string swept_column_name(const std::string& path, const std::set<std::string>& fixed,
                              const Mark& where);

// Expands the experiment (with --set `sets`) and validates every point, placement included,
// on up to `jobs` threads (0: every core), before anything runs: a bad point is an
// InputError, the first in point order whatever the thread timing.
Plan make_plan(const std::string& experiment, const std::vector<std::string>& sets, int jobs,
               const Registries& reg);

}  // namespace infersim
