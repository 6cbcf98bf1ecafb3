// The `cpu` backend: the host's cores driven like a GPU's SMs.
//
// A pool of worker threads (one per core but one by default: that core is the host's, for
// the thread that launches kernels and stamps completions) plays the GPU's block scheduler: a
// kernel is cut into tiles (column or row blocks of its GEMM, chunks of its copy), each
// tile runs as one single-threaded OpenBLAS SGEMM (or memcpy) on one worker, and workers
// take the next tile round-robin over the lanes whose front kernel has tiles left. So one
// kernel alone spreads over every core, kernels of several lanes (mps's tenants) share the
// cores tile by tile, and a lane runs its kernels in order, as a CUDA stream does. Markers
// complete, stamped on std::chrono::steady_clock, when the kernel before them finishes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "validation/device.h"

namespace infersim::validation {

class CpuDevice final : public Device {
 public:
  // `workers`: threads in the pool; 0 = one per online core but one (at least one).
  explicit CpuDevice(int workers = 0);
  ~CpuDevice() override;

  const DeviceInfo& info() const override { return info_; }
  void add_tenant(std::uint32_t tenant, const ModelProgram& program) override;
  std::size_t add_lane() override;
  void launch(std::size_t lane, std::span<const Part> parts) override;
  void mark(std::size_t lane, std::uint64_t ticket) override;
  SimTime now() const override;
  void wait(SimTime until, std::vector<Completion>& done) override;
  void synchronize() override;

  // The device's name for profiles: "<CPU model name> x<N> cores".
  static std::string host_cpu_name();

  // A tenant's operands (column-major), to check results in tests.
  std::span<const float> weights(std::uint32_t tenant, std::size_t call) const {
    return tenants_.at(tenant)->weights.at(call);
  }
  std::span<const float> input(std::uint32_t tenant) const { return tenants_.at(tenant)->input; }
  std::span<const float> output(std::uint32_t tenant) const { return tenants_.at(tenant)->output; }

 private:
  struct Tile {
    bool copy = false;
    const float* a = nullptr;
    const float* b = nullptr;
    float* c = nullptr;
    int m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0;
    const char* src = nullptr;
    char* dst = nullptr;
    std::size_t bytes = 0;
  };
  struct Kernel {
    std::vector<Tile> tiles;
    std::size_t next = 0;  // first tile not yet taken
    std::size_t left = 0;  // tiles not yet finished
    bool marker = false;
    std::uint64_t ticket = 0;
  };
  struct Lane {
    std::deque<Kernel> fifo;
  };
  struct Operands {
    std::vector<std::vector<float>> weights;  // per call index
    std::vector<float> input, output;
    std::vector<char> copy_src, copy_dst;
  };

  void worker();
  bool take(std::size_t& lane, Kernel*& kernel, std::size_t& tile);  // mu_ held
  void retire_front(Lane& lane);                                     // mu_ held
  void add_tiles(std::vector<Tile>& out, const Part& part) const;
  static void run(const Tile& t);

  DeviceInfo info_;
  std::chrono::steady_clock::time_point epoch_;
  std::vector<std::unique_ptr<Operands>> tenants_;  // by tenant index; null if absent

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::vector<Lane> lanes_;
  std::size_t cursor_ = 0;  // next lane to take a tile from (round-robin)
  std::size_t busy_ = 0;    // kernels (not markers) queued or running
  std::vector<Completion> completed_;
  bool stop_ = false;
  std::atomic<std::uint64_t> epoch_of_work_{0};  // bumped whenever new tiles become takeable
  std::vector<std::thread> workers_;
};

}  // namespace infersim::validation
