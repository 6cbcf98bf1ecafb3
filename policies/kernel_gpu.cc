#include "policies/kernel_gpu.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace infersim {

KernelGpu::KernelGpu(Engine& e, std::uint32_t gpu, std::size_t slots, int sm_capacity,
                     double interference, Overlap overlap)
    : e_(e),
      gpu_(gpu),
      sms_(sm_capacity),
      capacity_(overlap.on ? sm_capacity * static_cast<int>(std::max<std::size_t>(slots, 1))
                           : sm_capacity),
      overlap_(overlap),
      interference_(interference),
      slowdown_(slots, 1.0),
      solo_util_(slots, 0.0),
      warmup_(e.config().warmup) {
  if (sm_capacity < 1) throw std::invalid_argument("KernelGpu: SM capacity must be >= 1");
  if (!(interference >= 0)) throw std::invalid_argument("interference must be >= 0");
  if (!(overlap.floor >= 0 && overlap.floor <= 1)) {
    throw std::invalid_argument("overlap_floor must be in [0, 1]");
  }
  state_.free = capacity_;
  state_.slots.resize(slots);
  state_.queue.resize(slots);
  state_.running.resize(slots);
  effects_ = interference > 0 || overlap.on;
  state_.t = e.now();
  ahead_ = state_;
  check_ = state_;
  finishing_.resize(slots);
}

void KernelGpu::set_slowdown(std::size_t s, double slowdown) {
  if (!(slowdown >= 1)) throw std::invalid_argument("slowdown must be >= 1");
  slowdown_[s] = slowdown;
  effects_ = effects_ || slowdown > 1;
  check_valid_ = false;  // kernels launched after the copy's time may now run slower
}

void KernelGpu::enqueue(State& s, std::uint32_t slot) const {
  std::size_t i = s.queue_head + s.queue_size;
  if (i >= s.queue.size()) i -= s.queue.size();
  Slot& k = s.slots[slot];
  s.queue[i] = {slot, k.kernels[k.next].sms};
  ++s.queue_size;
  k.phase = Phase::kWaiting;
}

inline void KernelGpu::launch(State& s, std::uint32_t slot,
                              const kernels::TimedKernel& kernel) const {
  Slot& k = s.slots[slot];
  s.running[s.n_running++] = slot;
  s.free -= kernel.sms;
  k.sms = kernel.sms;
  k.phase = Phase::kRunning;
  SimTime ns = kernel.ns;
  if (effects_ && s.n_running >= 2) {
    const double others = static_cast<double>(s.n_running - 1);
    double f = (1.0 + interference_ * others) * slowdown_[slot];
    if (overlap_.on) {
      const double u = overlap_.floor + (1.0 - overlap_.floor) * static_cast<double>(kernel.share);
      f *= 1.0 + u * others;
    }
    ns = static_cast<SimTime>(std::llround(static_cast<double>(ns) * f));
    k.slowed = k.slowed || slowdown_[slot] > 1;
  }
  k.end = s.t + ns;
}

void KernelGpu::admit(State& s) const {
  while (s.queue_size > 0) {
    const std::uint32_t slot = s.queue[s.queue_head].slot;
    const Slot& k = s.slots[slot];
    const kernels::TimedKernel& kernel = k.kernels[k.next];
    if (kernel.sms > s.free) {  // the head waits, and everything behind it
      if (s.n_running == 0) {
        throw std::logic_error(
            fmt::format("KernelGpu {}: a kernel of {} SMs on {} SMs", gpu_, kernel.sms, capacity_));
      }
      return;
    }
    if (++s.queue_head == s.queue.size()) s.queue_head = 0;
    --s.queue_size;
    launch(s, slot, kernel);
  }
}

void KernelGpu::integrate(State& s, SimTime to) const {
  const SimTime from = std::max(s.t, warmup_);
  if (to > from && s.n_running > 0) s.busy_ns += to - from;
  s.t = to;
}

