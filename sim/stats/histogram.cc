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

void Histogram::merge(const Histogram& o) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
  total_ += o.total_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

double Histogram::quantile(double q) const {
  if (total_ == 0) return 0.0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
  rank = std::clamp<std::uint64_t>(rank, 1, total_);
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
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
