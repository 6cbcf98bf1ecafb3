// The exclusive policy on hand-computed schedules, SLO-aware dropping, determinism and
// the engine's invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "tests/harness.h"

namespace infersim {
namespace {

using testing::CollectingSink;
using testing::experiment_from;
using testing::v100_header;

std::map<SimTime, RequestOutcome> by_arrival(const CollectingSink& s) {
  std::map<SimTime, RequestOutcome> m;
  for (const auto& o : s.outcomes) m[o.arrival] = o;
  return m;
}

// Constant arrivals every 1 ms (at 1, 2, ..., 8 ms; duration 8.5 ms), max_batch 4,
// batch_timeout 2.5 ms, resnet50_v1 (L(1)=2.61, L(3)=(3.78+5.61)/2=4.695, L(4)=5.61 ms):
//  t=1     req@1 waits; its timeout runs out at 1+2.5 = 3.5
//  t=3.5   batch {1,2,3} (3 < 4, but the oldest has waited 2.5) -> ends 3.5+4.695 = 8.195
//  t=8.195 queue {4,5,6,7,8}: full batch {4,5,6,7} -> ends 8.195+5.61 = 13.805
//  t=13.805 queue {8}: arrived at 8, waited 5.805 > 2.5 -> batch {8} -> ends 16.415
TEST(Exclusive, BatchTimeoutScheduleByHand) {
  Experiment x = experiment_from(
      v100_header(0.0085) +
      "policy: {name: exclusive, max_batch: 4, batch_timeout_ms: 2.5}\n"
      "tenants:\n  - {model: resnet50_v1, arrival: {process: constant, rate: 1000}}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  ASSERT_EQ(sink.outcomes.size(), 8u);
  auto m = by_arrival(sink);
  const SimTime ms = 1'000'000;
  for (int k = 1; k <= 3; ++k) {
    EXPECT_EQ(m[k * ms].start, 3'500'000);
    EXPECT_EQ(m[k * ms].end, 8'195'000);
    EXPECT_EQ(m[k * ms].batch, 3);
  }
  for (int k = 4; k <= 7; ++k) {
    EXPECT_EQ(m[k * ms].start, 8'195'000);
    EXPECT_EQ(m[k * ms].end, 13'805'000);
    EXPECT_EQ(m[k * ms].batch, 4);
  }
  EXPECT_EQ(m[8 * ms].start, 13'805'000);
  EXPECT_EQ(m[8 * ms].end, 16'415'000);
  EXPECT_EQ(m[8 * ms].batch, 1);
}

// Arrivals every 1 ms (1..8 ms), max_batch 1, L(1) = 2.61 ms, SLO 5 ms, drop_late: a
// queued request is dropped when now + 2.61 > arrival + 5.
//  t=1     run 1 -> 3.61
//  t=3.61  2 (deadline 7): 6.22 <= 7 run -> 6.22
//  t=6.22  3 (deadline 8): 8.83 > 8 drop; 4 (9): run -> 8.83
//  t=8.83  5 (10), 6 (11): 11.44 > both, drop; 7 (12): run -> 11.44
//  t=11.44 8 (13): 14.05 > 13 drop
// Completed {1,2,4,7}, dropped {3,5,6,8}; SLO attainment 4/8.
TEST(Exclusive, DropLateScheduleByHand) {
  Experiment x = experiment_from(
      v100_header(0.0085) +
      "policy: {name: exclusive, max_batch: 1, drop_late: true}\n"
      "tenants:\n  - {model: resnet50_v1, slo_ms: 5, arrival: {process: constant, rate: 1000}}\n");
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);
  auto m = by_arrival(sink);
  const SimTime ms = 1'000'000;
  for (int k : {3, 5, 6, 8}) EXPECT_TRUE(m[k * ms].dropped) << k;
  EXPECT_EQ(m[1 * ms].end, 3'610'000);
  EXPECT_EQ(m[2 * ms].end, 6'220'000);
  EXPECT_EQ(m[4 * ms].end, 8'830'000);
  EXPECT_EQ(m[7 * ms].end, 11'440'000);
  EXPECT_EQ(m[3 * ms].end, 6'220'000);  // dropped when the GPU freed at 6.22
  EXPECT_EQ(r.all.completed, 4u);
  EXPECT_EQ(r.all.dropped, 4u);
  EXPECT_DOUBLE_EQ(r.all.slo_attainment, 0.5);
}

// A closed loop without think time whose SLO (1 ms) is below L(1) (2.61 ms): drop_late
// drops each request the instant it arrives, and the loop replaces it at that instant, so
// time would never advance (it used to spin for ever, under every policy). It is an input
// error at the tenant. Its neighbours run: with a think time (exponential, mean 1 ms) time
// advances and every request is dropped; with slo_ms 3 >= L(1) each request arrives as the
// one before completes, at 0, 2.61, 5.22 and 7.83 ms (the next, 10.44, is past the 10 ms
// run), and all 4 complete.
TEST(Exclusive, ClosedLoopDroppedAtOnceIsAnInputErrorNotAHang) {
  for (const char* policy : {"exclusive", "time_sliced", "mps", "space_time"}) {
    const std::string head = v100_header(0.01) + "policy: {name: " + policy +
                             ", max_batch: 1, drop_late: true}\ntenants:\n";
    try {
      testing::run(experiment_from(
          head + "  - {model: resnet50_v1, slo_ms: 1, arrival: {process: closed, n: 1}}\n"));
      ADD_FAILURE() << policy << ": no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("would never advance"), std::string::npos) << e.what();
    }
    RunResult thinking = testing::run(experiment_from(
        head +
        "  - {model: resnet50_v1, slo_ms: 1, arrival: {process: closed, n: 1, think_ms: 1}}\n"));
    EXPECT_GT(thinking.all.dropped, 0u) << policy;
    EXPECT_EQ(thinking.all.completed, 0u) << policy;
    // A think time that often rounds to 0 ns (mean 1 ns: a draw below 0.5 ns has
    // probability 1 - e^-0.5 = 0.39) replaces many drops at their own instant, but not
    // over and over: time advances, and it is no loop. (The first detector, one such drop,
    // refused it.) 2 clients over 0.5 ms: about 2 x 0.5 ms / 1 ns = 1e6 drops.
    RunResult fast = testing::run(experiment_from(
        v100_header(0.0005) + "policy: {name: " + policy +
        ", max_batch: 1, drop_late: true}\ntenants:\n"
        "  - {model: resnet50_v1, slo_ms: 1, arrival: {process: closed, n: 2, think_ms: "
        "1e-6}}\n"));
    EXPECT_GT(fast.all.dropped, 500000u) << policy;
    EXPECT_EQ(fast.all.completed, 0u) << policy;
    RunResult met = testing::run(experiment_from(
        head + "  - {model: resnet50_v1, slo_ms: 3, arrival: {process: closed, n: 1}}\n"));
    EXPECT_EQ(met.all.completed, 4u) << policy;
    EXPECT_EQ(met.all.dropped, 0u) << policy;
  }
}

// Without a completed request the latency figures are undefined: NaN, not 0 ms (which read
// as a perfect p99 once drop_late dropped everything). Constant arrivals at 100/s for 1 s
// (at 10, 20, ..., 990 ms; the one at 1 s is past the run) with slo_ms 1 < L(1) = 2.61 ms:
// every request is dropped, so 99 requests, 0 completed, SLO attainment 0/99 = 0, latencies
// and their ratios NaN. At 1e-12/s nothing arrives:
// the attainment, 0/0, is NaN too.
TEST(Exclusive, NoCompletedRequestMeansNaNLatenciesNotZero) {
  RunResult r = testing::run(experiment_from(
      v100_header(1) +
      "policy: {name: exclusive, max_batch: 4, drop_late: true}\n"
      "tenants:\n  - {model: resnet50_v1, slo_ms: 1, arrival: {process: constant, rate: 100}}\n"));
  EXPECT_EQ(r.all.requests, 99u);
  EXPECT_EQ(r.all.completed, 0u);
  EXPECT_EQ(r.all.slo_attainment, 0.0);
  for (double v : {r.all.mean_ms, r.all.p50_ms, r.all.p99_ms, r.all.max_ms, r.all.latency_cv,
                   r.tenants[0].p99_ms, r.p99_over_p50, r.jain_fairness, r.p50_spread_ms}) {
    EXPECT_TRUE(std::isnan(v)) << v;
  }
  RunResult none = testing::run(experiment_from(
      v100_header(1) +
      "policy: {name: exclusive}\n"
      "tenants:\n  - {model: resnet50_v1, arrival: {process: poisson, rate: 1e-12}}\n"));
  EXPECT_EQ(none.all.requests, 0u);
  EXPECT_TRUE(std::isnan(none.all.slo_attainment));
}

// Same experiment, same seed: identical results, field by field; another seed differs.
TEST(Exclusive, DeterministicForASeed) {
  std::string yaml =
      v100_header(20, 1, 2) +
      "policy: {name: exclusive, max_batch: 8, batch_timeout_ms: 1}\n"
      "tenants:\n"
      "  - {model: resnet50_v1, slo_ms: 20, arrival: {process: gamma, rate: 300, cv: 3}}\n"
      "  - {model: densenet121, slo_ms: 30, arrival: {process: poisson, rate: 200}}\n";
  CollectingSink a, b, c;
  RunResult ra = testing::run(experiment_from(yaml), &a);
  RunResult rb = testing::run(experiment_from(yaml), &b);
  RunResult rc = testing::run(experiment_from(yaml, {"seed=8"}), &c);
  ASSERT_EQ(a.outcomes.size(), b.outcomes.size());
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    ASSERT_EQ(a.outcomes[i].arrival, b.outcomes[i].arrival);
    ASSERT_EQ(a.outcomes[i].end, b.outcomes[i].end);
    ASSERT_EQ(a.outcomes[i].batch, b.outcomes[i].batch);
  }
  EXPECT_EQ(ra.all.p99_ms, rb.all.p99_ms);
  EXPECT_EQ(ra.all.mean_ms, rb.all.mean_ms);
  EXPECT_EQ(ra.events, rb.events);
  EXPECT_NE(ra.all.mean_ms, rc.all.mean_ms);
}

// Invariants over random scenarios: every measured request completes or is dropped
// exactly once, nothing ends before it arrives or starts, batches respect max_batch, and
// one GPU never runs two batches at once.
TEST(Exclusive, InvariantsOnRandomScenarios) {
  const char* models[] = {"resnet50_v1", "densenet121", "googlenet", "resnet18_v1", "inceptionv3"};
  Rng pick(2024);
  for (int scenario = 0; scenario < 25; ++scenario) {
    int gpus = 1 + static_cast<int>(pick.next_u64() % 3);
    int max_batch = 1 + static_cast<int>(pick.next_u64() % 16);
    std::string yaml = v100_header(2, 0, gpus) +
                       "policy: {name: exclusive, max_batch: " + std::to_string(max_batch) +
                       ", batch_timeout_ms: " + std::to_string(pick.uniform() * 3) +
                       ", drop_late: " + (pick.uniform() < 0.5 ? "true" : "false") +
                       "}\ntenants:\n";
    for (int t = 0; t < gpus; ++t) {
      std::string model = models[pick.next_u64() % 5];
      double rate = 50 + pick.uniform() * 1500;
      yaml += "  - {model: " + model + ", slo_ms: " + std::to_string(5 + pick.uniform() * 50) +
              ", arrival: {process: " + (pick.uniform() < 0.5 ? "poisson" : "gamma, cv: 2.5") +
              ", rate: " + std::to_string(rate) + "}}\n";
    }
    CollectingSink sink;
    RunResult r = testing::run(experiment_from(yaml), &sink);
    ASSERT_EQ(r.all.completed + r.all.dropped, r.all.requests) << yaml;
    ASSERT_EQ(sink.outcomes.size(), r.all.requests) << yaml;  // warmup 0: all measured
    std::map<std::uint32_t, std::vector<std::pair<SimTime, SimTime>>> runs;
    for (const auto& o : sink.outcomes) {
      ASSERT_GE(o.end, o.start);
      ASSERT_GE(o.start, o.arrival);
      if (!o.dropped) {
        ASSERT_LE(o.batch, max_batch);
        runs[o.gpu].push_back({o.start, o.end});
      }
    }
    for (auto& [gpu, spans] : runs) {
      std::sort(spans.begin(), spans.end());
      spans.erase(std::unique(spans.begin(), spans.end()), spans.end());  // batch members
      for (std::size_t i = 1; i < spans.size(); ++i) {
        ASSERT_GE(spans[i].first, spans[i - 1].second) << "overlapping batches on GPU " << gpu;
      }
    }
  }
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

// Under exclusive every tenant has a GPU of its own, so running it alone on the same
// arrival trace (streams are named by tenant) must give exactly the same latencies:
// isolation p99 / p99-alone is 1 for every tenant.
TEST(Exclusive, PerfectIsolationOnOwnGpus) {
  Experiment x = testing::experiment_from(
      testing::v100_header(10, 1, 3) +
      "policy: {name: exclusive, max_batch: 8}\n"
      "tenants:\n"
      "  - {model: resnet50_v1, replicas: 2, arrival: {process: poisson, rate: 300}}\n"
      "  - {model: densenet121, arrival: {process: gamma, rate: 100, cv: 4}}\n"
      "output: {isolation: true}\n");
  RunResult r = testing::run(x);
  ASSERT_EQ(r.p99_alone_ms.size(), 3u);
  for (std::size_t t = 0; t < 3; ++t) EXPECT_EQ(r.tenants[t].p99_ms, r.p99_alone_ms[t]);
  EXPECT_EQ(r.worst_isolation, 1.0);
  // Jain's index is (sum x)^2 / (n sum x^2), in (1/n, 1].
  EXPECT_GT(r.jain_fairness, 1.0 / 3);
  EXPECT_LE(r.jain_fairness, 1.0);
}

}  // namespace
}  // namespace infersim
