// Executes a sweep's runs on worker threads, each run crash-safely into its own shard
// (temporary file, fsync, rename; the directory is fsynced once by the caller). Experiments
// are parsed on the calling thread, which also reports progress and failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/sweep/plan.h"
#include "sim/sweep/progress.h"
#include "sim/sweep/shard_store.h"

namespace infersim {

struct SweepCounts {
  std::int64_t ok = 0;
  std::int64_t failed = 0;
  std::int64_t internal = 0;     // of `failed`: internal errors (std::logic_error, a bug)
  std::int64_t bad_input = 0;    // of `failed`: input errors found while running
  std::int64_t not_started = 0;  // left out after a failure with --stop-on-error
};

// Called on the worker before run `run` simulates; an exception it throws fails that run.
// Empty in the program; tests use it to inject failures (tests/cli/fault_main.cc).
using FaultHook = std::function<void(std::size_t run)>;

struct ExecutorOptions {
  std::string shard_dir;       // OUT.h5.d
  bool stop_on_error = false;  // after a failure, start no new run
  FaultHook before_run;
};

// Runs `todo` (run indices of `plan`) on `jobs` threads, using TempFiles slots 0..jobs-1.
SweepCounts execute_runs(const Plan& plan, const Registries& reg,
                         const std::vector<std::size_t>& todo, int jobs,
                         const ExecutorOptions& options, TempFiles& temps, Progress& progress);

}  // namespace infersim
