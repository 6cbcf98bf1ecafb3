#include "sim/sweep/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <tuple>

#include "sim/kernels/program.h"
#include "sim/sweep/kernel_programs.h"

namespace infersim {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

std::uint64_t replication_seed(std::uint64_t experiment_seed, int replication) {
  return stream_seed(experiment_seed, static_cast<std::uint64_t>(replication), "replication");
}

Placement place_tenants(const Experiment& x, const Registries& reg) {
  const PolicyInfo& policy = reg.policies.get(x.policy, x.policy_mark);
  const std::size_t n = x.tenants.size();
  // Each tenant's load, asked of its arrival process: rate x L(1), or a full GPU for a
  // closed loop, which keeps its queue busy.
  std::vector<double> tenant_load(n);
  for (std::size_t i = 0; i < n; ++i) {
    const TenantSpec& t = x.tenants[i];
    auto a = reg.arrivals.get(t.arrival, t.mark).create(t.arrival_params);
    tenant_load[i] =
        a->outstanding() > 0 ? 1.0 : a->mean_rate() * t.profile->latency_ms_at(1) / 1e3;
  }
  const PolicyNeeds needs = policy.needs(x.policy_params);
  MemorySettings ms;
  ms.context_mib = needs.context_mib;
  ms.activation_factor = x.activation_factor;
  ms.max_batch = needs.max_batch;
  const int limit = needs.max_tenants_per_gpu;
  const double capacity_mib = x.gpu.memory_gib * 1024.0;

  Placement p;
  p.gpu.assign(n, 0);
  std::vector<GpuMemory> gpus(x.gpu_count, GpuMemory(policy.processes, ms));
  std::vector<double> load(x.gpu_count, 0.0);
  auto full = [&](int g) { return limit > 0 && static_cast<int>(gpus[g].models()) >= limit; };

  auto count_error = [&](const TenantSpec& t, int g) {
    return InputError(
        t.mark, fmt::format("policy '{}' allows {} tenant(s) per GPU, but tenant "
                            "'{}' would be number {} on GPU {} ({} tenants, {} "
                            "GPUs); add GPUs (hardware.count) or choose a "
                            "sharing policy",
                            policy.name, limit, t.name, gpus[g].models() + 1, g, n, x.gpu_count));
  };
  auto memory_error = [&](const TenantSpec& t, int g, const MemoryDemand& d) {
    return InputError(t.mark,
                      fmt::format("tenant '{}' does not fit in the memory of GPU {} "
                                  "under policy '{}': needs {}, but a {} has {:.0f} MiB",
                                  t.name, g, policy.name, describe(d), x.gpu.name, capacity_mib));
  };

  std::vector<std::size_t> automatic;
  for (std::size_t i = 0; i < n; ++i) {
    const TenantSpec& t = x.tenants[i];
    if (t.gpu < 0) {
      automatic.push_back(i);
      continue;
    }
    if (full(t.gpu)) throw count_error(t, t.gpu);
    MemoryDemand d = gpus[t.gpu].with(*t.profile);
    if (d.total() > capacity_mib) throw memory_error(t, t.gpu, d);
    p.gpu[i] = static_cast<std::uint32_t>(t.gpu);
    gpus[t.gpu].add(*t.profile);
    load[t.gpu] += tenant_load[i];
  }
  std::stable_sort(automatic.begin(), automatic.end(),
                   [&](std::size_t a, std::size_t b) { return tenant_load[a] > tenant_load[b]; });
  // The GPUs in the order a tenant prefers them: least loaded, then fewest tenants, then
  // lowest index. The first that fits is taken, so a tenant costs O(log GPUs) unless GPUs
  // it does not fit in come first; GPUs at the policy's tenant limit leave the order.
  using Rank = std::tuple<double, std::size_t, int>;
  std::set<Rank> order;
  for (int g = 0; g < x.gpu_count; ++g) {
    if (!full(g)) order.emplace(load[g], gpus[g].models(), g);
  }
  for (std::size_t i : automatic) {
    const TenantSpec& t = x.tenants[i];
    auto best = order.begin();
    while (best != order.end() &&
           gpus[std::get<2>(*best)].with(*t.profile).total() > capacity_mib) {
      ++best;
    }
    if (best == order.end()) {
      // Name the most room-giving GPU in the error.
      int g = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
      if (full(g)) throw count_error(t, g);
      throw memory_error(t, g, gpus[g].with(*t.profile));
    }
    const int g = std::get<2>(*best);
    order.erase(best);
    p.gpu[i] = static_cast<std::uint32_t>(g);
    gpus[g].add(*t.profile);
    load[g] += tenant_load[i];
    if (!full(g)) order.emplace(load[g], gpus[g].models(), g);
  }
  for (int g = 0; g < x.gpu_count; ++g) p.memory.push_back(gpus[g].demand());
  return p;
}

RunResult summarize_run(const Experiment& x, const Placement& placed, const RunTally& tally) {
  RunResult r;
  r.tenant_gpu = placed.gpu;
  for (const MemoryDemand& d : placed.memory) r.memory_mib = std::max(r.memory_mib, d.total());
  r.memory_capacity_mib = x.gpu.memory_gib * 1024.0;
  // The window: warm-up to the last completion or drop (never a cancelled timer's firing;
  // tally.end is Engine::end_time).
  const SimTime end = std::max(tally.end, tally.warmup);
  const auto gpus = static_cast<std::uint32_t>(tally.busy_ns.size());
  r.window_s = ns_to_s(end - tally.warmup);
  TenantCounters total;
  double flops = 0;
  bool flops_known = true;
  for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
    const TenantCounters& c = *tally.counters[t];
    r.tenants.push_back(summarize(c, r.window_s));
    total.arrived += c.arrived;
    total.completed += c.completed;
    total.dropped += c.dropped;
    total.met_slo += c.met_slo;
    total.latency_sum_ns += c.latency_sum_ns;
    total.latency_sumsq_ms2 += c.latency_sumsq_ms2;
    total.latency.merge(c.latency);
    double gflop = tally.gflop[t];
    if (gflop <= 0) flops_known = false;
    flops += static_cast<double>(c.completed) * gflop * 1e9;
  }
  r.all = summarize(total, r.window_s);
  r.throughput_per_gpu = r.all.throughput_rps / gpus;
  r.p99_over_p50 = r.all.p50_ms > 0 ? r.all.p99_ms / r.all.p50_ms : 0;
  double p50_min = 0, p50_max = 0, sum = 0, sum2 = 0;
  int with_latency = 0;
  for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
    const LatencySummary& s = r.tenants[t];
    double solo_ms = tally.solo_ms[t];
    r.slowdown.push_back(s.completed ? s.mean_ms / solo_ms : kNaN);
    r.p99_alone_ms.push_back(kNaN);
    if (!s.completed) continue;
    p50_min = with_latency ? std::min(p50_min, s.p50_ms) : s.p50_ms;
    p50_max = with_latency ? std::max(p50_max, s.p50_ms) : s.p50_ms;
    sum += r.slowdown.back();
    sum2 += r.slowdown.back() * r.slowdown.back();
    ++with_latency;
  }
  r.p50_spread_ms = p50_max - p50_min;
  r.p50_gap = p50_min > 0 ? p50_max / p50_min - 1 : 0;
  r.jain_fairness = sum2 > 0 ? sum * sum / (with_latency * sum2) : 0;
  r.worst_isolation = kNaN;
  double busy = 0, load = 0;
  for (std::uint32_t g = 0; g < gpus; ++g) {
    busy += tally.busy_ns[g];
    load += tally.load_ns[g];
  }
  double gpu_window_ns = static_cast<double>(end - tally.warmup) * gpus;
  if (gpu_window_ns > 0) {
    r.gpu_busy = busy / gpu_window_ns;
    r.gpu_load = load / gpu_window_ns;
  }
  double peak = x.gpu.fp32_tflops * 1e12 * r.window_s * gpus;
  r.flop_util = flops_known && peak > 0 ? flops / peak : kNaN;
  r.events = tally.events;
  return r;
}

