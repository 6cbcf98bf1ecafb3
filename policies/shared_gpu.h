// A processor-sharing model of kernels running concurrently on one GPU, used by the
// spatial-sharing policies (mps, space_time) at batch granularity.
//
// The GPU has a fixed number of kernel *slots* (mps: one per tenant process; space_time:
// one per architecture group); each slot runs at most one kernel (a batch) at a time. A
// kernel has
//   - remaining solo work, in ns of solo execution time (it starts at L(b)), and
//   - a solo utilization u = u(b), the share of the GPU it would use alone.
// With k kernels running and U = Σu over them, each kernel progresses at
//     speed = (U <= 1 ? 1 : 1/U)                       processor sharing
//           × 1 / (1 + interference · (k − 1))          per-extra-kernel interference
//           × (k >= 2 ? 1 / slowdown[slot] : 1)         the slot's straggler factor
// solo-ns per ns. While U <= 1 (and no interference) the kernels fit side by side and run
// at solo speed; above 1 they share the GPU in proportion to their solo demand, so the
// total work rate is the same as running them back to back. The per-slot slowdown (>= 1)
// applies only while the kernel shares the GPU: alone, a kernel runs exactly as profiled.
// The GPU share reported to the engine is min(1, U).
//
// Rates change only when a kernel starts or finishes. At each change the model advances
// every running kernel's remaining work to now at the old rates, recomputes the rates and
// schedules one event: the earliest completion. Earlier, now stale, completion events are
// cancelled by a generation number (see Timer in batching.h).
//
// Determinism: remaining work is a double, but every event time is an integer number of
// ns computed with an explicit rounding (ceil, with a relative tolerance of 1e-12 so a
// duration that is an integer in exact arithmetic but lands a rounding error above it is
// not pushed one ns later). IEEE double arithmetic in a fixed order gives the same bits on
// every machine. A kernel whose remaining solo work is within 1 ns of zero when an event
// fires completes then, so no kernel is ever left with a sliver of work that rounds to a
// zero-length step; but never at the instant it started, so a batch of 1 ns alone takes
// 1 ns, as under exclusive (it took none).
//
// Event payloads: the model's completion events carry an even payload (generation << 1);
// a policy that shares the GPU's event channel must use odd payloads for its own timers.
#pragma once

#include <algorithm>
// GCC 12 reports a false -Wstringop-overflow inside small_vector's growth path once it is
// inlined (it takes the inline buffer for a zero-size region); the header is Boost's.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
#include <boost/container/small_vector.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/batching.h"
#include "policies/kernel_gpu.h"
#include "sim/core/engine.h"
#include "sim/gpu/profile.h"
#include "sim/kernels/program.h"

namespace infersim {

class SharedGpu {
 public:
  // A kernel with at most this much solo work left (ns) has finished.
  static constexpr double kDoneNs = 1.0;

  SharedGpu(Engine& e, std::uint32_t gpu, std::size_t slots, double interference)
      : slots_(slots), e_(e), gpu_(gpu), interference_(interference) {
    if (!(interference >= 0)) throw std::invalid_argument("interference must be >= 0");
  }

  std::size_t slots() const { return slots_.size(); }
  std::size_t running() const { return running_; }
  bool busy(std::size_t s) const { return slots_[s].busy; }
  // Solo work left in slot s as of the last rate change (ns).
  double remaining(std::size_t s) const { return slots_[s].remaining; }
  // The speed slot s's kernel currently runs at (solo-ns per ns); 0 when idle.
  double speed(std::size_t s) const { return slots_[s].busy ? slots_[s].speed : 0.0; }
  double total_utilization() const { return total_u_; }

  double slowdown(std::size_t s) const { return slots_[s].slowdown; }
  // Whether slot s's current (or just finished) kernel ever ran slowed by its slowdown.
  bool was_slowed(std::size_t s) const { return slots_[s].slowed; }
  // A persistent slowdown (>= 1) of slot s's kernels while they share the GPU.
  void set_slowdown(std::size_t s, double slowdown) {
    if (!(slowdown >= 1)) throw std::invalid_argument("slowdown must be >= 1");
    slots_[s].slowdown = slowdown;
  }

  // Starts a kernel in the free slot s now, with solo_ns of solo work and solo utilization
  // u. Call commit() after the last start of an instant.
  void start(std::size_t s, SimTime solo_ns, double u) {
    Slot& k = slots_[s];
    if (k.busy) throw std::logic_error("SharedGpu: slot already running a kernel");
    advance();
    k.busy = true;
    k.slowed = false;
    k.since = e_.now();
    k.remaining = static_cast<double>(solo_ns);
    k.u = u;
    k.speed = 0;
    ++running_;
  }

