#include "sim/sweep/output_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "sim/results/hdf5_writer.h"

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

void check_not_an_input(const std::string& out, const Mark& where,
                        const std::vector<std::string>& inputs) {
  // OUT, and OUT.lock, which OutputLock truncates and may remove.
  struct stat st {
  }, in{};
  for (const std::string& mine : {out, out + ".lock"}) {
    // Where the name will lead once the writer has made its missing folders:
    // "missing/../in.yaml" is in.yaml, though stat() of it fails today.
    if (::stat(resolved_path(mine).c_str(), &st) != 0) continue;
    for (const std::string& input : inputs) {
      if (::stat(input.c_str(), &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino) {
        throw InputError(where,
                         fmt::format("{}{} is {}, which this command reads; expected "
                                     "another file to write to",
                                     mine, mine == out ? "" : " (the output's lock file)", input));
      }
    }
  }
}

void check_output_path(const std::string& out, const Mark& where, const std::string& shard_dir,
                       const std::vector<std::string>& inputs) {
  struct stat st {};
  if (out.empty()) throw InputError(where, "expected a file name");
  const std::string leaf = fs::path(out).filename().string();
  if (out.back() == '/' || leaf == "." || leaf == "..") {
    throw InputError(where, fmt::format("{} names a folder; expected a file name to write the "
                                        "result set to",
                                        out));
  }
  check_not_an_input(out, where, inputs);
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

void write_text_file(const std::string& path, const std::string& text) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code made;
  if (!parent.empty()) fs::create_directories(parent, made);  // as ResultFile does
  if (made) {
    throw std::runtime_error(
        fmt::format("cannot create the folder {}: {}", parent.string(), made.message()));
  }
  const std::string tmp = temp_path_for(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  }
  int err = 0;
  for (std::size_t done = 0; done < text.size() && err == 0;) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno != EINTR) err = errno;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0 && errno != EINVAL) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());  // ours: made above
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(err)));
  }
  const fs::path folder = fs::path(path).parent_path();
  sync_directory(folder.empty() ? "." : folder.string());
}

OutputLock::OutputLock(const std::string& out, Mode mode) : path_(out + ".lock"), mode_(mode) {
  const int op = (mode == Mode::Exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  // The output's folder may not exist yet (results/ in a fresh checkout).
  const fs::path folder = fs::path(path_).parent_path();
  std::error_code ec;
  if (!folder.empty()) fs::create_directories(folder, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("cannot create the folder {}: {}", folder.string(), ec.message()));
  }
  while (true) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw std::runtime_error(
          fmt::format("cannot create the lock file {}: {}", path_, std::strerror(errno)));
    }
    if (::flock(fd_, op) != 0) {
      const int err = errno;
      ::close(fd_);
      fd_ = -1;
      if (err == ENOLCK || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL) {
        // A file system without locks (some network mounts): go on, unprotected, and say so.
        warning_ = fmt::format(
            "cannot lock {} ({}): another infersim writing {} would not be "
            "noticed",
            path_, std::strerror(err), out);
        return;
      }
      if (err != EWOULDBLOCK) {
        throw std::runtime_error(fmt::format("cannot lock {}: {}", path_, std::strerror(err)));
      }
      std::string holder;
      std::ifstream(path_) >> holder;
      throw std::runtime_error(fmt::format(
          "{} is being written by another infersim{} (it holds {}); wait for it to finish, or "
          "write elsewhere with -o",
          out, holder.empty() ? "" : fmt::format(" (pid {})", holder), path_));
    }
    // Its last holder may have removed the file between our open and flock: then the lock
    // is on a file no one else will open, and we start again.
    struct stat held {
    }, now{};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino) {
      break;
    }
    ::close(fd_);
    fd_ = -1;
  }
  if (mode_ == Mode::Exclusive) {  // who holds it, for the message of the next one
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) == 0) {
      [[maybe_unused]] const ssize_t n = ::pwrite(fd_, pid.data(), pid.size(), 0);  // courtesy
    }
  }
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  // Remove the file only while holding it alone (a shared holder tries to upgrade); the
  // inode check in the constructor makes this safe against a concurrent open.
  if (mode_ == Mode::Exclusive || ::flock(fd_, LOCK_EX | LOCK_NB) == 0) ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace infersim
