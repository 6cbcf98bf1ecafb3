// A tenant's model as the executors run it: its kernel calls (sim/kernels/kernel_call.h) at
// every batch size, the very list the kernel-level model times. A GEMM call runs as an
// OpenBLAS / cuBLAS SGEMM of its shape, a memory call as a copy of its bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/kernels/kernel_call.h"

namespace infersim::validation {

using kernels::KernelCall;

struct ModelProgram {
  std::string model;
  std::string family;
  // calls[b]: the kernel launches of one batch of b samples, in execution order, for
  // b = 1..max_batch (calls[0] is empty). Every b has the same number of calls, the i-th
  // of each lowering the same layer (a space-time super-kernel merges them).
  std::vector<std::vector<KernelCall>> calls;
  double input_bytes = 0;   // per sample
  double output_bytes = 0;  // per sample
  double weight_bytes = 0;  // the model's parameters
  double flops = 0;         // per sample, GEMM FLOPs (2 per multiply-add)

  int max_batch() const { return static_cast<int>(calls.size()) - 1; }
};

// Synthetic single-GEMM models: seed 003's Table 1 problems (R SGEMM problems of one shape,
// each a tenant with its own weights):
//   sgemm_rnn       M = 512, N = 1,   K = 512   matrix-vector, an RNN step
//   sgemm_conv2_2   M = 256, N = 128, K = 1152  the im2col GEMM of ResNet-18's conv2_2
//   sgemm_square    M = N = K = 256
// A batch of b requests multiplies the tenant's weights A (M x K) by b inputs side by side,
// one GEMM of N x b columns. A suffix _xL makes a chain of L such GEMMs (L layers, each
// with its own weights), e.g. sgemm_conv2_2_x4: the four 3x3 convolutions of ResNet-18's
// conv2 stage. Every GEMM reads A and B and writes C once (FP32).
std::optional<ModelProgram> synthetic_program(const std::string& model, int max_batch);

// The synthetic models' base names (without _xL), for listings and errors.
std::vector<std::string> synthetic_models();

// Every model validation mode can execute: the synthetic models, and every model with a
// kernel graph (sim/kernels: an architecture file, or a Clockwork row one stands for),
// lowered at each batch size with the simulator's own lowering -- what the kernel-level
// model times is what gets executed.
class ProgramLibrary {
 public:
  // `architectures_dir`: hardware_profiles/architectures ("" = synthetic models only). Read
  // on first need.
  explicit ProgramLibrary(std::string architectures_dir = "");
  ~ProgramLibrary();
  ProgramLibrary(const ProgramLibrary&) = delete;
  ProgramLibrary& operator=(const ProgramLibrary&) = delete;

  // The model's program up to `max_batch`, or nothing when no source knows it.
  std::optional<ModelProgram> get(const std::string& model, int max_batch) const;
  // What get() accepts, for errors.
  std::string known() const;

 private:
  struct Graphs;
  const Graphs& graphs() const;
  std::string dir_;
  mutable std::unique_ptr<Graphs> graphs_;
};

}  // namespace infersim::validation
