// round_nearest (sim/core/time.h), the inline rounding of every time conversion, gives
// std::llround's result: on the ties and near-ties where a naive floor(x + 0.5) goes wrong,
// and on random values over the whole range simulated times take.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sim/core/rng.h"
#include "sim/core/time.h"

namespace infersim {
namespace {

TEST(Rounding, MatchesLlroundOnTiesAndNearTies) {
  const double near_half = std::nextafter(0.5, 0.0);  // 0.49999999999999994
  for (double x : {0.0,
                   -0.0,
                   0.5,
                   -0.5,
                   1.5,
                   -1.5,
                   2.5,
                   -2.5,
                   near_half,
                   -near_half,
                   std::nextafter(1.5, 2.0),
                   4503599627370495.5,
                   4503599627370496.0,
                   9007199254740993.0,
                   -9007199254740993.0,
                   1e18,
                   -1e18,
                   9.2e18,
                   123456.4999999,
                   2.6100000000000003e6}) {
    EXPECT_EQ(round_nearest(x), std::llround(x)) << x;
  }
}

TEST(Rounding, MatchesLlroundOnRandomValues) {
  Rng r(9);
  for (int i = 0; i < 1000000; ++i) {
    // Magnitudes from 1e-3 to 1e18, both signs, and exact halves.
    const double x = (r.uniform() < 0.5 ? -1 : 1) * std::pow(10.0, -3 + 21 * r.uniform());
    ASSERT_EQ(round_nearest(x), std::llround(x)) << x;
    const double half = std::floor(x) + 0.5;
    ASSERT_EQ(round_nearest(half), std::llround(half)) << half;
  }
}

}  // namespace
}  // namespace infersim
