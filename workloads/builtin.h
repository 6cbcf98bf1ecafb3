// The arrival processes that ship with infersim. Registration is an explicit call.
#pragma once

#include "sim/core/arrival.h"

namespace infersim {

void register_builtin_arrivals(ArrivalRegistry& registry);

}  // namespace infersim
