// The `cuda` backend: cuBLAS SGEMMs and device-to-device copies on CUDA streams.
//
// A lane is a CUDA stream with its own cuBLAS handle. A GEMM call is cublasSgemm (groups:
// cublasSgemmStridedBatched); a space-time super-kernel over several tenants is one
// cublasSgemmBatched per distinct problem shape (one when every tenant brings the same
// number of requests), with per-tenant weight and activation pointers; a memory call is a
// cudaMemcpyAsync of half its bytes (read, then written). A marker is a CUDA event; the host
// polls the oldest event of each lane and stamps a completion on std::chrono::steady_clock
// when it sees it. Every CUDA and cuBLAS return code is checked; a failure is a
// std::runtime_error naming the call and CUDA's message.
//
// Built only when CMake finds a CUDA toolkit (INFERSIM_HAVE_CUDA); plain C++ against the CUDA
// runtime and cuBLAS, no device code of our own.
#pragma once

#include <memory>

#include "validation/device.h"

namespace infersim::validation {

// Opens GPU 0. Throws DeviceUnavailable (one line) when there is no usable GPU or driver.
std::unique_ptr<Device> open_cuda_device();

}  // namespace infersim::validation
