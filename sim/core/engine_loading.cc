// On-demand model loading (EngineConfig::on_demand): which tenants' weights are on each
// GPU, the copy engine that loads them, and LRU eviction of idle tenants' weights.
//
// Per tenant the weights are resident, queued for the copy engine, loading, or absent.
// A request for a tenant without resident weights is held (invisible to the policy) and,
// if the weights are absent, queues a load. Each GPU copies one tenant's weights at a time
// (one copy engine), first come first served; a copy takes TenantInfo::load_ns and runs
// beside the GPU's kernels (it does not slow them). Before a copy starts, the least
// recently used *idle* resident tenants (no request queued or running) are evicted until
// the weights fit; if they cannot fit yet, the copy waits until another tenant goes idle.
// When the copy finishes the held requests join the tenant's queue in arrival order and
// the policy is told, as if they had just arrived.
//
// Counters cover the measured window: a cold start is a copy started at or after warm-up;
// copy-engine busy time is clipped to the window like GPU busy time.
#include <fmt/format.h>

#include <stdexcept>

#include "sim/core/engine.h"

namespace infersim {

void Engine::preload_weights() {
  for (std::uint32_t g = 0; g < gpus_.size(); ++g) {
    gpus_[g].weights.free_bytes = cfg_.weights_budget_bytes[g];
  }
  for (std::uint32_t t = 0; t < tenants_.size(); ++t) {
    const TenantInfo& ti = tenants_[t];
    GpuState& g = gpus_[ti.gpu];
    if (ti.weights_bytes > cfg_.weights_budget_bytes[ti.gpu]) {
      throw std::logic_error(
          fmt::format("tenant '{}' cannot fit on GPU {} even alone", ti.name, ti.gpu));
    }
    if (cfg_.preload && ti.weights_bytes <= g.weights.free_bytes) {
      loads_[t].state = WeightState::kResident;
      g.weights.free_bytes -= ti.weights_bytes;
      lru_push(t);
    } else {
      loads_[t].state = WeightState::kAbsent;
    }
  }
  for (std::uint32_t g = 0; g < gpus_.size(); ++g) {
    gpus_[g].loads.peak_weights_bytes = cfg_.weights_budget_bytes[g] - gpus_[g].weights.free_bytes;
  }
}

bool Engine::weights_ready(std::uint32_t t, Request r) {
  TenantWeights& w = loads_[t];
  if (w.state == WeightState::kResident) {
    if (w.in_lru) lru_remove(t);  // busy now
    return true;
  }
  w.held.push_back(r);
  if (now_ >= cfg_.warmup) ++counters_[t].waited;
  if (w.state == WeightState::kAbsent) {
    w.state = WeightState::kQueued;
    const std::uint32_t gpu = tenants_[t].gpu;
    gpus_[gpu].weights.waiting.push_back(t);
    try_start_load(gpu);
  }
  return false;
}

void Engine::on_idle(std::uint32_t t) {
  if (loads_[t].state != WeightState::kResident) return;
  lru_push(t);
  const std::uint32_t gpu = tenants_[t].gpu;
  if (!gpus_[gpu].weights.waiting.empty()) try_start_load(gpu);
}

void Engine::try_start_load(std::uint32_t gpu) {
  GpuState& g = gpus_[gpu];
  GpuWeights& gw = g.weights;
  if (gw.copying || gw.waiting.empty()) return;
  const std::uint32_t t = gw.waiting.front();
  const TenantInfo& ti = tenants_[t];
  while (gw.free_bytes < ti.weights_bytes && gw.lru_head != UINT32_MAX) {
    const std::uint32_t victim = gw.lru_head;
    lru_remove(victim);
    loads_[victim].state = WeightState::kAbsent;
    gw.free_bytes += tenants_[victim].weights_bytes;
    if (now_ >= cfg_.warmup) ++g.loads.evictions;
  }
  if (gw.free_bytes < ti.weights_bytes) return;  // waits for a tenant to go idle
  gw.waiting.pop_front();
  gw.free_bytes -= ti.weights_bytes;
  g.loads.peak_weights_bytes =
      std::max(g.loads.peak_weights_bytes, cfg_.weights_budget_bytes[gpu] - gw.free_bytes);
  loads_[t].state = WeightState::kLoading;
  gw.copying = true;
  gw.copy_since = now_;
  if (now_ >= cfg_.warmup) {
    ++g.loads.cold_starts;
    ++counters_[t].cold_starts;
    counters_[t].load_ns += ti.load_ns;
  }
  events_queue_.push(now_ + ti.load_ns, Priority::kCompletion, kLoadDone, gpu, t);
}

void Engine::on_load_done(std::uint32_t gpu, std::uint32_t t) {
  GpuState& g = gpus_[gpu];
  account_copy(g);
  g.weights.copying = false;
  TenantWeights& w = loads_[t];
  if (w.state != WeightState::kLoading) throw std::logic_error("load finished twice");
  w.state = WeightState::kResident;
  if (w.held.empty()) {  // cannot happen: held requests are outstanding until admitted
    throw std::logic_error("weights loaded for a tenant with no request");
  }
  while (!w.held.empty()) {
    const Request r = w.held.pop_front();
    hot_[t].queue.push_back(r);
    policies_[gpu]->on_arrival(r);
  }
  request_dispatch(gpu);
  try_start_load(gpu);
}

void Engine::account_copy(GpuState& g) {
  const SimTime from = std::max(g.weights.copy_since, cfg_.warmup);
  if (now_ > from) g.loads.copy_busy_ns += static_cast<double>(now_ - from);
}

void Engine::lru_push(std::uint32_t t) {
  GpuWeights& gw = gpus_[tenants_[t].gpu].weights;
  TenantWeights& w = loads_[t];
  w.lru_prev = gw.lru_tail;
  w.lru_next = UINT32_MAX;
  if (gw.lru_tail != UINT32_MAX) {
    loads_[gw.lru_tail].lru_next = t;
  } else {
    gw.lru_head = t;
  }
  gw.lru_tail = t;
  w.in_lru = true;
}

void Engine::lru_remove(std::uint32_t t) {
  GpuWeights& gw = gpus_[tenants_[t].gpu].weights;
  TenantWeights& w = loads_[t];
  if (w.lru_prev != UINT32_MAX) {
    loads_[w.lru_prev].lru_next = w.lru_next;
  } else {
    gw.lru_head = w.lru_next;
  }
  if (w.lru_next != UINT32_MAX) {
    loads_[w.lru_next].lru_prev = w.lru_prev;
  } else {
    gw.lru_tail = w.lru_prev;
  }
  w.lru_prev = w.lru_next = UINT32_MAX;
  w.in_lru = false;
}

}  // namespace infersim
