// The processor-sharing GPU model (policies/shared_gpu.h) and the mps policy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "policies/shared_gpu.h"
#include "sim/core/rng.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using testing::experiment_from;
using testing::v100_header;

// ---------------------------------------------------------------------------------------
// SharedGpu driven directly: a policy that starts scripted kernels at given times.

struct Kernel {
  SimTime at;    // start time, ns
  SimTime work;  // solo work, ns
  double u;      // solo utilization
  double slowdown = 1;
};

class ScriptPolicy final : public Policy {
 public:
  ScriptPolicy(Engine& e, std::vector<Kernel> ks, double interference)
      : e_(e), ks_(std::move(ks)), shared_(e, 0, ks_.size(), interference), end_(ks_.size(), -1) {
    for (std::size_t i = 0; i < ks_.size(); ++i) {
      shared_.set_slowdown(i, ks_[i].slowdown);
      e.schedule(ks_[i].at, Priority::kTimer, 0, i << 1 | 1);
    }
  }
  void on_dispatch() override {}
  void on_event(std::uint64_t payload) override {
    ++events_;
    if (!SharedGpu::is_completion(payload)) {
      std::size_t i = payload >> 1;
      shared_.start(i, ks_[i].work, ks_[i].u);
      shared_.commit();
      return;
    }
    shared_.on_completion(payload, [this](std::size_t s) { end_[s] = e_.now(); });
  }
  const std::vector<SimTime>& ends() const { return end_; }
  std::uint64_t events() const { return events_; }

 private:
  Engine& e_;
  std::vector<Kernel> ks_;
  SharedGpu shared_;
  std::vector<SimTime> end_;
  std::uint64_t events_ = 0;
};

struct ScriptResult {
  std::vector<SimTime> ends;
  double load_ns;  // ∫ share dt
  double busy_ns;  // time with any kernel running
  std::uint64_t events;
};

ScriptResult run_script(std::vector<Kernel> ks, double interference = 0) {
  EngineConfig cfg;
  cfg.gpus = 1;
  Engine e(cfg, {});
  auto p = std::make_unique<ScriptPolicy>(e, std::move(ks), interference);
  ScriptPolicy* raw = p.get();
  e.set_policy(0, std::move(p));
  e.run();
  return {raw->ends(), e.gpu_load_ns(0), e.gpu_busy_ns(0), raw->events()};
}

constexpr SimTime kMs = 1'000'000;

// A kernel that finishes is followed, at the same instant, by a dispatch that starts the
// next one: slots A and B from 0, C started by the dispatch after A's completion. With
// defer_commit the completion leaves the rates to the dispatch's commit.
class ChainPolicy final : public Policy {
 public:
  ChainPolicy(Engine& e, bool defer) : e_(e), defer_(defer), shared_(e, 0, 3, 0) {
    e.schedule(0, Priority::kTimer, 0, 1);
  }
  void on_dispatch() override {
    if (start_c_) shared_.start(2, 5 * 1'000'000, 0.8);
    start_c_ = false;
    shared_.commit();
  }
  void on_event(std::uint64_t payload) override {
    ++events_;
    if (!SharedGpu::is_completion(payload)) {
      shared_.start(0, 10 * 1'000'000, 0.8);
      shared_.start(1, 20 * 1'000'000, 0.8);
      shared_.commit();
      return;
    }
    const std::size_t n = shared_.on_completion(
        payload,
        [this](std::size_t s) {
          end_[s] = e_.now();
          start_c_ = start_c_ || s == 0;
        },
        defer_);
    if (n > 0) e_.request_dispatch(0);
  }
  SimTime end(std::size_t s) const { return end_[s]; }
  std::uint64_t events() const { return events_; }

 private:
  Engine& e_;
  bool defer_;
  SharedGpu shared_;
  bool start_c_ = false;
  SimTime end_[3] = {-1, -1, -1};
  std::uint64_t events_ = 0;
};

