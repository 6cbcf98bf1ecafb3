// Batch formation shared by every policy: greedy work-conserving batching up to
// max_batch, an optional wait for a batch to fill, and optional SLO-aware dropping.
//
// The rules are written against a BatchHost, not the Engine alone: the simulator's Engine
// is one host, the wall-clock replayer of `infersim measure` (validation/replay.cc) is the
// other, so simulated and measured runs form batches and drop requests with this one code.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/core/engine.h"
#include "sim/core/params.h"
#include "sim/core/policy.h"

namespace infersim {

// Keys every policy accepts: max_batch, batch_timeout_ms, drop_late, granularity,
// context_mib.
std::vector<ParamSpec> common_policy_params();

// Whether the policy's `granularity` is kernel.
bool kernel_granularity(const Params& p);

// The settings of how concurrent kernels share the GPU at kernel granularity (mps,
// space_time; kernel_gpu.h): `kernel_sharing` (sm_budget, the default, or overlap) and
// `overlap_floor`.
std::vector<ParamSpec> kernel_sharing_params();
// Whether `kernel_sharing: overlap` is set.
bool overlap_sharing(const Params& p);

// PolicyInfo::needs of a policy that reads only the common keys, with its tenant limit.
PolicyNeeds common_needs(const Params& p, int max_tenants_per_gpu);

// What batch formation needs of its host: the clock, the tenants' queues of requests, their
// SLOs and latencies L(b), and a way to drop a request. Engine (sim/core/engine.h) models it.
template <class H>
concept BatchHost = requires(H& h, const H& c, std::uint32_t t, const Request& r,
                             std::uint32_t gpu) {
  { c.now() } -> std::same_as<SimTime>;
  { h.queue(t) } -> std::same_as<RingQueue<Request>&>;
  { c.slo_ns(t) } -> std::same_as<SimTime>;
  { c.latency_ns(t, std::size_t{1}) } -> std::same_as<SimTime>;
  h.drop(r, gpu);
};

struct BatchRule {
  int max_batch = 16;
  SimTime timeout = 0;  // 0: start as soon as the GPU slot is free
  bool drop_late = false;

  static BatchRule from(const Params& p) {
    return {static_cast<int>(p.get_int("max_batch")), p.get_ns("batch_timeout_ms"),
            p.get_bool("drop_late")};
  }

  // With drop_late, drops queued requests of tenant t (oldest first) that would miss
  // their deadline even as a batch of 1 started now.
  template <BatchHost H>
  void drop_hopeless(H& e, std::uint32_t gpu, std::uint32_t t) const {
    if (!drop_late) return;
    auto& q = e.queue(t);
    const SimTime solo = e.latency_ns(t, 1);
    const SimTime slo = e.slo_ns(t);
    while (!q.empty() && e.now() + solo > add_saturating(q.front().arrival, slo)) {
      e.drop(q.pop_front(), gpu);
    }
  }

  // Moves up to max_batch of tenant t's oldest queued requests into `batch` (cleared
  // first); returns how many.
  template <BatchHost H, typename Batch>
  std::size_t take(H& e, std::uint32_t t, Batch& batch) const {
    auto& q = e.queue(t);
    const std::size_t n = std::min<std::size_t>(q.size(), static_cast<std::size_t>(max_batch));
    batch.clear();
    q.pop_front_into(n, batch);
    return n;
  }

  // When a batch of tenant t may start: now if greedy, full, or the oldest request has
  // waited `timeout`; otherwise the time the oldest request's wait runs out.
  template <BatchHost H>
  SimTime ready_at(H& e, std::uint32_t t) const {
    const auto& q = e.queue(t);
    if (timeout == 0 || q.size() >= static_cast<std::size_t>(max_batch)) return e.now();
    SimTime due = q.front().arrival + timeout;
    return due > e.now() ? due : e.now();
  }

  // space_time's super-kernel over a group of same-architecture tenants (`members`,
  // ascending index). Drops every member's hopeless requests (drop_late); then, when the
  // batch may start now (greedy, max_batch queued, or the group's oldest request has
  // waited `timeout`), moves up to max_batch of the members' queued requests into `batch`
  // (cleared first) earliest deadline first -- ties by arrival, then tenant index -- and
  // returns now. Otherwise leaves `batch` empty and returns when the batch may start, or
  // kTimeMax when nothing is queued.
  template <BatchHost H, typename Batch>
  SimTime take_group(H& e, std::uint32_t gpu, std::span<const std::uint32_t> members,
                     Batch& batch) const {
    if (members.size() == 1 && timeout == 0 && !drop_late) {
      // The common case inline: one member, greedy, nothing to drop. What the general path
      // below does then: the member's oldest, up to max_batch, now (kTimeMax when empty).
      batch.clear();
      auto& q = e.queue(members.front());
      const std::size_t n = std::min(q.size(), static_cast<std::size_t>(max_batch));
      if (n == 0) return kTimeMax;
      q.pop_front_into(n, batch);
      return e.now();
    }
    return take_group_general(e, gpu, members, batch);
  }

 private:
  template <BatchHost H, typename Batch>
  [[gnu::noinline]] SimTime take_group_general(H& e, std::uint32_t gpu,
                                               std::span<const std::uint32_t> members,
                                               Batch& batch) const {
    const SimTime now = e.now();
    batch.clear();
    std::size_t queued = 0, nonempty = 0;
    std::uint32_t last = 0;  // the last member with queued requests
    SimTime oldest = kTimeMax;
    // The members' oldest requests are read below, one after another; a long queue's ring
    // is cold (its front was written when that request arrived). Start every load first, so
    // the misses overlap.
    for (std::uint32_t t : members) {
      const auto& q = e.queue(t);
      if (!q.empty()) __builtin_prefetch(&q.front());
    }
    for (std::uint32_t t : members) {
      drop_hopeless(e, gpu, t);
      const auto& q = e.queue(t);
      if (q.empty()) continue;
      queued += q.size();
      ++nonempty;
      last = t;
      oldest = std::min(oldest, q.front().arrival);
    }
    if (queued == 0) return kTimeMax;
    const std::size_t max_b = static_cast<std::size_t>(max_batch);
    if (timeout > 0 && queued < max_b && oldest + timeout > now) return oldest + timeout;
    const std::size_t n = std::min(queued, max_b);
    if (nonempty == 1) {  // the merge below would take this queue's oldest n
      e.queue(last).pop_front_into(n, batch);
      return now;
    }
    // EDF merge of the members' queues. Within one tenant the queue is in arrival order and
    // the SLO is fixed, so deadlines ascend along it: the front is its earliest.
    for (std::size_t j = 0; j < n; ++j) {
      std::uint32_t best = 0;
      bool have = false;
      SimTime best_deadline = 0, best_arrival = 0;
      for (std::uint32_t t : members) {  // ascending tenant index
        const auto& q = e.queue(t);
        if (q.empty()) continue;
        const SimTime arrival = q.front().arrival;
        const SimTime deadline = add_saturating(arrival, e.slo_ns(t));
        if (!have || deadline < best_deadline ||
            (deadline == best_deadline && arrival < best_arrival)) {
          have = true;
          best = t;
          best_deadline = deadline;
          best_arrival = arrival;
        }
      }
      batch.push_back(e.queue(best).pop_front());
    }
    return now;
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
