// Seed 003 Table 1's three SGEMM shapes, R problems at a time, measured twice: with the host
// taken out (the kernels captured in a CUDA graph and replayed, so the GPU alone sets the
// pace) and with a host dispatcher in the loop (one thread launching each problem and
// polling its completion, as `infersim measure` does). The difference between the two is
// the host path; the graph figures are what the kernel model (sim/kernels/roofline.cc,
// policies/kernel_gpu.cc) describes. A spinning-kernel probe asks whether blocks of two
// concurrent kernels share an SM.
//
//   nvcc -O2 -o multiplex multiplex.cu -lcublas && ./multiplex [--once]
//
// --once launches one problem and super-kernels of 10 and 120 once (for ncu's kernel names,
// grids and registers); --gated times eager launches held behind a spinning kernel instead of
// graph replays; --sizes times 256 x n x 1152 and 256 x n x 256 for n = 1...4096;
// --single I runs shape I's plain problem 60 times, one at a time (for ncu); --ksweep times a
// lone problem against k (m x n = 256 x 128, 64 x 64, 128 x 128), --ksweep-once launches each
// of those once (for ncu); --rsweep times one at a time against R = 1...16 streams for
// Table 1's shapes and five ResNet-50 convolutions; --threads runs each scheduler with one
// host thread per stream, each waiting for its own problem (seed 003's Figure 5 harness).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

#include "check.h"

