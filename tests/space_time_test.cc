// The space_time policy: super-kernels merged across same-architecture tenants, EDF.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "policies/batching.h"
#include "sim/core/rng.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using testing::experiment_from;
using testing::v100_header;

// A closed loop issues n requests at t = 0; the 1 us duration stops replacements.
std::string at_zero(const std::string& model, int n, const std::string& extra = "") {
  return "  - {model: " + model + extra + ", arrival: {process: closed, n: " + std::to_string(n) +
         "}}\n";
}

std::vector<RequestOutcome> outcomes(const std::string& yaml) {
  testing::CollectingSink sink;
  testing::run(experiment_from(yaml), &sink);
  return sink.outcomes;
}

// A BatchHost of one tenant whose queue the test fills: take_group's inline case (one
// member, no timeout, no drop_late) must take what its general path takes. drop_late with
// deadlines that nothing misses sends the same call down the general path.
struct OneQueueHost {
  SimTime now() const { return 1000; }
  RingQueue<Request>& queue(std::uint32_t) { return q; }
  SimTime slo_ns(std::uint32_t) const { return info.slo_ns; }
  SimTime latency_ns(std::uint32_t, std::size_t b) const { return info.latency_ns[b]; }
  void drop(const Request&, std::uint32_t) { ++dropped; }
  RingQueue<Request> q;
  TenantInfo info;
  int dropped = 0;
};

TEST(SpaceTime, OneGreedyMemberTakesWhatTheGeneralMergeTakes) {
  for (int max_batch : {1, 4, 16}) {
    for (int queued = 0; queued <= 40; ++queued) {
      OneQueueHost inline_host, general_host;
      for (OneQueueHost* h : {&inline_host, &general_host}) {
        h->info.latency_ns = {0, 10};
        h->info.slo_ns = 1'000'000;  // request i's deadline 1'000'000 + i: far
        for (int i = 0; i < queued; ++i) {
          h->q.push_back(Request{i, 0});  // arrival i
        }
      }
      const std::vector<std::uint32_t> members = {0};
      std::vector<Request> a, b;
      const SimTime at_a = BatchRule{max_batch, 0, false}.take_group(inline_host, 0, members, a);
      const SimTime at_b = BatchRule{max_batch, 0, true}.take_group(general_host, 0, members, b);
      EXPECT_EQ(at_a, at_b) << max_batch << " " << queued;
      EXPECT_EQ(at_a, queued == 0 ? kTimeMax : 1000);
      ASSERT_EQ(a.size(), static_cast<std::size_t>(std::min(queued, max_batch)));
      ASSERT_EQ(b.size(), a.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].arrival, static_cast<SimTime>(i));  // oldest first
        EXPECT_EQ(b[i].arrival, static_cast<SimTime>(i));
      }
      EXPECT_EQ(inline_host.q.size(), general_host.q.size());
      EXPECT_EQ(general_host.dropped, 0);
    }
  }
}

TEST(SpaceTime, SameModelTenantsMergeIntoOneSuperKernel) {
  // Three resnet50_v1 tenants, one request each at t = 0: one super-kernel of B = 3,
  // L(3) = (L(2) + L(4)) / 2 = (3.78 + 5.61) / 2 = 4.695 ms.
  auto out =
      outcomes(v100_header(1e-6) + "policy: {name: space_time}\ntenants:\n" +
               at_zero("resnet50_v1", 1) + at_zero("resnet50_v1", 1) + at_zero("resnet50_v1", 1));
  ASSERT_EQ(out.size(), 3u);
  for (const auto& o : out) {
    EXPECT_EQ(o.start, 0);
    EXPECT_EQ(o.end, 4'695'000);
    EXPECT_EQ(o.batch, 3);
  }
}

// (tenant, end) of each outcome, in end then tenant order.
std::vector<std::pair<SimTime, std::uint32_t>> ends(std::vector<RequestOutcome> out) {
  std::vector<std::pair<SimTime, std::uint32_t>> v;
  for (const auto& o : out) v.emplace_back(o.end, o.tenant);
  std::sort(v.begin(), v.end());
  return v;
}

