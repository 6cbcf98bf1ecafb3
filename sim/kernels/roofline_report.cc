#include "sim/kernels/roofline_report.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "sim/kernels/architecture.h"

namespace infersim::kernels {

double median_abs(std::vector<double> xs) {
  if (xs.empty()) return 0;
  for (double& x : xs) x = std::fabs(x);
  std::sort(xs.begin(), xs.end());
  const std::size_t n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

namespace {

ErrorSummary summarize(const std::vector<RooflineRow>& rows, int batch) {
  ErrorSummary s;
  s.batch = batch;
  std::vector<double> errors;
  for (const RooflineRow& r : rows) {
    if (r.measured_ms <= 0 || (batch != 0 && r.batch != batch)) continue;
    errors.push_back(r.error);
    if (std::fabs(r.error) > s.worst_abs) {
      s.worst_abs = std::fabs(r.error);
      s.worst_model = fmt::format("{} b{}", r.model, r.batch);
    }
  }
  s.n = errors.size();
  s.median_abs = median_abs(errors);
  return s;
}

}  // namespace

RooflineReport compare_with_profile(const std::vector<Architecture>& archs, const Profile& profile,
                                    const KernelModelParams& params,
                                    const std::vector<int>& batches, const LowerOptions& options) {
  RooflineReport rep;
  rep.gpu = params.gpu;
  rep.machine_balance = params.peak_flops / params.bandwidth;
  for (const Architecture& arch : archs) {
    const Architecture* a = &arch;
    const std::vector<std::string> names =
        a->clockwork.empty() ? std::vector<std::string>{a->name} : a->clockwork;
    for (const std::string& name : names) {
      const ModelProfile* m = profile.find(name);
      for (const int b : batches) {
        RooflineRow r;
        r.model = name;
        r.architecture = a->name;
        r.batch = b;
        std::vector<KernelCall> calls;
        try {
          calls = lower(*a, b, options);
          r.predicted_ms = ns_to_ms(model_latency(calls, with_library(params, a->library)));
        } catch (const OutOfModelRange& e) {
          throw out_of_range_error(*a, b, params, e);
        }
        double flops = 0, bytes = 0;
        for (const KernelCall& c : calls) {
          flops += c.flops;
          bytes += c.bytes;
        }
        r.gflop = b * a->gemm_flops() / 1e9;
        r.intensity = bytes > 0 ? flops / bytes : 0;
        // Measurements compare only on the GPU they were taken on.
        if (m != nullptr && profile.gpu == params.gpu) {
          const auto it = std::find(m->batch_sizes.begin(), m->batch_sizes.end(), b);
          if (it != m->batch_sizes.end()) {
            r.measured_ms = m->latency_ms[static_cast<std::size_t>(it - m->batch_sizes.begin())];
            r.error = (r.predicted_ms - r.measured_ms) / r.measured_ms;
          }
        }
        rep.rows.push_back(r);
      }
    }
  }
  for (const int b : batches) rep.by_batch.push_back(summarize(rep.rows, b));
  rep.by_batch.push_back(summarize(rep.rows, 0));
  return rep;
}

void print_report(const RooflineReport& rep, std::ostream& out) {
  fmt::print(out,
             "roofline on {}: compute-to-memory ratio {:.1f} FLOP/B (peak FP32 FLOP/s over peak "
             "memory B/s);\narithmetic intensity FLOP/B of the lowered kernels at the first and "
             "last batch; L(b) in ms\n\n",
             rep.gpu, rep.machine_balance);
  // Rows are by model, then batch: one block of rows per model.
  std::vector<int> batches;
  for (const RooflineRow& r : rep.rows) {
    if (std::find(batches.begin(), batches.end(), r.batch) == batches.end()) {
      batches.push_back(r.batch);
    }
  }
  std::string head =
      fmt::format("{:<24} {:>7} {:>8} {:>8} {:>7}", "model", "GFLOP", "FLOP/B", "FLOP/B", "bound");
  for (const int b : batches) head += fmt::format(" {:>8}", fmt::format("L{}", b));
  fmt::print(out, "{}\n", head);
  for (std::size_t i = 0; i < rep.rows.size(); i += batches.size()) {
    const RooflineRow& first = rep.rows[i];
    const RooflineRow& last = rep.rows[i + batches.size() - 1];
    std::string pred = fmt::format("{:<24} {:>7.2f} {:>8.1f} {:>8.1f} {:>7}", first.model,
                                   first.gflop / first.batch, first.intensity, last.intensity,
                                   first.intensity < rep.machine_balance ? "memory" : "compute");
    std::string meas = fmt::format("{:<58}", "");
    std::string err = meas;
    bool measured = false;
    for (std::size_t j = 0; j < batches.size(); ++j) {
      const RooflineRow& r = rep.rows[i + j];
      pred += fmt::format(" {:>8.4g}", r.predicted_ms);
      measured = measured || r.measured_ms > 0;
      meas +=
          r.measured_ms > 0 ? fmt::format(" {:>8.4g}", r.measured_ms) : fmt::format(" {:>8}", "-");
      err += r.measured_ms > 0 ? fmt::format(" {:>8}", fmt::format("{:+.0f}%", 100 * r.error))
                               : fmt::format(" {:>8}", "-");
    }
    fmt::print(out, "{}  predicted\n", pred);
    if (measured) fmt::print(out, "{}  measured\n{}  error\n", meas, err);
  }
  bool any = false;
  for (const ErrorSummary& s : rep.by_batch) any = any || s.n > 0;
  if (!any) return;
  fmt::print(out, "\n{:<8} {:>5} {:>12} {:>12}  {}\n", "batch", "n", "median|err|", "worst|err|",
             "worst");
  for (const ErrorSummary& s : rep.by_batch) {
    fmt::print(out, "{:<8} {:>5} {:>11.1f}% {:>11.1f}%  {}\n",
               s.batch == 0 ? std::string("all") : fmt::format("{}", s.batch), s.n,
               100 * s.median_abs, 100 * s.worst_abs, s.worst_model);
  }
}

void print_layers(const Architecture& arch, std::ostream& out) {
  fmt::print(out, "{} ({} layers, {:.3f} GFLOP per sample, {:.1f} MB of weights)\n", arch.name,
             arch.size(), arch.gemm_flops() / 1e9, arch.weight_bytes() / 1e6);
  fmt::print(out, "{:<36} {:<11} {:>14} {:>9} {:>9} {:>9}  {}\n", "layer", "kind", "output",
             "MFLOP", "act KB", "wt KB", "GEMM m x n/sample x k (groups) | inputs");
  for (const LayerId v : arch.order) {
    const Layer& l = arch.layer(v);
    std::vector<std::string> ins;
    for (const LayerId u : arch.inputs_of(v)) ins.push_back(arch.layer(u).name);
    const std::string gemm = l.is_gemm() ? fmt::format("{} x {} x {} ({}) | ", l.gemm.m,
                                                       l.gemm.n_per_sample, l.gemm.k, l.gemm.groups)
                                         : std::string();
    fmt::print(out, "{:<36} {:<11} {:>14} {:>9.2f} {:>9.1f} {:>9.1f}  {}{}\n", l.name,
               to_string(l.kind), fmt::format("{}x{}x{}", l.output.c, l.output.h, l.output.w),
               l.flops / 1e6, l.activation_bytes / 1e3, l.weight_bytes / 1e3, gemm,
               fmt::join(ins, ", "));
  }
}

void print_kernels(const Architecture& arch, const std::vector<KernelCall>& calls,
                   const KernelModelParams& params, std::ostream& out) {
  // "SMs held": the SMs its blocks land on, min(SMs, blocks) (KernelTime::sms_touched). The
  // compute time assumes the blocks spread so, and under `kernel_sharing: sm_budget` the
  // kernel holds that many SMs while it runs.
  fmt::print(out, "{:<36} {:>22} {:>8} {:>5} {:>7} {:>5} {:>8} {:>9} {:>9} {:>9} {:>9}\n", "kernel",
             "m x n x k (count)", "tile", "split", "blocks", "waves", "SMs held", "comp us",
             "mem us", "reduce us", "total us");
  // Timed before anything is printed: a kernel outside the model's range (OutOfModelRange)
  // leaves no partial table.
  const KernelModelParams lib = with_library(params, arch.library);
  std::vector<KernelTime> times;
  SimTime total = 0;
  for (const KernelCall& c : calls) {
    times.push_back(kernel_time(c, lib));
    total = add_kernel_times(total, times.back().ns);
  }
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const KernelCall& c = calls[i];
    const KernelTime& t = times[i];
    const std::string shape = c.kind == KernelCall::Kind::kGemm
                                  ? fmt::format("{}x{}x{} ({})", c.m, c.n, c.k, c.count)
                                  : fmt::format("{:.0f} KB", c.bytes / 1e3);
    const std::string tile =
        t.tile < 0 ? std::string("-")
                   : fmt::format("{}x{}", params.tiles[static_cast<std::size_t>(t.tile)].m,
                                 params.tiles[static_cast<std::size_t>(t.tile)].n);
    fmt::print(
        out, "{:<36} {:>22} {:>8} {:>5} {:>7} {:>5} {:>8} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f}\n",
        arch.layer(c.node).name, shape, tile, t.split_k, t.blocks, t.waves, t.sms_touched,
        t.compute_ns / 1e3, t.memory_ns / 1e3, t.reduce_ns / 1e3, static_cast<double>(t.ns) / 1e3);
  }
  fmt::print(out, "{} kernels, {:.3f} ms on {}\n", calls.size(), ns_to_ms(total), params.gpu);
}

}  // namespace infersim::kernels
