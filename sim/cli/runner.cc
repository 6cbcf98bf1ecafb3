#include "sim/cli/runner.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace infersim {

std::uint64_t replication_seed(std::uint64_t experiment_seed, int replication) {
  return stream_seed(experiment_seed, static_cast<std::uint64_t>(replication), "replication");
}

std::vector<std::uint32_t> place_tenants(const Experiment& x, const PolicyInfo& policy) {
  std::vector<std::uint32_t> gpu(x.tenants.size());
  std::vector<int> per_gpu(x.gpu_count, 0);
  std::uint32_t next = 0;
  for (std::size_t i = 0; i < x.tenants.size(); ++i) {
    if (x.tenants[i].gpu >= 0) {
      gpu[i] = static_cast<std::uint32_t>(x.tenants[i].gpu);
    } else {
      gpu[i] = next;
      next = (next + 1) % static_cast<std::uint32_t>(x.gpu_count);
    }
    int n = ++per_gpu[gpu[i]];
    if (policy.max_tenants_per_gpu > 0 && n > policy.max_tenants_per_gpu) {
      throw InputError(x.tenants[i].mark,
                       fmt::format("policy '{}' allows {} tenant(s) per GPU, but tenant '{}' is "
                                   "the {}th on GPU {} ({} tenants, {} GPUs); add GPUs "
                                   "(hardware.count) or choose a sharing policy",
                                   policy.name, policy.max_tenants_per_gpu, x.tenants[i].name, n,
                                   gpu[i], x.tenants.size(), x.gpu_count));
    }
  }
  return gpu;
}

RunResult simulate(const Experiment& x, const Registries& reg, std::uint64_t run_index,
                   int replication, RequestSink* sink) {
  auto wall_start = std::chrono::steady_clock::now();
  const PolicyInfo& pinfo = reg.policies.get(x.policy, x.policy_mark);
  std::vector<std::uint32_t> placement = place_tenants(x, pinfo);
  const int max_batch = static_cast<int>(x.policy_params.get_int("max_batch"));

  std::vector<TenantInfo> tenants;
  for (std::size_t i = 0; i < x.tenants.size(); ++i) {
    const TenantSpec& ts = x.tenants[i];
    TenantInfo t;
    t.name = ts.name;
    t.model = ts.model;
    t.gpu = placement[i];
    t.slo_ns = ts.slo_ms > 0 ? ms_to_ns(ts.slo_ms) : kTimeMax;
    t.gflop = ts.profile->gflop;
    t.latency_ns.assign(max_batch + 1, 0);
    t.utilization.assign(max_batch + 1, 0);
    for (int b = 1; b <= max_batch; ++b) {
      t.latency_ns[b] = ms_to_ns(ts.profile->latency_ms_at(b));
      t.utilization[b] = ts.profile->solo_utilization(b);
    }
    tenants.push_back(std::move(t));
  }

  EngineConfig cfg;
  cfg.seed = replication_seed(x.seed, replication);
  cfg.run_index = 0;  // streams are named; the run index does not shift them (see above)
  cfg.duration = s_to_ns(x.duration_s);
  cfg.warmup = s_to_ns(x.warmup_s);
  cfg.gpus = static_cast<std::uint32_t>(x.gpu_count);
  Engine engine(cfg, std::move(tenants));
  engine.set_request_sink(sink);
  for (std::uint32_t g = 0; g < cfg.gpus; ++g) {
    PolicySetup setup{engine, g, {}, x.policy_params, x.gpu};
    for (std::uint32_t t = 0; t < placement.size(); ++t) {
      if (placement[t] == g) setup.tenants.push_back(t);
    }
    engine.set_policy(g, pinfo.create(setup));
  }
  for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
    const ArrivalInfo& ai = reg.arrivals.get(x.tenants[t].arrival, x.tenants[t].mark);
    engine.set_arrival(t, ai.create(x.tenants[t].arrival_params));
  }

  engine.run();

  RunResult r;
  r.run = run_index;
  r.replication = replication;
  r.seed = cfg.seed;
  r.policy = x.policy;
  r.tenant_gpu = placement;
  SimTime end = std::max(engine.end_time(), cfg.warmup);
  r.window_s = ns_to_s(end - cfg.warmup);
  TenantCounters total;
  double flops = 0;
  bool flops_known = true;
  for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
    const TenantCounters& c = engine.counters(t);
    r.tenants.push_back(summarize(c, r.window_s));
    total.arrived += c.arrived;
    total.completed += c.completed;
    total.dropped += c.dropped;
    total.met_slo += c.met_slo;
    total.latency_sum_ns += c.latency_sum_ns;
    total.latency_sumsq_ms2 += c.latency_sumsq_ms2;
    total.latency.merge(c.latency);
    double gflop = engine.tenant(t).gflop;
    if (gflop <= 0) flops_known = false;
    flops += static_cast<double>(c.completed) * gflop * 1e9;
  }
  r.all = summarize(total, r.window_s);
  double busy = 0, load = 0;
  for (std::uint32_t g = 0; g < cfg.gpus; ++g) {
    busy += engine.gpu_busy_ns(g);
    load += engine.gpu_load_ns(g);
  }
  double gpu_window_ns = static_cast<double>(end - cfg.warmup) * cfg.gpus;
  if (gpu_window_ns > 0) {
    r.gpu_busy = busy / gpu_window_ns;
    r.gpu_load = load / gpu_window_ns;
  }
  double peak = x.gpu.fp32_tflops * 1e12 * r.window_s * cfg.gpus;
  r.flop_util = flops_known && peak > 0 ? flops / peak : std::numeric_limits<double>::quiet_NaN();
  r.events = engine.events();
  r.peak_in_flight = engine.peak_in_flight();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

}  // namespace infersim
