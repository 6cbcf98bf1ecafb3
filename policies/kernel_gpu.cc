#include "policies/kernel_gpu.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace infersim {

KernelGpu::KernelGpu(Engine& e, std::uint32_t gpu, std::size_t slots, int sm_capacity,
                     double interference)
    : e_(e),
      gpu_(gpu),
      capacity_(sm_capacity),
      interference_(interference),
      slowdown_(slots, 1.0),
      warmup_(e.config().warmup) {
  if (sm_capacity < 1) throw std::invalid_argument("KernelGpu: SM capacity must be >= 1");
  if (!(interference >= 0)) throw std::invalid_argument("interference must be >= 0");
  state_.free = capacity_;
  state_.slots.resize(slots);
  state_.queue.resize(slots);
  state_.running.reserve(slots);
  state_.t = e.now();
  ahead_ = state_;
  finishing_.reserve(slots);
}

void KernelGpu::set_slowdown(std::size_t s, double slowdown) {
  if (!(slowdown >= 1)) throw std::invalid_argument("slowdown must be >= 1");
  slowdown_[s] = slowdown;
}

void KernelGpu::enqueue(State& s, std::uint32_t slot) const {
  s.queue[(s.queue_head + s.queue_size) % s.queue.size()] = slot;
  ++s.queue_size;
  s.slots[slot].phase = Phase::kWaiting;
}

void KernelGpu::admit(State& s) const {
  while (s.queue_size > 0) {
    const std::uint32_t slot = s.queue[s.queue_head];
    Slot& k = s.slots[slot];
    const kernels::TimedKernel& kernel = k.batch->kernels[k.next];
    if (kernel.sms > s.free) {  // the head waits, and everything behind it
      if (s.running.empty()) {
        throw std::logic_error(
            fmt::format("KernelGpu {}: a kernel of {} SMs on {} SMs", gpu_, kernel.sms, capacity_));
      }
      return;
    }
    s.queue_head = (s.queue_head + 1) % s.queue.size();
    --s.queue_size;
    s.running.push_back(slot);
    s.free -= kernel.sms;
    k.sms = kernel.sms;
    k.phase = Phase::kRunning;
    SimTime ns = kernel.ns;
    const std::size_t running = s.running.size();
    if (running >= 2 && (interference_ > 0 || slowdown_[slot] > 1)) {
      const double f = (1.0 + interference_ * static_cast<double>(running - 1)) * slowdown_[slot];
      ns = static_cast<SimTime>(std::llround(static_cast<double>(ns) * f));
      k.slowed = k.slowed || slowdown_[slot] > 1;
    }
    k.end = s.t + ns;
  }
}

void KernelGpu::integrate(State& s, SimTime to) const {
  const SimTime from = std::max(s.t, warmup_);
  if (to > from && !s.running.empty()) {
    const double dt = static_cast<double>(to - from);
    s.busy_ns += dt;
    s.load_ns += dt * static_cast<double>(capacity_ - s.free) / capacity_;
  }
  s.t = to;
}

bool KernelGpu::run(State& s, SimTime until, bool stop_at_done) const {
  for (;;) {
    admit(s);
    SimTime next = kTimeMax;
    for (const std::uint32_t slot : s.running) next = std::min(next, s.slots[slot].end);
    if (s.running.empty() || next > until) {
      if (until != kTimeMax) integrate(s, until);
      return false;
    }
    integrate(s, next);
    // Every kernel ending now, in stream order.
    finishing_.clear();
    for (std::size_t i = 0; i < s.running.size();) {
      const std::uint32_t slot = s.running[i];
      if (s.slots[slot].end == next) {
        finishing_.push_back(slot);
        s.running[i] = s.running.back();
        s.running.pop_back();
      } else {
        ++i;
      }
    }
    std::sort(finishing_.begin(), finishing_.end());
    for (const std::uint32_t slot : finishing_) {
      Slot& k = s.slots[slot];
      s.free += k.sms;
      k.sms = 0;
      if (++k.next < k.batch->kernels.size()) {
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
  if (s.busy_ns > 0 || s.load_ns > 0) e_.add_gpu_usage(gpu_, s.busy_ns, s.load_ns);
  s.busy_ns = 0;
  s.load_ns = 0;
}

void KernelGpu::sync() {
  const SimTime now = e_.now();
  if (state_.t >= now) return;
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
  report(state_);
}

void KernelGpu::start(std::size_t s, const kernels::BatchKernels& batch) {
  Slot& k = state_.slots[s];
  if (k.batch != nullptr) throw std::logic_error("KernelGpu: stream already running a batch");
  if (batch.kernels.empty()) throw std::logic_error("KernelGpu: a batch without kernels");
  sync();
  k.batch = &batch;
  k.next = 0;
  k.slowed = false;
  enqueue(state_, static_cast<std::uint32_t>(s));
  dirty_ = true;
}

void KernelGpu::commit() {
  if (!dirty_) return;
  dirty_ = false;
  ahead_ = state_;  // equal sizes: no allocation
  const bool finishes = run(ahead_, kTimeMax, true);
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
