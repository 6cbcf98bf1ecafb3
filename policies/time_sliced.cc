// time_sliced: several tenants share a GPU, each in its own process with its own CUDA
// context, and the GPU runs one context at a time (seed 003's "time multiplexing").
//
// Model (DESIGN.md, "The GPU execution model"):
//  - Each tenant is one context. It forms batches greedily with BatchRule (max_batch,
//    batch_timeout_ms, drop_late), one batch in progress at a time; a batch of b needs
//    L(b) = latency_ns[b] of GPU time. The batch is formed when the context is given the
//    GPU and has no batch in progress (so it takes the requests queued at that instant),
//    and a request's `start` is when its batch first began executing.
//  - A context is *ready* when it has a batch in progress (preempted, with GPU time left)
//    or can start one now (after drop_late drops, its queue is non-empty and BatchRule
//    says the batch may start). A context waiting on batch_timeout_ms is not ready; a
//    timer wakes the scheduler when its wait runs out.
//  - Scheduling decisions see every completion and arrival of the instant (a closed-loop
//    replacement request is already queued): they are taken at dispatch priority, or
//    directly in a quantum-expiry or switch-end event, which fire at timer priority, after
//    completions and arrivals (saving a dispatch event per slice).
//  - The running context keeps the GPU for one quantum (quantum_ms) from the moment it
//    starts running. Within it, when its batch finishes and it has a next batch ready, it
//    starts that batch in the remaining quantum (no switch). When its quantum runs out in
//    the middle of a batch, the batch is preempted and its remaining GPU time carries over
//    to the context's next slice.
//  - The quantum ends early when the running context goes idle (its batch finished and it
//    has no ready batch): the GPU moves on at once, and the context's next slice gets a
//    fresh full quantum.
//  - When the quantum ends (or ends early), the next context is the first ready one in
//    round-robin order after the current one (tenant order on the GPU, wrapping around,
//    the current context last). Switching to a different context costs switch_us of idle
//    GPU time, after which that context's quantum starts. The same context continuing
//    (e.g. it is the only ready one) costs nothing and simply gets a new quantum. The
//    first context on a fresh GPU starts without a switch (no previous state to save).
//  - When no context is ready the GPU idles and the last context stays resident: if it is
//    the next to become ready it starts without a switch; any other context pays one.
//    There is no preemption on arrival: a request for another context waits for the
//    running one's quantum to end (or for it to go idle).
//  - GPU share: u(b) of the running batch while it executes, 0 while switching or idle, so
//    the reported busy fraction excludes switch time (switches are overhead, not work).
//  - Invariant: at most one context runs at a time; a violation throws std::logic_error.
//
// granularity: kernel. A batch is its sequence of kernels (TenantInfo::kernels; their total is
// L(b)), and a context gives up the GPU only between two kernels, as seed 003's software
// scheduler did: when the quantum runs out in the middle of a kernel, that kernel finishes
// first (the slice overruns the quantum), and the context's next slice resumes with the next
// kernel. With compute_preemption (hardware compute preemption, Pascal and later) the batch is
// preempted at the quantum mid-kernel instead, as at batch granularity, where a batch has no
// kernel boundaries and is always preempted at the quantum.
//
// With a single tenant no switch ever happens and a batch is never delayed by slicing, so
// the per-request outcomes equal those of `exclusive` (tests/time_sliced_test.cc).
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/batching.h"
#include "policies/builtin.h"
#include "sim/core/engine.h"
#include "sim/kernels/program.h"

namespace infersim {
namespace {

class TimeSliced final : public Policy {
 public:
  explicit TimeSliced(const PolicySetup& s)
      : e_(s.engine),
        gpu_(s.gpu),
        rule_(BatchRule::from(s.params)),
        quantum_(s.params.get_ns("quantum_ms")),
        switch_(s.params.get_ns("switch_us")),
        kernel_boundaries_(kernel_granularity(s.params) &&
                           !s.params.get_bool("compute_preemption")) {
    if (quantum_ <= 0) throw std::logic_error("time_sliced: quantum must be positive");
    if (s.tenants.size() >= kMaxContexts) {
      throw std::logic_error(fmt::format("time_sliced: {} tenants on GPU {} (at most {})",
                                         s.tenants.size(), s.gpu, kMaxContexts - 1));
    }
    ctx_.resize(s.tenants.size());
    for (std::size_t i = 0; i < ctx_.size(); ++i) {
      ctx_[i].tenant = s.tenants[i];
      ctx_[i].batch.reserve(rule_.max_batch);
    }
  }

  void on_dispatch() override { decide(); }