  // Recomputes the rates of the running kernels, reports the GPU share and schedules the
  // earliest completion (unless that exact event is already pending).
  void commit() {
    advance();
    double total_u = 0;
    for (const Slot& k : slots_) {
      if (k.busy) total_u += k.u;
    }
    total_u_ = total_u;
    const double share_speed = total_u > 1.0 ? 1.0 / total_u : 1.0;
    const double inter =
        running_ > 1 ? 1.0 / (1.0 + interference_ * static_cast<double>(running_ - 1)) : 1.0;
    SimTime next = kTimeMax;
    for (Slot& k : slots_) {
      if (!k.busy) continue;
      double speed = share_speed * inter;
      if (running_ > 1) {
        speed /= k.slowdown;
        k.slowed = k.slowed || k.slowdown > 1;
      }
      k.speed = speed;
      next = std::min(next, e_.now() + ticks(k.remaining, speed, done_within(k)));
    }
    e_.set_gpu_share(gpu_, std::min(1.0, total_u));
    if (next == kTimeMax) {
      timer_.cancel();
    } else if (timer_.arm(next)) {
      e_.schedule(next, Priority::kCompletion, gpu_, timer_.generation() << 1);
    }
  }

  static bool is_completion(std::uint64_t payload) { return (payload & 1) == 0; }

  // Handles a completion payload. When it is the live one: advances to now, calls
  // done(slot) for every kernel that has finished, in slot order, with the slot already
  // free, then commits the new rates. Returns how many kernels finished (0 for a stale
  // event). With defer_commit, a completion that finished kernels leaves the commit to the
  // caller, who must make it at this instant (a policy's dispatch, which may start new
  // kernels first: one commit, one rate change and one scheduled event instead of two).
  template <typename F>
  std::size_t on_completion(std::uint64_t payload, F&& done, bool defer_commit = false) {
    if (!timer_.fire(payload >> 1)) return 0;
    advance();
    std::size_t n = 0;
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      Slot& k = slots_[s];
      if (!k.busy || k.remaining > done_within(k)) continue;
      k.busy = false;
      k.remaining = 0;
      k.speed = 0;
      --running_;
      ++n;
      done(s);
    }
    if (n == 0 || !defer_commit) commit();
    return n;
  }

  // Whole ns for `work` solo-ns at `speed`: ceil, tolerating a relative rounding error of
  // 1e-12 above an integer; 0 when at most `done` is left, else at least 1 ns, at most
  // kMaxDelay (a slowed kernel's time can exceed the horizon; the engine then stops the run
  // at its clock limit rather than overflow).
  static SimTime ticks(double work, double speed, double done = kDoneNs) {
    if (work <= done) return 0;
    const double q = (work / speed) * (1.0 - 1e-12);
    if (!(q < static_cast<double>(kMaxDelay))) return kMaxDelay;  // also NaN
    // ceil(q) without the library call (x86-64 has no SSE4.1 rounding by default): q > 0, so
    // truncation is floor; below 2^53 the integer is exact and one step up is the ceiling,
    // at or above it q is already an integer.
    const auto floor_q = static_cast<SimTime>(q);
    const SimTime t = static_cast<double>(floor_q) < q ? floor_q + 1 : floor_q;
    return t < 1 ? 1 : t;
  }

 private:
  struct Slot {
    bool busy = false;
    double remaining = 0;  // solo ns
    double u = 0;
    double speed = 0;
    double slowdown = 1;
    bool slowed = false;  // the kernel has run slowed by `slowdown`
    SimTime since = 0;    // when the kernel started
  };

  // The solo work a kernel may have left and be done: kDoneNs, but none at the instant it
  // started (its whole work is left; a kernel of 1 ns would otherwise take 0).
  double done_within(const Slot& k) const { return k.since == e_.now() ? 0.0 : kDoneNs; }

  // Brings every running kernel's remaining work to now at the current rates.
  void advance() {
    const SimTime now = e_.now();
    if (now == last_) return;
    const double dt = static_cast<double>(now - last_);
    last_ = now;
    for (Slot& k : slots_) {
      if (k.busy) k.remaining -= dt * k.speed;
    }
  }

  // What an arrival reads (whether its slot is busy) first.
  boost::container::small_vector<Slot, 2> slots_;  // inline: a GPU's state stays together
  std::size_t running_ = 0;
  Engine& e_;
  std::uint32_t gpu_;
  double interference_;
  double total_u_ = 0;
  SimTime last_ = 0;
  Timer timer_;
};

// What mps and space_time share: one batch per slot executing on the GPU model of the
// policy's granularity (batch: the processor-sharing SharedGpu above; kernel: the SM-budget
// KernelGpu of kernel_gpu.h), one batch-timeout timer for the GPU (odd payloads), and
// completions reported to the engine. A subclass's on_dispatch fills
// batches_[slot].requests, calls start_batch (or start_kernels) for it, and ends with
// end_dispatch.
class alignas(64) SharedGpuPolicy : public Policy {
 public:
  void on_event(std::uint64_t payload) final {
    if (!SharedGpu::is_completion(payload)) {  // batch timeout
      if (timer_.fire(payload >> 1)) e_.request_dispatch(gpu_);
      return;
    }
    auto done = [this](std::size_t slot) {
      Batch& batch = batches_[slot];
      e_.complete_batch(std::span<const Request>(batch.requests.data(), batch.requests.size()),
                        gpu_, batch.start);
      batch.requests.clear();
      on_batch_done(slot);
    };
    // At batch granularity the dispatch asked for below commits the new rates, after
    // starting whatever it starts (end_dispatch).
    const std::size_t n = kernel_ ? kernel_->on_completion(payload, done)
                                  : shared_.on_completion(payload, done, /*defer_commit=*/true);
    if (n > 0) {
      commit_due_ = !kernel_;
      e_.request_dispatch(gpu_);
    }
  }

