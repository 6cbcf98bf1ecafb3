#include "sim/kernels/graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/graph/topological_sort.hpp>
#include <initializer_list>
#include <iterator>
#include <stdexcept>

namespace infersim::kernels {

const char* to_string(LayerKind kind) {
  switch (kind) {
    case LayerKind::kInput:
      return "input";
    case LayerKind::kConv:
      return "conv";
    case LayerKind::kFullyConnected:
      return "fc";
    case LayerKind::kPool:
      return "pool";
    case LayerKind::kElementwise:
      return "elementwise";
    case LayerKind::kAdd:
      return "add";
    case LayerKind::kConcat:
      return "concat";
  }
  return "?";
}

std::vector<LayerId> Architecture::inputs_of(LayerId id) const {
  std::vector<std::pair<std::uint32_t, LayerId>> by_slot;
  for (auto [e, end] = boost::in_edges(id, graph); e != end; ++e) {
    by_slot.emplace_back(graph[*e].slot, boost::source(*e, graph));
  }
  std::sort(by_slot.begin(), by_slot.end());
  std::vector<LayerId> out;
  for (const auto& [slot, u] : by_slot) out.push_back(u);
  return out;
}

std::vector<LayerId> Architecture::consumers_of(LayerId id) const {
  std::vector<LayerId> out;
  for (auto [e, end] = boost::out_edges(id, graph); e != end; ++e) {
    out.push_back(boost::target(*e, graph));
  }
  std::sort(out.begin(), out.end());
  return out;
}

LayerId Architecture::find(const std::string& name) const {
  for (LayerId v = 0; v < size(); ++v) {
    if (graph[v].name == name) return v;
  }
  throw std::out_of_range(fmt::format("{}: no layer '{}'", this->name, name));
}

double Architecture::flops() const {
  double s = 0;
  for (LayerId v = 0; v < size(); ++v) s += graph[v].flops;
  return s;
}

double Architecture::gemm_flops() const {
  double s = 0;
  for (LayerId v = 0; v < size(); ++v) {
    if (graph[v].is_gemm()) s += graph[v].flops;
  }
  return s;
}

double Architecture::weight_bytes() const {
  double s = 0;
  for (LayerId v = 0; v < size(); ++v) s += graph[v].weight_bytes;
  return s;
}

namespace {

[[noreturn]] void fail(const Layer& l, const std::string& what) {
  throw std::invalid_argument(fmt::format("layer '{}': {}", l.name, what));
}

// The product of `factors` (each >= 0), or a layer error naming `what` when it passes
// kMaxLayerCount; computed without overflow.
std::int64_t count(const Layer& l, const char* what, std::initializer_list<std::int64_t> factors) {
  std::int64_t n = 1;
  for (const std::int64_t f : factors) {
    if (__builtin_mul_overflow(n, f, &n) || n > kMaxLayerCount) {
      fail(l, fmt::format("{} of more than 2^40 elements per sample", what));
    }
  }
  return n;
}

// `s`'s elements, checked against kMaxLayerCount.
std::int64_t elements(const Layer& l, const Shape& s, const char* what) {
  return count(l, what, {s.c, s.h, s.w});
}

// Output extent of a window: floor((in + 2 pad - k) / stride) + 1, or with ceil mode
// ceil(...) + 1 less a last window that would start in the right padding (the MXNet and
// PyTorch rule).
std::int64_t window_out(const Layer& l, std::int64_t in, int k, int s, int p) {
  if (k < 1 || s < 1 || p < 0) fail(l, "window sizes and strides must be >= 1, padding >= 0");
  const std::int64_t span = in + 2 * std::int64_t{p} - k;
  if (span < 0) {
    fail(l, fmt::format("window {} larger than the padded input {}", k, in + 2 * std::int64_t{p}));
  }
  std::int64_t out = span / s + 1;
  if (l.ceil_mode && span % s != 0) {
    out = span / s + 2;
    if ((out - 1) * s >= in + p) --out;
  }
  return out;
}

void infer(Layer& l, std::int64_t out_channels) {
  const auto e = static_cast<double>(l.inputs.empty() ? 0 : l.inputs[0].elements());
  auto need_inputs = [&](std::size_t lo, std::size_t hi) {
    if (l.inputs.size() < lo || l.inputs.size() > hi) {
      fail(l, fmt::format("{} takes {} input(s), got {}", to_string(l.kind),
                          lo == hi ? fmt::format("{}", lo) : fmt::format("{} or more", lo),
                          l.inputs.size()));
    }
  };
  switch (l.kind) {
    case LayerKind::kInput:
      fail(l, "only the first layer is the input");
    case LayerKind::kConv: {
      need_inputs(1, 1);
      const Shape& in = l.inputs[0];
      const int g = l.groups;
      if (g < 1) fail(l, "groups must be >= 1");
      if (out_channels < 1) fail(l, "out channels must be >= 1");
      if (in.c % g != 0 || out_channels % g != 0) {
        fail(l, fmt::format("channels {} -> {} not divisible by groups {}", in.c, out_channels, g));
      }
      l.output = {out_channels, window_out(l, in.h, l.kernel_h, l.stride_h, l.pad_h),
                  window_out(l, in.w, l.kernel_w, l.stride_w, l.pad_w)};
      elements(l, l.output, "output");
      l.gemm.m = out_channels / g;
      l.gemm.k = count(l, "a GEMM common dimension (input channels x window)",
                       {in.c / g, l.kernel_h, l.kernel_w});
      l.gemm.n_per_sample = l.output.h * l.output.w;
      l.gemm.groups = g;
      l.flops = l.gemm.flops_per_sample();
      l.activation_bytes =
          static_cast<double>(in.elements() + l.output.elements()) * kBytesPerElement;
      l.weight_bytes = static_cast<double>(out_channels * l.gemm.k + (l.bias ? out_channels : 0)) *
                       kBytesPerElement;
      return;
    }
    case LayerKind::kFullyConnected: {
      need_inputs(1, 1);
      if (out_channels < 1) fail(l, "out features must be >= 1");
      const std::int64_t in = l.inputs[0].elements();
      l.output = {out_channels, 1, 1};
      l.gemm = {out_channels, in, 1, 1};
      l.flops = l.gemm.flops_per_sample();
      l.activation_bytes = static_cast<double>(in + out_channels) * kBytesPerElement;
      l.weight_bytes =
          static_cast<double>(in * out_channels + (l.bias ? out_channels : 0)) * kBytesPerElement;
      return;
    }
    case LayerKind::kPool: {
      need_inputs(1, 1);
      const Shape& in = l.inputs[0];
      if (l.pool == PoolKind::kGlobalAvg) {
        l.output = {in.c, 1, 1};
        l.flops = e;  // one add per input element
      } else {
        l.output = {in.c, window_out(l, in.h, l.kernel_h, l.stride_h, l.pad_h),
                    window_out(l, in.w, l.kernel_w, l.stride_w, l.pad_w)};
        elements(l, l.output, "output");
        l.flops = static_cast<double>(l.output.elements()) * l.kernel_h * l.kernel_w;
      }
      l.activation_bytes = (e + static_cast<double>(l.output.elements())) * kBytesPerElement;
      return;
    }
    case LayerKind::kElementwise: {
      need_inputs(1, 1);
      l.output = l.inputs[0];
      // Inference batch norm is y = a * x + b per channel (2 FLOPs); ReLU one max.
      l.flops = (l.elementwise == ElementwiseKind::kBatchNorm ? 2.0 : 1.0) * e;
      l.activation_bytes = 2.0 * e * kBytesPerElement;
      // Batch norm keeps gamma, beta, running mean and running variance per channel.
      l.weight_bytes = l.elementwise == ElementwiseKind::kBatchNorm
                           ? 4.0 * static_cast<double>(l.output.c) * kBytesPerElement
                           : 0.0;
      return;
    }
    case LayerKind::kAdd: {
      need_inputs(2, SIZE_MAX);
      for (const Shape& s : l.inputs) {
        if (!(s == l.inputs[0])) {
          fail(l, fmt::format("add of different shapes {}x{}x{} and {}x{}x{}", l.inputs[0].c,
                              l.inputs[0].h, l.inputs[0].w, s.c, s.h, s.w));
        }
      }
      l.output = l.inputs[0];
      const auto n = static_cast<double>(l.inputs.size());
      l.flops = (n - 1.0) * e;
      l.activation_bytes = (n + 1.0) * e * kBytesPerElement;
      return;
    }
    case LayerKind::kConcat: {
      need_inputs(2, SIZE_MAX);
      Shape out = {0, l.inputs[0].h, l.inputs[0].w};
      for (const Shape& s : l.inputs) {
        if (s.h != out.h || s.w != out.w) {
          fail(l, fmt::format("concat of different spatial sizes {}x{} and {}x{}", out.h, out.w,
                              s.h, s.w));
        }
        out.c += s.c;
        count(l, "output channels", {out.c});
      }
      l.output = out;
      elements(l, l.output, "output");
      // A concat copies every input into the output: it reads and writes each element once.
      l.activation_bytes = 2.0 * static_cast<double>(out.elements()) * kBytesPerElement;
      return;
    }
  }
}

}  // namespace

Architecture build_architecture(std::string name, std::vector<std::string> clockwork,
                                const Shape& input, std::vector<LayerSpec> layers) {
  Architecture a;
  a.name = std::move(name);
  a.clockwork = std::move(clockwork);
  Layer data;
  data.name = "data";
  data.kind = LayerKind::kInput;
  data.output = input;
  if (input.c < 1 || input.h < 1 || input.w < 1) fail(data, "input dimensions must be >= 1");
  elements(data, input, "input");
  boost::add_vertex(data, a.graph);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    LayerSpec& spec = layers[i];
    const auto self = static_cast<std::uint32_t>(i + 1);
    for (const std::uint32_t u : spec.from) {
      if (u >= self) fail(spec.layer, "an input is not an earlier layer");
      spec.layer.inputs.push_back(a.graph[u].output);
    }
    infer(spec.layer, spec.out_channels);
    const LayerId v = boost::add_vertex(std::move(spec.layer), a.graph);
    for (std::uint32_t slot = 0; slot < spec.from.size(); ++slot) {
      boost::add_edge(spec.from[slot], v, LayerEdge{slot}, a.graph);
    }
  }
  // topological_sort writes the reverse of a topological order.
  std::vector<LayerId> reversed;
  boost::topological_sort(a.graph, std::back_inserter(reversed));
  a.order.assign(reversed.rbegin(), reversed.rend());
  return a;
}

}  // namespace infersim::kernels
