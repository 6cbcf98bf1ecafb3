// Simulation speed: simulated requests per second of wall time, and peak memory.
//
// usage: infersim_bench POLICY REQUESTS [TENANTS [LOAD [GRANULARITY]]]
//   One V100, TENANTS resnet50_v1 tenants (default 1) with Poisson arrivals at a total load
//   of LOAD (default 0.7) of what one tenant's greedy batching sustains (16 / L(16)), run
//   until REQUESTS have arrived, the policy at GRANULARITY batch (default) or kernel.
// usage: infersim_bench cluster REQUESTS
//   1,000 V100s, 10,000 resnet18_v1 tenants under space_time (max_batch 16), each with its
//   own Poisson stream of 50 requests/s: 500,000 requests/s offered (issue 10's scenario).
// usage: infersim_bench trace REQUESTS
//   A trace-driven cluster at about 1 M requests/s: 1,000 V100s, 2,000 resnet18_v1 services
//   of 5 replicas each (power_of_two router), fed by the Azure Functions 2019 sample
//   (workloads/traces/azure2019_sample.csv.gz, 2,000 functions mapped busiest first) at
//   time_scale 3600 (an hour of trace per second: ~978,000 requests/s), space_time with a
//   100 ms SLO and drop_late (the busiest functions overload their 5 GPUs; drops keep
//   queues bounded).
// usage: infersim_bench queue HOLDS
//   The event queue alone, in both layouts (sim/core/event_queue.h): for n = 8 ... 128
//   pending events, HOLDS times pop the earliest and push one a random gap later (gaps
//   exponential with mean n ms, so a push lands anywhere among the n). One line per n: the
//   wall seconds of the sorted and of the heap layout; EventQueue::kSortedMax comes from it.
//   Then the heap alone at n = 512 and 2,048.
// usage: infersim_bench memory
//   The machine, not infersim: nanoseconds per dependent load when chasing pointers through
//   a random cycle of cache lines spread over 256 KiB ... 128 MiB. Where the time jumps is
//   where the working set outgrows the last-level cache this core gets; beyond it each
//   miss costs what the last lines print. The trace-driven row is bound by these misses.
// Prints one line: scenario, requests, wall seconds (the whole run: placement, set-up and
// simulation), CPU seconds of the whole process (from start, so including reading the
// experiment), requests/s and events/s of wall time, peak RSS (MiB, the whole process,
// getrusage).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "sim/core/event_queue.h"
#include "tests/harness.h"

