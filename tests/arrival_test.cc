// Arrival processes beyond Poisson: Markov-modulated on/off, the piecewise-linear (diurnal)
// rate curve, and Zipf popularity across the replicas of an entry. Expected values come from
// the processes' definitions (integrated rates, index of dispersion), not from the program.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "tests/harness.h"

namespace infersim {
namespace {

using testing::CollectingSink;
using testing::experiment_from;
using testing::v100_header;

std::vector<SimTime> arrivals(const std::string& arrival, double duration_s) {
  Experiment x = experiment_from(v100_header(duration_s) +
                                 "policy: {name: space_time}\ntenants:\n"
                                 "  - {model: resnet18_v1, arrival: " +
                                 arrival + "}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  std::vector<SimTime> t;
  for (const auto& o : sink.outcomes) t.push_back(o.arrival);
  return t;
}

// On at 1000/s for 50 ms on average, off (silent) for 150 ms on average: mean rate
// 1000 x 0.05 / 0.2 = 250/s. Counts in 1 s windows are overdispersed: for this two-state
// process the index of dispersion at T = 1 s is 1 + 2 r_on r_off lambda^2 /
// ((r_on + r_off)^2 lambda r_off) (1 - (1 - e^-sT)/(sT)) with r_on = 20/s, r_off = 6.67/s,
// s = r_on + r_off: about 55. A Poisson process has 1.
TEST(Arrivals, OnOffRateAndBurstiness) {
  const double T = 400;
  auto t = arrivals("{process: onoff, rate: 1000, on_s: 0.05, off_s: 0.15}", T);
  // Mean: 250 x 400 = 100000; sd = sqrt(100000 x IDC(400 s) ~ 56) ~ 2370.
  EXPECT_NEAR(static_cast<double>(t.size()), 100000.0, 4 * 2370.0);
  std::vector<double> per_second(static_cast<std::size_t>(T), 0.0);
  for (SimTime a : t) per_second[static_cast<std::size_t>(a / 1'000'000'000)] += 1;
  double mean = 0, var = 0;
  for (double c : per_second) mean += c / T;
  for (double c : per_second) var += (c - mean) * (c - mean) / (T - 1);
  const double idc = var / mean;
  EXPECT_GT(idc, 30.0);
  EXPECT_LT(idc, 90.0);
}

// rates [0, 2000] over a 2 s period: the rate climbs linearly from 0 to 2000/s in the first
// second and falls back in the second. Per period, [0, 0.5) s holds the integral
// 2000 x 0.5^2 / 2 = 250 requests and [0.5, 1) s holds 1000 - 250 = 750; over 50 periods,
// 12500 and 37500, each within 4 Poisson sigmas.
TEST(Arrivals, DiurnalFollowsItsRateCurve) {
  auto t = arrivals("{process: diurnal, rates: [0, 2000], period_s: 2}", 100);
  double quarter[4] = {0, 0, 0, 0};
  for (SimTime a : t) quarter[(a % 2'000'000'000) / 500'000'000] += 1;
  EXPECT_NEAR(quarter[0], 12500, 4 * std::sqrt(12500.0));
  EXPECT_NEAR(quarter[1], 37500, 4 * std::sqrt(37500.0));
  EXPECT_NEAR(quarter[2], 37500, 4 * std::sqrt(37500.0));
  EXPECT_NEAR(quarter[3], 12500, 4 * std::sqrt(12500.0));
  // phase_s 1 starts the run at the peak: the first half second now holds 750 per period.
  auto shifted = arrivals("{process: diurnal, rates: [0, 2000], period_s: 2, phase_s: 1}", 100);
  double first = 0;
  for (SimTime a : shifted) first += (a % 2'000'000'000) < 500'000'000 ? 1 : 0;
  EXPECT_NEAR(first, 37500, 4 * std::sqrt(37500.0));
}

// Settings whose next arrival lies far past the run's end stop at the end instead of
// walking towards it. onoff at 1e-12/s with 1 s stays: about 3e4 years away, one state per
// second (the search used to take hours; now two states). diurnal at 1e-12/s: its period
// count times the period used to overflow int64 (UBSan) and the run failed; rates [1e-300,
// 0] looped over pieces for ever. All three give no arrival in 2 s.
TEST(Arrivals, ModulatedProcessesStopAtTheRunsEnd) {
  EXPECT_TRUE(arrivals("{process: onoff, rate: 1e-12, on_s: 1, off_s: 1}", 2).empty());
  EXPECT_TRUE(arrivals("{process: diurnal, rates: [1e-12, 1e-12]}", 2).empty());
  EXPECT_TRUE(arrivals("{process: diurnal, rates: [1e-300, 0]}", 2).empty());
}

// A period far shorter than the gaps: 1 us periods at a flat 500/s over 20 s. A gap spans
// about 2,000 periods, which are skipped whole; the count is Poisson with mean 10,000
// (sd 100), and the gaps' mean is 2 ms. A sub-nanosecond stay or period is an input error
// (a time of at least 1 ns, as everywhere else).
TEST(Arrivals, DiurnalSkipsWholePeriods) {
  auto t = arrivals("{process: diurnal, rates: [500, 500], period_s: 1e-6}", 20);
  EXPECT_NEAR(static_cast<double>(t.size()), 10000.0, 4 * 100.0);
  // A period of 1.5 ns is 2 whole ns (as every time is rounded), and the rate stays 500/s;
  // with positions in whole periods of 2 ns but the rate integrated over 1.5 ns, it was 72%.
  auto odd = arrivals("{process: diurnal, rates: [500, 500], period_s: 1.5e-9}", 20);
  EXPECT_NEAR(static_cast<double>(odd.size()), 10000.0, 4 * 100.0);
  for (const char* bad : {"{process: onoff, rate: 100, on_s: 1e-10, off_s: 1}",
                          "{process: diurnal, rates: [100], period_s: 1e-10}"}) {
    EXPECT_THROW(arrivals(bad, 2), InputError) << bad;
  }
}

// popularity: {zipf: 1} over 4 replicas: weights 1, 1/2, 1/3, 1/4 of 25/12, i.e. 12/25,
// 6/25, 4/25, 3/25 of one Poisson stream of 10000/s for 10 s; each replica's count within 4
// binomial sigmas of its share.
TEST(Arrivals, ZipfPopularitySplitsOneStream) {
  Experiment x = experiment_from(v100_header(10) +
                                 "policy: {name: space_time}\ntenants:\n"
                                 "  - {model: resnet18_v1, replicas: 4, arrival: {process: "
                                 "poisson, rate: 10000, popularity: {zipf: 1}}}\n");
  RunResult r = testing::run(x);
  double total = 0;
  for (const auto& t : r.tenants) total += static_cast<double>(t.requests);
  EXPECT_NEAR(total, 100000, 4 * std::sqrt(100000.0));
  const double share[4] = {12.0 / 25, 6.0 / 25, 4.0 / 25, 3.0 / 25};
  for (int i = 0; i < 4; ++i) {
    const double sd = std::sqrt(total * share[i] * (1 - share[i]));
    EXPECT_NEAR(static_cast<double>(r.tenants[i].requests), total * share[i], 4 * sd) << i;
  }
}

// With a router an entry's services are its instances: instances 2 x replicas 2, zipf 1:
// instance 0 gets 1 / (1 + 1/2) = 2/3 of the stream, instance 1 gets 1/3, and round robin
// halves each over its replicas: 1/3, 1/3, 1/6, 1/6 (README "Trace replay and arrival
// processes"; without the router the four replicas are four ranks, as above).
TEST(Arrivals, ZipfPopularityRanksInstancesWhenTheyHaveARouter) {
  Experiment x = experiment_from(v100_header(10) +
                                 "policy: {name: space_time}\ntenants:\n"
                                 "  - {model: resnet18_v1, instances: 2, replicas: 2, router: "
                                 "round_robin, arrival: {process: poisson, rate: 10000, "
                                 "popularity: {zipf: 1}}}\n");
  RunResult r = testing::run(x);
  ASSERT_EQ(r.tenants.size(), 4u);
  double total = 0;
  for (const auto& t : r.tenants) total += static_cast<double>(t.requests);
  const double share[4] = {1.0 / 3, 1.0 / 3, 1.0 / 6, 1.0 / 6};
  for (int i = 0; i < 4; ++i) {
    // Round robin deals an instance's requests alternately: its replicas differ by at most 1.
    const double sd = std::sqrt(total * share[i] * (1 - share[i]));
    EXPECT_NEAR(static_cast<double>(r.tenants[i].requests), total * share[i], 4 * sd) << i;
  }
  EXPECT_LE(std::abs(static_cast<double>(r.tenants[0].requests) -
                     static_cast<double>(r.tenants[1].requests)),
            1);
}

}  // namespace
}  // namespace infersim
