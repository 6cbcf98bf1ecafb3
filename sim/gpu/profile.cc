#include "sim/gpu/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <stdexcept>

namespace infersim {
namespace {

void check_batch_arg(double b) {
  if (!(b > 0) || !std::isfinite(b)) {
    throw std::invalid_argument(fmt::format("batch size must be a finite number > 0, got {}", b));
  }
}

}  // namespace

double ModelProfile::latency_ms_at(double b) const {
  check_batch_arg(b);
  const std::size_t n = batch_sizes.size();
  if (n == 0 || latency_ms.size() != n) {
    throw std::invalid_argument(fmt::format("model '{}' has no latency profile", name));
  }
  const auto& x = batch_sizes;
  const auto& y = latency_ms;
  if (n == 1) return y[0] * b / x[0];  // one point: proportional (not produced by loading)

  if (b <= x[0]) {
    double slope = (y[1] - y[0]) / (x[1] - x[0]);
    double linear = y[0] + slope * (b - x[0]);
    double proportional = y[0] * b / x[0];
    return std::max(linear, proportional);
  }
  if (b >= x[n - 1]) {
    double slope = (y[n - 1] - y[n - 2]) / (x[n - 1] - x[n - 2]);
    return std::max(y[n - 1], y[n - 1] + slope * (b - x[n - 1]));
  }
  // x[i] <= b < x[i+1]
  std::size_t i = static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), b) - x.begin()) - 1;
  double t = (b - x[i]) / (x[i + 1] - x[i]);
  return y[i] + t * (y[i + 1] - y[i]);
}

double ModelProfile::solo_utilization(double b) const {
  double l = latency_ms_at(b);  // validates b and the profile
  double peak = 0;
  for (std::size_t k = 0; k < batch_sizes.size(); ++k) {
    peak = std::max(peak, batch_sizes[k] / latency_ms[k]);
  }
  return std::min(1.0, (b / l) / peak);
}

const ModelProfile* Profile::find(const std::string& name) const {
  for (const auto& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const GpuSpec* find_gpu(const std::vector<GpuSpec>& gpus, const std::string& name) {
  for (const auto& g : gpus) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

void print_models(const Profile& p, std::ostream& out) {
  std::size_t wn = 5, wf = 6;  // "model", "family"
  for (const auto& m : p.models) {
    wn = std::max(wn, m.name.size());
    wf = std::max(wf, m.family.size());
  }
  out << fmt::format(
      "{:<{}}  {:<{}}  {:>10}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>5}  {:>6}\n", "model",
      wn, "family", wf, "weights_MB", "xfer_ms", "L1_ms", "L2_ms", "L4_ms", "L8_ms", "L16_ms",
      "u(1)", "GFLOP");
  for (const auto& m : p.models) {
    std::string gflop = m.gflop > 0 ? fmt::format("{:.2f}", m.gflop) : "-";
    out << fmt::format(
        "{:<{}}  {:<{}}  {:>10.1f}  {:>7.2f}  {:>7.2f}  {:>7.2f}  {:>7.2f}  {:>7.2f}  {:>7.2f}  "
        "{:>5.2f}  {:>6}\n",
        m.name, wn, m.family, wf, m.weights_mb, m.transfer_ms, m.latency_ms_at(1),
        m.latency_ms_at(2), m.latency_ms_at(4), m.latency_ms_at(8), m.latency_ms_at(16),
        m.solo_utilization(1), gflop);
  }
}

}  // namespace infersim
