// On-demand model loading (hardware.weights: on_demand; sim/core/engine_loading.cc): cold
// starts cost the profile's PCIe transfer time, one copy engine per GPU runs beside the
// kernels, idle weights are evicted least recently used first, and model_affinity routes to
// a replica whose GPU has the weights. Expected times are computed by hand.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tests/harness.h"

namespace infersim {
namespace {

using testing::CollectingSink;
using testing::experiment_from;

// A folder with a GPU file holding a small GPU ("tiny": 0.2 GiB = 204.8 MiB, otherwise a
// V100) and a tenant-keyed CSV trace; removed at the end of the test.
class Files {
 public:
  explicit Files(const std::string& trace_rows) {
    dir_ = std::filesystem::temp_directory_path() /
           ("infersim_loading_test_" + std::to_string(getpid()) + "_" + std::to_string(count_++));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "gpus.yaml")
        << "gpus:\n  tiny: {memory_gib: 0.2, fp32_tflops: 15.7, fp16_tflops: 125, "
           "memory_bandwidth_gbs: 900, sm_count: 80, pcie_gbs: 16}\n";
    std::ofstream(dir_ / "trace.csv") << "time_s,tenant\n" << trace_rows;
  }
  ~Files() { std::filesystem::remove_all(dir_); }
  std::string gpus() const { return (dir_ / "gpus.yaml").string(); }
  std::string trace() const { return (dir_ / "trace.csv").string(); }

  // One tiny GPU, no contexts or activation buffers (only weights take memory), space_time
  // with max_batch 1 and no interference.
  std::string header(const std::string& hardware_extra, int gpus = 1) const {
    return "name: t\nseed: 1\nduration_s: 1\n"
           "hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpus_file: " +
           this->gpus() + ", gpu: tiny, count: " + std::to_string(gpus) + ", activation_factor: 0" +
           hardware_extra +
           "}\n"
           "policy: {name: space_time, max_batch: 1, context_mib: 0, interference: 0}\n";
  }
  std::string arrival() const { return "{process: trace, path: " + trace() + "}"; }

