// The time_sliced policy: exact slice schedules derived by hand, equivalence with
// exclusive for one tenant, closed-loop round-robin throughput, and randomized invariants.
//
// Latencies from the Clockwork V100 table (seed 000), L(1):
//   resnet50_v1 2.61 ms, resnet18_v1 1.27 ms, mobile_pose_mobilenet1.0 0.99 ms.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sim/config/hardware_files.h"
#include "sim/gpu/profile.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using testing::CollectingSink;
using testing::experiment_from;
using testing::v100_header;

constexpr SimTime kUs = 1'000;
constexpr SimTime kMs = 1'000'000;

// Outcomes ordered by (tenant, arrival, end): a stable order to compare against.
std::vector<RequestOutcome> sorted(std::vector<RequestOutcome> v) {
  std::sort(v.begin(), v.end(), [](const RequestOutcome& a, const RequestOutcome& b) {
    return std::tie(a.tenant, a.arrival, a.end) < std::tie(b.tenant, b.arrival, b.end);
  });
  return v;
}

struct Expected {
  std::uint32_t tenant;
  SimTime arrival, start, end;
};

void expect_outcomes(const std::vector<RequestOutcome>& got, const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(fmt::format("outcome {} (tenant {})", i, want[i].tenant));
    EXPECT_EQ(got[i].tenant, want[i].tenant);
    EXPECT_EQ(got[i].arrival, want[i].arrival);
    EXPECT_EQ(got[i].start, want[i].start);
    EXPECT_EQ(got[i].end, want[i].end);
    EXPECT_EQ(got[i].batch, 1);
    EXPECT_FALSE(got[i].dropped);
  }
}

// ---------------------------------------------------------------------------------------
// 1. Exact slice schedules.

// Two tenants, one request each at t = 0 (closed loop n: 1; the 1 us duration stops the
// replacements), quantum 1 ms, switch 0.1 ms. A = resnet50_v1 (tenant 0, L = 2.61 ms),
// B = mobile_pose_mobilenet1.0 (tenant 1, L = 0.99 ms).
//
//   [0.00, 1.00]  A runs its first quantum (fresh GPU: no switch); preempted, 1.61 left
//   [1.00, 1.10]  switch to B (next ready after A)
//   [1.10, 2.09]  B runs its whole batch (0.99 < 1): B ends 2.09, start 1.10
//                 B has nothing more, so its quantum ends early
//   [2.09, 2.19]  switch to A
//   [2.19, 3.19]  A runs a full quantum; preempted, 0.61 left
//                 B is not ready; A is the only ready context: new quantum, no switch
//   [3.19, 3.80]  A finishes: A ends 3.80, start 0 (when its batch first ran)
// GPU busy 1 + 0.99 + 1 + 0.61 = 3.60 ms of the 3.80 ms window (switches excluded).
TEST(TimeSlicedSchedule, TwoTenantsOneRequestEach) {
  Experiment x =
      experiment_from(v100_header(1e-6) +
                      "policy: {name: time_sliced, max_batch: 1, quantum_ms: 1, switch_us: 100}\n"
                      "tenants:\n"
                      "  - {model: resnet50_v1, arrival: {process: closed, n: 1}}\n"
                      "  - {model: mobile_pose_mobilenet1.0, arrival: {process: closed, n: 1}}\n");
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);
  expect_outcomes(sorted(sink.outcomes), {{0, 0, 0, 3800 * kUs}, {1, 0, 1100 * kUs, 2090 * kUs}});
  EXPECT_NEAR(r.gpu_busy, 3.60 / 3.80, 1e-12);
  EXPECT_EQ(r.all.completed, 2u);
}

// Both batches longer than the quantum: A = resnet50_v1 (2.61 ms), B = resnet18_v1
// (1.27 ms), quantum 1 ms, switch 0.1 ms, both requests at t = 0.
//
//   [0.00, 1.00]  A; 1.61 left          [1.00, 1.10] switch
//   [1.10, 2.10]  B; 0.27 left          [2.10, 2.20] switch
//   [2.20, 3.20]  A; 0.61 left          [3.20, 3.30] switch
//   [3.30, 3.57]  B finishes: B ends 3.57, start 1.10; B idle, quantum ends early
//   [3.57, 3.67]  switch
//   [3.67, 4.28]  A finishes: A ends 4.28, start 0
TEST(TimeSlicedSchedule, BothPreempted) {
  Experiment x =
      experiment_from(v100_header(1e-6) +
                      "policy: {name: time_sliced, max_batch: 1, quantum_ms: 1, switch_us: 100}\n"
                      "tenants:\n"
                      "  - {model: resnet50_v1, arrival: {process: closed, n: 1}}\n"
                      "  - {model: resnet18_v1, arrival: {process: closed, n: 1}}\n");
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);
  expect_outcomes(sorted(sink.outcomes), {{0, 0, 0, 4280 * kUs}, {1, 0, 1100 * kUs, 3570 * kUs}});
  EXPECT_NEAR(r.gpu_busy, (2.61 + 1.27) / 4.28, 1e-12);
}