namespace {

constexpr int kMaxR = 120;
constexpr std::size_t kWorkspace = 32u << 20;  // per cuBLAS handle (graph capture needs one)

struct Shape {
  const char* name;
  int m, n, k;
};
const Shape kShapes[] = {
    {"512x1x512", 512, 1, 512}, {"256x128x1152", 256, 128, 1152}, {"256x256x256", 256, 256, 256}};
const int kRs[] = {1, 2, 10, 20, 60, 120};

double now_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Lane {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  void* workspace = nullptr;
  cudaEvent_t done = nullptr;
};

struct Problems {
  Shape s{};
  std::vector<float*> a, b, c;  // kMaxR each: distinct weights, inputs and outputs
  float** dev_ptrs = nullptr;   // 3 * kMaxR: A pointers, B pointers, C pointers
  void** host_ptrs = nullptr;   // pinned staging, as the replayer stages them
};

Problems make_problems(const Shape& s) {
  Problems p;
  p.s = s;
  for (int i = 0; i < kMaxR; ++i) {
    float *a, *b, *c;
    CK(cudaMalloc(&a, sizeof(float) * s.m * s.k));
    CK(cudaMalloc(&b, sizeof(float) * s.k * s.n));
    CK(cudaMalloc(&c, sizeof(float) * s.m * s.n));
    CK(cudaMemset(a, 0x3c, sizeof(float) * s.m * s.k));
    CK(cudaMemset(b, 0x3c, sizeof(float) * s.k * s.n));
    CK(cudaMemset(c, 0, sizeof(float) * s.m * s.n));
    p.a.push_back(a);
    p.b.push_back(b);
    p.c.push_back(c);
  }
  CK(cudaMalloc(&p.dev_ptrs, sizeof(float*) * 3 * kMaxR));
  CK(cudaMallocHost(&p.host_ptrs, sizeof(void*) * 3 * kMaxR));
  for (int i = 0; i < kMaxR; ++i) {
    p.host_ptrs[i] = p.a[i];
    p.host_ptrs[kMaxR + i] = p.b[i];
    p.host_ptrs[2 * kMaxR + i] = p.c[i];
  }
  CK(cudaMemcpy(p.dev_ptrs, p.host_ptrs, sizeof(void*) * 3 * kMaxR, cudaMemcpyHostToDevice));
  CK(cudaDeviceSynchronize());
  return p;
}

void free_problems(Problems& p) {
  CK(cudaDeviceSynchronize());
  for (int i = 0; i < kMaxR; ++i) {
    cudaFree(p.a[i]);
    cudaFree(p.b[i]);
    cudaFree(p.c[i]);
  }
  cudaFree(p.dev_ptrs);
  cudaFreeHost(p.host_ptrs);
}

// Problem i, as the replayer launches a single part: column-major, no transposes.
void sgemm(const Lane& l, const Problems& p, int i) {
  const float alpha = 1, beta = 0;
  const Shape& s = p.s;
  CB(cublasSgemm(l.blas, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &alpha, p.a[i], s.m, p.b[i], s.k,
                 &beta, p.c[i], s.m));
}

// Problems 0..r-1 as one cublasSgemmBatched (the space-time super-kernel). With `stage`,
// the pointer arrays are first copied from pinned memory on the lane's stream, as the
// replayer does before every super-kernel.
void batched(const Lane& l, const Problems& p, int r, bool stage) {
  const float alpha = 1, beta = 0;
  const Shape& s = p.s;
  float** d = p.dev_ptrs;
  if (stage) {
    // The replayer's layout for r parts: r A, r B, r C pointers, contiguous.
    for (int i = 0; i < r; ++i) {
      p.host_ptrs[i] = p.a[i];
      p.host_ptrs[r + i] = p.b[i];
      p.host_ptrs[2 * r + i] = p.c[i];
    }
    CK(cudaMemcpyAsync(d, p.host_ptrs, sizeof(void*) * 3 * r, cudaMemcpyHostToDevice, l.stream));
    CB(cublasSgemmBatched(l.blas, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &alpha, d, s.m, d + r,
                          s.k, &beta, d + 2 * r, s.m, r));
  } else {
    CB(cublasSgemmBatched(l.blas, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &alpha, d, s.m,
                          d + kMaxR, s.k, &beta, d + 2 * kMaxR, s.m, r));
  }
}

void reset_pointers(const Problems& p) {
  for (int i = 0; i < kMaxR; ++i) {
    p.host_ptrs[i] = p.a[i];
    p.host_ptrs[kMaxR + i] = p.b[i];
    p.host_ptrs[2 * kMaxR + i] = p.c[i];
  }
  CK(cudaMemcpy(p.dev_ptrs, p.host_ptrs, sizeof(void*) * 3 * kMaxR, cudaMemcpyHostToDevice));
}

// GPU time per replay of `g`, from CUDA events around `reps` back-to-back replays.
double graph_us(cudaGraphExec_t g, cudaStream_t s, int reps) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) CK(cudaGraphLaunch(g, s));
  CK(cudaEventRecord(a, s));
  for (int i = 0; i < reps; ++i) CK(cudaGraphLaunch(g, s));
  CK(cudaEventRecord(b, s));
  CK(cudaEventSynchronize(b));
  float ms = 0;
  CK(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms * 1000.0 / reps;
}

enum class Mode { kSerial, kStreams, kBatched };

// The kernels of R problems under `mode`, captured from lanes[0]'s stream.
cudaGraphExec_t capture(std::vector<Lane>& lanes, const Problems& p, int r, Mode mode) {
  cudaStream_t s0 = lanes[0].stream;
  cudaGraph_t graph;
  CK(cudaStreamBeginCapture(s0, cudaStreamCaptureModeThreadLocal));
  if (mode == Mode::kSerial) {
    for (int i = 0; i < r; ++i) sgemm(lanes[0], p, i);
  } else if (mode == Mode::kBatched) {
    batched(lanes[0], p, r, false);
  } else {
    // Fork: lane i (i >= 1) waits for the capture's start, runs problem i, and joins back.
    cudaEvent_t fork;
    CK(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming));
    CK(cudaEventRecord(fork, s0));
    for (int i = 1; i < r; ++i) CK(cudaStreamWaitEvent(lanes[i].stream, fork, 0));
    for (int i = 0; i < r; ++i) sgemm(lanes[i], p, i);
    for (int i = 1; i < r; ++i) {
      CK(cudaEventRecord(lanes[i].done, lanes[i].stream));
      CK(cudaStreamWaitEvent(s0, lanes[i].done, 0));
    }
    cudaEventDestroy(fork);
  }
  CK(cudaStreamEndCapture(s0, &graph));
  cudaGraphExec_t exec;
  CK(cudaGraphInstantiate(&exec, graph, 0));
  CK(cudaGraphDestroy(graph));
  return exec;
}