  void on_event(std::uint64_t payload) override {
    switch (payload & kTagMask) {
      case kSegmentEnd:
        end_segment();
        break;
      case kSwitchEnd:
        end_switch();
        break;
      case kBatchTimer: {
        std::size_t c = (payload >> kTagBits) & (kMaxContexts - 1);
        std::uint64_t gen = payload >> (kTagBits + kContextBits);
        if (ctx_[c].timer.fire(gen)) e_.request_dispatch(gpu_);
        break;
      }
      default:
        throw std::logic_error("time_sliced: unknown event");
    }
  }

 private:
  // Event payloads: a tag in the low bits; batch timers add the context and generation.
  static constexpr int kTagBits = 2;
  static constexpr std::uint64_t kTagMask = (1u << kTagBits) - 1;
  static constexpr int kContextBits = 20;
  static constexpr std::size_t kMaxContexts = std::size_t{1} << kContextBits;
  enum Tag : std::uint64_t { kSegmentEnd = 0, kSwitchEnd = 1, kBatchTimer = 2 };

  enum class State { kIdle, kSwitching, kRunning };

  struct Context {
    std::uint32_t tenant = 0;
    std::vector<Request> batch;                      // the batch in progress; empty when none
    SimTime remaining = 0;                           // GPU time the batch in progress still needs
    const kernels::BatchKernels* kernels = nullptr;  // its kernels (kernel granularity)
    SimTime first_start = 0;  // when the batch in progress first began executing
    Timer timer;              // batch_timeout_ms wait
  };

  // Ready: a batch in progress, or one that may start now. Drops hopeless requests
  // (drop_late) and arms the batch timer of a context waiting to fill its batch.
  bool ready(std::size_t c) {
    Context& x = ctx_[c];
    if (!x.batch.empty()) return true;
    rule_.drop_hopeless(e_, gpu_, x.tenant);
    if (e_.queue(x.tenant).empty()) return false;
    SimTime at = rule_.ready_at(e_, x.tenant);
    if (at > e_.now()) {
      if (x.timer.arm(at)) {
        e_.schedule(at, Priority::kTimer, gpu_,
                    (x.timer.generation() << (kTagBits + kContextBits)) |
                        (static_cast<std::uint64_t>(c) << kTagBits) | kBatchTimer);
      }
      return false;
    }
    return true;
  }

  void decide() {
    if (state_ != State::kIdle) return;  // no preemption on arrival
    const SimTime now = e_.now();
    if (has_current_ && now < quantum_end_) {
      if (ready(current_)) {  // next batch within the remaining quantum
        run(current_);
        return;
      }
      quantum_end_ = now;  // the context went idle: its quantum ends early
    }
    const std::size_t n = ctx_.size();
    const std::size_t first = has_current_ ? current_ + 1 : 0;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t c = (first + k) % n;
      if (!ready(c)) continue;
      if (!has_current_ || c == current_ || switch_ == 0) {
        start_quantum(c);  // nothing to switch out (or switches are free)
      } else {
        state_ = State::kSwitching;
        target_ = c;
        e_.schedule(now + switch_, Priority::kTimer, gpu_, kSwitchEnd);
      }
      return;
    }
    // Nothing ready: the GPU idles with the current context resident.
  }

  void start_quantum(std::size_t c) {
    current_ = c;
    has_current_ = true;
    quantum_end_ = e_.now() + quantum_;
    run(c);
  }

  // Runs context c (ready) until its batch finishes or its quantum ends, whichever first.
  void run(std::size_t c) {
    if (state_ != State::kIdle || running_ != kNone) {
      throw std::logic_error(fmt::format(
          "time_sliced GPU {}: context {} started while context {} runs (state {})", gpu_, c,
          running_ == kNone ? -1 : static_cast<long long>(running_), static_cast<int>(state_)));
    }
    if (c != current_) throw std::logic_error("time_sliced: running a context not switched in");
    const SimTime now = e_.now();
    Context& x = ctx_[c];
    if (x.batch.empty()) {
      const std::size_t n = rule_.take(e_, x.tenant, x.batch);
      if (n == 0) throw std::logic_error("time_sliced: running a context with no work");
      x.timer.cancel();
      x.remaining = e_.latency_ns(x.tenant, n);
      x.kernels = kernel_boundaries_ ? &e_.tenant(x.tenant).kernels->batches[n] : nullptr;
      x.first_start = now;
    }
    const SimTime left = quantum_end_ - now;
    if (left <= 0) throw std::logic_error("time_sliced: running with no quantum left");
    SimTime segment = std::min(x.remaining, left);
    if (x.kernels != nullptr) {
      // Run on to the end of the kernel running when the quantum ends.
      const SimTime done = x.kernels->total() - x.remaining;
      segment = x.kernels->boundary_at_or_after(done + left) - done;
    }
    const bool finishes = segment == x.remaining;
    state_ = State::kRunning;
    running_ = c;
    segment_start_ = now;
    e_.set_gpu_share(gpu_, e_.utilization(x.tenant, x.batch.size()));
    e_.schedule(now + segment, finishes ? Priority::kCompletion : Priority::kTimer, gpu_,
                kSegmentEnd);
  }