TEST(SharedGpu, DeferredCommitGivesTheSameTimesWithoutTheStaleEvent) {
  // A (10 ms, u 0.8) and B (20 ms, u 0.8) from 0: Σu = 1.6, both at speed 0.625. A ends at
  // 10 / 0.625 = 16 ms; B has 20 - 10 = 10 ms left. C (5 ms, u 0.8) starts then: both at
  // 0.625 again, C ends at 16 + 5 / 0.625 = 24 ms; B did 8 * 0.625 = 5 ms, and its last
  // 5 ms alone at speed 1 end it at 29 ms. Share 1 for 24 ms, 0.8 for 5: load 28 ms.
  // Committing at A's completion schedules B's end for 16 + 10 = 26 ms (B alone), which C's
  // start makes stale: one event more, and nothing else differs.
  for (bool defer : {false, true}) {
    EngineConfig cfg;
    cfg.gpus = 1;
    Engine e(cfg, {});
    auto p = std::make_unique<ChainPolicy>(e, defer);
    ChainPolicy* raw = p.get();
    e.set_policy(0, std::move(p));
    e.run();
    EXPECT_EQ(raw->end(0), 16 * kMs) << defer;
    EXPECT_EQ(raw->end(1), 29 * kMs) << defer;
    EXPECT_EQ(raw->end(2), 24 * kMs) << defer;
    EXPECT_DOUBLE_EQ(e.gpu_load_ns(0), 28e6) << defer;
    // The start timer and the completions at 16, 24 and 29 ms; without deferring, the stale
    // one at 26 ms too.
    EXPECT_EQ(raw->events(), defer ? 4u : 5u);
  }
}

TEST(SharedGpu, KernelAloneRunsForItsSoloTime) {
  ScriptResult r = run_script({{3 * kMs, 2'610'000, 0.3752}});
  EXPECT_EQ(r.ends[0], 3 * kMs + 2'610'000);
  EXPECT_DOUBLE_EQ(r.load_ns, 2'610'000 * 0.3752);
}

TEST(SharedGpu, KernelsThatFitRunAtSoloSpeed) {
  // u = 0.5 + 0.5 = 1 <= 1: both at speed 1, done at L = 10 ms; the GPU is fully used.
  ScriptResult r = run_script({{0, 10 * kMs, 0.5}, {0, 10 * kMs, 0.5}});
  EXPECT_EQ(r.ends[0], 10 * kMs);
  EXPECT_EQ(r.ends[1], 10 * kMs);
  EXPECT_DOUBLE_EQ(r.load_ns, 10e6);
}

TEST(SharedGpu, OversubscribedKernelsShareInProportion) {
  // u = 0.8 + 0.8 = 1.6 > 1: each at speed 1/1.6 = 0.625, so 10 ms of solo work takes
  // 10 / 0.625 = 16 ms: both end at tick 16,000,000. Share min(1, 1.6) = 1 for 16 ms.
  ScriptResult r = run_script({{0, 10 * kMs, 0.8}, {0, 10 * kMs, 0.8}});
  EXPECT_EQ(r.ends[0], 16 * kMs);
  EXPECT_EQ(r.ends[1], 16 * kMs);
  EXPECT_DOUBLE_EQ(r.load_ns, 16e6);
  // Four kernels of u = 0.3 (Σu = 1.2, inexact in binary): 10 ms at speed 1/1.2 ends at
  // exactly 12 ms -- the rounding tolerance keeps a float error from adding a tick.
  r = run_script({{0, 10 * kMs, 0.3}, {0, 10 * kMs, 0.3}, {0, 10 * kMs, 0.3}, {0, 10 * kMs, 0.3}});
  for (SimTime t : r.ends) EXPECT_EQ(t, 12 * kMs);
}

TEST(SharedGpu, RatesChangeWhenAKernelStartsMidway) {
  // A (u 0.8, 10 ms) runs alone from 0 at speed 1: at 5 ms it has 5 ms of work left.
  // B (u 0.8, 10 ms) starts at 5 ms: Σu = 1.6, both at 0.625. A needs 5 / 0.625 = 8 ms
  // more: ends at 13 ms. By then B did 8 * 0.625 = 5 ms of its 10; alone again at speed 1
  // it ends 5 ms later, at 18 ms.
  ScriptResult r = run_script({{0, 10 * kMs, 0.8}, {5 * kMs, 10 * kMs, 0.8}});
  EXPECT_EQ(r.ends[0], 13 * kMs);
  EXPECT_EQ(r.ends[1], 18 * kMs);
  // Share: 0.8 for 5 ms, 1 for 8 ms, 0.8 for 5 ms.
  EXPECT_DOUBLE_EQ(r.load_ns, 0.8 * 5e6 + 8e6 + 0.8 * 5e6);
  EXPECT_DOUBLE_EQ(r.busy_ns, 18e6);
}