// No preemption on arrival, and the resident context. Constant arrivals: A = resnet50_v1
// at 100/s (t = 10, 20 ms), B = mobile_pose_mobilenet1.0 every 10.5 ms (t = 10.5, 21 ms)
// and C = mobile_pose_mobilenet1.0 at 40/s (t = 25 ms); duration 30 ms ends the arrivals.
// Quantum 1 ms, switch 0.1 ms.
//
//   10.00          A arrives on a fresh GPU: runs at once, no switch
//   10.50          B arrives while A runs: it waits for A's quantum to end
//   [10.00, 11.00] A; 1.61 left         [11.00, 11.10] switch to B
//   [11.10, 12.09] B#1 ends 12.09, start 11.10; B idle: its quantum ends early
//   [12.09, 12.19] switch to A
//   [12.19, 13.19] A; 0.61 left; A is the only ready context: new quantum, no switch
//   [13.19, 13.80] A#1 ends 13.80, start 10.00. GPU idle; A stays resident
//   20.00          A arrives; A is resident: runs at once, no switch
//   [20.00, 21.00] A; 1.61 left. B arrives at 21.00, the instant A's quantum ends:
//                  arrivals come before the decision, so B is ready and is next
//   [21.00, 21.10] switch to B
//   [21.10, 22.09] B#2 ends 22.09, start 21.10      [22.09, 22.19] switch to A
//   [22.19, 23.19] A; 0.61 left; alone again: new quantum, no switch
//   [23.19, 23.80] A#2 ends 23.80, start 20.00. A resident
//   25.00          C arrives; A is resident, C is not: switch [25.00, 25.10]
//   [25.10, 26.09] C ends 26.09, start 25.10
TEST(TimeSlicedSchedule, ArrivalsWaitAndResidentContextSwitchesFree) {
  Experiment x = experiment_from(
      v100_header(0.030) +
      "policy: {name: time_sliced, max_batch: 1, quantum_ms: 1, switch_us: 100}\n"
      "tenants:\n"
      "  - {model: resnet50_v1, arrival: {process: constant, rate: 100}}\n"
      "  - {model: mobile_pose_mobilenet1.0, arrival: {process: constant, rate: "
      "95.23809523809524}}\n"
      "  - {model: mobile_pose_mobilenet1.0, name: c, arrival: {process: constant, rate: 40}}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  expect_outcomes(sorted(sink.outcomes), {{0, 10 * kMs, 10 * kMs, 13800 * kUs},
                                          {0, 20 * kMs, 20 * kMs, 23800 * kUs},
                                          {1, 10500 * kUs, 11100 * kUs, 12090 * kUs},
                                          {1, 21 * kMs, 21100 * kUs, 22090 * kUs},
                                          {2, 25 * kMs, 25100 * kUs, 26090 * kUs}});
}

// A context that goes idle ends its quantum: it does not keep the rest for later. Quantum
// 2 ms, switch 0.1 ms. A = resnet18_v1 (L = 1.27 ms) arrives at 1.5 and 3.0 ms (constant,
// every 1.5 ms; duration 3.2 ms), B = mobile_pose_mobilenet1.0 (0.99 ms) at 3.1 ms.
//
//   [1.50, 2.77]  A#1 (fresh GPU, no switch); A idle: its quantum (to 3.50) ends at 2.77
//   3.00          A#2 arrives; A is resident: no switch, and a fresh quantum to 5.00
//   3.10          B arrives while A runs and waits
//   [3.00, 4.27]  A#2 ends 4.27 (had A kept its old quantum, it would have been
//                 preempted at 3.50 for B); A idle, quantum ends
//   [4.27, 4.37]  switch to B
//   [4.37, 5.36]  B ends 5.36, start 4.37
TEST(TimeSlicedSchedule, IdleContextGivesUpItsQuantum) {
  Experiment x = experiment_from(
      v100_header(0.0032) +
      "policy: {name: time_sliced, max_batch: 1, quantum_ms: 2, switch_us: 100}\n"
      "tenants:\n"
      "  - {model: resnet18_v1, arrival: {process: constant, rate: 666.6666666666666}}\n"
      "  - {model: mobile_pose_mobilenet1.0, arrival: {process: constant, rate: "
      "322.58064516129033}}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  expect_outcomes(sorted(sink.outcomes), {{0, 1500 * kUs, 1500 * kUs, 2770 * kUs},
                                          {0, 3000 * kUs, 3000 * kUs, 4270 * kUs},
                                          {1, 3100 * kUs, 4370 * kUs, 5360 * kUs}});
}

