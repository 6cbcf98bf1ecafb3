// Launch cost of back-to-back kernels on one stream: 1000 launches of a kernel spinning for
// a fixed number of cycles, timed with CUDA events. Empty kernels give the host's launch
// interval; spinning kernels give the GPU-side overhead per kernel (time per kernel minus
// the spin at the SM clock).
#include <cstdio>

__global__ void spin(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

int main() {
  cudaStream_t s;
  cudaStreamCreate(&s);
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  int khz = 0;
  cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0);
  for (long long cycles : {0LL, 20000LL, 100000LL}) {
    for (int i = 0; i < 50; ++i) spin<<<132, 128, 0, s>>>(cycles);
    const int n = 1000;
    cudaEventRecord(a, s);
    for (int i = 0; i < n; ++i) spin<<<132, 128, 0, s>>>(cycles);
    cudaEventRecord(b, s);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    const double per_kernel_us = ms * 1000.0 / n, spin_us = cycles / (khz / 1000.0);
    printf("spin %lld cycles (%.2f us at %d MHz): %.3f us per kernel, %.3f us beyond the spin\n",
           cycles, spin_us, khz / 1000, per_kernel_us, per_kernel_us - spin_us);
  }
}
