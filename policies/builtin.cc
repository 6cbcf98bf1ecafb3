#include "policies/builtin.h"

namespace infersim {

void register_builtin_policies(PolicyRegistry& r) { register_exclusive(r); }

}  // namespace infersim
