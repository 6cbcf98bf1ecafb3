#include "sim/kernels/program.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "sim/kernels/lower.h"

namespace infersim::kernels {

namespace {

// Whether `share` is less than the whole GPU.
bool is_partial(const GpuShare& share, const KernelModelParams& p) {
  return (share.sms != 0 && share.sms != p.sm_count) || share.bandwidth_fraction != 1.0;
}

}  // namespace

float solo_share(const KernelCall& c, SimTime ns, const KernelModelParams& p) {
  if (ns <= 0) return 1.0f;
  double best = 0;
  for (const GemmTile& t : p.tiles) best = std::max(best, t.efficiency);
  const double seconds = static_cast<double>(ns) * 1e-9;
  const double compute = best > 0 ? c.flops / seconds / (p.peak_flops * best) : 0.0;
  const double memory = c.bytes / seconds / (p.bandwidth * p.bandwidth_efficiency);
  return static_cast<float>(std::min(1.0, std::max(compute, memory)));
}

SimTime BatchKernels::boundary_at_or_after(SimTime offset) const {
  const auto it = std::lower_bound(end.begin(), end.end(), offset);
  return it == end.end() ? total() : *it;
}

void BatchKernels::push(const TimedKernel& k) {
  const SimTime ends = add_kernel_times(total(), k.ns);
  std::int64_t sm_time = 0;
  if (k.sms < 0 || __builtin_mul_overflow(k.ns, static_cast<std::int64_t>(k.sms), &sm_time) ||
      __builtin_add_overflow(sm_ns.empty() ? 0 : sm_ns.back(), sm_time, &sm_time)) {
    throw OutOfModelRange("a batch's kernels hold SMs for more than 2^63 SM-ns");
  }
  kernels.push_back(k);
  sm_ns.push_back(sm_time);
  end.push_back(ends);
}

namespace {

// A calibrated time `x` in ns rounded to the nearest ns, as std::llround would, within the
// horizon.
SimTime checked_ns(double x) {
  if (!(x >= 0 && x <= static_cast<double>(kHorizon))) {
    throw OutOfModelRange(fmt::format(
        "a calibrated kernel time of {:g} ns is beyond the time horizon of 1e18 ns", x));
  }
  return round_nearest(x);
}

}  // namespace

std::vector<SimTime> calibrate_durations(const std::vector<SimTime>& t, SimTime target) {
  __extension__ typedef unsigned __int128 u128;  // GCC and Clang; -Wpedantic otherwise warns
  const SimTime total = std::accumulate(t.begin(), t.end(), SimTime{0});
  std::vector<SimTime> out(t.size(), 0);
  if (t.empty()) return out;
  if (total <= 0) {  // nothing to scale by: spread evenly
    for (std::size_t i = 0; i < t.size(); ++i) {
      out[i] = target / static_cast<SimTime>(t.size()) +
               (static_cast<SimTime>(i) < target % static_cast<SimTime>(t.size()) ? 1 : 0);
    }
    return out;
  }
  std::vector<u128> rem(t.size());
  SimTime assigned = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const u128 x = static_cast<u128>(t[i]) * static_cast<u128>(target);
    out[i] = static_cast<SimTime>(x / static_cast<u128>(total));
    rem[i] = x % static_cast<u128>(total);
    assigned += out[i];
  }
  std::vector<std::size_t> order(t.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rem[a] > rem[b]; });
  for (SimTime k = 0; k < target - assigned; ++k) ++out[order[static_cast<std::size_t>(k)]];
  return out;
}

