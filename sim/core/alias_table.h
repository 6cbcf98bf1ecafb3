// Sampling an index from fixed weights in O(1) per draw: Walker's alias method, built by
// Vose's algorithm. One uniform draw per sample; construction and sampling are plain
// double arithmetic in a fixed order, so the same weights and random stream give the same
// indices on every machine.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "sim/core/rng.h"

namespace infersim {

class AliasTable {
 public:
  AliasTable() = default;
  // Weights >= 0, not all 0.
  explicit AliasTable(const std::vector<double>& weights) {
    const std::size_t n = weights.size();
    double total = 0;
    for (double w : weights) {
      if (!(w >= 0)) throw std::invalid_argument("AliasTable: weights must be >= 0");
      total += w;
    }
    if (n == 0 || !(total > 0)) throw std::invalid_argument("AliasTable: no positive weight");
    prob_.assign(n, 1.0);
    alias_.resize(n);
    std::vector<double> scaled(n);
    std::vector<std::uint32_t> small, large;
    for (std::size_t i = 0; i < n; ++i) {
      scaled[i] = weights[i] * static_cast<double>(n) / total;
      alias_[i] = static_cast<std::uint32_t>(i);
      (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      std::uint32_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    // What is left has probability 1 up to rounding.
    for (std::uint32_t i : small) prob_[i] = 1.0;
    for (std::uint32_t i : large) prob_[i] = 1.0;
  }

  std::size_t size() const { return prob_.size(); }
  // Index i with probability weights[i] / sum(weights).
  std::uint32_t sample(Rng& rng) const {
    const double u = rng.uniform() * static_cast<double>(prob_.size());
    const auto i = static_cast<std::uint32_t>(u);
    return u - static_cast<double>(i) < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<double> prob_;
  std::vector<std::uint32_t> alias_;
};

}  // namespace infersim
