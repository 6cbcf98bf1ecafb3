// The GPU-sharing policies that ship with infersim. Registration is an explicit call.
#pragma once

#include "sim/core/policy.h"

namespace infersim {

void register_builtin_policies(PolicyRegistry& registry);

// One per policy file.
void register_exclusive(PolicyRegistry& registry);
void register_time_sliced(PolicyRegistry& registry);
void register_mps(PolicyRegistry& registry);
void register_space_time(PolicyRegistry& registry);
void register_mig(PolicyRegistry& registry);  // needs exclusive, time_sliced and mps registered

}  // namespace infersim
