#include "sim/sweep/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
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

std::vector<StreamPlan> make_streams(const Experiment& x, const Registries& reg) {
  std::vector<StreamPlan> streams;
  auto target_of = [&](std::uint32_t svc) {
    const ServiceSpec& s = x.services[svc];
    return ArrivalTarget{s.name, x.tenants[s.replicas.front()].model};
  };
  auto create = [&](const EntrySpec& e, const std::vector<ArrivalTarget>& targets) {
    const ArrivalInfo& ai = reg.arrivals.get(e.arrival, e.arrival_mark);
    return ai.create(ArrivalSetup{e.arrival_params, targets, e.arrival_mark});
  };
  // A shared process (a trace) gets one stream per distinct settings, placed where its
  // first entry is; its targets are all its entries' services, in experiment order.
  std::map<std::string, std::size_t> shared;                      // settings -> stream
  std::vector<std::pair<std::size_t, std::size_t>> shared_first;  // (stream, first entry)
  for (std::size_t e = 0; e < x.entries.size(); ++e) {
    const EntrySpec& entry = x.entries[e];
    if (reg.arrivals.get(entry.arrival, entry.arrival_mark).shared) {
      const std::string key = entry.arrival + "\n" + entry.arrival_params.canonical();
      auto [it, fresh] = shared.try_emplace(key, streams.size());
      if (fresh) {
        streams.push_back({"trace/" + entry.name, nullptr, {}, {}});
        shared_first.emplace_back(it->second, e);
      }
      for (std::uint32_t svc : entry.services) streams[it->second].targets.push_back(svc);
    } else if (entry.zipf > 0) {
      StreamPlan sp{
          entry.name, create(entry, {target_of(entry.services.front())}), entry.services, {}};
      for (std::size_t i = 0; i < entry.services.size(); ++i) {
        sp.weights.push_back(std::pow(static_cast<double>(i + 1), -entry.zipf));
      }
      streams.push_back(std::move(sp));
    } else {
      for (std::uint32_t svc : entry.services) {
        streams.push_back({x.services[svc].name, create(entry, {target_of(svc)}), {svc}, {}});
      }
    }
  }
  for (const auto& [stream, first] : shared_first) {
    std::vector<ArrivalTarget> targets;
    for (std::uint32_t svc : streams[stream].targets) targets.push_back(target_of(svc));
    streams[stream].process = create(x.entries[first], targets);
  }
  return streams;
}

std::vector<double> tenant_loads(const Experiment& x, const std::vector<StreamPlan>& streams) {
  std::vector<double> load(x.tenants.size(), 0.0);
  for (const StreamPlan& sp : streams) {
    const bool closed = sp.process->outstanding() > 0;
    double weight_sum = 0;
    for (double w : sp.weights) weight_sum += w;
    for (std::uint32_t i = 0; i < sp.targets.size(); ++i) {
      const ServiceSpec& svc = x.services[sp.targets[i]];
      const double rate = sp.weights.empty()
                              ? sp.process->mean_rate(i)
                              : sp.process->mean_rate(0) * sp.weights[i] / weight_sum;
      const double share = rate / static_cast<double>(svc.replicas.size());
      for (std::uint32_t t : svc.replicas) {
        load[t] = closed ? 1.0 : share * x.tenants[t].profile->latency_ms_at(1) / 1e3;
      }
    }
  }
  return load;
}

Placement place_tenants(const Experiment& x, const Registries& reg) {
  return place_tenants(x, reg, tenant_loads(x, make_streams(x, reg)));
}

