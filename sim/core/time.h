// Simulated time: an integer count of nanoseconds. Floating point appears only at the
// edges (configuration in s/ms/us, reported metrics), always rounded explicitly here.
//
// The horizon. Every time-valued input (experiment keys such as duration_s or slo_ms,
// policy and arrival settings such as quantum_ms, profile latencies) converts to
// nanoseconds through to_ns_checked() and must lie within kHorizon = 1e18 ns (1e9 s,
// about 31.7 years: a round number far beyond any inference experiment); a larger value
// is an input error. int64 holds 9.2 horizons, which leaves the headroom for sums:
//   - the engine stops a run (a run-time error, not a wrap-around) when the clock would
//     pass kClockLimit = 4 horizons (about 127 years of simulated time);
//   - so `now + delay` never overflows for any delay up to kMaxDelay = 4 horizons, and
//     delays computed at run time (random gaps, processor-sharing durations) are
//     converted with to_delay_ns(), which saturates at kMaxDelay: 4e18 + 4e18 < 9.22e18.
//   - deadlines (arrival + SLO) saturate at kTimeMax (add_saturating).
// A random gap that saturates lies past any duration, so e.g. a Poisson rate of 1e-12/s
// (mean gap 3e4 years) simply produces no arrivals.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>

namespace infersim {

using SimTime = std::int64_t;  // nanoseconds since the start of a run

constexpr SimTime kTimeMax = INT64_MAX;
constexpr SimTime kHorizon = 1'000'000'000'000'000'000;  // 1e18 ns: largest input time
constexpr SimTime kClockLimit = 4 * kHorizon;            // the engine's clock never passes it
constexpr SimTime kMaxDelay = 4 * kHorizon;              // run-time delays saturate here
static_assert(kClockLimit + kMaxDelay < kTimeMax, "now + delay must fit in int64");

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

// The units time-valued settings are written in (the key's suffix: _s, _ms, _us).
enum class TimeUnit { kSeconds, kMilliseconds, kMicroseconds };

constexpr double ns_per(TimeUnit u) {
  return u == TimeUnit::kSeconds ? 1e9 : u == TimeUnit::kMilliseconds ? 1e6 : 1e3;
}
constexpr const char* unit_suffix(TimeUnit u) {
  return u == TimeUnit::kSeconds ? "s" : u == TimeUnit::kMilliseconds ? "ms" : "us";
}
// The horizon in `unit` (1e9 s, 1e12 ms, 1e15 us), for messages and range checks.
constexpr double horizon_in(TimeUnit u) { return static_cast<double>(kHorizon) / ns_per(u); }

// The one checked conversion of a time-valued input: `value` in `unit`, rounded to the
// nearest nanosecond (ties away from zero). nullopt when the value is negative, not
// finite, or beyond the horizon.
inline std::optional<SimTime> to_ns_checked(double value, TimeUnit unit) {
  const double ns = value * ns_per(unit);
  if (!(ns >= 0) || !(ns <= static_cast<double>(kHorizon))) return std::nullopt;
  return round_nearest(ns);
}

// A delay computed at run time, in ns (e.g. a random gap in s times 1e9): rounded to the
// nearest ns and clamped to [0, kMaxDelay]; NaN counts as the maximum (never earlier).
inline SimTime to_delay_ns(double ns) {
  if (!(ns < static_cast<double>(kMaxDelay))) return kMaxDelay;
  if (!(ns > 0)) return 0;
  return round_nearest(ns);
}

// a + b for b >= 0, saturating at kTimeMax (deadlines: arrival + SLO).
constexpr SimTime add_saturating(SimTime a, SimTime b) {
  return b >= kTimeMax - a ? kTimeMax : a + b;
}

// Unchecked conversions, for values already known to be in range (tests, derived figures).
inline SimTime ms_to_ns(double ms) { return round_nearest(ms * 1e6); }
inline SimTime s_to_ns(double s) { return round_nearest(s * 1e9); }
inline SimTime us_to_ns(double us) { return round_nearest(us * 1e3); }
inline double ns_to_ms(SimTime t) { return static_cast<double>(t) / 1e6; }
inline double ns_to_s(SimTime t) { return static_cast<double>(t) / 1e9; }

}  // namespace infersim
