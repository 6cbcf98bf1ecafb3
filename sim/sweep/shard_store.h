// The shards of a sweep on disk: OUT.h5.d/run-NNNNNN.h5, one per run, each a small result
// set of its own plus a description (ShardInfo) in its root attribute `infersim_shard`.
// Also the temporary files being written, removed when a signal ends the process, and the
// lock that serializes HDF5 calls (Debian's HDF5 is not thread-safe).
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/results/table.h"
#include "sim/sweep/plan.h"

namespace infersim {

// Every HDF5 call made while workers run holds this lock.
std::mutex& hdf5_mutex();

// Temporary files being written (and a held lock file), removed if SIGINT, SIGTERM, SIGHUP
// or SIGPIPE ends the process. One slot per writer; fixed-size C strings, so the signal
// handler only reads memory and calls unlink.
class TempFiles {
 public:
  explicit TempFiles(std::size_t slots);
  ~TempFiles();
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;

  void set(std::size_t slot, const std::string& path);
  void clear(std::size_t slot);
  // A folder this process made: a signal that ends the process removes it too when it is
  // still empty (rmdir removes nothing else), as a run that finished nothing does.
  void remove_dir_if_empty(const std::string& dir);

 private:
  static constexpr std::size_t kPathMax = 4096;
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
  char (*slots_)[kPathMax];
  void (*old_[std::size(kSignals)])(int);
};

// Removes temporary files "<name>.tmp.<pid>.<host>" (temp_path_for) in `dir` whose process
// is gone: what a killed run left behind. <name> is a shard's (run_of_shard_name), or
// exactly `final_name` when one is given (OUT.h5 in its folder); any other file, a user's
// "notes.tmp.20240101" say, is kept. Only this machine's: a pid of another host (sharing
// the file system) cannot be checked, and its file is kept.
void remove_stale_temps(const std::filesystem::path& dir, const std::string& final_name = "");

// What a shard says of itself.
struct ShardInfo {
  std::string path;
  std::uint64_t run = 0;
  std::uint64_t point = 0;
  int replication = 0;
  std::uint64_t runs_total = 0;
  int replications = 1;
  std::string config_hash;
  std::string sweep_id;
  bool requests = false;
  // The experiment file it was run from (experiment_identity); empty in a shard of an older
  // infersim. Tells an earlier version of this sweep from another experiment's sweep.
  std::string experiment;
  std::string checksum;  // shard_checksum of everything else it holds (16 hex digits)
};

// An experiment file as shards name it: its absolute path, links resolved.
std::string experiment_identity(const std::string& experiment_file);

// Whether a shard is `plan`'s to overwrite and delete: one of this sweep (its sweep_id), or
// of an earlier version of the same experiment file (edited since, a data file it reads
// edited, other --set values), which --resume re-runs. Another experiment's shards (two
// experiments with the same name share results/<name>.h5.d) are not.
bool shard_of_plan(const Plan& plan, const ShardInfo& shard);

// The shards in `dir` (readable descriptions only) that are not shard_of_plan: another
// sweep's work, which a run must neither overwrite nor delete.
std::vector<ShardInfo> foreign_shards(const Plan& plan, const std::string& dir);

// The `infersim_shard` attribute text (key=value lines) of a shard; the checksum line only
// when `checksum` is set.
std::string shard_info_text(const ShardInfo& s);
// The shard's description, or nothing if the file is missing, unreadable or not a shard.
// Takes the HDF5 lock.
std::optional<ShardInfo> read_shard_info(const std::string& path);

// The root attributes of a shard that its checksum covers (and the merge reads); a shard
// also has `created_utc` and `infersim_shard`.
const std::vector<std::string>& shard_attr_names();

// A shard as read back: its description, tables and attributes (shard_attr_names order).
struct ShardContent {
  ShardInfo info;
  Table summary;
  Table tenants;
  Table gpus;
  std::vector<std::pair<std::string, std::string>> attrs;
  const std::string& attr(const std::string& name) const;
};

// The content checksum of a shard: FNV-1a over a canonical form of its description (but
// the checksum), its attributes, its tables (names, types, cells) and, with requests,
// the hash of its request records (hash_request_record, in order). Written into the
// description; verify_shard recomputes it from what it reads back. Together with HDF5's
// Fletcher32 on every chunk it detects a change to anything a shard holds.
std::string shard_checksum(const ShardContent& c, std::uint64_t requests_hash);

// Reads a whole shard back, request records included (in chunks), and checks its checksum.
// Returns the content, or nothing with `*problem` saying what is wrong ("unreadable: ...",
// "not a shard", "no checksum", "checksum mismatch"). Takes the HDF5 lock.
std::optional<ShardContent> verify_shard(const std::string& path, std::string* problem);

// "OUT.h5.d/run-000042.h5".
std::string shard_path(const std::string& shard_dir, std::size_t run);
// The run a shard's file name gives ("run-000042.h5" -> 42), or nothing for another name,
// including one shard_path would not write ("run-0000042.h5").
std::optional<std::uint64_t> run_of_shard_name(const std::string& file_name);

// What `run`'s shard file in a shard directory is, for a plan.
struct ShardCheck {
  enum class State {
    Missing,  // no file
    Valid,    // verified, of this run and this plan's config hash
    Stale,    // verified, but of another configuration: to re-run (overwritten)
    Corrupt,  // fails verification, or holds another run than its name says
  };
  State state = State::Missing;
  std::string path;
  std::string problem;                  // for Corrupt
  std::optional<ShardContent> content;  // for Valid
};

// Checks the shards of `runs` in `dir` against `plan`, verifying each file present.
std::vector<ShardCheck> check_shards(const Plan& plan, const std::string& dir,
                                     const std::vector<std::size_t>& runs);

// Moves a bad shard aside, not deleting it: renames it to "<path>.corrupt-<UTC time>"
// (plus "-N" if taken) and returns the new path. Such files are no shards: neither merge
// nor --resume reads them, and the shard directory is kept while one is there.
std::string move_aside(const std::string& path);

// Removes what infersim made in a shard directory once `plan`'s result set is written: every
// shard of the plan (a run-NNNNNN.h5 whose infersim_shard description reads back and is
// shard_of_plan) and the temporary files of processes that are gone; then the directory
// itself if that leaves it empty. Anything else (a user's file, a shard moved aside as
// corrupt, another sweep's shard) stays, and is returned.
std::vector<std::string> remove_shards(const Plan& plan, const std::string& dir);

// The non-empty lines of a multi-line attribute.
std::vector<std::string> split_lines(const std::string& s);

}  // namespace infersim
