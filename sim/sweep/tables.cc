#include "sim/sweep/tables.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <limits>
#include <ostream>

#include "sim/core/version.h"

namespace infersim {
namespace {

// The latency/SLO columns shared by /summary and /tenants, in DESIGN.md's order.
void add_latency_columns(Table& t) {
  for (const char* c : {"requests", "completed", "dropped"}) t.add_column(c, ColType::Int64);
  for (const char* c : {"throughput_rps", "goodput_rps", "slo_attainment", "mean_ms", "p50_ms",
                        "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "latency_cv"}) {
    t.add_column(c, ColType::Float64);
  }
  t.add_column("cold_starts", ColType::Int64);
  t.add_column("load_ms", ColType::Float64);
  t.add_column("load_wait_fraction", ColType::Float64);
}

void push_latency(std::vector<Cell>& row, const LatencySummary& s) {
  row.emplace_back(static_cast<std::int64_t>(s.requests));
  row.emplace_back(static_cast<std::int64_t>(s.completed));
  row.emplace_back(static_cast<std::int64_t>(s.dropped));
  for (double v : {s.throughput_rps, s.goodput_rps, s.slo_attainment, s.mean_ms, s.p50_ms, s.p90_ms,
                   s.p95_ms, s.p99_ms, s.p999_ms, s.max_ms, s.latency_cv}) {
    row.emplace_back(v);
  }
  row.emplace_back(static_cast<std::int64_t>(s.cold_starts));
  row.emplace_back(s.load_ms);
  row.emplace_back(s.load_wait_fraction);
}

}  // namespace

void RequestStreamSink::record(const RequestOutcome& r) {
  RequestRecord rec;
  rec.tenant = static_cast<std::int32_t>(r.tenant);
  rec.gpu = static_cast<std::int32_t>(r.gpu);
  rec.arrival_ns = r.arrival;
  rec.start_ns = r.start;
  rec.end_ns = r.end;
  rec.batch = r.batch;
  rec.status = r.dropped ? 1 : 0;
  hash_ = hash_request_record(rec, hash_);
  stream_.append(rec);
}

std::uint64_t hash_request_record(const RequestRecord& r, std::uint64_t h) {
  unsigned char bytes[37];
  std::size_t n = 0;
  auto put = [&](std::uint64_t v, int size) {
    for (int i = 0; i < size; ++i) bytes[n++] = static_cast<unsigned char>(v >> (8 * i));
  };
  put(static_cast<std::uint32_t>(r.tenant), 4);
  put(static_cast<std::uint32_t>(r.gpu), 4);
  put(static_cast<std::uint64_t>(r.arrival_ns), 8);
  put(static_cast<std::uint64_t>(r.start_ns), 8);
  put(static_cast<std::uint64_t>(r.end_ns), 8);
  put(static_cast<std::uint32_t>(r.batch), 4);
  put(static_cast<std::uint8_t>(r.status), 1);
  return fnv1a64(std::string_view(reinterpret_cast<const char*>(bytes), n), h);
}

Table summary_table(const std::vector<RunResult>& runs, const std::vector<SweptValues>& swept) {
  Table t;
  t.add_column("run", ColType::Int64);
  if (!swept.empty()) {
    for (const auto& [name, value] : swept.front()) {
      t.add_column(name, std::holds_alternative<std::string>(value) ? ColType::String
                         : std::holds_alternative<double>(value)    ? ColType::Float64
                                                                    : ColType::Int64);
    }
  }
  t.add_column("policy", ColType::String);
  t.add_column("replication", ColType::Int64);
  t.add_column("seed", ColType::Int64);
  add_latency_columns(t);
  for (const char* c : {"gpu_busy", "gpu_load", "flop_util", "memory_mib", "memory_capacity_mib",
                        "window_s", "throughput_per_gpu", "p99_over_p50", "p50_spread_ms",
                        "p50_gap", "jain_fairness", "worst_isolation"}) {
    t.add_column(c, ColType::Float64);
  }
  t.add_column("events", ColType::Int64);
  t.add_column("wall_s", ColType::Float64);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunResult& r = runs[i];
    std::vector<Cell> row;
    row.emplace_back(static_cast<std::int64_t>(r.run));
    if (!swept.empty()) {
      for (const auto& [name, value] : swept[i]) row.push_back(value);
    }
    row.emplace_back(r.policy);
    row.emplace_back(static_cast<std::int64_t>(r.replication));
    // HDF5 int64: the seed's bits, reinterpreted.
    row.emplace_back(static_cast<std::int64_t>(r.seed));
    push_latency(row, r.all);
    for (double v : {r.gpu_busy, r.gpu_load, r.flop_util, r.memory_mib, r.memory_capacity_mib,
                     r.window_s, r.throughput_per_gpu, r.p99_over_p50, r.p50_spread_ms, r.p50_gap,
                     r.jain_fairness, r.worst_isolation}) {
      row.emplace_back(v);
    }
    row.emplace_back(static_cast<std::int64_t>(r.events));
    row.emplace_back(r.wall_s);
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table tenants_table(const Experiment& x, const std::vector<RunResult>& runs) {
  Table t;
  t.add_column("run", ColType::Int64);
  t.add_column("tenant", ColType::Int64);
  t.add_column("name", ColType::String);
  t.add_column("model", ColType::String);
  t.add_column("gpu", ColType::Int64);
  t.add_column("slo_ms", ColType::Float64);
  add_latency_columns(t);
  t.add_column("slowdown", ColType::Float64);
  t.add_column("p99_alone_ms", ColType::Float64);
  t.add_column("isolation", ColType::Float64);
  for (const RunResult& r : runs) {
    for (std::size_t i = 0; i < r.tenants.size(); ++i) {
      std::vector<Cell> row;
      row.emplace_back(static_cast<std::int64_t>(r.run));
      row.emplace_back(static_cast<std::int64_t>(i));
      row.emplace_back(x.tenants[i].name);
      row.emplace_back(x.tenants[i].model);
      row.emplace_back(static_cast<std::int64_t>(r.tenant_gpu[i]));
      // No SLO (slo_ms 0 in the experiment) is no deadline: +inf, which every latency meets
      // (as slo_attainment counts it), not 0 ms, which none would.
      row.emplace_back(x.tenants[i].slo_ms > 0 ? x.tenants[i].slo_ms
                                               : std::numeric_limits<double>::infinity());
      push_latency(row, r.tenants[i]);
      row.emplace_back(r.slowdown[i]);
      row.emplace_back(r.p99_alone_ms[i]);
      row.emplace_back(r.tenants[i].p99_ms / r.p99_alone_ms[i]);  // NaN without isolation
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

Table gpus_table(const Experiment& x, const std::vector<RunResult>& runs) {
  Table t;
  for (const char* c : {"run", "gpu", "node", "tenants", "requests", "completed", "dropped",
                        "cold_starts", "evictions"}) {
    t.add_column(c, ColType::Int64);
  }
  for (const char* c :
       {"busy", "load", "copy_busy", "memory_mib", "resident_peak_mib", "memory_capacity_mib"}) {
    t.add_column(c, ColType::Float64);
  }
  for (const RunResult& r : runs) {
    for (std::size_t g = 0; g < r.gpus.size(); ++g) {
      const GpuResult& gr = r.gpus[g];
      std::vector<Cell> row;
      for (std::int64_t v :
           {static_cast<std::int64_t>(r.run), static_cast<std::int64_t>(g),
            static_cast<std::int64_t>(gr.node), static_cast<std::int64_t>(gr.tenants),
            static_cast<std::int64_t>(gr.requests), static_cast<std::int64_t>(gr.completed),
            static_cast<std::int64_t>(gr.dropped), static_cast<std::int64_t>(gr.cold_starts),
            static_cast<std::int64_t>(gr.evictions)}) {
        row.emplace_back(v);
      }
      for (double v : {gr.busy, gr.load, gr.copy_busy, gr.memory_mib, gr.resident_peak_mib,
                       x.gpu.memory_gib * 1024.0}) {
        row.emplace_back(v);
      }
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

Attrs provenance_attrs(const Experiment& x, const std::vector<std::string>& sets) {
  std::string overrides;
  for (const auto& s : sets) overrides += s + "\n";
  return {{"experiment_yaml", x.yaml_text},
          {"experiment_file", x.file},
          {"overrides", overrides},
          {"infersim_version", version()},
          {"git_revision", git_revision()}};
}

void write_provenance(ResultFile& f, const Experiment& x, const std::vector<std::string>& sets) {
  for (const auto& [name, value] : provenance_attrs(x, sets)) f.set_root_attr(name, value);
  f.set_root_attr("created_utc", utc_now());
}

std::string utc_now() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

}  // namespace infersim
