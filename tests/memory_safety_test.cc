// Memory safety of the validated experiment: a copy owns what it points to.
// (The other memory-safety regressions run under `make sanitize`: the exclude-list
// use-after-scope is Sweep.ExcludeDropsCombinationsBeforeNumbering, and the signed
// overflows of the engine and runner are the Horizon.* cases of horizon_test.cc.)
#include <gtest/gtest.h>

#include <memory>

#include "tests/harness.h"

namespace infersim {
namespace {

using testing::experiment_from;
using testing::v100_header;

// Before: TenantSpec::profile was a raw pointer into the Experiment's own Profile, so a
// copy's tenants pointed into the original (runner.cc copies the experiment to run each
// tenant alone), and dangled once it was gone (a heap-use-after-free under ASan).
TEST(ExperimentOwnership, CopiedTenantsKeepTheirProfileAlive) {
  std::unique_ptr<Experiment> original = std::make_unique<Experiment>(experiment_from(
      v100_header(0.05) +
      "policy: {name: mps}\ntenants:\n"
      "  - {model: resnet50_v1, replicas: 2, arrival: {process: poisson, rate: 50}}\n"
      "  - {model: densenet121, arrival: {process: poisson, rate: 50}}\n"));
  Experiment copy = *original;
  original.reset();
  ASSERT_EQ(copy.tenants.size(), 3u);
  EXPECT_EQ(copy.tenants[0].profile.get(), copy.profile->find("resnet50_v1"));
  EXPECT_EQ(copy.tenants[2].profile.get(), copy.profile->find("densenet121"));
  // L(1) of resnet50_v1 in the Clockwork table (seed 000), read through the copy.
  EXPECT_DOUBLE_EQ(copy.tenants[1].profile->latency_ms_at(1), 2.61);
  // A tenant spec alone (what isolation runs use) keeps its model alive as well.
  TenantSpec alone = copy.tenants[2];
  copy = Experiment{};
  EXPECT_EQ(alone.profile->name, "densenet121");
  EXPECT_GT(alone.profile->latency_ms_at(1), 0);
}

// The isolation runs copy the experiment once per tenant (under ASan this exercised the
// dangling pointer). Each tenant's p99 alone equals that of an experiment holding just
// that tenant, under the same name (its arrival stream is named after it).
TEST(ExperimentOwnership, IsolationRunsFromCopies) {
  Experiment x = experiment_from(v100_header(0.2) +
                                 "policy: {name: mps}\ntenants:\n"
                                 "  - {model: resnet50_v1, replicas: 3, arrival: {process: "
                                 "poisson, rate: 100}}\noutput: {isolation: true}\n");
  RunResult r = testing::run(x);
  ASSERT_EQ(r.p99_alone_ms.size(), 3u);
  for (int t = 0; t < 3; ++t) {
    Experiment alone = experiment_from(
        v100_header(0.2) + "policy: {name: mps}\ntenants:\n  - {model: resnet50_v1, name: " +
        "resnet50_v1/" + std::to_string(t) + ", arrival: {process: poisson, rate: 100}}\n");
    RunResult a = testing::run(alone);
    ASSERT_GT(a.all.completed, 5u);
    EXPECT_DOUBLE_EQ(r.p99_alone_ms[t], a.all.p99_ms) << t;
  }
}

}  // namespace
}  // namespace infersim
