// The cpu backend: kernels cut into tiles over the worker pool must compute the whole GEMM
// (checked against a naive product), run in order within a lane, and complete markers
// only after the kernels before them.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"
#include "validation/cpu_device.h"
#include "validation/profiler.h"

namespace infersim::validation {
namespace {

ModelProgram one_gemm(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t count = 1) {
  ModelProgram p;
  p.model = "t";
  p.calls.resize(2);
  KernelCall c;
  c.m = m;
  c.n = n;
  c.k = k;
  c.count = count;
  c.flops = 2.0 * m * n * k * count;
  p.calls[1] = {c};
  return p;
}

void wait_for(Device& d, std::uint64_t ticket) {
  std::vector<Completion> done;
  while (true) {
    d.wait(kTimeMax, done);
    for (const auto& c : done) {
      if (c.ticket == ticket) return;
    }
  }
}

// C = A * B, column-major, computed naively in double.
void expect_product(const CpuDevice& d, std::uint32_t t, std::int64_t m, std::int64_t n,
                    std::int64_t k, std::int64_t count) {
  auto a = d.weights(t, 0);
  auto b = d.input(t);
  auto c = d.output(t);
  for (std::int64_t g = 0; g < count; ++g) {
    for (std::int64_t j = 0; j < n; j += std::max<std::int64_t>(1, n / 7)) {
      for (std::int64_t i = 0; i < m; i += std::max<std::int64_t>(1, m / 5)) {
        double want = 0;
        for (std::int64_t l = 0; l < k; ++l) {
          want += static_cast<double>(a[g * m * k + l * m + i]) * b[g * k * n + j * k + l];
        }
        EXPECT_NEAR(c[g * m * n + j * m + i], want, 1e-4 * std::abs(want) + 1e-6)
            << "group " << g << " C(" << i << ", " << j << ")";
      }
    }
  }
}

struct Shape {
  std::int64_t m, n, k, count;
};

class CpuGemm : public ::testing::TestWithParam<Shape> {};

// Wide (split by columns), narrow (split by rows), tiny (one tile) and grouped GEMMs.
TEST_P(CpuGemm, TilesComputeTheWholeProduct) {
  const Shape s = GetParam();
  CpuDevice d(2);
  const ModelProgram p = one_gemm(s.m, s.n, s.k, s.count);
  d.add_tenant(0, p);
  const std::size_t lane = d.add_lane();
  const Part part{0, 0, &p.calls[1][0]};
  d.launch(lane, std::span<const Part>(&part, 1));
  d.mark(lane, 42);
  wait_for(d, 42);
  expect_product(d, 0, s.m, s.n, s.k, s.count);
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuGemm,
                         ::testing::Values(Shape{256, 512, 1152, 1}, Shape{512, 8, 512, 1},
                                           Shape{7, 3, 5, 1}, Shape{64, 200, 96, 3}),
                         [](const auto& info) {
                           const Shape& s = info.param;
                           return "m" + std::to_string(s.m) + "_n" + std::to_string(s.n) + "_k" +
                                  std::to_string(s.k) + "_groups" + std::to_string(s.count);
                         });

// Two tenants' problems in one launch (a space-time super-kernel) each use their own
// operands.
TEST(CpuDevice, MergedLaunchComputesEveryTenantsProduct) {
  CpuDevice d(2);
  const ModelProgram p = one_gemm(128, 256, 64);
  d.add_tenant(0, p);
  d.add_tenant(1, p);
  const std::size_t lane = d.add_lane();
  const Part parts[] = {{0, 0, &p.calls[1][0]}, {1, 0, &p.calls[1][0]}};
  d.launch(lane, parts);
  d.mark(lane, 1);
  wait_for(d, 1);
  expect_product(d, 0, 128, 256, 64, 1);
  expect_product(d, 1, 128, 256, 64, 1);
}

// A marker on a lane completes after the kernels launched before it, so a lane's markers
// complete in order and no earlier than the work they follow could take.
TEST(CpuDevice, MarkersCompleteInLaneOrderAfterTheirKernels) {
  CpuDevice d(2);
  const ModelProgram p = one_gemm(512, 512, 512);  // ~0.27 GFLOP, a few ms here
  d.add_tenant(0, p);
  const std::size_t lane = d.add_lane();
  const Part part{0, 0, &p.calls[1][0]};
  const SimTime start = d.now();
  d.mark(lane, 0);  // an idle lane: completes at once
  for (std::uint64_t i = 1; i <= 3; ++i) {
    d.launch(lane, std::span<const Part>(&part, 1));
    d.mark(lane, i);
  }
  std::vector<Completion> done;
  while (done.size() < 4) d.wait(kTimeMax, done);
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_EQ(done[i].ticket, i);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_GE(done[i].time, done[i - 1].time);
  // Three products of 2*512^3 FLOPs cannot finish faster than at 10 TFLOP/s.
  EXPECT_GT(done[3].time - start, static_cast<SimTime>(3 * 2 * 512.0 * 512 * 512 / 1e4));
}

// wait() returns at its deadline when nothing completes.
TEST(CpuDevice, WaitReturnsAtTheDeadline) {
  CpuDevice d(1);
  std::vector<Completion> done;
  const SimTime until = d.now() + 2'000'000;  // 2 ms
  d.wait(until, done);
  EXPECT_TRUE(done.empty());
  EXPECT_GE(d.now(), until);
}

// The profiler's median is of whole batches: L(16) of a 4-layer chain exceeds L(1). (16
// times the work on at most 2 workers; batch 4 against 1 was close enough for a busy
// machine to reverse under the sanitizers.)
TEST(CpuDevice, ProfilerTimesBatches) {
  CpuDevice d(2);
  auto p = synthetic_program("sgemm_square_x2", 16);
  ASSERT_TRUE(p);
  d.add_tenant(0, *p);
  auto t = time_batches(d, 0, *p, {1, 16}, TimingSettings{1, 5});
  ASSERT_EQ(t.size(), 2u);
  EXPECT_GT(t[0].median_ms, 0);
  EXPECT_LE(t[0].min_ms, t[0].median_ms);
  EXPECT_LE(t[0].median_ms, t[0].max_ms);
  EXPECT_GT(t[1].median_ms, t[0].median_ms);
}

}  // namespace
}  // namespace infersim::validation

