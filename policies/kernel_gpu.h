// The kernel-level model of one shared GPU, used by mps and space_time at `granularity:
// kernel`: concurrent streams of kernels competing for the GPU's SMs.
//
// The GPU has `slots` streams (mps: one per tenant process; space_time: one per architecture
// group). A stream runs one batch at a time as its sequence of kernels (a BatchKernels of
// sim/kernels/program.h), one kernel after another. The mechanism:
//  - A kernel occupies `sms` SMs (its thread blocks, one per SM, as the block scheduler
//    deals them; a multi-wave kernel takes every SM) for `ns` ns: its time when it has those
//    SMs to itself, which is what the kernel model computed it for.
//  - When a stream's kernel ends, the stream launches its next kernel into the GPU's launch
//    queue. The queue is served in launch order, as the block scheduler dispatches kernels:
//    the head kernel starts as soon as enough SMs are free (the SM budget); a kernel that
//    does not fit waits, and every kernel launched after it waits behind it. Kernels
//    launched at the same instant queue in stream order.
//  - A running kernel is never slowed by the others: contention shows as kernels waiting
//    for SMs, not as a shared rate. (Blocks of different kernels do not share an SM here; a
//    real SM may co-host them when registers and shared memory allow, which would let more
//    small kernels run at once.)
//  - Optional effects on top of the mechanism, both off by default at kernel granularity: a
//    kernel that starts while k - 1 others run (k >= 2) takes ns x (1 + interference x (k -
//    1)) x slowdown(stream), rounded to the nearest ns (`slowed` then records it).
//
// `kernel_sharing: overlap` replaces the SM budget with a law measured on an H100
// (scripts/kernel_constants/h100/rsweep.txt, README "GPU results at kernel granularity"):
// thread blocks of concurrent kernels share SMs, so every launched kernel starts at once
// (the budget becomes slots x SMs, which every set of running kernels fits), and a kernel
// that starts while k - 1 others run takes ns x (1 + u x (k - 1)), with
// u = floor + (1 - floor) x share: a kernel that alone reaches a share of the GPU's
// achievable throughput (TimedKernel::share) costs each co-runner that share, and even a
// kernel of no share costs `floor` (launch and scheduling work that does not overlap). The
// factor is fixed when the kernel starts (the interference effect's rule), multiplies with
// it and the stream's slowdown, and is rounded to the nearest ns. The share is taken against the
// whole GPU's throughput, also for kernels timed on a MIG instance or under an MPS SM cap:
// the law was measured on whole GPUs only.
//
// The SM budget is `sm_capacity` SMs: the whole GPU here; a MIG instance would be a KernelGpu
// of its own SMs, and an MPS SM cap times a tenant's kernels on a GpuShare of that many SMs
// (so they never occupy more). Both are kernel programs built for a GpuShare (issue 11).
//
// Speed: between two engine events nothing but kernel boundaries happens, and those change
// nothing the engine sees. So the model keeps its committed state at the last engine event
// and simulates kernel boundaries internally, in a tight loop that allocates nothing: after
// every change it runs a copy ahead to the next batch completion and schedules one engine
// event there. If nothing intervenes, the copy becomes the state at that event; a new batch
// started earlier (an arrival at an idle stream) re-simulates from the committed state to
// that instant. So the engine sees one event per batch, not per kernel. The run ahead also
// keeps a copy of the state at the engine's next pending event (Engine::next_event_time),
// when that comes before the batch completion: a batch started there (or later) resumes from
// that copy instead of re-simulating from the committed state. Stopping a run at any instant
// and resuming it gives exactly the uninterrupted run (integer times, the same boundaries),
// so the copy changes speed, never results.
//
// GPU use is integrated internally (busy: any kernel running) from the measured window's
// start and reported with Engine::add_gpu_usage as the committed state advances; the load
// is the busy time at the summed solo utilization u(b) of the batches in progress, capped at
// 1, as at batch granularity (shared_gpu.h) and under exclusive and time_sliced, so that
// `gpu_load` means one thing whatever the policy and granularity. (It used to be the
// fraction of SMs occupied, which made mps and space_time at kernel granularity report
// 0.50 for a lone ResNet-50 batch of 1 on an H100 where the others reported u(1) = 0.19.)
//
// Event payloads: completions are even (generation << 1); a policy that shares the GPU's
// event channel uses odd payloads for its own timers.
#pragma once

#include <cstdint>
#include <vector>

#include "policies/batching.h"
#include "sim/core/engine.h"
#include "sim/core/time.h"
#include "sim/kernels/program.h"

namespace infersim {

// `kernel_sharing: overlap` (see above); off: the SM budget.
struct KernelOverlap {
  bool on = false;
  double floor = 0.30;  // overlap_floor
};

class KernelGpu {
 public:
  using Overlap = KernelOverlap;

  KernelGpu(Engine& e, std::uint32_t gpu, std::size_t slots, int sm_capacity, double interference,
            Overlap overlap = {});

  std::size_t slots() const { return state_.slots.size(); }
  int sm_capacity() const { return sms_; }
  // Whether stream s has a batch in progress (started and not yet reported done).
  bool busy(std::size_t s) const { return state_.slots[s].batch != nullptr; }

  // A persistent slowdown (>= 1) of stream s's kernels that start while others run.
  void set_slowdown(std::size_t s, double slowdown);
  double slowdown(std::size_t s) const { return slowdown_[s]; }
  // Whether a kernel of stream s's current (or just finished) batch ran slowed by it.
  bool was_slowed(std::size_t s) const { return state_.slots[s].slowed; }

