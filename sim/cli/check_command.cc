// `infersim check RESULT.h5...`: whether each file is a whole, undamaged result set, for
// readers outside infersim (scripts/result_set.py runs it before pandas reads a file).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>

#include "sim/cli/commands.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/shard_store.h"

namespace infersim {
namespace {

// The 8-byte signature an HDF5 file starts with (its superblock, without a user block).
bool has_hdf5_signature(const std::string& file) {
  static constexpr char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream in(file, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  return in.gcount() == sizeof head && std::equal(head, head + sizeof head, kSignature);
}

bool has_root_attr(const ResultReader& reader, const char* name) {
  try {
    reader.attr("/", name);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

bool verify_result_set(const std::string& file) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status)) throw InputError(Mark{file, 0, 0}, "no such file");
  if (!std::filesystem::is_regular_file(status)) {
    throw InputError(Mark{file, 0, 0}, "not a regular file; expected a result set (.h5)");
  }
  if (!has_hdf5_signature(file)) {
    throw InputError(Mark{file, 0, 0}, "not an HDF5 file; expected a result set (.h5)");
  }
  bool verified = false;
  try {
    const ResultReader reader(file);
    if (has_root_attr(reader, "infersim_shard")) {
      throw InputError(Mark{file, 0, 0},
                       "a shard of a sweep, not a result set (`infersim merge` its folder)");
    }
    if (!has_root_attr(reader, "infersim_version")) {
      throw InputError(Mark{file, 0, 0},
                       "an HDF5 file but not an infersim result set (no root attribute "
                       "infersim_version)");
    }
    verified = reader.verify();
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    std::string why = e.what();  // without the file name the message starts with
    if (why.rfind(file + ": ", 0) == 0) why.erase(0, file.size() + 2);
    throw InputError(Mark{file, 0, 0}, fmt::format("damaged or not a result set ({})", why));
  }
  if (!verified) {
    std::cerr << fmt::format(
        "infersim: warning: {} has no content checksum (written by an older infersim); read "
        "without verifying it\n",
        file);
  }
  return verified;
}

int check_command(const CheckOptions& o) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  int status = 0;
  for (const auto& file : o.files) {
    try {
      const bool verified = verify_result_set(file);
      std::size_t runs = 0;
      std::string missing = "0", total;
      try {
        const ResultReader reader(file);
        runs = reader.table("/summary").rows.size();
        // Absent in a result set of an older infersim or of `measure`: nothing missing.
        if (has_root_attr(reader, "runs_missing")) missing = reader.attr("/", "runs_missing");
        if (has_root_attr(reader, "runs_total")) total = reader.attr("/", "runs_total");
      } catch (const std::exception& e) {
        throw InputError(Mark{file, 0, 0},
                         fmt::format("not a result set of `infersim run` or `infersim measure` "
                                     "(cannot read /summary: {})",
                                     e.what()));
      }
      if (missing != "0" && !o.allow_missing) {
        throw InputError(Mark{file, 0, 0},
                         fmt::format("a partial result set: {} of {} runs missing (`merge "
                                     "--allow-missing` wrote it); `run --resume` completes it, "
                                     "--allow-missing accepts it",
                                     missing, total.empty() ? "its" : total));
      }
      std::cout << fmt::format(
          "{}: {}, {} run{}{}\n", file, verified ? "verified" : "read without a content checksum",
          runs, runs == 1 ? "" : "s", missing != "0" ? fmt::format(", {} missing", missing) : "");
    } catch (const InputError& e) {
      std::cerr << "infersim: " << e.what() << "\n";
      status = 2;
    }
  }
  return status;
}

}  // namespace infersim