// Batch formation at slice start: tenant A = resnet50_v1 closed n: 1 at t = 0 and tenant
// B = resnet18_v1 closed n: 3 at t = 0 with max_batch 2, quantum 2 ms, switch 0.1 ms.
// B's L(2) = 1.86 ms, L(1) = 1.27 ms.
//
//   [0.00, 2.00]  A; 0.61 left          [2.00, 2.10] switch to B
//   [2.10, 3.96]  B runs a batch of 2 (its oldest two): both end 3.96, start 2.10;
//                 0.14 ms of quantum left and B's third request is ready: it starts at
//                 3.96 within the same quantum and is preempted at 4.10 with 1.13 left
//   [4.10, 4.20]  switch to A
//   [4.20, 4.81]  A finishes: ends 4.81, start 0; A idle, quantum ends early
//   [4.81, 4.91]  switch to B
//   [4.91, 6.04]  B's third request finishes: ends 6.04, start 3.96
TEST(TimeSlicedSchedule, NextBatchStartsWithinRemainingQuantum) {
  Experiment x =
      experiment_from(v100_header(1e-6) +
                      "policy: {name: time_sliced, max_batch: 2, quantum_ms: 2, switch_us: 100}\n"
                      "tenants:\n"
                      "  - {model: resnet50_v1, arrival: {process: closed, n: 1}}\n"
                      "  - {model: resnet18_v1, arrival: {process: closed, n: 3}}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  std::vector<RequestOutcome> got = sorted(sink.outcomes);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].tenant, 0u);
  EXPECT_EQ(got[0].start, 0);
  EXPECT_EQ(got[0].end, 4810 * kUs);
  EXPECT_EQ(got[0].batch, 1);
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(got[i].tenant, 1u);
    EXPECT_EQ(got[i].start, 2100 * kUs);
    EXPECT_EQ(got[i].end, 3960 * kUs);
    EXPECT_EQ(got[i].batch, 2);
  }
  EXPECT_EQ(got[3].tenant, 1u);
  EXPECT_EQ(got[3].start, 3960 * kUs);
  EXPECT_EQ(got[3].end, 6040 * kUs);
  EXPECT_EQ(got[3].batch, 1);
}

// ---------------------------------------------------------------------------------------
// 2. One tenant: time_sliced equals exclusive, request for request. With one context no
// switch ever happens (it is always the resident one), a preempted batch resumes at once
// in a new quantum, and batches are formed at the same instants (when the previous batch
// finishes, or on arrival/timeout when idle), so every outcome is the same.

struct SoloCase {
  std::string name;    // the test's name in ctest
  std::string tenant;  // YAML flow mapping of the tenant
  std::string batching;
  std::string slicing;
};
// What ctest -N shows for the parameter (instead of a byte dump).
void PrintTo(const SoloCase& c, std::ostream* os) {
  *os << c.tenant << " " << c.batching << " " << c.slicing;
}

class TimeSlicedSolo : public ::testing::TestWithParam<SoloCase> {};

