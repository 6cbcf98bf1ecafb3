#include "sim/core/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace infersim {

Engine::Engine(EngineConfig cfg, std::vector<TenantInfo> tenants, std::vector<ServiceInfo> services)
    : cfg_(cfg), tenants_(std::move(tenants)) {
  queues_.resize(tenants_.size());
  counters_.resize(tenants_.size());
  outstanding_.assign(tenants_.size(), 0);
  closed_loop_.assign(tenants_.size(), 0);
  for (const auto& t : tenants_) {
    if (t.gpu >= cfg_.gpus) throw std::logic_error("tenant placed on a missing GPU");
  }
  if (services.empty()) {
    for (std::uint32_t t = 0; t < tenants_.size(); ++t) {
      services.push_back({tenants_[t].name, {t}});
    }
  }
  service_of_.assign(tenants_.size(), UINT32_MAX);
  services_.resize(services.size());
  for (std::uint32_t s = 0; s < services.size(); ++s) {
    Service& sv = services_[s];
    sv.info = std::move(services[s]);
    if (sv.info.replicas.empty()) throw std::logic_error("service without replicas");
    sv.single = sv.info.replicas.front();
    for (std::uint32_t t : sv.info.replicas) {
      if (t >= tenants_.size() || service_of_[t] != UINT32_MAX) {
        throw std::logic_error("a tenant must belong to exactly one service");
      }
      service_of_[t] = s;
    }
  }
  for (std::uint32_t t = 0; t < tenants_.size(); ++t) {
    if (service_of_[t] == UINT32_MAX) throw std::logic_error("tenant in no service");
  }
  gpus_.resize(cfg_.gpus);
  if (cfg_.on_demand) {
    if (cfg_.weights_budget_bytes.size() != cfg_.gpus) {
      throw std::logic_error("on-demand loading needs a weights budget per GPU");
    }
    loads_.resize(tenants_.size());
  }
  requests_.reserve(1024);
}

Engine::~Engine() = default;

void Engine::set_policy(std::uint32_t gpu, std::unique_ptr<Policy> p) {
  gpus_.at(gpu).policy = std::move(p);
}

void Engine::set_router(std::uint32_t service, std::unique_ptr<Router> r) {
  services_.at(service).router = std::move(r);
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
  Stream st{std::move(process), make_rng("arrival/" + name), std::move(targets)};
  st.closed = st.process->outstanding() > 0;
  if (!weights.empty()) {
    if (weights.size() != st.targets.size()) throw std::logic_error("one weight per target");
    st.dealt = true;
    st.deal = AliasTable(weights);
    st.deal_rng.emplace(make_rng("popularity/" + name));
  }
  if (st.closed) {
    for (std::uint32_t svc : st.targets) {
      for (std::uint32_t t : services_[svc].info.replicas) closed_loop_[t] = 1;
    }
  }
  streams_.push_back(std::move(st));
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
  events_queue_.push(t, p, kGpuEvent, gpu, payload);
}

void Engine::request_dispatch(std::uint32_t gpu) {
  GpuState& g = gpus_[gpu];
  if (g.dispatch_pending) return;
  g.dispatch_pending = true;
  events_queue_.push(now_, Priority::kDispatch, kDispatch, gpu, 0);
}

void Engine::schedule_next(std::uint32_t s, std::uint32_t target) {
  Stream& st = streams_[s];
  const SimTime next = st.process->next(st.rng, now_, target);
  if (next < now_) throw std::logic_error("arrival process went back in time");
  if (st.dealt) target = st.deal.sample(*st.deal_rng);
  if (next < cfg_.duration) events_queue_.push(next, Priority::kArrival, kArrival, s, target);
}