KernelProgram build_program(const Architecture& arch, std::string model, int max_batch,
                            const KernelModelParams& gpu, const GpuShare& share,
                            const std::vector<SimTime>& measured_ns) {
  if (max_batch < 1) throw std::invalid_argument("build_program: max_batch must be >= 1");
  if (!measured_ns.empty() && measured_ns.size() != static_cast<std::size_t>(max_batch) + 1) {
    throw std::invalid_argument("build_program: measured_ns needs one latency per batch size");
  }
  KernelProgram p;
  p.model = std::move(model);
  p.architecture = &arch;
  p.params = with_library(gpu, arch.library);
  p.share = share;
  p.calibrated = !measured_ns.empty();
  p.calls.resize(static_cast<std::size_t>(max_batch) + 1);
  p.batches.resize(static_cast<std::size_t>(max_batch) + 1);
  p.scale.assign(static_cast<std::size_t>(max_batch) + 1, 1.0);
  std::vector<SimTime> modelled;
  std::vector<int> sms;
  for (int b = 1; b <= max_batch; ++b) {
    const auto bi = static_cast<std::size_t>(b);
    p.calls[bi] = lower(arch, b);
    modelled.clear();
    sms.clear();
    for (const KernelCall& c : p.calls[bi]) {
      const KernelTime t = kernel_time(c, p.params, share);
      modelled.push_back(t.ns);
      sms.push_back(t.sms_touched);
    }
    std::vector<SimTime> ns = modelled;
    if (p.calibrated) {
      SimTime total = 0;
      for (const SimTime t : modelled) total = add_kernel_times(total, t);
      // L(b) was measured on the whole GPU. On a share the kernels keep the whole GPU's
      // calibration: the batch takes L(b) x (modelled on the share / modelled on the GPU),
      // rounded to the nearest ns, split over the kernels as on the GPU.
      SimTime target = measured_ns[bi];
      if (is_partial(share, p.params)) {
        SimTime whole = 0;
        for (const KernelCall& c : p.calls[bi]) {
          whole = add_kernel_times(whole, kernel_time(c, p.params).ns);
        }
        if (whole > 0) {
          target = checked_ns(static_cast<double>(measured_ns[bi]) * static_cast<double>(total) /
                              static_cast<double>(whole));
        }
      }
      ns = calibrate_durations(modelled, target);
      p.scale[bi] = total > 0 ? static_cast<double>(target) / static_cast<double>(total) : 1.0;
    }
    BatchKernels& batch = p.batches[bi];
    for (std::size_t i = 0; i < ns.size(); ++i) {
      batch.push(TimedKernel{ns[i], sms[i], solo_share(p.calls[bi][i], ns[i], p.params)});
    }
  }
  return p;
}

BatchKernels merge_batches(const KernelProgram& p, std::span<const int> part_batches) {
  if (part_batches.empty()) throw std::invalid_argument("merge_batches: no parts");
  int total = 0;
  for (const int b : part_batches) {
    if (b < 1 || b > p.max_batch()) {
      throw std::invalid_argument(
          fmt::format("merge_batches: part of batch {} outside 1..{}", b, p.max_batch()));
    }
    total += b;
  }
  if (total > p.max_batch()) {
    throw std::invalid_argument(
        fmt::format("merge_batches: {} requests exceed the program's {}", total, p.max_batch()));
  }
  // One tenant's batch alone is its own kernels (exactly its calibrated L(b)).
  if (part_batches.size() == 1) return p.batches[static_cast<std::size_t>(total)];
  const double scale = p.scale[static_cast<std::size_t>(total)];
  // Every batch size lowers to the same kernels, layer by layer (lower.h): merge call i.
  const std::size_t n = p.calls[1].size();
  for (const int b : part_batches) {
    if (p.calls[static_cast<std::size_t>(b)].size() != n) {
      throw std::logic_error("merge_batches: batch sizes lowered to different kernels");
    }
  }
  std::vector<KernelCall> parts(part_batches.size());
  std::vector<KernelCall> merged(n);
  std::vector<SimTime> modelled(n);
  std::vector<int> sms(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < part_batches.size(); ++j) {
      parts[j] = p.calls[static_cast<std::size_t>(part_batches[j])][i];
    }
    const KernelTime t = batched_kernel_time(parts, p.params, p.share);
    merged[i] = summed(parts);
    modelled[i] = t.ns;
    sms[i] = t.sms_touched;
  }
  std::vector<SimTime> ns = modelled;
  if (p.calibrated) {
    // The super-kernel's modelled total scaled and rounded once, then split over its kernels
    // by largest remainder as a batch's L(b) is: rounding each kernel on its own could
    // round them all to 0 (a super-kernel of 1 ns batches took no time, and a closed loop
    // then spun at one instant). At least 1 ns, as every calibrated batch.
    SimTime total = 0;
    for (const SimTime t : modelled) total = add_kernel_times(total, t);
    const SimTime target = std::max<SimTime>(1, checked_ns(static_cast<double>(total) * scale));
    ns = calibrate_durations(modelled, target);
  }
  BatchKernels out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push(TimedKernel{ns[i], sms[i], solo_share(merged[i], ns[i], p.params)});
  }
  return out;
}

}  // namespace infersim::kernels