TEST(SharedGpu, InterferenceSlowsEveryKernelWhileShared) {
  // Σu = 1 fits, but interference 0.25 with k = 2 gives speed 1/(1 + 0.25) = 0.8:
  // 10 ms of work takes 12.5 ms.
  ScriptResult r = run_script({{0, 10 * kMs, 0.5}, {0, 10 * kMs, 0.5}}, 0.25);
  EXPECT_EQ(r.ends[0], 12'500'000);
  EXPECT_EQ(r.ends[1], 12'500'000);
  // One kernel alone never suffers interference.
  r = run_script({{0, 10 * kMs, 0.5}}, 0.25);
  EXPECT_EQ(r.ends[0], 10 * kMs);
}

TEST(SharedGpu, StragglerSlowdownAppliesOnlyWhileSharing) {
  // B has slowdown 1.25 (speed 0.8 while shared). A ends at 10 ms; B did 8 ms of work by
  // then and, alone, runs its last 2 ms at full speed: ends at 12 ms.
  ScriptResult r = run_script({{0, 10 * kMs, 0.5}, {0, 10 * kMs, 0.5, 1.25}});
  EXPECT_EQ(r.ends[0], 10 * kMs);
  EXPECT_EQ(r.ends[1], 12 * kMs);
}

TEST(SharedGpu, OneNanosecondKernelTakesOneNanosecond) {
  // A kernel of 1 ns solo work has it all left at the instant it starts, so it is not
  // "within 1 ns of done" then (it used to end at its start: 0 ns). Alone at speed 1 it
  // ends 1 ns later.
  ScriptResult r = run_script({{5, 1, 0.5}});
  EXPECT_EQ(r.ends[0], 6);
  // Two of u 0.8 from 0: speed 1 / 1.6 = 0.625, 1 / 0.625 = 1.6 ns, rounded up: both at 2.
  r = run_script({{0, 1, 0.8}, {0, 1, 0.8}});
  EXPECT_EQ(r.ends[0], 2);
  EXPECT_EQ(r.ends[1], 2);
  // One started at 3 beside a 10 ns kernel, Σu = 1 fits: speed 1, it ends at 4; the other
  // at 10.
  r = run_script({{0, 10, 0.5}, {3, 1, 0.5}});
  EXPECT_EQ(r.ends[0], 10);
  EXPECT_EQ(r.ends[1], 4);
}

// ticks() rounds up without calling ceil: the same whole ns as the library's ceil over
// random quotients at every scale, exact integers (which the 1e-12 tolerance keeps from
// rounding up), their neighbours one ulp either side, and the clamps.
TEST(SharedGpu, TicksEqualsLibraryCeil) {
  auto reference = [](double work, double speed) -> SimTime {
    if (work <= SharedGpu::kDoneNs) return 0;
    const double t = std::ceil((work / speed) * (1.0 - 1e-12));
    return t < 1.0 ? 1 : to_delay_ns(t);
  };
  std::mt19937_64 g(5);
  std::uniform_real_distribution<double> exponent(0, 62), unit(0.01, 1.0);
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const double work = 1.0 + std::pow(2.0, exponent(g));
    const double speed = unit(g);
    ASSERT_EQ(SharedGpu::ticks(work, speed), reference(work, speed)) << work << " / " << speed;
    const double whole = std::floor(work);
    for (double w : {whole, std::nextafter(whole, 0.0), std::nextafter(whole, 1e300)}) {
      ASSERT_EQ(SharedGpu::ticks(w, 1.0), reference(w, 1.0)) << w;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 600000);
  EXPECT_EQ(SharedGpu::ticks(0.5, 1.0), 0);        // done
  EXPECT_EQ(SharedGpu::ticks(1.5, 2.0), 1);        // 0.75 ns rounds up to the 1 ns minimum
  EXPECT_EQ(SharedGpu::ticks(1000.0, 1.0), 1000);  // an exact integer stays
  EXPECT_EQ(SharedGpu::ticks(1000.5, 1.0), 1001);
  EXPECT_EQ(SharedGpu::ticks(1e30, 1.0), kMaxDelay);
  EXPECT_EQ(SharedGpu::ticks(10.0, 0.0), kMaxDelay);  // no progress: never
}

