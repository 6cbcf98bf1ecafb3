// Latency histogram with bounded relative error and fixed memory.
//
// Log-linear buckets (as in HdrHistogram): values below 256 ns are exact; above, each
// power of two is split into 128 equal buckets, so a bucket is at most 1/128 of its lower
// bound wide and reporting its midpoint is off by at most 1/256 (0.39%) of the true value.
// 56 octaves x 128 buckets cover every int64 value. Only the buckets between the smallest
// and largest value seen are stored (growing by doubling), so a histogram costs nothing
// until used and typically a few KiB (latencies span a few octaves), at most 57 KiB,
// whatever the request count: a run with 100,000 tenants no longer needs 5.7 GB for them.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace infersim {

class Histogram {
 public:
  static constexpr int kSubBits = 7;                           // 128 buckets per octave
  static constexpr std::int64_t kExact = 1 << (kSubBits + 1);  // 256: values below are exact
  // int64 values have bit width <= 63: shifts 1..55 above the exact range.
  static constexpr int kBuckets = kExact + (63 - kSubBits - 1) * (1 << kSubBits);

  Histogram() = default;

  static int bucket_of(std::int64_t v) {
    if (v < kExact) return v < 0 ? 0 : static_cast<int>(v);
    int shift = std::bit_width(static_cast<std::uint64_t>(v)) - (kSubBits + 1);
    int top = static_cast<int>(v >> shift);  // in [128, 256)
    return static_cast<int>(kExact) + (shift - 1) * (1 << kSubBits) + (top - (1 << kSubBits));
  }
  // Lower bound and width of a bucket.
  static std::int64_t bucket_low(int b);
  static std::int64_t bucket_width(int b);

  void add(std::int64_t v) {
    const int b = bucket_of(v);
    if (b < lo_ || b >= lo_ + static_cast<int>(counts_.size())) cover(b, b);
    ++counts_[b - lo_];
    ++total_;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  void merge(const Histogram& o);

  std::uint64_t count() const { return total_; }
  std::size_t stored_buckets() const { return counts_.size(); }  // memory: 8 bytes each
  std::int64_t min() const { return total_ ? min_ : 0; }
  std::int64_t max() const { return total_ ? max_ : 0; }
  // The q-quantile (0 < q <= 1): the midpoint of the bucket holding the ceil(q*n)-th
  // smallest value, clamped to [min, max]. 0 when empty.
  double quantile(double q) const;

 private:
  // Makes counts_ cover buckets [first, last] (and what it covered), at least doubling.
  void cover(int first, int last);

  std::vector<std::uint64_t> counts_;  // buckets lo_ .. lo_ + size - 1
  int lo_ = 0;
  std::uint64_t total_ = 0;
  std::int64_t min_ = INT64_MAX;
  std::int64_t max_ = INT64_MIN;
};

}  // namespace infersim