Placement place_tenants(const Experiment& x, const Registries& reg,
                        const std::vector<double>& tenant_load) {
  const PolicyInfo& policy = reg.policies.get(x.policy, x.policy_mark);
  const std::size_t n = x.tenants.size();
  const PolicyNeeds needs = policy.needs(x.policy_params);
  MemorySettings ms;
  ms.context_mib = needs.context_mib;
  ms.activation_factor = x.activation_factor;
  ms.max_batch = needs.max_batch;
  const int limit = needs.max_tenants_per_gpu;
  const double capacity_mib = x.gpu.memory_gib * 1024.0;

  Placement p;
  p.gpu.assign(n, 0);
  // Each GPU's memory as a running tally, and the GPUs that may still take a tenant ordered
  // by (load, tenants, index): the first that fits is the one the rule picks. A GPU at the
  // policy's tenant limit leaves the order for good, so placing n tenants costs O(n log G)
  // unless memory turns many GPUs away.
  std::vector<MemoryTally> tally(static_cast<std::size_t>(x.gpu_count),
                                 MemoryTally(policy.processes, ms));
  std::vector<double> load(x.gpu_count, 0.0);
  using Key = std::tuple<double, std::size_t, int>;
  std::set<Key> order;
  for (int g = 0; g < x.gpu_count; ++g) order.emplace(0.0, 0, g);

  auto count = [&](int g) { return static_cast<int>(tally[g].count()); };
  // What must fit in a GPU's memory: everything, or with on-demand loading everything but
  // the weights plus the largest model's (one model at a time must fit).
  auto largest_mib = [&](int g, const TenantSpec* extra) {
    const double mib = tally[g].largest_weights_mib();
    return extra ? std::max(mib, weights_mib(*extra->profile)) : mib;
  };
  auto needed = [&](const MemoryDemand& d, int g, const TenantSpec* extra) {
    return x.on_demand ? d.total() - d.weights_mib + largest_mib(g, extra) : d.total();
  };
  auto count_error = [&](const TenantSpec& t, int g) {
    return InputError(t.mark,
                      fmt::format("policy '{}' allows {} tenant(s) per GPU, but tenant "
                                  "'{}' would be number {} on GPU {} ({} tenants, {} "
                                  "GPUs); add GPUs (hardware.count) or choose a "
                                  "sharing policy",
                                  policy.name, limit, t.name, count(g) + 1, g, n, x.gpu_count));
  };
  auto memory_error = [&](const TenantSpec& t, int g, const MemoryDemand& d) {
    if (x.on_demand) {
      return InputError(
          t.mark, fmt::format("tenant '{}' does not fit in the memory of GPU {} under policy "
                              "'{}' even with weights loaded on demand: needs {:.0f} MiB of "
                              "contexts and activations plus {:.0f} MiB for its largest model, "
                              "but a {} has {:.0f} MiB",
                              t.name, g, policy.name, d.context_mib + d.activation_mib,
                              largest_mib(g, &t), x.gpu.name, capacity_mib));
    }
    return InputError(t.mark,
                      fmt::format("tenant '{}' does not fit in the memory of GPU {} "
                                  "under policy '{}': needs {}, but a {} has {:.0f} MiB{}",
                                  t.name, g, policy.name, describe(d), x.gpu.name, capacity_mib,
                                  " (hardware.weights: on_demand loads models over PCIe when "
                                  "they do not all fit)"));
  };
  auto place = [&](std::size_t i, int g) {
    p.gpu[i] = static_cast<std::uint32_t>(g);
    const bool listed = limit <= 0 || count(g) < limit;
    if (listed) order.erase(Key{load[g], tally[g].count(), g});
    tally[g].add(*x.tenants[i].profile);
    load[g] += tenant_load[i];
    if (limit <= 0 || count(g) < limit) order.emplace(load[g], tally[g].count(), g);
  };

  std::vector<std::size_t> automatic;
  for (std::size_t i = 0; i < n; ++i) {
    const TenantSpec& t = x.tenants[i];
    if (t.gpu < 0) {
      automatic.push_back(i);
      continue;
    }
    if (limit > 0 && count(t.gpu) >= limit) throw count_error(t, t.gpu);
    MemoryDemand d = tally[t.gpu].with(t.profile.get());
    if (needed(d, t.gpu, &t) > capacity_mib) throw memory_error(t, t.gpu, d);
    place(i, t.gpu);
  }
  std::stable_sort(automatic.begin(), automatic.end(),
                   [&](std::size_t a, std::size_t b) { return tenant_load[a] > tenant_load[b]; });
  for (std::size_t i : automatic) {
    const TenantSpec& t = x.tenants[i];
    int best = -1;
    for (const Key& k : order) {
      const int g = std::get<2>(k);
      if (needed(tally[g].with(t.profile.get()), g, &t) <= capacity_mib) {
        best = g;
        break;
      }
    }
    if (best < 0) {
      // Name the most room-giving GPU in the error.
      int g = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
      if (limit > 0 && count(g) >= limit) throw count_error(t, g);
      throw memory_error(t, g, tally[g].with(t.profile.get()));
    }
    place(i, best);
  }
  for (int g = 0; g < x.gpu_count; ++g) {
    p.memory.push_back(tally[g].with(nullptr));
    const MemoryDemand& d = p.memory.back();
    p.weights_budget_mib.push_back(capacity_mib - (d.total() - d.weights_mib));
  }
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
    total.cold_starts += c.cold_starts;
    total.load_ns += c.load_ns;
    total.waited += c.waited;
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
  const double window_ns = static_cast<double>(end - tally.warmup);
  for (std::uint32_t g = 0; g < gpus; ++g) {
    GpuResult gr;
    gr.node = static_cast<int>(g) / x.gpus_per_node;
    if (window_ns > 0) {
      gr.busy = tally.busy_ns[g] / window_ns;
      gr.load = tally.load_ns[g] / window_ns;
    }
    gr.memory_mib = placed.memory[g].total();
    gr.resident_peak_mib = gr.memory_mib;  // with on-demand loading: set by simulate()
    r.gpus.push_back(gr);
  }
  for (std::uint32_t t = 0; t < placed.gpu.size(); ++t) {
    GpuResult& gr = r.gpus[placed.gpu[t]];
    ++gr.tenants;
    gr.requests += r.tenants[t].requests;
    gr.completed += r.tenants[t].completed;
    gr.dropped += r.tenants[t].dropped;
  }
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
  std::vector<StreamPlan> streams = make_streams(x, reg);
  const Placement placed = place_tenants(x, reg, tenant_loads(x, streams));
  const std::vector<std::uint32_t>& placement = placed.gpu;
  const int max_batch = pinfo.needs(x.policy_params).max_batch;

  std::vector<TenantInfo> tenants;
  for (std::size_t i = 0; i < x.tenants.size(); ++i) {
    TenantInfo t = tenant_info(x.tenants[i], placement[i], max_batch);
    t.weights_bytes = weights_bytes(*x.tenants[i].profile);
    t.load_ns = weights_load_ns(*x.tenants[i].profile, x.gpu);
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
  cfg.on_demand = x.on_demand;
  cfg.preload = x.preload;
  if (x.on_demand) {
    // Placement checked the fit in MiB; in bytes the budget holds at least the GPU's
    // largest model, whatever the rounding.
    for (double mib : placed.weights_budget_mib) {
      cfg.weights_budget_bytes.push_back(static_cast<std::int64_t>(std::llround(mib * 1048576.0)));
    }
    for (const TenantInfo& t : tenants) {
      std::int64_t& budget = cfg.weights_budget_bytes[t.gpu];
      budget = std::max(budget, t.weights_bytes);
    }
  }
  std::vector<ServiceInfo> services;
  for (const ServiceSpec& svc : x.services) services.push_back({svc.name, svc.replicas});
  Engine engine(cfg, std::move(tenants), std::move(services));
  engine.set_request_sink(sink);
  std::vector<std::vector<std::uint32_t>> on_gpu(cfg.gpus);  // tenants per GPU, in order
  for (std::uint32_t t = 0; t < placement.size(); ++t) on_gpu[placement[t]].push_back(t);
  for (std::uint32_t g = 0; g < cfg.gpus; ++g) {
    PolicySetup setup{engine, g, std::move(on_gpu[g]), x.policy_params, x.gpu};
    engine.set_policy(g, pinfo.create(setup));
  }
  for (std::uint32_t s = 0; s < x.services.size(); ++s) {
    const ServiceSpec& svc = x.services[s];
    if (svc.router.empty()) continue;
    const RouterInfo& ri = reg.routers.get(svc.router, svc.router_mark);
    engine.set_router(s, ri.create(RouterSetup{engine, svc.name, svc.replicas, svc.router_params}));
  }
  for (StreamPlan& sp : streams) {
    engine.add_stream(sp.name, std::move(sp.process), sp.targets, sp.weights);
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
  if (x.on_demand) {
    const double window_ns = static_cast<double>(std::max(tally.end, tally.warmup) - tally.warmup);
    for (std::uint32_t g = 0; g < cfg.gpus; ++g) {
      GpuResult& gr = r.gpus[g];
      const LoadCounters& lc = engine.load_counters(g);
      gr.cold_starts = lc.cold_starts;
      gr.evictions = lc.evictions;
      if (window_ns > 0) gr.copy_busy = lc.copy_busy_ns / window_ns;
      const MemoryDemand& d = placed.memory[g];
      gr.resident_peak_mib =
          d.total() - d.weights_mib + static_cast<double>(lc.peak_weights_bytes) / 1048576.0;
    }
  }
  if (x.isolation && x.tenants.size() > 1) {
    // The same tenant, same arrival stream (streams are named by tenant), alone on a GPU.
    r.worst_isolation = 0;
    for (std::uint32_t t = 0; t < x.tenants.size(); ++t) {
      Experiment alone = x;
      alone.tenants = {x.tenants[t]};
      alone.tenants[0].gpu = -1;
      alone.tenants[0].service = 0;
      alone.tenants[0].entry = 0;
      alone.services = {x.services[x.tenants[t].service]};
      alone.services[0].replicas = {0};
      alone.entries = {x.entries[x.tenants[t].entry]};
      alone.entries[0].services = {0};
      alone.gpu_count = 1;
      alone.gpus_per_node = 1;
      alone.nodes = 1;
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
