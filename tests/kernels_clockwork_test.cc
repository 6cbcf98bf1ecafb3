// Roofline predictions against the Clockwork V100 table (sim/kernels/roofline_report.h).
// The constants were measured or taken from datasheets, never fitted to this table; the test
// prints the whole comparison and holds the model to the target (median |error|
// <= 20% over every mapped model and profiled batch).
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/hardware_files.h"
#include "sim/gpu/profile.h"
#include "sim/kernels/architecture.h"
#include "sim/kernels/roofline_report.h"

namespace infersim::kernels {
namespace {

const std::string kSourceDir = INFERSIM_SOURCE_DIR;

TEST(RooflineReport, MedianOfAbsoluteValues) {
  EXPECT_DOUBLE_EQ(median_abs({}), 0.0);
  EXPECT_DOUBLE_EQ(median_abs({-0.3, 0.1, 0.2}), 0.2);
  EXPECT_DOUBLE_EQ(median_abs({-0.4, 0.1, 0.2, 0.3}), 0.25);
}

TEST(RooflineReport, ClockworkV100MedianErrorWithinTwentyPercent) {
  const Profile cw = load_profile(kSourceDir + "/hardware_profiles/v100_clockwork.yaml");
  const std::vector<GpuSpec> gpus = load_gpus(kSourceDir + "/hardware_profiles/gpus.yaml");
  const std::vector<Architecture> archs =
      load_architectures(kSourceDir + "/hardware_profiles/architectures");
  const RooflineReport rep = compare_with_profile(
      archs, cw, default_kernel_params(*find_gpu(gpus, "v100")), {1, 2, 4, 8, 16});
  print_report(rep, std::cout);
  // 27 mapped rows x 5 batches, all profiled; the SGEMM problems are predicted only.
  ASSERT_EQ(rep.by_batch.size(), 6u);
  const ErrorSummary& overall = rep.by_batch.back();
  EXPECT_EQ(overall.batch, 0);
  EXPECT_EQ(overall.n, 135u);
  EXPECT_LE(overall.median_abs, 0.20);
  for (const RooflineRow& r : rep.rows) {
    EXPECT_GT(r.predicted_ms, 0) << r.model << " b" << r.batch;
    EXPECT_EQ(r.measured_ms > 0, r.model.rfind("sgemm_", 0) != 0) << r.model << " b" << r.batch;
  }
}

TEST(RooflineReport, OtherGpusArePredictedButNotCompared) {
  // The Clockwork table was measured on a V100: an H100 prediction has nothing to compare.
  const Profile cw = load_profile(kSourceDir + "/hardware_profiles/v100_clockwork.yaml");
  const std::vector<GpuSpec> gpus = load_gpus(kSourceDir + "/hardware_profiles/gpus.yaml");
  const std::vector<Architecture> archs =
      load_architectures(kSourceDir + "/hardware_profiles/architectures");
  const RooflineReport rep =
      compare_with_profile(archs, cw, default_kernel_params(*find_gpu(gpus, "h100")), {1});
  // The 27 mapped Clockwork rows and the 3 SGEMM problems.
  EXPECT_EQ(rep.rows.size(), 30u);
  EXPECT_EQ(rep.by_batch.back().n, 0u);
  for (const RooflineRow& r : rep.rows) EXPECT_EQ(r.measured_ms, 0);
}

TEST(RooflineReport, PrintsLayerAndKernelTables) {
  const Architecture a =
      load_architecture(kSourceDir + "/hardware_profiles/architectures/resnet50_v1.yaml");
  std::ostringstream layers;
  print_layers(a, layers);
  // conv1: 64x112x112 output, im2col 64 x 12544 x 147, 236.03 MFLOP per sample.
  EXPECT_NE(layers.str().find("64 x 12544 x 147 (1) | data"), std::string::npos) << layers.str();
  EXPECT_NE(layers.str().find("64x112x112"), std::string::npos);
  EXPECT_NE(layers.str().find("236.03"), std::string::npos);
  const std::vector<GpuSpec> gpus = load_gpus(kSourceDir + "/hardware_profiles/gpus.yaml");
  std::ostringstream kernels;
  print_kernels(a, lower(a, 2), default_kernel_params(*find_gpu(gpus, "v100")), kernels);
  // 56 kernels at batch 2 (see KernelLowering); conv1 is 64 x 25088 x 147.
  EXPECT_NE(kernels.str().find("56 kernels"), std::string::npos) << kernels.str();
  EXPECT_NE(kernels.str().find("64x25088x147 (1)"), std::string::npos);
}

}  // namespace
}  // namespace infersim::kernels
