// The arrival processes that ship with infersim. Registration is an explicit call.
#pragma once

#include <cmath>

#include "sim/core/arrival.h"

namespace infersim {

void register_builtin_arrivals(ArrivalRegistry& registry);

// One per source file (register_builtin_arrivals calls them all).
void register_modulated_arrivals(ArrivalRegistry& registry);  // onoff, diurnal
void register_trace_arrivals(ArrivalRegistry& registry);      // trace

// The `rate` key of the rate-driven processes.
ParamSpec rate_spec();

// A gap or offset in seconds as whole nanoseconds, saturating at kMaxDelay: a gap past the
// horizon (e.g. a rate of 1e-12/s) lies beyond any duration and ends the stream.
inline SimTime to_ns(double seconds) { return to_delay_ns(seconds * 1e9); }

}  // namespace infersim