TEST(SpaceTime, EarliestDeadlineFirstAcrossTenants) {
  // resnet50_v1 tenants 0, 1, 2 with SLOs 300, 200, 100 ms, three requests each at t = 0
  // (deadlines 300, 200, 100 ms); max_batch 4. EDF takes tenant 2's three and one of
  // tenant 1's: batch 1 = {2,2,2,1}, 0 -> L(4) = 5.61 ms. Batch 2 = {1,1,0,0}, 5.61 ->
  // 11.22 ms. Batch 3 = {0}, 11.22 -> 11.22 + L(1) = 13.83 ms.
  auto out = outcomes(v100_header(1e-6) + "policy: {name: space_time, max_batch: 4}\ntenants:\n" +
                      at_zero("resnet50_v1", 3, ", slo_ms: 300") +
                      at_zero("resnet50_v1", 3, ", slo_ms: 200") +
                      at_zero("resnet50_v1", 3, ", slo_ms: 100"));
  std::vector<std::pair<SimTime, std::uint32_t>> want = {
      {5'610'000, 1},  {5'610'000, 2},  {5'610'000, 2},  {5'610'000, 2}, {11'220'000, 0},
      {11'220'000, 0}, {11'220'000, 1}, {11'220'000, 1}, {13'830'000, 0}};
  EXPECT_EQ(ends(out), want);
}

TEST(SpaceTime, EqualDeadlinesGoByArrivalThenTenantIndex) {
  // No SLOs: every deadline is "never", so the order is arrival, then tenant index. All
  // arrive at 0, so batch 1 (max_batch 3) takes tenant 0's two and tenant 1's first:
  // {0,0,1} ends at L(3) = 4.695 ms; then {1,2,2} ends at 2 * 4.695 = 9.39 ms.
  auto out =
      outcomes(v100_header(1e-6) + "policy: {name: space_time, max_batch: 3}\ntenants:\n" +
               at_zero("resnet50_v1", 2) + at_zero("resnet50_v1", 2) + at_zero("resnet50_v1", 2));
  std::vector<std::pair<SimTime, std::uint32_t>> want = {{4'695'000, 0}, {4'695'000, 0},
                                                         {4'695'000, 1}, {9'390'000, 1},
                                                         {9'390'000, 2}, {9'390'000, 2}};
  EXPECT_EQ(ends(out), want);
}

TEST(SpaceTime, DifferentArchitecturesShareTheGpu) {
  // Two resnet50_v1 tenants with 2 requests each -> one super-kernel of B = 4:
  //   L(4) = 5.61 ms, u(4) = (4/5.61)/(16/15.67) = 0.698307.
  // One mobile_pose_resnet50_v1 tenant with 1 request: L(1) = 3.29 ms,
  //   u(1) = (1/3.29)/(16/29.92) = 0.568389.
  // Σu = 1.266696 > 1 (interference 0): both at 1/Σu. The pose kernel ends at
  // 3.29 ms * Σu = 4.167429 ms (4,167,428.70 ns, rounded up to 4,167,429). The
  // super-kernel has done the same 3.29 ms of solo work; alone, its remaining
  // 5.61 - 3.29 = 2.32 ms end at 4,167,429 + 2,320,000 = 6,487,429.
  auto out = outcomes(v100_header(1e-6) + "policy: {name: space_time, interference: 0}\n" +
                      "tenants:\n" + at_zero("resnet50_v1", 2) +
                      at_zero("mobile_pose_resnet50_v1", 1) + at_zero("resnet50_v1", 2));
  ASSERT_EQ(out.size(), 5u);
  for (const auto& o : out) {
    if (o.tenant == 1) {
      EXPECT_EQ(o.end, 4'167'429);
      EXPECT_EQ(o.batch, 1);
    } else {
      EXPECT_EQ(o.end, 6'487'429);
      EXPECT_EQ(o.batch, 4);
    }
  }
}

