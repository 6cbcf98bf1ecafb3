// The discrete-event engine of one run: tenants, their arrival streams and queues, the
// per-GPU policies, and the counters metrics are computed from.
//
// The hot loop pops one event, advances the clock (never backwards) and hands the event to
// its target. Requests live in a pool indexed by RequestId and are recycled, and queues are
// rings, so steady-state operation allocates nothing and memory is O(requests in flight).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/arrival.h"
#include "sim/core/event_queue.h"
#include "sim/core/policy.h"
#include "sim/core/ring_queue.h"
#include "sim/core/rng.h"
#include "sim/core/time.h"
#include "sim/stats/histogram.h"

namespace infersim {

namespace kernels {
struct KernelProgram;  // sim/kernels/program.h: a model's timed kernels per batch size
}

// One deployed model instance, as the engine and policies see it.
struct TenantInfo {
  std::string name;   // unique, e.g. "resnet50_v1/3"
  std::string model;  // profile model name; tenants with equal models share an architecture
  std::uint32_t gpu = 0;
  SimTime slo_ns = kTimeMax;
  double gflop = 0;                 // per inference; 0 = unknown
  std::vector<SimTime> latency_ns;  // L(b) for b = 0..max (index 0 unused, 0)
  std::vector<double> utilization;  // u(b), solo utilization, same indexing
  // Kernel granularity (PolicyNeeds::kernels): the model's kernels at every batch size up to
  // the policy's max_batch, shared by the tenants of one model (the engine only carries it;
  // policies read it). latency_ns[b] is then its batch b's total. Null at batch granularity.
  std::shared_ptr<const kernels::KernelProgram> kernels;
};

struct Request {
  SimTime arrival;
  SimTime deadline;
  std::uint32_t tenant;
  std::uint32_t next_free;
};

// One finished request, for optional per-request output.
struct RequestOutcome {
  std::uint32_t tenant;
  std::uint32_t gpu;
  SimTime arrival;
  SimTime start;  // when its batch started (drop time for a dropped request)
  SimTime end;    // completion or drop time
  std::int32_t batch;
  bool dropped;
};

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  virtual void record(const RequestOutcome& r) = 0;
};

// Per-tenant tallies over measured requests (those arriving at or after warm-up).
struct TenantCounters {
  std::uint64_t arrived = 0;
  std::uint64_t completed = 0;
  std::uint64_t dropped = 0;
  std::uint64_t met_slo = 0;
  // A double: exact while below 2^53 ns (104 days of summed latency), and unlike int64 it
  // cannot overflow when huge latencies (up to the clock limit each) add up.
  double latency_sum_ns = 0;
  double latency_sumsq_ms2 = 0;  // for the coefficient of variation
  Histogram latency;             // ns

  // A measured request completed after `latency`, by its deadline when `met`. Shared by the
  // engine and the wall-clock replayer of `infersim measure`, so both count alike.
  void add_completion(SimTime latency, bool met) {
    ++completed;
    latency_sum_ns += static_cast<double>(latency);
    const double ms = ns_to_ms(latency);
    latency_sumsq_ms2 += ms * ms;
    this->latency.add(latency);
    if (met) ++met_slo;
  }
};

// The random stream `stream` of a run seeded `run_seed` (Engine::make_rng): the wall-clock
// replayer of `infersim measure` draws its arrivals from the very same streams.
Rng run_stream(std::uint64_t run_seed, const std::string& stream);

struct EngineConfig {
  std::uint64_t seed = 0;
  SimTime duration = 0;  // arrivals stop here; in-flight work drains
  SimTime warmup = 0;    // requests arriving earlier are not measured
  std::uint32_t gpus = 1;
};

class Engine {
 public:
  Engine(EngineConfig cfg, std::vector<TenantInfo> tenants);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void set_policy(std::uint32_t gpu, std::unique_ptr<Policy> p);
  void set_arrival(std::uint32_t tenant, std::unique_ptr<ArrivalProcess> a);
  void set_request_sink(RequestSink* sink) { sink_ = sink; }

