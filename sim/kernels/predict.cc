#include "sim/kernels/predict.h"

#include "sim/kernels/lower.h"
#include "sim/kernels/roofline.h"

namespace infersim::kernels {

Profile predict_profile(const std::vector<Architecture>& archs, const GpuSpec& gpu) {
  const KernelModelParams base = default_kernel_params(gpu);
  Profile p;
  p.path = "roofline";
  p.gpu = gpu.name;
  p.predicted = true;
  for (const Architecture& a : archs) {
    const KernelModelParams params = with_library(base, a.library);
    ModelProfile m;
    m.family = "roofline";
    m.architecture = a.name;
    m.mark = a.mark;
    m.input_kb =
        static_cast<double>(a.layer(a.order.front()).output.elements()) * kBytesPerElement / 1e3;
    m.output_kb =
        static_cast<double>(a.layer(a.order.back()).output.elements()) * kBytesPerElement / 1e3;
    m.weights_mb = a.weight_bytes() / 1e6;
    m.transfer_ms = a.weight_bytes() / (gpu.pcie_gbs * 1e9) * 1e3;
    m.gflop = a.gemm_flops() / 1e9;
    for (const int b : predicted_batch_sizes()) {
      m.batch_sizes.push_back(b);
      try {
        m.latency_ms.push_back(ns_to_ms(model_latency(lower(a, b), params)));
      } catch (const OutOfModelRange& e) {
        throw out_of_range_error(a, b, params, e);
      }
    }
    const std::vector<std::string> names =
        a.clockwork.empty() ? std::vector<std::string>{a.name} : a.clockwork;
    for (const std::string& name : names) {
      m.name = name;
      p.models.push_back(m);
    }
  }
  return p;
}

}  // namespace infersim::kernels
