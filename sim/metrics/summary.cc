#include "sim/metrics/summary.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace infersim {

LatencySummary summarize(const TenantCounters& c, double window_s) {
  LatencySummary s;
  s.requests = c.arrived;
  s.completed = c.completed;
  s.dropped = c.dropped;
  s.met_slo = c.met_slo;
  if (window_s > 0) {
    s.throughput_rps = static_cast<double>(c.completed) / window_s;
    s.goodput_rps = static_cast<double>(c.met_slo) / window_s;
  }
  s.cold_starts = c.cold_starts;
  s.load_ms = ns_to_ms(c.load_ns);
  if (c.arrived) {
    s.load_wait_fraction = static_cast<double>(c.waited) / static_cast<double>(c.arrived);
    s.slo_attainment = static_cast<double>(c.met_slo) / static_cast<double>(c.arrived);
  }
  if (c.completed) {
    double n = static_cast<double>(c.completed);
    s.mean_ms = c.latency_sum_ns / 1e6 / n;
    double var = std::max(0.0, c.latency_sumsq_ms2 / n - s.mean_ms * s.mean_ms);
    s.latency_cv = s.mean_ms > 0 ? std::sqrt(var) / s.mean_ms : 0;
    static constexpr std::array<double, 5> kQs{0.50, 0.90, 0.95, 0.99, 0.999};
    std::array<double, 5> ns{};
    c.latency.quantiles(kQs, ns);  // one pass: 10,000 tenants' summaries add up
    s.p50_ms = ns[0] / 1e6;
    s.p90_ms = ns[1] / 1e6;
    s.p95_ms = ns[2] / 1e6;  // compared by `infersim compare`
    s.p99_ms = ns[3] / 1e6;
    s.p999_ms = ns[4] / 1e6;
    s.max_ms = ns_to_ms(c.latency.max());
  }
  return s;
}

}  // namespace infersim