  // The running segment ended: its batch finished or its quantum ran out (preemption).
  void end_segment() {
    if (state_ != State::kRunning || running_ != current_) {
      throw std::logic_error("time_sliced: segment ended with no context running");
    }
    Context& x = ctx_[running_];
    x.remaining -= e_.now() - segment_start_;
    state_ = State::kIdle;
    running_ = kNone;
    e_.set_gpu_share(gpu_, 0);
    if (x.remaining < 0) throw std::logic_error("time_sliced: batch overran its GPU time");
    if (x.remaining == 0) {
      e_.complete_batch(x.batch, gpu_, x.first_start);
      x.batch.clear();
      e_.request_dispatch(gpu_);  // at completion priority: this instant's arrivals come later
    } else {
      decide();  // a quantum expiry fires at timer priority, after this instant's arrivals
    }
  }

  // The switch finished: the target context is resident and its quantum starts. Whether it
  // runs is decided at dispatch priority, with this instant's arrivals in its queue.
  void end_switch() {
    if (state_ != State::kSwitching || running_ != kNone) {
      throw std::logic_error("time_sliced: switch ended while not switching");
    }
    state_ = State::kIdle;
    current_ = target_;
    has_current_ = true;
    quantum_end_ = e_.now() + quantum_;
    decide();  // at timer priority: this instant's completions and arrivals are in view
  }

  static constexpr std::size_t kNone = SIZE_MAX;

  Engine& e_;
  std::uint32_t gpu_;
  BatchRule rule_;
  SimTime quantum_;
  SimTime switch_;
  bool kernel_boundaries_;  // contexts switch only between kernels
  std::vector<Context> ctx_;
  State state_ = State::kIdle;
  bool has_current_ = false;     // a context has been resident on this GPU
  std::size_t current_ = 0;      // the resident context (running, or last to run)
  std::size_t running_ = kNone;  // the context executing now, kNone when none
  std::size_t target_ = 0;       // the context being switched in
  SimTime quantum_end_ = 0;      // end of the current context's quantum
  SimTime segment_start_ = 0;
};

}  // namespace

void register_time_sliced(PolicyRegistry& r) {
  std::vector<ParamSpec> params = common_policy_params();
  params.push_back(
      {"quantum_ms", ParamKind::kMilliseconds, 1.024,
       "time slice of a context, ms; a batch still running at its end is preempted and "
       "resumes in the context's next slice. 1.024 ms is the NVIDIA driver's default "
       "timeslice between CUDA contexts on Volta and later GPUs",
       0, 1e6, true});
  params.push_back(
      {"switch_us", ParamKind::kMicroseconds, 25,
       "idle GPU time to switch from one context to another, us. An assumption (NVIDIA "
       "publishes no figure): a V100 context's on-chip state, 80 SMs x (256 KiB registers + "
       "96 KiB shared memory) = 27.5 MiB, takes ~32 us to save at 900 GB/s when full; "
       "inference kernels rarely fill it",
       0, 1e6});
  params.push_back(
      {"compute_preemption",
       ParamKind::kBool,
       0,
       "at granularity kernel: preempt a batch at the quantum in the middle of a kernel "
       "(hardware compute preemption, Pascal and later) instead of letting the running kernel "
       "finish first, as seed 003's software scheduler switched contexts only between kernels. "
       "At granularity batch a batch has no kernel boundaries and is always preempted at the "
       "quantum, so the key is refused there (it would do nothing)",
       0,
       1,
       false,
       {},
       {},
       "granularity",
       {"kernel"}});
  r.add({"time_sliced",
         "several tenants, one CUDA context each; the GPU runs one context at a time, "
         "round-robin over contexts with work, quantum_ms slices, switch_us per switch; a "
         "batch of b needs L(b) of GPU time, preempted at the end of a slice",
         std::move(params), ProcessModel::kProcessPerTenant,
         [](const Params& p) { return common_needs(p, 0); },
         [](const PolicySetup& s) { return std::make_unique<TimeSliced>(s); }});
}

}  // namespace infersim
