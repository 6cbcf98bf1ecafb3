#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <utility>

#include "sim/cli/commands.h"
#include "sim/results/aggregate.h"
#include "sim/sweep/merge.h"
#include "sim/sweep/output_files.h"

namespace infersim {
namespace fs = std::filesystem;

int merge_command(const MergeOptions& o) {
  std::string dir = o.dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string out = o.out;
  if (out.empty()) {
    out = dir.size() > 2 && dir.compare(dir.size() - 2, 2, ".d") == 0
              ? dir.substr(0, dir.size() - 2)
              : dir + ".h5";
  }
  const Mark where{dir, 0, 0};
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(where, "not a directory of shards");
  const Mark out_mark = o.out.empty() ? where : Mark{"-o", 0, 0};
  check_output_path(out, out_mark);
  // The shard files, by the run their name gives.
  std::vector<std::pair<std::uint64_t, std::string>> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (auto run = run_of_shard_name(e.path().filename().string())) {
      files.emplace_back(*run, e.path().string());
    }
  }
  if (files.empty()) throw InputError(where, "no shards (run-NNNNNN.h5) found");
  std::sort(files.begin(), files.end());
  std::vector<std::string> inputs;
  for (const auto& f : files) inputs.push_back(f.second);
  check_not_an_input(out, out_mark, inputs);  // not over a shard
  // One infersim at a time per output (OutputLock); slot 0: the temporary file, 1: the lock.
  TempFiles temps(2);
  const OutputLock lock(out, OutputLock::Mode::Exclusive);
  if (!lock.warning().empty()) std::cerr << "infersim: warning: " << lock.warning() << "\n";
  if (lock.held()) temps.set(1, lock.path());
  struct ForgetLock {  // before the lock is released (declared after it)
    TempFiles& temps;
    ~ForgetLock() { temps.clear(1); }
  } forget_lock{temps};

  // Each is read back whole and its checksum verified; it must hold the run its name says.
  std::vector<ShardContent> shards;
  std::vector<std::pair<std::string, std::string>> bad;  // path, what is wrong
  for (const auto& [run, path] : files) {
    std::string problem;
    auto content = verify_shard(path, &problem);
    if (!content) {
      bad.emplace_back(path, fmt::format("corrupt shard ({})", problem));
    } else if (content->info.run != run) {
      bad.emplace_back(
          path, fmt::format("holds run {}, not run {} (a copy of {}?)", content->info.run, run,
                            fs::path(shard_path(dir, content->info.run)).filename().string()));
    } else {
      shards.push_back(std::move(*content));
    }
  }
  if (!bad.empty()) {
    throw InputError(
        Mark{bad.front().first, 0, 0},
        fmt::format(
            "{}{}; nothing merged: `infersim run ... --resume` moves a bad shard aside "
            "and runs its run again",
            bad.front().second,
            bad.size() > 1 ? fmt::format(" (and {} more bad shards)", bad.size() - 1) : ""));
  }
  std::map<std::string, std::size_t> ids;
  for (const auto& s : shards) ++ids[s.info.sweep_id];
  if (ids.size() > 1) {
    std::string list;
    for (const auto& [id, n] : ids)
      list += fmt::format("{}{} x {}", list.empty() ? "" : ", ", n, id);
    throw InputError(where, fmt::format("shards of {} different sweeps (sweep_id: {}); remove the "
                                        "stale ones",
                                        ids.size(), list));
  }
  const std::uint64_t total = shards.front().info.runs_total;
  if (shards.back().info.run >= total) {
    throw InputError(
        Mark{shards.back().info.path, 0, 0},
        fmt::format("run {} is beyond the sweep's {} runs", shards.back().info.run, total));
  }
  std::vector<std::uint64_t> missing;
  std::size_t k = 0;
  for (std::uint64_t r = 0; r < total; ++r) {
    if (k < shards.size() && shards[k].info.run == r) {
      ++k;
    } else {
      missing.push_back(r);
    }
  }
  if (!missing.empty() && !o.allow_missing) {
    std::string first;
    for (std::size_t i = 0; i < missing.size() && i < 8; ++i) {
      first += fmt::format("{}{}", i ? ", " : "", missing[i]);
    }
    throw InputError(where, fmt::format("{} of {} runs have no shard (run{} {}{}); run the missing "
                                        "shards (infersim run ... --resume) or merge with "
                                        "--allow-missing",
                                        missing.size(), total, missing.size() == 1 ? "" : "s",
                                        first, missing.size() > 8 ? ", ..." : ""));
  }
  MergedSet m = collect_shards(shards);
  write_merged(m, shards, out, temps, 0);
  if (!o.quiet) {
    print_result_tables(std::cout, m.summary, m.tenants, m.aggregate ? &*m.aggregate : nullptr,
                        m.swept);
  }
  std::cout << fmt::format("wrote {} ({} of {} runs from {}{})\n", out, shards.size(), total, dir,
                           missing.empty() ? "" : fmt::format("; {} missing", missing.size()));
  return 0;
}

}  // namespace infersim
