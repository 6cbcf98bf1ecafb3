// `infersim compare`'s error_pct (sim/cli/commands.h comparison_error), every case by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sim/cli/commands.h"

namespace infersim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(CompareError, PercentOfTheMeasuredValue) {
  // (12 - 10) / 10 = +20%; (7.5 - 10) / 10 = -25%.
  EXPECT_DOUBLE_EQ(comparison_error(12, 10, false), 20);
  EXPECT_DOUBLE_EQ(comparison_error(7.5, 10, false), -25);
  EXPECT_DOUBLE_EQ(comparison_error(10, 10, false), 0);
}

TEST(CompareError, PointsForFractions) {
  // SLO attainment 0.90 against 0.95: (0.90 - 0.95) x 100 = -5 points.
  EXPECT_NEAR(comparison_error(0.90, 0.95, true), -5, 1e-12);
  EXPECT_DOUBLE_EQ(comparison_error(0, 0, true), 0);
}

TEST(CompareError, AgainstAMeasuredZeroIsInfinite) {
  // A throughput of 307 req/s simulated against 0 measured: 307 / 0 = +inf, not NaN (it
  // was NaN, which a reader takes for "undefined on both sides").
  EXPECT_EQ(comparison_error(307, 0, false), kInf);
  EXPECT_EQ(comparison_error(-3, 0, false), -kInf);
  // 0 against 0 agrees.
  EXPECT_DOUBLE_EQ(comparison_error(0, 0, false), 0);
}

TEST(CompareError, NaNOnBothSidesAgreesAndOnOneSideIsNaN) {
  // No request completed on either side: both undefined, they agree.
  EXPECT_DOUBLE_EQ(comparison_error(kNaN, kNaN, false), 0);
  EXPECT_DOUBLE_EQ(comparison_error(kNaN, kNaN, true), 0);
  // Undefined on one side only: no number says how far apart they are.
  EXPECT_TRUE(std::isnan(comparison_error(kNaN, 5, false)));
  EXPECT_TRUE(std::isnan(comparison_error(5, kNaN, false)));
  EXPECT_TRUE(std::isnan(comparison_error(kNaN, 0, false)));
  EXPECT_TRUE(std::isnan(comparison_error(0.5, kNaN, true)));
}

}  // namespace
}  // namespace infersim
