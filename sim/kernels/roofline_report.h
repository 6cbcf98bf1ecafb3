// Roofline predictions of whole models against a measured latency table (the Clockwork V100
// profile): per model and batch, predicted L(b) = the sum of its kernel times, the measured
// L(b) and the relative error; the median and worst |error| per batch size and overall.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "sim/gpu/profile.h"
#include "sim/kernels/graph.h"
#include "sim/kernels/lower.h"
#include "sim/kernels/roofline.h"

namespace infersim::kernels {

struct RooflineRow {
  std::string model;         // profile row, e.g. "resnet50_v1"
  std::string architecture;  // the graph standing for it
  int batch = 0;
  double predicted_ms = 0;
  double measured_ms = 0;  // 0 when the profile has no such batch
  double error = 0;        // (predicted - measured) / measured
  double gflop = 0;        // GEMM FLOPs of the batch / 1e9
  double intensity = 0;    // arithmetic intensity of the batch: FLOPs / bytes
};

struct ErrorSummary {
  int batch = 0;  // 0 = all batches
  std::size_t n = 0;
  double median_abs = 0, worst_abs = 0;
  std::string worst_model;
};

struct RooflineReport {
  std::string gpu;
  double machine_balance = 0;          // peak FLOP/s over peak bytes/s (seed 004's CMR)
  std::vector<RooflineRow> rows;       // by model (architecture order), then batch
  std::vector<ErrorSummary> by_batch;  // one per batch, then the overall one (batch 0)
};

// Predicts every architecture, under each of its Clockwork row names (its own name when it has
// none), at each batch in `batches`, with its library's split-K factors, and compares with the
// profile's measured latency of that model at that batch. Rows the profile lacks (another
// model or batch size), and all rows when `params` is for another GPU than the profile's, are
// predicted but not compared (measured_ms = 0) and stay out of the error statistics.
RooflineReport compare_with_profile(const std::vector<Architecture>& archs, const Profile& profile,
                                    const KernelModelParams& params,
                                    const std::vector<int>& batches,
                                    const LowerOptions& options = {});

// The report as an aligned table (what `infersim models --roofline` prints), one block per
// model: GFLOP per sample, arithmetic intensity at the first and last batch and whether the
// first is below the GPU's compute-to-memory ratio, predicted L(b); where measured, the
// measurement and the error. Then the error summary per batch, when anything was compared.
void print_report(const RooflineReport& report, std::ostream& out);

// The layer table of an architecture (what `infersim models --graph` prints): per layer its
// kind, inputs, output shape, MFLOP and activation KB per sample, weight KB and, for conv /
// FC, the im2col GEMM M, N per sample, K and groups.
void print_layers(const Architecture& arch, std::ostream& out);

// The kernel calls of one batch with their roofline times: shape or bytes, tile, split-K,
// blocks, waves, SMs, compute / memory / total microseconds; then the total.
void print_kernels(const Architecture& arch, const std::vector<KernelCall>& calls,
                   const KernelModelParams& params, std::ostream& out);

// Median of |x| (the mean of the two middle values for an even count); 0 if empty.
double median_abs(std::vector<double> xs);

}  // namespace infersim::kernels
