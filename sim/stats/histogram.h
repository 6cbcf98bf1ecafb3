// Latency histogram with bounded relative error, whose memory grows only with the range of
// values it has seen (a compact sketch: 10,000 tenants' histograms take tens of MB).
//
// Log-linear buckets (as in HdrHistogram): values below 256 ns are exact; above, each
// power of two is split into 128 equal buckets, so a bucket is at most 1/128 of its lower
// bound wide and reporting its midpoint is off by at most 1/256 (0.39%) of the true value.
// 56 octaves x 128 buckets cover every int64 value.
//
// Storage is sparse in the bucket index: only the contiguous run of buckets between the
// smallest and largest value seen (plus half an octave of slack each side) has counts,
// grown when a value falls outside. A typical tenant's latencies span a few octaves: ~700
// buckets, where a dense array of every bucket took 57 KiB and, with every tenant's hot
// buckets at the same offset, made each record a cache miss. The bucket boundaries, and
// so every quantile, are those of the dense layout.
//
// A stored count is 16 bits; a bucket passing 65,535 carries 2^16 into a side table, so
// counts stay exact. 700 buckets then take 1.4 KiB, not 2.8 KiB: a 10,000-tenant run
// records each completion into a cold line of its tenant's histogram, and half the lines
// are half the misses. `valgrind --tool=cachegrind --cache-sim=yes --LL=4194304,16,64
// infersim_bench trace 3000000`: last-level misses 5.31 M with 32-bit counts, 4.97 M with
// 16-bit ones. A bucket reaches the carry once per 65,536 values in it, a map update
// against ~65,536 increments.
#pragma once

#include <bit>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace infersim {

class Histogram {
 public:
  static constexpr int kSubBits = 7;                           // 128 buckets per octave
  static constexpr std::int64_t kExact = 1 << (kSubBits + 1);  // 256: values below are exact
  // int64 values have bit width <= 63: shifts 1..55 above the exact range.
  static constexpr int kBuckets = kExact + (63 - kSubBits - 1) * (1 << kSubBits);
  // Buckets added beyond a new extreme when the stored range grows (half an octave).
  static constexpr int kSlack = 64;

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
    auto i = static_cast<std::size_t>(b - lo_);  // b < lo_ wraps around to a large index
    if (i >= counts_.size()) {
      grow(b);
      i = static_cast<std::size_t>(b - lo_);
    }
    if (++counts_[i] == 0) carry_[b] += kCarry;
    ++total_;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  // Starts loading the bucket add(v) would count v in (the first stored one when v lies
  // outside the stored range). A hint: changes nothing. GCC 12 at -O2 deletes a prefetch
  // whose address depends on a comparison, under an `if` or through a select (checked with
  // `g++ -O2 -S`); the empty volatile asm keeps the index opaque, so the prefetch stays.
  void prefetch(std::int64_t v) const {
    auto i = static_cast<std::size_t>(bucket_of(v) - lo_);
    i = i < counts_.size() ? i : 0;
    asm volatile("" : "+r"(i));
    __builtin_prefetch(counts_.data() + i);
  }
  // Adds value v n times.
  void add(std::int64_t v, std::uint64_t n);
  void merge(const Histogram& o);

  std::uint64_t count() const { return total_; }
  std::size_t stored_buckets() const { return counts_.size(); }  // memory: 2 bytes each
  std::int64_t min() const { return total_ ? min_ : 0; }
  std::int64_t max() const { return total_ ? max_ : 0; }
  // The q-quantile (0 < q <= 1): the midpoint of the bucket holding the ceil(q*n)-th
  // smallest value, clamped to [min, max]. 0 when empty.
  double quantile(double q) const;
  // quantile(qs[i]) into out[i] for every i, in one pass over the buckets; qs ascending.
  void quantiles(std::span<const double> qs, std::span<double> out) const;
  // Bytes this histogram holds beyond its own object (for the memory tests).
  std::size_t heap_bytes() const { return counts_.capacity() * sizeof(Count); }

 private:
  using Count = std::uint16_t;  // a stored count; the carry table holds the rest
  static constexpr std::uint64_t kCarry = std::uint64_t{1} << 16;

  // Makes bucket b part of the stored range.
  void grow(int b);
  std::uint64_t bucket_count(int b) const;

  // What add() touches first; the carry table (empty until a bucket passes 65,535) last.
  std::vector<Count> counts_;  // buckets [lo_, lo_ + counts_.size())
  int lo_ = 0;
  std::uint64_t total_ = 0;
  std::int64_t min_ = INT64_MAX;
  std::int64_t max_ = INT64_MIN;
  std::map<int, std::uint64_t> carry_;  // overflow of 32-bit counts, by bucket
};

}  // namespace infersim
