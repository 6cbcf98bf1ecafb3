// The latency histogram's error bound: a reported quantile is the midpoint of the bucket
// holding the exact order statistic, and buckets are at most 1/128 of their lower bound
// wide, so the error is at most 1/256 (0.39%) of the true value -- within the 0.5% bound.
#include "sim/stats/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

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

// quantiles() answers several q in one pass with what the definition gives each alone: the
// midpoint of the bucket holding the ceil(q*n)-th smallest value (the value itself below
// kExact), clamped to [min, max]; computed here from the sorted values, not the histogram.
// Small samples make neighbouring q share a rank or a bucket; q = 1 takes the largest.
TEST(Histogram, QuantilesInOnePassMatchTheDefinition) {
  Rng r(17);
  const std::vector<double> qs{0.001, 0.25, 0.5, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0};
  for (int n : {1, 2, 3, 10, 1000, 50000}) {
    std::vector<std::int64_t> values;
    Histogram h;
    for (int i = 0; i < n; ++i) {
      auto v = static_cast<std::int64_t>(r.lognormal_mean_cv(2000.0, 2.0));  // spans kExact
      values.push_back(v);
      h.add(v);
    }
    std::sort(values.begin(), values.end());
    std::vector<double> got(qs.size());
    h.quantiles(qs, got);
    for (std::size_t i = 0; i < qs.size(); ++i) {
      const auto rank = std::max<std::size_t>(
          1, static_cast<std::size_t>(std::ceil(qs[i] * static_cast<double>(n))));
      const std::int64_t v = values[rank - 1];
      const int b = Histogram::bucket_of(v);
      const double mid = v < Histogram::kExact
                             ? static_cast<double>(v)
                             : static_cast<double>(Histogram::bucket_low(b)) +
                                   static_cast<double>(Histogram::bucket_width(b)) / 2.0;
      const double want =
          std::clamp(mid, static_cast<double>(values.front()), static_cast<double>(values.back()));
      EXPECT_EQ(got[i], want) << "n=" << n << " q=" << qs[i];
      EXPECT_EQ(h.quantile(qs[i]), want);
    }
  }
  Histogram empty;
  std::vector<double> zeros(qs.size(), -1.0);
  empty.quantiles(qs, zeros);
  EXPECT_EQ(zeros, std::vector<double>(qs.size(), 0.0));
  empty.quantiles({}, {});  // nothing asked, nothing written
  const std::vector<double> descending{0.9, 0.5};
  std::vector<double> two(2);
  EXPECT_THROW(empty.quantiles(descending, two), std::invalid_argument);
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

// The sparse layout gives the dense layout's answers: values spread over 40 octaves, added
// in an order that grows the stored range down and up many times, against a dense count of
// every bucket (the previous layout) queried by the same rule.
TEST(Histogram, SparseStorageMatchesDenseBuckets) {
  Rng r(5);
  Histogram h;
  std::vector<std::uint64_t> dense(Histogram::kBuckets, 0);
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int i = 0; i < 100000; ++i) {
    const int octave = static_cast<int>(r.uniform() * 40);
    const auto v = static_cast<std::int64_t>((1.0 + r.uniform()) * std::ldexp(1.0, octave));
    h.add(v);
    ++dense[Histogram::bucket_of(v)];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (double q : {0.001, 0.01, 0.2, 0.5, 0.77, 0.99, 0.9999, 1.0}) {
    auto rank = static_cast<std::uint64_t>(std::ceil(q * 100000));
    std::uint64_t seen = 0;
    int b = 0;
    for (; b < Histogram::kBuckets; ++b) {
      seen += dense[b];
      if (seen >= rank) break;
    }
    const double mid = b < Histogram::kExact ? b
                                             : static_cast<double>(Histogram::bucket_low(b)) +
                                                   Histogram::bucket_width(b) / 2.0;
    EXPECT_EQ(h.quantile(q), std::clamp(mid, double(lo), double(hi))) << q;
  }
}

// Memory grows with the range of values, not their number: latencies between 1 and 20 ms
// (4.3 octaves, ~560 buckets + 2 x 64 slack) fit in 3 KiB, so 10,000 tenants' histograms
// take under 30 MiB (the dense layout took 57 KiB each, 570 MiB).
TEST(Histogram, MemoryFollowsTheRangeOfValues) {
  Rng r(3);
  Histogram h;
  for (int i = 0; i < 1000000; ++i) h.add(static_cast<std::int64_t>(1e6 + 19e6 * r.uniform()));
  // 1 ms lies in bucket 1,780 and 20 ms in bucket 2,328 (bucket_of: 256 + 11 x 128 + 116 and
  // 256 + 16 x 128 + 24). Growing leaves at most 64 buckets of slack below the smallest and
  // 64 above the largest: at most 549 + 128 = 677 buckets of 2 bytes, 1,354 bytes.
  EXPECT_LE(h.heap_bytes(), 1400u);
  EXPECT_EQ(h.count(), 1000000u);
}

// Counts past 2^32 in one bucket stay exact (carried into a side table), also when merged.
TEST(Histogram, CountsBeyond32BitsCarry) {
  Histogram a, b;
  a.add(5'000'000, 3'000'000'000ULL);
  a.add(5'000'000, 3'000'000'000ULL);
  a.add(9'000'000, 1);
  b.add(5'000'000, 4'294'967'295ULL);
  b.add(1'000, 2);
  EXPECT_EQ(a.count(), 6'000'000'001ULL);
  // The last of 6e9 + 1 values is the 9 ms one; everything below rank 6e9 is 5 ms.
  EXPECT_EQ(a.quantile(1.0), 9'000'000.0);
  EXPECT_NEAR(a.quantile(0.9999999), 5'000'000.0, 5'000'000.0 / 256);
  a.merge(b);
  EXPECT_EQ(a.count(), 10'294'967'298ULL);
  // Rank 1e10 of 1.03e10: still in the 5 ms bucket (2 + 1.03e10 - 1 values at or below it).
  EXPECT_NEAR(a.quantile(1e10 / 10'294'967'298.0), 5'000'000.0, 5'000'000.0 / 256);
  // The smallest: 1000 ns lies in the bucket [1000, 1004), reported as its midpoint.
  EXPECT_EQ(a.quantile(1.0 / 10'294'967'298.0), 1'002.0);
}

// A stored count is 16 bits: one value at a time past 65,535 in a bucket carries into the
// side table, and so does a merge whose sum passes it. n values of 1,000 ns, then one of
// 2,000 ns: the n-th smallest lies in the bucket [1000, 1004) for every n, reported as its
// midpoint, 1,002 ns. A count that wrapped at 2^16 would leave n mod 65,536 in that bucket,
// and rank n would land on 2,000 ns.
TEST(Histogram, OneAtATimePast16BitsCarries) {
  for (std::uint64_t n : {65'535ULL, 65'536ULL, 65'537ULL, 200'000ULL}) {
    Histogram h;
    for (std::uint64_t i = 0; i < n; ++i) h.add(1'000);
    h.add(2'000);
    EXPECT_EQ(h.count(), n + 1) << n;
    // Rank ceil(q (n + 1)) = n exactly: q = (n - 0.5) / (n + 1).
    EXPECT_EQ(h.quantile((static_cast<double>(n) - 0.5) / static_cast<double>(n + 1)), 1'002.0)
        << n;
    EXPECT_EQ(h.quantile(1.0), 2'000.0) << n;
  }
  Histogram a, b;
  for (int i = 0; i < 40'000; ++i) {
    a.add(1'000);
    b.add(1'000);
  }
  b.add(2'000);
  a.merge(b);  // 80,000 in the first bucket: 14,464 stored and one carry of 65,536
  EXPECT_EQ(a.count(), 80'001u);
  EXPECT_EQ(a.quantile(79'999.5 / 80'001.0), 1'002.0);
  EXPECT_EQ(a.quantile(1.0), 2'000.0);
}

}  // namespace
}  // namespace infersim
