// The discrete-event engine of one run: tenants and the services they form, the arrival
// streams that feed them, their queues, the per-GPU policies, and the counters metrics are
// computed from.
//
// Data flow of one request: an arrival stream fires for one of its targets (a service);
// the service's router picks a replica (a tenant; a service of one tenant needs none); the
// request joins that tenant's queue and the GPU's policy is told; the policy forms batches
// and reports completions and drops.
//
// The hot loop pops one event, advances the clock (never backwards) and hands the event to
// its target. A request is a value (Request: its arrival and tenant) held by whoever has it
// now: its tenant's queue, then its batch. Queues are rings and batches are reserved, so
// steady-state operation allocates nothing and memory is O(requests in flight).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/core/alias_table.h"
#include "sim/core/arrival.h"
#include "sim/core/event_queue.h"
#include "sim/core/policy.h"
#include "sim/core/request.h"
#include "sim/core/ring_queue.h"
#include "sim/core/rng.h"
#include "sim/core/router.h"
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
  // With on-demand loading (EngineConfig::on_demand): the weights' size and the time to
  // copy them to the GPU.
  std::int64_t weights_bytes = 0;
  SimTime load_ns = 0;
  // Kernel granularity (PolicyNeeds::kernels): the model's kernels at every batch size up to
  // the policy's max_batch, shared by the tenants of one model (the engine only carries it;
  // policies read it). latency_ns[b] is then its batch b's total. Null at batch granularity.
  std::shared_ptr<const kernels::KernelProgram> kernels;
};

// A service: replicas of one model behind one arrival stream. Without a router a service
// has one replica (the default: every tenant its own service, named after it).
struct ServiceInfo {
  std::string name;
  std::vector<std::uint32_t> replicas;  // tenant indices
};

// Whether a request that finished `latency` after its arrival met its deadline,
// add_saturating(arrival, slo): exactly when the latency is at most the SLO (where the sum
// saturates, the SLO exceeds kTimeMax - arrival >= end - arrival, and both hold). The
// engine and the replayer of `infersim measure` both count by it.
constexpr bool met_deadline(SimTime latency, SimTime slo) { return latency <= slo; }

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

// Per-tenant tallies over measured requests (those arriving at or after warm-up). What a
// completion updates comes first, in one aligned pair of cache lines.
struct alignas(128) TenantCounters {
  std::uint64_t completed = 0;
  std::uint64_t met_slo = 0;
  // A double: exact while below 2^53 ns (104 days of summed latency), and unlike int64 it
  // cannot overflow when huge latencies (up to the clock limit each) add up.
  double latency_sum_ns = 0;
  double latency_sumsq_ms2 = 0;  // for the coefficient of variation
  Histogram latency;             // ns
  std::uint64_t arrived = 0;
  std::uint64_t dropped = 0;
  // On-demand loading: loads of the tenant's weights started in the window (cold starts),
  // their total copy time, and measured requests that arrived while the weights were not
  // on the GPU (and so waited for a load).
  std::uint64_t cold_starts = 0;
  SimTime load_ns = 0;
  std::uint64_t waited = 0;
  // Work the window did for requests that arrived before it: for each such request that
  // completed after warm-up, the fraction of its service (start to end) inside the window.
  // flop_util counts it, as gpu_busy counts the time (a backlog at warm-up is work done in
  // the window), while the latency and throughput columns count measured requests only.
  double carried_in = 0;

