// Measuring a device: L(b) of a model's kernel calls, and the device's peak FLOP/s and
// memory bandwidth (`infersim profile`).
//
// Method (seed 002, DLAS: "the median of 150 runs, disregarding the first warm-up run"):
// `warmup` runs that are not kept, then `repeats` timed runs, and the median (in rounds
// over the batch sizes, so a drifting device drifts alike for all of them). One run is
// one batch alone on the device: every kernel launched on one lane, timed from before the
// first launch to the completion of the marker after the last (what a request of an idle
// exclusive device sees, launch overhead included).
#pragma once

#include <string>
#include <vector>

#include "validation/device.h"

namespace infersim::validation {

struct TimingSettings {
  int warmup = 3;
  int repeats = 30;
};

struct BatchTiming {
  int batch = 0;
  double median_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
};

// Times one batch of `program` at each size in `batches` (each <= program.max_batch()).
// The program's operands must have been added to `device` as `tenant`.
std::vector<BatchTiming> time_batches(Device& device, std::uint32_t tenant,
                                      const ModelProgram& program, const std::vector<int>& batches,
                                      const TimingSettings& settings);

struct PeakFigures {
  double gflops = 0;         // median FP32 GFLOP/s of one large SGEMM on the whole device
  std::string gemm;          // its shape, e.g. "2048x2048x2048"
  double bandwidth_gbs = 0;  // median GB/s (10^9 B/s) of one large copy, bytes read + written
  std::string copy;          // its size, e.g. "256 MiB"
};

// The device's achievable peaks, timed like a batch (TimingSettings, median): an SGEMM of
// `gemm_size`^3 and a copy of `copy_mib` MiB.
PeakFigures measure_peaks(Device& device, std::uint32_t spare_tenant, int gemm_size, int copy_mib,
                          const TimingSettings& settings);

}  // namespace infersim::validation
