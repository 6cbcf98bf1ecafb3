// The latency histogram's error bound: a reported quantile is the midpoint of the bucket
// holding the exact order statistic, and buckets are at most 1/128 of their lower bound
// wide, so the error is at most 1/256 (0.39%) of the true value -- within the 0.5% bound.
#include "sim/stats/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "sim/core/rng.h"

namespace infersim {
namespace {

TEST(Histogram, BucketsTileTheLineWithBoundedWidth) {
  for (int b = 0; b + 1 < Histogram::kBuckets; ++b) {
    ASSERT_EQ(Histogram::bucket_low(b) + Histogram::bucket_width(b), Histogram::bucket_low(b + 1))
        << b;
    if (b >= Histogram::kExact) {
      ASSERT_LE(Histogram::bucket_width(b) * 128, Histogram::bucket_low(b)) << b;
    }
  }
  for (std::int64_t v : {0L, 1L, 255L, 256L, 257L, 511L, 512L, 1000000L, 123456789012L}) {
    int b = Histogram::bucket_of(v);
    EXPECT_LE(Histogram::bucket_low(b), v);
    EXPECT_LT(v, Histogram::bucket_low(b) + Histogram::bucket_width(b));
  }
}

TEST(Histogram, QuantilesWithinHalfPercentOfExact) {
  Rng r(11);
  std::vector<std::int64_t> values;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<std::int64_t>(r.lognormal_mean_cv(5e6, 3.0));  // ~5 ms, heavy tail
    values.push_back(v);
    h.add(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    auto rank = static_cast<std::size_t>(std::ceil(q * values.size()));
    double exact = static_cast<double>(values[rank - 1]);
    EXPECT_NEAR(h.quantile(q), exact, exact / 256.0 + 0.5) << "q=" << q;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.count(), values.size());
}

TEST(Histogram, MergeEqualsAddingEverything) {
  Histogram a, b, all;
  for (std::int64_t v = 1; v < 100000; v += 7) {
    (v % 2 ? a : b).add(v * 13);
    all.add(v * 13);
  }
  a.merge(b);
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.quantile(q), all.quantile(q));
  EXPECT_EQ(a.count(), all.count());
}

// Before: every histogram held all 7296 buckets (57 KiB), so 100,000 tenants needed
// 5.7 GB. Now only the span between the smallest and largest value is stored (at most
// grown by doubling): latencies from 1 ms to 100 ms (2^20 to 2^27 ns: under 7 octaves of
// 128 buckets, 843) need no more than 3 x 843 buckets, a third of the 7296, and merging,
// adding below and above the span, and quantiles all agree with a histogram of everything.
TEST(Histogram, StoresOnlyTheSpanOfItsValues) {
  Histogram empty;
  EXPECT_EQ(empty.stored_buckets(), 0u);
  EXPECT_EQ(empty.quantile(0.5), 0);
  Histogram h;
  Rng r(5);
  for (int i = 0; i < 100000; ++i) h.add(static_cast<std::int64_t>(1e6 + r.uniform() * 99e6));
  const int span = Histogram::bucket_of(100'000'000) - Histogram::bucket_of(1'000'000) + 1;
  EXPECT_EQ(span, 843);
  EXPECT_LE(h.stored_buckets(), 3u * static_cast<std::size_t>(span));
  EXPECT_LT(h.stored_buckets(), static_cast<std::size_t>(Histogram::kBuckets) / 3);
  // Growing both ways and merging keep every count.
  Histogram low, high, all;
  for (std::int64_t v : {5'000'000L, 3L, 9'000'000'000L, 300L, 70L, 4'000'000'000'000L}) {
    (v < 1000 ? low : high).add(v);
    all.add(v);
  }
  Histogram merged;
  merged.merge(high);
  merged.merge(low);
  for (double q : {0.1, 0.3, 0.5, 0.7, 0.9, 1.0}) {
    EXPECT_EQ(merged.quantile(q), all.quantile(q)) << q;
  }
  EXPECT_EQ(merged.count(), 6u);
  EXPECT_EQ(merged.min(), 3);
  EXPECT_EQ(merged.max(), 4'000'000'000'000L);
}

}  // namespace
}  // namespace infersim