bool KernelGpu::run_alone(State& s, SimTime until) const {
  // One stream runs and none waits: nothing can interrupt it before `until` (a new batch
  // starts only at an engine event), and alone it fits and meets no effects, so its
  // kernels run back to back: kernel j ends at E + end[j] - end[i], with i the running one
  // and E its end. Jump to the last kernel boundary at or before `until`.
  const std::uint32_t slot = s.running[0];
  Slot& k = s.slots[slot];
  const kernels::BatchKernels& b = *k.batch;
  const std::size_t i = k.next;
  const SimTime base = k.end - b.end[i];  // the batch's clock: kernel j ends at base + end[j]
  // The first kernel still running after `until` (size(): none).
  const std::size_t j = until >= base + b.end.back()
                            ? b.end.size()
                            : static_cast<std::size_t>(
                                  std::upper_bound(b.end.begin() + static_cast<std::ptrdiff_t>(i),
                                                   b.end.end(), until - base) -
                                  b.end.begin());
  const SimTime to = j == b.end.size() ? base + b.end.back() : until;
  // Busy from t to `to`. (Within the window: run() steps instead while t is before warm-up.)
  s.busy_ns += to - s.t;
  s.t = to;
  s.free += k.sms;
  if (j == b.end.size()) {
    s.n_running = 0;
    k.sms = 0;
    k.next = static_cast<std::uint32_t>(j);
    k.phase = Phase::kDone;
    ++s.done;
    return true;
  }
  k.next = static_cast<std::uint32_t>(j);
  k.sms = b.kernels[j].sms;
  k.end = base + b.end[j];
  s.free -= k.sms;
  return false;
}

KernelGpu::Serial KernelGpu::run_serial(State& s, SimTime until, bool stop_at_done) const {
  // The general step below, specialised: one kernel runs (past warm-up, so every instant
  // is integrated), the queue's head waits for it. At the kernel's end its stream's next
  // kernel joins the back of the queue, or its batch is done; the GPU is then empty, so the
  // head starts; if the kernel behind the head fits beside it, the general step takes over.
  // The scalars live in locals: stores through the slots could otherwise alias them.
  SimTime t = s.t;
  std::int64_t busy = s.busy_ns;
  std::size_t head = s.queue_head, size = s.queue_size;
  const std::size_t ring = s.queue.size();
  State::Waiting* queue = s.queue.data();
  Slot* slots = s.slots.data();
  std::uint32_t r = s.running[0];
  Serial out = Serial::kGeneral;
  for (;;) {
    Slot& k = slots[r];
    const SimTime end = k.end;
    if (end > until) {
      busy += until - t;
      t = until;
      out = Serial::kUntil;
      break;
    }
    busy += end - t;
    t = end;
    k.sms = 0;
    if (++k.next < k.count) {
      std::size_t i = head + size;
      if (i >= ring) i -= ring;
      queue[i] = {r, k.kernels[k.next].sms};
      ++size;
      k.phase = Phase::kWaiting;
    } else {
      k.phase = Phase::kDone;
      ++s.done;
      // (A run that stops at a finished batch starts with none finished.)
      if (stop_at_done) {
        out = Serial::kDone;
        break;
      }
    }
    // The GPU is empty: the head starts, unless it is wider than the GPU (the general step
    // reports that).
    if (size == 0) break;
    const State::Waiting w = queue[head];
    if (w.sms > capacity_) break;
    if (++head == ring) head = 0;
    --size;
    Slot& next = slots[w.slot];
    next.sms = w.sms;
    next.phase = Phase::kRunning;
    next.end = t + next.kernels[next.next].ns;
    r = w.slot;
    if (size > 0 && queue[head].sms + w.sms <= capacity_) break;  // the next starts beside it
  }
  s.t = t;
  s.busy_ns = busy;
  s.queue_head = head;
  s.queue_size = size;
  if (slots[r].phase == Phase::kRunning) {
    s.running[0] = r;
    s.free = capacity_ - slots[r].sms;
  } else {  // its batch is done, or its kernel ended and nothing started
    s.n_running = 0;
    s.free = capacity_;
  }
  return out;
}

