#include "sim/results/aggregate.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>

namespace infersim {
namespace {

// t_{0.975, df} for df = 1..30 (scipy.stats.t.ppf(0.975, df)).
constexpr double kT975[30] = {
    12.706204736432095, 4.302652729911275,  3.182446305284263,  2.7764451051977987,
    2.5705818366147395, 2.4469118487916806, 2.3646242510102993, 2.3060041350333704,
    2.2621571627409915, 2.2281388519649385, 2.200985160082949,  2.1788128296634177,
    2.1603686564610127, 2.1447866879169273, 2.131449545559323,  2.1199052992210112,
    2.1098155778331806, 2.10092204024096,   2.093024054408263,  2.0859634472658364,
    2.079613844727662,  2.0738730679040147, 2.0686576104190406, 2.0638985616280205,
    2.059538552753294,  2.055529438642871,  2.0518305164802833, 2.048407141795244,
    2.045229642132703,  2.0422724563012373};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double as_double(const Cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&c)) return *d;
  return kNaN;
}

std::string cell_text(const Cell& c, int precision = 4) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&c)) {
    if (std::isnan(*d)) return "-";
    return fmt::format("{:.{}g}", *d, precision);
  }
  return std::get<std::string>(c);
}

std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "-";
  return fmt::format("{:.{}f}", v, decimals);
}

// Prints rows of text cells aligned: strings left, numbers right.
void print_aligned(std::ostream& out, const std::vector<std::string>& header,
                   const std::vector<bool>& left, const std::vector<std::vector<std::string>>& rows,
                   std::size_t max_rows, const std::string& indent = "") {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  const std::size_t shown = std::min(rows.size(), max_rows);
  for (std::size_t r = 0; r < shown; ++r) {
    for (std::size_t c = 0; c < header.size(); ++c)
      width[c] = std::max(width[c], rows[r][c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s = indent;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c) s += "  ";
      s += left[c] ? fmt::format("{:<{}}", cells[c], width[c])
                   : fmt::format("{:>{}}", cells[c], width[c]);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    fmt::print(out, "{}\n", s);
  };
  line(header);
  for (std::size_t r = 0; r < shown; ++r) line(rows[r]);
  if (rows.size() > shown) {
    fmt::print(out, "{}... {} more row{} (all are in the result file)\n", indent,
               rows.size() - shown, rows.size() - shown == 1 ? "" : "s");
  }
}

}  // namespace

double student_t_975(std::int64_t df) {
  if (df < 1) return kNaN;
  if (df <= 30) return kT975[df - 1];
  // Cornish-Fisher expansion of the t quantile around the normal one.
  const double z = 1.959963984540054;
  const double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
  const double g1 = (z3 + z) / 4;
  const double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
  const double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
  const double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
  const double v = static_cast<double>(df);
  return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
}

bool is_summary_key_column(const std::string& name) {
  return name == "run" || name == "replication" || name == "seed" || name == "wall_s" ||
         name == "point";
}

