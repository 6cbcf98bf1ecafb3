// Reads the hardware data files: a model profile (e.g. hardware_profiles/v100_clockwork.yaml)
// and the GPU specifications (hardware_profiles/gpus.yaml). Their layout is documented with
// the types they fill, in sim/gpu/profile.h.
#pragma once

#include <string>
#include <vector>

#include "sim/gpu/profile.h"

namespace infersim {

// Both throw InputError (with file:line:column) on any problem: unreadable file, YAML
// syntax, duplicate or unknown keys, missing keys, wrong types, out-of-range values.
Profile load_profile(const std::string& path);
std::vector<GpuSpec> load_gpus(const std::string& path);

}  // namespace infersim
