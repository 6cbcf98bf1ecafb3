// The interface every GPU-sharing policy implements, and the registry that names them.
//
// One Policy instance drives one GPU and the tenants placed on it. The engine calls three
// hooks; a policy acts only through the Engine (take requests from tenant queues, schedule
// its own events, report completions and drops, report how busy the GPU is).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/core/request.h"

namespace infersim {

class Engine;
struct GpuSpec;

class Policy {
 public:
  virtual ~Policy() = default;
  // Request r joined its tenant's queue (already pushed by the engine). Returns whether the
  // engine must ask for a dispatch at this instant (after all arrivals and completions at
  // it). A policy may return false only when that dispatch would change nothing: it would
  // start no work, drop nothing and set the same timers (e.g. space_time when the arriving
  // tenant's super-kernel slot is busy). The default always asks. r comes by value, in two
  // registers: passed by reference, the engine would build it on the stack field by field
  // and copy it into the queue 16 bytes at a time, a load that waits for those stores to
  // retire (`perf annotate` of `infersim_bench trace`).
  virtual bool on_arrival(Request /*r*/) { return true; }
  // Decide what to run now. Called once per instant at most, after events of that instant.
  virtual void on_dispatch() = 0;
  // An event this policy scheduled through Engine::schedule fired.
  virtual void on_event(std::uint64_t payload) = 0;
};

// What a policy is built with.
struct PolicySetup {
  Engine& engine;
  std::uint32_t gpu;
  std::vector<std::uint32_t> tenants;  // tenants placed on this GPU
  const Params& params;
  const GpuSpec& spec;
};

// How a policy maps tenants to GPU processes, which the memory check and placement use.
enum class ProcessModel {
  kOneProcess,        // all tenants on the GPU share one process/context
  kProcessPerTenant,  // each tenant has its own process (own context memory)
};

// What placement, the memory check and the latency tables need to know of a policy under
// its settings; the policy answers, so generic code reads no policy's keys by name.
struct PolicyNeeds {
  int max_tenants_per_gpu = 0;  // 0: unlimited
  double context_mib = 0;       // GPU memory each process holds for its context, MiB
  int max_batch = 1;            // largest batch it forms (sizes L(b) tables, activations)
  // It times each batch as its sequence of kernels (`granularity: kernel`): every tenant
  // then needs a kernel graph, and TenantInfo::kernels is filled.
  bool kernels = false;
  // It honours a tenant's SM cap (`active_thread_percentage`, an MPS client's
  // CUDA_MPS_ACTIVE_THREAD_PERCENTAGE): the tenant's kernels are timed on, and occupy at most,
  // that share of the device's SMs. Needs `kernels`.
  bool sm_caps = false;
};

// One isolated instance a partitioning policy (mig) cuts a GPU into: a device of its own,
// with its own SMs, memory and memory bandwidth, on which the policy runs an inner policy.
struct GpuInstance {
  std::string profile;            // e.g. "3g.40gb"
  int start = 0;                  // first memory slice it occupies
  int sms = 0;                    // SMs it has
  double memory_gib = 0;          // memory it has
  double bandwidth_fraction = 1;  // its share of the GPU's memory bandwidth (and L2)
};

struct PolicyInfo {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
  ProcessModel processes = ProcessModel::kOneProcess;
  std::function<PolicyNeeds(const Params&)> needs;
  std::function<std::unique_ptr<Policy>(const PolicySetup&)> create;
  // Partitioning policies only (mig): the instances each GPU is cut into under these
  // settings, in order. Every instance is then a device of its own: tenants are placed on
  // instances, each instance's memory is checked on its own, its tenants' kernels are timed
  // on its SMs and bandwidth, and `create` builds the policy of one instance, with
  // PolicySetup::spec describing the instance. Throws InputError at the settings' marks (or
  // `where`) for a layout the GPU does not allow. Empty: each GPU is one device.
  std::function<std::vector<GpuInstance>(const Params&, const GpuSpec&, const struct Mark& where)>
      partition = {};
};

class PolicyRegistry {
 public:
  void add(PolicyInfo info);  // throws std::logic_error on a duplicate name
  // Throws InputError at `where` listing the valid names when unknown.
  const PolicyInfo& get(const std::string& name, const struct Mark& where) const;
  const std::vector<PolicyInfo>& all() const { return entries_; }

 private:
  std::vector<PolicyInfo> entries_;
};

}  // namespace infersim