TenantInfo tenant_info(const TenantSpec& ts, std::uint32_t gpu, int max_batch) {
  TenantInfo t;
  t.name = ts.name;
  t.model = ts.model;
  t.gpu = gpu;
  t.slo_ns = ts.slo;
  t.gflop = ts.profile->gflop;
  t.latency_ns.assign(max_batch + 1, 0);
  t.utilization.assign(max_batch + 1, 0);
  for (int b = 1; b <= max_batch; ++b) {
    // Checked against the horizon when the experiment was parsed (L(max_batch) fits).
    auto ns = to_ns_checked(ts.profile->latency_ms_at(b), TimeUnit::kMilliseconds);
    if (!ns) throw std::logic_error("latency beyond the horizon passed the experiment check");
    t.latency_ns[b] = *ns;
    t.utilization[b] = ts.profile->solo_utilization(b);
  }
  return t;
}

RunResult simulate(const Experiment& x, const Registries& reg, std::uint64_t run_index,
                   int replication, RequestSink* sink) {
  auto wall_start = std::chrono::steady_clock::now();
  const PolicyInfo& pinfo = reg.policies.get(x.policy, x.policy_mark);
  const Placement placed = place_tenants(x, reg);
  const std::vector<std::uint32_t>& placement = placed.gpu;
  const int max_batch = pinfo.needs(x.policy_params).max_batch;

  std::vector<TenantInfo> tenants;
  for (std::size_t i = 0; i < x.tenants.size(); ++i) {
    TenantInfo t = tenant_info(x.tenants[i], placement[i], max_batch);
    if (x.kernel_level) {
      // A batch is its kernels: L(b) is their total (equal to the profile's when calibrated).
      t.kernels = kernel_program(x, x.tenants[i], max_batch);
      for (int b = 1; b <= max_batch; ++b) t.latency_ns[b] = t.kernels->batches[b].total();
    }
    tenants.push_back(std::move(t));
  }

  EngineConfig cfg;
  cfg.seed = replication_seed(x.seed, replication);
  cfg.duration = x.duration;
  cfg.warmup = x.warmup;
  cfg.gpus = static_cast<std::uint32_t>(x.gpu_count);
  Engine engine(cfg, std::move(tenants));
  engine.set_request_sink(sink);
  std::vector<std::vector<std::uint32_t>> on_gpu(cfg.gpus);  // tenants per GPU, in order
  for (std::uint32_t t = 0; t < placement.size(); ++t) on_gpu[placement[t]].push_back(t);
  for (std::uint32_t g = 0; g < cfg.gpus; ++g) {
    PolicySetup setup{engine, g, std::move(on_gpu[g]), x.policy_params, x.gpu};
    engine.set_policy(g, pinfo.create(setup));
  }
  for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
    const ArrivalInfo& ai = reg.arrivals.get(x.tenants[t].arrival, x.tenants[t].mark);
    engine.set_arrival(t, ai.create(x.tenants[t].arrival_params));
  }

  engine.run();

  RunTally tally;
  for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
    tally.counters.push_back(&engine.counters(t));
    tally.solo_ms.push_back(ns_to_ms(engine.tenant(t).latency_ns[1]));
    tally.gflop.push_back(engine.tenant(t).gflop);
  }
  for (std::uint32_t g = 0; g < cfg.gpus; ++g) {
    tally.busy_ns.push_back(engine.gpu_busy_ns(g));
    tally.load_ns.push_back(engine.gpu_load_ns(g));
  }
  tally.warmup = cfg.warmup;
  tally.end = engine.end_time();
  tally.events = engine.events();
  RunResult r = summarize_run(x, placed, tally);
  r.run = run_index;
  r.replication = replication;
  r.seed = cfg.seed;
  r.policy = x.policy;
  if (x.isolation && x.tenants.size() > 1) {
    // The same tenant, same arrival stream (streams are named by tenant), alone on a GPU.
    r.worst_isolation = 0;
    for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
      Experiment alone = x;
      alone.tenants = {x.tenants[t]};
      alone.tenants[0].gpu = -1;
      alone.gpu_count = 1;
      alone.isolation = false;
      RunResult a = simulate(alone, reg, run_index, replication);
      r.p99_alone_ms[t] = a.all.p99_ms;
      if (a.all.p99_ms > 0 && r.tenants[t].completed) {
        r.worst_isolation = std::max(r.worst_isolation, r.tenants[t].p99_ms / a.all.p99_ms);
      }
    }
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

}  // namespace infersim
