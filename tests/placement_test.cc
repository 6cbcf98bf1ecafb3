// GPU memory and placement: seed 003's memory wall, and load-spreading placement.
#include <gtest/gtest.h>

#include "tests/harness.h"

namespace infersim {
namespace {

using testing::experiment_from;
using testing::v100_header;

Experiment replicas(const std::string& policy, int r) {
  return experiment_from(v100_header(0.1) + "policy: {name: " + policy +
                         ", max_batch: 16}\ntenants:\n  - {model: resnet50_v1, replicas: " +
                         std::to_string(r) + ", arrival: {process: poisson, rate: 10}}\n");
}

bool fits(const std::string& policy, int r) {
  Experiment x = replicas(policy, r);
  try {
    place_tenants(x, testing::registries().policies.get(policy, Mark{}));
    return true;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit in the memory of GPU 0"),
              std::string::npos) << e.what();
    return false;
  }
}

// Per ResNet-50 process: weights 102.3 MB = 102.3e6 / 2^20 = 97.56 MiB, context 500 MiB,
// activations 16 (max_batch) x 602 kB / 1024 x 32 (activation_factor) = 301.0 MiB:
// 898.6 MiB. A 16 GiB V100 (16384 MiB) holds 18 (16174 MiB) but not 19 (17073 MiB) --
// the 18-replica wall of seed 003 Figure 5 for the multi-process modes.
TEST(Memory, MultiProcessModesHitTheWallAt18Replicas) {
  for (const char* p : {"time_sliced", "mps"}) {
    EXPECT_TRUE(fits(p, 18)) << p;
    EXPECT_FALSE(fits(p, 19)) << p;
  }
}

// One process: 500 MiB context + 301 MiB activations (one super-kernel slot for the one
// architecture) + R x 97.56 MiB. R = 159: 16313 MiB fits; R = 160: 16411 MiB does not.
TEST(Memory, SpaceTimeFitsAboutOneHundredSixtyReplicas) {
  EXPECT_TRUE(fits("space_time", 159));
  EXPECT_FALSE(fits("space_time", 160));
}

TEST(Memory, DemandIsReportedPerGpu) {
  Experiment x = replicas("mps", 10);
  Placement p = place_tenants(x, testing::registries().policies.get("mps", Mark{}));
  ASSERT_EQ(p.memory.size(), 1u);
  EXPECT_EQ(p.memory[0].processes, 10);
  EXPECT_NEAR(p.memory[0].total(), 10 * (102.3e6 / 1048576.0 + 500 + 16 * 602 / 1024.0 * 32),
              1e-6);
}

// Loads (rate x L(1)): a 300/s resnet50 (0.783), two 100/s densenet121 (0.38 each),
// a 50/s googlenet (0.077). Heaviest first onto the least-loaded GPU of 2:
// resnet50 -> GPU 0; densenet#1 -> GPU 1 (0.38); densenet#2 -> GPU 1 (0.38 < 0.783,
// now 0.76); googlenet -> GPU 1 (0.76 < 0.783).
TEST(Placement, HeaviestFirstOnLeastLoadedGpu) {
  Experiment x = experiment_from(
      v100_header(0.1, 0, 2) +
      "policy: {name: mps}\ntenants:\n"
      "  - {model: googlenet, arrival: {process: poisson, rate: 50}}\n"
      "  - {model: densenet121, replicas: 2, arrival: {process: poisson, rate: 100}}\n"
      "  - {model: resnet50_v1, arrival: {process: poisson, rate: 300}}\n");
  Placement p = place_tenants(x, testing::registries().policies.get("mps", Mark{}));
  EXPECT_EQ(p.gpu, (std::vector<std::uint32_t>{1, 1, 1, 0}));
}

TEST(Placement, ExplicitGpuIsKeptAndChecked) {
  Experiment x = experiment_from(
      v100_header(0.1, 0, 2) +
      "policy: {name: exclusive}\ntenants:\n"
      "  - {model: googlenet, gpu: 1, arrival: {process: poisson, rate: 50}}\n"
      "  - {model: resnet50_v1, arrival: {process: poisson, rate: 300}}\n");
  Placement p = place_tenants(x, testing::registries().policies.get("exclusive", Mark{}));
  EXPECT_EQ(p.gpu, (std::vector<std::uint32_t>{1, 0}));
  Experiment bad = experiment_from(
      v100_header(0.1, 0, 2) +
      "policy: {name: exclusive}\ntenants:\n"
      "  - {model: googlenet, gpu: 1, arrival: {process: poisson, rate: 50}}\n"
      "  - {model: resnet50_v1, gpu: 1, arrival: {process: poisson, rate: 300}}\n");
  EXPECT_THROW(place_tenants(bad, testing::registries().policies.get("exclusive", Mark{})),
               InputError);
}

}  // namespace
}  // namespace infersim
