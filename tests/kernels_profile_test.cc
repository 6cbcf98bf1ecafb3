// The predictive profile (`hardware.profile: roofline`, sim/kernels/predict.h) and how
// experiments find kernel graphs: the same tenants run on the Clockwork table or on
// predictions for any GPU with kernel_model constants.
#include <gtest/gtest.h>

#include <string>

#include "sim/config/hardware_files.h"
#include "sim/core/error.h"
#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"
#include "sim/kernels/predict.h"
#include "sim/kernels/roofline.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using testing::experiment_from;

const std::string kSourceDir = INFERSIM_SOURCE_DIR;

std::string roofline_header(const std::string& gpu) {
  return "name: t\nseed: 7\nduration_s: 1\nhardware: {profile: roofline, gpu: " + gpu + "}\n";
}

TEST(RooflineProfile, CarriesTheClockworkNamesAndSizesFromTheGraph) {
  const auto archs = kernels::load_architectures(kSourceDir + "/hardware_profiles/architectures");
  const auto gpus = load_gpus(kSourceDir + "/hardware_profiles/gpus.yaml");
  const GpuSpec& h100 = *find_gpu(gpus, "h100");
  const Profile p = kernels::predict_profile(archs, h100);
  const Profile cw = load_profile(kSourceDir + "/hardware_profiles/v100_clockwork.yaml");
  EXPECT_TRUE(p.predicted);
  EXPECT_EQ(p.gpu, "h100");
  // 27 Clockwork rows and the 3 SGEMM problems, named by their own names.
  EXPECT_EQ(p.models.size(), 30u);
  for (const ModelProfile& m : p.models) {
    const ModelProfile* row = cw.find(m.name);
    if (m.name.rfind("sgemm_", 0) == 0) {
      EXPECT_EQ(row, nullptr);
      continue;
    }
    ASSERT_NE(row, nullptr) << m.name;
    // Sizes come from the graph alone; they agree with the Clockwork table's (seed 000).
    EXPECT_NEAR(m.weights_mb / row->weights_mb, 1.0, 0.02) << m.name;
    // (The table rounds to whole kB: the CIFAR models' 3 x 32 x 32 x 4 = 12,288 B is "12".)
    EXPECT_NEAR(m.input_kb / row->input_kb, 1.0, 0.025) << m.name;
    EXPECT_NEAR(m.output_kb / row->output_kb, 1.0, 0.03) << m.name;
  }
  const ModelProfile& r50 = *p.find("resnet50_v1");
  // 3 x 224 x 224 x 4 B = 602,112 B; 1000 classes x 4 B.
  EXPECT_DOUBLE_EQ(r50.input_kb, 602.112);
  EXPECT_DOUBLE_EQ(r50.output_kb, 4.0);
  // Weights over the H100's 64 GB/s PCIe link.
  EXPECT_DOUBLE_EQ(r50.transfer_ms, r50.weights_mb * 1e6 / 64e9 * 1e3);
  EXPECT_EQ(r50.batch_sizes, (std::vector<int>{1, 2, 4, 8, 16}));
  // L(b) is the kernels' sum on the H100, and an H100 is faster than the V100 table.
  const kernels::Architecture& a = *kernels::find_for_model(archs, "resnet50_v1");
  const auto params = kernels::default_kernel_params(h100);
  for (std::size_t i = 0; i < r50.batch_sizes.size(); ++i) {
    const int b = r50.batch_sizes[i];
    EXPECT_DOUBLE_EQ(r50.latency_ms[i],
                     ns_to_ms(kernels::model_latency(kernels::lower(a, b), params)));
    EXPECT_LT(r50.latency_ms[i], cw.find("resnet50_v1")->latency_ms_at(b));
  }
}

TEST(RooflineProfile, TheSameExperimentRunsOnEitherProfile) {
  const std::string tenants =
      "policy: {name: exclusive}\n"
      "tenants:\n  - {model: resnet50_v1, arrival: {process: closed, n: 1}}\n";
  const Experiment measured = experiment_from(testing::v100_header(1) + tenants);
  const Experiment predicted = experiment_from(roofline_header("v100") + tenants);
  EXPECT_FALSE(measured.profile->predicted);
  EXPECT_TRUE(predicted.profile->predicted);
  EXPECT_EQ(predicted.profile_path, "roofline");
  ASSERT_NE(predicted.tenants[0].architecture, nullptr);
  EXPECT_EQ(predicted.tenants[0].architecture->name, "resnet50_v1");
  // One request at a time: each takes the profile's L(1).
  const RunResult a = testing::run(measured);
  const RunResult b = testing::run(predicted);
  EXPECT_NEAR(a.all.mean_ms, measured.tenants[0].profile->latency_ms_at(1), 1e-6);
  EXPECT_NEAR(b.all.mean_ms, predicted.tenants[0].profile->latency_ms_at(1), 1e-6);
  // The predicted flop_util uses the graph's FLOPs.
  EXPECT_GT(b.flop_util, 0);
}

TEST(RooflineProfile, InputErrors) {
  const std::string tenants =
      "policy: {name: exclusive}\n"
      "tenants:\n  - {model: resnet50_v1, arrival: {process: closed, n: 1}}\n";
  // No GPU to predict for.
  try {
    experiment_from("name: t\nduration_s: 1\nhardware: {profile: roofline}\n" + tenants);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("add e.g. 'gpu: v100'"), std::string::npos) << e.what();
    EXPECT_EQ(e.mark().line, 3);
  }
  // A model without a graph is not in the predicted profile.
  try {
    experiment_from(roofline_header("a100") +
                    "policy: {name: exclusive}\ntenants:\n"
                    "  - {model: mobile_pose_mobilenet1.0, arrival: {process: closed, n: 1}}\n");
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model 'mobile_pose_mobilenet1.0'"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(e.mark().line, 7);
  }
}

}  // namespace
}  // namespace infersim
