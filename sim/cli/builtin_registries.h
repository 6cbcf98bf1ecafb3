// The registries of the policies and arrival processes that ship with infersim, filled by
// their explicit registration calls. The program and the tests build runs from these.
#pragma once

#include "policies/builtin.h"
#include "sim/config/experiment.h"
#include "workloads/builtin.h"

namespace infersim {

struct BuiltinRegistries {
  PolicyRegistry policies;
  ArrivalRegistry arrivals;
  BuiltinRegistries() {
    register_builtin_policies(policies);
    register_builtin_arrivals(arrivals);
  }
  Registries view() const { return Registries{policies, arrivals}; }
};

}  // namespace infersim