 private:
  static inline int count_ = 0;
  std::filesystem::path dir_;
};

std::map<SimTime, RequestOutcome> by_arrival(const CollectingSink& s) {
  std::map<SimTime, RequestOutcome> m;
  for (const auto& o : s.outcomes) m[o.arrival] = o;
  return m;
}

constexpr SimTime kUs = 1'000;

// resnet50_v1 (a: 102.3 MB = 97.56 MiB, transfer 8.33 ms, L(1) 2.61 ms) and resnet101_v1
// (b: 178.3 MB = 170.04 MiB, transfer 14.54 ms, L(1) 5.27 ms) do not fit together in
// 204.8 MiB. a is preloaded (tenant order); requests a@0, b@1 ms, a@3 ms:
//   0      a resident: runs 0 -> 2.61
//   1      b absent: queued for the copy engine; it needs 170.04 MiB, 107.24 are free and
//          a is busy (only idle weights are evicted): the copy waits
//   2.61   a done, idle: evicted (LRU); b's copy 2.61 -> 2.61 + 14.54 = 17.15
//   3      a absent: queued behind b (one copy engine)
//   17.15  b resident: runs 17.15 -> 22.42; a's copy needs 97.56, 34.76 free, b busy: waits
//   22.42  b done, idle: evicted; a's copy 22.42 -> 22.42 + 8.33 = 30.75
//   30.75  a runs 30.75 -> 33.36
// Each switch costs exactly the incoming model's transfer time.
TEST(Loading, TwoModelsThatDoNotFitAlternate) {
  Files f("0,a\n0.001,b\n0.003,a\n");
  Experiment x = experiment_from(f.header(", weights: on_demand") +
                                 "tenants:\n"
                                 "  - {model: resnet50_v1, name: a, arrival: " +
                                 f.arrival() +
                                 "}\n"
                                 "  - {model: resnet101_v1, name: b, arrival: " +
                                 f.arrival() + "}\n");
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);
  auto m = by_arrival(sink);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].start, 0);
  EXPECT_EQ(m[0].end, 2'610 * kUs);
  EXPECT_EQ(m[1'000 * kUs].start, 17'150 * kUs);
  EXPECT_EQ(m[1'000 * kUs].end, 22'420 * kUs);
  EXPECT_EQ(m[3'000 * kUs].start, 30'750 * kUs);
  EXPECT_EQ(m[3'000 * kUs].end, 33'360 * kUs);
  // Cold starts: b once, a once (the reload); both of b's and one of a's two requests
  // waited for a load.
  EXPECT_EQ(r.tenants[0].cold_starts, 1u);
  EXPECT_EQ(r.tenants[1].cold_starts, 1u);
  EXPECT_DOUBLE_EQ(r.tenants[0].load_ms, 8.33);
  EXPECT_DOUBLE_EQ(r.tenants[1].load_ms, 14.54);
  EXPECT_DOUBLE_EQ(r.tenants[0].load_wait_fraction, 0.5);
  EXPECT_DOUBLE_EQ(r.tenants[1].load_wait_fraction, 1.0);
  EXPECT_EQ(r.all.cold_starts, 2u);
  EXPECT_DOUBLE_EQ(r.all.load_wait_fraction, 2.0 / 3.0);
  ASSERT_EQ(r.gpus.size(), 1u);
  EXPECT_EQ(r.gpus[0].cold_starts, 2u);
  EXPECT_EQ(r.gpus[0].evictions, 2u);
  // The copy engine ran 14.54 + 8.33 ms of the 33.36 ms window.
  EXPECT_NEAR(r.gpus[0].copy_busy, (14.54 + 8.33) / 33.36, 1e-12);
  // At most one model at a time: b's 170.04 MiB.
  EXPECT_NEAR(r.gpus[0].resident_peak_mib, 178.3e6 / 1048576.0, 1e-9);
}

// Three models that fit together (97.56 + 30.33 + 25.27 MiB), starting cold (preload:
// false). a = resnet50_v1 (8.33 ms copy, L(1) 2.61), b = densenet121 (2.59 ms, 3.80),
// c = googlenet (2.16 ms, 1.54); requests a@0, b@0.5 ms, c@1 ms:
//   0      a's copy 0 -> 8.33; b and c queue behind it (one copy engine)
//   8.33   a runs 8.33 -> 10.94; b's copy 8.33 -> 10.92 overlaps a's execution
//   10.92  b runs 10.92 -> 14.72; c's copy 10.92 -> 13.08 overlaps b's execution
//   13.08  c runs 13.08 -> 14.62 beside b (u(1) 0.29 + 0.29 <= 1, no interference: both at
//          solo speed)
// Serial copies and execution would have finished b at 8.33 + 2.61 + 2.59 + 3.80 = 17.33.
TEST(Loading, OneCopyEngineLoadsOverlapExecution) {
  Files f("0,a\n0.0005,b\n0.001,c\n");
  Experiment x = experiment_from(f.header(", weights: on_demand, preload: false") +
                                 "tenants:\n"
                                 "  - {model: resnet50_v1, name: a, arrival: " +
                                 f.arrival() +
                                 "}\n"
                                 "  - {model: densenet121, name: b, arrival: " +
                                 f.arrival() +
                                 "}\n"
                                 "  - {model: googlenet, name: c, arrival: " +
                                 f.arrival() + "}\n");
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);
  auto m = by_arrival(sink);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].start, 8'330 * kUs);
  EXPECT_EQ(m[0].end, 10'940 * kUs);
  EXPECT_EQ(m[500 * kUs].start, 10'920 * kUs);
  EXPECT_EQ(m[500 * kUs].end, 14'720 * kUs);
  EXPECT_EQ(m[1'000 * kUs].start, 13'080 * kUs);
  EXPECT_EQ(m[1'000 * kUs].end, 14'620 * kUs);
  EXPECT_EQ(r.all.cold_starts, 3u);
  EXPECT_EQ(r.gpus[0].evictions, 0u);
  EXPECT_DOUBLE_EQ(r.all.load_wait_fraction, 1.0);
}

// Without on-demand loading the two models of the first test do not fit: an input error
// that points to hardware.weights.
TEST(Loading, WithoutOnDemandTheModelsMustFit) {
  Files f("0,a\n");
  try {
    Experiment x = experiment_from(f.header("") +
                                   "tenants:\n"
                                   "  - {model: resnet50_v1, name: a, arrival: " +
                                   f.arrival() +
                                   "}\n"
                                   "  - {model: resnet101_v1, name: b, arrival: " +
                                   f.arrival() + "}\n");
    testing::run(x);
    ADD_FAILURE() << "placed two models that do not fit";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("on_demand"), std::string::npos) << e.what();
  }
  // And with it, a model larger than the GPU alone is still an error.
  EXPECT_THROW(testing::run(experiment_from(f.header(", weights: on_demand") +
                                            "tenants:\n"
                                            "  - {model: resnet152_v1, name: a, arrival: " +
                                            f.arrival() + "}\n")),
               InputError);
}

// model_affinity: a service of two resnet50_v1 replicas on two tiny GPUs; GPU 0 first holds
// x (resnet101_v1, placed there explicitly and preloaded first), so the replica there has
// no room for its weights while the other replica's are resident. model_affinity sends
// every request to the warm replica (no cold start); least_outstanding sends the first
// request to replica 0 whenever replicas tie.
// model_affinity's cold start goes where the weights fit without evicting: two services (a,
// b) of resnet101_v1 (178 MB each; a tiny GPU of 204.8 MiB holds one) with a replica on
// each of two empty tiny GPUs. a's request at 0 finds no weights anywhere and both GPUs
// idle: its first replica (tie) loads on that replica's GPU. b's request at 1 ms finds no
// weights either; on a's GPU they would not fit beside a's (loading, then running), on the
// other GPU they do, so b loads there at once, and its request takes what a's took (one
// load, then L(1)). Ties to the lowest index used to send b to its first replica too, and
// when that shared a's GPU it waited for a to finish and be evicted.
TEST(Loading, ModelAffinityColdStartsWhereTheWeightsFit) {
  Files f("0,a\n0.001,b\n");
  Experiment x = experiment_from(
      f.header(", weights: on_demand, preload: false", 2) +
      "tenants:\n"
      "  - {model: resnet101_v1, name: a, replicas: 2, router: model_affinity, arrival: " +
      f.arrival() +
      "}\n"
      "  - {model: resnet101_v1, name: b, replicas: 2, router: model_affinity, arrival: " +
      f.arrival() + "}\n");
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);
  // Tenants: 0 = a/0, 1 = a/1, 2 = b/0, 3 = b/1.
  ASSERT_EQ(r.tenants.size(), 4u);
  EXPECT_EQ(r.tenants[0].requests, 1u);  // a's tie: its first replica
  const std::uint32_t a_gpu = r.tenant_gpu[0];
  const std::uint32_t b_served = r.tenant_gpu[2] != a_gpu ? 2 : 3;
  ASSERT_NE(r.tenant_gpu[b_served], a_gpu);
  EXPECT_EQ(r.tenants[b_served].requests, 1u);
  EXPECT_EQ(r.tenants[5 - b_served].requests, 0u);
  EXPECT_EQ(r.all.cold_starts, 2u);
  const auto outcomes = by_arrival(sink);
  const RequestOutcome& a = outcomes.at(0);
  const RequestOutcome& b = outcomes.at(1'000'000);
  EXPECT_EQ(b.end - b.arrival, a.end - a.arrival);
}

TEST(Loading, ModelAffinityRoutesToTheWarmReplica) {
  Files f("0,s\n0.01,s\n0.02,s\n0.03,s\n");
  auto experiment = [&](const std::string& router) {
    return experiment_from(f.header(", weights: on_demand", 2) +
                           "tenants:\n"
                           "  - {model: resnet101_v1, name: x, gpu: 0, arrival: {process: "
                           "poisson, rate: 0.000001}}\n"
                           "  - {model: resnet50_v1, name: s, replicas: 2, router: " +
                           router + ", arrival: " + f.arrival() + "}\n");
  };
  Experiment warm = experiment("model_affinity");
  RunResult r = testing::run(warm);
  // Tenants: 0 = x, 1 = s/0, 2 = s/1. The replica on GPU 0 is the cold one.
  const std::uint32_t cold = r.tenant_gpu[1] == 0 ? 1 : 2;
  const std::uint32_t hot = 3 - cold;
  EXPECT_EQ(r.tenants[hot].requests, 4u);
  EXPECT_EQ(r.tenants[cold].requests, 0u);
  EXPECT_EQ(r.all.cold_starts, 0u);
  RunResult lo = testing::run(experiment("least_outstanding"));
  // Each request finds both replicas idle: a tie, so replica 0 (s/0) serves all four.
  EXPECT_EQ(lo.tenants[1].requests, 4u);
  EXPECT_EQ(lo.all.cold_starts, cold == 1 ? 1u : 0u);
}

}  // namespace
}  // namespace infersim