// Host dispatcher, one thread, polling: every lane (r of them) keeps one problem in flight
// (kSerial: one lane, one problem at a time; kBatched: one lane, r problems per launch,
// pointers staged each time). Returns problems per second over at least `window_us`.
double dispatch_rate(std::vector<Lane>& lanes, const Problems& p, int r, Mode mode,
                     double window_us) {
  const int nlanes = mode == Mode::kStreams ? r : 1;
  const int per_launch = mode == Mode::kBatched ? r : 1;
  auto launch = [&](int lane) {
    const Lane& l = lanes[lane];
    if (mode == Mode::kBatched) {
      batched(l, p, r, true);
    } else {
      sgemm(l, p, lane);
    }
    CK(cudaEventRecord(l.done, l.stream));
  };
  long long completed = 0;
  double start = 0;
  bool measuring = false;
  long long warm = 0;
  for (int i = 0; i < nlanes; ++i) launch(i);
  for (;;) {
    for (int i = 0; i < nlanes; ++i) {
      const cudaError_t e = cudaEventQuery(lanes[i].done);
      if (e == cudaErrorNotReady) continue;
      CK(e);
      if (measuring) {
        completed += per_launch;
      } else if (++warm >= 20 + nlanes) {
        measuring = true;
        start = now_us();
      }
      launch(i);
    }
    if (measuring && now_us() - start >= window_us) break;
  }
  const double elapsed = now_us() - start;
  CK(cudaDeviceSynchronize());
  if (mode == Mode::kBatched) reset_pointers(p);
  return completed / elapsed * 1e6;
}

// Host time to issue one call, from `n` calls issued back to back without waiting.
double issue_us(std::vector<Lane>& lanes, const Problems& p, Mode mode, int r, int n) {
  CK(cudaDeviceSynchronize());
  const double t0 = now_us();
  for (int i = 0; i < n; ++i) {
    if (mode == Mode::kBatched) {
      batched(lanes[0], p, r, true);
      CK(cudaEventRecord(lanes[0].done, lanes[0].stream));
      CK(cudaStreamSynchronize(lanes[0].stream));  // the staging is reused
    } else {
      sgemm(lanes[0], p, i % kMaxR);
    }
  }
  const double t1 = now_us();
  CK(cudaDeviceSynchronize());
  if (mode == Mode::kBatched) reset_pointers(p);
  return (t1 - t0) / n;
}

// --- Eager launches behind a gate: the host enqueues all R problems (serial: on one stream;
// streams: one per stream; batched: one call) while a spinning kernel holds them back, so
// the GPU then runs them with the host out of the way and without a CUDA graph.
__global__ void spin(long long cycles) {
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
}

double gated_us(std::vector<Lane>& lanes, const Problems& p, int r, Mode mode) {
  cudaStream_t s0 = lanes[0].stream;
  cudaEvent_t gate, t0, t1;
  CK(cudaEventCreate(&gate));
  CK(cudaEventCreate(&t0));
  CK(cudaEventCreate(&t1));
  std::vector<double> runs;
  for (int rep = 0; rep < 5; ++rep) {
    spin<<<1, 32, 0, s0>>>(8000000);  // ~4 ms at 2 GHz: longer than the host's enqueueing
    CK(cudaEventRecord(t0, s0));
    if (mode == Mode::kSerial) {
      for (int i = 0; i < r; ++i) sgemm(lanes[0], p, i);
    } else if (mode == Mode::kBatched) {
      batched(lanes[0], p, r, false);
    } else {
      for (int i = 1; i < r; ++i) CK(cudaStreamWaitEvent(lanes[i].stream, t0, 0));
      for (int i = 0; i < r; ++i) sgemm(lanes[i], p, i);
      for (int i = 1; i < r; ++i) {
        CK(cudaEventRecord(lanes[i].done, lanes[i].stream));
        CK(cudaStreamWaitEvent(s0, lanes[i].done, 0));
      }
    }
    CK(cudaEventRecord(t1, s0));
    CK(cudaEventSynchronize(t1));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, t0, t1));
    runs.push_back(ms * 1000.0 / r);
  }
  cudaEventDestroy(gate);
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