TEST_P(TimeSlicedSolo, SameOutcomesAsExclusive) {
  const SoloCase& c = GetParam();
  auto run_with = [&](const std::string& policy) {
    Experiment x = experiment_from(v100_header(3, 0.5) + "policy: {" + policy + "}\n" +
                                   "tenants:\n  - " + c.tenant + "\n");
    CollectingSink sink;
    RunResult r = testing::run(x, &sink);
    return std::make_pair(r, sink.outcomes);
  };
  auto [rx, ex] = run_with("name: exclusive, " + c.batching);
  auto [rt, ts] = run_with("name: time_sliced, " + c.batching + ", " + c.slicing);
  ASSERT_EQ(ex.size(), ts.size());
  ASSERT_GT(ex.size(), 100u);
  for (std::size_t i = 0; i < ex.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(ex[i].tenant, ts[i].tenant);
    EXPECT_EQ(ex[i].arrival, ts[i].arrival);
    EXPECT_EQ(ex[i].start, ts[i].start);
    EXPECT_EQ(ex[i].end, ts[i].end);
    EXPECT_EQ(ex[i].batch, ts[i].batch);
    EXPECT_EQ(ex[i].dropped, ts[i].dropped);
  }
  EXPECT_EQ(rx.all.completed, rt.all.completed);
  EXPECT_EQ(rx.all.dropped, rt.all.dropped);
  EXPECT_DOUBLE_EQ(rx.all.p99_ms, rt.all.p99_ms);
  EXPECT_NEAR(rx.gpu_busy, rt.gpu_busy, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TimeSlicedSolo,
    ::testing::Values(
        // Batches of up to 16 ResNet-50 images (L up to 15.67 ms) sliced into 1.024 ms
        // quanta: every large batch is preempted many times.
        SoloCase{"ResNet50PoissonPreemptedManyTimes",
                 "{model: resnet50_v1, arrival: {process: poisson, rate: 900}}", "max_batch: 16",
                 "quantum_ms: 1.024, switch_us: 25"},
        SoloCase{"ResNet18GammaDropLate",
                 "{model: resnet18_v1, slo_ms: 6, arrival: {process: gamma, rate: 1500, cv: 3}}",
                 "max_batch: 8, drop_late: true", "quantum_ms: 0.3, switch_us: 200"},
        SoloCase{"MobileNetBatchTimeout",
                 "{model: mobile_pose_mobilenet1.0, arrival: {process: poisson, rate: 700}}",
                 "max_batch: 8, batch_timeout_ms: 2", "quantum_ms: 0.5, switch_us: 50"},
        SoloCase{"ResNet50ClosedLoopQuantumEqualsL1",
                 "{model: resnet50_v1, arrival: {process: closed, n: 5}}", "max_batch: 4",
                 "quantum_ms: 2.61, switch_us: 1000"}),
    [](const ::testing::TestParamInfo<SoloCase>& info) { return info.param.name; });

// Two GPUs, one tenant each: time_sliced equals exclusive on each GPU.
TEST(TimeSlicedSoloTwoGpus, OneTenantEachEqualsExclusive) {
  auto run_with = [&](const std::string& policy) {
    Experiment x =
        experiment_from(v100_header(2, 0, 2) + "policy: {" + policy + "}\n" +
                        "tenants:\n"
                        "  - {model: resnet50_v1, arrival: {process: poisson, rate: 300}}\n"
                        "  - {model: densenet121, arrival: {process: poisson, rate: 200}}\n");
    CollectingSink sink;
    testing::run(x, &sink);
    return sorted(sink.outcomes);
  };
  std::vector<RequestOutcome> ex = run_with("name: exclusive, max_batch: 8");
  std::vector<RequestOutcome> ts = run_with("name: time_sliced, max_batch: 8, quantum_ms: 0.7");
  ASSERT_EQ(ex.size(), ts.size());
  std::set<std::uint32_t> gpus;
  for (const RequestOutcome& o : ts) gpus.insert(o.gpu);
  EXPECT_EQ(gpus.size(), 2u);  // one tenant per GPU
  for (std::size_t i = 0; i < ex.size(); ++i) {
    EXPECT_EQ(std::tie(ex[i].tenant, ex[i].gpu, ex[i].arrival, ex[i].start, ex[i].end),
              std::tie(ts[i].tenant, ts[i].gpu, ts[i].arrival, ts[i].start, ts[i].end))
        << i;
  }
}

// ---------------------------------------------------------------------------------------
// 3. N identical closed-loop tenants (n: 1, no think time, max_batch 1), each needing
// L = L(1) per request, quantum Q, switch S.
//
// Every tenant always has work (its replacement request arrives at the instant its
// previous one completes, before the scheduler decides), so no quantum ever ends early:
// each slice is a full Q and every quantum end switches to the next tenant. The first
// slice needs no switch, so slice k (k = 0, 1, ...) of tenant i (0-based) runs over
//     [(kN + i)(Q + S),  (kN + i)(Q + S) + Q].
// A round (every tenant once) takes exactly N(Q + S) and gives each tenant Q of GPU time;
// a batch's GPU time carries across slices. Tenant i's j-th request (j = 1, 2, ...)
// finishes when its cumulative GPU time reaches jL, in slice k = ceil(jL/Q) - 1 at offset
// jL - kQ; it started when the cumulative GPU time was t = (j-1)L, in slice
// k' = floor(t/Q) at offset t - k'Q (offset 0, a slice start, when t is a multiple of Q):
//     end_j   = (kN + i)(Q + S) + jL - kQ
//     start_j = (k'N + i)(Q + S) + t - k'Q
// Total throughput: each round completes N*Q/L requests' worth of GPU time in N(Q + S),
// i.e. Q / (L (Q + S)) requests per unit time; the GPU is busy Q / (Q + S) of the time.
//
// With Q = L every slice holds exactly one request: a round serves each tenant once and
// costs N(L + S), so throughput is N / (N(L + S)) = 1/(L + S), and every request after a
// tenant's first takes exactly one round, N(L + S): it arrives at the end of its tenant's
// slice and finishes at the end of the tenant's next slice. Worked example, N = 2, resnet50_v1 (L
// = 2.61), Q = 2.61, S = 0.1 ms: tenant 0's requests end at 2.61, 8.03, 13.45, ... (period 5.42 =
// 2(L+S)), tenant 1's at 5.32, 10.74, ... With Q = 4 ms (> L): tenant 0 runs requests 1 (ends 2.61)
// and most of 2 (1.39 of 2.61 done) in [0, 4]; tenant 1 likewise in [4.1, 8.1]; tenant 0 resumes
// at 8.2 and finishes request 2 at 8.2 + 1.22 = 9.42, request 3 at 12.03, then runs 0.17 of request
// 4 to 12.2.
struct RoundCase {
  int n;
  const char* model;
  double l_ms, q_ms, s_us;
};
void PrintTo(const RoundCase& c, std::ostream* os) {
  *os << c.n << " x " << c.model << ", L(1) " << c.l_ms << " ms, quantum " << c.q_ms
      << " ms, switch " << c.s_us << " us";
}

class TimeSlicedClosedRoundRobin : public ::testing::TestWithParam<RoundCase> {};

TEST_P(TimeSlicedClosedRoundRobin, ExactSliceScheduleAndThroughput) {
  const RoundCase& c = GetParam();
  const double duration_s = 2.0;
  Experiment x = experiment_from(
      v100_header(duration_s, 0.1) +
      fmt::format("policy: {{name: time_sliced, max_batch: 1, quantum_ms: {}, switch_us: {}}}\n"
                  "tenants:\n  - {{model: {}, replicas: {}, arrival: {{process: closed, n: 1}}}}\n",
                  c.q_ms, c.s_us, c.model, c.n));
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);

  const SimTime L = ms_to_ns(c.l_ms), Q = ms_to_ns(c.q_ms), S = us_to_ns(c.s_us);
  const SimTime N = c.n, D = s_to_ns(duration_s);
  // Up to the end of arrivals (D) every tenant is still busy, so the pattern holds for
  // every completion at or before D.
  std::vector<std::vector<std::pair<SimTime, SimTime>>> got(c.n), want(c.n);
  for (const RequestOutcome& o : sink.outcomes) {
    ASSERT_FALSE(o.dropped);
    if (o.end <= D) got[o.tenant].push_back({o.start, o.end});
  }
  for (SimTime i = 0; i < N; ++i) {
    for (SimTime j = 1;; ++j) {
      const SimTime k = (j * L + Q - 1) / Q - 1;
      const SimTime end = (k * N + i) * (Q + S) + j * L - k * Q;
      if (end > D) break;
      const SimTime t = (j - 1) * L, k0 = t / Q;
      want[i].push_back({(k0 * N + i) * (Q + S) + t - k0 * Q, end});
    }
    std::sort(got[i].begin(), got[i].end());
    SCOPED_TRACE(fmt::format("tenant {}", i));
    ASSERT_GT(want[i].size(), 50u);
    EXPECT_EQ(got[i], want[i]);
  }
  // Spot checks of the worked examples above.
  if (c.n == 2 && c.q_ms == 2.61) {
    EXPECT_EQ(want[0][0].second, 2610 * kUs);
    EXPECT_EQ(want[0][1].second, 8030 * kUs);
    EXPECT_EQ(want[0][2].second, 13450 * kUs);
    EXPECT_EQ(want[1][0].second, 5320 * kUs);
    EXPECT_EQ(want[1][1].second, 10740 * kUs);
  }
  if (c.n == 2 && c.q_ms == 4) {
    EXPECT_EQ(want[0][0], std::make_pair(SimTime{0}, 2610 * kUs));
    EXPECT_EQ(want[0][1], std::make_pair(2610 * kUs, 9420 * kUs));
    EXPECT_EQ(want[0][2], std::make_pair(9420 * kUs, 12030 * kUs));
    EXPECT_EQ(want[1][0], std::make_pair(4100 * kUs, 6710 * kUs));
  }
  // Long-run rates (the drain after D and the window edges cost well under 1%).
  const double q = c.q_ms, s = c.s_us / 1e3, l = c.l_ms;
  const double rps = q / (l * (q + s)) * 1e3;
  EXPECT_NEAR(r.all.throughput_rps, rps, 0.01 * rps);
  EXPECT_NEAR(r.gpu_busy, q / (q + s), 0.01);
  if (c.q_ms == c.l_ms) {  // one request per slice: the latency is one round
    EXPECT_NEAR(r.all.p50_ms, c.n * (l + s), 1e-6);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TimeSlicedClosedRoundRobin,
    ::testing::Values(RoundCase{2, "resnet50_v1", 2.61, 2.61, 100},  // Q = L
                      RoundCase{5, "resnet50_v1", 2.61, 2.61, 25},   // Q = L
                      RoundCase{3, "resnet18_v1", 1.27, 1.27, 250},  // Q = L
                      RoundCase{2, "resnet50_v1", 2.61, 4, 100},     // L < Q < 2L
                      RoundCase{4, "mobile_pose_mobilenet1.0", 0.99, 1.024, 25},
                      RoundCase{3, "resnet18_v1", 1.27, 5, 60},   // several per slice
                      RoundCase{3, "resnet50_v1", 2.61, 1, 30}),  // Q < L
    // e.g. "R2_resnet50_v1_L2610us_Q2610us_S100us"
    [](const ::testing::TestParamInfo<RoundCase>& info) {
      const RoundCase& c = info.param;
      std::string model = c.model;
      for (char& ch : model) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return "R" + std::to_string(c.n) + "_" + model + "_L" +
             std::to_string(std::lround(c.l_ms * 1000)) + "us_Q" +
             std::to_string(std::lround(c.q_ms * 1000)) + "us_S" +
             std::to_string(std::lround(c.s_us)) + "us";
    });

// ---------------------------------------------------------------------------------------
// 4. Randomized invariants: 2-6 tenants of random models, random rates, batching,
// quantum, switch cost and drop_late. Every request completes or is dropped exactly once;
// nothing ends before it arrives or starts before it arrives; a completed batch of b took
// at least L(b) from its first start; the GPU's busy time equals the sum of L(b) over the
// batches run (slicing neither loses nor invents GPU time); and the policy's
// one-context-at-a-time check (a std::logic_error) never fires.

// Uniform in [0, 1) from 53 bits: defined by the code, not by the standard library.
double uniform(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

TEST(TimeSlicedRandom, Invariants) {
  const Profile profile =
      load_profile(std::string(INFERSIM_SOURCE_DIR) + "/hardware_profiles/v100_clockwork.yaml");
  ASSERT_FALSE(profile.models.empty());
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::mt19937_64 g(seed);
    const int n = 2 + static_cast<int>(g() % 5);
    const int max_batch = 1 << (g() % 5);
    const double quantum = 0.2 + 3.8 * uniform(g);
    const double switch_us = g() % 4 == 0 ? 0 : 300 * uniform(g);
    const bool drop_late = g() % 2;
    const double timeout = g() % 3 == 0 ? 2 * uniform(g) : 0;
    std::string yaml =
        v100_header(2.0, 0.0) + fmt::format(
                                    "policy: {{name: time_sliced, max_batch: {}, quantum_ms: {}, "
                                    "switch_us: {}, drop_late: {}, batch_timeout_ms: {}}}\n"
                                    "tenants:\n",
                                    max_batch, quantum, switch_us, drop_late, timeout);
    std::vector<const ModelProfile*> models;
    const double load = 0.3 + 1.2 * uniform(g);  // total offered load at batch size 1
    for (int i = 0; i < n; ++i) {
      const ModelProfile& m = profile.models[g() % profile.models.size()];
      models.push_back(&m);
      const double l1 = m.latency_ms_at(1);
      const double slo = l1 * (1.5 + 10 * uniform(g));
      std::string arrival =
          g() % 5 == 0 ? fmt::format("{{process: closed, n: {}}}", 1 + g() % 4)
                       : fmt::format("{{process: poisson, rate: {}}}", load / n / (l1 / 1e3));
      yaml += fmt::format("  - {{model: {}, name: t{}, slo_ms: {}, arrival: {}}}\n", m.name, i, slo,
                          arrival);
    }
    SCOPED_TRACE(yaml);
    Experiment x = experiment_from(yaml);
    CollectingSink sink;
    RunResult r;
    ASSERT_NO_THROW(r = testing::run(x, &sink));

    EXPECT_EQ(sink.outcomes.size(), r.all.requests);
    EXPECT_EQ(r.all.completed + r.all.dropped, r.all.requests);
    EXPECT_GT(r.all.completed, 0u);
    if (!drop_late) {
      EXPECT_EQ(r.all.dropped, 0u);
    }
    // Batches: (tenant, start) -> (size, end, members).
    std::map<std::pair<std::uint32_t, SimTime>, std::tuple<int, SimTime, int>> batches;
    for (const RequestOutcome& o : sink.outcomes) {
      ASSERT_LT(o.tenant, static_cast<std::uint32_t>(n));
      EXPECT_GE(o.start, o.arrival);
      EXPECT_GE(o.end, o.start);
      EXPECT_GE(o.end, o.arrival);
      if (o.dropped) continue;
      EXPECT_GE(o.batch, 1);
      EXPECT_LE(o.batch, max_batch);
      const SimTime l = ms_to_ns(models[o.tenant]->latency_ms_at(o.batch));
      EXPECT_GE(o.end - o.start, l);
      auto [it, fresh] = batches.try_emplace({o.tenant, o.start}, o.batch, o.end, 0);
      EXPECT_EQ(std::get<0>(it->second), o.batch);
      EXPECT_EQ(std::get<1>(it->second), o.end);
      ++std::get<2>(it->second);
    }
    double gpu_time_ns = 0;
    for (const auto& [key, b] : batches) {
      EXPECT_EQ(std::get<2>(b), std::get<0>(b));  // every member of a batch reported once
      gpu_time_ns +=
          static_cast<double>(ms_to_ns(models[key.first]->latency_ms_at(std::get<0>(b))));
    }
    const double busy_ns = r.gpu_busy * r.window_s * 1e9;
    EXPECT_NEAR(busy_ns, gpu_time_ns, 1e-6 * gpu_time_ns);
    EXPECT_LE(r.gpu_busy, 1.0 + 1e-12);
  }
}

// The parameters are declared with their defaults.
TEST(TimeSlicedRegistry, ParamsAndProcessModel) {
  const PolicyInfo& info = testing::registries().policies.get("time_sliced", Mark{});
  EXPECT_EQ(info.processes, ProcessModel::kProcessPerTenant);
  std::map<std::string, double> defaults;
  Params values;
  for (const ParamSpec& p : info.params) {
    EXPECT_TRUE(defaults.emplace(p.key, p.default_value).second) << "duplicate " << p.key;
    if (p.is_text()) {
      values.set_text(p.key, p.default_text);
    } else {
      values.set(p.key, p.default_value);
    }
  }
  const PolicyNeeds needs = info.needs(values);
  EXPECT_FALSE(needs.kernels);              // batch granularity by default
  EXPECT_EQ(needs.max_tenants_per_gpu, 0);  // any number of contexts
  EXPECT_EQ(needs.context_mib, 500);
  EXPECT_EQ(needs.max_batch, 16);
  EXPECT_EQ(defaults.at("quantum_ms"), 1.024);
  EXPECT_EQ(defaults.at("switch_us"), 25);
  EXPECT_TRUE(defaults.count("context_mib"));
  EXPECT_TRUE(defaults.count("max_batch"));
  EXPECT_TRUE(defaults.count("batch_timeout_ms"));
  EXPECT_TRUE(defaults.count("drop_late"));
  EXPECT_EQ(defaults.at("compute_preemption"), 0);
}

}  // namespace
}  // namespace infersim
