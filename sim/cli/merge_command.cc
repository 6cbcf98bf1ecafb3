#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include "sim/cli/commands.h"
#include "sim/results/aggregate.h"
#include "sim/sweep/merge.h"

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
  std::vector<ShardInfo> shards;
  std::vector<std::string> unreadable;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 8 || name.compare(0, 4, "run-") != 0 ||
        name.compare(name.size() - 3, 3, ".h5") != 0 ||
        name.find_first_not_of("0123456789", 4) != name.size() - 3) {
      continue;
    }
    auto info = read_shard_info(e.path().string());
    if (info) {
      shards.push_back(std::move(*info));
    } else {
      unreadable.push_back(name);
    }
  }
  if (!unreadable.empty()) {
    throw InputError(
        where, fmt::format("{} unreadable shard file{} (e.g. {}); remove {} and "
                           "re-run its runs with --resume",
                           unreadable.size(), unreadable.size() == 1 ? "" : "s", unreadable.front(),
                           unreadable.size() == 1 ? "it" : "them"));
  }
  if (shards.empty()) throw InputError(where, "no shards (run-NNNNNN.h5) found");
  std::map<std::string, std::size_t> ids;
  for (const auto& s : shards) ++ids[s.sweep_id];
  if (ids.size() > 1) {
    std::string list;
    for (const auto& [id, n] : ids)
      list += fmt::format("{}{} x {}", list.empty() ? "" : ", ", n, id);
    throw InputError(where, fmt::format("shards of {} different sweeps (sweep_id: {}); remove the "
                                        "stale ones",
                                        ids.size(), list));
  }
  std::sort(shards.begin(), shards.end(),
            [](const ShardInfo& a, const ShardInfo& b) { return a.run < b.run; });
  const std::uint64_t total = shards.front().runs_total;
  std::vector<std::uint64_t> missing;
  std::size_t k = 0;
  for (std::uint64_t r = 0; r < total; ++r) {
    if (k < shards.size() && shards[k].run == r) {
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
    throw InputError(where,
                     fmt::format("{} of {} runs have no shard (runs {}{}); run the missing "
                                 "shards (infersim run ... --resume) or merge with "
                                 "--allow-missing",
                                 missing.size(), total, first, missing.size() > 8 ? ", ..." : ""));
  }
  TempFiles temps(1);
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
