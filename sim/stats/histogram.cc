#include "sim/stats/histogram.h"

#include <algorithm>
#include <cmath>

namespace infersim {

std::int64_t Histogram::bucket_low(int b) {
  if (b < kExact) return b;
  int rel = b - static_cast<int>(kExact);
  int shift = rel / (1 << kSubBits) + 1;
  std::int64_t top = (1 << kSubBits) + rel % (1 << kSubBits);
  return top << shift;
}

std::int64_t Histogram::bucket_width(int b) {
  if (b < kExact) return 1;
  return std::int64_t{1} << ((b - kExact) / (1 << kSubBits) + 1);
}

void Histogram::cover(int first, int last) {
  const int size = static_cast<int>(counts_.size());
  int lo = lo_, hi = lo_ + size - 1;  // the range covered now (empty: size 0)
  if (size == 0) {
    lo = first;
    hi = last;
  } else {
    // Grow by at least the current size in the direction needed, so that a histogram
    // reallocates O(log kBuckets) times in its life.
    if (first < lo) lo = std::max(0, std::min(first, lo - size));
    if (last > hi) hi = std::min(kBuckets - 1, std::max(last, hi + size));
  }
  std::vector<std::uint64_t> next(static_cast<std::size_t>(hi - lo + 1), 0);
  if (size > 0) std::copy(counts_.begin(), counts_.end(), next.begin() + (lo_ - lo));
  counts_.swap(next);
  lo_ = lo;
}

void Histogram::merge(const Histogram& o) {
  if (o.counts_.empty()) return;
  const int o_hi = o.lo_ + static_cast<int>(o.counts_.size()) - 1;
  if (counts_.empty() || o.lo_ < lo_ || o_hi >= lo_ + static_cast<int>(counts_.size())) {
    cover(o.lo_, o_hi);
  }
  for (std::size_t i = 0; i < o.counts_.size(); ++i) counts_[o.lo_ - lo_ + i] += o.counts_[i];
  total_ += o.total_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

double Histogram::quantile(double q) const {
  if (total_ == 0) return 0.0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
  rank = std::clamp<std::uint64_t>(rank, 1, total_);
  std::uint64_t seen = 0;
  for (int b = lo_; b < lo_ + static_cast<int>(counts_.size()); ++b) {
    seen += counts_[b - lo_];
    if (seen >= rank) {
      double mid = b < kExact ? static_cast<double>(b)
                              : static_cast<double>(bucket_low(b)) +
                                    static_cast<double>(bucket_width(b)) / 2.0;
      return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

}  // namespace infersim
