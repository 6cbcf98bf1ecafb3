#include "sim/sweep/merge.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mutex>
#include <set>
#include <stdexcept>

#include "sim/results/aggregate.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/tables.h"

namespace infersim {

MergedSet collect_shards(const std::vector<ShardInfo>& shards) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  MergedSet m;
  if (shards.empty()) return m;
  m.swept = split_lines(read_root_attr(shards.front().path, "swept_columns"));
  m.swept_paths = read_root_attr(shards.front().path, "swept_paths");
  std::set<std::string> data_files;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    Table s = read_table(shards[i].path, "/summary");
    Table t = read_table(shards[i].path, "/tenants");
    if (i == 0) {
      m.summary.names = s.names;
      m.summary.types = s.types;
      m.tenants.names = t.names;
      m.tenants.types = t.types;
    } else if (s.names != m.summary.names || s.types != m.summary.types ||
               t.names != m.tenants.names || t.types != m.tenants.types) {
      throw std::runtime_error(
          fmt::format("shard {} has other /summary or /tenants columns than "
                      "{} (written by another infersim version?)",
                      shards[i].path, shards.front().path));
    }
    for (const auto& line : split_lines(read_root_attr(shards[i].path, "data_files"))) {
      data_files.insert(line);
    }
    for (auto& row : s.rows) m.summary.rows.push_back(std::move(row));
    for (auto& row : t.rows) m.tenants.rows.push_back(std::move(row));
  }
  for (const auto& line : data_files) m.data_files += line + "\n";
  if (shards.front().replications >= 2) {
    m.aggregate = aggregate_table(m.summary, m.swept, shards.front().replications);
  }
  return m;
}

void write_merged(const MergedSet& m, const std::vector<ShardInfo>& shards, const std::string& out,
                  TempFiles& temps, std::size_t slot) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  const ShardInfo& first = shards.front();
  ResultFile f(out);
  temps.set(slot, f.temp_path());
  f.write_table("/summary", m.summary);
  f.write_table("/tenants", m.tenants);
  if (m.aggregate) f.write_table("/aggregate", *m.aggregate);
  // Swept columns are identifiers; each table with them says which path each one is.
  f.set_attr("/summary", "swept_paths", m.swept_paths);
  if (m.aggregate) f.set_attr("/aggregate", "swept_paths", m.swept_paths);
  for (const ShardInfo& s : shards) {
    if (s.requests) {
      const std::string group = fmt::format("/runs/{}", s.run);
      f.copy_object(s.path, group, group);
    }
  }
  for (const char* a :
       {"experiment_yaml", "experiment_file", "overrides", "infersim_version", "git_revision"}) {
    f.set_root_attr(a, read_root_attr(first.path, a));
  }
  f.set_root_attr("created_utc", utc_now());
  f.set_root_attr("sweep_id", first.sweep_id);
  f.set_root_attr("runs_total", std::to_string(first.runs_total));
  f.set_root_attr("replications", std::to_string(first.replications));
  f.set_root_attr("points", std::to_string(first.runs_total / first.replications));
  f.set_root_attr("swept_columns", fmt::format("{}", fmt::join(m.swept, "\n")));
  f.set_root_attr("swept_paths", m.swept_paths);
  f.set_root_attr("data_files", m.data_files);
  f.commit();
  temps.clear(slot);
}

}  // namespace infersim
