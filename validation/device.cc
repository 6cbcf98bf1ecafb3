#include "validation/device.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "sim/core/error.h"
#include "validation/cpu_device.h"
#ifdef INFERSIM_HAVE_CUDA
#include "validation/cuda_device.h"
#endif

namespace infersim::validation {

std::vector<std::string> backends() {
#ifdef INFERSIM_HAVE_CUDA
  return {"cpu", "cuda"};
#else
  return {"cpu"};
#endif
}

void Device::launch_batch(std::size_t lane, std::uint32_t tenant, int batch,
                          std::span<const KernelCall> calls) {
  launch_each(lane, tenant, batch, calls, 0, calls.size());
}

std::size_t Device::launch_each(std::size_t lane, std::uint32_t tenant, int batch,
                                std::span<const KernelCall> calls, std::size_t from,
                                std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    const Part p{tenant, static_cast<std::uint32_t>(i), &calls[i], batch};
    launch(lane, std::span<const Part>(&p, 1));
  }
  return to - from;
}

void Device::set_batch_graphs(bool on) {
  if (on) {
    throw std::invalid_argument(
        fmt::format("the {} backend cannot launch a batch as one graph", info().backend));
  }
}

void check_device_options(const std::string& backend, int workers) {
  if (backend != "cpu" && backend != "cuda") {
    throw InputError(Mark{"--backend", 0, 0},
                     fmt::format("unknown backend '{}'; expected one of: {}", backend,
                                 fmt::join(backends(), ", ")));
  }
  if (workers < 0 || workers > kMaxWorkers) {
    throw InputError(Mark{"--threads", 0, 0},
                     fmt::format("expected --threads from 0 (every core but one) to {}, got {}",
                                 kMaxWorkers, workers));
  }
}

std::unique_ptr<Device> open_device(const std::string& backend, int workers) {
  check_device_options(backend, workers);
  if (backend == "cpu") return std::make_unique<CpuDevice>(workers);
  if (backend == "cuda") {
#ifdef INFERSIM_HAVE_CUDA
    return open_cuda_device();
#else
    throw InputError(Mark{"--backend", 0, 0},
                     "backend 'cuda' is not built into this infersim (CMake found no CUDA "
                     "toolkit); rebuild on a machine with one, or use --backend cpu");
#endif
  }
  throw std::logic_error(fmt::format("open_device: backend '{}' passed its checks", backend));
}

namespace {

// Sum of every core's busy and total jiffies from the aggregate "cpu" line of /proc/stat.
bool read_cpu_times(std::uint64_t& busy, std::uint64_t& total) {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!std::getline(in, line) || line.rfind("cpu ", 0) != 0) return false;
  std::istringstream s(line.substr(4));
  std::uint64_t v[10] = {};
  for (auto& x : v) s >> x;
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
  // in user/nice.
  total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  busy = total - v[3] - v[4];
  return true;
}

// NVML, loaded at run time from the driver (libnvidia-ml.so.1), so the program needs no
// NVML at build or link time. Returns the GPU's utilization (0..1) averaged over samples
// taken across `seconds`, or -1 when NVML is not there.
double nvml_utilization(double seconds) {
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return -1;
  using Init = int (*)();
  using Handle = int (*)(unsigned, void**);
  struct Rates {
    unsigned gpu, memory;
  };
  using Util = int (*)(void*, Rates*);
  auto init = reinterpret_cast<Init>(dlsym(lib, "nvmlInit_v2"));
  auto handle = reinterpret_cast<Handle>(dlsym(lib, "nvmlDeviceGetHandleByIndex_v2"));
  auto util = reinterpret_cast<Util>(dlsym(lib, "nvmlDeviceGetUtilizationRates"));
  auto shutdown = reinterpret_cast<Init>(dlsym(lib, "nvmlShutdown"));
  double result = -1;
  void* dev = nullptr;
  if (init && handle && util && shutdown && init() == 0) {
    if (handle(0, &dev) == 0) {
      double sum = 0;
      int n = 0;
      const int samples = std::max(1, static_cast<int>(seconds / 0.1));
      for (int i = 0; i < samples; ++i) {
        Rates r{};
        if (util(dev, &r) == 0) {
          sum += r.gpu / 100.0;
          ++n;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (n) result = sum / n;
    }
    shutdown();
  }
  dlclose(lib);
  return result;
}

}  // namespace

double background_load(const std::string& backend, double seconds) {
  if (backend == "cuda") return nvml_utilization(seconds);
  std::uint64_t b0 = 0, t0 = 0, b1 = 0, t1 = 0;
  if (!read_cpu_times(b0, t0)) return -1;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  if (!read_cpu_times(b1, t1) || t1 <= t0) return -1;
  return static_cast<double>(b1 - b0) / static_cast<double>(t1 - t0);
}

}  // namespace infersim::validation
