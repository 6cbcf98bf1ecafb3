// Load latency: one thread chases pointers through a buffer (stride 4 KiB + 128 B, so every
// load misses the L1 and, beyond the L2's size, the L2).
#include <cstdio>
#include <vector>

__global__ void chase(const unsigned* p, int n, unsigned long long* out) {
  unsigned j = 0;
  for (int i = 0; i < n; ++i) j = p[j];  // warm the TLB and caches
  const long long start = clock64();
  for (int i = 0; i < n; ++i) j = p[j];
  out[0] = clock64() - start;
  out[1] = j;
}

int main() {
  int khz = 0;
  cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0);
  for (size_t bytes : {size_t{1} << 20, size_t{1} << 30}) {
    const size_t n = bytes / 4, stride = (4096 + 128) / 4;
    std::vector<unsigned> h(n);
    for (size_t i = 0; i < n; ++i) h[i] = static_cast<unsigned>((i + stride) % n);
    unsigned* d;
    unsigned long long *o, ho[2];
    cudaMalloc(&d, bytes);
    cudaMalloc(&o, 16);
    cudaMemcpy(d, h.data(), bytes, cudaMemcpyHostToDevice);
    const int iters = 20000;
    chase<<<1, 1>>>(d, iters, o);
    cudaMemcpy(ho, o, 16, cudaMemcpyDeviceToHost);
    const double cycles = static_cast<double>(ho[0]) / iters;
    printf("chase over %zu MiB: %.1f cycles = %.1f ns per load\n", bytes >> 20, cycles,
           cycles / (khz / 1e6));
    cudaFree(d);
    cudaFree(o);
  }
}