  // Runs until no event is left (arrivals stopped and all work drained).
  void run();

  // ---- For policies ----
  SimTime now() const { return now_; }
  // When the next pending event happens (kTimeMax: none): a hint for a policy that runs its
  // model ahead of the engine (the kernel-level model keeps its state at that instant).
  SimTime next_event_time() const { return events_queue_.next_time(); }
  const EngineConfig& config() const { return cfg_; }
  std::size_t tenant_count() const { return tenants_.size(); }
  const TenantInfo& tenant(std::uint32_t t) const { return tenants_[t]; }
  RingQueue<RequestId>& queue(std::uint32_t t) { return queues_[t]; }
  const Request& request(RequestId id) const { return requests_[id]; }
  // Schedules `payload` for policies[gpu]->on_event at time t (>= now). A time past
  // kClockLimit (sim/core/time.h) ends the run with a std::runtime_error: the simulated
  // clock would leave the range where `now + delay` cannot overflow.
  void schedule(SimTime t, Priority p, std::uint32_t gpu, std::uint64_t payload);
  // Asks for policies[gpu]->on_dispatch at the current instant (coalesced).
  void request_dispatch(std::uint32_t gpu);
  // The request finished now, in a batch of `batch` started at `start`.
  void complete(RequestId id, std::uint32_t gpu, SimTime start, int batch);
  // The request is dropped now (e.g. it can no longer meet its SLO).
  void drop(RequestId id, std::uint32_t gpu);
  // Fraction of the GPU in use, in [0, 1] (0 idle). Integrated into busy time and load.
  void set_gpu_share(std::uint32_t gpu, double share);
  // For a policy that integrates its GPU use itself (the kernel-level model advances
  // lazily between engine events): adds busy time and share-weighted time, already limited
  // to the measured window (from warm-up, up to now). Not mixed with set_gpu_share.
  void add_gpu_usage(std::uint32_t gpu, double busy_ns, double load_ns);
  // A seeded stream private to the caller, named e.g. "gpu3/straggler".
  Rng make_rng(const std::string& stream) const;

  // ---- Results ----
  const TenantCounters& counters(std::uint32_t t) const { return counters_[t]; }
  // The end of the measured window: the last completion or drop (DESIGN.md "Window"). Not
  // the last event: a cancelled timer may still fire after all work is done. 0 when no
  // request finished.
  SimTime end_time() const { return last_outcome_; }
  std::uint64_t events() const { return events_; }
  // GPU-time in use within [warmup, end]: any work running (busy) and share-weighted (load).
  double gpu_busy_ns(std::uint32_t gpu) const { return gpus_[gpu].busy_ns; }
  double gpu_load_ns(std::uint32_t gpu) const { return gpus_[gpu].load_ns; }

 private:
  enum Kind : std::uint32_t { kArrival = 0, kGpuEvent = 1, kDispatch = 2 };

  struct GpuState {
    std::unique_ptr<Policy> policy;
    bool dispatch_pending = false;
    double share = 0;
    SimTime since = 0;
    double busy_ns = 0;
    double load_ns = 0;
  };

  void on_arrival(std::uint32_t tenant);
  SimTime gap(std::uint32_t tenant);  // the next arrival gap, checked to be in [0, kMaxDelay]
  void finish(RequestId id);          // common tail of complete() and drop()
  void account(GpuState& g);

  EngineConfig cfg_;
  std::vector<TenantInfo> tenants_;
  std::vector<RingQueue<RequestId>> queues_;
  std::vector<TenantCounters> counters_;
  std::vector<std::unique_ptr<ArrivalProcess>> arrivals_;
  std::vector<Rng> arrival_rngs_;
  std::vector<GpuState> gpus_;
  std::vector<Request> requests_;
  std::uint32_t free_head_ = UINT32_MAX;
  EventQueue events_queue_;
  RequestSink* sink_ = nullptr;
  SimTime now_ = 0;
  SimTime last_outcome_ = 0;  // time of the last completion or drop
  std::uint64_t events_ = 0;
};

}  // namespace infersim
