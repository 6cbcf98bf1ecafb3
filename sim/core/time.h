// Simulated time: an integer count of nanoseconds. Floating point appears only at the
// edges (configuration in ms/s, reported metrics), always rounded explicitly here.
#pragma once

#include <cmath>
#include <cstdint>

namespace infersim {

using SimTime = std::int64_t;  // nanoseconds since the start of a run

constexpr SimTime kTimeMax = INT64_MAX;

// Rounds to the nearest nanosecond (ties away from zero).
inline SimTime ms_to_ns(double ms) { return static_cast<SimTime>(std::llround(ms * 1e6)); }
inline SimTime s_to_ns(double s) { return static_cast<SimTime>(std::llround(s * 1e9)); }
inline SimTime us_to_ns(double us) { return static_cast<SimTime>(std::llround(us * 1e3)); }
inline double ns_to_ms(SimTime t) { return static_cast<double>(t) / 1e6; }
inline double ns_to_s(SimTime t) { return static_cast<double>(t) / 1e9; }

}  // namespace infersim
