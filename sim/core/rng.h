// Seeded random streams with distributions whose output is fixed by this code.
//
// The generator is std::mt19937_64, whose output sequence the C++ standard fixes. The
// transforms (uniform, exponential, normal, gamma, lognormal) are ours: std::*_distribution
// and Boost.Random distributions may differ between library versions. Every stream is
// seeded from (experiment seed, run index, stream name), so adding a stream never shifts
// another one's numbers.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string_view>

namespace infersim {

// Mixes a 64-bit value (splitmix64's finalizer); used to derive seeds.
std::uint64_t mix64(std::uint64_t x);
// FNV-1a of a name, then mixed.
std::uint64_t hash_name(std::string_view name);
// The seed of a named stream within one run.
std::uint64_t stream_seed(std::uint64_t experiment_seed, std::uint64_t run_index,
                          std::string_view stream);

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}

  std::uint64_t next_u64() { return gen_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe to take the log of.
  double uniform_pos() { return static_cast<double>((gen_() >> 11) + 1) * 0x1.0p-53; }
  // Exponential with the given mean, by inversion. Inline: a Poisson stream draws one per
  // arrival.
  double exponential(double mean) { return -mean * std::log(uniform_pos()); }
  // Standard normal by the Box-Muller transform (one value per call, no cached pair,
  // so the stream position does not depend on call history).
  double normal();
  // Gamma(shape k, scale theta) by Marsaglia-Tsang; for k < 1 the boost k+1 trick.
  double gamma(double shape, double scale);
  // Lognormal with the given mean and coefficient of variation.
  double lognormal_mean_cv(double mean, double cv);

 private:
  std::mt19937_64 gen_;
};

}  // namespace infersim
