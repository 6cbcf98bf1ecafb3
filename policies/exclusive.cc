// exclusive: one tenant owns a whole GPU and runs one batch at a time; a batch of b
// requests takes L(b). The baseline every sharing mode is compared with.
#include <vector>

#include "policies/batching.h"
#include "policies/builtin.h"
#include "sim/core/engine.h"

namespace infersim {
namespace {

class Exclusive final : public Policy {
 public:
  explicit Exclusive(const PolicySetup& s)
      : e_(s.engine), gpu_(s.gpu), rule_(BatchRule::from(s.params)) {
    if (s.tenants.size() == 1) tenant_ = s.tenants[0];
    has_tenant_ = s.tenants.size() == 1;
    batch_.reserve(rule_.max_batch);
  }

  void on_dispatch() override {
    if (running_ || !has_tenant_) return;
    rule_.drop_hopeless(e_, gpu_, tenant_);
    auto& q = e_.queue(tenant_);
    if (q.empty()) return;
    SimTime ready = rule_.ready_at(e_, tenant_);
    if (ready > e_.now()) {
      if (timer_.arm(ready))
        e_.schedule(ready, Priority::kTimer, gpu_, timer_.generation() << 1 | 1);
      return;
    }
    timer_.cancel();
    const std::size_t n = rule_.take(e_, tenant_, batch_);
    start_ = e_.now();
    running_ = true;
    e_.set_gpu_share(gpu_, e_.utilization(tenant_, n));
    e_.schedule(start_ + e_.latency_ns(tenant_, n), Priority::kCompletion, gpu_, 0);
  }

  void on_event(std::uint64_t payload) override {
    if (payload & 1) {  // batch timeout
      if (timer_.fire(payload >> 1)) e_.request_dispatch(gpu_);
      return;
    }
    e_.complete_batch(batch_, gpu_, start_);
    batch_.clear();
    running_ = false;
    e_.set_gpu_share(gpu_, 0);
    e_.request_dispatch(gpu_);
  }

 private:
  Engine& e_;
  std::uint32_t gpu_;
  BatchRule rule_;
  std::uint32_t tenant_ = 0;
  bool has_tenant_ = false;
  bool running_ = false;
  SimTime start_ = 0;
  std::vector<Request> batch_;
  Timer timer_;
};

}  // namespace

void register_exclusive(PolicyRegistry& r) {
  r.add({"exclusive", "one tenant per GPU, one batch at a time; a batch of b takes L(b)",
         common_policy_params(), ProcessModel::kOneProcess,
         [](const Params& p) { return common_needs(p, 1); },
         [](const PolicySetup& s) { return std::make_unique<Exclusive>(s); }});
}

}  // namespace infersim
