// space_time: dynamic space-time scheduling (seed 003, section 4). All tenants on the GPU
// live in one process. Tenants with the same model architecture (TenantInfo::model) form a
// group; a group runs at most one super-kernel at a time: when its slot is free it takes
// up to max_batch queued requests across its tenants, earliest deadline first (ties by
// arrival, then tenant index), and runs them as one batch of total size B, which takes
// L(B) of solo time at solo utilization u(B) (the tenants of a group share one latency
// table: same architecture, different weights -- the cublasSgemmBatched super-kernel of
// the seed). Super-kernels of different groups run concurrently in the processor-sharing
// model of shared_gpu.h.
//
// granularity: kernel: the super-kernel is the group's kernel sequence with each layer of the
// tenants riding in it merged into one batched kernel whose thread blocks are the sum of the
// parts' (cublasSgemmBatched for equal batch sizes, a vbatched GEMM otherwise; distinct
// tenants have distinct weights, so this is not one tenant's batch of B), timed by the
// kernel model (sim/kernels/program.h merge_batches). Super-kernels of different groups
// share the GPU's SMs as in mps (kernel_gpu.h); interference is 0 unless given.
//
// Batching rules apply per group: batch_timeout_ms waits until the oldest request across
// the group has waited that long (or max_batch requests are queued); drop_late drops the
// group's tenants' requests that would miss their deadline even in a batch of 1 started
// now.
//
// Model choices:
//   - interference (default 0.094, as mps): super-kernels of different architectures are
//     still separate kernels on separate CUDA streams, multiplexed by the same hardware
//     scheduler, so the per-extra-kernel penalty fitted for mps applies between them. It
//     counts super-kernels, not tenants: with one architecture on a GPU at most one kernel
//     runs and it never applies -- that reduction is the point of the super-kernel.
//   - stream stragglers, off by default (straggler_spread 0): seed 003's MPS stragglers
//     are separate processes, and here there is one. It does report CUDA stream
//     scheduling anomalies that make a few streams stragglers; straggler_spread > 0 gives
//     each group's stream a persistent slowdown uniform in [1, 1 + spread], drawn from its
//     own seeded stream and applied while it shares the GPU (as in mps).
//   - straggler eviction (evict_stragglers, off by default), as the seed proposes: the
//     per-kernel latency monitor (assumed exact) sees a super-kernel that ran slowed
//     (while sharing) finish on a stream slower than evict_threshold; that worker is evicted and
//     restarted on a new stream, so the group runs nothing for evict_ms and then gets a freshly
//     drawn slowdown.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "policies/batching.h"
#include "policies/builtin.h"
#include "policies/shared_gpu.h"
#include "sim/core/engine.h"

namespace infersim {
namespace {

class SpaceTime final : public SharedGpuPolicy {
 public:
  explicit SpaceTime(const PolicySetup& s) : SpaceTime(s, make_groups(s)) {}

  // Keeps each group's list of members with queued requests, so a dispatch looks only at
  // those (with 10 tenants on a GPU and light load, usually one) instead of every member.
  // Asks for a dispatch only when the tenant's group may start a super-kernel: while the
  // group's slot is busy a dispatch would start nothing and drop nothing (batch formation,
  // drop_late included, looks only at groups with a free slot), and every other group's
  // state, hence the batch-timeout timer, is as the last dispatch left it.
  bool on_arrival(Request r) override {
    const std::uint32_t t = r.tenant;
    const std::uint32_t g = groups_.size() == 1 ? 0 : group_of_[local(t)];
    if (e_.queue(t).size() == 1) {  // not yet listed
      auto& active = groups_[g].active;
      if (active.empty()) {  // the usual case at light load
        active.push_back(t);
      } else {
        const auto pos = std::lower_bound(active.begin(), active.end(), t);
        // (It may still be listed with an empty queue: drops before a batch timeout.)
        if (pos == active.end() || *pos != t) active.insert(pos, t);
      }
    }
    return !slot_busy(g);
  }

