// Sizes of a tenant's operands, shared by the backends: one weight matrix per GEMM layer
// and activation buffers large enough for every call at the program's largest batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "validation/program.h"

namespace infersim::validation {

struct OperandSizes {
  std::vector<std::int64_t> weights;  // floats per call index (0 for a memory call)
  std::int64_t input = 0;             // floats: largest k * n * count (the B operand)
  std::int64_t output = 0;            // floats: largest m * n * count (the C operand)
  std::int64_t copy_bytes = 0;        // largest memory call's bytes / 2 (read, then written)
};

inline OperandSizes operand_sizes(const ModelProgram& p) {
  OperandSizes s;
  const auto& calls = p.calls.back();  // the largest batch
  s.weights.resize(calls.size(), 0);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const KernelCall& c = calls[i];
    if (c.kind == KernelCall::Kind::kGemm) {
      s.weights[i] = c.m * c.k * c.count;
      s.input = std::max(s.input, c.k * c.n * c.count);
      s.output = std::max(s.output, c.m * c.n * c.count);
    } else {
      s.copy_bytes = std::max(s.copy_bytes, static_cast<std::int64_t>(c.bytes / 2));
    }
  }
  return s;
}

}  // namespace infersim::validation