TEST(SharedGpu, RandomKernelsAlwaysFinishAndNeverBeatSoloTime) {
  Rng rng(12345);
  for (int scenario = 0; scenario < 50; ++scenario) {
    std::vector<Kernel> ks;
    int n = 1 + static_cast<int>(rng.uniform() * 12);
    for (int i = 0; i < n; ++i) {
      ks.push_back({static_cast<SimTime>(rng.uniform() * 20e6),
                    1 + static_cast<SimTime>(rng.uniform() * 10e6), 0.05 + 0.95 * rng.uniform(),
                    1 + 0.5 * rng.uniform()});
    }
    ScriptResult r = run_script(ks, 0.3 * rng.uniform());
    for (int i = 0; i < n; ++i) {
      ASSERT_GE(r.ends[i], 0) << "kernel " << i << " of scenario " << scenario << " never ended";
      // Speed never exceeds 1, so a kernel takes at least its solo time (within the 1 ns
      // completion tolerance).
      EXPECT_GE(r.ends[i] - ks[i].at, ks[i].work - 1) << scenario << "/" << i;
    }
    // At most one live completion per start or finish (plus stale ones): bounded events.
    EXPECT_LE(r.events, static_cast<std::uint64_t>(4 * n)) << scenario;
    EXPECT_LE(r.load_ns, r.busy_ns * (1 + 1e-12));
  }
}

// ---------------------------------------------------------------------------------------
// The mps policy.

std::string at_zero(const std::string& model, int n, const std::string& extra = "") {
  // A closed loop issues n requests at t = 0; the 1 us duration stops replacements.
  return "  - {model: " + model + extra + ", arrival: {process: closed, n: " + std::to_string(n) +
         "}}\n";
}

TEST(Mps, TwoTenantsOneRequestEachByHand) {
  // Tenant 0: resnext101_64x4d, L(1) = 6.46 ms, peak throughput at b = 16 (16/60.23 per
  // ms), so u(1) = (1/6.46) / (16/60.23) = 60.23/103.36 = 0.582721.
  // Tenant 1: mobile_pose_resnet50_v1, L(1) = 3.29 ms, peak at 16 (16/29.92 per ms),
  // u(1) = 29.92/52.64 = 0.568389.
  // Σu = 1.151110 > 1: both run at 1/Σu. Tenant 1 finishes its 3.29 ms of work at
  // 3.29 * Σu = 3.29*60.23/103.36 + 29.92/16 = 1.917151 + 1.87 = 3.787151 ms
  // (3,787,150.74 ns, rounded up to 3,787,151). By then tenant 0 has done the same
  // 3.29 ms of solo work; its remaining 6.46 - 3.29 = 3.17 ms run alone at speed 1:
  // it ends at 3,787,151 + 3,170,000 = 6,957,151.
  Experiment x = experiment_from(
      v100_header(1e-6) + "policy: {name: mps, interference: 0, straggler_spread: 0}\ntenants:\n" +
      at_zero("resnext101_64x4d", 1) + at_zero("mobile_pose_resnet50_v1", 1));
  testing::CollectingSink sink;
  testing::run(x, &sink);
  ASSERT_EQ(sink.outcomes.size(), 2u);
  std::map<std::uint32_t, RequestOutcome> by_tenant;
  for (const auto& o : sink.outcomes) by_tenant[o.tenant] = o;
  EXPECT_EQ(by_tenant[1].end, 3'787'151);
  EXPECT_EQ(by_tenant[0].end, 6'957'151);
  EXPECT_EQ(by_tenant[0].start, 0);
  EXPECT_EQ(by_tenant[1].batch, 1);
}

TEST(Mps, TwoSaturatingBatchesTakeTheirCombinedWork) {
  // Two resnet50_v1 tenants with 4 requests each at t = 0: two batches of 4, L(4) = 5.61
  // ms, u(4) = (4/5.61)/(16/15.67). Σu = 1.3966 > 1: both end at 5.61 * 2 * u(4) =
  // 8 * 15.67 / 16 = 7.835 ms -- exactly the time the GPU needs for 8 requests at its
  // saturated throughput.
  Experiment x = experiment_from(
      v100_header(1e-6) + "policy: {name: mps, interference: 0, straggler_spread: 0}\ntenants:\n" +
      at_zero("resnet50_v1", 4) + at_zero("resnet50_v1", 4));
  testing::CollectingSink sink;
  testing::run(x, &sink);
  ASSERT_EQ(sink.outcomes.size(), 8u);
  for (const auto& o : sink.outcomes) {
    EXPECT_EQ(o.end, 7'835'000);
    EXPECT_EQ(o.batch, 4);
  }
}

