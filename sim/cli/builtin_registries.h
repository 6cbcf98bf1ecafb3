// The registries of the policies, arrival processes and routers that ship with infersim, filled by
// their explicit registration calls. The program and the tests build runs from these.
#pragma once

#include "policies/builtin.h"
#include "policies/routers/builtin.h"
#include "sim/config/experiment.h"
#include "workloads/builtin.h"

namespace infersim {

struct BuiltinRegistries {
  PolicyRegistry policies;
  ArrivalRegistry arrivals;
  RouterRegistry routers;
  BuiltinRegistries() {
    register_builtin_policies(policies);
    register_builtin_arrivals(arrivals);
    register_builtin_routers(routers);
  }
  Registries view() const { return Registries{policies, arrivals, routers}; }
};

}  // namespace infersim