// --- Co-residence probe: blocks of `threads` threads, each thread a chain of dependent FMAs.
__global__ void fma_chain(float* out, int iters) {
  float x = threadIdx.x, y = 1.0001f, z = 0.9999f;
  for (int i = 0; i < iters; ++i) {
    x = fmaf(x, y, z);
    x = fmaf(x, y, z);
    x = fmaf(x, y, z);
    x = fmaf(x, y, z);
  }
  if (x == 12345.f) out[threadIdx.x] = x;  // keeps the chain live
}

void probe(int sms) {
  float* out;
  CK(cudaMalloc(&out, 4096 * sizeof(float)));
  cudaStream_t s1, s2;
  CK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
  CK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  cudaEvent_t a, b1, b2;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b1));
  CK(cudaEventCreate(&b2));
  const int iters = 20000;
  std::printf(
      "\nco-residence probe: %d SMs, blocks of dependent FMA chains (%d x 4 FMAs per "
      "thread)\n",
      sms, iters);
  std::printf(
      "threads | one kernel, 1 block/SM (us) | two such kernels on two streams (us) | "
      "one kernel, 2 blocks/SM (us)\n");
  for (int threads : {128, 256, 512, 1024}) {
    for (int w = 0; w < 2; ++w) fma_chain<<<sms, threads, 0, s1>>>(out, iters);
    CK(cudaStreamSynchronize(s1));
    float one = 0, two = 0, dbl = 0;
    CK(cudaEventRecord(a, s1));
    fma_chain<<<sms, threads, 0, s1>>>(out, iters);
    CK(cudaEventRecord(b1, s1));
    CK(cudaEventSynchronize(b1));
    CK(cudaEventElapsedTime(&one, a, b1));
    CK(cudaEventRecord(a, s1));
    CK(cudaStreamWaitEvent(s2, a, 0));
    fma_chain<<<sms, threads, 0, s1>>>(out, iters);
    fma_chain<<<sms, threads, 0, s2>>>(out, iters);
    CK(cudaEventRecord(b1, s1));
    CK(cudaEventRecord(b2, s2));
    CK(cudaStreamWaitEvent(s1, b2, 0));
    CK(cudaEventRecord(b1, s1));
    CK(cudaEventSynchronize(b1));
    CK(cudaEventElapsedTime(&two, a, b1));
    CK(cudaEventRecord(a, s1));
    fma_chain<<<2 * sms, threads, 0, s1>>>(out, iters);
    CK(cudaEventRecord(b1, s1));
    CK(cudaEventSynchronize(b1));
    CK(cudaEventElapsedTime(&dbl, a, b1));
    std::printf("%7d | %8.1f | %8.1f | %8.1f\n", threads, one * 1000, two * 1000, dbl * 1000);
  }
  std::fflush(stdout);
  cudaFree(out);
}

}  // namespace