TEST(Mps, DefaultInterferenceSlowsConcurrentBatches) {
  // Two resnet50_v1 requests (u(1) = 0.3752 each, Σu = 0.75 fits): with interference
  // 0.094 and no stragglers both run at 1/1.094: 2.61 ms * 1.094 = 2.85534 ms.
  Experiment x =
      experiment_from(v100_header(1e-6) + "policy: {name: mps, straggler_spread: 0}\ntenants:\n" +
                      at_zero("resnet50_v1", 1) + at_zero("resnet50_v1", 1));
  testing::CollectingSink sink;
  testing::run(x, &sink);
  ASSERT_EQ(sink.outcomes.size(), 2u);
  for (const auto& o : sink.outcomes) EXPECT_EQ(o.end, 2'855'340);
}

// A profile with L(1) = L(2) = 1e-6 ms = 1 ns (the least it may say): every batch takes
// 1 ns under every policy at batch granularity, shared or not. mps and space_time
// (SharedGpu) completed it at its start, in 0 ns (issue F10 of the third probe).
TEST(Mps, OneNanosecondBatchTakesOneNanosecondUnderEveryPolicy) {
  const std::string dir = ::testing::TempDir();
  const std::string profile = dir + "/infersim_one_ns_profile.yaml";
  std::ofstream(profile) << "gpu: v100\nmodels:\n  m:\n    input_kb: 100\n    output_kb: 4\n"
                            "    weights_mb: 100\n    transfer_ms: 10\n"
                            "    latency_ms: {1: 0.000001, 2: 0.000001}\n";
  for (const std::string policy : {"exclusive", "time_sliced", "mps", "space_time"}) {
    // Poisson arrivals at 1e6/s for 1 ms: about 1000 requests, nearly all alone.
    Experiment x = experiment_from(
        "name: t\nseed: 1\nduration_s: 0.001\nhardware: {profile: " + profile +
        ", gpu: v100, gpus_file: " + std::string(INFERSIM_SOURCE_DIR) +
        "/hardware_profiles/gpus.yaml}\npolicy: {name: " + policy +
        ", max_batch: 2}\ntenants:\n  - {model: m, arrival: {process: poisson, rate: 1e6}}\n");
    testing::CollectingSink sink;
    testing::run(x, &sink);
    ASSERT_GT(sink.outcomes.size(), 500u) << policy;
    for (const auto& o : sink.outcomes) {
      ASSERT_FALSE(o.dropped) << policy;
      ASSERT_EQ(o.end - o.start, 1) << policy << ": a batch of " << o.batch << " at " << o.start;
    }
  }
  std::remove(profile.c_str());
}

std::vector<RequestOutcome> sorted_outcomes(const Experiment& x) {
  testing::CollectingSink sink;
  testing::run(x, &sink);
  auto v = sink.outcomes;
  std::sort(v.begin(), v.end(), [](const RequestOutcome& a, const RequestOutcome& b) {
    return std::tie(a.arrival, a.end, a.tenant) < std::tie(b.arrival, b.end, b.tenant);
  });
  return v;
}

void expect_same_outcomes(const std::vector<RequestOutcome>& a,
                          const std::vector<RequestOutcome>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].arrival, b[i].arrival) << i;
    ASSERT_EQ(a[i].start, b[i].start) << i;
    ASSERT_EQ(a[i].end, b[i].end) << i;
    ASSERT_EQ(a[i].batch, b[i].batch) << i;
    ASSERT_EQ(a[i].dropped, b[i].dropped) << i;
  }
}

TEST(Mps, OneTenantIsExactlyExclusive) {
  // One tenant alone: no sharing, so neither interference nor straggler noise applies
  // (with the defaults, and with both set to 0), and every outcome equals exclusive's.
  const std::string tenants =
      "tenants:\n  - {model: resnet50_v1, slo_ms: 12, arrival: {process: gamma, rate: 700, "
      "cv: 2}}\n";
  for (const std::string batching :
       {"", ", batch_timeout_ms: 1.5", ", drop_late: true", ", max_batch: 4, drop_late: true"}) {
    auto ex = sorted_outcomes(
        experiment_from(v100_header(20) + "policy: {name: exclusive" + batching + "}\n" + tenants));
    ASSERT_GT(ex.size(), 10000u);
    auto mps = sorted_outcomes(
        experiment_from(v100_header(20) + "policy: {name: mps" + batching + "}\n" + tenants));
    expect_same_outcomes(ex, mps);
    auto mps0 = sorted_outcomes(experiment_from(
        v100_header(20) + "policy: {name: mps, interference: 0, straggler_spread: 0" + batching +
        "}\n" + tenants));
    expect_same_outcomes(ex, mps0);
  }
}