TEST(SpaceTime, BatchTimeoutWaitsOnTheGroupsOldestRequest) {
  // Two resnet50_v1 tenants, one request each at 0, batch_timeout_ms 5: the group waits
  // until 5 ms (the oldest request's wait), then runs B = 2: ends 5 + 3.78 = 8.78 ms.
  auto out =
      outcomes(v100_header(1e-6) + "policy: {name: space_time, batch_timeout_ms: 5}\ntenants:\n" +
               at_zero("resnet50_v1", 1) + at_zero("resnet50_v1", 1));
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    EXPECT_EQ(o.start, 5'000'000);
    EXPECT_EQ(o.end, 8'780'000);
  }
  // With max_batch 2 the batch is full at once: no wait.
  out = outcomes(v100_header(1e-6) +
                 "policy: {name: space_time, batch_timeout_ms: 5, max_batch: 2}\ntenants:\n" +
                 at_zero("resnet50_v1", 1) + at_zero("resnet50_v1", 1));
  for (const auto& o : out) EXPECT_EQ(o.end, 3'780'000);
}

TEST(SpaceTime, OneTenantIsExactlyExclusive) {
  const std::string tenants =
      "tenants:\n  - {model: densenet121, slo_ms: 15, arrival: {process: gamma, rate: 600, "
      "cv: 2}}\n";
  for (const std::string batching : {"", ", batch_timeout_ms: 1.5", ", drop_late: true"}) {
    auto sorted = [](std::vector<RequestOutcome> v) {
      std::sort(v.begin(), v.end(), [](const RequestOutcome& a, const RequestOutcome& b) {
        return std::tie(a.arrival, a.end) < std::tie(b.arrival, b.end);
      });
      return v;
    };
    auto ex =
        sorted(outcomes(v100_header(20) + "policy: {name: exclusive" + batching + "}\n" + tenants));
    auto st = sorted(
        outcomes(v100_header(20) + "policy: {name: space_time" + batching + "}\n" + tenants));
    ASSERT_EQ(ex.size(), st.size());
    ASSERT_GT(ex.size(), 10000u);
    for (std::size_t i = 0; i < ex.size(); ++i) {
      ASSERT_EQ(ex[i].arrival, st[i].arrival);
      ASSERT_EQ(ex[i].start, st[i].start);
      ASSERT_EQ(ex[i].end, st[i].end);
      ASSERT_EQ(ex[i].batch, st[i].batch);
      ASSERT_EQ(ex[i].dropped, st[i].dropped);
    }
  }
}

// Metamorphic: N same-model tenants of Poisson rate λ under space_time form one queue
// served by one super-kernel slot, FIFO (no SLOs: EDF falls back to arrival order) with
// greedy batches of up to max_batch -- the same system as exclusive with one tenant. The
// superposition of N independent Poisson(λ) streams is a Poisson(Nλ) stream, so the
// latency distribution must match exclusive with one tenant of rate Nλ. The two runs use
// different random streams (four "arrival/<tenant>" streams against one), so they agree
// only up to sampling error: about a million requests each keep the mean within 2% and
// the median and p99 within 3% (the histogram itself is exact to 0.39%).
TEST(SpaceTime, FourTenantsOfRateLambdaMatchExclusiveWithOneOfFourLambda) {
  // resnet50_v1 saturates at 16/15.67 ms = 1021 req/s; 4 * 150 = 600 req/s is 59% of it.
  const double lambda = 150;
  const double duration = 1.0e6 / (4 * lambda);  // ~1M requests
  const std::string head = v100_header(duration, 10);
  RunResult st = testing::run(
      experiment_from(head +
                      "policy: {name: space_time, max_batch: 16}\ntenants:\n"
                      "  - {model: resnet50_v1, replicas: 4, arrival: {process: poisson, rate: " +
                      std::to_string(lambda) + "}}\n"));
  RunResult ex =
      testing::run(experiment_from(head +
                                   "policy: {name: exclusive, max_batch: 16}\ntenants:\n"
                                   "  - {model: resnet50_v1, arrival: {process: poisson, rate: " +
                                   std::to_string(4 * lambda) + "}}\n"));
  ASSERT_GT(st.all.completed, 900000u);
  ASSERT_GT(ex.all.completed, 900000u);
  EXPECT_NEAR(st.all.mean_ms, ex.all.mean_ms, 0.02 * ex.all.mean_ms);
  EXPECT_NEAR(st.all.p50_ms, ex.all.p50_ms, 0.03 * ex.all.p50_ms);
  EXPECT_NEAR(st.all.p99_ms, ex.all.p99_ms, 0.03 * ex.all.p99_ms);
  EXPECT_NEAR(st.gpu_busy, ex.gpu_busy, 0.02 * ex.gpu_busy);
  EXPECT_NEAR(st.all.throughput_rps, ex.all.throughput_rps, 0.01 * ex.all.throughput_rps);
}

