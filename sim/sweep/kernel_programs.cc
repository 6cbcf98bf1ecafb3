#include "sim/sweep/kernel_programs.h"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/kernels/roofline.h"

namespace infersim {

std::shared_ptr<const kernels::KernelProgram> kernel_program(const Experiment& x,
                                                             const TenantSpec& t, int max_batch,
                                                             const kernels::GpuShare& share) {
  if (t.architecture == nullptr) {
    throw std::logic_error(fmt::format("tenant '{}' has no kernel graph", t.name));
  }
  std::vector<SimTime> measured;
  std::string key =
      fmt::format("{}\n{}\n{}\n{}\n{} {}\n{}\n", t.architecture->path, t.architecture->name,
                  t.model, x.gpu.name, share.sms, share.bandwidth_fraction, max_batch);
  if (!x.profile->predicted) {
    measured.assign(static_cast<std::size_t>(max_batch) + 1, 0);
    for (int b = 1; b <= max_batch; ++b) {
      measured[static_cast<std::size_t>(b)] = ms_to_ns(t.profile->latency_ms_at(b));
      key += fmt::format("{} ", measured[static_cast<std::size_t>(b)]);
    }
  }
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const kernels::KernelProgram>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  // Built outside the lock (it takes milliseconds); a race builds it twice, identically.
  auto program = std::make_shared<const kernels::KernelProgram>(kernels::build_program(
      *t.architecture, t.model, max_batch, kernels::default_kernel_params(x.gpu), share, measured));
  std::lock_guard<std::mutex> lock(mu);
  return cache.emplace(key, std::move(program)).first->second;
}

}  // namespace infersim
