// Batch formation shared by every policy: greedy work-conserving batching up to
// max_batch, an optional wait for a batch to fill, and optional SLO-aware dropping.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/core/engine.h"
#include "sim/core/params.h"
#include "sim/core/policy.h"

namespace infersim {

// Keys every policy accepts: max_batch, batch_timeout_ms, drop_late, context_mib.
std::vector<ParamSpec> common_policy_params();

// PolicyInfo::needs of a policy that reads only the common keys, with its tenant limit.
PolicyNeeds common_needs(const Params& p, int max_tenants_per_gpu);

struct BatchRule {
  int max_batch = 16;
  SimTime timeout = 0;  // 0: start as soon as the GPU slot is free
  bool drop_late = false;

  static BatchRule from(const Params& p) {
    return {static_cast<int>(p.get_int("max_batch")), ms_to_ns(p.get("batch_timeout_ms")),
            p.get_bool("drop_late")};
  }

  // With drop_late, drops queued requests of tenant t (oldest first) that would miss
  // their deadline even as a batch of 1 started now.
  void drop_hopeless(Engine& e, std::uint32_t gpu, std::uint32_t t) const {
    if (!drop_late) return;
    auto& q = e.queue(t);
    const SimTime solo = e.tenant(t).latency_ns[1];
    while (!q.empty() && e.now() + solo > e.request(q.front()).deadline) {
      e.drop(q.pop_front(), gpu);
    }
  }

  // Moves up to max_batch of tenant t's oldest queued requests into `batch` (cleared
  // first); returns how many.
  std::size_t take(Engine& e, std::uint32_t t, std::vector<RequestId>& batch) const {
    auto& q = e.queue(t);
    const std::size_t n = std::min<std::size_t>(q.size(), static_cast<std::size_t>(max_batch));
    batch.clear();
    for (std::size_t i = 0; i < n; ++i) batch.push_back(q.pop_front());
    return n;
  }

  // When a batch of tenant t may start: now if greedy, full, or the oldest request has
  // waited `timeout`; otherwise the time the oldest request's wait runs out.
  SimTime ready_at(Engine& e, std::uint32_t t) const {
    const auto& q = e.queue(t);
    if (timeout == 0 || q.size() >= static_cast<std::size_t>(max_batch)) return e.now();
    SimTime due = e.request(q.front()).arrival + timeout;
    return due > e.now() ? due : e.now();
  }
};

// A timer whose earlier settings are cancelled by a generation number: the policy
// schedules payload encode(gen) and ignores a firing whose generation is stale.
class Timer {
 public:
  // Arms the timer for time t unless it is already armed for t; returns whether the caller
  // must schedule an event for t carrying generation() (in payload bits of its choosing).
  bool arm(SimTime t) {
    if (armed_ && at_ == t) return false;
    armed_ = true;
    at_ = t;
    ++gen_;
    return true;
  }
  void cancel() { armed_ = false; }
  std::uint64_t generation() const { return gen_; }
  // True when a firing with generation g is the live one (and disarms).
  bool fire(std::uint64_t g) {
    if (!armed_ || g != gen_) return false;
    armed_ = false;
    return true;
  }

 private:
  bool armed_ = false;
  SimTime at_ = 0;
  std::uint64_t gen_ = 0;
};

}  // namespace infersim