Table aggregate_table(const Table& summary, const std::vector<std::string>& swept_columns,
                      int replications) {
  if (replications < 1) throw std::invalid_argument("aggregate_table: replications < 1");
  const int run_col = summary.column("run");
  const int policy_col = summary.column("policy");
  if (run_col < 0) throw std::invalid_argument("aggregate_table: /summary has no 'run' column");
  std::set<std::string> swept(swept_columns.begin(), swept_columns.end());
  std::vector<int> swept_idx;
  for (const auto& s : swept_columns) {
    int c = summary.column(s);
    if (c < 0) throw std::invalid_argument("aggregate_table: no swept column '" + s + "'");
    swept_idx.push_back(c);
  }
  std::vector<int> metrics;
  for (std::size_t c = 0; c < summary.names.size(); ++c) {
    if (summary.types[c] == ColType::String || is_summary_key_column(summary.names[c]) ||
        swept.count(summary.names[c])) {
      continue;
    }
    metrics.push_back(static_cast<int>(c));
  }

  Table t;
  t.add_column("point", ColType::Int64);
  for (int c : swept_idx) t.add_column(summary.names[c], summary.types[c]);
  if (policy_col >= 0) t.add_column("policy", ColType::String);
  t.add_column("replications", ColType::Int64);
  for (int c : metrics) {
    t.add_column(summary.names[c] + "_mean", ColType::Float64);
    t.add_column(summary.names[c] + "_ci95", ColType::Float64);
  }

  // Rows grouped by point, in order of appearance (runs are sorted, so points ascend).
  std::map<std::int64_t, std::vector<std::size_t>> groups;
  std::vector<std::int64_t> order;
  for (std::size_t r = 0; r < summary.rows.size(); ++r) {
    std::int64_t run = std::get<std::int64_t>(summary.rows[r][run_col]);
    std::int64_t point = run / replications;
    auto& g = groups[point];
    if (g.empty()) order.push_back(point);
    g.push_back(r);
  }
  std::sort(order.begin(), order.end());
  for (std::int64_t point : order) {
    const auto& g = groups[point];
    const auto& first = summary.rows[g.front()];
    std::vector<Cell> row;
    row.emplace_back(point);
    for (int c : swept_idx) row.push_back(first[c]);
    if (policy_col >= 0) row.push_back(first[policy_col]);
    const auto n = static_cast<std::int64_t>(g.size());
    row.emplace_back(n);
    for (int c : metrics) {
      double sum = 0;
      for (std::size_t r : g) sum += as_double(summary.rows[r][c]);
      const double mean = sum / static_cast<double>(n);
      double ci = kNaN;
      if (n >= 2) {
        double ss = 0;
        for (std::size_t r : g) {
          const double d = as_double(summary.rows[r][c]) - mean;
          ss += d * d;
        }
        const double sd = std::sqrt(ss / static_cast<double>(n - 1));
        ci = student_t_975(n - 1) * sd / std::sqrt(static_cast<double>(n));
      }
      row.emplace_back(mean);
      row.emplace_back(ci);
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

void print_result_tables(std::ostream& out, const Table& summary, const Table& tenants,
                         const Table* aggregate, const std::vector<std::string>& swept_columns,
                         std::size_t max_rows) {
  auto get = [](const Table& t, const std::vector<Cell>& row, const std::string& name) -> Cell {
    int c = t.column(name);
    return c < 0 ? Cell(kNaN) : row[c];
  };
  std::vector<std::string> header;
  std::vector<bool> left;
  std::vector<std::vector<std::string>> rows;

  if (aggregate != nullptr) {
    header = {"point"};
    left = {false};
    for (const auto& s : swept_columns) {
      header.push_back(s);
      left.push_back(aggregate->types[aggregate->column(s)] == ColType::String);
    }
    for (const char* h : {"policy", "n", "thru_rps", "mean_ms", "p99_ms", "slo"}) {
      header.push_back(h);
      left.push_back(std::string(h) == "policy");
    }
    for (const auto& row : aggregate->rows) {
      std::vector<std::string> cells{cell_text(row[0])};
      for (const auto& s : swept_columns) cells.push_back(cell_text(get(*aggregate, row, s)));
      cells.push_back(cell_text(get(*aggregate, row, "policy")));
      cells.push_back(cell_text(get(*aggregate, row, "replications")));
      auto pm = [&](const std::string& m, int decimals) {
        double mean = as_double(get(*aggregate, row, m + "_mean"));
        double ci = as_double(get(*aggregate, row, m + "_ci95"));
        return fixed(mean, decimals) + " ± " + fixed(ci, decimals);
      };
      cells.push_back(pm("throughput_rps", 1));
      cells.push_back(pm("mean_ms", 3));
      cells.push_back(pm("p99_ms", 3));
      cells.push_back(pm("slo_attainment", 4));
      rows.push_back(std::move(cells));
    }
    print_aligned(out, header, left, rows, max_rows);
    return;
  }

  header = {"run"};
  left = {false};
  for (const auto& s : swept_columns) {
    header.push_back(s);
    left.push_back(summary.types[summary.column(s)] == ColType::String);
  }
  for (const char* h : {"policy", "rep", "requests", "dropped", "thru_rps", "mean_ms", "p50_ms",
                        "p99_ms", "slo", "gpu_busy"}) {
    header.push_back(h);
    left.push_back(std::string(h) == "policy");
  }
  for (const auto& row : summary.rows) {
    std::vector<std::string> cells{cell_text(get(summary, row, "run"))};
    for (const auto& s : swept_columns) cells.push_back(cell_text(get(summary, row, s)));
    cells.push_back(cell_text(get(summary, row, "policy")));
    cells.push_back(cell_text(get(summary, row, "replication")));
    cells.push_back(cell_text(get(summary, row, "requests")));
    cells.push_back(cell_text(get(summary, row, "dropped")));
    cells.push_back(fixed(as_double(get(summary, row, "throughput_rps")), 1));
    cells.push_back(fixed(as_double(get(summary, row, "mean_ms")), 3));
    cells.push_back(fixed(as_double(get(summary, row, "p50_ms")), 3));
    cells.push_back(fixed(as_double(get(summary, row, "p99_ms")), 3));
    cells.push_back(fixed(as_double(get(summary, row, "slo_attainment")), 4));
    cells.push_back(fixed(as_double(get(summary, row, "gpu_busy")), 3));
    rows.push_back(std::move(cells));
  }
  print_aligned(out, header, left, rows, max_rows);

  // A single run: its tenants too, when there are few.
  if (summary.rows.size() == 1 && tenants.rows.size() > 1 && tenants.rows.size() <= 32) {
    std::vector<std::vector<std::string>> trows;
    for (const auto& row : tenants.rows) {
      trows.push_back({cell_text(get(tenants, row, "name")), cell_text(get(tenants, row, "gpu")),
                       cell_text(get(tenants, row, "requests")),
                       fixed(as_double(get(tenants, row, "throughput_rps")), 1),
                       fixed(as_double(get(tenants, row, "mean_ms")), 3),
                       fixed(as_double(get(tenants, row, "p50_ms")), 3),
                       fixed(as_double(get(tenants, row, "p99_ms")), 3),
                       fixed(as_double(get(tenants, row, "slo_attainment")), 4)});
    }
    print_aligned(out,
                  {"tenant", "gpu", "requests", "thru_rps", "mean_ms", "p50_ms", "p99_ms", "slo"},
                  {true, false, false, false, false, false, false, false}, trows, max_rows, "    ");
  }
}

}  // namespace infersim
