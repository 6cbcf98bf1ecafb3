#include "sim/sweep/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "sim/kernels/program.h"
#include "sim/sweep/kernel_programs.h"
#include "sim/sweep/paths.h"

namespace infersim {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

std::uint64_t replication_seed(std::uint64_t experiment_seed, int replication) {
  return stream_seed(experiment_seed, static_cast<std::uint64_t>(replication), "replication");
}

int devices_per_gpu(const Experiment& x) {
  return x.mig_instances.empty() ? 1 : static_cast<int>(x.mig_instances.size());
}

std::vector<GpuSpec> device_specs(const Experiment& x) {
  std::vector<GpuSpec> per_gpu;
  if (x.mig_instances.empty()) {
    per_gpu.push_back(x.gpu);
  } else {
    for (const GpuInstance& in : x.mig_instances) {
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
  if (!x.mig_instances.empty()) {
    const GpuInstance& in = x.mig_instances[device % x.mig_instances.size()];
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

namespace {
// Which entries of a shared process draw from one instance: those whose settings are
// equal, with each data file named by its canonical path. "t.csv", "./t.csv", an absolute
// spelling and a symlink are one file, read once; keyed on the text as written, the same
// trace was replayed once per spelling. The instance is created with the settings as
// written, so its messages name the file as the user did.
std::string shared_stream_key(const EntrySpec& entry, const ArrivalInfo& ai) {
  Params p = entry.arrival_params;
  for (const ParamSpec& s : ai.params) {
    if (s.kind != ParamKind::kPath) continue;
    p.set_text(s.key, resolved_path(p.get_text(s.key)));
  }
  return entry.arrival + "\n" + p.canonical();
}
}  // namespace

std::vector<StreamPlan> make_streams(const Experiment& x, const Registries& reg) {
  std::vector<StreamPlan> streams;
  auto target_of = [&](std::uint32_t svc) {
    const ServiceSpec& s = x.services[svc];
    return ArrivalTarget{s.name, x.tenants[s.replicas.front()].model};
  };
  auto create = [&](const EntrySpec& e, const std::vector<ArrivalTarget>& targets) {
    const ArrivalInfo& ai = reg.arrivals.get(e.arrival, e.arrival_mark);
    return ai.create(ArrivalSetup{e.arrival_params, targets, e.arrival_mark, x.duration});
  };
  // A shared process (a trace) gets one stream per distinct settings, placed where its
  // first entry is; its targets are all its entries' services, in experiment order.
  std::map<std::string, std::size_t> shared;                      // settings -> stream
  std::vector<std::pair<std::size_t, std::size_t>> shared_first;  // (stream, first entry)
  for (std::size_t e = 0; e < x.entries.size(); ++e) {
    const EntrySpec& entry = x.entries[e];
    const ArrivalInfo& ai = reg.arrivals.get(entry.arrival, entry.arrival_mark);
    if (ai.shared) {
      const std::string key = shared_stream_key(entry, ai);
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
  const std::vector<GpuSpec> specs = device_specs(x);
  const int per_gpu = devices_per_gpu(x);
  const int devices = static_cast<int>(specs.size());
  const bool partitioned = !x.mig_instances.empty();
  auto capacity_mib = [&](int d) { return specs[d].memory_gib * 1024.0; };
  auto device_name = [&](int d) {
    return partitioned ? fmt::format("instance {} ({}) of GPU {}", d % per_gpu,
                                     x.mig_instances[d % per_gpu].profile, d / per_gpu)
                       : fmt::format("GPU {}", d);
  };

  Placement p;
  p.gpu.assign(n, 0);
  // Each device's memory as a running tally. The devices that may still take a tenant are
  // kept ordered by (load, tenants, index), one order per instance slot of the MIG layout
  // (slot k: instance k of every GPU, all with the same SMs; unpartitioned, one slot of
  // every GPU). Unpartitioned, the first that fits is the one the rule picks; partitioned,
  // the search by load per SM below starts from each slot's order. A device at the
  // policy's tenant limit leaves its order for good, so placing n tenants costs
  // O(n log G) unless memory turns many devices away.
  std::vector<MemoryTally> tally(static_cast<std::size_t>(devices),
                                 MemoryTally(policy.processes, ms));
  std::vector<double> load(devices, 0.0);
  using Key = std::tuple<double, std::size_t, int>;
  std::vector<std::set<Key>> slot_order(static_cast<std::size_t>(per_gpu));
  auto order_of = [&](int d) -> std::set<Key>& {
    return slot_order[static_cast<std::size_t>(d % per_gpu)];
  };
  for (int d = 0; d < devices; ++d) order_of(d).emplace(0.0, 0, d);

  auto count = [&](int d) { return static_cast<int>(tally[d].count()); };
  auto full = [&](int d) { return limit > 0 && count(d) >= limit; };
  // What must fit in a device's memory: everything, or with on-demand loading everything but
  // the weights plus the largest model's (one model at a time must fit).
  auto largest_mib = [&](int d, const TenantSpec* extra) {
    const double mib = tally[d].largest_weights_mib();
    return extra ? std::max(mib, weights_mib(*extra->profile)) : mib;
  };
  auto needed = [&](const MemoryDemand& dm, int d, const TenantSpec* extra) {
    return x.on_demand ? dm.total() - dm.weights_mib + largest_mib(d, extra) : dm.total();
  };
  auto fits = [&](const TenantSpec& t, int d) {
    ++p.fit_checks;
    return needed(tally[d].with(t.profile.get()), d, &t) <= capacity_mib(d);
  };
  auto count_error = [&](const TenantSpec& t, int d) {
    return InputError(
        t.mark,
        fmt::format("policy '{}' allows {} tenant(s) per {}, but tenant '{}' would be number {} "
                    "on {} ({} tenants, {} {}); {}",
                    policy.name, limit, partitioned ? "instance" : "GPU", t.name, count(d) + 1,
                    device_name(d), n, devices, partitioned ? "instances" : "GPUs",
                    partitioned ? "add instances or GPUs (hardware.count), or choose a sharing "
                                  "inner policy"
                                : "add GPUs (hardware.count) or choose a sharing policy"));
  };
  auto memory_error = [&](const TenantSpec& t, int d, const MemoryDemand& dm) {
    if (x.on_demand) {
      return InputError(
          t.mark,
          fmt::format("tenant '{}' does not fit in the memory of {} under policy "
                      "'{}' even with weights loaded on demand: needs {:.0f} MiB of "
                      "contexts and activations plus {:.0f} MiB for its largest model, "
                      "but a {} has {:.0f} MiB",
                      t.name, device_name(d), policy.name, dm.context_mib + dm.activation_mib,
                      largest_mib(d, &t), specs[d].name, capacity_mib(d)));
    }
    return InputError(t.mark,
                      fmt::format("tenant '{}' does not fit in the memory of {} "
                                  "under policy '{}': needs {}, but a {} has {:.0f} MiB{}",
                                  t.name, device_name(d), policy.name, describe(dm), specs[d].name,
                                  capacity_mib(d),
                                  " (hardware.weights: on_demand loads models over PCIe when "
                                  "they do not all fit)"));
  };
  auto place = [&](std::size_t i, int d) {
    p.gpu[i] = static_cast<std::uint32_t>(d);
    if (!full(d)) order_of(d).erase(Key{load[d], tally[d].count(), d});
    tally[d].add(*x.tenants[i].profile);
    load[d] += tenant_load[i];
    if (!full(d)) order_of(d).emplace(load[d], tally[d].count(), d);
  };
  // The devices a tenant may go on: its `gpu:` and `mig_instance:` narrow them.
  auto allowed = [&](const TenantSpec& t, int d) {
    return (t.gpu < 0 || d / per_gpu == t.gpu) &&
           (t.mig_instance < 0 || d % per_gpu == t.mig_instance);
  };

  std::vector<std::size_t> automatic;
  for (std::size_t i = 0; i < n; ++i) {
    const TenantSpec& t = x.tenants[i];
    if (t.gpu < 0 || (partitioned && t.mig_instance < 0)) {
      automatic.push_back(i);
      continue;
    }
    const int d = t.gpu * per_gpu + std::max(0, t.mig_instance);
    if (full(d)) throw count_error(t, d);
    if (!fits(t, d)) throw memory_error(t, d, tally[d].with(t.profile.get()));
    place(i, d);
  }
  std::stable_sort(automatic.begin(), automatic.end(),
                   [&](std::size_t a, std::size_t b) { return tenant_load[a] > tenant_load[b]; });
  for (std::size_t i : automatic) {
    const TenantSpec& t = x.tenants[i];
    int best = -1;
    if (!partitioned) {
      for (const Key& k : slot_order[0]) {
        if (fits(t, std::get<2>(k))) {
          best = std::get<2>(k);
          break;
        }
      }
    } else {
      // MIG instances of unequal SMs: the allowed instance whose load per SM after adding the
      // tenant is least, then fewest tenants, then lowest index.
      auto after = [&](int d) { return (load[d] + tenant_load[i]) / specs[d].sm_count; };
      auto better = [&](int d, int than) {
        return than < 0 || after(d) < after(than) ||
               (after(d) == after(than) &&
                (count(d) < count(than) || (count(d) == count(than) && d < than)));
      };
      if (t.gpu >= 0) {  // one GPU's instances: try each
        for (int d = t.gpu * per_gpu; d < (t.gpu + 1) * per_gpu; ++d) {
          if (!full(d) && fits(t, d) && better(d, best)) best = d;
        }
      } else {
        // Per slot (equal SMs), after() grows with the load, so the slot's best is in its
        // first run of equal loads where one fits: that run is ordered by (tenants,
        // index), so its first fit is the run's best. Runs of higher load are looked at
        // only while after() still ties (rounding): O(log G) per tenant, not O(G).
        for (int k = 0; k < per_gpu; ++k) {
          if (t.mig_instance >= 0 && k != t.mig_instance) continue;
          const std::set<Key>& in = slot_order[static_cast<std::size_t>(k)];
          int slot_best = -1;
          auto it = in.begin();
          while (it != in.end()) {
            const double run_load = std::get<0>(*it);
            const int first = std::get<2>(*it);
            if (slot_best >= 0 && after(first) > after(slot_best)) break;
            int run_fit = -1;
            for (; it != in.end() && std::get<0>(*it) == run_load; ++it) {
              if (fits(t, std::get<2>(*it))) {
                run_fit = std::get<2>(*it);
                break;
              }
            }
            if (run_fit < 0) continue;  // `it` is past the run
            if (better(run_fit, slot_best)) slot_best = run_fit;
            it = in.upper_bound(Key{run_load, SIZE_MAX, INT_MAX});
          }
          if (slot_best >= 0 && better(slot_best, best)) best = slot_best;
        }
      }
    }
    if (best < 0) {
      // Name the most room-giving allowed device in the error.
      int d = -1;
      for (int e = 0; e < devices; ++e) {
        if (allowed(t, e) && (d < 0 || load[e] < load[d])) d = e;
      }
      if (full(d)) throw count_error(t, d);
      throw memory_error(t, d, tally[d].with(t.profile.get()));
    }
    place(i, best);
  }
  for (int d = 0; d < devices; ++d) {
    p.memory.push_back(tally[d].with(nullptr));
    const MemoryDemand& dm = p.memory.back();
    p.weights_budget_mib.push_back(capacity_mib(d) - (dm.total() - dm.weights_mib));
  }
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
    total.cold_starts += c.cold_starts;
    total.load_ns += c.load_ns;
    total.waited += c.waited;
    double gflop = tally.gflop[t];
    if (gflop <= 0) flops_known = false;
    flops += (static_cast<double>(c.completed) + c.carried_in) * gflop * 1e9;
  }
  r.all = summarize(total, r.window_s);
  r.throughput_per_gpu = r.all.throughput_rps / gpus;
  // Without a completed request these are undefined (NaN), not 0.
  r.p99_over_p50 = r.all.p50_ms > 0 ? r.all.p99_ms / r.all.p50_ms : kNaN;
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
  r.p50_spread_ms = with_latency ? p50_max - p50_min : kNaN;
  r.p50_gap = p50_min > 0 ? p50_max / p50_min - 1 : kNaN;
  r.jain_fairness = sum2 > 0 ? sum * sum / (with_latency * sum2) : kNaN;
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
    for (int i = 0; i < per_gpu; ++i) gr.memory_mib += placed.memory[g * per_gpu + i].total();
    gr.resident_peak_mib = gr.memory_mib;  // with on-demand loading: set by simulate()
    r.gpus.push_back(gr);
  }
  for (std::uint32_t t = 0; t < placed.gpu.size(); ++t) {
    GpuResult& gr = r.gpus[placed.gpu[t] / per_gpu];
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

Experiment tenant_alone(const Experiment& x, std::uint32_t t, int mig_instance) {
  Experiment alone = x;
  alone.tenants = {x.tenants[t]};
  alone.tenants[0].gpu = -1;
  alone.tenants[0].service = 0;
  alone.tenants[0].entry = 0;
  alone.services = {x.services[x.tenants[t].service]};
  alone.services[0].replicas = {0};
  alone.entries = {x.entries[x.tenants[t].entry]};
  alone.entries[0].services = {0};
  if (mig_instance >= 0) alone.tenants[0].mig_instance = mig_instance;
  alone.gpu_count = 1;
  alone.gpus_per_node = 1;
  alone.nodes = 1;
  alone.isolation = false;
  return alone;
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
      // A batch is its kernels: L(b) is their total (equal to the profile's when calibrated
      // on a whole GPU); on a MIG instance or under an SM cap, they are timed on that share.
      try {
        t.kernels =
            kernel_program(x, x.tenants[i], max_batch, tenant_share(x, x.tenants[i], t.gpu));
      } catch (const kernels::OutOfModelRange& e) {
        // On a whole GPU L(b) was checked when the experiment was read; an SM cap or a MIG
        // slice slows the kernels and may take them past the horizon.
        throw InputError(
            x.tenants[i].mark,
            fmt::format("model '{}' on GPU '{}' (at {}), batches up to {}: {}", x.tenants[i].model,
                        x.gpu.name, format_mark(x.gpu.mark), max_batch, e.what()));
      }
      for (int b = 1; b <= max_batch; ++b) t.latency_ns[b] = t.kernels->batches[b].total();
    }
    tenants.push_back(std::move(t));
  }

  EngineConfig cfg;
  cfg.seed = replication_seed(x.seed, replication);
  cfg.duration = x.duration;
  cfg.warmup = x.warmup;
  const std::vector<GpuSpec> specs = device_specs(x);
  cfg.gpus = static_cast<std::uint32_t>(specs.size());  // devices
  cfg.on_demand = x.on_demand;
  cfg.preload = x.preload;
  if (x.on_demand) {
    // Placement checked the fit in MiB; in bytes the budget holds at least the GPU's
    // largest model, whatever the rounding. (Per device; the experiment rejects on-demand
    // weights under a partitioning policy, so here a device is a GPU.)
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
    PolicySetup setup{engine, g, std::move(on_gpu[g]), x.policy_params, specs[g]};
    engine.set_policy(g, pinfo.create(setup));
  }
  for (std::uint32_t s = 0; s < x.services.size(); ++s) {
    const ServiceSpec& svc = x.services[s];
    if (svc.router.empty()) continue;
    const RouterInfo& ri = reg.routers.get(svc.router, svc.router_mark);
    engine.set_router(
        s, ri.create(RouterSetup{engine, svc.name, engine.service(s).replicas, svc.router_params}));
  }
  for (StreamPlan& sp : streams) {
    engine.add_stream(sp.name, std::move(sp.process), sp.targets, sp.weights);
  }

  try {
    engine.run();
  } catch (const ZeroTimeLoop& loop) {
    const TenantSpec& t = x.tenants[loop.tenant()];
    throw InputError(
        t.mark,
        fmt::format("tenant '{}': its L(1), {:.6g} ms, exceeds its slo_ms, {:.6g}, so the policy's "
                    "drop_late drops each request the instant it arrives, and its closed loop "
                    "replaces it at that same instant: simulated time would never advance; "
                    "raise slo_ms above L(1), give the loop a think_ms, or turn drop_late off",
                    t.name, ns_to_ms(engine.tenant(loop.tenant()).latency_ns[1]), t.slo_ms));
  }

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
          x.mig_instances.empty() ? 1.0 : static_cast<double>(specs[d].sm_count) / x.gpu.sm_count;
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
      // On a partitioned GPU, alone means on the same instance, without its neighbours.
      const int instance =
          x.mig_instances.empty() ? -1 : static_cast<int>(placement[t] % x.mig_instances.size());
      const Experiment alone = tenant_alone(x, t, instance);
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
