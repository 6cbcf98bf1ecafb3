// Time conversions and the horizon (DESIGN.md "Horizon", sim/core/time.h): every
// time-valued input converts to int64 nanoseconds through one checked function; a value
// beyond the horizon (1e18 ns) is an input error at its position, never a wrapped-around
// number; delays computed at run time saturate; and values that used to be accepted and
// then kill the run are refused up front or run correctly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "sim/config/hardware_files.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using testing::experiment_from;
using testing::v100_header;

// ------------------------------------------------------------------- the conversion

TEST(TimeConversion, HorizonIsOneBillionSeconds) {
  EXPECT_EQ(to_ns_checked(1e9, TimeUnit::kSeconds),
            std::optional<SimTime>(1'000'000'000'000'000'000));
  EXPECT_EQ(to_ns_checked(1e12, TimeUnit::kMilliseconds), std::optional<SimTime>(kHorizon));
  EXPECT_EQ(to_ns_checked(1e15, TimeUnit::kMicroseconds), std::optional<SimTime>(kHorizon));
  // The next double above the horizon, in every unit.
  EXPECT_FALSE(to_ns_checked(std::nextafter(1e9, 2e9), TimeUnit::kSeconds));
  EXPECT_FALSE(to_ns_checked(std::nextafter(1e12, 2e12), TimeUnit::kMilliseconds));
  EXPECT_FALSE(to_ns_checked(std::nextafter(1e15, 2e15), TimeUnit::kMicroseconds));
}

TEST(TimeConversion, RefusesWhatDoesNotFitInsteadOfWrapping) {
  // 9.3e9 s = 9.3e18 ns is just above INT64_MAX (9.22e18); 1e30 and 1e308 far above.
  for (double s : {9.3e9, 1e30, 1e308, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN(), -1.0, -1e-12}) {
    EXPECT_FALSE(to_ns_checked(s, TimeUnit::kSeconds)) << s;
  }
  EXPECT_FALSE(to_ns_checked(1e13, TimeUnit::kMilliseconds));  // slo_ms: 1e13 = 1e19 ns
  EXPECT_FALSE(to_ns_checked(9.2e12, TimeUnit::kMilliseconds));
}

TEST(TimeConversion, RoundsToTheNearestNanosecond) {
  EXPECT_EQ(*to_ns_checked(2.61, TimeUnit::kMilliseconds), 2'610'000);
  EXPECT_EQ(*to_ns_checked(1.5e-9, TimeUnit::kSeconds), 2);  // ties away from zero
  EXPECT_EQ(*to_ns_checked(1.4e-3, TimeUnit::kMicroseconds), 1);
  EXPECT_EQ(*to_ns_checked(0, TimeUnit::kSeconds), 0);
}

TEST(TimeConversion, RunTimeDelaysSaturateAndSumsFit) {
  EXPECT_EQ(to_delay_ns(1e30), kMaxDelay);
  EXPECT_EQ(to_delay_ns(std::numeric_limits<double>::infinity()), kMaxDelay);
  EXPECT_EQ(to_delay_ns(std::numeric_limits<double>::quiet_NaN()), kMaxDelay);
  EXPECT_EQ(to_delay_ns(-3), 0);
  EXPECT_EQ(to_delay_ns(2.5), 3);
  // The clock never passes kClockLimit, so now + any delay fits in int64.
  EXPECT_LT(kClockLimit, kTimeMax - kMaxDelay);
  EXPECT_EQ(add_saturating(kTimeMax - 5, 10), kTimeMax);
  EXPECT_EQ(add_saturating(5, 10), 15);
}

// --------------------------------------------------- time-valued experiment keys
// Lines of v100_header: 1 name, 2 seed, 3 duration_s, 4 warmup_s, 5 hardware; then 6
// policy, 7 tenants:, 8 the tenant.