TEST(Mps, StragglersArePersistentPerTenantAndBoundedBySpread) {
  // Seed 003's saturated setting: two identical resnet50_v1 tenants, 4 requests always
  // outstanding each. With spread 0.25 each process keeps one slowdown in [1, 1.25], so
  // the tenants' mean latencies differ, by at most 25%. Runs are reproducible.
  const std::string yaml = v100_header(20, 1) +
                           "policy: {name: mps, interference: 0}\ntenants:\n"
                           "  - {model: resnet50_v1, replicas: 2, arrival: {process: closed, "
                           "n: 4}}\n";
  RunResult a = testing::run(experiment_from(yaml));
  RunResult b = testing::run(experiment_from(yaml));
  ASSERT_EQ(a.tenants.size(), 2u);
  EXPECT_EQ(a.tenants[0].mean_ms, b.tenants[0].mean_ms);
  EXPECT_EQ(a.tenants[1].completed, b.tenants[1].completed);
  double hi = std::max(a.tenants[0].mean_ms, a.tenants[1].mean_ms);
  double lo = std::min(a.tenants[0].mean_ms, a.tenants[1].mean_ms);
  EXPECT_GT(hi / lo, 1.001);
  EXPECT_LE(hi / lo, 1.25);
  // Without spread the tenants are symmetric.
  RunResult c = testing::run(experiment_from(yaml, {"policy.straggler_spread=0"}));
  EXPECT_NEAR(c.tenants[0].mean_ms, c.tenants[1].mean_ms, 1e-9);
  // A different replication draws different factors.
  RunResult d = testing::run(experiment_from(yaml), nullptr, 1);
  EXPECT_NE(a.tenants[0].mean_ms, d.tenants[0].mean_ms);
}

TEST(Mps, MoreTenantsThanMaxClientsIsAnInputError) {
  const std::string yaml = v100_header(1) +
                           "policy: {name: mps, max_clients: 2}\ntenants:\n"
                           "  - {model: resnet50_v1, replicas: 3, arrival: {process: poisson, "
                           "rate: 10}}\n";
  // Placement may reject it first (naming the tenant's line); the policy's factory checks
  // again for GPUs it is built for.
  EXPECT_THROW(testing::run(experiment_from(yaml)), InputError);
  // Spread over two GPUs, each has at most 2 clients.
  EXPECT_NO_THROW(testing::run(experiment_from(
      v100_header(1, 0, 2) +
      "policy: {name: mps, max_clients: 2}\ntenants:\n"
      "  - {model: resnet50_v1, replicas: 3, arrival: {process: poisson, rate: 10}}\n")));

  // The factory itself, given three tenants on one GPU.
  const PolicyInfo& info = testing::registries().policies.get("mps", Mark{});
  Params params = resolve_params(info.params, {{"max_clients", {2, Mark{}}}}, Mark{}, "policy");
  std::vector<TenantInfo> tenants;
  for (int i = 0; i < 3; ++i) tenants.push_back(testing::on_gpu("m/" + std::to_string(i), 0, 0.5));
  EngineConfig cfg;
  Engine engine(cfg, tenants);
  GpuSpec spec;
  try {
    info.create(PolicySetup{engine, 0, {0, 1, 2}, params, spec});
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("max_clients = 2"), std::string::npos) << e.what();
  }
  EXPECT_NE(info.create(PolicySetup{engine, 0, {0, 1}, params, spec}), nullptr);
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

struct Scenario {
  std::string yaml;
  int max_batch;
  std::vector<std::string> models;  // per tenant
};

