#include "validation/cuda_device.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <stdexcept>
#include <thread>
#include <utility>

#include "validation/buffers.h"

namespace infersim::validation {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    throw std::runtime_error(
        fmt::format("CUDA: {} failed: {} ({})", what, cudaGetErrorString(e), static_cast<int>(e)));
  }
}

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(fmt::format("cuBLAS: {} failed: {} ({})", what,
                                         cublasGetStatusString(s), static_cast<int>(s)));
  }
}

// Device memory, freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes) check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

class CudaDevice final : public Device {
 public:
  CudaDevice() : epoch_(std::chrono::steady_clock::now()) {
    check(cudaSetDevice(0), "cudaSetDevice(0)");
    check(cudaFree(nullptr), "creating the CUDA context");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    int runtime = 0, driver = 0, cublas = 0;
    check(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
    check(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
    cublasHandle_t h = nullptr;
    check(cublasCreate(&h), "cublasCreate");
    check(cublasGetVersion(h, &cublas), "cublasGetVersion");
    cublasDestroy(h);
    info_.backend = "cuda";
    info_.device =
        fmt::format("{} (sm_{}{}, {} SMs, {:.0f} GiB)", prop.name, prop.major, prop.minor,
                    prop.multiProcessorCount, static_cast<double>(prop.totalGlobalMem) / (1 << 30));
    info_.libraries = fmt::format(
        "CUDA runtime {}.{} (static), driver API {}.{}, cuBLAS {}.{}.{} (FP32 SGEMM, "
        "default math mode)",
        runtime / 1000, runtime % 1000 / 10, driver / 1000, driver % 1000 / 10, cublas / 10000,
        cublas % 10000 / 100, cublas % 100);
    info_.clock =
        "std::chrono::steady_clock (CLOCK_MONOTONIC); a marker is a CUDA event the host polls "
        "(cudaEventQuery) and stamps when it first sees it complete";
    info_.units = prop.multiProcessorCount;
  }

  ~CudaDevice() override {
    cudaDeviceSynchronize();
    for (auto& l : lanes_) {
      if (l.blas) cublasDestroy(l.blas);
      if (l.stream) cudaStreamDestroy(l.stream);
      if (l.host_ptrs) cudaFreeHost(l.host_ptrs);
    }
    for (auto& p : pending_) cudaEventDestroy(p.event);
    for (cudaEvent_t e : free_events_) cudaEventDestroy(e);
    for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
  }

  const DeviceInfo& info() const override { return info_; }

  void add_tenant(std::uint32_t tenant, const ModelProgram& program) override {
    const OperandSizes s = operand_sizes(program);
    auto ops = std::make_unique<Operands>();
    for (std::int64_t w : s.weights) {
      ops->weights.emplace_back(static_cast<std::size_t>(w) * sizeof(float));
      fill(ops->weights.back());
    }
    ops->input = DeviceBuffer(static_cast<std::size_t>(s.input) * sizeof(float));
    ops->output = DeviceBuffer(static_cast<std::size_t>(s.output) * sizeof(float));
    ops->copy_src = DeviceBuffer(static_cast<std::size_t>(s.copy_bytes));
    ops->copy_dst = DeviceBuffer(static_cast<std::size_t>(s.copy_bytes));
    fill(ops->input);
    fill(ops->output);
    fill(ops->copy_src);
    check(cudaDeviceSynchronize(), "filling a tenant's operands");
    // Pointer slots a super-kernel of this model can need: 3 per problem, every layer, up
    // to max_batch tenants' parts.
    std::size_t problems = 0;
    for (const KernelCall& c : program.calls.back()) {
      problems += static_cast<std::size_t>(std::max<std::int64_t>(1, c.count));
    }
    pointer_slots_ =
        std::max(pointer_slots_, 3 * problems * static_cast<std::size_t>(program.max_batch()));
    if (tenants_.size() <= tenant) tenants_.resize(tenant + 1);
    tenants_[tenant] = std::move(ops);
  }

  std::size_t add_lane() override {
    Lane l;
    check(cudaStreamCreateWithFlags(&l.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cublasCreate(&l.blas), "cublasCreate");
    check(cublasSetStream(l.blas, l.stream), "cublasSetStream");
    // Twice what one super-kernel needs, so a lane may hold a job and a half in flight.
    l.capacity = std::max<std::size_t>(2 * pointer_slots_, 3);
    check(cudaMallocHost(reinterpret_cast<void**>(&l.host_ptrs), l.capacity * sizeof(void*)),
          "cudaMallocHost (pointer staging)");
    l.dev_ptrs = DeviceBuffer(l.capacity * sizeof(void*));
    lanes_.push_back(std::move(l));
    return lanes_.size() - 1;
  }

  void launch(std::size_t lane, std::span<const Part> parts) override {
    if (parts.empty()) return;
    Lane& l = lanes_.at(lane);
    const KernelCall& first = *parts.front().call;
    if (first.kind == KernelCall::Kind::kMemory) {
      for (const Part& p : parts) {
        const Operands& ops = operands(p.tenant);
        const std::size_t bytes = static_cast<std::size_t>(p.call->bytes / 2);
        if (bytes > ops.copy_src.bytes()) throw std::logic_error("CudaDevice: copy too large");
        if (bytes == 0) continue;
        check(cudaMemcpyAsync(ops.copy_dst.as<char>(), ops.copy_src.as<char>(), bytes,
                              cudaMemcpyDeviceToDevice, l.stream),
              "cudaMemcpyAsync (memory kernel)");
      }
      return;
    }
    const float alpha = 1.0f, beta = 0.0f;
    if (parts.size() == 1) {
      const Part& p = parts.front();
      const KernelCall& c = *p.call;
      const Operands& ops = operands(p.tenant);
      check_fits(p, ops);
      const float* a = ops.weights[p.index].as<float>();
      const float* b = ops.input.as<float>();
      float* cc = ops.output.as<float>();
      if (c.count == 1) {
        check(cublasSgemm(l.blas, CUBLAS_OP_N, CUBLAS_OP_N, to_int(c.m), to_int(c.n), to_int(c.k),
                          &alpha, a, to_int(c.m), b, to_int(c.k), &beta, cc, to_int(c.m)),
              "cublasSgemm");
      } else {
        check(cublasSgemmStridedBatched(l.blas, CUBLAS_OP_N, CUBLAS_OP_N, to_int(c.m), to_int(c.n),
                                        to_int(c.k), &alpha, a, to_int(c.m), c.m * c.k, b,
                                        to_int(c.k), c.k * c.n, &beta, cc, to_int(c.m), c.m * c.n,
                                        to_int(c.count)),
              "cublasSgemmStridedBatched (groups)");
      }
      return;
    }
    // A super-kernel, seed 003's space-time: the same layer of several same-architecture
    // tenants as ONE cublasSgemmBatched. Each part's call at batch b is b per-sample problems
    // of shape (m, n/b, k) over its tenant's own weights (x groups), so every problem of the
    // layer has one shape, whatever each tenant's share of the batch, and the launch's thread
    // blocks are the sum of the parts'. (Grouping parts by their whole shape instead gave one
    // batched call per distinct share, each often of a single problem, and cuBLAS's batched
    // kernels are far slower than its plain GEMM on one large problem: measured on an H100,
    // space_time ran ResNet-50 at ~800 requests/s against exclusive's ~3,900.)
    // Pointer arrays are staged through pinned memory on the lane's own stream.
    if (!l.open_job) {
      // A new job: the pointer staging is reused from its start, which only nothing on the
      // lane can still read when the lane is idle; policies launch a super-kernel there.
      if (l.pending != 0) throw std::logic_error("CudaDevice: super-kernel on a busy lane");
      l.used = 0;
      l.open_job = true;
    }
    const std::int64_t m = first.m, k = first.k;
    std::int64_t per_sample = -1;
    std::size_t count = 0;
    for (const Part& p : parts) {
      check_fits(p, operands(p.tenant));
      const KernelCall& c = *p.call;
      if (p.batch < 1 || c.n % p.batch != 0 || c.m != m || c.k != k ||
          (per_sample >= 0 && c.n / p.batch != per_sample)) {
        throw std::logic_error(
            fmt::format("CudaDevice: super-kernel parts of different layers ({}x{}x{} at batch {})",
                        c.m, c.n, c.k, p.batch));
      }
      per_sample = c.n / p.batch;
      count += static_cast<std::size_t>(p.batch) * static_cast<std::size_t>(c.count);
    }
    if (l.used + 3 * count > l.capacity) {
      throw std::logic_error(fmt::format("CudaDevice: {} pointer slots needed, {} left", 3 * count,
                                         l.capacity - l.used));
    }
    const std::size_t base = l.used;
    std::size_t i = 0;
    for (const Part& p : parts) {
      const Operands& ops = operands(p.tenant);
      const std::int64_t n = p.call->n;
      for (std::int64_t g = 0; g < p.call->count; ++g) {
        for (std::int64_t j = 0; j < p.batch; ++j, ++i) {
          // Column-major operands: sample j's columns of group g's B (k x n) and C (m x n).
          l.host_ptrs[base + i] = ops.weights[p.index].as<float>() + g * m * k;
          l.host_ptrs[base + count + i] = ops.input.as<float>() + g * k * n + j * per_sample * k;
          l.host_ptrs[base + 2 * count + i] =
              ops.output.as<float>() + g * m * n + j * per_sample * m;
        }
      }
    }
    check(cudaMemcpyAsync(l.dev_ptrs.as<void*>() + base, l.host_ptrs + base,
                          3 * count * sizeof(void*), cudaMemcpyHostToDevice, l.stream),
          "cudaMemcpyAsync (super-kernel pointers)");
    l.used = base + 3 * count;
    void** d = l.dev_ptrs.as<void*>() + base;
    check(cublasSgemmBatched(l.blas, CUBLAS_OP_N, CUBLAS_OP_N, to_int(m), to_int(per_sample),
                             to_int(k), &alpha, reinterpret_cast<const float* const*>(d), to_int(m),
                             reinterpret_cast<const float* const*>(d + count), to_int(k), &beta,
                             reinterpret_cast<float* const*>(d + 2 * count), to_int(m),
                             to_int(static_cast<std::int64_t>(count))),
          "cublasSgemmBatched (super-kernel)");
  }

  void set_batch_graphs(bool on) override { use_graphs_ = on; }

  // With batch graphs on: the first batch of a tenant at a size is captured from the lane's
  // stream (the launches enqueue nothing while it captures) and instantiated; that batch and
  // every later one is one cudaGraphLaunch. The graph holds the tenant's own operand
  // pointers, fixed for the device's life, so it may run on any lane.
  void launch_batch(std::size_t lane, std::uint32_t tenant, int batch,
                    std::span<const KernelCall> calls) override {
    if (!use_graphs_) {
      Device::launch_batch(lane, tenant, batch, calls);
      return;
    }
    Lane& l = lanes_.at(lane);
    const auto key = std::make_pair(tenant, batch);
    auto it = graphs_.find(key);
    if (it == graphs_.end()) {
      check(cudaStreamBeginCapture(l.stream, cudaStreamCaptureModeThreadLocal),
            "cudaStreamBeginCapture (batch graph)");
      cudaGraph_t graph = nullptr;
      try {
        Device::launch_batch(lane, tenant, batch, calls);
      } catch (...) {
        cudaStreamEndCapture(l.stream, &graph);
        if (graph) cudaGraphDestroy(graph);
        throw;
      }
      check(cudaStreamEndCapture(l.stream, &graph), "cudaStreamEndCapture (batch graph)");
      cudaGraphExec_t exec = nullptr;
      const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
      cudaGraphDestroy(graph);
      check(e, "cudaGraphInstantiate (batch graph)");
      it = graphs_.emplace(key, exec).first;
    }
    check(cudaGraphLaunch(it->second, l.stream), "cudaGraphLaunch (batch graph)");
  }

  void mark(std::size_t lane, std::uint64_t ticket) override {
    Lane& l = lanes_.at(lane);
    cudaEvent_t e = nullptr;
    if (!free_events_.empty()) {
      e = free_events_.back();
      free_events_.pop_back();
    } else {
      check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
    }
    check(cudaEventRecord(e, l.stream), "cudaEventRecord (marker)");
    pending_.push_back({ticket, lane, e});
    ++l.pending;
    l.open_job = false;
  }

  SimTime now() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                epoch_)
        .count();
  }

  void wait(SimTime until, std::vector<Completion>& done) override {
    // Polls: the dispatcher owns a core on a GPU machine, and a spinning host sees a
    // completion within a microsecond or two.
    for (;;) {
      const std::size_t before = done.size();
      poll(done);
      if (done.size() > before) return;
      if (until < kTimeMax / 2 && now() >= until) return;
      if (pending_.empty() && until >= kTimeMax / 2) {
        throw std::logic_error("CudaDevice: waiting with nothing in flight and no deadline");
      }
    }
  }

  void synchronize() override { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

 private:
  struct Operands {
    std::vector<DeviceBuffer> weights;  // per call index
    DeviceBuffer input, output, copy_src, copy_dst;
  };
  struct Lane {
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    void** host_ptrs = nullptr;  // pinned staging of super-kernel pointer arrays
    DeviceBuffer dev_ptrs;
    std::size_t capacity = 0, used = 0;
    std::size_t pending = 0;  // markers not yet seen complete
    bool open_job = false;    // super-kernel launches since the last marker
  };
  struct Pending {
    std::uint64_t ticket;
    std::size_t lane;
    cudaEvent_t event;
  };

  static int to_int(std::int64_t v) {
    if (v < 0 || v > INT32_MAX) throw std::logic_error("CudaDevice: dimension beyond int");
    return static_cast<int>(v);
  }

  static void fill(const DeviceBuffer& b) {
    // 0x3c3c3c3c is the float 0.0115: small, normal, non-zero.
    if (b.bytes()) check(cudaMemset(b.as<void>(), 0x3c, b.bytes()), "cudaMemset");
  }

  const Operands& operands(std::uint32_t t) const {
    if (t >= tenants_.size() || !tenants_[t]) {
      throw std::logic_error(fmt::format("CudaDevice: tenant {} has no operands", t));
    }
    return *tenants_[t];
  }

  static void check_fits(const Part& p, const Operands& ops) {
    const KernelCall& c = *p.call;
    if (p.index >= ops.weights.size() ||
        ops.weights[p.index].bytes() != static_cast<std::size_t>(c.m * c.k * c.count) * 4 ||
        static_cast<std::size_t>(c.k * c.n * c.count) * 4 > ops.input.bytes() ||
        static_cast<std::size_t>(c.m * c.n * c.count) * 4 > ops.output.bytes()) {
      throw std::logic_error(fmt::format(
          "CudaDevice: call {} of tenant {} does not fit its operands", p.index, p.tenant));
    }
  }

  // Checks each lane's oldest marker (a lane's markers complete in order).
  void poll(std::vector<Completion>& done) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      bool oldest = true;
      for (auto j = pending_.begin(); j != it; ++j) {
        if (j->lane == it->lane) {
          oldest = false;
          break;
        }
      }
      if (!oldest) {
        ++it;
        continue;
      }
      const cudaError_t e = cudaEventQuery(it->event);
      if (e == cudaErrorNotReady) {
        ++it;
        continue;
      }
      check(e, "cudaEventQuery (marker)");
      done.push_back({it->ticket, now()});
      --lanes_[it->lane].pending;
      free_events_.push_back(it->event);
      it = pending_.erase(it);
    }
  }

  DeviceInfo info_;
  std::chrono::steady_clock::time_point epoch_;
  std::vector<std::unique_ptr<Operands>> tenants_;
  std::deque<Lane> lanes_;
  bool use_graphs_ = false;
  std::map<std::pair<std::uint32_t, int>, cudaGraphExec_t> graphs_;  // per (tenant, batch)
  std::deque<Pending> pending_;
  std::vector<cudaEvent_t> free_events_;
  std::size_t pointer_slots_ = 0;
};

}  // namespace

std::unique_ptr<Device> open_cuda_device() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    throw DeviceUnavailable(
        fmt::format("no CUDA device: {} ({})", cudaGetErrorString(e), static_cast<int>(e)));
  }
  if (count == 0) throw DeviceUnavailable("no CUDA device: the driver reports 0 GPUs");
  return std::make_unique<CudaDevice>();
}

}  // namespace infersim::validation
