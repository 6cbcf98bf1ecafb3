// `infersim run` and `infersim merge`: runs every point of an experiment's sweep on worker
// threads (and MPI ranks), each run crash-safely into its own shard, then merges the shards
// into one result set. The pieces live in sim/sweep/ (plan, executor, shard store, merge,
// progress, MPI); these functions put them in order and print.
//
// Files, for `-o OUT.h5`:
//   OUT.h5.d/run-000042.h5   one shard per run (sweep point x replication), written as a
//                            temporary file and renamed, so a shard present is complete
//                            (sim/sweep/shard_store.h).
//   OUT.h5                   the merged result set (DESIGN.md), written when every run has a
//                            shard; OUT.h5.d is then removed (--keep-shards keeps it).
#pragma once

#include <string>
#include <vector>

#include "sim/config/experiment.h"
#include "sim/sweep/executor.h"

namespace infersim {

struct RunOptions {
  std::string experiment;
  std::string out;  // "" = results/<experiment name>.h5
  std::vector<std::string> sets;
  int jobs = 0;  // worker threads; 0 = every core (divided among the MPI ranks of a machine)
  bool dry_run = false;
  bool resume = false;
  bool stop_on_error = false;
  bool quiet = false;
  bool keep_shards = false;
  int shard_index = 0;  // --shard I/N: only runs with index % N == I; no merge
  int shard_count = 1;
  FaultHook before_run;  // tests only (tests/cli/fault_main.cc); empty in the program
};

// Exit status: 0 all runs ok, 1 a run failed (its shard is missing; --resume re-runs it),
// 2 bad input (printed as one line "file:line:col: message"; nothing written).
int run_command(const RunOptions& options, const Registries& reg);

struct MergeOptions {
  std::string dir;  // OUT.h5.d
  std::string out;  // "" = dir without its ".d"
  bool allow_missing = false;
  bool quiet = false;
};

// Builds a result set from the shards in a directory (from --shard jobs, MPI ranks or an
// interrupted run). Exit status 2 when shards are missing (unless allow_missing), come from
// different sweeps, or none is found.
int merge_command(const MergeOptions& options);

}  // namespace infersim
