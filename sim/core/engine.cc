#include "sim/core/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

namespace infersim {

Engine::Engine(EngineConfig cfg, std::vector<TenantInfo> tenants, std::vector<ServiceInfo> services)
    : cfg_(cfg), tenants_(std::move(tenants)) {
  hot_.resize(tenants_.size());
  outstanding_.assign(tenants_.size(), 0);
  counters_.resize(tenants_.size());
  std::vector<std::uint32_t> on_gpu(cfg_.gpus, 0);  // tenants seen so far per GPU
  std::map<std::pair<std::vector<SimTime>, std::vector<double>>, std::uint32_t> tables;
  for (std::uint32_t t = 0; t < tenants_.size(); ++t) {
    const TenantInfo& ti = tenants_[t];
    if (ti.gpu >= cfg_.gpus) throw std::logic_error("tenant placed on a missing GPU");
    const auto [it, added] = tables.try_emplace({ti.latency_ns, ti.utilization},
                                                static_cast<std::uint32_t>(profile_rows_.size()));
    if (added) {
      const std::size_t rows = std::max(ti.latency_ns.size(), ti.utilization.size());
      for (std::size_t b = 0; b < rows; ++b) {
        profile_rows_.push_back({b < ti.latency_ns.size() ? ti.latency_ns[b] : 0,
                                 b < ti.utilization.size() ? ti.utilization[b] : 0.0});
      }
    }
    hot_[t].profile_row = it->second;
    hot_[t].gpu = ti.gpu;
    hot_[t].gpu_rank = on_gpu[ti.gpu]++;
    hot_[t].slo_ns = ti.slo_ns;
    hot_[t].service = UINT32_MAX;
  }
  if (services.empty()) {
    for (std::uint32_t t = 0; t < tenants_.size(); ++t) {
      services.push_back({tenants_[t].name, {t}});
    }
  }
  services_.resize(services.size());
  routers_.resize(services.size());
  service_info_ = std::move(services);
  for (std::uint32_t s = 0; s < service_info_.size(); ++s) {
    const ServiceInfo& info = service_info_[s];
    if (info.replicas.empty()) throw std::logic_error("service without replicas");
    services_[s].single = info.replicas.front();
    services_[s].replicas = info.replicas.data();  // service_info_ is not resized again
    for (std::uint32_t t : info.replicas) {
      if (t >= tenants_.size() || hot_[t].service != UINT32_MAX) {
        throw std::logic_error("a tenant must belong to exactly one service");
      }
      hot_[t].service = s;
    }
  }
  for (std::uint32_t t = 0; t < tenants_.size(); ++t) {
    if (hot_[t].service == UINT32_MAX) throw std::logic_error("tenant in no service");
  }
  gpus_.resize(cfg_.gpus);
  policies_.resize(cfg_.gpus);
  dispatch_pending_.assign(cfg_.gpus, 0);
  use_.assign(cfg_.gpus, GpuUse{});
  if (cfg_.on_demand) {
    if (cfg_.weights_budget_bytes.size() != cfg_.gpus) {
      throw std::logic_error("on-demand loading needs a weights budget per GPU");
    }
    loads_.resize(tenants_.size());
  }
}

Engine::~Engine() = default;

void Engine::set_policy(std::uint32_t gpu, std::unique_ptr<Policy> p) {
  policies_.at(gpu) = std::move(p);
}

void Engine::set_router(std::uint32_t service, std::unique_ptr<Router> r) {
  services_.at(service).router = r.get();
  routers_.at(service) = std::move(r);
}

void Engine::add_stream(const std::string& name, std::unique_ptr<ArrivalProcess> process,
                        std::vector<std::uint32_t> targets, const std::vector<double>& weights) {
  if (targets.empty()) throw std::logic_error("stream without targets");
  const auto s = static_cast<std::uint32_t>(streams_.size());
  for (std::uint32_t i = 0; i < targets.size(); ++i) {
    Service& sv = services_.at(targets[i]);
    if (sv.stream != UINT32_MAX) throw std::logic_error("service fed by two streams");
    sv.stream = s;
    sv.target_in_stream = i;
  }
  Stream st;
  st.process = process.get();
  st.closed = process->outstanding() > 0;
  // Every request a closed stream keeps outstanding (n in all, over its targets) may be
  // dropped once at an instant.
  if (st.closed) zero_time_limit_ += static_cast<std::uint64_t>(process->outstanding());
  processes_.push_back(std::move(process));
  st.rng = &rngs_.emplace_back(make_rng("arrival/" + name));
  st.targets = targets_.emplace_back(std::move(targets)).data();
  const std::vector<std::uint32_t>& own = targets_.back();
  if (!weights.empty()) {
    if (weights.size() != own.size()) throw std::logic_error("one weight per target");
    st.deal = &deals_.emplace_back(weights);
    st.deal_rng = &rngs_.emplace_back(make_rng("popularity/" + name));
  }
  if (own.size() == 1 && service_info_[own[0]].replicas.size() == 1) {
    st.direct = service_info_[own[0]].replicas[0];
  }
  if (st.closed) {
    for (std::uint32_t svc : own) {
      for (std::uint32_t t : service_info_[svc].replicas) hot_[t].closed_loop = true;
    }
  }
  streams_.push_back(st);
}

namespace {
// The seed of stream `stream` in a run seeded `run_seed`, for either generator. Index 0: a
// run's streams differ by its seed (replication_seed) and their names, never by the run's
// position in a sweep (common random numbers across sweep points).
std::uint64_t run_stream_seed(std::uint64_t run_seed, const std::string& stream) {
  return stream_seed(run_seed, 0, stream);
}
}  // namespace

Rng run_stream(std::uint64_t run_seed, const std::string& stream) {
  return Rng(run_stream_seed(run_seed, stream));
}

Rng Engine::make_rng(const std::string& stream) const { return run_stream(cfg_.seed, stream); }
SmallRng Engine::make_small_rng(const std::string& stream) const {
  return SmallRng(run_stream_seed(cfg_.seed, stream));
}

void Engine::schedule(SimTime t, Priority p, std::uint32_t gpu, std::uint64_t payload) {
  if (t < now_)
    throw std::logic_error(fmt::format("event scheduled in the past ({} < {})", t, now_));
  if (t > kClockLimit) {
    // Every input time is within the horizon, but enough of them in a row (a long queue of
    // huge batches) can still carry the clock this far: stop rather than overflow.
    throw std::runtime_error(
        fmt::format("simulated time would pass {:.0f} years (the clock "
                    "limit, 4e18 ns) on GPU {}; shorten the profile "
                    "latencies or the load",
                    ns_to_s(kClockLimit) / (365.25 * 86400), gpu));
  }
  events_queue_.push(t, p, kGpuEvent, gpu, payload);
}

inline SimTime Engine::schedule_next(std::uint32_t s, std::uint32_t target) {
  const Stream& st = streams_[s];
  const SimTime next = st.process->next(*st.rng, now_, target);
  if (next < now_) throw std::logic_error("arrival process went back in time");
  if (st.deal) target = st.deal->sample(*st.deal_rng);
  if (next >= cfg_.duration) return next;
  events_queue_.push(next, Priority::kArrival, kArrival, s, target);
  // The stream's next arrival is routed by its service's router, whose object and replica
  // list live on lines of their own: in a cluster of thousands of services, misses. They are
  // fetched now, while the rest of this event runs (the next arrival is usually the next
  // event). `perf record` of `infersim_bench trace`: the router's first load was the
  // costliest line of on_arrival. A prefetch changes no value.
  if (st.direct == UINT32_MAX) {
    const Service& sv = services_[st.targets[target]];
    if (sv.router) {
      __builtin_prefetch(sv.router);
      __builtin_prefetch(sv.replicas);
    }
  }
  return next;
}

inline void Engine::prefetch_arrival(std::uint32_t s, std::uint32_t target) const {
  const Stream& st = streams_[s];
  if (st.direct != UINT32_MAX) return;
  const Service& sv = services_[st.targets[target]];
  if (sv.router) sv.router->prefetch();
}

void Engine::run() {
  for (std::uint32_t s = 0; s < services_.size(); ++s) {
    if (services_[s].stream == UINT32_MAX) {
      throw std::logic_error(
          fmt::format("service '{}' has no arrival stream", service_info_[s].name));
    }
    if (service_info_[s].replicas.size() > 1 && !services_[s].router) {
      throw std::logic_error(
          fmt::format("service '{}' has replicas but no router", service_info_[s].name));
    }
  }
  for (std::uint32_t g = 0; g < gpus_.size(); ++g) {
    if (!policies_[g]) throw std::logic_error("GPU without a policy");
  }
  if (cfg_.on_demand) preload_weights();
  std::vector<std::vector<std::uint32_t>> parts;
  if (!sink_) parts = independent_parts();
  // One part of thousands of tenants: each completion would update a counter line and a
  // histogram bucket of a tenant last touched thousands of events ago, two cache misses
  // (`perf record` of `infersim_bench trace`: most of Engine::complete_batch's time). A log
  // applied tenant by tenant touches each tenant's lines once per flush, in array order.
  // `infersim_bench trace 10000000`: medians of 3.04 -> 2.75 s (five interleaved runs).
  // Runs of many small parts (the cluster row) keep their tenants in cache and skip it.
  log_completions_ = parts.size() <= 1 && tenants_.size() >= cfg_.log_completions_from &&
                     cfg_.completion_log > 0 && cfg_.completion_log <= UINT32_MAX &&
                     tenants_.size() <= kCompletionTenant;
  if (log_completions_) completion_log_.reserve(cfg_.completion_log);
  if (parts.size() <= 1) {
    for (std::uint32_t s = 0; s < streams_.size(); ++s) start_stream(s);
    drain();
  } else {
    SimTime end = 0, last_outcome = 0;
    for (const std::vector<std::uint32_t>& part : parts) {
      now_ = 0;
      last_outcome_ = 0;
      for (std::uint32_t s : part) start_stream(s);
      drain();
      end = std::max(end, now_);
      last_outcome = std::max(last_outcome, last_outcome_);
    }
    // Where one queue would have ended: the last event and the last outcome of any part.
    now_ = end;
    last_outcome_ = last_outcome;
  }
  flush_completions();
  for (auto& g : use_) account(g);
  for (std::uint32_t t = 0; t < tenants_.size(); ++t) counters_[t].arrived = hot_[t].arrived;
}

void Engine::flush_completions() {
  const std::size_t n = completion_log_.size();
  if (n == 0) return;
  // completion_starts_[t + 1] counts tenant t's entries; the prefix sums are then where each
  // tenant's run starts.
  completion_starts_.assign(tenants_.size() + 1, 0);
  for (const Completion& c : completion_log_) {
    ++completion_starts_[(c.tenant_flags & kCompletionTenant) + 1];
  }
  for (std::size_t t = 1; t < completion_starts_.size(); ++t) {
    completion_starts_[t] += completion_starts_[t - 1];
  }
  completion_sorted_.resize(n);
  for (const Completion& c : completion_log_) {
    completion_sorted_[completion_starts_[c.tenant_flags & kCompletionTenant]++] = c;
  }
  auto latency_of = [this](const Completion& c) {
    return (c.tenant_flags & kCompletionLong) ? completion_long_[c.value] : SimTime{c.value};
  };
  // Each tenant's counters and histogram bucket were last touched a flush ago: misses.
  // Loads run ahead of the adds, in two stages: a tenant's counters 16 entries ahead, and
  // the bucket 8 entries ahead, once the counters (which say where the buckets are) are in.
  const Completion* sorted = completion_sorted_.data();
  for (std::size_t j = 0; j < n; ++j) {
    if (j + 16 < n) {
      const TenantCounters* ahead = &counters_[sorted[j + 16].tenant_flags & kCompletionTenant];
      __builtin_prefetch(ahead);
      __builtin_prefetch(reinterpret_cast<const char*>(ahead) + 64);
    }
    if (j + 8 < n) {
      const Completion& c = sorted[j + 8];
      counters_[c.tenant_flags & kCompletionTenant].latency.prefetch(latency_of(c));
    }
    const Completion& c = sorted[j];
    counters_[c.tenant_flags & kCompletionTenant].add_completion(
        latency_of(c), (c.tenant_flags & kCompletionMet) != 0);
  }
  completion_log_.clear();
  completion_long_.clear();
}

std::vector<std::vector<std::uint32_t>> Engine::independent_parts() const {
  // Union-find over GPUs: a stream joins the GPUs of every replica of every service it
  // feeds (a router, a shared trace or a popularity split couples them). Policies act on
  // their own GPU only, and each GPU's copy engine is its own.
  std::vector<std::uint32_t> parent(gpus_.size());
  for (std::uint32_t g = 0; g < parent.size(); ++g) parent[g] = g;
  auto root = [&](std::uint32_t g) {
    while (parent[g] != g) g = parent[g] = parent[parent[g]];
    return g;
  };
  std::vector<std::uint32_t> stream_gpu(streams_.size(), UINT32_MAX);
  for (std::uint32_t s = 0; s < services_.size(); ++s) {
    const std::uint32_t st = services_[s].stream;
    for (std::uint32_t t : service_info_[s].replicas) {
      const std::uint32_t g = root(hot_[t].gpu);
      if (stream_gpu[st] == UINT32_MAX) {
        stream_gpu[st] = g;
      } else {
        parent[g] = root(stream_gpu[st]);
      }
    }
  }
  std::vector<std::vector<std::uint32_t>> parts;
  std::vector<std::uint32_t> part_of(gpus_.size(), UINT32_MAX);  // by root GPU
  for (std::uint32_t s = 0; s < streams_.size(); ++s) {
    const std::uint32_t r = root(stream_gpu[s]);
    if (part_of[r] == UINT32_MAX) {
      part_of[r] = static_cast<std::uint32_t>(parts.size());
      parts.emplace_back();
    }
    parts[part_of[r]].push_back(s);
  }
  return parts;
}

void Engine::start_stream(std::uint32_t s) {
  const Stream& st = streams_[s];
  const int n = st.process->outstanding();
  if (n > 0) {
    for (int i = 0; i < n; ++i) {
      const std::uint32_t target = st.deal ? st.deal->sample(*st.deal_rng) : 0;
      events_queue_.push(0, Priority::kArrival, kArrival, s, target);
    }
  } else {
    schedule_next(s, 0);
  }
}

void Engine::drain() {
  for (;;) {
    // A dispatch is an event of priority kDispatch at the instant it was asked for: it runs
    // once every other event of that instant has (they are all of lower priority), and
    // dispatches run in the order they were asked for. They wait in a FIFO, not the heap.
    if (!dispatches_.empty() && events_queue_.next_time() > now_) {
      const std::uint32_t gpu = dispatches_.pop_front();
      ++events_;
      dispatch_pending_[gpu] = 0;
      policies_[gpu]->on_dispatch();
      continue;
    }
    if (events_queue_.empty()) break;
    const Event e = events_queue_.pop();
    if (e.time < now_) {
      throw std::logic_error(fmt::format("time went backwards: {} after {}", e.time, now_));
    }
    now_ = e.time;
    ++events_;
    // What the next event will read first, loaded while this one runs. A routed arrival
    // (one drawn before this event ran: a stream draws its next arrival when the current one
    // runs) reads two replicas' lines last touched thousands of requests ago:
    // Router::prefetch names them (schedule_next fetched the router itself). A batch
    // completion reads its GPU's policy object, last touched a batch latency ago (trace row
    // -4.5% for this one, twelve interleaved rounds; cluster row unchanged).
    if (const Event* next = events_queue_.peek(); next && next->kind == kArrival) {
      prefetch_arrival(next->target, static_cast<std::uint32_t>(next->payload));
    } else if (next && next->kind == kGpuEvent) {
      __builtin_prefetch(policies_[next->target].get());
    }
    switch (e.kind) {
      case kArrival:
        on_arrival(e.target, static_cast<std::uint32_t>(e.payload));
        break;
      case kGpuEvent:
        policies_[e.target]->on_event(e.payload);
        break;
      case kLoadDone:
        on_load_done(e.target, static_cast<std::uint32_t>(e.payload));
        break;
    }
  }
}

void Engine::on_arrival(std::uint32_t s, std::uint32_t target) {
  const Stream& st = streams_[s];
  std::uint32_t t = st.direct;
  if (t == UINT32_MAX) {
    const std::uint32_t svc = st.targets[target];
    const Service& sv = services_[svc];
    t = sv.router ? sv.replicas[sv.router->pick()] : sv.single;
  }

  TenantHot& h = hot_[t];
  const Request r{now_, t};
  if (now_ >= cfg_.warmup) ++h.arrived;
  ++outstanding_[t];
  if (cfg_.on_demand) {
    ++gpus_[h.gpu].weights.outstanding;
    if (!weights_ready(t, r)) {  // held until its weights are loaded
      if (!st.closed) schedule_next(s, target);
      return;
    }
  }
  h.queue.push_back(r);
  if (!st.closed) schedule_next(s, target);
  if (policies_[h.gpu]->on_arrival(r)) request_dispatch(h.gpu);
}

// complete()'s body, with the clock passed in: complete_batch reads it once per batch (the
// counters' stores could alias now_, so a member read is repeated per request).
inline void Engine::record_completion(const Request& r, std::uint32_t gpu, SimTime start, int batch,
                                      SimTime now) {
  last_outcome_ = now;
  if (r.arrival >= cfg_.warmup) {
    const SimTime latency = now - r.arrival;
    const bool met = met_deadline(latency, hot_[r.tenant].slo_ns);
    if (log_completions_) {
      std::uint32_t flags = met ? kCompletionMet : 0;
      auto value = static_cast<std::uint32_t>(latency);
      if (latency > SimTime{UINT32_MAX}) [[unlikely]] {
        flags |= kCompletionLong;
        value = static_cast<std::uint32_t>(completion_long_.size());
        completion_long_.push_back(latency);
      }
      completion_log_.push_back({r.tenant | flags, value});
      if (completion_log_.size() == cfg_.completion_log) flush_completions();
    } else {
      counters_[r.tenant].add_completion(latency, met);
    }
  } else if (now > cfg_.warmup) [[unlikely]] {
    counters_[r.tenant].add_carried_in(start, now, cfg_.warmup);
  }
  if (sink_) sink_->record({r.tenant, gpu, r.arrival, start, now, batch, false});
  finish(r.tenant);
}

void Engine::complete(const Request& r, std::uint32_t gpu, SimTime start, int batch) {
  record_completion(r, gpu, start, batch, now_);
}

void Engine::complete_batch(std::span<const Request> batch, std::uint32_t gpu, SimTime start) {
  const int n = static_cast<int>(batch.size());
  const SimTime now = now_;
  for (const Request& r : batch) record_completion(r, gpu, start, n, now);
}

void Engine::drop(const Request& r, std::uint32_t gpu) {
  last_outcome_ = now_;
  if (r.arrival >= cfg_.warmup) ++counters_[r.tenant].dropped;
  if (sink_) sink_->record({r.tenant, gpu, r.arrival, now_, now_, 0, true});
  if (finish(r.tenant) == now_ && r.arrival == now_) [[unlikely]]
    zero_time_drop(r.tenant);
}

void Engine::zero_time_drop(std::uint32_t t) {
  // A request dropped the instant it arrived, and replaced at that instant. Once, it is a
  // think time that rounded to 0 ns (1 ms rounds so with probability 5e-7); over and over
  // at one instant, past every request the closed loops keep outstanding and a million
  // more, it is a loop that never lets time advance.
  if (now_ != zero_time_at_) {
    zero_time_at_ = now_;
    zero_time_drops_ = 0;
  }
  if (++zero_time_drops_ > zero_time_limit_) throw ZeroTimeLoop(t);
}

SimTime Engine::finish(std::uint32_t t) {
  TenantHot& h = hot_[t];
  const std::uint32_t left = --outstanding_[t];
  if (cfg_.on_demand) {
    --gpus_[h.gpu].weights.outstanding;
    if (left == 0) on_idle(t);
  }
  if (!h.closed_loop) return kTimeMax;
  // Closed loop: a replacement after the think time.
  const Service& sv = services_[h.service];
  return schedule_next(sv.stream, sv.target_in_stream);
}

void Engine::add_gpu_usage(std::uint32_t gpu, double busy_ns, double load_ns) {
  if (!(busy_ns >= 0) || !(load_ns >= 0) || load_ns > busy_ns * (1 + 1e-9)) {
    throw std::logic_error(fmt::format("GPU {} usage busy {} load {}", gpu, busy_ns, load_ns));
  }
  use_[gpu].busy_ns += busy_ns;
  use_[gpu].load_ns += load_ns;
}

void Engine::bad_share(std::uint32_t gpu, double share) {
  throw std::logic_error(fmt::format("GPU {} share {} outside [0, 1]", gpu, share));
}

}  // namespace infersim
