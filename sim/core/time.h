// Simulated time: an integer count of nanoseconds. Floating point appears only at the
// edges (configuration in ms/s, reported metrics), always rounded explicitly here.
#pragma once

#include <cmath>
#include <cstdint>

namespace infersim {

using SimTime = std::int64_t;  // nanoseconds since the start of a run

constexpr SimTime kTimeMax = INT64_MAX;

// x rounded to the nearest integer, ties away from zero: std::llround's result for
// |x| < 2^63, computed inline (llround is a library call, and gaps are rounded once per
// arrival). Exact: the conversion truncates, and x - trunc(x) is exact in double
// arithmetic (|x| < 1, or trunc(x) within a factor of two of x: Sterbenz), so comparing
// the fraction with 0.5 decides as llround does.
// Without branches: which way a random gap rounds is a coin toss, and a mispredicted
// branch per arrival cost more than the library call it replaces.
inline std::int64_t round_nearest(double x) {
  const auto i = static_cast<std::int64_t>(x);
  const double frac = x - static_cast<double>(i);
  return i + static_cast<std::int64_t>(frac >= 0.5) - static_cast<std::int64_t>(frac <= -0.5);
}

// Rounds to the nearest nanosecond (ties away from zero).
inline SimTime ms_to_ns(double ms) { return round_nearest(ms * 1e6); }
inline SimTime s_to_ns(double s) { return round_nearest(s * 1e9); }
inline SimTime us_to_ns(double us) { return round_nearest(us * 1e3); }
inline double ns_to_ms(SimTime t) { return static_cast<double>(t) / 1e6; }
inline double ns_to_s(SimTime t) { return static_cast<double>(t) / 1e9; }

}  // namespace infersim
