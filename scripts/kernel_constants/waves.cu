// How fast one thread block of a cuBLAS SGEMM runs when it has an SM to itself, against
// the same block sharing its SM with others: the kernel model's tile efficiencies
// (sim/kernels/roofline.cc) were measured with about two or more blocks per SM, and the
// model takes a lone block of four or more warps to run at that same rate.
//
// B problems of m x n x k, each one tile (m x n is a tile cuBLAS picks for it), launched as
// one cublasSgemmStridedBatched, so the kernel has B blocks and no split-K: B = 1...8 x SMs
// puts 1...8 blocks on every SM. Each (shape, B) runs at two depths, k and 4k; the slope
// (t(4k) - t(k)) / 3k is the main loop's time per unit of k with the fixed time (launch,
// prologue, epilogue) taken out. The main loop's rate per SM, b blocks resident:
// b x 2 m n / slope. Matrices are distinct per problem, as in a multi-tenant batch.
//
//   nvcc -O2 -arch=native -o waves waves.cu -lcublas && ./waves [--once]
//
// --once launches every (shape, B, depth) once (for ncu: kernel name, grid, block, registers).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "check.h"

namespace {

struct Shape {
  int m, n;
};
// m x n of one problem: the tiles of the model's catalog that cuBLAS launches for SGEMMs.
const Shape kShapes[] = {{64, 64}, {128, 64}, {128, 128}, {256, 128}};
constexpr int kK = 1024;  // the shallow depth; the deep one is 4 x kK
const int kPerSm[] = {1, 2, 3, 4, 6, 8};
constexpr int kReps = 9;

// `batch` problems of m x n x k, each with its own A, B and C, as one strided batched call.
void launch(cublasHandle_t h, const Shape& s, int k, int batch, float* a, float* b, float* c) {
  const float alpha = 1, beta = 0;
  CB(cublasSgemmStridedBatched(
      h, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, k, &alpha, a, s.m, static_cast<long long>(s.m) * k, b,
      k, static_cast<long long>(k) * s.n, &beta, c, s.m, static_cast<long long>(s.m) * s.n, batch));
}

double time_us(cublasHandle_t h, const Shape& s, int k, int batch, float* a, float* b, float* c) {
  auto run = [&] { launch(h, s, k, batch, a, b, c); };
  run();
  run();
  CK(cudaDeviceSynchronize());
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  std::vector<float> t;
  for (int r = 0; r < kReps; ++r) {
    CK(cudaEventRecord(e0));
    run();
    CK(cudaEventRecord(e1));
    CK(cudaEventSynchronize(e1));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, e0, e1));
    t.push_back(ms * 1000);
  }
  CK(cudaEventDestroy(e0));
  CK(cudaEventDestroy(e1));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const bool once = argc > 1 && std::string_view(argv[1]) == "--once";
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  const int sms = prop.multiProcessorCount;
  int version = 0;
  cublasHandle_t h;
  CB(cublasCreate(&h));
  CB(cublasGetVersion(h, &version));
  CB(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));  // FP32 SIMT, TF32 off
  std::printf("%s, %d SMs, cuBLAS %d\n", prop.name, sms, version);
  const int max_batch = sms * kPerSm[std::size(kPerSm) - 1];
  // Operands for the largest shape (256 x 128) at the deep k: 6.8 GB at 8 x 132 problems.
  const std::size_t a_floats = std::size_t{256} * 4 * kK * max_batch;
  const std::size_t b_floats = std::size_t{4} * kK * 128 * max_batch;
  const std::size_t c_floats = std::size_t{256} * 128 * max_batch;
  float *a, *b, *c;
  CK(cudaMalloc(&a, sizeof(float) * a_floats));
  CK(cudaMalloc(&b, sizeof(float) * b_floats));
  CK(cudaMalloc(&c, sizeof(float) * c_floats));
  CK(cudaMemset(a, 0x3c, sizeof(float) * a_floats));
  CK(cudaMemset(b, 0x3c, sizeof(float) * b_floats));
  if (once) {
    for (const Shape& s : kShapes) {
      for (const int per : kPerSm) {
        for (const int k : {kK, 4 * kK}) launch(h, s, k, per * sms, a, b, c);
      }
    }
    CK(cudaDeviceSynchronize());
    return 0;
  }
  std::printf("B problems of m x n x k as one cublasSgemmStridedBatched, GPU time (median of %d)\n",
              kReps);
  std::printf(
      "m x n | B | B/SMs | t(k=%d) us | t(k=%d) us | slope ns per k | "
      "main loop per SM, TFLOP/s | fraction of the SM's FP32 peak\n",
      kK, 4 * kK);
  int clock_khz = 0;
  CK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0));
  const double sm_peak = 2.0 * 128 * clock_khz * 1e3 / 1e12;  // TFLOP/s: 128 FP32 lanes per SM
  for (const Shape& s : kShapes) {
    for (const int per : kPerSm) {
      const int batch = per * sms;
      const double t1 = time_us(h, s, kK, batch, a, b, c);
      const double t4 = time_us(h, s, 4 * kK, batch, a, b, c);
      const double slope_ns = (t4 - t1) / (3.0 * kK) * 1e3;
      const double rate = per * 2.0 * s.m * s.n / slope_ns / 1e3;  // TFLOP/s per SM
      std::printf("%dx%d | %d | %d | %.2f | %.2f | %.3f | %.4f | %.3f\n", s.m, s.n, batch, per, t1,
                  t4, slope_ns, rate, rate / sm_peak);
    }
  }
  // One problem of each shape, alone on the GPU: a single block (if cuBLAS keeps one tile).
  std::printf("B = 1, k = %d and %d: us\n", kK, 4 * kK);
  for (const Shape& s : kShapes) {
    std::printf("%dx%d | %.2f | %.2f\n", s.m, s.n, time_us(h, s, kK, 1, a, b, c),
                time_us(h, s, 4 * kK, 1, a, b, c));
  }
  CB(cublasDestroy(h));
  return 0;
}
