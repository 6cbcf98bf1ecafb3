#include "validation/program.h"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"

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

struct ProgramLibrary::Graphs {
  std::vector<kernels::Architecture> archs;
};

ProgramLibrary::ProgramLibrary(std::string architectures_dir)
    : dir_(std::move(architectures_dir)) {}
ProgramLibrary::~ProgramLibrary() = default;

const ProgramLibrary::Graphs& ProgramLibrary::graphs() const {
  if (!graphs_) {
    graphs_ = std::make_unique<Graphs>();
    if (!dir_.empty()) graphs_->archs = kernels::load_architectures(dir_);
  }
  return *graphs_;
}

std::optional<ModelProgram> ProgramLibrary::get(const std::string& model, int max_batch) const {
  if (auto p = synthetic_program(model, max_batch)) return p;
  const auto& archs = graphs().archs;
  const kernels::Architecture* arch = nullptr;
  for (const auto& a : archs) {
    if (a.name == model) arch = &a;
  }
  if (!arch) arch = kernels::find_for_model(archs, model);
  if (!arch) return std::nullopt;
  ModelProgram p;
  p.model = model;
  p.family = fmt::format("kernel graph {} ({})", arch->name, arch->description);
  const kernels::Layer& in = arch->layer(arch->order.front());
  const kernels::Layer& out = arch->layer(arch->order.back());
  p.input_bytes = static_cast<double>(in.output.elements()) * kernels::kBytesPerElement;
  p.output_bytes = static_cast<double>(out.output.elements()) * kernels::kBytesPerElement;
  p.weight_bytes = arch->weight_bytes();
  p.flops = arch->gemm_flops();
  p.calls.resize(static_cast<std::size_t>(max_batch) + 1);
  for (int b = 1; b <= max_batch; ++b) {
    p.calls[static_cast<std::size_t>(b)] = kernels::lower(*arch, b);
    if (p.calls[static_cast<std::size_t>(b)].size() != p.calls[1].size()) {
      throw std::logic_error(fmt::format("{}: {} kernels at batch {}, {} at batch 1", arch->name,
                                         p.calls[static_cast<std::size_t>(b)].size(), b,
                                         p.calls[1].size()));
    }
  }
  return p;
}

std::string ProgramLibrary::known() const {
  std::string s = "synthetic models ";
  for (const auto& m : synthetic_models()) s += m + ", ";
  s += "with an optional _xL suffix";
  const auto& archs = graphs().archs;
  if (!archs.empty()) {
    s += fmt::format("; {} kernel graphs from {} (e.g. {}) and the Clockwork rows they stand for",
                     archs.size(), dir_, archs.front().name);
  }
  return s;
}

}  // namespace infersim::validation
