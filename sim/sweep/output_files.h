// Where a sweep's result set goes, checked before anything runs: infersim never replaces
// what is not a regular file, never writes outside results/ by default, and never simulates
// for an output it cannot write.
#pragma once

#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/sweep/paths.h"  // resolved_path

namespace infersim {

// "results/<name>.h5", the default output. The name must be safe as one file name: 1 to 100
// characters, letters, digits, '.', '_', '+' and '-', not starting with '.' or '-' (so
// `name: ../../x` or an absolute name cannot write outside results/). Otherwise an
// InputError at `where` (the experiment's `name`).
std::string default_output_path(const std::string& name, const Mark& where);

// Checks that OUT (and its shard directory OUT.d when `shard_dir` is given) can be written,
// before anything runs: OUT is absent or a regular file (not a directory, a device, a FIFO
// or a socket: writing there would replace it), its folder is a writable directory (or can
// be made in one), the shard directory is absent or a directory, and OUT is none of
// `inputs`, the files the command reads (compared as files, by device and inode, so no
// spelling or link gets past it). A path that ends in '/' or names "." or ".." names a
// folder, not a file. Otherwise an InputError at `where` (e.g. "-o").
void check_output_path(const std::string& out, const Mark& where, const std::string& shard_dir = "",
                       const std::vector<std::string>& inputs = {});

// The part of check_output_path about inputs: neither OUT nor OUT.lock (which OutputLock
// writes) is one of `inputs`, compared as files where their names lead.
void check_not_an_input(const std::string& out, const Mark& where,
                        const std::vector<std::string>& inputs);

// Writes `text` to `path` whole or not at all (making its folder if need be): into a
// temporary file beside it
// (temp_path_for), flushed and fsynced, then renamed over `path` and the folder fsynced.
// On failure the temporary file is removed and std::runtime_error names the path and why.
void write_text_file(const std::string& path, const std::string& text);

// One infersim at a time per output: an advisory flock(2) on "OUT.lock", next to OUT, taken
// before anything is written and released when the process ends, however it ends (the
// kernel drops the lock of a dead process; a lock file left by a killed run is harmless and
// reused). `run` and `merge` lock exclusively; `run --shard` jobs share the lock, so the
// jobs of an array run side by side, but none runs with a full run or a merge of the same
// output. The file is removed on release when no one else holds it.
class OutputLock {
 public:
  enum class Mode { Exclusive, Shared };
  // Takes the lock or throws std::runtime_error at once ("... is being written by another
  // infersim (pid N) ..."). On a file system without locks it holds nothing and says so in
  // warning().
  OutputLock(const std::string& out, Mode mode);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  const std::string& path() const { return path_; }
  bool held() const { return fd_ >= 0; }
  const std::string& warning() const { return warning_; }

 private:
  std::string path_;
  Mode mode_;
  int fd_ = -1;
  std::string warning_;
};

}  // namespace infersim
