#include "sim/stats/histogram.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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

void Histogram::grow(int b) {
  if (counts_.empty()) {
    lo_ = std::max(0, b - kSlack);
    counts_.assign(static_cast<std::size_t>(std::min(kBuckets, b + 1 + kSlack) - lo_), 0);
    return;
  }
  const int hi = lo_ + static_cast<int>(counts_.size());
  if (b >= lo_ && b < hi) return;
  const int new_lo = b < lo_ ? std::max(0, b - kSlack) : lo_;
  const int new_hi = b >= hi ? std::min(kBuckets, b + 1 + kSlack) : hi;
  std::vector<Count> next(static_cast<std::size_t>(new_hi - new_lo), 0);
  std::copy(counts_.begin(), counts_.end(), next.begin() + (lo_ - new_lo));
  counts_.swap(next);
  lo_ = new_lo;
}

void Histogram::add(std::int64_t v, std::uint64_t n) {
  if (n == 0) return;
  const int b = bucket_of(v);
  grow(b);
  Count& c = counts_[static_cast<std::size_t>(b - lo_)];
  const std::uint64_t sum = c + n;
  c = static_cast<Count>(sum);
  if (sum >= kCarry) carry_[b] += sum - c;
  total_ += n;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

std::uint64_t Histogram::bucket_count(int b) const {
  const auto i = static_cast<std::size_t>(b - lo_);
  std::uint64_t n = i < counts_.size() ? counts_[i] : 0;
  if (!carry_.empty()) {
    auto it = carry_.find(b);
    if (it != carry_.end()) n += it->second;
  }
  return n;
}

void Histogram::merge(const Histogram& o) {
  if (o.total_ == 0) return;
  const int o_hi = o.lo_ + static_cast<int>(o.counts_.size());
  if (!o.counts_.empty()) {
    grow(o.lo_);
    grow(o_hi - 1);
  }
  for (int b = o.lo_; b < o_hi; ++b) {
    Count& c = counts_[static_cast<std::size_t>(b - lo_)];
    const std::uint64_t sum = std::uint64_t{c} + o.counts_[static_cast<std::size_t>(b - o.lo_)];
    c = static_cast<Count>(sum);
    if (sum >= kCarry) carry_[b] += sum - c;
  }
  for (const auto& [b, n] : o.carry_) carry_[b] += n;
  total_ += o.total_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

double Histogram::quantile(double q) const {
  double out = 0;
  quantiles({&q, 1}, {&out, 1});
  return out;
}

void Histogram::quantiles(std::span<const double> qs, std::span<double> out) const {
  if (qs.size() != out.size() || !std::is_sorted(qs.begin(), qs.end())) {
    throw std::invalid_argument("Histogram::quantiles: qs must ascend and match out");
  }
  if (qs.empty()) return;
  std::size_t i = 0;
  if (total_ == 0) {
    for (; i < qs.size(); ++i) out[i] = 0.0;
    return;
  }
  // The rank of qs[i]; ascending qs give ascending ranks, so one walk serves them all.
  auto rank_of = [&](double q) {
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
    return std::clamp<std::uint64_t>(rank, 1, total_);
  };
  std::uint64_t seen = 0;
  std::uint64_t want = rank_of(qs[0]);  // the rank of qs[i]
  const int hi = lo_ + static_cast<int>(counts_.size());
  for (int b = lo_; b < hi && i < qs.size(); ++b) {
    seen += bucket_count(b);
    if (seen < want) continue;
    const double mid = b < kExact ? static_cast<double>(b)
                                  : static_cast<double>(bucket_low(b)) +
                                        static_cast<double>(bucket_width(b)) / 2.0;
    const double value = std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
    while (i < qs.size() && seen >= want) {
      out[i++] = value;
      if (i < qs.size()) want = rank_of(qs[i]);
    }
  }
  for (; i < qs.size(); ++i) out[i] = static_cast<double>(max_);
}

}  // namespace infersim