namespace {

// Seconds for `holds` pop-then-push steps on a queue of n events in one layout.
double hold_seconds(std::size_t n, long holds, bool sorted) {
  using namespace infersim;
  EventQueue q(sorted ? SIZE_MAX : 0);
  std::mt19937_64 g(1);
  std::exponential_distribution<double> gap(1.0 / (static_cast<double>(n) * 1e6));
  std::vector<SimTime> gaps(4096);
  for (SimTime& x : gaps) x = static_cast<SimTime>(gap(g));
  for (std::size_t i = 0; i < n; ++i) q.push(gaps[i], Priority::kArrival, 0, 0, i);
  std::uint64_t sum = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long k = 0; k < holds; ++k) {
    const Event e = q.pop();
    sum += e.payload;
    q.push(e.time + gaps[static_cast<std::size_t>(k) & 4095], Priority::kArrival, 0, 0,
           static_cast<std::uint64_t>(k));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (sum == 42) std::printf(" ");  // keeps the loop's result live
  return s;
}

// Nanoseconds per load of a pointer chase through `bytes` of cache lines in one random
// cycle (each load's address is the previous load's value, so the misses cannot overlap).
double chase_ns(std::size_t bytes) {
  const std::size_t lines = bytes / 64, stride = 64 / sizeof(std::size_t);
  std::vector<std::size_t> order(lines);
  for (std::size_t i = 0; i < lines; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(1));
  std::vector<std::size_t> next(lines * stride);
  for (std::size_t i = 0; i < lines; ++i) next[order[i] * stride] = order[(i + 1) % lines] * stride;
  std::size_t p = 0;
  for (std::size_t i = 0; i < lines; ++i) p = next[p];  // warm: one lap
  const long steps = 5'000'000;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < steps; ++i) p = next[p];
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (p == 1) std::printf(" ");  // keeps the chase live
  return s * 1e9 / static_cast<double>(steps);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace infersim;
  if (argc == 2 && std::string(argv[1]) == "memory") {
    for (std::size_t kib : {256, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072}) {
      std::printf("memory       working_set_kib=%-6zu ns_per_dependent_load=%.1f\n", kib,
                  chase_ns(kib * 1024));
    }
    return 0;
  }
  if (argc == 3 && std::string(argv[1]) == "queue") {
    const long holds = std::atol(argv[2]);
    for (std::size_t n : {8, 16, 24, 32, 48, 64, 96, 128}) {
      std::printf("queue        pending=%-4zu holds=%ld sorted_s=%.3f heap_s=%.3f\n", n, holds,
                  hold_seconds(n, holds, true), hold_seconds(n, holds, false));
    }
    // Large queues are heaps (a trace-driven cluster holds ~500 events); sorted, a push
    // there shifts hundreds of events.
    for (std::size_t n : {512, 2048}) {
      std::printf("queue        pending=%-4zu holds=%ld sorted_s=-     heap_s=%.3f\n", n, holds,
                  hold_seconds(n, holds, false));
    }
    return 0;
  }
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s POLICY REQUESTS [TENANTS [LOAD [GRANULARITY]]] | cluster REQUESTS | "
                 "trace REQUESTS | queue HOLDS | memory\n",
                 argv[0]);
    return 2;
  }
  const std::string scenario = argv[1];
  const double requests = std::atof(argv[2]);
  int tenants = argc > 3 ? std::atoi(argv[3]) : 1;
  double load = argc > 4 ? std::atof(argv[4]) : 0.7;
  const std::string granularity = argc > 5 ? argv[5] : "batch";
  std::string yaml;
  if (scenario == "cluster") {
    tenants = 10000;
    const double rate = 500000;
    yaml = testing::v100_header(requests / rate, 0, 1000) +
           "policy: {name: space_time, max_batch: 16}\n"
           "tenants:\n  - {model: resnet18_v1, replicas: 10000, slo_ms: 100, arrival: {process: "
           "poisson, rate: 50}}\n";
  } else if (scenario == "trace") {
    tenants = 10000;
    const double rate = 978000;  // the sample's 23.5 M invocations a day, a day in 24 s
    yaml = testing::v100_header(requests / rate, 0, 1000) +
           "policy: {name: space_time, max_batch: 16, drop_late: true}\n"
           "tenants:\n  - {model: resnet18_v1, instances: 2000, replicas: 5, router: "
           "power_of_two, slo_ms: 100, arrival: {process: trace, path: "
           "workloads/traces/azure2019_sample.csv.gz, format: azure2019, time_scale: 3600}}\n";
  } else {
    // resnet50_v1 at max_batch 16 serves 16 / 15.67 ms = 1021 requests/s.
    const double total_rate = load * 16 / 15.67e-3;
    const double duration = requests / total_rate;
    yaml = testing::v100_header(duration) + "policy: {name: " + scenario +
           ", max_batch: 16, granularity: " + granularity +
           "}\ntenants:\n  - {model: resnet50_v1, replicas: " + std::to_string(tenants) +
           ", arrival: {process: poisson, rate: " + std::to_string(total_rate / tenants) + "}}\n";
  }
  Experiment x = testing::experiment_from(yaml);
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = testing::run(x);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  // CPU time of the process (user + system): on a shared machine wall time also counts
  // the time other processes held the core.
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf(
      "%-12s %-6s tenants=%-5d load=%.2f requests=%-10llu wall_s=%-8.3f cpu_s=%-8.3f "
      "requests_per_s=%-12.0f events_per_s=%-12.0f peak_rss_mib=%.1f\n",
      scenario.c_str(), granularity.c_str(), tenants, load,
      static_cast<unsigned long long>(r.all.requests), wall, cpu, r.all.requests / wall,
      r.events / wall, ru.ru_maxrss / 1024.0);
  std::printf("%-12s   mean latency %.2f ms, p99 %.2f ms, dropped %.1f%%, GPU busy %.2f\n", "",
              r.all.mean_ms, r.all.p99_ms,
              r.all.requests ? 100.0 * r.all.dropped / r.all.requests : 0.0, r.gpu_busy);
  return 0;
}
