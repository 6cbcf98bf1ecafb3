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
  std::vector<std::string> swept;  // the swept columns
  std::string swept_paths;         // "column=dotted.path" lines (Plan::swept_paths)
  std::string data_files;          // "content-hash  path" lines of every shard, each once
};

// The merged tables of verified shards (verify_shard), given in run order; checks they
// share one layout.
MergedSet collect_shards(const std::vector<ShardContent>& shards);

// Writes OUT.h5 (temporary file in `temps` slot `slot`, then renamed) from the shards, in
// run order, and their merged tables.
void write_merged(const MergedSet& m, const std::vector<ShardContent>& shards,
                  const std::string& out, TempFiles& temps, std::size_t slot);

}  // namespace infersim
