#include "sim/core/error.h"

#include <fmt/format.h>

namespace infersim {

std::string format_mark(const Mark& m) {
  if (m.line <= 0) return m.file;
  return fmt::format("{}:{}:{}", m.file, m.line, m.column);
}

InputError::InputError(const Mark& mark, const std::string& message)
    : std::runtime_error(fmt::format("{}: {}", format_mark(mark), message)), mark_(mark) {}

}  // namespace infersim
