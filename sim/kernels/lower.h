// Lowering a kernel graph to the flat list of kernel launches of one inference batch.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/kernels/graph.h"
#include "sim/kernels/kernel_call.h"

namespace infersim::kernels {

struct LowerOptions {
  // Fold element-wise layers into the epilogue of the kernel that produces their input, as
  // TVM's operator fusion (Relay FuseOps) does for the Clockwork models: a conv or FC with the
  // batch norm, ReLU and residual add after it is one kernel that writes its output once; a
  // pool or concat likewise absorbs the element-wise layers after it. A layer is folded only
  // when the tensor it reads has no other reader (otherwise that tensor must be written out
  // anyway, and the element-wise layer is a kernel of its own). Off: one kernel per layer.
  bool fuse_elementwise = true;
};

// The kernel launches of one batch of `batch` samples, in execution order (the graph's
// topological order; a call is never before a call whose output it reads). The input layer
// launches nothing. Conv and FC layers are kGemm calls with the im2col shape
// (m, n = batch * H_out * W_out, k) and count = groups; pooling, concat and unfused
// element-wise layers are kMemory calls. `bytes` is the implicit-GEMM traffic: activations
// read and written once, weights once per batch, plus the extra tensor a fused residual add
// reads; the im2col matrix is never materialised. A GEMM's `flops` is exactly 2*m*n*k*count
// (fused epilogue work is not counted). Throws std::invalid_argument if batch < 1.
std::vector<KernelCall> lower(const Architecture& arch, std::int64_t batch,
                              const LowerOptions& options = {});

}  // namespace infersim::kernels
