// Builds one run from a validated experiment (placement, latency tables, policies and
// arrival processes from the registries), runs it and computes its metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/experiment.h"
#include "sim/core/engine.h"
#include "sim/gpu/memory.h"
#include "sim/kernels/roofline.h"
#include "sim/metrics/summary.h"

namespace infersim {

// One GPU of a run (the /gpus table).
struct GpuResult {
  int node = 0;
  int tenants = 0;             // placed on it
  std::uint64_t requests = 0;  // measured arrivals routed to its tenants
  std::uint64_t completed = 0;
  std::uint64_t dropped = 0;
  double busy = 0;        // fraction of the window with work running
  double load = 0;        // time-average solo-utilization share in use
  double memory_mib = 0;  // memory demand of what is placed on it (all weights)
  // On-demand loading (else 0, and resident_peak_mib = memory_mib): weight loads started
  // in the window (cold starts), evictions, the copy engine's busy fraction of the window,
  // and the most memory in use at once (contexts, activations, resident weights).
  std::uint64_t cold_starts = 0;
  std::uint64_t evictions = 0;
  double copy_busy = 0;
  double resident_peak_mib = 0;
};

struct RunResult {
  std::uint64_t run = 0;
  int replication = 0;
  std::uint64_t seed = 0;  // the seed the run's streams derive from
  std::string policy;
  LatencySummary all;
  std::vector<LatencySummary> tenants;
  // Per tenant: mean latency over the model's solo batch-1 latency L(1), and with
  // output.isolation the p99 of the same tenant on the same trace alone on a GPU.
  std::vector<double> slowdown;
  std::vector<double> p99_alone_ms;  // NaN unless output.isolation
  // Seed 003's criteria, over the run: predictability and fairness.
  double p99_over_p50 = 0;     // tail spread of all requests' latency
  double p50_spread_ms = 0;    // max - min of per-tenant p50
  double p50_gap = 0;          // max / min - 1 of per-tenant p50 (seed 003: up to 25% in MPS)
  double jain_fairness = 0;    // Jain's index over per-tenant slowdowns (1 = all equal)
  double worst_isolation = 0;  // max over tenants of p99 / p99 alone (NaN without isolation)
  double throughput_per_gpu = 0;
  std::vector<std::uint32_t> tenant_gpu;
  double gpu_busy = 0;    // mean over GPUs of the fraction of the window with work running
  double gpu_load = 0;    // mean over GPUs of the solo-utilization-weighted share in use
  double flop_util = 0;   // achieved FLOP/s over peak FP32; NaN when a model's FLOPs are unknown
  double window_s = 0;    // measured span: warm-up to the last completion
  double memory_mib = 0;  // GPU memory demand of the fullest GPU
  double memory_capacity_mib = 0;  // memory of one GPU
  std::vector<GpuResult> gpus;
  std::uint64_t events = 0;
  double wall_s = 0;
};

// The seed of replication `r`. Runs that differ only in swept settings share it, so every
// policy sees the same arrival trace (common random numbers).
std::uint64_t replication_seed(std::uint64_t experiment_seed, int replication);

// The devices a run's policies drive: each GPU, or under a partitioning policy (mig) each
// instance of each GPU, instance i of GPU g being device g * devices_per_gpu + i.
int devices_per_gpu(const Experiment& x);
// Each device's specification: the GPU's, or an instance's (its SMs, memory, memory bandwidth
// and the peak FLOP/s of its SMs).
std::vector<GpuSpec> device_specs(const Experiment& x);
// The part of the GPU tenant t's kernels are timed on, on `device`: the device's SMs and
// bandwidth (a MIG instance; the whole GPU otherwise), and of those SMs, with an
// `active_thread_percentage`, ceil(percentage / 100 x SMs).
kernels::GpuShare tenant_share(const Experiment& x, const TenantSpec& t, std::uint32_t device);

struct Placement {
  std::vector<std::uint32_t> gpu;          // per tenant: its device (devices_per_gpu)
  std::vector<MemoryDemand> memory;        // per device
  std::vector<double> weights_budget_mib;  // per device: capacity left for weights
  // The (tenant, device) memory-fit tests placement made: its work, beside O(log devices)
  // per tenant to keep the devices ordered (tests check it grows linearly).
  std::uint64_t fit_checks = 0;
};

// The arrival streams of a run, created from the experiment's tenant entries: one per
// service; one per entry with `popularity` (its weights, one per service); one per group of
// entries naming a shared process (a trace) with identical settings.
struct StreamPlan {
  std::string name;  // names its random streams ("arrival/<name>")
  std::unique_ptr<ArrivalProcess> process;
  std::vector<std::uint32_t> targets;  // services
  std::vector<double> weights;         // popularity weights, or empty
};
std::vector<StreamPlan> make_streams(const Experiment& x, const Registries& reg);

// Each tenant's expected load in GPUs, asked of its stream: its share of the service's rate
// (replicas split it evenly) times L(1); a closed-loop tenant counts as a full GPU.
std::vector<double> tenant_loads(const Experiment& x, const std::vector<StreamPlan>& streams);

// Places tenants on devices (GPUs, or MIG instances): explicit `gpu:` / `mig_instance:`
// first, then the rest heaviest first (by tenant_loads), each on the device where it fits
// (policy's tenant limit per device, the device's memory) whose load per SM after adding it
// is least (on GPUs of equal SMs: the least-loaded GPU); ties go to the device with fewer
// tenants, then the lower index, so equal tenants are dealt round-robin. Throws InputError
// naming the tenant when the policy's rule or the memory does not allow it.
Placement place_tenants(const Experiment& x, const Registries& reg);
Placement place_tenants(const Experiment& x, const Registries& reg,
                        const std::vector<double>& tenant_load);

// What the engine (or the validation replayer) knows of a tenant placed on `gpu`: its
// SLO and its latency and utilization tables up to max_batch, in checked nanoseconds.
TenantInfo tenant_info(const TenantSpec& ts, std::uint32_t gpu, int max_batch);

RunResult simulate(const Experiment& x, const Registries& reg, std::uint64_t run_index,
                   int replication, RequestSink* sink = nullptr);

// Tenant t of x alone on one GPU, as output.isolation runs it: its own service and entry
// (so its arrival stream keeps its name and random numbers), placed automatically, on MIG
// instance `mig_instance` of a partitioned GPU when that is >= 0.
Experiment tenant_alone(const Experiment& x, std::uint32_t t, int mig_instance);

// What one run leaves behind to be summarized into a RunResult: the simulator's engine
// fills it, and so does `infersim measure` from a replay on real hardware, so simulated and
// measured result sets are computed alike.
struct RunTally {
  std::vector<const TenantCounters*> counters;  // per tenant
  std::vector<double> solo_ms;                  // per tenant: L(1), for the slowdown
  std::vector<double> gflop;                    // per tenant: per inference, 0 = unknown
  std::vector<double> busy_ns, load_ns;         // per GPU, within [warmup, end]
  SimTime warmup = 0;
  SimTime end = 0;  // the last completion or drop
  std::uint64_t events = 0;
};

// Fills every RunResult field but run, replication, seed, policy, p99_alone_ms,
// worst_isolation and wall_s.
RunResult summarize_run(const Experiment& x, const Placement& placed, const RunTally& tally);

}  // namespace infersim