// ---------------------------------------------------------------------------------------
// Randomized invariants.

struct PoolModel {
  const char* name;
  double peak_rps;  // ~16 / L(16)
};
constexpr PoolModel kPool[] = {
    {"resnet50_v1", 1021},     {"densenet121", 893}, {"mobile_pose_resnet50_v1", 535},
    {"resnext101_64x4d", 266}, {"googlenet", 2250},  {"resnet18_v1", 2279}};

TEST(SpaceTime, RandomizedInvariants) {
  Rng rng(77);
  for (int scenario = 0; scenario < 20; ++scenario) {
    const int n = 2 + static_cast<int>(rng.uniform() * 7);  // 2..8 tenants
    const int max_batches[] = {1, 2, 3, 4, 8, 16};
    const int max_batch = max_batches[static_cast<int>(rng.uniform() * 6)];
    const double timeouts[] = {0, 0, 0.5, 3};
    const double load = 0.3 + 1.2 * rng.uniform();                 // up to overload
    const int distinct = 1 + static_cast<int>(rng.uniform() * 3);  // few models: groups
    std::string yaml =
        v100_header(1.0) + "policy: {name: space_time, max_batch: " + std::to_string(max_batch) +
        ", batch_timeout_ms: " + std::to_string(timeouts[static_cast<int>(rng.uniform() * 4)]) +
        ", drop_late: " + (rng.uniform() < 0.5 ? "true" : "false") +
        ", interference: " + std::to_string(0.3 * rng.uniform()) +
        ", straggler_spread: " + std::to_string(0.5 * rng.uniform()) +
        (rng.uniform() < 0.5
             ? ", evict_stragglers: true, evict_ms: " + std::to_string(5 * rng.uniform())
             : std::string()) +
        "}\ntenants:\n";
    std::vector<std::string> model_of;
    for (int i = 0; i < n; ++i) {
      const PoolModel& m = kPool[static_cast<int>(rng.uniform() * 2 * distinct) % 6];
      model_of.push_back(m.name);
      const double rate = load * m.peak_rps / n;
      std::string arrival = rng.uniform() < 0.5
                                ? "{process: poisson, rate: " + std::to_string(rate) + "}"
                                : "{process: gamma, rate: " + std::to_string(rate) +
                                      ", cv: " + std::to_string(0.5 + 3 * rng.uniform()) + "}";
      std::string slo =
          rng.uniform() < 0.3 ? "" : ", slo_ms: " + std::to_string(5 + 100 * rng.uniform());
      yaml += "  - {model: " + std::string(m.name) + slo + ", arrival: " + arrival + "}\n";
    }
    SCOPED_TRACE(yaml);

    testing::CollectingSink sink;
    RunResult r = testing::run(experiment_from(yaml), &sink);  // share > 1 would throw
    std::uint64_t requests = 0;
    for (std::size_t t = 0; t < r.tenants.size(); ++t) {
      EXPECT_EQ(r.tenants[t].completed + r.tenants[t].dropped, r.tenants[t].requests);
      requests += r.tenants[t].requests;
    }
    ASSERT_EQ(sink.outcomes.size(), requests);  // every request completes or drops once
    std::vector<std::uint64_t> seen(r.tenants.size(), 0);
    // A group runs one super-kernel at a time, so (model, start) names a super-kernel.
    std::map<std::pair<std::string, SimTime>, std::vector<const RequestOutcome*>> kernels;
    for (const auto& o : sink.outcomes) {
      ++seen[o.tenant];
      ASSERT_GE(o.end, o.arrival);
      if (o.dropped) {
        ASSERT_EQ(o.start, o.end);
        continue;
      }
      ASSERT_GE(o.start, o.arrival);
      ASSERT_GT(o.end, o.start);
      ASSERT_GE(o.batch, 1);
      ASSERT_LE(o.batch, max_batch);
      kernels[{model_of[o.tenant], o.start}].push_back(&o);
    }
    for (std::size_t t = 0; t < r.tenants.size(); ++t) EXPECT_EQ(seen[t], r.tenants[t].requests);
    // Every super-kernel's requests are exactly `batch` requests of one architecture that
    // end together: a mixed batch would leave each (model, start) set short of `batch`.
    std::size_t merged = 0;
    for (const auto& [key, members] : kernels) {
      std::map<std::uint32_t, int> tenants_in;
      for (const RequestOutcome* o : members) {
        ASSERT_EQ(o->batch, static_cast<int>(members.size()));
        ASSERT_EQ(o->end, members[0]->end);
        ++tenants_in[o->tenant];
      }
      if (tenants_in.size() > 1) ++merged;
    }
    std::map<std::string, int> per_model;
    bool shared_model = false;
    for (const auto& m : model_of) shared_model = shared_model || ++per_model[m] > 1;
    if (max_batch > 1 && shared_model) {
      EXPECT_GT(merged, 0u);
    }
    EXPECT_LE(r.gpu_load, r.gpu_busy + 1e-12);
    EXPECT_LE(r.gpu_busy, 1.0 + 1e-12);
  }
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

std::string two_architectures(const std::string& policy_extra) {
  return testing::v100_header(20, 1) + "policy: {name: space_time, max_batch: 8" + policy_extra +
         "}\ntenants:\n"
         "  - {model: resnet50_v1, replicas: 2, arrival: {process: closed, n: 4}}\n"
         "  - {model: densenet121, replicas: 2, arrival: {process: closed, n: 4}}\n";
}

// Without stream slowdowns (spread 0) no stream exceeds the threshold, so turning
// eviction on changes nothing, request for request.
TEST(SpaceTimeEviction, NoStragglersNoEvictions) {
  testing::CollectingSink a, b;
  testing::run(testing::experiment_from(two_architectures("")), &a);
  testing::run(testing::experiment_from(two_architectures(", evict_stragglers: true")), &b);
  ASSERT_EQ(a.outcomes.size(), b.outcomes.size());
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    ASSERT_EQ(a.outcomes[i].end, b.outcomes[i].end);
  }
}

