#include "sim/core/rng.h"

#include <cmath>
#include <numbers>

#include "sim/core/hash.h"

namespace infersim {

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_name(std::string_view name) { return mix64(fnv1a64(name)); }

std::uint64_t stream_seed(std::uint64_t experiment_seed, std::uint64_t run_index,
                          std::string_view stream) {
  return mix64(mix64(experiment_seed) ^ mix64(run_index + 0x632be59bd9b4e019ULL) ^
               hash_name(stream));
}

double Rng::normal() {
  double u1 = uniform_pos();
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double Rng::gamma(double shape, double scale) {
  if (shape < 1.0) {
    // If X ~ Gamma(k+1) and U ~ U(0,1], X * U^(1/k) ~ Gamma(k).
    double x = gamma(shape + 1.0, 1.0);
    return scale * x * std::pow(uniform_pos(), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = normal();
    double v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = uniform_pos();
    if (u < 1.0 - 0.0331 * x * x * x * x) return scale * d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return scale * d * v;
  }
}

double Rng::lognormal_mean_cv(double mean, double cv) {
  double s2 = std::log1p(cv * cv);
  double mu = std::log(mean) - 0.5 * s2;
  return std::exp(mu + std::sqrt(s2) * normal());
}

}  // namespace infersim
