#include "validation/profiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace infersim::validation {
namespace {

// Ms from `start` to a marker enqueued on `lane` now.
double until_marker(Device& d, std::size_t lane, SimTime start) {
  d.mark(lane, 0);
  std::vector<Completion> done;
  while (done.empty()) d.wait(kTimeMax, done);
  return static_cast<double>(done.front().time - start) / 1e6;
}

// One run of `calls` on `lane`, each launched on its own: ms from before the first launch to
// the marker.
double run_once(Device& d, std::size_t lane, std::uint32_t tenant,
                const std::vector<KernelCall>& calls) {
  const SimTime start = d.now();
  d.launch_each(lane, tenant, 1, calls, 0, calls.size());
  return until_marker(d, lane, start);
}

// One batch of b: the program's calls at b launched as the replayer launches a tenant's
// batch (Device::launch_batch), timed the same way.
double run_batch_once(Device& d, std::size_t lane, std::uint32_t tenant, int b,
                      const std::vector<KernelCall>& calls) {
  const SimTime start = d.now();
  d.launch_batch(lane, tenant, b, calls);
  return until_marker(d, lane, start);
}

// Median, min and max of run times.
BatchTiming summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const std::size_t n = ms.size();
  BatchTiming t;
  t.median_ms = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  t.min_ms = ms.front();
  t.max_ms = ms.back();
  return t;
}

BatchTiming time_calls(Device& d, std::size_t lane, std::uint32_t tenant,
                       const std::vector<KernelCall>& calls, const TimingSettings& s) {
  if (s.repeats < 1 || s.warmup < 0) throw std::invalid_argument("repeats >= 1, warmup >= 0");
  for (int i = 0; i < s.warmup; ++i) run_once(d, lane, tenant, calls);
  std::vector<double> ms;
  for (int i = 0; i < s.repeats; ++i) ms.push_back(run_once(d, lane, tenant, calls));
  return summarize(std::move(ms));
}

}  // namespace

std::vector<BatchTiming> time_batches(Device& device, std::uint32_t tenant,
                                      const ModelProgram& program, const std::vector<int>& batches,
                                      const TimingSettings& settings) {
  const std::size_t lane = device.add_lane();
  for (int b : batches) {
    if (b < 1 || b > program.max_batch()) {
      throw std::invalid_argument(fmt::format("batch {} outside 1..{}", b, program.max_batch()));
    }
  }
  if (settings.repeats < 1 || settings.warmup < 0) {
    throw std::invalid_argument("repeats >= 1, warmup >= 0");
  }
  // Rounds over every batch size rather than one size after another: a device whose speed
  // drifts (a shared machine, clocks) then drifts alike for every L(b).
  const auto calls = [&](int b) -> const std::vector<KernelCall>& {
    return program.calls[static_cast<std::size_t>(b)];
  };
  for (int i = 0; i < settings.warmup; ++i) {
    for (int b : batches) run_batch_once(device, lane, tenant, b, calls(b));
  }
  std::vector<std::vector<double>> ms(batches.size());
  for (int i = 0; i < settings.repeats; ++i) {
    for (std::size_t j = 0; j < batches.size(); ++j) {
      ms[j].push_back(run_batch_once(device, lane, tenant, batches[j], calls(batches[j])));
    }
  }
  std::vector<BatchTiming> out;
  for (std::size_t j = 0; j < batches.size(); ++j) {
    BatchTiming t = summarize(ms[j]);
    t.batch = batches[j];
    out.push_back(t);
  }
  return out;
}

PeakFigures measure_peaks(Device& device, std::uint32_t spare_tenant, int gemm_size, int copy_mib,
                          const TimingSettings& settings) {
  ModelProgram p;
  p.model = "peak";
  p.calls.resize(2);
  KernelCall g;
  g.kind = KernelCall::Kind::kGemm;
  g.m = g.n = g.k = gemm_size;
  g.flops = 2.0 * gemm_size * static_cast<double>(gemm_size) * gemm_size;
  KernelCall c;
  c.kind = KernelCall::Kind::kMemory;
  c.bytes = 2.0 * copy_mib * 1048576.0;  // read + written
  c.node = 1;
  p.calls[1] = {g, c};
  device.add_tenant(spare_tenant, p);
  const std::size_t lane = device.add_lane();
  PeakFigures f;
  const BatchTiming tg = time_calls(device, lane, spare_tenant, {g}, settings);
  // A memory call uses the tenant's copy buffers whatever its position in the list.
  const BatchTiming tc = time_calls(device, lane, spare_tenant, {c}, settings);
  f.gflops = g.flops / (tg.median_ms * 1e-3) / 1e9;
  f.gemm = fmt::format("{0}x{0}x{0}", gemm_size);
  f.bandwidth_gbs = c.bytes / (tc.median_ms * 1e-3) / 1e9;
  f.copy = fmt::format("{} MiB", copy_mib);
  return f;
}

}  // namespace infersim::validation