  // A request that arrived before the window at `warmup` completed at `end` after a service
  // that started at `start` (end > warmup).
  void add_carried_in(SimTime start, SimTime end, SimTime warmup) {
    carried_in += start >= warmup
                      ? 1.0
                      : static_cast<double>(end - warmup) / static_cast<double>(end - start);
  }

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

// On-demand loading, per GPU: loads (cold starts) and evictions in the window, the copy
// engine's busy time in the window, and the most weight memory in use at once.
struct LoadCounters {
  std::uint64_t cold_starts = 0;
  std::uint64_t evictions = 0;
  double copy_busy_ns = 0;
  std::int64_t peak_weights_bytes = 0;
};

// The random stream `stream` of a run seeded `run_seed` (Engine::make_rng): the wall-clock
// replayer of `infersim measure` draws its arrivals from the very same streams.
Rng run_stream(std::uint64_t run_seed, const std::string& stream);

struct EngineConfig {
  std::uint64_t seed = 0;
  SimTime duration = 0;  // arrivals stop here; in-flight work drains
  SimTime warmup = 0;    // requests arriving earlier are not measured
  std::uint32_t gpus = 1;
  // On-demand loading: each GPU holds at most weights_budget_bytes[gpu] of weights; a
  // request for a tenant whose weights are not on its GPU waits while they are copied
  // (TenantInfo::load_ns, one copy at a time per GPU: one copy engine, which runs beside
  // the GPU's kernels), evicting the least recently used idle tenants' weights to make
  // room. A tenant is idle when no request of it is queued or running; only idle weights
  // are evicted, so a policy never sees a request whose weights are absent. With
  // `preload`, each GPU starts with its tenants' weights resident in tenant order while
  // they fit; otherwise it starts empty. Off: every tenant's weights are always resident.
  bool on_demand = false;
  bool preload = true;
  std::vector<std::int64_t> weights_budget_bytes;
  // A run whose events form one part of at least `log_completions_from` tenants records its
  // measured completions in a log of `completion_log` entries, and adds them to the
  // tenants' counters a log at a time, tenant by tenant (Engine::flush_completions). The
  // results are the same: each tenant's completions are added in the order they happened.
  std::size_t log_completions_from = 4096;
  // 2^18 entries, 2 MiB, and as much again for the sorted copy. A longer log gives a busy
  // tenant more completions per flush, added while its counters and histogram lines are
  // loaded once. `valgrind --tool=cachegrind --cache-sim=yes --LL=4194304,16,64
  // infersim_bench trace 3000000` (16-bit histogram counts): last-level misses 4.97 M at
  // 2^16 entries, 4.58 M at 2^18. The log streams through the cache in order, which the
  // hardware prefetches; the counters and buckets it updates do not.
  std::size_t completion_log = std::size_t{1} << 18;
};

// Thrown by Engine::run when closed-loop requests are dropped the instant they arrive and
// replaced at that same instant, over and over (more times at one instant than the loops
// keep requests outstanding, plus a million). The batch rule drops a request at its arrival
// only when its L(1) alone exceeds its SLO, so every request of the tenant is dropped so,
// and without a think time simulated time would never advance. The runner turns it into an
// input error at the tenant.
class ZeroTimeLoop : public std::runtime_error {
 public:
  explicit ZeroTimeLoop(std::uint32_t tenant)
      : std::runtime_error("a closed loop drops and replaces its requests at one instant"),
        tenant_(tenant) {}
  std::uint32_t tenant() const { return tenant_; }

