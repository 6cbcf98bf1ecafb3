// Metrics of one run, computed once at its end from the engine's counters.
#pragma once

#include <cstdint>

#include "sim/core/engine.h"

namespace infersim {

// Latency and SLO figures over one set of measured requests (a tenant, or a whole run).
struct LatencySummary {
  std::uint64_t requests = 0;  // measured arrivals
  std::uint64_t completed = 0;
  std::uint64_t dropped = 0;
  std::uint64_t met_slo = 0;  // completed by their deadline
  double throughput_rps = 0;  // completed / measured window
  double goodput_rps = 0;     // met_slo / measured window
  double slo_attainment = 0;  // met_slo / requests (drops count as misses)
  double mean_ms = 0, p50_ms = 0, p90_ms = 0, p95_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  double latency_cv = 0;  // standard deviation / mean
  // On-demand loading: loads of the weights started in the window, their total copy time,
  // and the fraction of requests that arrived while the weights were not on the GPU.
  std::uint64_t cold_starts = 0;
  double load_ms = 0;
  double load_wait_fraction = 0;
};

// `window_s`: the measured span, from warm-up to the end of the run.
LatencySummary summarize(const TenantCounters& c, double window_s);

}  // namespace infersim
