#include "sim/sweep/paths.h"

#include <filesystem>
#include <system_error>

namespace infersim {

namespace fs = std::filesystem;

std::string resolved_path(const std::string& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  if (ec) return path;
  const fs::path resolved = fs::weakly_canonical(absolute, ec);
  return (ec ? absolute.lexically_normal() : resolved).string();
}

}  // namespace infersim
