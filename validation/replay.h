// Replaying an experiment's requests on a real device, on the wall clock (`infersim measure`).
//
// The trace is the one `infersim run` simulates: each tenant's arrival process draws from
// the same seeded stream ("arrival/<tenant>" of the run's seed, run_stream), so request i of
// a tenant arrives at the same instant in both. A request's latency runs from that instant
// (not from when the dispatcher noticed it) to the completion of its batch on the device.
//
// The policies run for real, with the simulator's batching and SLO rules (BatchRule of
// policies/batching.h, through the BatchHost interface this replayer implements):
//   exclusive    one tenant, one lane; one batch at a time, all its kernels queued at once.
//   mps          one lane per tenant (a CUDA stream; a submission queue of the CPU pool),
//                each with at most one batch in flight; the device runs the lanes
//                concurrently.
//   time_sliced  one lane per tenant (its context) and a software scheduler that lets one
//                context run at a time: it queues the running context's kernels two ahead
//                and, once the context's quantum (quantum_ms) has run out and another
//                context is ready, queues no more; when the queued kernels are done it
//                switches to the next ready context, round-robin (seed 003's "software
//                scheduler to interleave execution"). A batch is preempted at a kernel
//                boundary and resumes in the context's next slice.
//   space_time   tenants with the same model form a group with one lane; a group's queued
//                requests merge earliest-deadline-first (BatchRule::take_group) into one
//                super-kernel: each layer is one batched launch over every tenant in it,
//                each with its own weights and inputs. Groups run concurrently.
// Model constants of the policies (interference, straggler_spread, switch_us) describe the
// hardware and are not replayed; the hardware has its own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/batching.h"
#include "sim/core/arrival.h"
#include "sim/core/engine.h"
#include "sim/stats/histogram.h"
#include "validation/device.h"

namespace infersim::validation {

struct ReplayTenant {
  TenantInfo info;  // name, model, SLO, L(b) from the profile (drop_late uses L(1))
  const ModelProgram* program = nullptr;
  std::unique_ptr<ArrivalProcess> arrival;
};

struct ReplaySpec {
  std::string policy;  // exclusive | time_sliced | mps | space_time
  BatchRule rule;
  SimTime quantum = 0;     // time_sliced only
  std::uint64_t seed = 0;  // the run's seed (replication_seed): names its arrival streams
  SimTime duration = 0;    // arrivals stop here; in-flight work drains
  SimTime warmup = 0;      // requests arriving earlier are not measured
};

struct ReplayResult {
  std::vector<TenantCounters> counters;  // per tenant, measured requests only
  SimTime end = 0;                       // last completion or drop, on the replay clock
  double busy_ns = 0;  // time in [warmup, end] with a batch on the device (launch to marker)
  // Dispatch overhead: how late the dispatcher acted on an arrival (after its trace time)
  // and on a completion (after the device stamped it).
  Histogram arrival_lag_ns;
  Histogram completion_lag_ns;
  double arrival_lag_mean_ns = 0;
  double completion_lag_mean_ns = 0;
  std::uint64_t batches = 0;  // batches (super-kernels) launched
  std::uint64_t kernels = 0;  // kernel launches
};

// The policies replay() can execute.
const std::vector<std::string>& replay_policies();

// Runs the trace on `device` (its tenants' operands already allocated with add_tenant, by
// tenant index) until every request has completed or been dropped. `sink`, if given, gets
// every request's outcome in completion order (gpu 0). Times are on the replay clock: 0 is
// the device's now() when replay starts.
ReplayResult replay(Device& device, const ReplaySpec& spec, std::vector<ReplayTenant>& tenants,
                    RequestSink* sink = nullptr);

}  // namespace infersim::validation