bool KernelGpu::run(State& s, SimTime until, bool stop_at_done) const {
  for (;;) {
    // Admission (admit(), inlined: the loop's hot path): the queue's head starts if it fits.
    while (s.queue_size > 0) {
      const State::Waiting head = s.queue[s.queue_head];
      if (head.sms > s.free) {
        if (s.n_running == 0) admit(s);  // throws: a kernel wider than the GPU
        break;
      }
      if (++s.queue_head == s.queue.size()) s.queue_head = 0;
      --s.queue_size;
      const Slot& k = s.slots[head.slot];
      launch(s, head.slot, k.kernels[k.next]);
    }
    const std::size_t n = s.n_running;
    if (n == 0) {
      if (until != kTimeMax) integrate(s, until);
      return false;
    }
    if (n == 1 && s.t >= warmup_) {
      if (s.queue_size == 0) {
        if (run_alone(s, until)) {
          if (stop_at_done) return true;
          continue;
        }
        return false;  // at `until`, the stream's kernel still running
      }
      const Serial out = run_serial(s, until, stop_at_done);
      if (out == Serial::kGeneral) continue;
      return out == Serial::kDone;
    }
    std::uint32_t* running = s.running.data();
    SimTime next = s.slots[running[0]].end;
    for (std::size_t i = 1; i < n; ++i) next = std::min(next, s.slots[running[i]].end);
    if (next > until) {
      integrate(s, until);
      return false;
    }
    integrate(s, next);
    // Every kernel ending now, in stream order (usually one).
    std::uint32_t* finishing = finishing_.data();
    std::size_t f = 0;
    for (std::size_t i = 0; i < s.n_running;) {
      const std::uint32_t slot = running[i];
      if (s.slots[slot].end == next) {
        finishing[f++] = slot;
        running[i] = running[--s.n_running];
      } else {
        ++i;
      }
    }
    if (f > 1) std::sort(finishing, finishing + f);
    for (std::size_t i = 0; i < f; ++i) {
      const std::uint32_t slot = finishing[i];
      Slot& k = s.slots[slot];
      s.free += k.sms;
      k.sms = 0;
      if (++k.next < k.count) {
        enqueue(s, slot);
      } else {
        k.phase = Phase::kDone;
        ++s.done;
      }
    }
    if (stop_at_done && s.done > 0) return true;
  }
}

void KernelGpu::report(State& s) {
  if (s.busy_ns > 0) {
    // The batches in progress are the same since the last report (batches start and finish
    // only at engine events, and every one reports first), so the load is the busy time at
    // their summed solo utilization, capped at 1: the batch level's definition.
    double u = 0;
    for (std::size_t i = 0; i < s.slots.size(); ++i) {
      if (s.slots[i].batch != nullptr) u += solo_util_[i];
    }
    const double busy = static_cast<double>(s.busy_ns);
    e_.add_gpu_usage(gpu_, busy, busy * std::min(1.0, u));
  }
  s.busy_ns = 0;
}

void KernelGpu::sync() {
  const SimTime now = e_.now();
  if (state_.t >= now) return;
  // Resume from the copy kept at the engine's next event when that is not past now.
  if (check_valid_ && check_.t <= now) std::swap(state_, check_);
  check_valid_ = false;
  run(state_, now, false);
  if (state_.done > 0) {
    throw std::logic_error(
        fmt::format("KernelGpu {}: a batch finished before its completion event", gpu_));
  }
  report(state_);
}

void KernelGpu::adopt_ahead() {
  if (dirty_ || ahead_t_ != e_.now()) {
    throw std::logic_error(
        fmt::format("KernelGpu {}: completion event without a prediction", gpu_));
  }
  std::swap(state_, ahead_);
  check_valid_ = false;
  report(state_);
}

void KernelGpu::start(std::size_t s, const kernels::BatchKernels& batch, double solo_util) {
  if (state_.slots[s].batch != nullptr) {
    throw std::logic_error("KernelGpu: stream already running a batch");
  }
  if (batch.kernels.empty()) throw std::logic_error("KernelGpu: a batch without kernels");
  if (!(solo_util >= 0 && solo_util <= 1)) {
    throw std::logic_error(fmt::format("KernelGpu: solo utilization {} outside [0, 1]", solo_util));
  }
  sync();  // may swap state_ for the kept copy: take references into it only afterwards
  check_valid_ = false;
  Slot& k = state_.slots[s];
  k.batch = &batch;
  k.kernels = batch.kernels.data();
  k.count = static_cast<std::uint32_t>(batch.kernels.size());
  k.next = 0;
  k.slowed = false;
  solo_util_[s] = solo_util;
  enqueue(state_, static_cast<std::uint32_t>(s));
  dirty_ = true;
}

void KernelGpu::commit() {
  if (!dirty_) return;
  dirty_ = false;
  ahead_ = state_;  // equal sizes: no allocation
  // Stop at the engine's next event on the way, and keep the state there (see the header).
  const SimTime next = e_.next_event_time();
  bool finishes = false;
  check_valid_ = false;
  if (next > state_.t && next != kTimeMax) {
    finishes = run(ahead_, next, true);
    if (!finishes) {
      check_ = ahead_;  // equal sizes: no allocation
      check_valid_ = true;
    }
  }
  if (!finishes) finishes = run(ahead_, kTimeMax, true);
  if (!finishes) {
    ahead_t_ = kTimeMax;
    timer_.cancel();
    return;
  }
  ahead_t_ = ahead_.t;
  if (timer_.arm(ahead_t_)) {
    e_.schedule(ahead_t_, Priority::kCompletion, gpu_, timer_.generation() << 1);
  }
}

}  // namespace infersim
