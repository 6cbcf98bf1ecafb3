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

int devices_per_gpu(const Experiment& x) {
  return x.instances.empty() ? 1 : static_cast<int>(x.instances.size());
}

std::vector<GpuSpec> device_specs(const Experiment& x) {
  std::vector<GpuSpec> per_gpu;
  if (x.instances.empty()) {
    per_gpu.push_back(x.gpu);
  } else {
    for (const GpuInstance& in : x.instances) {
      GpuSpec d = x.gpu;
      const double sm_share = static_cast<double>(in.sms) / x.gpu.sm_count;
      d.name = fmt::format("{}/{}", x.gpu.name, in.profile);
      d.sm_count = in.sms;
      d.memory_gib = in.memory_gib;
      d.memory_bandwidth_gbs = x.gpu.memory_bandwidth_gbs * in.bandwidth_fraction;
      d.fp32_tflops = x.gpu.fp32_tflops * sm_share;
      d.fp16_tflops = x.gpu.fp16_tflops * sm_share;
      d.mig = {};
      per_gpu.push_back(std::move(d));
    }
  }
  std::vector<GpuSpec> out;
  for (int g = 0; g < x.gpu_count; ++g) out.insert(out.end(), per_gpu.begin(), per_gpu.end());
  return out;
}

kernels::GpuShare tenant_share(const Experiment& x, const TenantSpec& t, std::uint32_t device) {
  kernels::GpuShare share;
  int sms = x.gpu.sm_count;
  if (!x.instances.empty()) {
    const GpuInstance& in = x.instances[device % x.instances.size()];
    sms = in.sms;
    share.sms = in.sms;
    share.bandwidth_fraction = in.bandwidth_fraction;
  }
  if (t.active_thread_percentage > 0) {
    // ceil(p / 100 x SMs) in integers, p in millionths of a percent (so that 12.5% of 16 SMs
    // is exactly 2, not a rounding error above it).
    const auto micro = static_cast<std::int64_t>(std::llround(t.active_thread_percentage * 1e6));
    share.sms =
        static_cast<int>(std::max<std::int64_t>(1, (micro * sms + 100000000 - 1) / 100000000));
  }
  return share;
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
  const std::vector<GpuSpec> specs = device_specs(x);
  const int per_gpu = devices_per_gpu(x);
  const int devices = static_cast<int>(specs.size());
  const bool partitioned = !x.instances.empty();
  auto capacity_mib = [&](int d) { return specs[d].memory_gib * 1024.0; };
  auto device_name = [&](int d) {
    return partitioned ? fmt::format("instance {} ({}) of GPU {}", d % per_gpu,
                                     x.instances[d % per_gpu].profile, d / per_gpu)
                       : fmt::format("GPU {}", d);
  };

  Placement p;
  p.gpu.assign(n, 0);
  std::vector<GpuMemory> gpus(devices, GpuMemory(policy.processes, ms));
  std::vector<double> load(devices, 0.0);
  auto full = [&](int d) { return limit > 0 && static_cast<int>(gpus[d].models()) >= limit; };

  auto count_error = [&](const TenantSpec& t, int d) {
    return InputError(
        t.mark,
        fmt::format("policy '{}' allows {} tenant(s) per {}, but tenant '{}' would be number {} "
                    "on {} ({} tenants, {} {}); {}",
                    policy.name, limit, partitioned ? "instance" : "GPU", t.name,
                    gpus[d].models() + 1, device_name(d), n, devices,
                    partitioned ? "instances" : "GPUs",
                    partitioned ? "add instances or GPUs (hardware.count), or choose a sharing "
                                  "inner policy"
                                : "add GPUs (hardware.count) or choose a sharing policy"));
  };
  auto memory_error = [&](const TenantSpec& t, int d, const MemoryDemand& dm) {
    return InputError(t.mark, fmt::format("tenant '{}' does not fit in the memory of {} "
                                          "under policy '{}': needs {}, but a {} has {:.0f} MiB",
                                          t.name, device_name(d), policy.name, describe(dm),
                                          specs[d].name, capacity_mib(d)));
  };
  auto place = [&](std::size_t i, int d) {
    p.gpu[i] = static_cast<std::uint32_t>(d);
    gpus[d].add(*x.tenants[i].profile);
    load[d] += tenant_load[i];
  };
  // The devices a tenant may go on: its `gpu:` and `instance:` narrow them.
  auto allowed = [&](const TenantSpec& t, int d) {
    return (t.gpu < 0 || d / per_gpu == t.gpu) && (t.instance < 0 || d % per_gpu == t.instance);
  };

  std::vector<std::size_t> automatic;
  for (std::size_t i = 0; i < n; ++i) {
    const TenantSpec& t = x.tenants[i];
    if (t.gpu < 0 || (partitioned && t.instance < 0)) {
      automatic.push_back(i);
      continue;
    }
    const int d = t.gpu * per_gpu + std::max(0, t.instance);
    if (full(d)) throw count_error(t, d);
    MemoryDemand dm = gpus[d].with(*t.profile);
    if (dm.total() > capacity_mib(d)) throw memory_error(t, d, dm);
    place(i, d);
  }
  std::stable_sort(automatic.begin(), automatic.end(),
                   [&](std::size_t a, std::size_t b) { return tenant_load[a] > tenant_load[b]; });
  if (!partitioned) {
    // The GPUs in the order a tenant prefers them: least loaded, then fewest tenants, then
    // lowest index. The first that fits is taken, so a tenant costs O(log GPUs) unless GPUs
    // it does not fit in come first; GPUs at the policy's tenant limit leave the order.
    using Rank = std::tuple<double, std::size_t, int>;
    std::set<Rank> order;
    for (int g = 0; g < devices; ++g) {
      if (!full(g)) order.emplace(load[g], gpus[g].models(), g);
    }
    for (std::size_t i : automatic) {
      const TenantSpec& t = x.tenants[i];
      auto best = order.begin();
      while (best != order.end() &&
             gpus[std::get<2>(*best)].with(*t.profile).total() > capacity_mib(std::get<2>(*best))) {
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
      place(i, g);
      if (!full(g)) order.emplace(load[g], gpus[g].models(), g);
    }
  } else {
    // MIG instances of unequal SMs: the allowed instance whose load per SM after adding the
    // tenant is least, then fewest tenants, then lowest index (instances are few).
    for (std::size_t i : automatic) {
      const TenantSpec& t = x.tenants[i];
      auto after = [&](int d) { return (load[d] + tenant_load[i]) / specs[d].sm_count; };
      int best = -1;
      for (int d = 0; d < devices; ++d) {
        if (!allowed(t, d) || full(d)) continue;
        if (gpus[d].with(*t.profile).total() > capacity_mib(d)) continue;
        if (best < 0 || after(d) < after(best) ||
            (after(d) == after(best) && gpus[d].models() < gpus[best].models())) {
          best = d;
        }
      }
      if (best < 0) {
        // Name the most room-giving allowed instance in the error.
        int d = -1;
        for (int e = 0; e < devices; ++e) {
          if (allowed(t, e) && (d < 0 || load[e] < load[d])) d = e;
        }
        if (full(d)) throw count_error(t, d);
        throw memory_error(t, d, gpus[d].with(*t.profile));
      }
      place(i, best);
    }
  }
  for (int d = 0; d < devices; ++d) p.memory.push_back(gpus[d].demand());
  return p;
}

RunResult summarize_run(const Experiment& x, const Placement& placed, const RunTally& tally) {
  RunResult r;
  // Physical GPUs; the fullest device's memory (by fraction of its capacity).
  const int per_gpu = devices_per_gpu(x);
  for (const std::uint32_t d : placed.gpu) r.tenant_gpu.push_back(d / per_gpu);
  const std::vector<GpuSpec> specs = device_specs(x);
  r.memory_capacity_mib = specs[0].memory_gib * 1024.0;
  for (std::size_t d = 0; d < placed.memory.size(); ++d) {
    const double cap = specs[d].memory_gib * 1024.0;
    if (placed.memory[d].total() / cap > r.memory_mib / r.memory_capacity_mib) {
      r.memory_mib = placed.memory[d].total();
      r.memory_capacity_mib = cap;
    }
  }
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
      // A batch is its kernels: L(b) is their total (equal to the profile's when calibrated
      // on a whole GPU); on a MIG instance or under an SM cap, they are timed on that share.
      t.kernels = kernel_program(x, x.tenants[i], max_batch, tenant_share(x, x.tenants[i], t.gpu));
      for (int b = 1; b <= max_batch; ++b) t.latency_ns[b] = t.kernels->batches[b].total();
    }
    tenants.push_back(std::move(t));
  }

  EngineConfig cfg;
  cfg.seed = replication_seed(x.seed, replication);
  cfg.duration = x.duration;
  cfg.warmup = x.warmup;
  const std::vector<GpuSpec> specs = device_specs(x);
  cfg.gpus = static_cast<std::uint32_t>(specs.size());
  Engine engine(cfg, std::move(tenants));
  engine.set_request_sink(sink);
  std::vector<std::vector<std::uint32_t>> on_gpu(cfg.gpus);  // tenants per GPU, in order
  for (std::uint32_t t = 0; t < placement.size(); ++t) on_gpu[placement[t]].push_back(t);
  for (std::uint32_t g = 0; g < cfg.gpus; ++g) {
    PolicySetup setup{engine, g, std::move(on_gpu[g]), x.policy_params, specs[g]};
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
  // Per physical GPU; a partitioned GPU's busy and load time are its instances' weighted by
  // their SMs over the GPU's (a MIG layout may leave SMs unused: 7 x 1g.10gb holds 112 of an
  // H100's 132).
  const int per_gpu = devices_per_gpu(x);
  for (int g = 0; g < x.gpu_count; ++g) {
    double busy = 0, load = 0;
    for (int i = 0; i < per_gpu; ++i) {
      const auto d = static_cast<std::uint32_t>(g * per_gpu + i);
      const double w =
          x.instances.empty() ? 1.0 : static_cast<double>(specs[d].sm_count) / x.gpu.sm_count;
      busy += w * engine.gpu_busy_ns(d);
      load += w * engine.gpu_load_ns(d);
    }
    tally.busy_ns.push_back(busy);
    tally.load_ns.push_back(load);
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
      // On a partitioned GPU, alone means on the same instance, without its neighbours.
      if (!x.instances.empty()) {
        alone.tenants[0].instance = static_cast<int>(placement[t] % x.instances.size());
      }
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
