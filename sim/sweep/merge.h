// Merging shards into one result set (DESIGN.md, "HDF5 result set"): /summary, /tenants and /gpus
// in run order, /runs/<run>/requests, /aggregate with two or more replications, and the
// provenance of the first shard plus the sweep's identity.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/results/table.h"
#include "sim/sweep/shard_store.h"

namespace infersim {

struct MergedSet {
  Table summary;
  Table tenants;
  Table gpus;
  std::optional<Table> aggregate;
  // /points: each point present and the experiment its runs simulated, as YAML (the file
  // with every --set and swept value applied), so a reader need not apply them itself.
  Table points;
  std::vector<std::string> swept;  // the swept columns
  std::string swept_paths;         // "column=dotted.path" lines (Plan::swept_paths)
  std::string data_files;          // "content-hash  path" lines of every shard, each once
};

// The merged tables of verified shards (verify_shard), given in run order; checks they
// share one layout.
MergedSet collect_shards(const std::vector<ShardContent>& shards);

// Writes OUT.h5 (temporary file in `temps` slot `slot`, then renamed) from the shards, in
// run order, and their merged tables. Its root attribute `runs_missing` counts the sweep's
// runs it lacks (merge --allow-missing): "0" only in a complete result set.
void write_merged(const MergedSet& m, const std::vector<ShardContent>& shards,
                  const std::string& out, TempFiles& temps, std::size_t slot);

// Why OUT.h5 is not `plan`'s complete result set, or "" if it is: it verifies
// (ResultReader::verify: its metadata checksums and its content checksum), belongs to the
// plan (sweep_id), lacks no run (runs_missing "0") and its /summary holds exactly the
// plan's runs, in order. Takes the HDF5 lock.
std::string result_set_gap(const std::string& out, const Plan& plan);

}  // namespace infersim
