// round_robin, random, least_outstanding, power_of_two and model_affinity.
//
// "Outstanding" is a replica's requests that arrived and have not completed or been dropped
// (queued, waiting for its model to load, or running): what a load balancer that counts
// open requests per backend sees. Ties go to the lowest replica index, so a schedule can be
// computed by hand. Each router that draws random numbers has its own stream,
// "router/<service>", so routing never shifts the arrival streams; it is a SmallRng
// (xoshiro256**, 32 bytes), as there is one per service.
#include <memory>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "policies/routers/builtin.h"
#include "sim/core/engine.h"

namespace infersim {
namespace {

// Replicas in turn: request k goes to replica k mod N.
class RoundRobin final : public Router {
 public:
  explicit RoundRobin(const RouterSetup& s) : n_(static_cast<std::uint32_t>(s.replicas.size())) {}
  std::uint32_t pick() override {
    const std::uint32_t r = next_;
    next_ = next_ + 1 == n_ ? 0 : next_ + 1;
    return r;
  }

 private:
  std::uint32_t n_;
  std::uint32_t next_ = 0;
};

// A replica uniformly at random.
class RandomRouter final : public Router {
 public:
  explicit RandomRouter(const RouterSetup& s)
      : rng_(s.engine.make_small_rng("router/" + s.service)),
        n_(static_cast<double>(s.replicas.size())) {}
  std::uint32_t pick() override { return static_cast<std::uint32_t>(rng_.uniform() * n_); }

 private:
  SmallRng rng_;
  double n_;
};

// The replica with the fewest outstanding requests (join the shortest queue); O(replicas).
class LeastOutstanding final : public Router {
 public:
  explicit LeastOutstanding(const RouterSetup& s) : e_(s.engine), replicas_(s.replicas) {}
  std::uint32_t pick() override {
    std::uint32_t best = 0;
    std::uint32_t fewest = e_.outstanding(replicas_[0]);
    for (std::uint32_t i = 1; i < replicas_.size() && fewest > 0; ++i) {
      const std::uint32_t n = e_.outstanding(replicas_[i]);
      if (n < fewest) {
        fewest = n;
        best = i;
      }
    }
    return best;
  }

 private:
  const Engine& e_;
  std::span<const std::uint32_t> replicas_;  // the engine's list
};

// The power of two choices (Mitzenmacher): two distinct replicas drawn at random, the one
// with fewer outstanding requests (the first drawn on a tie). O(1) per request.
// One cache line holds what pick() reads of the router (the vtable pointer, the generator,
// the engine and the replica list's bounds): a cluster of 2,000 services visits each
// router once per 2,000 requests, so each line read is a miss.
class alignas(64) PowerOfTwo final : public Router {
 public:
  explicit PowerOfTwo(const RouterSetup& s)
      : rng_(s.engine.make_small_rng("router/" + s.service)), e_(s.engine), replicas_(s.replicas) {}
  std::uint32_t pick() override {
    if (replicas_.size() == 1) return 0;
    const auto [a, b] = draw(rng_);
    return e_.outstanding(replicas_[b]) < e_.outstanding(replicas_[a]) ? b : a;
  }
  // The two replicas the next pick() draws, from a copy of the generator.
  void prefetch() const override {
    if (replicas_.size() == 1) return;
    SmallRng copy = rng_;
    const auto [a, b] = draw(copy);
    e_.prefetch_tenant(replicas_[a]);
    e_.prefetch_tenant(replicas_[b]);
  }

 private:
  // Two distinct replica indices: the first uniform, the second uniform over the others.
  std::pair<std::uint32_t, std::uint32_t> draw(SmallRng& rng) const {
    const auto n = static_cast<std::uint32_t>(replicas_.size());
    const auto a = static_cast<std::uint32_t>(rng.uniform() * n);
    auto b = static_cast<std::uint32_t>(rng.uniform() * (n - 1));
    if (b >= a) ++b;
    return {a, b};
  }

  SmallRng rng_;
  const Engine& e_;
  std::span<const std::uint32_t> replicas_;  // the engine's list
};

// Model affinity (as Clockwork's scheduler prefers a worker with the model loaded): among
// the replicas whose GPU has the weights (resident, loading or queued to load), the one with
// the fewest outstanding requests. When none has them (a cold start), the replica whose GPU
// can take the weights without evicting another model, then whose GPU has the fewest
// requests outstanding, then the fewest on the replica itself; its GPU then loads them.
// (Ties went to the lowest index before, which sent every service's cold starts to its
// first replica's GPU: in azure_cluster only 8 of 16 GPUs ever loaded, and two models
// that fit one GPU each could thrash on one while the other idled.) Ties to the lowest
// index. Without on-demand loading every replica has its weights and this is
// least_outstanding. O(replicas).
class ModelAffinity final : public Router {
 public:
  explicit ModelAffinity(const RouterSetup& s) : e_(s.engine), replicas_(s.replicas) {}
  std::uint32_t pick() override {
    std::uint32_t warm = UINT32_MAX, fewest_warm = UINT32_MAX;
    for (std::uint32_t i = 0; i < replicas_.size(); ++i) {
      const std::uint32_t t = replicas_[i];
      const std::uint32_t n = e_.outstanding(t);
      if (n < fewest_warm && e_.has_weights(t)) {
        fewest_warm = n;
        warm = i;
      }
    }
    if (warm != UINT32_MAX) return warm;
    std::uint32_t cold = 0;
    std::tuple<bool, std::uint32_t, std::uint32_t> best{true, UINT32_MAX, UINT32_MAX};
    for (std::uint32_t i = 0; i < replicas_.size(); ++i) {
      const std::uint32_t t = replicas_[i];
      const std::tuple<bool, std::uint32_t, std::uint32_t> key{
          !e_.weights_fit(t), e_.gpu_outstanding(t), e_.outstanding(t)};
      if (key < best) {
        best = key;
        cold = i;
      }
    }
    return cold;
  }

 private:
  const Engine& e_;
  std::span<const std::uint32_t> replicas_;  // the engine's list
};

}  // namespace

void register_builtin_routers(RouterRegistry& r) {
  r.add({"round_robin", "replicas in turn", {}, [](const RouterSetup& s) {
           return std::make_unique<RoundRobin>(s);
         }});
  r.add(
      {"random", "a replica uniformly at random (own seeded stream)", {}, [](const RouterSetup& s) {
         return std::make_unique<RandomRouter>(s);
       }});
  r.add({"least_outstanding",
         "the replica with the fewest requests outstanding (queued, loading or running); ties "
         "to the lowest index",
         {},
         [](const RouterSetup& s) { return std::make_unique<LeastOutstanding>(s); }});
  r.add({"power_of_two",
         "two distinct replicas at random, the one with fewer requests outstanding "
         "(Mitzenmacher's power of two choices)",
         {},
         [](const RouterSetup& s) { return std::make_unique<PowerOfTwo>(s); }});
  r.add({"model_affinity",
         "prefer replicas whose GPU has the model's weights (resident or loading), fewest "
         "outstanding first; else (a cold start) a replica whose GPU fits the weights without "
         "evicting, then the GPU with the fewest outstanding, then the replica's fewest",
         {},
         [](const RouterSetup& s) { return std::make_unique<ModelAffinity>(s); }});
}

}  // namespace infersim
