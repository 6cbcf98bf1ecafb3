#include "validation/program.h"

#include <charconv>

namespace infersim::validation {
namespace {

struct GemmShape {
  const char* name;
  std::int64_t m, n, k;
};

// Seed 003, Table 1 (R SGEMM kernel evaluations queued on a V100).
constexpr GemmShape kShapes[] = {
    {"sgemm_rnn", 512, 1, 512},
    {"sgemm_conv2_2", 256, 128, 1152},
    {"sgemm_square", 256, 256, 256},
};

constexpr double kFloat = 4.0;  // bytes per FP32 element

}  // namespace

std::vector<std::string> synthetic_models() {
  std::vector<std::string> out;
  for (const auto& s : kShapes) out.emplace_back(s.name);
  return out;
}

std::optional<ModelProgram> synthetic_program(const std::string& model, int max_batch) {
  for (const auto& s : kShapes) {
    const std::string base = s.name;
    if (model.compare(0, base.size(), base) != 0) continue;
    std::int64_t layers = 1;
    const std::string rest = model.substr(base.size());
    if (!rest.empty()) {
      // "_x<L>", L in 1..1000
      if (rest.size() < 3 || rest.compare(0, 2, "_x") != 0) continue;
      auto [p, ec] = std::from_chars(rest.data() + 2, rest.data() + rest.size(), layers);
      if (ec != std::errc() || p != rest.data() + rest.size() || layers < 1 || layers > 1000) {
        continue;
      }
    }
    ModelProgram prog;
    prog.model = model;
    prog.family = "synthetic SGEMM (seed 003 Table 1)";
    prog.input_bytes = static_cast<double>(s.k * s.n) * kFloat;
    prog.output_bytes = static_cast<double>(s.m * s.n) * kFloat;
    prog.weight_bytes = static_cast<double>(layers * s.m * s.k) * kFloat;
    prog.flops = 2.0 * static_cast<double>(s.m * s.n * s.k) * static_cast<double>(layers);
    prog.calls.resize(static_cast<std::size_t>(max_batch) + 1);
    for (int b = 1; b <= max_batch; ++b) {
      for (std::int64_t l = 0; l < layers; ++l) {
        KernelCall c;
        c.kind = KernelCall::Kind::kGemm;
        c.m = s.m;
        c.n = s.n * b;
        c.k = s.k;
        c.count = 1;
        c.bytes = static_cast<double>(s.m * s.k + s.k * c.n + s.m * c.n) * kFloat;
        c.flops = 2.0 * static_cast<double>(c.m * c.n * c.k);
        c.node = static_cast<std::uint32_t>(l);
        c.last_node = c.node;
        prog.calls[static_cast<std::size_t>(b)].push_back(c);
      }
    }
    return prog;
  }
  return std::nullopt;
}

std::optional<ModelProgram> model_program(const std::string& model, int max_batch) {
  return synthetic_program(model, max_batch);
}

}  // namespace infersim::validation
