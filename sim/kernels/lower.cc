#include "sim/kernels/lower.h"

#include <fmt/format.h>

#include <limits>
#include <stdexcept>

namespace infersim::kernels {

std::vector<KernelCall> lower(const Architecture& arch, std::int64_t batch,
                              const LowerOptions& options) {
  if (batch < 1) throw std::invalid_argument("lower: batch must be >= 1");
  const auto b = static_cast<double>(batch);
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  // The call that computes each layer's output (kNone for the input).
  std::vector<std::size_t> call_of(arch.size(), kNone);
  std::vector<KernelCall> calls;

  // Can `v` be folded into the call producing its input `u`? Only if u is that call's last
  // node (its output is the call's output) and nothing else reads u.
  auto open_call = [&](LayerId u) -> std::size_t {
    const std::size_t c = call_of[u];
    if (c == kNone || calls[c].last_node != u) return kNone;
    if (boost::out_degree(u, arch.graph) != 1) return kNone;
    return c;
  };

  for (const LayerId v : arch.order) {
    const Layer& l = arch.layer(v);
    const auto node = static_cast<std::uint32_t>(v);
    if (l.kind == LayerKind::kInput) continue;

    if (options.fuse_elementwise &&
        (l.kind == LayerKind::kElementwise || l.kind == LayerKind::kAdd)) {
      // Candidate: the latest call among the inputs that can take an epilogue, provided every
      // other input is computed by an earlier call (or is the network input).
      const std::vector<LayerId> ins = arch.inputs_of(v);
      std::size_t target = kNone;
      LayerId via = 0;
      for (const LayerId u : ins) {
        const std::size_t c = open_call(u);
        if (c != kNone && (target == kNone || c > target)) {
          target = c;
          via = u;
        }
      }
      bool others_ready = target != kNone;
      for (const LayerId u : ins) {
        if (u != via && call_of[u] != kNone && call_of[u] >= target) others_ready = false;
      }
      if (others_ready) {
        KernelCall& c = calls[target];
        c.last_node = node;
        // A fused add reads its other operands from memory; element-wise layers on the
        // producer's output cost no traffic (applied in registers before the single write).
        if (l.kind == LayerKind::kAdd) {
          c.bytes += b * static_cast<double>(ins.size() - 1) *
                     static_cast<double>(l.output.elements()) * kBytesPerElement;
        }
        if (c.kind == KernelCall::Kind::kMemory) c.flops += b * l.flops;
        call_of[v] = target;
        continue;
      }
    }

    KernelCall c;
    c.node = node;
    c.last_node = node;
    if (l.is_gemm()) {
      c.kind = KernelCall::Kind::kGemm;
      c.m = l.gemm.m;
      if (l.gemm.n_per_sample > kMaxModelCount / batch) {
        throw OutOfModelRange(
            fmt::format("layer '{}' of '{}' at batch {} is a GEMM of {} x {} "
                        "columns, more than 2^53",
                        l.name, arch.name, batch, batch, l.gemm.n_per_sample));
      }
      c.n = l.gemm.n(batch);
      c.k = l.gemm.k;
      c.count = l.gemm.groups;
      c.flops = 2.0 * static_cast<double>(c.m) * static_cast<double>(c.n) *
                static_cast<double>(c.k) * static_cast<double>(c.count);
    } else {
      c.kind = KernelCall::Kind::kMemory;
      c.flops = b * l.flops;
    }
    c.bytes = b * l.activation_bytes + l.weight_bytes;
    call_of[v] = calls.size();
    calls.push_back(c);
  }
  return calls;
}

}  // namespace infersim::kernels