// --- One host thread per stream, as seed 003's Figure 5 ran its explicit spatial
// multiplexing ("CUDA Streams on different threads"): each of R threads owns a lane (stream
// and cuBLAS handle) and keeps one problem of its own in flight, launching it and waiting for
// it (cudaStreamSynchronize) in a loop. Against one thread doing the same for the R problems
// in turn on one stream (time-only), and one thread launching all R as one
// cublasSgemmBatched (pointers staged) and waiting (space-time). Problems per second over
// `window_us` of wall time, after a warm-up.
double threaded_rate(std::vector<Lane>& lanes, const Problems& p, int r, Mode mode,
                     double window_us) {
  std::atomic<bool> go{false}, counting{false}, stop{false};
  std::atomic<long long> total{0};
  const int nthreads = mode == Mode::kStreams ? r : 1;
  auto body = [&](int lane) {
    const Lane& l = lanes[lane];
    long long done = 0;
    int next = 0;
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    while (!stop.load(std::memory_order_relaxed)) {
      int n = 1;
      if (mode == Mode::kBatched) {
        batched(l, p, r, true);
        n = r;
      } else if (mode == Mode::kSerial) {
        sgemm(l, p, next);
        next = (next + 1) % r;
      } else {
        sgemm(l, p, lane);
      }
      CK(cudaStreamSynchronize(l.stream));
      if (counting.load(std::memory_order_relaxed)) done += n;
    }
    total += done;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < nthreads; ++i) threads.emplace_back(body, i);
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const double start = now_us();
  counting.store(true);
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long long>(window_us)));
  stop.store(true);
  const double elapsed = now_us() - start;
  for (std::thread& t : threads) t.join();
  CK(cudaDeviceSynchronize());
  if (mode == Mode::kBatched) reset_pointers(p);
  return static_cast<double>(total.load()) / elapsed * 1e6;
}