 private:
  std::uint32_t tenant_;
};

class Engine {
 public:
  // Without `services`, every tenant is a service of its own, named after it.
  Engine(EngineConfig cfg, std::vector<TenantInfo> tenants, std::vector<ServiceInfo> services = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void set_policy(std::uint32_t gpu, std::unique_ptr<Policy> p);
  // The router of a service with more than one replica.
  void set_router(std::uint32_t service, std::unique_ptr<Router> r);
  // An arrival stream feeding `targets` (service indices; process target i is service
  // targets[i]). Its random numbers come from stream "arrival/<name>". With `weights`
  // (one per target) the stream's own target choice is replaced by a draw from them
  // (popularity), from stream "popularity/<name>". Every service is the target of exactly
  // one stream. Streams start in the order they are added.
  void add_stream(const std::string& name, std::unique_ptr<ArrivalProcess> process,
                  std::vector<std::uint32_t> targets, const std::vector<double>& weights = {});
  void set_request_sink(RequestSink* sink) { sink_ = sink; }

  // Runs until no event is left (arrivals stopped and all work drained).
  //
  // GPUs that no arrival stream, service or router connects are independent: nothing that
  // happens on one can change what happens on another. Each connected part -- its GPUs and
  // the streams feeding them -- runs to its end on its own event queue, one part after
  // another, so that the tenants, histograms and random number generators of one part stay
  // in cache while it runs. The results are the same as with one queue for all (a part's
  // events keep their relative order: time, priority, insertion sequence; its random streams
  // are its own; what spans parts -- the last outcome, the end time, the event count -- is a
  // maximum or a sum). With a request sink every event goes through one queue, so that
  // records come out in time order rather than grouped by part (tests compare the two).
  void run();
  // The streams of each independent part (see run()), parts in order of their first stream;
  // call after every stream is added.
  std::vector<std::vector<std::uint32_t>> independent_parts() const;

  // ---- For policies and routers ----
  SimTime now() const { return now_; }
  // When the next pending event happens (kTimeMax: none): a hint for a policy that runs its
  // model ahead of the engine (the kernel-level model keeps its state at that instant).
  SimTime next_event_time() const { return dispatches_.empty() ? events_queue_.next_time() : now_; }
  const EngineConfig& config() const { return cfg_; }
  std::size_t tenant_count() const { return tenants_.size(); }
  const TenantInfo& tenant(std::uint32_t t) const { return tenants_[t]; }
  // Tenant t's L(b) and u(b): tenant(t).latency_ns[b] and tenant(t).utilization[b], read
  // through its hot line from one compact table where tenants with equal profiles share
  // their rows. The hot loop reads these: at 10,000 tenants, tenant(t)'s own vectors are two
  // cache misses apart (the TenantInfo, then its vector's heap block).
  SimTime latency_ns(std::uint32_t t, std::size_t b) const {
    assert(b < tenants_[t].latency_ns.size());
    return profile_rows_[hot_[t].profile_row + b].latency_ns;
  }
  double utilization(std::uint32_t t, std::size_t b) const {
    assert(b < tenants_[t].utilization.size());
    return profile_rows_[hot_[t].profile_row + b].utilization;
  }
  std::size_t service_count() const { return services_.size(); }
  const ServiceInfo& service(std::uint32_t s) const { return service_info_[s]; }
  RingQueue<Request>& queue(std::uint32_t t) { return hot_[t].queue; }
  // Tenant t's SLO (kTimeMax: none): a request's deadline is add_saturating(its arrival,
  // this).
  SimTime slo_ns(std::uint32_t t) const { return hot_[t].slo_ns; }
  // Requests of tenant t that arrived and have not completed or been dropped (queued or
  // running).
  std::uint32_t outstanding(std::uint32_t t) const { return outstanding_[t]; }
  // Starts loading what outstanding(t) and an arrival of tenant t read (a hint for routers,
  // Router::prefetch).
  void prefetch_tenant(std::uint32_t t) const {
    __builtin_prefetch(&outstanding_[t]);
    __builtin_prefetch(&hot_[t]);
    __builtin_prefetch(reinterpret_cast<const char*>(&hot_[t]) + 64);
  }
  // Tenant t's position among the tenants on its GPU, in ascending tenant order (its index
  // in its GPU's PolicySetup::tenants when those are sorted): a policy's per-tenant arrays
  // can be indexed by it without a search.
  std::uint32_t gpu_rank(std::uint32_t t) const { return hot_[t].gpu_rank; }
  // Whether tenant t's weights are on its GPU or on their way (resident, loading or queued
  // for the copy engine): a request for it needs no new load. Always true without
  // on-demand loading.
  bool has_weights(std::uint32_t t) const {
    return !cfg_.on_demand || loads_[t].state != WeightState::kAbsent;
  }
  // With on-demand loading, for a router's cold start: whether tenant t's weights fit in its
  // GPU's free weight memory now, without evicting another model, and the requests
  // outstanding on that GPU (all its tenants'). Without on-demand loading: true and 0.
  bool weights_fit(std::uint32_t t) const {
    return !cfg_.on_demand || tenants_[t].weights_bytes <= gpus_[hot_[t].gpu].weights.free_bytes;
  }
  std::uint32_t gpu_outstanding(std::uint32_t t) const {
    return cfg_.on_demand ? gpus_[hot_[t].gpu].weights.outstanding : 0;
  }
  // Schedules `payload` for policies[gpu]->on_event at time t (>= now). A time past
  // kClockLimit (sim/core/time.h) ends the run with a std::runtime_error: the simulated
  // clock would leave the range where `now + delay` cannot overflow.
  void schedule(SimTime t, Priority p, std::uint32_t gpu, std::uint64_t payload);
  // Asks for policies[gpu]->on_dispatch at the current instant (coalesced).
  void request_dispatch(std::uint32_t gpu) {
    if (dispatch_pending_[gpu]) return;
    dispatch_pending_[gpu] = 1;
    dispatches_.push_back(gpu);
  }
  // The request (taken from its tenant's queue) finished now, in a batch of `batch`
  // started at `start`.
  void complete(const Request& r, std::uint32_t gpu, SimTime start, int batch);
  // A whole batch finished now: complete(r, gpu, start, batch.size()) for each request of
  // `batch` in order, in one call (a policy's completion handler makes one call per batch,
  // not one per request).
  void complete_batch(std::span<const Request> batch, std::uint32_t gpu, SimTime start);
  // The request (taken from its tenant's queue) is dropped now (e.g. it can no longer
  // meet its SLO).
  void drop(const Request& r, std::uint32_t gpu);
  // Fraction of the GPU in use, in [0, 1] (0 idle). Integrated into busy time and load.
  // Inline: the sharing policies call it once per batch.
  void set_gpu_share(std::uint32_t gpu, double share) {
    if (share < 0 || share > 1.0 + 1e-9) [[unlikely]]
      bad_share(gpu, share);
    GpuUse& g = use_[gpu];
    account(g);
    g.share = share;
  }
  // For a policy that integrates its GPU use itself (the kernel-level model advances
  // lazily between engine events): adds busy time and share-weighted time, already limited
  // to the measured window (from warm-up, up to now). Not mixed with set_gpu_share.
  void add_gpu_usage(std::uint32_t gpu, double busy_ns, double load_ns);
  // A seeded stream private to the caller, named e.g. "gpu3/straggler".
  Rng make_rng(const std::string& stream) const;
  // The same, as a 32-byte SmallRng: for an object that exists by the thousand and draws
  // rarely (a router per service), whose stream should share its cache line.
  SmallRng make_small_rng(const std::string& stream) const;

  // ---- Results ----
  const TenantCounters& counters(std::uint32_t t) const {
    assert(completion_log_.empty());  // complete once run() has returned
    return counters_[t];
  }
  // The end of the measured window: the last completion or drop (DESIGN.md "Window"). Not
  // the last event: a cancelled timer may still fire after all work is done. 0 when no
  // request finished.
  SimTime end_time() const { return last_outcome_; }
  std::uint64_t events() const { return events_; }
  // GPU-time in use within [warmup, end]: any work running (busy) and share-weighted (load).
  double gpu_busy_ns(std::uint32_t gpu) const { return use_[gpu].busy_ns; }
  double gpu_load_ns(std::uint32_t gpu) const { return use_[gpu].load_ns; }
  const LoadCounters& load_counters(std::uint32_t gpu) const { return gpus_[gpu].loads; }

 private:
  enum Kind : std::uint32_t { kArrival = 0, kGpuEvent = 1, kLoadDone = 2 };
  enum class WeightState : std::uint8_t { kResident, kLoading, kQueued, kAbsent };

  // On-demand loading state of one tenant.
  struct TenantWeights {
    WeightState state = WeightState::kResident;
    RingQueue<Request> held;  // requests waiting for the weights, in arrival order
    std::uint32_t lru_prev = UINT32_MAX, lru_next = UINT32_MAX;  // idle-resident list links
    bool in_lru = false;
  };
  // On-demand loading state of one GPU.
  struct GpuWeights {
    std::int64_t free_bytes = 0;
    std::uint32_t outstanding = 0;  // its tenants' outstanding requests (routers' cold picks)
    std::uint32_t lru_head = UINT32_MAX, lru_tail = UINT32_MAX;  // idle resident, oldest first
    RingQueue<std::uint32_t> waiting;  // tenants queued for the copy engine
    bool copying = false;
    SimTime copy_since = 0;
  };

  struct GpuState {
    GpuWeights weights;
    LoadCounters loads;
  };

  // The engine's per-object state is split: what the hot loop touches for each request
  // is kept in small structs (one cache line or two), apart from names, tables and random
  // number generators (an mt19937_64 is 2.5 KiB). With 10,000 tenants that is what keeps
  // an arrival to a few cache misses.

  // An arrival stream: its process, random streams and targets (owned below).
  struct Stream {
    ArrivalProcess* process = nullptr;
    Rng* rng = nullptr;
    const std::uint32_t* targets = nullptr;  // service indices
    const AliasTable* deal = nullptr;        // popularity: targets drawn from it
    Rng* deal_rng = nullptr;
    // The tenant, when the stream feeds one service of one replica (the common case: no
    // lookup of service and router per arrival); else UINT32_MAX.
    std::uint32_t direct = UINT32_MAX;
    bool closed = false;  // closed loop: arrivals follow completions
  };

  struct Service {
    Router* router = nullptr;                 // null with one replica
    const std::uint32_t* replicas = nullptr;  // service_info_'s list (not its ServiceInfo line)
    std::uint32_t single = 0;                 // the replica, when there is one
    std::uint32_t stream = UINT32_MAX;        // the stream that feeds it
    std::uint32_t target_in_stream = 0;       // its target index in that stream
  };

  // What an arrival or a completion reads of its tenant: two adjacent cache lines (a
  // 128-byte pair), the queue's first 4 requests inline.
  struct alignas(128) TenantHot {
    RingQueue<Request> queue;
    SimTime slo_ns = kTimeMax;
    std::uint64_t arrived = 0;  // measured arrivals (copied to counters_ at the end)
    std::uint32_t gpu = 0;
    std::uint32_t service = 0;
    std::uint32_t gpu_rank = 0;     // position among its GPU's tenants, ascending
    bool closed_loop = false;       // fed by a closed-loop stream: completions schedule arrivals
    std::uint32_t profile_row = 0;  // its batch-0 row in profile_rows_
  };
  static_assert(sizeof(TenantHot) == 128);

  // Schedules the first arrivals of stream s.
  void start_stream(std::uint32_t s);
  // Processes events until none is left.
  void drain();
  void on_arrival(std::uint32_t stream, std::uint32_t target);
  // Draws stream s's next arrival after `now` and schedules it, unless past the horizon;
  // returns its time.
  SimTime schedule_next(std::uint32_t s, std::uint32_t target);
  // Router::prefetch for the pending arrival of stream s to `target`, which is next.
  void prefetch_arrival(std::uint32_t s, std::uint32_t target) const;
  // Common tail of complete() and drop(): the closed-loop replacement's arrival time, or
  // kTimeMax when there is none.
  SimTime finish(std::uint32_t tenant);
  void zero_time_drop(std::uint32_t tenant);  // drop() of a request replaced at once
  // complete() at time `now` (= now_).
  void record_completion(const Request& r, std::uint32_t gpu, SimTime start, int batch,
                         SimTime now);
  // How much of a GPU is in use, and since when; what it has been in use so far (within
  // the measured window). Set at every batch start and completion: 32 bytes per GPU, apart
  // from the rest of its state.
  struct GpuUse {
    double share = 0;
    SimTime since = 0;
    double busy_ns = 0;
    double load_ns = 0;
  };
  // Integrates g's share over the measured part of [g.since, now] and moves since to now.
  void account(GpuUse& g) {
    const SimTime from = std::max(g.since, cfg_.warmup);
    if (now_ > from && g.share > 0) {
      const double span = static_cast<double>(now_ - from);
      g.busy_ns += span;
      g.load_ns += span * g.share;
    }
    g.since = now_;
  }
  [[noreturn, gnu::cold]] static void bad_share(std::uint32_t gpu, double share);

  // ---- On-demand loading (engine_loading.cc) ----
  void preload_weights();
  // A request of tenant t arrived: false when it must wait for the weights (then held).
  bool weights_ready(std::uint32_t t, Request r);
  // Tenant t went idle (no request queued or running).
  void on_idle(std::uint32_t t);
  void try_start_load(std::uint32_t gpu);
  void on_load_done(std::uint32_t gpu, std::uint32_t t);
  void lru_push(std::uint32_t t);
  void lru_remove(std::uint32_t t);
  void account_copy(GpuState& g);

  EngineConfig cfg_;
  std::vector<TenantInfo> tenants_;
  // The tenants' L(b), u(b) tables, each once (see latency_ns()).
  struct ProfileRow {
    SimTime latency_ns;
    double utilization;
  };
  std::vector<ProfileRow> profile_rows_;
  std::vector<TenantHot> hot_;  // per tenant
  // Per tenant, its requests queued, held or running: what a router compares, packed (40 KiB
  // at 10,000 tenants), so that comparing two replicas reads no cold line of either.
  std::vector<std::uint32_t> outstanding_;
  std::vector<TenantCounters> counters_;
  // Measured completions not yet added to counters_ (EngineConfig::log_completions_from).
  // Eight bytes each, half as much as 16-byte entries, so that the log and its sorted copy
  // take 4 MiB together at the default 2^18 entries: the tenant and two flags, and the
  // latency in nanoseconds when it fits 32 bits (4.29 s), else its index in
  // completion_long_.
  struct Completion {
    std::uint32_t tenant_flags;  // tenant | kCompletionMet | kCompletionLong
    std::uint32_t value;
  };
  static constexpr std::uint32_t kCompletionMet = 1U << 31;   // by its deadline
  static constexpr std::uint32_t kCompletionLong = 1U << 30;  // value indexes completion_long_
  static constexpr std::uint32_t kCompletionTenant = kCompletionLong - 1;
  std::vector<Completion> completion_log_, completion_sorted_;
  std::vector<SimTime> completion_long_;          // the logged latencies of 2^32 ns or more
  std::vector<std::uint32_t> completion_starts_;  // per tenant, into completion_sorted_
  bool log_completions_ = false;
  // Adds the logged completions to their tenants' counters, sorted by tenant (a stable
  // counting sort, so each tenant's in the order they happened), and empties the log.
  void flush_completions();
  std::vector<Service> services_;
  std::vector<ServiceInfo> service_info_;
  std::vector<std::unique_ptr<Router>> routers_;
  std::vector<Stream> streams_;
  std::vector<std::unique_ptr<ArrivalProcess>> processes_;  // per stream
  std::deque<Rng> rngs_;                                    // stable addresses
  std::deque<std::vector<std::uint32_t>> targets_;
  std::deque<AliasTable> deals_;
  std::vector<TenantWeights> loads_;  // per tenant, with on-demand loading
  std::vector<GpuState> gpus_;
  // What every event of a GPU reads first, per GPU in arrays of their own: its policy,
  // whether a dispatch is pending, and its use (GpuUse). A GpuState is 152 bytes, so at
  // 1,000 GPUs these reads would each miss inside it; packed, they take 41 KiB.
  std::vector<std::unique_ptr<Policy>> policies_;
  std::vector<std::uint8_t> dispatch_pending_;
  std::vector<GpuUse> use_;
  EventQueue events_queue_;
  RingQueue<std::uint32_t> dispatches_;  // GPUs asking for a dispatch now (see drain())
  RequestSink* sink_ = nullptr;
  SimTime now_ = 0;
  SimTime last_outcome_ = 0;  // time of the last completion or drop
  // Drops at the arrival instant whose replacement arrives at that same instant
  // (zero_time_drop): how many at zero_time_at_, and how many there make a ZeroTimeLoop.
  SimTime zero_time_at_ = -1;
  std::uint64_t zero_time_drops_ = 0;
  std::uint64_t zero_time_limit_ = 1'000'000;
  std::uint64_t events_ = 0;
};

}  // namespace infersim