  // Starts `batch` on idle stream s now: its first kernel joins the launch queue. The batch
  // must outlive the run of it; solo_util is its solo utilization u(b), in [0, 1], which the
  // GPU's reported load sums while it is in progress. Call commit() after the last start
  // of an instant.
  void start(std::size_t s, const kernels::BatchKernels& batch, double solo_util);

  // Schedules the engine event of the next batch completion, if anything changed since the
  // last commit.
  void commit();

  static bool is_completion(std::uint64_t payload) { return (payload & 1) == 0; }

  // Handles a completion payload. When it is the live one: the state becomes the one at this
  // instant, and done(s) is called for every stream whose batch finished now, in stream
  // order, with the stream already idle. Returns how many finished (0 for a stale event).
  // Call commit() afterwards (after any new starts).
  template <typename F>
  std::size_t on_completion(std::uint64_t payload, F&& done) {
    if (!timer_.fire(payload >> 1)) return 0;
    adopt_ahead();
    std::size_t n = 0;
    for (std::size_t s = 0; s < state_.slots.size(); ++s) {
      Slot& k = state_.slots[s];
      if (k.phase != Phase::kDone) continue;
      k.phase = Phase::kIdle;
      k.batch = nullptr;
      --state_.done;
      ++n;
      done(s);
    }
    dirty_ = true;
    return n;
  }

  // Inspection (tests): SMs free in the committed state, kernels queued for SMs.
  int free_sms() const { return state_.free; }
  std::size_t queued() const { return state_.queue_size; }

 private:
  enum class Phase : std::uint8_t { kIdle, kWaiting, kRunning, kDone };

  struct Slot {
    const kernels::BatchKernels* batch = nullptr;   // null: idle
    const kernels::TimedKernel* kernels = nullptr;  // batch->kernels.data()
    std::uint32_t count = 0;                        // batch->kernels.size()
    std::uint32_t next = 0;                         // the kernel waiting or running
    Phase phase = Phase::kIdle;
    bool slowed = false;
    int sms = 0;      // held while running
    SimTime end = 0;  // while running
  };

  // Everything the internal simulation changes; copied without allocating (equal sizes).
  struct State {
    SimTime t = 0;
    int free = 0;
    std::vector<Slot> slots;
    // Ring of waiting streams in launch order, each with the SMs its waiting kernel needs
    // (kept here so that the admission check reads one entry, not the stream's kernels).
    struct Waiting {
      std::uint32_t slot = 0;
      int sms = 0;
    };
    std::vector<Waiting> queue;
    std::size_t queue_head = 0, queue_size = 0;
    std::vector<std::uint32_t> running;  // [0, n_running): streams with a kernel running
    std::size_t n_running = 0;
    std::size_t done = 0;  // streams whose batch finished at time t
    // GPU use not yet reported to the engine (at most the time between two engine events):
    // ns with a kernel running.
    std::int64_t busy_ns = 0;
  };

  // Starts queued kernels, in order, while the head fits.
  void admit(State& s) const;
  // Starts slot's next kernel now (it fits).
  void launch(State& s, std::uint32_t slot, const kernels::TimedKernel& kernel) const;
  // Advances `s` through kernel boundaries up to `until` (inclusive). With stop_at_done it
  // stops right after the first instant at which a batch finishes (before admitting at it);
  // returns whether it stopped so.
  bool run(State& s, SimTime until, bool stop_at_done) const;
  void integrate(State& s, SimTime to) const;
  // run()'s step when one stream runs alone: to its batch's end or the last kernel boundary
  // at or before `until`, in one jump. Returns whether the batch finished.
  bool run_alone(State& s, SimTime until) const;
  // run()'s step when one kernel runs and the queue's head does not fit beside it (the
  // common state when several streams launch wide kernels): kernels then run one at a time
  // in launch order. Steps through such boundaries while the state stays so. Returns kUntil
  // when it reached `until`, kDone when it stopped at a finished batch (stop_at_done), and
  // kGeneral when run()'s general step must go on from the state it left.
  enum class Serial : std::uint8_t { kGeneral, kUntil, kDone };
  Serial run_serial(State& s, SimTime until, bool stop_at_done) const;
  void enqueue(State& s, std::uint32_t slot) const;
  // Brings the committed state to the engine's now (no batch may finish before it).
  void sync();
  void adopt_ahead();
  void report(State& s);

  Engine& e_;
  std::uint32_t gpu_;
  int sms_;       // the GPU's SMs
  int capacity_;  // the SM budget: sms_, or under overlap slots x sms_ (every kernel fits)
  Overlap overlap_;
  double interference_;
  std::vector<double> slowdown_;
  std::vector<double> solo_util_;  // per stream: u(b) of its batch in progress
  bool effects_ = false;           // interference > 0, a slowdown > 1, or overlap
  SimTime warmup_;
  State state_;  // at the last engine event
  State ahead_;  // state_ run ahead to the next batch completion (valid unless dirty_)
  State check_;  // state_ run ahead to the engine's next event, if before the completion
  bool check_valid_ = false;  // check_ is state_ advanced (nothing changed since)
  bool dirty_ = false;
  SimTime ahead_t_ = kTimeMax;
  mutable std::vector<std::uint32_t> finishing_;  // scratch: streams ending at one instant
  Timer timer_;
};

}  // namespace infersim
