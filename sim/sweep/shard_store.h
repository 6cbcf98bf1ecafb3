// The shards of a sweep on disk: OUT.h5.d/run-NNNNNN.h5, one per run, each a small result
// set of its own plus a description (ShardInfo) in its root attribute `infersim_shard`.
// Also the temporary files being written, removed when a signal ends the process, and the
// lock that serializes HDF5 calls (Debian's HDF5 is not thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sim/sweep/plan.h"

namespace infersim {

// Every HDF5 call made while workers run holds this lock.
std::mutex& hdf5_mutex();

// Temporary files being written, removed if SIGINT/SIGTERM ends the process. One slot per
// writer; fixed-size C strings, so the signal handler only reads memory and calls unlink.
class TempFiles {
 public:
  explicit TempFiles(std::size_t slots);
  ~TempFiles();
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;

  void set(std::size_t slot, const std::string& path);
  void clear(std::size_t slot);

 private:
  static constexpr std::size_t kPathMax = 4096;
  char (*slots_)[kPathMax];
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// Removes "<name>.tmp.<pid>" files in `dir` (starting with `prefix`) whose process is gone:
// what a killed run left behind.
void remove_stale_temps(const std::filesystem::path& dir, const std::string& prefix = "");

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
};

// The `infersim_shard` attribute text (key=value lines) of a shard.
std::string shard_info_text(const ShardInfo& s);
// The shard's description, or nothing if the file is missing, unreadable or not a shard.
// Takes the HDF5 lock.
std::optional<ShardInfo> read_shard_info(const std::string& path);

// "OUT.h5.d/run-000042.h5".
std::string shard_path(const std::string& shard_dir, std::size_t run);

// The shards of `runs` in `dir` that belong to `plan` (same run and config hash);
// nullopt entries are missing or stale.
std::vector<std::optional<ShardInfo>> valid_shards(const Plan& plan, const std::string& dir,
                                                   const std::vector<std::size_t>& runs);

// The non-empty lines of a multi-line attribute.
std::vector<std::string> split_lines(const std::string& s);

}  // namespace infersim
