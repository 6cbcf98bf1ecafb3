#include "sim/sweep/output_files.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace infersim {
namespace fs = std::filesystem;
namespace {

// "a directory", "a FIFO", ... for a file that exists and is not a regular file.
std::string kind_of(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (S_ISFIFO(st.st_mode)) return "a FIFO";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

std::string default_output_path(const std::string& name, const Mark& where) {
  const bool ok = !name.empty() && name.size() <= 100 && name.front() != '.' &&
                  name.front() != '-' && std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' || c == '-';
                  });
  if (!ok) {
    throw InputError(where, fmt::format("the experiment name '{}' cannot name the default output "
                                        "results/<name>.h5: expected 1 to 100 letters, digits, "
                                        "'.', '_', '+' or '-', not starting with '.' or '-' (or "
                                        "give -o)",
                                        name));
  }
  return (fs::path("results") / (name + ".h5")).string();
}

void check_output_path(const std::string& out, const Mark& where, const std::string& shard_dir) {
  struct stat st {};
  if (out.empty()) throw InputError(where, "expected a file name");
  if (::stat(out.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw InputError(where, fmt::format("{} is {}; expected a regular file to write the result "
                                        "set to",
                                        out, kind_of(st)));
  }
  if (!shard_dir.empty() && ::stat(shard_dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    throw InputError(where, fmt::format("{} exists and is not a directory; infersim keeps the "
                                        "shards of {} there",
                                        shard_dir, out));
  }
  // The nearest folder that exists must be a directory we may write (ResultFile makes the
  // missing ones).
  fs::path folder = fs::path(out).parent_path();
  if (folder.empty()) folder = ".";
  while (::stat(folder.c_str(), &st) != 0) {
    const int err = errno;
    fs::path up = folder.parent_path();
    if (up.empty()) up = ".";
    if (err != ENOENT || up == folder) {
      throw InputError(
          where, fmt::format("cannot write {}: {}: {}", out, folder.string(), std::strerror(err)));
    }
    folder = up;
  }
  if (!S_ISDIR(st.st_mode)) {
    throw InputError(where,
                     fmt::format("cannot write {}: {} is not a directory", out, folder.string()));
  }
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    throw InputError(
        where, fmt::format("cannot write {}: {}: {}", out, folder.string(), std::strerror(errno)));
  }
}

}  // namespace infersim
