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
//   - no straggler noise: seed 003 attributes stragglers to separate processes under MPS
//     (each process consistently fast or slow); here there is one process, and a
//     super-kernel serves several tenants, so a per-process slowdown has nothing to attach
//     to.
//   - no straggler eviction: the seed proposes evicting degraded workers (stream
//     scheduling anomalies) by monitoring per-kernel latency; with no straggler noise in
//     this model there is nothing to detect or evict.
#include <algorithm>
#include <vector>

#include "policies/batching.h"
#include "policies/builtin.h"
#include "policies/shared_gpu.h"
#include "sim/core/engine.h"

namespace infersim {
namespace {

class SpaceTime final : public SharedGpuPolicy {
 public:
  explicit SpaceTime(const PolicySetup& s)
      : SpaceTime(s, make_groups(s)) {}

  void on_dispatch() override {
    const SimTime now = e_.now();
    SimTime wake = kTimeMax;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      if (shared_.busy(g)) continue;
      const auto& members = groups_[g];
      std::size_t queued = 0;
      SimTime oldest = kTimeMax;
      for (std::uint32_t t : members) {
        rule_.drop_hopeless(e_, gpu_, t);
        const auto& q = e_.queue(t);
        if (q.empty()) continue;
        queued += q.size();
        oldest = std::min(oldest, e_.request(q.front()).arrival);
      }
      if (queued == 0) continue;
      const std::size_t max_b = static_cast<std::size_t>(rule_.max_batch);
      if (rule_.timeout > 0 && queued < max_b && oldest + rule_.timeout > now) {
        wake = std::min(wake, oldest + rule_.timeout);
        continue;
      }
      const std::size_t n = std::min(queued, max_b);
      auto& batch = batches_[g];
      batch.clear();
      // EDF merge of the members' queues. Within one tenant the queue is in arrival order
      // and the SLO is fixed, so deadlines ascend along it: the front is its earliest.
      for (std::size_t j = 0; j < n; ++j) {
        std::uint32_t best = 0;
        bool have = false;
        SimTime best_deadline = 0, best_arrival = 0;
        for (std::uint32_t t : members) {  // ascending tenant index
          const auto& q = e_.queue(t);
          if (q.empty()) continue;
          const Request& r = e_.request(q.front());
          if (!have || r.deadline < best_deadline ||
              (r.deadline == best_deadline && r.arrival < best_arrival)) {
            have = true;
            best = t;
            best_deadline = r.deadline;
            best_arrival = r.arrival;
          }
        }
        batch.push_back(e_.queue(best).pop_front());
      }
      start_batch(g, e_.tenant(members.front()));  // a group shares one latency table
    }
    end_dispatch(wake);
  }

 private:
  SpaceTime(const PolicySetup& s, std::vector<std::vector<std::uint32_t>> groups)
      : SharedGpuPolicy(s, groups.size()), groups_(std::move(groups)) {}

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

  std::vector<std::vector<std::uint32_t>> groups_;  // slot g runs group g's super-kernels
};

}  // namespace

void register_space_time(PolicyRegistry& r) {
  std::vector<ParamSpec> params = common_policy_params();
  params.push_back(
      {"interference", ParamKind::kNumber, 0.094,
       "extra slowdown per additional concurrently running super-kernel (different "
       "architectures on one GPU): 1/(1 + interference*(k-1)) with k running; as mps (fit to "
       "seed 003 Table 1); never applies with a single architecture",
       0, 100});
  r.add({"space_time",
         "one process; same-architecture tenants' queued requests merge into one super-kernel "
         "of up to max_batch, earliest deadline first; super-kernels of different "
         "architectures share the GPU as in mps (without per-process stragglers)",
         std::move(params), ProcessModel::kOneProcess, 0,
         [](const PolicySetup& s) { return std::make_unique<SpaceTime>(s); }});
}

}  // namespace infersim
