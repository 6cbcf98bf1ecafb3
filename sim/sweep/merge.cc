#include "sim/sweep/merge.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include "sim/results/aggregate.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/tables.h"

namespace infersim {

MergedSet collect_shards(const std::vector<ShardContent>& shards) {
  MergedSet m;
  if (shards.empty()) return m;
  m.swept = split_lines(shards.front().attr("swept_columns"));
  m.swept_paths = shards.front().attr("swept_paths");
  std::set<std::string> data_files;
  std::map<std::uint64_t, std::string> effective;  // point -> its experiment, as YAML
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const Table& s = shards[i].summary;
    const Table& t = shards[i].tenants;
    const Table& g = shards[i].gpus;
    if (i == 0) {
      m.summary.names = s.names;
      m.summary.types = s.types;
      m.tenants.names = t.names;
      m.tenants.types = t.types;
      m.gpus.names = g.names;
      m.gpus.types = g.types;
    } else if (s.names != m.summary.names || s.types != m.summary.types ||
               t.names != m.tenants.names || t.types != m.tenants.types ||
               g.names != m.gpus.names || g.types != m.gpus.types) {
      throw std::runtime_error(
          fmt::format("shard {} has other /summary, /tenants or /gpus columns than "
                      "{} (written by another infersim version?)",
                      shards[i].info.path, shards.front().info.path));
    }
    for (const auto& line : split_lines(shards[i].attr("data_files"))) data_files.insert(line);
    effective.emplace(shards[i].info.point, shards[i].attr("effective_yaml"));
    m.summary.rows.insert(m.summary.rows.end(), s.rows.begin(), s.rows.end());
    m.tenants.rows.insert(m.tenants.rows.end(), t.rows.begin(), t.rows.end());
    m.gpus.rows.insert(m.gpus.rows.end(), g.rows.begin(), g.rows.end());
  }
  for (const auto& line : data_files) m.data_files += line + "\n";
  m.points.add_column("point", ColType::Int64);
  m.points.add_column("effective_yaml", ColType::String);
  for (const auto& [point, yaml] : effective) {
    m.points.rows.push_back({static_cast<std::int64_t>(point), yaml});
  }
  if (shards.front().info.replications >= 2) {
    m.aggregate = aggregate_table(m.summary, m.swept, shards.front().info.replications);
  }
  return m;
}

void write_merged(const MergedSet& m, const std::vector<ShardContent>& shards,
                  const std::string& out, TempFiles& temps, std::size_t slot) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  const ShardInfo& first = shards.front().info;
  struct ClearSlot {  // after the ResultFile has removed its temporary file, if it failed
    TempFiles& temps;
    std::size_t slot;
    ~ClearSlot() { temps.clear(slot); }
  } clear_slot{temps, slot};
  temps.set(slot, temp_path_for(out));  // before the file exists: no window for a signal
  ResultFile f(out);
  f.write_table("/summary", m.summary);
  f.write_table("/tenants", m.tenants);
  f.write_table("/gpus", m.gpus);
  if (m.aggregate) f.write_table("/aggregate", *m.aggregate);
  f.write_table("/points", m.points);
  // Swept columns are identifiers; each table with them says which path each one is.
  f.set_attr("/summary", "swept_paths", m.swept_paths);
  if (m.aggregate) f.set_attr("/aggregate", "swept_paths", m.swept_paths);
  for (const ShardContent& s : shards) {
    if (s.info.requests) {
      const std::string group = fmt::format("/runs/{}", s.info.run);
      f.copy_object(s.info.path, group, group);
    }
  }
  for (const char* a :
       {"experiment_yaml", "experiment_file", "overrides", "infersim_version", "git_revision"}) {
    f.set_root_attr(a, shards.front().attr(a));
  }
  f.set_root_attr("created_utc", utc_now());
  f.set_root_attr("sweep_id", first.sweep_id);
  f.set_root_attr("runs_total", std::to_string(first.runs_total));
  f.set_root_attr("runs_missing", std::to_string(first.runs_total - shards.size()));
  f.set_root_attr("replications", std::to_string(first.replications));
  f.set_root_attr("points", std::to_string(first.runs_total / first.replications));
  f.set_root_attr("swept_columns", fmt::format("{}", fmt::join(m.swept, "\n")));
  f.set_root_attr("swept_paths", m.swept_paths);
  f.set_root_attr("data_files", m.data_files);
  f.commit();
}

std::string result_set_gap(const std::string& out, const Plan& plan) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  try {
    const ResultReader file(out);
    if (!file.verify()) return "has no content checksum (written by an older infersim)";
    if (file.attr("/", "sweep_id") != plan.sweep_id) return "holds another sweep";
    const Table summary = file.table("/summary");
    const int run = summary.column("run");
    std::size_t held = 0;
    bool in_order = run >= 0 && summary.rows.size() == plan.runs.size();
    for (std::size_t i = 0; run >= 0 && i < summary.rows.size(); ++i) {
      const auto* r = std::get_if<std::int64_t>(&summary.rows[i][static_cast<std::size_t>(run)]);
      if (r != nullptr && *r >= 0 && static_cast<std::uint64_t>(*r) < plan.runs.size()) ++held;
      if (r == nullptr || *r != static_cast<std::int64_t>(i)) in_order = false;
    }
    if (file.attr("/", "runs_missing") != "0" || !in_order) {
      return fmt::format("holds {} of {} runs (a partial merge)", held, plan.runs.size());
    }
  } catch (const std::exception& e) {
    return fmt::format("fails verification ({})", e.what());
  }
  return "";
}

}  // namespace infersim
