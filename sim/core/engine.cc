#include "sim/core/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace infersim {

Engine::Engine(EngineConfig cfg, std::vector<TenantInfo> tenants)
    : cfg_(cfg), tenants_(std::move(tenants)) {
  queues_.resize(tenants_.size());
  counters_.resize(tenants_.size());
  arrivals_.resize(tenants_.size());
  for (const auto& t : tenants_) {
    arrival_rngs_.emplace_back(make_rng("arrival/" + t.name));
    if (t.gpu >= cfg_.gpus) throw std::logic_error("tenant placed on a missing GPU");
  }
  gpus_.resize(cfg_.gpus);
  requests_.reserve(1024);
}

Engine::~Engine() = default;

void Engine::set_policy(std::uint32_t gpu, std::unique_ptr<Policy> p) {
  gpus_.at(gpu).policy = std::move(p);
}

void Engine::set_arrival(std::uint32_t tenant, std::unique_ptr<ArrivalProcess> a) {
  arrivals_.at(tenant) = std::move(a);
}

Rng run_stream(std::uint64_t run_seed, const std::string& stream) {
  // Index 0: a run's streams differ by its seed (replication_seed) and their names, never
  // by the run's position in a sweep (common random numbers across sweep points).
  return Rng(stream_seed(run_seed, 0, stream));
}

Rng Engine::make_rng(const std::string& stream) const { return run_stream(cfg_.seed, stream); }

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

void Engine::request_dispatch(std::uint32_t gpu) {
  GpuState& g = gpus_[gpu];
  if (g.dispatch_pending) return;
  g.dispatch_pending = true;
  events_queue_.push(now_, Priority::kDispatch, kDispatch, gpu, 0);
}

void Engine::run() {
  for (std::uint32_t t = 0; t < tenants_.size(); ++t) {
    if (!arrivals_[t]) throw std::logic_error("tenant without an arrival process");
    int n = arrivals_[t]->outstanding();
    if (n > 0) {
      for (int i = 0; i < n; ++i) events_queue_.push(0, Priority::kArrival, kArrival, t, 0);
    } else {
      SimTime first = gap(t);
      if (first < cfg_.duration) events_queue_.push(first, Priority::kArrival, kArrival, t, 0);
    }
  }
  for (std::uint32_t g = 0; g < gpus_.size(); ++g) {
    if (!gpus_[g].policy) throw std::logic_error("GPU without a policy");
  }

  while (!events_queue_.empty()) {
    const Event e = events_queue_.pop();
    if (e.time < now_) {
      throw std::logic_error(fmt::format("time went backwards: {} after {}", e.time, now_));
    }
    now_ = e.time;
    ++events_;
    switch (e.kind) {
      case kArrival:
        on_arrival(e.target);
        break;
      case kGpuEvent:
        gpus_[e.target].policy->on_event(e.payload);
        break;
      case kDispatch:
        gpus_[e.target].dispatch_pending = false;
        gpus_[e.target].policy->on_dispatch();
        break;
    }
  }
  for (auto& g : gpus_) account(g);
}

SimTime Engine::gap(std::uint32_t t) {
  const SimTime g = arrivals_[t]->next_gap(arrival_rngs_[t]);
  if (g < 0 || g > kMaxDelay) {
    throw std::logic_error(
        fmt::format("arrival gap {} ns of tenant {} outside [0, kMaxDelay]", g, tenants_[t].name));
  }
  return g;
}

void Engine::on_arrival(std::uint32_t t) {
  RequestId id;
  if (free_head_ != UINT32_MAX) {
    id = free_head_;
    free_head_ = requests_[id].next_free;
  } else {
    id = static_cast<RequestId>(requests_.size());
    requests_.push_back({});
  }
  const TenantInfo& ti = tenants_[t];
  SimTime deadline = add_saturating(now_, ti.slo_ns);
  requests_[id] = Request{now_, deadline, t, UINT32_MAX};
  if (now_ >= cfg_.warmup) ++counters_[t].arrived;
  queues_[t].push_back(id);

  ArrivalProcess& a = *arrivals_[t];
  if (a.outstanding() == 0) {
    // Cannot overflow: now_ <= kClockLimit and a gap is at most kMaxDelay (time.h).
    SimTime next = now_ + gap(t);
    if (next < cfg_.duration) events_queue_.push(next, Priority::kArrival, kArrival, t, 0);
  }
  GpuState& g = gpus_[ti.gpu];
  g.policy->on_arrival(id);
  request_dispatch(ti.gpu);
}

void Engine::complete(RequestId id, std::uint32_t gpu, SimTime start, int batch) {
  const Request& r = requests_[id];
  last_outcome_ = now_;
  if (r.arrival >= cfg_.warmup)
    counters_[r.tenant].add_completion(now_ - r.arrival, now_ <= r.deadline);
  if (sink_) sink_->record({r.tenant, gpu, r.arrival, start, now_, batch, false});
  finish(id);
}

void Engine::drop(RequestId id, std::uint32_t gpu) {
  const Request& r = requests_[id];
  last_outcome_ = now_;
  if (r.arrival >= cfg_.warmup) ++counters_[r.tenant].dropped;
  if (sink_) sink_->record({r.tenant, gpu, r.arrival, now_, now_, 0, true});
  finish(id);
}

void Engine::finish(RequestId id) {
  std::uint32_t t = requests_[id].tenant;
  requests_[id].next_free = free_head_;
  free_head_ = id;
  ArrivalProcess& a = *arrivals_[t];
  if (a.outstanding() > 0) {  // closed loop: a replacement after the think time
    SimTime next = now_ + gap(t);
    if (next < cfg_.duration) events_queue_.push(next, Priority::kArrival, kArrival, t, 0);
  }
}

void Engine::account(GpuState& g) {
  SimTime from = std::max(g.since, cfg_.warmup);
  if (now_ > from && g.share > 0) {
    double span = static_cast<double>(now_ - from);
    g.busy_ns += span;
    g.load_ns += span * g.share;
  }
  g.since = now_;
}

void Engine::add_gpu_usage(std::uint32_t gpu, double busy_ns, double load_ns) {
  if (!(busy_ns >= 0) || !(load_ns >= 0) || load_ns > busy_ns * (1 + 1e-9)) {
    throw std::logic_error(fmt::format("GPU {} usage busy {} load {}", gpu, busy_ns, load_ns));
  }
  gpus_[gpu].busy_ns += busy_ns;
  gpus_[gpu].load_ns += load_ns;
}

void Engine::set_gpu_share(std::uint32_t gpu, double share) {
  GpuState& g = gpus_[gpu];
  if (share < 0 || share > 1.0 + 1e-9) {
    throw std::logic_error(fmt::format("GPU {} share {} outside [0, 1]", gpu, share));
  }
  account(g);
  g.share = share;
}

}  // namespace infersim
