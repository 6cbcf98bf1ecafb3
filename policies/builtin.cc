#include "policies/builtin.h"

namespace infersim {

void register_builtin_policies(PolicyRegistry& r) {
  register_exclusive(r);
  register_time_sliced(r);
  register_mps(r);
  register_space_time(r);
  register_mig(r);  // after the policies it runs inside instances
}

}  // namespace infersim
