// Simulation speed: simulated requests per second of wall time, and peak memory.
//
// usage: infersim_bench POLICY REQUESTS [TENANTS [LOAD [GRANULARITY]]]
// One V100, TENANTS resnet50_v1 tenants (default 1) with Poisson arrivals at a total load
// of LOAD (default 0.7) of what one tenant's greedy batching sustains (16 / L(16)), run
// until REQUESTS have arrived, at GRANULARITY batch (default) or kernel.
// Prints one line: policy, requests, wall seconds, requests/s, events/s, peak RSS (MiB); and
// a second: the run's CPU seconds and requests per CPU second, mean and p99 latency.
// Peak RSS is the whole process's (getrusage), including the profile and the binary.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/harness.h"

int main(int argc, char** argv) {
  using namespace infersim;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s POLICY REQUESTS [TENANTS [LOAD [GRANULARITY]]]\n", argv[0]);
    return 2;
  }
  std::string policy = argv[1];
  double requests = std::atof(argv[2]);
  int tenants = argc > 3 ? std::atoi(argv[3]) : 1;
  double load = argc > 4 ? std::atof(argv[4]) : 0.7;
  const std::string granularity = argc > 5 ? argv[5] : "batch";
  // resnet50_v1 at max_batch 16 serves 16 / 15.67 ms = 1021 requests/s.
  const double total_rate = load * 16 / 15.67e-3;
  const double duration = requests / total_rate;
  std::string yaml = testing::v100_header(duration) + "policy: {name: " + policy +
                     ", max_batch: 16, granularity: " + granularity +
                     "}\ntenants:\n  - {model: resnet50_v1, replicas: " + std::to_string(tenants) +
                     ", arrival: {process: poisson, rate: " + std::to_string(total_rate / tenants) +
                     "}}\n";
  Experiment x = testing::experiment_from(yaml);
  // CPU time beside wall time: on a shared machine the wall clock also counts the time other
  // processes hold the core.
  auto cpu_seconds = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
  };
  const double cpu0 = cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = testing::run(x);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf(
      "%-12s %-6s tenants=%-3d load=%.2f requests=%-10llu wall_s=%-8.3f requests_per_s=%-12.0f "
      "events_per_s=%-12.0f peak_rss_mib=%.1f\n",
      policy.c_str(), granularity.c_str(), tenants, load,
      static_cast<unsigned long long>(r.all.requests), wall, r.all.requests / wall, r.events / wall,
      ru.ru_maxrss / 1024.0);
  std::printf("%-19s   cpu_s=%.3f requests_per_cpu_s=%.0f; mean latency %.2f ms, p99 %.2f ms\n", "",
              cpu, r.all.requests / cpu, r.all.mean_ms, r.all.p99_ms);
  return 0;
}
