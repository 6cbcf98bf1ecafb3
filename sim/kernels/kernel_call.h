// One GPU kernel launch of a lowered model: what the simulator times and what the
// real-hardware executors (OpenBLAS / cuBLAS) run.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>

namespace infersim::kernels {

// A kernel or batch the model cannot time: a time beyond the horizon (kHorizon, 1e18 ns) or
// not finite, or a count past 2^53 (a double's exact integers). It comes from a too-slow GPU
// or a too-large architecture or batch, not from a bug: callers that know where the GPU, the
// architecture and the batch came from report it as an InputError there.
class OutOfModelRange : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

// 2^53: the largest count (blocks, GEMM columns) the model computes with exactly.
inline constexpr std::int64_t kMaxModelCount = std::int64_t{1} << 53;

struct KernelCall {
  enum class Kind : std::uint8_t {
    kGemm,    // `count` independent GEMMs of one shape (cuBLAS batched / strided-batched)
    kMemory,  // a bandwidth-bound kernel (pooling, concat, unfused batch norm / ReLU / add)
  };
  Kind kind = Kind::kGemm;
  std::int64_t m = 0, n = 0, k = 0;  // kGemm: C[m x n] = A[m x k] * B[k x n]
  std::int64_t count = 1;            // independent problems of that shape (groups; merged tenants)
  double bytes = 0;                  // device-memory bytes read + written
  double flops = 0;                  // 2*m*n*k*count for a GEMM
  std::uint32_t node = 0;            // the graph node it lowers
  // The last graph node folded into this call: element-wise layers (batch norm, ReLU, a
  // residual add) fused into the epilogue of `node`. Equal to `node` when nothing is fused.
  std::uint32_t last_node = 0;
};

// The first of `parts` (non-empty) with all the parts' bytes and FLOPs added up: what one
// batched kernel of them moves and computes.
inline KernelCall summed(std::span<const KernelCall> parts) {
  KernelCall total = parts.front();
  total.bytes = 0;
  total.flops = 0;
  for (const KernelCall& c : parts) {
    total.bytes += c.bytes;
    total.flops += c.flops;
  }
  return total;
}

}  // namespace infersim::kernels
