// Services and routers: one arrival stream per service, a router picks the replica.
// round_robin spreads exactly, least_outstanding follows a schedule computed by hand, random
// and power_of_two balance, and a router's prefetch hint changes no pick; /tenants keeps one row
// per replica.
#include "sim/core/router.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/engine.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using testing::CollectingSink;
using testing::experiment_from;
using testing::v100_header;

// A CSV trace in a temporary file, removed at the end of the test.
class Trace {
 public:
  explicit Trace(const std::string& rows) {
    path_ = (std::filesystem::temp_directory_path() /
             ("infersim_router_test_" + std::to_string(getpid()) + "_" + std::to_string(count_++) +
              ".csv"))
                .string();
    std::ofstream(path_) << "time_s,model\n" << rows;
  }
  ~Trace() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int count_ = 0;
  std::string path_;
};

// The replica (tenant) of each request, in arrival order.
std::vector<std::uint32_t> replicas_in_order(const CollectingSink& sink) {
  std::multimap<SimTime, std::uint32_t> m;
  for (const auto& o : sink.outcomes) m.emplace(o.arrival, o.tenant);
  std::vector<std::uint32_t> out;
  for (const auto& [t, tenant] : m) out.push_back(tenant);
  return out;
}

std::string service(int replicas, const std::string& router, const std::string& arrival) {
  return "  - {model: resnet50_v1, replicas: " + std::to_string(replicas) + ", router: " + router +
         ", arrival: " + arrival + "}\n";
}

// Seven requests over three replicas: request k goes to replica k mod 3, and every replica
// is a row of /tenants.
TEST(Router, RoundRobinSpreadsExactly) {
  Experiment x = experiment_from(v100_header(1, 0, 3) + "policy: {name: exclusive}\ntenants:\n" +
                                 service(3, "round_robin", "{process: constant, rate: 70}"));
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);
  // constant 70/s for 1 s: arrivals at k/70 s, k = 1..69 (the 70th falls at the horizon).
  const auto order = replicas_in_order(sink);
  ASSERT_EQ(order.size(), 69u);
  for (std::size_t k = 0; k < order.size(); ++k) EXPECT_EQ(order[k], k % 3) << k;
  ASSERT_EQ(r.tenants.size(), 3u);
  for (const auto& t : r.tenants) EXPECT_EQ(t.requests, 23u);
  ASSERT_EQ(x.services.size(), 1u);
  EXPECT_EQ(x.tenants[2].name, "resnet50_v1/2");
}

// Two replicas on their own GPUs (exclusive, max_batch 1: a request takes L(1) = 2.61 ms),
// requests at 0, 3, 6, 9, 10, 10.1, 10.2 ms; least_outstanding, ties to replica 0:
//   0     (0,0) tie -> R0, runs 0..2.61
//   3     (0,0) tie -> R0, 3..5.61         (round robin would send it to R1)
//   6     (0,0) tie -> R0, 6..8.61
//   9     (0,0) tie -> R0, 9..11.61
//   10    (1,0)     -> R1, 10..12.61
//   10.1  (1,1) tie -> R0, queued: 11.61..14.22
//   10.2  (2,1)     -> R1, queued: 12.61..15.22
TEST(Router, LeastOutstandingScheduleByHand) {
  Trace t(
      "0,resnet50_v1\n0.003,resnet50_v1\n0.006,resnet50_v1\n0.009,resnet50_v1\n"
      "0.010,resnet50_v1\n0.0101,resnet50_v1\n0.0102,resnet50_v1\n");
  Experiment x =
      experiment_from(v100_header(1, 0, 2) + "policy: {name: exclusive, max_batch: 1}\ntenants:\n" +
                      service(2, "least_outstanding", "{process: trace, path: " + t.path() + "}"));
  CollectingSink sink;
  testing::run(x, &sink);
  std::map<SimTime, RequestOutcome> by_arrival;
  for (const auto& o : sink.outcomes) by_arrival[o.arrival] = o;
  const SimTime ms = 1'000'000;
  struct Want {
    SimTime arrival;
    std::uint32_t replica;
    SimTime start, end;
  };
  const std::vector<Want> want{
      {0, 0, 0, 2'610'000},
      {3 * ms, 0, 3 * ms, 5'610'000},
      {6 * ms, 0, 6 * ms, 8'610'000},
      {9 * ms, 0, 9 * ms, 11'610'000},
      {10 * ms, 1, 10 * ms, 12'610'000},
      {10'100'000, 0, 11'610'000, 14'220'000},
      {10'200'000, 1, 12'610'000, 15'220'000},
  };
  ASSERT_EQ(by_arrival.size(), want.size());
  for (const Want& w : want) {
    const RequestOutcome& o = by_arrival.at(w.arrival);
    EXPECT_EQ(o.tenant, w.replica) << w.arrival;
    EXPECT_EQ(o.start, w.start) << w.arrival;
    EXPECT_EQ(o.end, w.end) << w.arrival;
  }
}