 protected:
  // Called when slot's batch has completed (its requests reported), before the dispatch.
  virtual void on_batch_done(std::size_t /*slot*/) {}

  SharedGpuPolicy(const PolicySetup& s, std::size_t slots)
      : shared_(s.engine, s.gpu, slots, effect(s.params, "interference")),
        e_(s.engine),
        gpu_(s.gpu),
        rule_(BatchRule::from(s.params)),
        batches_(slots) {
    for (auto& b : batches_) b.requests.reserve(static_cast<std::size_t>(rule_.max_batch));
    if (kernel_granularity(s.params)) {
      kernel_ = std::make_unique<KernelGpu>(
          s.engine, s.gpu, slots, s.spec.sm_count, effect(s.params, "interference"),
          KernelGpu::Overlap{overlap_sharing(s.params), s.params.get("overlap_floor")});
    }
  }

  // An optional effect on top of the GPU model (interference, straggler spread): its value,
  // except at kernel granularity, where it is 0 unless given: there the SM budget is the
  // mechanism, and the defaults were fitted to (or taken from) seed 003 for the batch-level
  // model.
  static double effect(const Params& p, const std::string& key) {
    return kernel_granularity(p) && !p.given(key) ? 0.0 : p.get(key);
  }

  bool kernel_level() const { return kernel_ != nullptr; }
  bool slot_busy(std::size_t slot) const {
    return kernel_ ? kernel_->busy(slot) : shared_.busy(slot);
  }
  void set_slowdown(std::size_t slot, double slowdown) {
    if (kernel_) {
      kernel_->set_slowdown(slot, slowdown);
    } else {
      shared_.set_slowdown(slot, slowdown);
    }
  }
  double slowdown(std::size_t slot) const {
    return kernel_ ? kernel_->slowdown(slot) : shared_.slowdown(slot);
  }
  bool was_slowed(std::size_t slot) const {
    return kernel_ ? kernel_->was_slowed(slot) : shared_.was_slowed(slot);
  }

  // Starts the batch now in batches_[slot].requests, timed by tenant t: L(b) at solo
  // utilization u(b) at batch granularity; its kernels at kernel granularity.
  void start_batch(std::size_t slot, std::uint32_t t) {
    const std::size_t n = batches_[slot].requests.size();
    if (kernel_) {
      start_kernels(slot, e_.tenant(t).kernels->batches[n], e_.utilization(t, n));
      return;
    }
    batches_[slot].start = e_.now();
    shared_.start(slot, e_.latency_ns(t, n), e_.utilization(t, n));
    started_ = true;
  }

  // Kernel granularity: starts the batch in batches_[slot].requests as `kernels`, which must
  // outlive it (e.g. a space-time super-kernel's merged kernels), at solo utilization u (what
  // the GPU's load counts while it runs).
  void start_kernels(std::size_t slot, const kernels::BatchKernels& kernels, double u) {
    batches_[slot].start = e_.now();
    kernel_->start(slot, kernels, u);
  }

  // Commits the batches started in this dispatch (and the completions since the last
  // commit) and sets the batch-timeout timer to `wake`, the earliest time a waiting batch
  // may start (kTimeMax: none waits). Every on_dispatch ends with it.
  void end_dispatch(SimTime wake) {
    if (kernel_) {
      kernel_->commit();
    } else if (started_ || commit_due_) {
      shared_.commit();
    }
    started_ = false;
    commit_due_ = false;
    if (wake == kTimeMax) {
      timer_.cancel();
    } else if (timer_.arm(wake)) {
      e_.schedule(wake, Priority::kTimer, gpu_, timer_.generation() << 1 | 1);
    }
  }

  // Layout: in a cluster whose GPUs' states do not stay in cache, each cache line of this
  // object that an event reads is a miss. So the object starts on a line (alignas above)
  // and what an arrival reads comes first, beside the vtable pointer: whether the model is
  // kernel-level, and the batch-level model's slots. The KernelGpu (~0.5 KiB) is held by
  // pointer, so it does not part these fields from the subclass's.
  std::unique_ptr<KernelGpu> kernel_;  // kernel granularity
  SharedGpu shared_;                   // batch granularity
  Engine& e_;
  std::uint32_t gpu_;
  BatchRule rule_;
  // Per slot: its batch's requests (reserved to max_batch) and when the batch started, side
  // by side (a dispatch writes both, a completion reads both).
  struct Batch {
    boost::container::small_vector<Request, 16> requests;
    SimTime start = 0;
  };
  boost::container::small_vector<Batch, 1> batches_;

 private:
  Timer timer_;
  bool started_ = false;
  bool commit_due_ = false;  // completions wait for the dispatch's commit (batch granularity)
};

}  // namespace infersim
