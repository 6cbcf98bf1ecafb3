// Seeded random streams with distributions whose output is fixed by this code.
//
// The generator is std::mt19937_64, whose output sequence the C++ standard fixes. The
// transforms (uniform, exponential, normal, gamma, lognormal) are ours: std::*_distribution
// and Boost.Random distributions may differ between library versions. Every stream is
// seeded from (experiment seed, run index, stream name), so adding a stream never shifts
// another one's numbers.
//
// SmallRng is xoshiro256** (its authors' reference code fixes its output), for streams held
// by the thousand and drawn from rarely each: a router per service. Its state is 32 bytes
// against mt19937_64's 2.5 KiB, so it shares its owner's cache line.
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

// xoshiro256** (D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators",
// ACM TOMS 47(4), 2021; reference code at prng.di.unimi.it), seeded as its authors advise:
// the state is the first four outputs of splitmix64 started at the seed (mix64 is
// splitmix64's step). Period 2^256 - 1; a stream's 2^64-draw jump is never needed here.
class SmallRng {
 public:
  explicit SmallRng(std::uint64_t seed)
      : s_{mix64(seed), mix64(seed + 0x9e3779b97f4a7c15ULL),
           mix64(seed + 2 * 0x9e3779b97f4a7c15ULL), mix64(seed + 3 * 0x9e3779b97f4a7c15ULL)} {}

  std::uint64_t next_u64() {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, 1) with 53 random bits (as Rng::uniform).
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace infersim
