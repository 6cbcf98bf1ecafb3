// Metrics of one run, computed once at its end from the engine's counters.
#pragma once

#include <cstdint>
#include <limits>

#include "sim/core/engine.h"

namespace infersim {

// Latency and SLO figures over one set of measured requests (a tenant, or a whole run).
struct LatencySummary {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();  // undefined

  std::uint64_t requests = 0;  // measured arrivals
  std::uint64_t completed = 0;
  std::uint64_t dropped = 0;
  std::uint64_t met_slo = 0;  // completed by their deadline
  double throughput_rps = 0;  // completed / measured window
  double goodput_rps = 0;     // met_slo / measured window
  // met_slo / requests (drops count as misses); NaN without a measured request.
  double slo_attainment = kNone;
  // Latencies of the completed requests; NaN when none completed (0 ms would read as a
  // perfect result, e.g. a p99 that falls to 0 when drop_late drops everything).
  double mean_ms = kNone, p50_ms = kNone, p90_ms = kNone, p95_ms = kNone, p99_ms = kNone,
         p999_ms = kNone, max_ms = kNone;
  double latency_cv = kNone;  // standard deviation / mean
  // On-demand loading: loads of the weights started in the window, their total copy time,
  // and the fraction of requests that arrived while the weights were not on the GPU.
  std::uint64_t cold_starts = 0;
  double load_ms = 0;
  double load_wait_fraction = kNone;  // NaN without a measured request
};

// `window_s`: the measured span, from warm-up to the end of the run.
LatencySummary summarize(const TenantCounters& c, double window_s);

}  // namespace infersim