  void on_dispatch() override {
    const SimTime now = e_.now();
    SimTime wake = kTimeMax;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      if (slot_busy(g)) continue;
      Group& group = groups_[g];
      if (now < group.restart_at) {  // its worker is being restarted after an eviction
        wake = std::min(wake, group.restart_at);
        continue;
      }
      auto& active = group.active;  // members with queued requests, ascending
      if (active.empty()) continue;
      // Batching rules and the EDF merge: BatchRule::take_group (shared with the replayer
      // of `infersim measure`), over the members with queued requests: the others take no
      // part in it (nothing to drop, nothing to merge).
      const SimTime at =
          rule_.take_group(e_, gpu_, std::span<const std::uint32_t>(active.data(), active.size()),
                           batches_[g].requests);
      if (active.size() == 1) {  // the usual case: what the remove_if below does, without its loop
        if (e_.queue(active.front()).empty()) active.clear();
      } else {
        active.erase(std::remove_if(active.begin(), active.end(),
                                    [&](std::uint32_t t) { return e_.queue(t).empty(); }),
                     active.end());
      }
      if (at > now) {
        wake = std::min(wake, at);
        continue;
      }
      if (kernel_level()) {
        // The super-kernel's load is u(B) of the group's table, as at batch granularity.
        start_kernels(g, merged(g), e_.utilization(group.first, batches_[g].requests.size()));
      } else {
        start_batch(g, group.first);  // a group shares one latency table
      }
    }
    end_dispatch(wake);
  }

 private:
  // Tenant t's index in tenants_ (t is on this GPU).
  std::size_t local(std::uint32_t t) const {
    if (ranked_) return e_.gpu_rank(t);  // the usual case: this policy has the whole GPU
    return static_cast<std::size_t>(std::lower_bound(tenants_.begin(), tenants_.end(), t) -
                                    tenants_.begin());
  }

  SpaceTime(const PolicySetup& s, std::vector<std::vector<std::uint32_t>> groups)
      : SharedGpuPolicy(s, groups.size()),
        groups_(groups.size()),
        spread_(effect(s.params, "straggler_spread")),
        evict_(s.params.get_bool("evict_stragglers")),
        evict_threshold_(s.params.get("evict_threshold")),
        evict_ns_(s.params.get_ns("evict_ms")),
        merged_(groups.size()) {
    for (std::size_t g = 0; g < groups.size(); ++g) {
      groups_[g].members = std::move(groups[g]);
      groups_[g].first = groups_[g].members.front();
    }
    parts_.reserve(static_cast<std::size_t>(rule_.max_batch));
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      for (std::uint32_t t : groups_[g].members) tenants_.push_back(t);
    }
    std::sort(tenants_.begin(), tenants_.end());
    // Whether tenants_[i] is the GPU's i-th tenant: not inside a MIG instance, which has
    // some of the GPU's tenants (local() searches then).
    ranked_ = true;
    for (std::size_t i = 0; i < tenants_.size(); ++i)
      ranked_ = ranked_ && e_.gpu_rank(tenants_[i]) == i;
    group_of_.resize(tenants_.size());
    part_of_.assign(tenants_.size(), 0);
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      for (std::uint32_t t : groups_[g].members) {
        const auto it = std::lower_bound(tenants_.begin(), tenants_.end(), t);
        group_of_[static_cast<std::size_t>(it - tenants_.begin())] = static_cast<std::uint32_t>(g);
      }
    }
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      stream_rngs_.push_back(e_.make_rng(
          fmt::format("gpu{}/space_time/{}", gpu_, e_.tenant(groups_[g].members.front()).model)));
      draw_slowdown(g);
    }
  }

  // Kernel granularity: the kernels of group g's super-kernel in batches_[g].requests,
  // layer by layer one batched kernel over the tenants riding in it
  // (kernels::merge_batches), cached by the multiset of their batch sizes: after the first
  // super-kernel of each composition no allocation.
  const kernels::BatchKernels& merged(std::size_t g) {
    for (const Request& r : batches_[g].requests) ++part_of_[local(r.tenant)];
    parts_.clear();
    for (std::uint32_t t : groups_[g].members) {
      int& part = part_of_[local(t)];
      if (part > 0) parts_.push_back(part);
      part = 0;
    }
    std::sort(parts_.begin(), parts_.end());
    auto& cache = merged_[g];
    auto it = cache.find(parts_);
    if (it == cache.end()) {
      const kernels::KernelProgram& p = *e_.tenant(groups_[g].members.front()).kernels;
      it = cache.emplace(parts_, kernels::merge_batches(p, parts_)).first;
    }
    return it->second;
  }

  void draw_slowdown(std::size_t g) {
    if (spread_ > 0) set_slowdown(g, 1.0 + spread_ * stream_rngs_[g].uniform());
  }

  void on_batch_done(std::size_t g) override {
    // The monitor sees a slow stream only when its slowdown applied (while sharing).
    if (!evict_ || !was_slowed(g) || slowdown(g) <= evict_threshold_) return;
    groups_[g].restart_at = e_.now() + evict_ns_;
    draw_slowdown(g);
  }

  // Groups of tenants by model, in order of each model's first tenant; members ascend.
  static std::vector<std::vector<std::uint32_t>> make_groups(const PolicySetup& s) {
    std::vector<std::uint32_t> sorted = s.tenants;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::vector<std::uint32_t>> groups;
    for (std::uint32_t t : sorted) {
      const std::string& model = s.engine.tenant(t).model;
      auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
        return s.engine.tenant(g.front()).model == model;
      });
      if (it == groups.end()) {
        groups.push_back({t});
      } else {
        it->push_back(t);
      }
    }
    return groups;
  }

  // Slot g runs group g's super-kernels. What a dispatch reads of a group sits together.
  struct Group {
    boost::container::small_vector<std::uint32_t, 8> active;  // members with queued requests,
                                                              // ascending
    SimTime restart_at = 0;              // when its restarted worker may run again
    std::uint32_t first = 0;             // members.front(), without a line of its own
    std::vector<std::uint32_t> members;  // ascending
  };
  boost::container::small_vector<Group, 1> groups_;
  double spread_;
  bool evict_;
  double evict_threshold_;
  SimTime evict_ns_;
  std::vector<Rng> stream_rngs_;         // per group: draws its stream's slowdowns
  std::vector<std::uint32_t> tenants_;   // the GPU's tenants, ascending
  bool ranked_ = false;                  // tenants_[i] is the GPU's i-th tenant (gpu_rank)
  std::vector<std::uint32_t> group_of_;  // per entry of tenants_
  // Kernel granularity: per group, merged super-kernels by their parts' batch sizes (sorted).
  std::vector<std::map<std::vector<int>, kernels::BatchKernels>> merged_;
  std::vector<int> part_of_;  // scratch, per entry of tenants_: its requests in the super-kernel
  std::vector<int> parts_;    // scratch: the parts' batch sizes
};

}  // namespace