Scenario random_scenario(Rng& rng, const std::string& policy_head) {
  Scenario s;
  const int n = 2 + static_cast<int>(rng.uniform() * 7);  // 2..8
  const int max_batches[] = {1, 2, 3, 4, 8, 16};
  s.max_batch = max_batches[static_cast<int>(rng.uniform() * 6)];
  const double timeouts[] = {0, 0, 0.5, 3};
  const double load = 0.3 + 1.2 * rng.uniform();  // up to overload
  std::string policy =
      policy_head + ", max_batch: " + std::to_string(s.max_batch) +
      ", batch_timeout_ms: " + std::to_string(timeouts[static_cast<int>(rng.uniform() * 4)]) +
      ", drop_late: " + (rng.uniform() < 0.5 ? "true" : "false") +
      ", interference: " + std::to_string(0.3 * rng.uniform());
  std::string tenants;
  const int distinct = 1 + static_cast<int>(rng.uniform() * 3);  // models drawn from a few
  for (int i = 0; i < n; ++i) {
    const PoolModel& m = kPool[static_cast<int>(rng.uniform() * 6 * distinct / 3) % 6];
    s.models.push_back(m.name);
    double rate = load * m.peak_rps / n;
    std::string arrival = rng.uniform() < 0.5
                              ? "{process: poisson, rate: " + std::to_string(rate) + "}"
                              : "{process: gamma, rate: " + std::to_string(rate) +
                                    ", cv: " + std::to_string(0.5 + 3 * rng.uniform()) + "}";
    std::string slo =
        rng.uniform() < 0.3 ? "" : ", slo_ms: " + std::to_string(5 + 100 * rng.uniform());
    tenants += "  - {model: " + std::string(m.name) + slo + ", arrival: " + arrival + "}\n";
  }
  s.yaml = v100_header(1.0) + "policy: " + policy + "}\ntenants:\n" + tenants;
  return s;
}

// Checks that hold for any policy: every request completes or is dropped exactly once,
// and the members of each batch (outcomes grouped by `key`) are reported together.
template <typename Key>
void check_invariants(const Scenario& s, Key key, const char* what) {
  testing::CollectingSink sink;
  RunResult r = testing::run(experiment_from(s.yaml), &sink);
  std::uint64_t requests = 0;
  std::vector<std::uint64_t> seen(r.tenants.size(), 0);
  for (std::size_t t = 0; t < r.tenants.size(); ++t) {
    const auto& ts = r.tenants[t];
    EXPECT_EQ(ts.completed + ts.dropped, ts.requests) << what << " tenant " << t << "\n" << s.yaml;
    requests += ts.requests;
  }
  ASSERT_EQ(sink.outcomes.size(), requests) << s.yaml;  // one outcome per request
  using K = decltype(key(sink.outcomes[0]));
  std::map<K, std::vector<const RequestOutcome*>> batches;
  for (const auto& o : sink.outcomes) {
    ++seen[o.tenant];
    ASSERT_GE(o.end, o.arrival) << s.yaml;
    if (o.dropped) {
      ASSERT_EQ(o.start, o.end);
      continue;
    }
    ASSERT_GE(o.start, o.arrival) << s.yaml;
    ASSERT_GT(o.end, o.start) << s.yaml;
    ASSERT_GE(o.batch, 1);
    ASSERT_LE(o.batch, s.max_batch) << s.yaml;
    batches[key(o)].push_back(&o);
  }
  for (std::size_t t = 0; t < r.tenants.size(); ++t) EXPECT_EQ(seen[t], r.tenants[t].requests);
  // Every batch: its requests start and end together and number exactly `batch`.
  for (const auto& [k, members] : batches) {
    for (const RequestOutcome* o : members) {
      ASSERT_EQ(o->end, members[0]->end) << s.yaml;
      ASSERT_EQ(o->batch, static_cast<int>(members.size())) << s.yaml;
    }
  }
  EXPECT_LE(r.gpu_load, r.gpu_busy + 1e-12);
  EXPECT_LE(r.gpu_busy, 1.0 + 1e-12);
}

TEST(Mps, RandomizedInvariants) {
  Rng rng(2024);
  for (int i = 0; i < 20; ++i) {
    Scenario s = random_scenario(
        rng, "{name: mps, straggler_spread: " + std::to_string(0.5 * rng.uniform()));
    SCOPED_TRACE(s.yaml);
    // mps: a batch is one tenant's, and a tenant runs one batch at a time: (tenant, start)
    // identifies it.
    check_invariants(
        s, [](const RequestOutcome& o) { return std::make_pair(o.tenant, o.start); }, "mps");
  }
}

}  // namespace
}  // namespace infersim
