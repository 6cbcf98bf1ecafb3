// `infersim run` and `infersim merge`: runs every point of an experiment's sweep on worker
// threads (and MPI ranks), each run crash-safely into its own shard, then merges the shards
// into one result set. The pieces live in sim/sweep/ (plan, executor, shard store, merge,
// progress, MPI); these functions put them in order and print.
//
// Files, for `-o OUT.h5`:
//   OUT.h5.d/run-000042.h5   one shard per run (sweep point x replication), written as a
//                            temporary file and renamed, so a shard present is complete,
//                            and checksummed (sim/sweep/shard_store.h): --resume and merge
//                            verify every shard and a bad one is moved aside to
//                            run-000042.h5.corrupt-<UTC time>, never deleted.
//   OUT.h5                   the merged result set (DESIGN.md), written when every run has a
//                            shard; the shards are then removed, and OUT.h5.d with them if
//                            nothing else is in it (--keep-shards keeps them).
//   OUT.h5.lock              held (flock) while a run or merge writes OUT.h5: a second one
//                            fails at once (sim/sweep/output_files.h).
//   *.tmp.<pid>.<host>       files being written; removed on SIGINT/SIGTERM/SIGHUP/SIGPIPE,
//                            and by the next run on the same machine after a SIGKILL.
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

// Exit status: 0 all runs ok, 1 a run failed (its shard is missing; --resume re-runs it) or
// the output could not be written (a full disk: the shards are kept) or is locked by another
// infersim, 2 bad input (printed as one line "file:line:col: message"; nothing written),
// which includes an output that is not a regular file or a default output path the
// experiment's name would lead out of results/, 3 a run failed with an internal error (a
// bug; the other runs still ran and were reported).
int run_command(const RunOptions& options, const Registries& reg);

struct MergeOptions {
  std::string dir;  // OUT.h5.d
  std::string out;  // "" = dir without its ".d"
  bool allow_missing = false;
  bool quiet = false;
};

// Builds a result set from the shards in a directory (from --shard jobs, MPI ranks or an
// interrupted run), after verifying each one's checksum and that it holds the run its file
// name says. Exit status 2 when a shard is corrupt or misnamed, shards are missing (unless
// allow_missing), come from different sweeps, or none is found; 1 when OUT cannot be
// written or is locked by another infersim.
int merge_command(const MergeOptions& options);

// ---- Validation mode (validation/; DESIGN.md "Validation mode") ----

// hardware_profiles/architectures: under the working directory, else under the source tree
// infersim was built from; "" when neither exists (then only synthetic models execute).
std::string architectures_dir();
// The files in architectures_dir(): inputs of profile and measure, never their output.
std::vector<std::string> architecture_files();

struct ProfileOptions {
  std::string backend;              // cpu | cuda
  std::vector<std::string> models;  // empty: every synthetic model
  std::vector<int> batches{1, 2, 4, 8, 16};
  std::string out;
  int warmup = 3;
  int repeats = 30;
  int threads = 0;               // cpu workers; 0 = every core but one
  std::string launch = "eager";  // eager | graph: how a batch's kernels are launched
  bool peaks = true;
  std::string command_line;  // for provenance
};

// Measures L(b) of each model's kernel calls on the backend's device and writes a profile
// (same layout as hardware_profiles/v100_clockwork.yaml, plus provenance). Exit status:
// 0 ok, 1 no device / run-time failure, 2 bad input.
int profile_command(const ProfileOptions& options);

struct MeasureOptions {
  std::string experiment;
  std::string backend;
  std::string out;
  std::vector<std::string> sets;
  int threads = 0;
  bool allow_busy = false;  // run even when other work loads the device (recorded)
  double idle_wait_s = 0;   // wait up to this long for the device to go idle
  bool quiet = false;
};

// Replays every run of the experiment on the backend's device on the wall clock and writes
// a result set of the same schema as `infersim run`. Exit status: 0 ok, 1 device busy or
// run-time failure, 2 bad input (unknown backend, a profile of another device, offered
// load above the measured capacity, ...).
int measure_command(const MeasureOptions& options, const Registries& reg);

struct CompareOptions {
  std::string simulated, measured, out;
  std::string report;     // markdown table of the all-tenant rows ("" = none)
  double max_error = -1;  // percent (points for slo_attainment); < 0: no limit
};

// Prints (and with `out` writes) /comparison of a simulated and a measured result set of
// the same experiment. Exit status: 0 ok, 1 an error beyond max_error, 2 bad input (files
// of different experiments).
int compare_command(const CompareOptions& options);

struct CheckOptions {
  std::vector<std::string> files;
  bool allow_missing = false;  // accept a partial result set (runs_missing > 0)
};

// Verifies each result set and prints one line per file ("x.h5: verified, 48 runs", with
// ", 5 missing" for a partial one), for readers outside infersim (scripts/result_set.py).
// Exit status: 0 every file verified, or read without a content checksum (an older
// infersim's: a warning); 2 a file missing, not HDF5, not a result set, damaged, or partial
// (unless allow_missing): one line each on stderr, and the other files are still checked.
int check_command(const CheckOptions& options);

// Reads a result set back whole and verifies its metadata and content checksums
// (ResultReader::verify), for `check` and `compare`: throws InputError naming `file` when it
// is missing, not HDF5, not an infersim result set (a shard, say) or damaged; warns on
// stderr and returns false when it has no content checksum (written by an older infersim).
bool verify_result_set(const std::string& file);

// /comparison's error_pct of `simulated` against `measured`: (simulated - measured) /
// measured in percent, or with `points` (a fraction, SLO attainment) the difference in
// points. Both NaN (nothing to measure on either side) agree: 0. Against a measured 0: 0
// for 0, +inf or -inf for any other number, as the division says; NaN when one side only
// is NaN.
double comparison_error(double simulated, double measured, bool points);

}  // namespace infersim
