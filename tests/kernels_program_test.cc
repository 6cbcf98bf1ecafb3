// Kernel programs (sim/kernels/program.h): a model's kernels per batch size, calibrated to a
// measured L(b) or predicted, and the merged kernels of a space-time super-kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/config/hardware_files.h"
#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"
#include "sim/kernels/program.h"
#include "sim/kernels/roofline.h"

namespace infersim::kernels {
namespace {

const std::string kSourceDir = INFERSIM_SOURCE_DIR;

const std::vector<Architecture>& archs() {
  static const std::vector<Architecture> a =
      load_architectures(kSourceDir + "/hardware_profiles/architectures");
  return a;
}

const Architecture& arch(const std::string& name) { return *find_for_model(archs(), name); }

KernelModelParams gpu(const std::string& name) {
  static const std::vector<GpuSpec> gpus = load_gpus(kSourceDir + "/hardware_profiles/gpus.yaml");
  return default_kernel_params(*find_gpu(gpus, name));
}

TEST(KernelProgram, SoloShareIsTheLargerOfTheComputeAndMemoryFractions) {
  // Peak 1e12 FLOP/s, tiles of efficiency 0.5 and 0.8 (the best: 0.8e12 FLOP/s achievable),
  // 1e12 B/s at efficiency 0.9 (0.9e12 B/s achievable).
  KernelModelParams p;
  p.peak_flops = 1e12;
  p.bandwidth = 1e12;
  p.bandwidth_efficiency = 0.9;
  p.tiles = {GemmTile{32, 32, 8, 64, 80, 7552, 0.5}, GemmTile{128, 64, 8, 128, 224, 19840, 0.8}};
  KernelCall c;
  c.kind = KernelCall::Kind::kGemm;
  // 4e5 FLOPs and 1e5 bytes in 1000 ns: 4e11 / 0.8e12 = 0.5 of compute, 1e11 / 0.9e12 = 0.111
  // of bandwidth: 0.5.
  c.flops = 4e5;
  c.bytes = 1e5;
  EXPECT_FLOAT_EQ(solo_share(c, 1000, p), 0.5f);
  // 4.5e5 bytes and no FLOPs in 1000 ns: 4.5e11 / 0.9e12 = 0.5 of bandwidth.
  c.flops = 0;
  c.bytes = 4.5e5;
  EXPECT_FLOAT_EQ(solo_share(c, 1000, p), 0.5f);
  // Faster than the achievable rate counts as the whole GPU; so does a zero duration.
  c.flops = 2e6;
  EXPECT_FLOAT_EQ(solo_share(c, 1000, p), 1.0f);
  EXPECT_FLOAT_EQ(solo_share(c, 0, p), 1.0f);
}

TEST(KernelProgram, CalibrationDistributesTheRoundingExactly) {
  // 3000 and 1000 ns scaled to 10,001: 7500.75 and 2500.25; the floors sum to 10,000 and the
  // one ns left goes to the larger remainder (0.75).
  EXPECT_EQ(calibrate_durations({3000, 1000}, 10'001), (std::vector<SimTime>{7501, 2500}));
  // Three equal kernels to 10 ns: 3.33 each, remainders tie, the earliest two get the ns.
  EXPECT_EQ(calibrate_durations({5, 5, 5}, 10), (std::vector<SimTime>{4, 3, 3}));
  // Products beyond int64 (1e12 ns x 1e10 ns) stay exact: 1e12 * 2e10 / 2e12 = 1e10.
  EXPECT_EQ(calibrate_durations({1'000'000'000'000, 1'000'000'000'000}, 20'000'000'000),
            (std::vector<SimTime>{10'000'000'000, 10'000'000'000}));
  EXPECT_EQ(calibrate_durations({0, 0, 0}, 7), (std::vector<SimTime>{3, 2, 2}));
}

TEST(KernelProgram, CalibratedBatchesSumToTheMeasuredLatency) {
  // ResNet-50 v1 on the V100, calibrated to the Clockwork table's L(b) (in ns).
  const std::vector<SimTime> measured = {0, 2'610'000, 3'780'000, 5'610'000, 7'370'000};
  const KernelProgram p =
      build_program(arch("resnet50_v1"), "resnet50_v1", 4, gpu("v100"), {}, measured);
  ASSERT_EQ(p.max_batch(), 4);
  EXPECT_TRUE(p.calibrated);
  for (int b = 1; b <= 4; ++b) {
    const BatchKernels& k = p.batches[b];
    EXPECT_EQ(k.total(), measured[b]) << b;
    ASSERT_EQ(k.kernels.size(), 56u);
    // Each kernel within 1 ns of its modelled time scaled by L(b) / modelled total.
    SimTime modelled = 0;
    for (const KernelCall& c : p.calls[b]) modelled += kernel_time(c, p.params).ns;
    for (std::size_t i = 0; i < k.kernels.size(); ++i) {
      const KernelTime t = kernel_time(p.calls[b][i], p.params);
      const double scaled = static_cast<double>(t.ns) * measured[b] / modelled;
      EXPECT_LT(std::abs(static_cast<double>(k.kernels[i].ns) - scaled), 1.0) << b << " " << i;
      EXPECT_EQ(k.kernels[i].sms, t.sms_touched);
    }
    EXPECT_DOUBLE_EQ(p.scale[b], static_cast<double>(measured[b]) / modelled);
  }
}

TEST(KernelProgram, PredictedBatchesAreTheModelsTimes) {
  const KernelProgram p = build_program(arch("googlenet"), "googlenet", 3, gpu("a100"));
  EXPECT_FALSE(p.calibrated);
  for (int b = 1; b <= 3; ++b) {
    EXPECT_EQ(p.batches[b].total(), model_latency(lower(arch("googlenet"), b), p.params));
    EXPECT_DOUBLE_EQ(p.scale[b], 1.0);
  }
}

TEST(KernelProgram, AShareTimesKernelsOnFewerSms) {
  // Half the V100's SMs (an MPS cap of 40): no kernel occupies more than 40, and a batch takes
  // at least as long as on the whole GPU.
  const KernelProgram full = build_program(arch("resnet50_v1"), "r", 1, gpu("v100"));
  const KernelProgram half = build_program(arch("resnet50_v1"), "r", 1, gpu("v100"), {40, 0.5});
  int widest = 0;
  for (const TimedKernel& k : half.batches[1].kernels) widest = std::max(widest, k.sms);
  EXPECT_EQ(widest, 40);
  EXPECT_GT(half.batches[1].total(), full.batches[1].total());
}

TEST(KernelProgram, KernelBoundaries) {
  BatchKernels k;
  k.push({100, 1});
  k.push({50, 1});
  k.push({200, 1});
  // Ends at 100, 150, 350.
  EXPECT_EQ(k.boundary_at_or_after(0), 100);
  EXPECT_EQ(k.boundary_at_or_after(100), 100);
  EXPECT_EQ(k.boundary_at_or_after(101), 150);
  EXPECT_EQ(k.boundary_at_or_after(151), 350);
  EXPECT_EQ(k.boundary_at_or_after(1000), 350);
  EXPECT_EQ(k.total(), 350);
}

TEST(KernelProgram, MergedKernelsSumTheBlocksOfTheParts) {
  // Seed 003's ResNet-18 conv2_2 SGEMM (256 x 128 x 1152, cuBLAS). Ten tenants' batch-1
  // problems merged are one batched GEMM of count 10; one part of b is the tenant's own
  // batch of b.
  const KernelProgram p = build_program(arch("sgemm_conv2_2"), "sgemm_conv2_2", 12, gpu("v100"));
  const std::vector<int> ten(10, 1);
  const BatchKernels merged = merge_batches(p, ten);
  ASSERT_EQ(merged.kernels.size(), 1u);
  KernelCall batched = p.calls[1][0];
  batched.count = 10;
  batched.bytes *= 10;
  const KernelTime t = kernel_time(batched, p.params);
  EXPECT_EQ(merged.total(), t.ns);
  EXPECT_EQ(merged.kernels[0].sms, t.sms_touched);
  const int three[] = {3};
  EXPECT_EQ(merge_batches(p, three).end, p.batches[3].end);
  // Batched beats ten separate launches.
  EXPECT_LT(merged.total(), 10 * p.batches[1].total());
  const int too_many[] = {6, 7};
  EXPECT_THROW(merge_batches(p, too_many), std::invalid_argument);
}

TEST(KernelProgram, CalibratedMergesScaleByTheTotalBatch) {
  const std::vector<SimTime> measured = {0, 1000, 1500, 1800};
  const KernelProgram p =
      build_program(arch("sgemm_square"), "sgemm_square", 3, gpu("v100"), {}, measured);
  const int parts[] = {1, 2};
  const BatchKernels merged = merge_batches(p, parts);
  std::vector<KernelCall> calls = {p.calls[1][0], p.calls[2][0]};
  const double modelled = static_cast<double>(batched_kernel_time(calls, p.params).ns);
  EXPECT_EQ(merged.total(), std::llround(modelled * p.scale[3]));
}

// A super-kernel's kernels sum to its modelled total scaled by the calibration of its
// total batch, rounded once (at least 1 ns): each kernel rounded on its own drifted from
// that total, and with a profile of 1 ns batches every kernel rounded to 0.
TEST(KernelProgram, CalibratedMergesSumToTheScaledTotal) {
  // Modelled total of the merged kernels of `parts` (batched_kernel_time, layer by layer).
  auto merged_modelled = [](const KernelProgram& p, const std::vector<int>& parts) {
    SimTime total = 0;
    for (std::size_t i = 0; i < p.calls[1].size(); ++i) {
      std::vector<KernelCall> calls;
      for (const int b : parts) calls.push_back(p.calls[b][i]);
      total += batched_kernel_time(calls, p.params).ns;
    }
    return total;
  };
  // ResNet-50 v1 (56 kernels) on the V100 calibrated to the Clockwork table.
  const KernelProgram p = build_program(arch("resnet50_v1"), "resnet50_v1", 4, gpu("v100"), {},
                                        {0, 2'610'000, 3'780'000, 5'610'000, 7'370'000});
  for (const std::vector<int>& parts : std::vector<std::vector<int>>{{1, 1}, {1, 2}, {2, 2}}) {
    const int b = parts[0] + parts[1];
    const BatchKernels merged = merge_batches(p, parts);
    // The calibration of a batch of b: scale[b] = L(b) / modelled L(b).
    const double scaled = static_cast<double>(merged_modelled(p, parts)) * p.scale[b];
    EXPECT_EQ(merged.total(), std::llround(scaled)) << b;
  }
  // Every L(b) 1 ns (1e-6 ms, the least a profile may give): the merged batch of 2 takes
  // max(1, round(modelled x 1 / modelled L(2))) ns; the modelled times are microseconds, so
  // the ratio is near 1, and the total is 1 ns -- never 0.
  const KernelProgram tiny =
      build_program(arch("resnet50_v1"), "resnet50_v1", 2, gpu("v100"), {}, {0, 1, 1});
  const std::vector<int> two{1, 1};
  const BatchKernels merged = merge_batches(tiny, two);
  const double scaled = static_cast<double>(merged_modelled(tiny, two)) * tiny.scale[2];
  ASSERT_LT(scaled, 1.5);
  EXPECT_EQ(merged.total(), 1);
}

}  // namespace
}  // namespace infersim::kernels
