#include "sim/core/hash.h"

#include <fmt/format.h>

namespace infersim {

std::string content_hash(std::string_view text) { return fmt::format("{:016x}", fnv1a64(text)); }

}  // namespace infersim