void register_space_time(PolicyRegistry& r) {
  std::vector<ParamSpec> params = common_policy_params();
  for (ParamSpec& spec : kernel_sharing_params()) params.push_back(std::move(spec));
  params.push_back(
      {"interference", ParamKind::kNumber, 0.094,
       "extra slowdown per additional concurrently running super-kernel (different "
       "architectures on one GPU): 1/(1 + interference*(k-1)) with k running; as mps (fit to "
       "seed 003 Table 1); never applies with a single architecture. At granularity kernel "
       "the default is 0",
       0, 100});
  params.push_back(
      {"straggler_spread", ParamKind::kNumber, 0,
       "each architecture's CUDA stream draws a persistent slowdown uniform in [1, 1+spread], "
       "applied while it shares the GPU; seed 003 reports stream scheduling anomalies that make "
       "a few streams stragglers. 0: none (one process has no MPS client stragglers)",
       0, 100});
  params.push_back(
      {"evict_stragglers", ParamKind::kBool, 0,
       "evict a worker whose super-kernel finished on a stream slower than evict_threshold and "
       "restart it on a new stream (a fresh slowdown draw), as seed 003 proposes",
       0, 1});
  params.push_back({"evict_threshold",
                    ParamKind::kNumber,
                    1.1,
                    "stream slowdown above which a worker is evicted (1.1: 10% slower)",
                    1,
                    100,
                    false,
                    {},
                    {},
                    "evict_stragglers",
                    {"true"}});
  params.push_back({"evict_ms",
                    ParamKind::kMilliseconds,
                    5,
                    "time an evicted worker's architecture runs nothing while it restarts, ms (an "
                    "assumption: a new thread and stream, and a warm-up kernel)",
                    0,
                    std::numeric_limits<double>::infinity(),
                    false,
                    {},
                    {},
                    "evict_stragglers",
                    {"true"}});
  r.add({"space_time",
         "one process; same-architecture tenants' queued requests merge into one super-kernel "
         "of up to max_batch, earliest deadline first; super-kernels of different "
         "architectures share the GPU as in mps (without per-process stragglers)",
         std::move(params), ProcessModel::kOneProcess,
         [](const Params& p) { return common_needs(p, 0); },
         [](const PolicySetup& s) { return std::make_unique<SpaceTime>(s); }});
}

}  // namespace infersim
