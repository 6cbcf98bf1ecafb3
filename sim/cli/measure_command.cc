// `infersim measure`: every run of an experiment replayed on a real device on the wall clock
// (validation/replay.h), written as a result set of the same schema as `infersim run`, so
// `infersim compare` can put the two side by side.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "sim/cli/commands.h"
#include "sim/results/aggregate.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/output_files.h"
#include "sim/sweep/plan.h"
#include "sim/sweep/runner.h"
#include "sim/sweep/tables.h"
#include "validation/device.h"
#include "validation/replay.h"

namespace infersim {
namespace {

// Share of the device other processes may use before `measure` refuses to start: on the
// CPU a quarter of all cores' time (an idle Linux box shows a few percent), on a GPU 5% of
// NVML's utilization samples.
double busy_threshold(const std::string& backend) { return backend == "cpu" ? 0.25 : 0.05; }

// The saturated throughput of a model on the profile: max over profiled b <= max_batch of
// b / L(b), requests/s.
double capacity_rps(const ModelProfile& m, int max_batch) {
  double best = 0;
  for (std::size_t i = 0; i < m.batch_sizes.size(); ++i) {
    if (m.batch_sizes[i] > max_batch) break;
    best = std::max(best, m.batch_sizes[i] / (m.latency_ms[i] / 1e3));
  }
  return best;
}

// Each tenant's own arrival process, as the engine would create it: the replayer feeds every
// tenant from its own stream, so a service of several replicas (a router), a popularity split
// or a shared trace is an input error here.
std::vector<std::unique_ptr<ArrivalProcess>> own_arrivals(const Experiment& x,
                                                          const Registries& reg) {
  std::vector<StreamPlan> streams = make_streams(x, reg);
  std::vector<std::unique_ptr<ArrivalProcess>> arrivals(x.tenants.size());
  for (StreamPlan& sp : streams) {
    const ServiceSpec& service = x.services[sp.targets.front()];
    if (sp.targets.size() != 1 || !sp.weights.empty() || service.replicas.size() != 1) {
      const TenantSpec& ts = x.tenants[service.replicas.front()];
      throw InputError(ts.mark, fmt::format("infersim measure replays one arrival stream per "
                                            "tenant; '{}' shares one (a router, popularity or "
                                            "a trace): simulate it with `infersim run`",
                                            ts.name));
    }
    arrivals[service.replicas.front()] = std::move(sp.process);
  }
  return arrivals;
}

// Everything measure refuses without the device, for one sweep point: bad input is exit
// status 2 whether or not `backend` has a device here.
void check_point(const Experiment& x, const Registries& reg, const std::string& backend,
                 const validation::ProgramLibrary& library, const std::string& what) {
  if (x.nodes != 1) {
    throw InputError(
        x.nodes_mark,
        fmt::format("{}measure replays on one device: hardware.nodes must be 1, not {}", what,
                    x.nodes));
  }
  if (x.gpus_per_node != 1) {
    throw InputError(
        x.count_mark,
        fmt::format("{}measure replays on one device: hardware.count must be 1, not {}", what,
                    x.gpus_per_node));
  }
  const auto& policies = validation::replay_policies();
  if (std::find(policies.begin(), policies.end(), x.policy) == policies.end()) {
    throw InputError(x.policy_mark,
                     fmt::format("{}measure cannot execute policy '{}' for real", what, x.policy));
  }
  if (x.policy == "space_time" && x.policy_params.get_bool("evict_stragglers")) {
    throw InputError(x.policy_mark,
                     fmt::format("{}measure does not evict stragglers (evict_stragglers: true is a "
                                 "model of the simulator only); set it false",
                                 what));
  }
  for (const TenantSpec& t : x.tenants) {
    if (t.active_thread_percentage > 0) {
      throw InputError(t.mark, fmt::format("{}measure does not cap a client's SMs "
                                           "(active_thread_percentage is a model of the "
                                           "simulator only); remove it",
                                           what));
    }
  }
  const std::string measured_on = x.profile->provenance_of("device");
  const std::string measured_with = x.profile->provenance_of("backend");
  if (measured_on.empty()) {
    throw InputError(x.profile_mark,
                     fmt::format("{}profile {} was not measured by `infersim profile` (no "
                                 "provenance device); profile this device first: infersim profile "
                                 "--backend {} --models ... -o PROFILE.yaml",
                                 what, x.profile_path, backend));
  }
  if (measured_with != backend) {
    throw InputError(x.profile_mark,
                     fmt::format("{}profile {} was measured with the {} backend (on '{}'), not "
                                 "with --backend {}; measure with --backend {}, or profile with "
                                 "--backend {} first",
                                 what, x.profile_path, measured_with, measured_on, backend,
                                 measured_with, backend));
  }
  const int max_batch = reg.policies.get(x.policy, x.policy_mark).needs(x.policy_params).max_batch;
  const std::vector<std::unique_ptr<ArrivalProcess>> arrivals = own_arrivals(x, reg);
  double load = 0;
  std::string terms;
  for (const TenantSpec& t : x.tenants) {
    if (!library.get(t.model, 1)) {
      throw InputError(t.mark, fmt::format("{}no kernel program for model '{}' to execute (known: "
                                           "{})",
                                           what, t.model, library.known()));
    }
    const auto& a = arrivals[static_cast<std::size_t>(&t - x.tenants.data())];
    if (a->outstanding() > 0) continue;  // a closed loop never offers more than it gets
    const double cap = capacity_rps(*t.profile, max_batch);
    load += a->mean_rate(0) / cap;
    if (terms.size() < 200) {
      terms += fmt::format("{}{}: {:.1f}/{:.1f} req/s", terms.empty() ? "" : ", ", t.name,
                           a->mean_rate(0), cap);
    }
  }
  if (load > 1.0) {
    throw InputError(
        x.tenants_mark,
        fmt::format("{}offered load is {:.0f}% of the device's measured capacity (sum of rate / "
                    "max_b b/L(b) over tenants: {}); the device could not keep up and "
                    "queues would grow for the whole run; lower the rates",
                    what, load * 100, terms));
  }
}

// The profile was measured on the device measure opened (after check_point, which checked
// the backend).
void check_device(const Experiment& x, const validation::DeviceInfo& dev, const std::string& what) {
  const std::string measured_on = x.profile->provenance_of("device");
  if (measured_on != dev.device) {
    throw InputError(
        x.profile_mark,
        fmt::format("{}profile {} was measured on '{}' ({}), not on this device '{}' "
                    "({}); profile this device: infersim profile --backend {} -o "
                    "PROFILE.yaml",
                    what, x.profile_path, measured_on, x.profile->provenance_of("backend"),
                    dev.device, dev.backend, dev.backend));
  }
}

// Collects a run's per-request outcomes for /runs/<run>/requests.
class RecordSink final : public RequestSink {
 public:
  void record(const RequestOutcome& r) override {
    RequestRecord rec;
    rec.tenant = static_cast<std::int32_t>(r.tenant);
    rec.gpu = static_cast<std::int32_t>(r.gpu);
    rec.arrival_ns = r.arrival;
    rec.start_ns = r.start;
    rec.end_ns = r.end;
    rec.batch = r.batch;
    rec.status = r.dropped ? 1 : 0;
    records.push_back(rec);
  }
  std::vector<RequestRecord> records;
};

double us(double ns) { return ns / 1e3; }

}  // namespace

int measure_command(const MeasureOptions& o, const Registries& reg) {
  const auto start = std::chrono::steady_clock::now();
  validation::check_device_options(o.backend, o.threads);
  // 1. The same plan `run` makes (same points, seeds and config hashes).
  const Plan plan = make_plan(o.experiment, o.sets, 1, reg);
  const Sweep& sw = plan.sweep;
  // Where the result set goes, checked before anything is measured.
  const std::string out = o.out.empty() ? fmt::format("results/{}.measured.h5", plan.name) : o.out;
  std::vector<std::string> inputs = plan.input_files;
  for (std::string& f : architecture_files()) inputs.push_back(std::move(f));
  check_output_path(out, o.out.empty() ? plan.name_mark : Mark{"-o", 0, 0}, "", inputs);
  const validation::ProgramLibrary library(architectures_dir());
  // Every input check first, then the device (which may be missing, or its backend not
  // built), then whether the profile was measured on it.
  auto point_what = [&](std::size_t p) {
    return sw.points() > 1 ? fmt::format("sweep point {}: ", p) : std::string();
  };
  std::vector<Experiment> points;  // each point built once for both checks
  points.reserve(sw.points());
  for (std::size_t p = 0; p < sw.points(); ++p) {
    points.push_back(sw.experiment(p, reg));
    try {
      check_point(points.back(), reg, o.backend, library, point_what(p));
    } catch (const InputError& e) {
      sw.rethrow_for_point(p, e);
    }
  }
  auto probe = validation::open_device(o.backend, o.threads);
  const validation::DeviceInfo info = probe->info();
  probe.reset();
  for (std::size_t p = 0; p < sw.points(); ++p) {
    try {
      check_device(points[p], info, point_what(p));
    } catch (const InputError& e) {
      sw.rethrow_for_point(p, e);
    }
  }

  // 2. Is anything else using the device?
  const double threshold = busy_threshold(o.backend);
  double background = validation::background_load(o.backend, 1.0);
  for (double waited = 0; background > threshold && waited < o.idle_wait_s; waited += 6) {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    background = validation::background_load(o.backend, 1.0);
  }
  if (background > threshold && !o.allow_busy) {
    std::cerr << fmt::format(
        "infersim: device busy: other work used {:.0f}% of the {} device over 1 s (limit "
        "{:.0f}%); measure when it is idle (--idle-wait SECONDS), or pass --allow-busy (recorded "
        "in the result set)\n",
        background * 100, o.backend, threshold * 100);
    return 1;
  }
  if (!o.quiet) {
    std::cerr << fmt::format("measuring {} run(s) on {} ({}); background load {:.0f}%{}\n",
                             plan.runs.size(), info.device, info.backend, background * 100,
                             background > threshold ? " (busy; --allow-busy)" : "");
  }

  // 3. Every run, one after another, on a fresh device.
  std::vector<RunResult> results;
  std::vector<SweptValues> swept;
  std::vector<std::vector<RequestRecord>> records(plan.runs.size());
  Table tenants_rows;
  Table dispatch;
  dispatch.add_column("run", ColType::Int64);
  for (const char* c :
       {"arrival_lag_mean_us", "arrival_lag_p99_us", "arrival_lag_max_us", "completion_lag_mean_us",
        "completion_lag_p99_us", "completion_lag_max_us"}) {
    dispatch.add_column(c, ColType::Float64);
  }
  dispatch.add_column("batches", ColType::Int64);
  dispatch.add_column("kernels", ColType::Int64);
  for (std::size_t r = 0; r < plan.runs.size(); ++r) {
    const RunSpec& spec = plan.runs[r];
    const auto run_start = std::chrono::steady_clock::now();
    Experiment x = sw.experiment(spec.point, reg);
    std::vector<std::unique_ptr<ArrivalProcess>> arrivals = own_arrivals(x, reg);
    const Placement placed = place_tenants(x, reg);
    const PolicyInfo& pinfo = reg.policies.get(x.policy, x.policy_mark);
    const int max_batch = pinfo.needs(x.policy_params).max_batch;

    auto device = validation::open_device(o.backend, o.threads);
    // Batches launched as the profile's L(b) was measured (`profile --launch`).
    device->set_batch_graphs(x.profile->provenance_of("launch") == "graph");
    std::vector<validation::ModelProgram> programs;
    programs.reserve(x.tenants.size());
    std::vector<validation::ReplayTenant> tenants;
    for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
      const TenantSpec& ts = x.tenants[t];
      programs.push_back(*library.get(ts.model, max_batch));
      device->add_tenant(t, programs.back());
      validation::ReplayTenant rt;
      rt.info = tenant_info(ts, 0, max_batch);
      rt.program = &programs.back();
      rt.arrival = std::move(arrivals[t]);
      tenants.push_back(std::move(rt));
    }
    validation::ReplaySpec rs;
    rs.policy = x.policy;
    rs.rule = BatchRule::from(x.policy_params);
    if (x.policy == "time_sliced") rs.quantum = x.policy_params.get_ns("quantum_ms");
    rs.seed = spec.seed;
    rs.duration = x.duration;
    rs.warmup = x.warmup;
    RecordSink sink;
    validation::ReplayResult m =
        validation::replay(*device, rs, tenants, plan.point_requests[spec.point] ? &sink : nullptr);
    records[r] = std::move(sink.records);

    RunTally tally;
    for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
      tally.counters.push_back(&m.counters[t]);
      tally.solo_ms.push_back(ns_to_ms(tenants[t].info.latency_ns[1]));
      tally.gflop.push_back(tenants[t].info.gflop);
    }
    tally.busy_ns = {m.busy_ns};
    tally.load_ns = {std::numeric_limits<double>::quiet_NaN()};  // not observable
    tally.warmup = rs.warmup;
    tally.end = m.end;
    tally.events = m.kernels;
    RunResult res = summarize_run(x, placed, tally);
    res.run = r;
    res.replication = spec.replication;
    res.seed = spec.seed;
    res.policy = x.policy;
    res.wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    dispatch.rows.push_back(
        {static_cast<std::int64_t>(r), us(m.arrival_lag_mean_ns),
         us(m.arrival_lag_ns.quantile(0.99)), us(static_cast<double>(m.arrival_lag_ns.max())),
         us(m.completion_lag_mean_ns), us(m.completion_lag_ns.quantile(0.99)),
         us(static_cast<double>(m.completion_lag_ns.max())), static_cast<std::int64_t>(m.batches),
         static_cast<std::int64_t>(m.kernels)});
    const auto& row = dispatch.rows.back();
    if (!o.quiet) {
      std::cerr << fmt::format(
          "  run {}/{} {}: {} requests, p50 {:.3f} ms, p99 {:.3f} ms; dispatch overhead: "
          "arrivals seen {:.0f} us late (mean; p99 {:.0f}), completions {:.0f} us (p99 {:.0f})\n",
          r + 1, plan.runs.size(), x.policy, res.all.requests, res.all.p50_ms, res.all.p99_ms,
          std::get<double>(row[1]), std::get<double>(row[2]), std::get<double>(row[4]),
          std::get<double>(row[5]));
    }
    // /tenants rows of this run, with this point's tenants (a sweep may vary them).
    Table t = tenants_table(x, {res});
    if (tenants_rows.names.empty()) {
      tenants_rows.names = t.names;
      tenants_rows.types = t.types;
    }
    for (auto& row : t.rows) tenants_rows.rows.push_back(std::move(row));
    results.push_back(std::move(res));
    swept.push_back(plan.swept_values(spec.point));
  }

  // 4. The result set: /summary, /tenants, /runs/<run>/requests as `run` writes them, plus
  // /dispatch and the device's description.
  Experiment x0 = sw.experiment(0, reg);
  {
    ResultFile f(out);
    const Table summary = summary_table(results, swept);
    const Table& tenants = tenants_rows;
    f.write_table("/summary", summary);
    f.write_table("/tenants", tenants);
    f.write_table("/dispatch", dispatch);
    for (std::size_t r = 0; r < records.size(); ++r) {
      if (!plan.point_requests[plan.runs[r].point]) continue;
      auto stream = f.open_requests(fmt::format("/runs/{}", r));
      for (const auto& rec : records[r]) stream->append(rec);
      stream->close();
    }
    write_provenance(f, x0, o.sets);
    f.set_root_attr("sweep_id", plan.sweep_id);
    f.set_root_attr("runs_total", std::to_string(plan.runs.size()));
    f.set_root_attr("replications", std::to_string(sw.replications()));
    f.set_root_attr("points", std::to_string(sw.points()));
    std::string cols;
    for (const auto& c : plan.columns) cols += c + "\n";
    f.set_root_attr("swept_columns", cols);
    f.set_root_attr("swept_paths", plan.swept_paths());
    f.set_attr("/summary", "swept_paths", plan.swept_paths());  // as in a simulated result set
    f.set_root_attr("measured", "1");
    f.set_root_attr("measured_backend", info.backend);
    f.set_root_attr("measured_device", info.device);
    f.set_root_attr("measured_libraries", info.libraries);
    f.set_root_attr("measured_clock", info.clock);
    f.set_root_attr("measured_launch",
                    x0.profile->provenance_of("launch") == "graph" ? "graph" : "eager");
    f.set_root_attr("measured_background_load", fmt::format("{:.3f}", background));
    f.set_root_attr("measured_allow_busy", background > threshold ? "1" : "0");
    f.commit();
    if (!o.quiet) {
      print_result_tables(std::cout, summary, tenants, nullptr, plan.columns);
    }
  }
  std::cout << fmt::format(
      "wrote {} ({} measured run(s) on {} in {:.1f} s)\n", out, plan.runs.size(), info.device,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace infersim