void expect_input_error(const std::string& yaml, int line, const std::string& needle) {
  try {
    experiment_from(yaml);
    ADD_FAILURE() << "expected an InputError for:\n" << yaml;
  } catch (const InputError& e) {
    EXPECT_EQ(e.mark().file, "test.yaml") << e.what();
    EXPECT_EQ(e.mark().line, line) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

std::string one_tenant(const std::string& header, const std::string& policy,
                       const std::string& tenant_extra, const std::string& arrival) {
  return header + "policy: {name: " + policy + "}\ntenants:\n  - {model: resnet50_v1" +
         tenant_extra + ", arrival: {" + arrival + "}}\n";
}

// Before: duration_s 1e30, 1e308 or 9.3e9 wrapped to a negative number of ns and the run
// simulated 0 requests with exit status 0.
TEST(Horizon, DurationBeyondHorizonIsAnInputErrorNotZeroRequests) {
  for (const char* d : {"1e30", "1e308", "9.3e9", "1000000001"}) {
    std::string yaml = one_tenant(std::string("name: t\nseed: 7\nduration_s: ") + d +
                                      "\nwarmup_s: 0\nhardware: {profile: "
                                      "hardware_profiles/v100_clockwork.yaml, gpu: v100}\n",
                                  "exclusive", "", "process: poisson, rate: 10");
    expect_input_error(yaml, 3, "expected 'duration_s' <= 1e+09 s (the time horizon");
  }
  // At the horizon exactly it is accepted (and converts exactly).
  Experiment x =
      experiment_from(one_tenant(v100_header(1e9), "exclusive", "", "process: poisson, rate: 10"));
  EXPECT_EQ(x.duration, kHorizon);
}

// Before: warmup_s 1e30 with duration_s 1e31 gave a negative window.
TEST(Horizon, WarmupBeyondHorizonIsAnInputErrorNotANegativeWindow) {
  expect_input_error(one_tenant("name: t\nduration_s: 1e31\nwarmup_s: 1e30\nhardware: {profile: "
                                "hardware_profiles/v100_clockwork.yaml}\n",
                                "exclusive", "", "process: poisson, rate: 10"),
                     2, "expected 'duration_s' <= 1e+09 s");
  expect_input_error(one_tenant("name: t\nduration_s: 10\nwarmup_s: 1e30\nhardware: {profile: "
                                "hardware_profiles/v100_clockwork.yaml}\n",
                                "exclusive", "", "process: poisson, rate: 10"),
                     3, "expected 'warmup_s' <= 1e+09 s");
}

// Before: slo_ms 1e13 (1e19 ns) wrapped to a negative SLO and SLO attainment read 0.
TEST(Horizon, SloBeyondHorizonIsAnInputErrorNotZeroAttainment) {
  expect_input_error(
      one_tenant(v100_header(1), "exclusive", ", slo_ms: 1e13", "process: poisson, rate: 10"), 8,
      "expected 'slo_ms' <= 1e+12 ms");
  // An SLO at the horizon is met by every request: deadlines are arrival + 1e18 ns.
  Experiment x = experiment_from(
      one_tenant(v100_header(0.5), "exclusive", ", slo_ms: 1e12", "process: poisson, rate: 100"));
  RunResult r = testing::run(x);
  ASSERT_GT(r.all.completed, 20u);
  EXPECT_EQ(r.all.met_slo, r.all.completed);
  EXPECT_DOUBLE_EQ(r.all.slo_attainment, 1.0);
}

// Before: batch_timeout_ms 1e30 behaved like greedy batching, and 9.2e12 gave a negative
// mean latency.
TEST(Horizon, BatchTimeoutBeyondHorizonIsAnInputError) {
  for (const char* t : {"1e30", "9.2e12", "1.0000001e12"}) {
    expect_input_error(one_tenant(v100_header(1), std::string("exclusive, batch_timeout_ms: ") + t,
                                  "", "process: poisson, rate: 10"),
                       6, "expected 'batch_timeout_ms' <= 1e+12 ms (the time horizon");
  }
}

// Every declared time-valued policy and arrival setting goes through the same check.
TEST(Horizon, EveryTimeValuedSettingIsChecked) {
  const std::string h = v100_header(1);
  const std::string poisson = "process: poisson, rate: 10";
  expect_input_error(one_tenant(h, "time_sliced, quantum_ms: 1e13", "", poisson), 6,
                     "'quantum_ms' > 0 and <= 1000000");  // its own, tighter, range
  expect_input_error(one_tenant(h, "time_sliced, switch_us: 2e15", "", poisson), 6,
                     "'switch_us' >= 0 and <= 1000000");
  expect_input_error(one_tenant(h, "space_time, evict_ms: 2e12", "", poisson), 6,
                     "expected 'evict_ms' <= 1e+12 ms (the time horizon");
  // Before: think_ms 1e13 failed the run with "event scheduled in the past".
  expect_input_error(one_tenant(h, "exclusive", "", "process: closed, n: 1, think_ms: 1e13"), 8,
                     "expected 'think_ms' <= 1e+12 ms (the time horizon");
}

// Before: quantum_ms 1e-7 (0.1 ns) rounded to 0 and the run died with "quantum must be
// positive"; a positive time must be at least 1 ns.
TEST(Horizon, PositiveTimeBelowOneNanosecondIsAnInputError) {
  expect_input_error(
      one_tenant(v100_header(1), "time_sliced, quantum_ms: 1e-7", "", "process: poisson, rate: 10"),
      6, "expected 'quantum_ms' >= 1e-06 ms (1 ns");
  expect_input_error(one_tenant("name: t\nduration_s: 1e-10\nhardware: {profile: "
                                "hardware_profiles/v100_clockwork.yaml}\n",
                                "exclusive", "", "process: poisson, rate: 10"),
                     2, "expected 'duration_s' >= 1e-9 (1 ns)");
}

// Before: cv 1e-200 made the gamma shape 1/cv^2 infinite and the run died ("time went
// backwards"); cv is now bounded below.
TEST(Horizon, GammaCvTooSmallToSampleIsAnInputError) {
  expect_input_error(
      one_tenant(v100_header(1), "exclusive", "", "process: gamma, rate: 10, cv: 1e-200"), 8,
      "expected 'cv' >= 1e-06 and <= 1000, got 1e-200");
  // The smallest allowed cv runs: nearly regular gaps at the requested rate.
  Experiment x = experiment_from(
      one_tenant(v100_header(1), "exclusive", "", "process: gamma, rate: 100, cv: 1e-6"));
  RunResult r = testing::run(x);
  EXPECT_NEAR(static_cast<double>(r.all.requests), 100, 1);
}

// Before: a rate of 1e-12/s drew a first gap of ~1e12 s = 1e21 ns, which wrapped to a
// negative time ("time went backwards", exit 1). A gap past the horizon saturates and lies
// beyond any duration: no arrivals, a clean run.
TEST(Horizon, RateWhoseFirstGapIsPastTheHorizonMeansNoArrivals) {
  for (const char* process : {"poisson", "constant"}) {
    Experiment x = experiment_from(one_tenant(
        v100_header(1e9), "exclusive", "", std::string("process: ") + process + ", rate: 1e-12"));
    RunResult r = testing::run(x);
    EXPECT_EQ(r.all.requests, 0u) << process;
    EXPECT_EQ(r.window_s, 0) << process;
  }
  Experiment x = experiment_from(
      one_tenant(v100_header(1e9), "exclusive", "", "process: gamma, rate: 1e-12, cv: 4"));
  EXPECT_NO_THROW(testing::run(x));
}

// ------------------------------------------------------------- profile latencies

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("infersim_horizon_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream((path_ / name).string()) << text;
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

std::string profile_with_latencies(const std::string& latencies) {
  return "gpu: v100\nmodels:\n  m1:\n    input_kb: 602\n    output_kb: 4\n    weights_mb: 10\n"
         "    transfer_ms: 1\n    latency_ms: " +
         latencies + "\n";
}

std::string experiment_on(const std::string& profile, double duration_s, const std::string& policy,
                          const std::string& arrival) {
  return "name: t\nduration_s: " + std::to_string(duration_s) + "\nhardware: {profile: " + profile +
         ", gpus_file: " + INFERSIM_SOURCE_DIR +
         "/hardware_profiles/gpus.yaml}\npolicy: {name: " + policy +
         "}\ntenants:\n  - {model: m1, arrival: {" + arrival + "}}\n";
}

// Before: a profile latency of 1e30 ms was accepted and the run died at run time.
TEST(Horizon, ProfileLatencyBeyondHorizonIsAnInputErrorInTheProfile) {
  TempDir dir;
  const std::string profile = dir.write("p.yaml", profile_with_latencies("{1: 1e30, 2: 1e30}"));
  try {
    load_profile(profile);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.mark().file, profile);
    EXPECT_EQ(e.mark().line, 8) << e.what();
    EXPECT_NE(std::string(e.what()).find("<= 1e+12 ms (the time horizon"), std::string::npos)
        << e.what();
  }
}

// L(b) past the largest profiled size is extrapolated; the table a run uses goes up to the
// policy's max_batch, so its last entry must be within the horizon too. L(1) = 1e11,
// L(2) = 2e11 ms: L(16) = 1.6e12 ms > 1e12 (max_batch 16), while L(8) = 8e11 fits.
TEST(Horizon, ExtrapolatedLatencyAtMaxBatchBeyondHorizonIsAnInputError) {
  TempDir dir;
  const std::string profile = dir.write("p.yaml", profile_with_latencies("{1: 1e11, 2: 2e11}"));
  const std::string exp =
      experiment_on(profile, 1, "exclusive, max_batch: 16", "process: poisson, rate: 1");
  try {
    experiment_from(exp);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.mark().line, 6) << e.what();
    EXPECT_NE(std::string(e.what()).find("L(16) = 1.6e+12 ms"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(experiment_from(
      experiment_on(profile, 1, "exclusive, max_batch: 8", "process: poisson, rate: 1")));
}

// Inputs within the horizon can still carry the clock past what int64 holds, with enough
// huge batches in a row. The engine stops such a run with a run-time error (exit status
// 1), never a wrapped clock. L(1) = L(2) = 1e12 ms = 1e18 ns (the horizon); constant
// arrivals every 1e17 ns (rate 1e-8/s) at 1e17, 2e17, ..., 9e17 (duration 1e18 ns);
// max_batch 1: batches end at 1.1e18, 2.1e18, 3.1e18, and the fourth would end at 4.1e18,
// past the clock limit of 4e18.
TEST(Horizon, ClockPastTheLimitIsARunTimeErrorNotAWrap) {
  TempDir dir;
  const std::string profile = dir.write("p.yaml", profile_with_latencies("{1: 1e12, 2: 1e12}"));
  Experiment x = experiment_from(
      experiment_on(profile, 1e9, "exclusive, max_batch: 1", "process: constant, rate: 1e-8"));
  try {
    testing::run(x);
    FAIL() << "expected a run-time error";
  } catch (const InputError& e) {
    FAIL() << "not an input error: " << e.what();
  } catch (const std::logic_error& e) {
    FAIL() << "not an internal error: " << e.what();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("clock limit"), std::string::npos) << e.what();
  }
}

// ------------------------------------------------------ declared parameters (ParamSpec)

TEST(TimeParams, TimeKindsConvertOnceAndCheckTheHorizon) {
  const std::vector<ParamSpec> specs{
      {"wait_ms", ParamKind::kMilliseconds, 1.5, "a wait", 0},
      {"slice_us", ParamKind::kMicroseconds, 25, "a slice", 0, 1e9, true},
      {"count", ParamKind::kNumber, 3, "not a time", 0}};
  Params p = resolve_params(specs, {}, Mark{"f", 1, 1}, "test");
  EXPECT_EQ(p.get_ns("wait_ms"), 1'500'000);
  EXPECT_EQ(p.get_ns("slice_us"), 25'000);
  EXPECT_THROW(p.get_ns("count"), std::logic_error);
  Params q = resolve_params(specs, {{"wait_ms", {2.5, Mark{"f", 4, 9}}}}, Mark{"f", 1, 1}, "test");
  EXPECT_EQ(q.get_ns("wait_ms"), 2'500'000);
  try {
    resolve_params(specs, {{"wait_ms", {1e13, Mark{"f", 4, 9}}}}, Mark{"f", 1, 1}, "test");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.mark().line, 4);
    EXPECT_NE(std::string(e.what()).find("'wait_ms' <= 1e+12 ms"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_params(specs, {{"slice_us", {1e-4, Mark{"f", 5, 1}}}}, Mark{}, "test"),
               InputError);  // 0.1 ns: positive, but no whole nanosecond
}

TEST(TimeParams, BooleansAreZeroOrOne) {
  const std::vector<ParamSpec> specs{{"flag", ParamKind::kBool, 0, "a switch", 0, 1}};
  EXPECT_THROW(resolve_params(specs, {{"flag", {0.5, Mark{"f", 2, 1}}}}, Mark{}, "test"),
               InputError);
  EXPECT_TRUE(resolve_params(specs, {{"flag", {1, Mark{}}}}, Mark{}, "test").get_bool("flag"));
}

}  // namespace
}  // namespace infersim
