// Device-to-device copy bandwidth: 20 eager cudaMemcpyAsync copies of 1 GiB on one stream,
// timed with CUDA events after 5 warm-up copies, counting bytes read + written (the same
// measure as tiles.py's torch copy_, for a machine without PyTorch).
#include <cstdio>

int main() {
  const size_t bytes = size_t{1} << 30;
  void *a = nullptr, *b = nullptr;
  if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) {
    std::fprintf(stderr, "cudaMalloc failed\n");
    return 1;
  }
  cudaMemset(a, 1, bytes);
  cudaStream_t s;
  cudaStreamCreate(&s);
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  for (int i = 0; i < 5; ++i) cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, s);
  const int n = 20;
  cudaEventRecord(start, s);
  for (int i = 0; i < n; ++i) cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, s);
  cudaEventRecord(stop, s);
  cudaEventSynchronize(stop);
  float ms = 0;
  cudaEventElapsedTime(&ms, start, stop);
  std::printf("copy of 1 GiB (eager cudaMemcpyAsync, %d copies): %.0f GB/s counting read + write\n",
              n, 2.0 * bytes * n / (ms / 1e3) / 1e9);
  return 0;
}