// random: each of 4 replicas gets 1/4 of 40000 requests within 4 binomial sigmas
// (sqrt(40000 * 1/4 * 3/4) = 86.6). power_of_two keeps replicas at least as balanced under
// the same load; both are deterministic for a seed.
TEST(Router, RandomAndPowerOfTwoBalance) {
  for (const char* router : {"random", "power_of_two"}) {
    Experiment x = experiment_from(v100_header(10, 0, 4) + "policy: {name: exclusive}\ntenants:\n" +
                                   service(4, router, "{process: poisson, rate: 4000}"));
    RunResult a = testing::run(x);
    RunResult b = testing::run(x);
    std::uint64_t total = 0;
    for (const auto& t : a.tenants) total += t.requests;
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_NEAR(static_cast<double>(a.tenants[i].requests), total / 4.0, 4 * 86.6) << router;
      EXPECT_EQ(a.tenants[i].requests, b.tenants[i].requests);
    }
  }
}

// A service's replicas are spread over the GPUs, and a router is an input error on a bad
// name; `instances` makes several services of one entry.
TEST(Router, InstancesPlacementAndErrors) {
  Experiment x = experiment_from(v100_header(1, 0, 4) +
                                 "policy: {name: space_time}\ntenants:\n"
                                 "  - {model: resnet50_v1, instances: 3, replicas: 2, router: "
                                 "least_outstanding, arrival: {process: poisson, rate: 100}}\n");
  ASSERT_EQ(x.services.size(), 3u);
  ASSERT_EQ(x.tenants.size(), 6u);
  EXPECT_EQ(x.services[1].name, "resnet50_v1.1");
  EXPECT_EQ(x.tenants[3].name, "resnet50_v1.1/1");
  RunResult r = testing::run(x);
  for (std::uint32_t s = 0; s < 3; ++s) {
    EXPECT_NE(r.tenant_gpu[2 * s], r.tenant_gpu[2 * s + 1]) << "service " << s;
  }
  EXPECT_THROW(experiment_from(v100_header(1) +
                               "policy: {name: exclusive}\ntenants:\n"
                               "  - {model: resnet50_v1, router: nearest, arrival: {process: "
                               "poisson, rate: 100}}\n"),
               InputError);
}

// Router::prefetch is a hint: calls of it between picks change no pick. Two routers of each
// kind built alike (same service name, so the same random stream) on an engine of 4
// tenants; one is asked to prefetch three times before every pick, and both must pick the
// same 1,000 replicas. (A prefetch that drew from the router's own generator would shift
// every later pick.)
TEST(Router, PrefetchChangesNoPick) {
  const Registries reg = testing::registries().view();
  std::vector<TenantInfo> tenants;
  for (int i = 0; i < 4; ++i) tenants.push_back(testing::on_gpu("t" + std::to_string(i), 0));
  EngineConfig cfg;
  cfg.duration = 1;
  Engine e(cfg, std::move(tenants));
  const std::vector<std::uint32_t> replicas{0, 1, 2, 3};
  for (const char* name :
       {"round_robin", "random", "least_outstanding", "power_of_two", "model_affinity"}) {
    const RouterInfo& info = reg.routers.get(name, Mark{});
    const Params params = resolve_params(info.params, {}, Mark{}, "router");
    const RouterSetup setup{e, "svc", replicas, params};
    std::unique_ptr<Router> plain = info.create(setup), hinted = info.create(setup);
    for (int k = 0; k < 1000; ++k) {
      for (int h = 0; h < 3; ++h) hinted->prefetch();
      ASSERT_EQ(hinted->pick(), plain->pick()) << name << " pick " << k;
    }
  }
}

}  // namespace
}  // namespace infersim
