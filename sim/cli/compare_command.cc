// `infersim compare SIMULATED.h5 MEASURED.h5`: simulated against measured latency,
// throughput and SLO attainment, per run and per tenant (/comparison, DESIGN.md).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>

#include "sim/cli/commands.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/output_files.h"
#include "sim/sweep/shard_store.h"
#include "sim/sweep/tables.h"

namespace infersim {
namespace {

struct Metric {
  const char* name;    // /comparison's metric
  const char* column;  // of /summary and /tenants
  bool points;         // error in points (a fraction), not percent
};

constexpr Metric kMetrics[] = {
    {"mean", "mean_ms", false},
    {"p50", "p50_ms", false},
    {"p90", "p90_ms", false},
    {"p95", "p95_ms", false},
    {"p99", "p99_ms", false},
    {"throughput", "throughput_rps", false},
    {"slo_attainment", "slo_attainment", true},
};

std::string root_attr(const std::string& file, const std::string& name) {
  try {
    return read_root_attr(file, name);
  } catch (const std::exception& e) {
    throw InputError(Mark{file, 0, 0},
                     fmt::format("not a result set of `infersim run` or `infersim measure` (no "
                                 "root attribute '{}')",
                                 name));
  }
}

Table table(const std::string& file, const std::string& path) {
  try {
    return read_table(file, path);
  } catch (const std::exception& e) {
    throw InputError(Mark{file, 0, 0}, fmt::format("cannot read {}: {}", path, e.what()));
  }
}

double number(const Table& t, std::size_t row, const char* column, const std::string& file) {
  const int c = t.column(column);
  if (c < 0) throw InputError(Mark{file, 0, 0}, fmt::format("no column '{}'", column));
  const Cell& v = t.rows[row][static_cast<std::size_t>(c)];
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  throw InputError(Mark{file, 0, 0}, fmt::format("column '{}' is not numeric", column));
}

std::string text(const Table& t, std::size_t row, const char* column) {
  const int c = t.column(column);
  if (c < 0) return "";
  const Cell& v = t.rows[row][static_cast<std::size_t>(c)];
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return fmt::format("{}", std::get<double>(v));
}

}  // namespace

double comparison_error(double simulated, double measured, bool points) {
  // Both undefined (NaN: no request completed, or none arrived, in either): they agree.
  if (std::isnan(simulated) && std::isnan(measured)) return 0;
  if (points) return (simulated - measured) * 100.0;
  // Against a measured 0 the division gives +-inf for any other number (and NaN for NaN):
  // a throughput of 307 against 0 is infinitely off, not undefined. 0 against 0 agrees.
  if (measured == 0 && simulated == 0) return 0;
  return (simulated - measured) / measured * 100.0;
}

int compare_command(const CompareOptions& o) {
  // Both outputs are checked before anything is read: neither may be an input, a device or
  // a folder, nor the same file as the other.
  const std::vector<std::string> inputs{o.simulated, o.measured};
  if (!o.out.empty()) check_output_path(o.out, Mark{"-o", 0, 0}, "", inputs);
  if (!o.report.empty()) {
    std::vector<std::string> taken = inputs;
    if (!o.out.empty()) taken.push_back(o.out);
    check_output_path(o.report, Mark{"--report", 0, 0}, "", taken);
    // Both may be new files, so compare where their names lead (links, "..", folders not
    // made yet), not inodes.
    if (!o.out.empty() && resolved_path(o.report) == resolved_path(o.out)) {
      throw InputError(Mark{"--report", 0, 0},
                       fmt::format("{} is also the -o file; expected another file", o.report));
    }
  }
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  // A damaged input is an input error, never numbers read wrongly.
  verify_result_set(o.simulated);
  verify_result_set(o.measured);
  const std::string sim_id = root_attr(o.simulated, "sweep_id");
  const std::string meas_id = root_attr(o.measured, "sweep_id");
  if (sim_id != meas_id) {
    throw InputError(Mark{o.measured, 0, 0},
                     fmt::format("comes from another experiment than {} (config hashes differ: "
                                 "sweep_id {} vs {}); simulate and measure the same experiment "
                                 "file with the same --set options",
                                 o.simulated, meas_id, sim_id));
  }
  const Table ss = table(o.simulated, "/summary"), ms = table(o.measured, "/summary");
  const Table st = table(o.simulated, "/tenants"), mt = table(o.measured, "/tenants");
  if (ss.rows.size() != ms.rows.size() || st.rows.size() != mt.rows.size()) {
    throw InputError(Mark{o.measured, 0, 0},
                     fmt::format("has {} runs and {} tenant rows, {} has {} and {}", ms.rows.size(),
                                 mt.rows.size(), o.simulated, ss.rows.size(), st.rows.size()));
  }
  std::vector<std::string> swept;
  for (const auto& line : split_lines(root_attr(o.simulated, "swept_columns"))) {
    swept.push_back(line);
  }

  Table cmp;
  cmp.add_column("run", ColType::Int64);
  cmp.add_column("tenant", ColType::String);
  cmp.add_column("metric", ColType::String);
  cmp.add_column("simulated", ColType::Float64);
  cmp.add_column("measured", ColType::Float64);
  cmp.add_column("error_pct", ColType::Float64);
  double worst = 0;
  std::string worst_where;
  auto add = [&](std::int64_t run, const std::string& tenant, const Metric& m, double s, double v) {
    const double e = comparison_error(s, v, m.points);
    cmp.rows.push_back({run, tenant, std::string(m.name), s, v, e});
    const double a = std::isnan(e) ? std::numeric_limits<double>::infinity() : std::abs(e);
    if (a > worst) {
      worst = a;
      worst_where = fmt::format("run {}{} {}: simulated {:.4g}, measured {:.4g} ({:+.1f}{})", run,
                                tenant.empty() ? "" : " tenant " + tenant, m.name, s, v, e,
                                m.points ? " points" : "%");
    }
  };

  // Markdown: one row per run, over all tenants.
  std::string md = "| run | policy |";
  std::string rule = "|---|---|";
  for (const auto& c : swept) {
    md += fmt::format(" {} |", c);
    rule += "---|";
  }
  md +=
      " mean ms sim / meas (err) | p50 ms sim / meas (err) | p99 ms sim / meas (err) | "
      "throughput req/s sim / meas (err) | SLO attainment sim / meas (points) |\n";
  rule += "---|---|---|---|---|\n";
  md += rule;

  // Terminal: one line per run, over all tenants.
  std::string header = fmt::format("{:>4}  {:<12}", "run", "policy");
  for (const auto& c : swept) header += fmt::format("  {:>12}", c.substr(c.rfind('.') + 1));
  for (const char* m : {"mean", "p50", "p99", "throughput", "slo_attain"}) {
    header += fmt::format("  {:>22}", m);
  }
  std::cout << "simulated / measured (error: % of measured; slo_attainment: points)\n"
            << header << "\n";
  for (std::size_t r = 0; r < ss.rows.size(); ++r) {
    const auto run = static_cast<std::int64_t>(number(ss, r, "run", o.simulated));
    std::string line = fmt::format("{:>4}  {:<12}", run, text(ss, r, "policy"));
    for (const auto& c : swept) line += fmt::format("  {:>12}", text(ss, r, c.c_str()));
    md += fmt::format("| {} | {} |", run, text(ss, r, "policy"));
    for (const auto& c : swept) md += fmt::format(" {} |", text(ss, r, c.c_str()));
    for (const Metric& m : kMetrics) {
      const double s = number(ss, r, m.column, o.simulated);
      const double v = number(ms, r, m.column, o.measured);
      add(run, "", m, s, v);
      const std::string n = m.name;
      if (n == "p90" || n == "p95") continue;
      md += m.points
                ? fmt::format(" {:.3f} / {:.3f} ({:+.1f}) |", s, v, comparison_error(s, v, true))
                : fmt::format(" {:.4g} / {:.4g} ({:+.1f}%) |", s, v, comparison_error(s, v, false));
      line +=
          m.points
              ? fmt::format("  {:>6.3f}/{:<6.3f}({:+5.1f})", s, v, comparison_error(s, v, true))
              : fmt::format("  {:>7.3f}/{:<7.3f}({:+5.1f}%)", s, v, comparison_error(s, v, false));
    }
    std::cout << line << "\n";
    md += "\n";
  }
  for (std::size_t r = 0; r < st.rows.size(); ++r) {
    const auto run = static_cast<std::int64_t>(number(st, r, "run", o.simulated));
    const std::string name = text(st, r, "name");
    if (text(mt, r, "name") != name) {
      throw InputError(Mark{o.measured, 0, 0},
                       fmt::format("tenant rows differ from {} (row {}: {} vs {})", o.simulated, r,
                                   text(mt, r, "name"), name));
    }
    for (const Metric& m : kMetrics) {
      add(run, name, m, number(st, r, m.column, o.simulated), number(mt, r, m.column, o.measured));
    }
  }

  if (!o.report.empty()) write_text_file(o.report, md);
  if (!o.out.empty()) {
    ResultFile f(o.out);
    f.write_table("/comparison", cmp);
    f.set_root_attr("simulated_file", o.simulated);
    f.set_root_attr("measured_file", o.measured);
    f.set_root_attr("sweep_id", sim_id);
    std::string device;  // empty when the second file is a simulation too
    try {
      device = read_root_attr(o.measured, "measured_device");
    } catch (const std::exception&) {
    }
    f.set_root_attr("measured_device", device);
    f.set_root_attr("created_utc", utc_now());
    f.commit();
    std::cout << fmt::format("wrote {} ({} rows)\n", o.out, cmp.rows.size());
  }
  std::cout << fmt::format("largest error: {}\n", worst_where.empty()
                                                      ? std::string("none (every figure agrees)")
                                                      : worst_where);
  if (o.max_error >= 0 && worst > o.max_error) {
    std::cerr << fmt::format("infersim: error beyond --max-error {}: {}\n", o.max_error,
                             worst_where);
    return 1;
  }
  return 0;
}

}  // namespace infersim