// One architecture: its super-kernel never shares the GPU, so its stream slowdown never
// applies, the monitor never sees it, and nothing changes with spread and eviction on.
TEST(SpaceTimeEviction, AloneAStreamIsNeverSlowed) {
  std::string base = testing::v100_header(5) +
                     "policy: {name: space_time, max_batch: 8, straggler_spread: 1" +
                     "EXTRA}\ntenants:\n"
                     "  - {model: resnet50_v1, replicas: 3, arrival: {process: closed, n: 4}}\n";
  std::string plain = base, evicting = base;
  plain.replace(plain.find("EXTRA"), 5, "");
  evicting.replace(evicting.find("EXTRA"), 5, ", evict_stragglers: true, evict_ms: 50");
  RunResult a = testing::run(testing::experiment_from(plain));
  RunResult b = testing::run(testing::experiment_from(evicting));
  EXPECT_EQ(a.all.completed, b.all.completed);
  EXPECT_EQ(a.all.mean_ms, b.all.mean_ms);
}

// Saturated queues on two architectures whose streams may be up to 2x slow (spread 1):
// without eviction each keeps its first draw for the whole run; with eviction a stream
// above 1.1 is replaced (5 ms idle each time) until it draws <= 1.1, after which it runs
// at most 10% slow. Over 20 s the few ms of restarts are far outweighed, so throughput
// rises; and the same seed gives the same result.
TEST(SpaceTimeEviction, EvictingSlowStreamsRaisesThroughput) {
  RunResult slow =
      testing::run(testing::experiment_from(two_architectures(", straggler_spread: 1")));
  RunResult evicted = testing::run(testing::experiment_from(two_architectures(
      ", straggler_spread: 1, evict_stragglers: true, evict_threshold: 1.1, evict_ms: 5")));
  RunResult again = testing::run(testing::experiment_from(two_architectures(
      ", straggler_spread: 1, evict_stragglers: true, evict_threshold: 1.1, evict_ms: 5")));
  EXPECT_GT(evicted.all.throughput_rps, slow.all.throughput_rps);
  EXPECT_LT(evicted.all.mean_ms, slow.all.mean_ms);
  EXPECT_EQ(evicted.all.mean_ms, again.all.mean_ms);
}

}  // namespace
}  // namespace infersim