int main(int argc, char** argv) {
  const bool once = argc > 1 && std::string_view(argv[1]) == "--once";
  const bool gated = argc > 1 && std::string_view(argv[1]) == "--gated";
  const bool sizes = argc > 1 && std::string_view(argv[1]) == "--sizes";
  const bool ksweep = argc > 1 && std::string_view(argv[1]) == "--ksweep";
  const bool rsweep = argc > 1 && std::string_view(argv[1]) == "--rsweep";
  const bool ksweep_once = argc > 1 && std::string_view(argv[1]) == "--ksweep-once";
  const bool threads = argc > 1 && std::string_view(argv[1]) == "--threads";
  const int single = argc > 2 && std::string_view(argv[1]) == "--single" ? std::atoi(argv[2]) : -1;
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  int cublas_version = 0;
  std::vector<Lane> lanes(kMaxR);
  for (Lane& l : lanes) {
    CK(cudaStreamCreateWithFlags(&l.stream, cudaStreamNonBlocking));
    CB(cublasCreate(&l.blas));
    CB(cublasSetStream(l.blas, l.stream));
    CK(cudaMalloc(&l.workspace, kWorkspace));
    CB(cublasSetWorkspace(l.blas, l.workspace, kWorkspace));
    CK(cudaEventCreateWithFlags(&l.done, cudaEventDisableTiming));
  }
  CB(cublasGetVersion(lanes[0].blas, &cublas_version));
  std::printf("%s, %d SMs, cuBLAS %d\n", prop.name, prop.multiProcessorCount, cublas_version);
  std::fflush(stdout);

  if (single >= 0) {
    // One shape's plain problem 50 times, one at a time (for nsys: each kernel's duration).
    Problems p = make_problems(kShapes[single]);
    for (int i = 0; i < 60; ++i) {
      sgemm(lanes[0], p, 0);
      CK(cudaDeviceSynchronize());
    }
    free_problems(p);
    return 0;
  }
  if (rsweep) {
    // How the gain of R streams over one at a time grows with R, for Table 1's shapes and
    // five 3x3 convolutions of ResNet-50 as im2col GEMMs (batch 1, and stage 3 at batch 4):
    // eager, behind a gate, median of 5.
    const Shape shapes[] = {{"512x1x512", 512, 1, 512},
                            {"256x128x1152", 256, 128, 1152},
                            {"256x256x256", 256, 256, 256},
                            {"resnet50 stage1 conv2 b1", 64, 3136, 576},
                            {"resnet50 stage2 conv2 b1", 128, 784, 1152},
                            {"resnet50 stage3 conv2 b1", 256, 196, 2304},
                            {"resnet50 stage4 conv2 b1", 512, 49, 4608},
                            {"resnet50 stage3 conv2 b4", 256, 784, 2304}};
    std::printf(
        "\nGPU time per problem, us, one at a time and on R streams (eager, behind a gate, "
        "median of 5)\nshape | m x n x k | R | one at a time | R streams | gain\n");
    for (const Shape& s : shapes) {
      Problems p = make_problems(s);
      for (int i = 0; i < 16; ++i) sgemm(lanes[i], p, i);
      CK(cudaDeviceSynchronize());
      for (int r : {1, 2, 3, 4, 6, 8, 16}) {
        const double a = gated_us(lanes, p, r, Mode::kSerial);
        const double b = gated_us(lanes, p, r, Mode::kStreams);
        std::printf("%s | %dx%dx%d | %d | %8.3f | %8.3f | %.2f\n", s.name, s.m, s.n, s.k, r, a, b,
                    a / b);
        std::fflush(stdout);
      }
      free_problems(p);
    }
    return 0;
  }
  if (ksweep || ksweep_once) {
    // A lone problem's GPU time against the length of its main loop: m x n fixed, k from 8
    // to 16384 (20 problems one at a time, eager, behind a gate, median of 5). With
    // --ksweep-once, each problem once (for ncu: which kernel, grid and split cuBLAS picks).
    if (!ksweep_once) {
      std::printf(
          "\nlone problem GPU time, us, against k (20 problems one at a time, eager, behind "
          "a gate, median of 5)\nm x n x k | one at a time | GFLOP per problem\n");
    }
    for (const Shape base :
         {Shape{"", 256, 128, 0}, Shape{"", 64, 64, 0}, Shape{"", 128, 128, 0}}) {
      for (int k = 8; k <= 16384; k *= 2) {
        Shape s = base;
        s.k = k;
        Problems p = make_problems(s);
        sgemm(lanes[0], p, 0);
        CK(cudaDeviceSynchronize());
        if (!ksweep_once) {
          const double a = gated_us(lanes, p, 20, Mode::kSerial);
          std::printf("%dx%dx%d | %8.3f | %.5f\n", s.m, s.n, s.k, a, 2.0 * s.m * s.n * s.k / 1e9);
          std::fflush(stdout);
        }
        free_problems(p);
      }
    }
    return 0;
  }
  if (sizes) {
    // How GPU time per problem grows with the problem: m and k of conv2_2 and of the square
    // problem, n from 1 to 4096; 20 problems, eager launches behind a gate, median of 5.
    std::printf("\nGPU time per problem, us, 20 problems (eager, behind a gate, median of 5)\n");
    std::printf("m x n x k | one at a time | 20 streams | batched | GFLOP per problem\n");
    for (const Shape base : {Shape{"", 256, 0, 1152}, Shape{"", 256, 0, 256}}) {
      for (int n : {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}) {
        Shape s = base;
        s.n = n;
        Problems p = make_problems(s);
        for (int i = 0; i < 20; ++i) sgemm(lanes[i], p, i);
        batched(lanes[0], p, 20, false);
        CK(cudaDeviceSynchronize());
        const double a = gated_us(lanes, p, 20, Mode::kSerial);
        const double b = gated_us(lanes, p, 20, Mode::kStreams);
        const double c = gated_us(lanes, p, 20, Mode::kBatched);
        std::printf("%dx%dx%d | %8.3f | %8.3f | %8.3f | %.4f\n", s.m, s.n, s.k, a, b, c,
                    2.0 * s.m * s.n * s.k / 1e9);
        std::fflush(stdout);
        free_problems(p);
      }
    }
    return 0;
  }
  for (const Shape& s : kShapes) {
    Problems p = make_problems(s);
    if (once) {
      // One plain problem, and super-kernels of 10 and 120, for ncu.
      sgemm(lanes[0], p, 0);
      CK(cudaDeviceSynchronize());
      for (int r : {10, 120}) {
        batched(lanes[0], p, r, false);
        CK(cudaDeviceSynchronize());
      }
      free_problems(p);
      continue;
    }
    // Load every kernel's module before anything is timed.
    for (int r : kRs) {
      for (int i = 0; i < r; ++i) sgemm(lanes[i], p, i);
      batched(lanes[0], p, r, false);
    }
    CK(cudaDeviceSynchronize());
    if (threads) {
      std::printf(
          "\n%s: problems/s with one host thread per stream (each launches its problem and "
          "waits for it), 300 ms per cell\n   R | time-only (1 thread) | space-only (R threads) "
          "| space-time (1 thread, batched) | space-time / next best\n",
          s.name);
      double log_sum = 0;
      int n = 0;
      for (int r : kRs) {
        const double a = threaded_rate(lanes, p, r, Mode::kSerial, 300000);
        const double b = threaded_rate(lanes, p, r, Mode::kStreams, 300000);
        const double c = threaded_rate(lanes, p, r, Mode::kBatched, 300000);
        const double ratio = c / std::max(a, b);
        if (r >= 2) {
          log_sum += std::log(ratio);
          ++n;
        }
        std::printf("%4d | %9.0f | %9.0f | %9.0f | %.2fx over %s\n", r, a, b, c, ratio,
                    a >= b ? "time-only" : "space-only");
        std::fflush(stdout);
      }
      std::printf("%s: geomean over R = 2..120: %.2fx\n", s.name, std::exp(log_sum / n));
      free_problems(p);
      continue;
    }
    if (gated) {
      std::printf(
          "\n%s: GPU time per problem, us, eager launches held behind a spinning kernel "
          "(median of 5)\n   R | serial | R streams | batched\n",
          s.name);
      for (int r : kRs) {
        const double a = gated_us(lanes, p, r, Mode::kSerial);
        const double b = gated_us(lanes, p, r, Mode::kStreams);
        const double c = gated_us(lanes, p, r, Mode::kBatched);
        std::printf("%4d | %8.3f | %8.3f | %8.3f\n", r, a, b, c);
        std::fflush(stdout);
      }
      free_problems(p);
      continue;
    }
    const double flops = 2.0 * s.m * s.n * s.k;
    std::printf(
        "\n%s: host path per call: cublasSgemm issue %.2f us; issue + pointer staging + "
        "sgemmBatched(10) + sync %.2f us\n",
        s.name, issue_us(lanes, p, Mode::kSerial, 1, 64),
        issue_us(lanes, p, Mode::kBatched, 10, 64));
    std::printf(
        "%s: GPU time per problem, us (CUDA graph replays, no host in the loop) | "
        "host-dispatched, problems/s (one polling thread)\n",
        s.name);
    std::printf(
        "   R | graph serial | graph R streams | graph batched | host serial | host R "
        "streams | host batched | batched TFLOP/s (graph)\n");
    for (int r : kRs) {
      double g[3];
      for (int m = 0; m < 3; ++m) {
        const Mode mode = static_cast<Mode>(m);
        cudaGraphExec_t exec = capture(lanes, p, r, mode);
        const int reps = std::max(10, 4000 / r);
        g[m] = graph_us(exec, lanes[0].stream, reps) / r;
        CK(cudaGraphExecDestroy(exec));
      }
      const double hs = dispatch_rate(lanes, p, r, Mode::kSerial, 100000);
      const double hr = dispatch_rate(lanes, p, r, Mode::kStreams, 100000);
      const double hb = dispatch_rate(lanes, p, r, Mode::kBatched, 100000);
      std::printf("%4d | %8.3f | %8.3f | %8.3f | %9.0f | %9.0f | %9.0f | %.2f\n", r, g[0], g[1],
                  g[2], hs, hr, hb, flops / (g[2] * 1e-6) / 1e12);
      std::fflush(stdout);
    }
    free_problems(p);
  }
  if (!once && !gated && !threads) probe(prop.multiProcessorCount);
  return 0;
}