void Engine::run() {
  for (std::uint32_t s = 0; s < services_.size(); ++s) {
    const Service& sv = services_[s];
    if (sv.stream == UINT32_MAX) {
      throw std::logic_error(fmt::format("service '{}' has no arrival stream", sv.info.name));
    }
    if (sv.info.replicas.size() > 1 && !sv.router) {
      throw std::logic_error(fmt::format("service '{}' has replicas but no router", sv.info.name));
    }
  }
  for (std::uint32_t s = 0; s < streams_.size(); ++s) {
    Stream& st = streams_[s];
    const int n = st.process->outstanding();
    if (n > 0) {
      for (int i = 0; i < n; ++i) {
        const std::uint32_t target = st.dealt ? st.deal.sample(*st.deal_rng) : 0;
        events_queue_.push(0, Priority::kArrival, kArrival, s, target);
      }
    } else {
      schedule_next(s, 0);
    }
  }
  for (std::uint32_t g = 0; g < gpus_.size(); ++g) {
    if (!gpus_[g].policy) throw std::logic_error("GPU without a policy");
  }
  if (cfg_.on_demand) preload_weights();

  while (!events_queue_.empty()) {
    const Event e = events_queue_.pop();
    if (e.time < now_) {
      throw std::logic_error(fmt::format("time went backwards: {} after {}", e.time, now_));
    }
    now_ = e.time;
    ++events_;
    switch (e.kind) {
      case kArrival:
        on_arrival(e.target, static_cast<std::uint32_t>(e.payload));
        break;
      case kGpuEvent:
        gpus_[e.target].policy->on_event(e.payload);
        break;
      case kDispatch:
        gpus_[e.target].dispatch_pending = false;
        gpus_[e.target].policy->on_dispatch();
        break;
      case kLoadDone:
        on_load_done(e.target, static_cast<std::uint32_t>(e.payload));
        break;
    }
  }
  for (auto& g : gpus_) account(g);
}

void Engine::on_arrival(std::uint32_t s, std::uint32_t target) {
  Stream& st = streams_[s];
  Service& sv = services_[st.targets[target]];
  const std::uint32_t t = sv.router ? sv.info.replicas[sv.router->pick()] : sv.single;

  RequestId id;
  if (free_head_ != UINT32_MAX) {
    id = free_head_;
    free_head_ = requests_[id].next_free;
  } else {
    id = static_cast<RequestId>(requests_.size());
    requests_.push_back({});
  }
  const TenantInfo& ti = tenants_[t];
  SimTime deadline = ti.slo_ns >= kTimeMax - now_ ? kTimeMax : now_ + ti.slo_ns;
  requests_[id] = Request{now_, deadline, t, UINT32_MAX};
  if (now_ >= cfg_.warmup) ++counters_[t].arrived;
  ++outstanding_[t];
  if (cfg_.on_demand && !weights_ready(t, id)) {  // held until its weights are loaded
    if (!st.closed) schedule_next(s, target);
    return;
  }
  queues_[t].push_back(id);
  if (!st.closed) schedule_next(s, target);
  gpus_[ti.gpu].policy->on_arrival(id);
  request_dispatch(ti.gpu);
}

void Engine::complete(RequestId id, std::uint32_t gpu, SimTime start, int batch) {
  const Request& r = requests_[id];
  if (r.arrival >= cfg_.warmup)
    counters_[r.tenant].add_completion(now_ - r.arrival, now_ <= r.deadline);
  if (sink_) sink_->record({r.tenant, gpu, r.arrival, start, now_, batch, false});
  finish(id);
}

void Engine::drop(RequestId id, std::uint32_t gpu) {
  const Request& r = requests_[id];
  if (r.arrival >= cfg_.warmup) ++counters_[r.tenant].dropped;
  if (sink_) sink_->record({r.tenant, gpu, r.arrival, now_, now_, 0, true});
  finish(id);
}

void Engine::finish(RequestId id) {
  const std::uint32_t t = requests_[id].tenant;
  requests_[id].next_free = free_head_;
  free_head_ = id;
  --outstanding_[t];
  if (cfg_.on_demand && outstanding_[t] == 0) on_idle(t);
  if (closed_loop_[t]) {  // closed loop: a replacement after the think time
    const Service& sv = services_[service_of_[t]];
    schedule_next(sv.stream, sv.target_in_stream);
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

void Engine::set_gpu_share(std::uint32_t gpu, double share) {
  GpuState& g = gpus_[gpu];
  if (share < 0 || share > 1.0 + 1e-9) {
    throw std::logic_error(fmt::format("GPU {} share {} outside [0, 1]", gpu, share));
  }
  account(g);
  g.share = share;
}

}  // namespace infersim
