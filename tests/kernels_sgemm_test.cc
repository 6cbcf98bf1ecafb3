// Seed 003's Table 1 SGEMM problems exist twice: as architectures the simulator lowers
// (hardware_profiles/architectures/sgemm_*.yaml, timed by the kernel model in
// experiments/sgemm_multiplex.yaml) and as validation mode's synthetic programs (executed
// for real by scripts/sgemm_table.sh). Both must be the same kernels, or the simulated and
// the measured tables would compare different problems.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"
#include "validation/program.h"

namespace infersim::kernels {
namespace {

TEST(SgemmProblems, ArchitecturesLowerToTheValidationPrograms) {
  const auto archs =
      load_architectures(std::string(INFERSIM_SOURCE_DIR) + "/hardware_profiles/architectures");
  // Seed 003 Table 1's shapes, M x N x K: a batch of b widens N to b x N.
  struct Shape {
    const char* name;
    std::int64_t m, n, k;
  };
  const std::vector<Shape> shapes = {{"sgemm_rnn", 512, 1, 512},
                                     {"sgemm_conv2_2", 256, 128, 1152},
                                     {"sgemm_square", 256, 256, 256}};
  for (const Shape& s : shapes) {
    SCOPED_TRACE(s.name);
    const Architecture* a = find_for_model(archs, s.name);
    ASSERT_NE(a, nullptr);
    const auto program = validation::synthetic_program(s.name, 4);
    ASSERT_TRUE(program.has_value());
    for (int b = 1; b <= 4; ++b) {
      const std::vector<KernelCall> lowered = lower(*a, b);
      const std::vector<KernelCall>& executed = program->calls[static_cast<std::size_t>(b)];
      ASSERT_EQ(lowered.size(), 1u);
      ASSERT_EQ(executed.size(), 1u);
      const KernelCall& l = lowered[0];
      const KernelCall& x = executed[0];
      EXPECT_EQ(l.kind, KernelCall::Kind::kGemm);
      EXPECT_EQ(l.m, s.m);
      EXPECT_EQ(l.n, s.n * b);
      EXPECT_EQ(l.k, s.k);
      EXPECT_EQ(l.count, 1);
      EXPECT_EQ(x.m, l.m);
      EXPECT_EQ(x.n, l.n);
      EXPECT_EQ(x.k, l.k);
      EXPECT_EQ(x.count, l.count);
      // 2 M N K FLOPs; FP32 A (M x K), B (K x N) read and C (M x N) written once.
      EXPECT_DOUBLE_EQ(l.flops, 2.0 * s.m * s.n * b * s.k);
      EXPECT_DOUBLE_EQ(l.bytes, 4.0 * (s.m * s.k + s.k * s.n * b + s.m * s.n * b));
      EXPECT_DOUBLE_EQ(x.flops, l.flops);
      EXPECT_DOUBLE_EQ(x.bytes, l.bytes);
    }
  }
}

}  // namespace
}  // namespace infersim::kernels
