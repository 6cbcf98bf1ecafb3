// The routers that ship with infersim: which replica of a service serves a request.
//
// Routers are the cluster-level scheduling policies (which GPU), beside the GPU-level
// sharing policies of policies/ (what runs on a GPU); like them they plug into the engine
// through a small interface and a registry (sim/core/router.h), and depend on sim/core
// only. Registration is an explicit call.
#pragma once

#include "sim/core/router.h"

namespace infersim {

void register_builtin_routers(RouterRegistry& registry);

}  // namespace infersim