namespace infersim::validation {
namespace {

// A model with a kernel graph executes its lowering: the very calls the kernel-level model
// times (conv/FC layers as im2col GEMMs, pooling and unfused element-wise layers as copies).
TEST(ProgramLibrary, GraphModelsExecuteTheirLowering) {
  const ProgramLibrary library(std::string(INFERSIM_SOURCE_DIR) +
                               "/hardware_profiles/architectures");
  auto p = library.get("resnet18_v1", 2);
  ASSERT_TRUE(p);
  const auto archs = kernels::load_architectures(std::string(INFERSIM_SOURCE_DIR) +
                                                 "/hardware_profiles/architectures");
  const auto* arch = kernels::find_for_model(archs, "resnet18_v1");
  ASSERT_NE(arch, nullptr);
  const auto calls = kernels::lower(*arch, 2);
  ASSERT_EQ(p->calls[2].size(), calls.size());
  std::size_t gemms = 0, copies = 0;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(p->calls[2][i].m, calls[i].m);
    EXPECT_EQ(p->calls[2][i].n, calls[i].n);
    EXPECT_EQ(p->calls[2][i].k, calls[i].k);
    (calls[i].kind == KernelCall::Kind::kGemm ? gemms : copies)++;
  }
  EXPECT_EQ(gemms, 21u);  // 20 convolutions (17 + 3 downsampling shortcuts) and the FC layer
  EXPECT_GT(copies, 0u);
  // It runs: one batch of 1 on the CPU.
  CpuDevice d(1);
  d.add_tenant(0, *p);
  auto t = time_batches(d, 0, *p, {1}, TimingSettings{0, 1});
  EXPECT_GT(t[0].median_ms, 1.0);  // 3.6 GFLOP cannot take a millisecond on this CPU
  EXPECT_FALSE(library.get("no_such_model", 1));
}

}  // namespace
}  // namespace infersim::validation
