// The executor interface of validation mode: a device that runs kernel calls for real.
//
// A Device looks like a GPU to its caller whatever it is: kernels are launched
// asynchronously on *lanes* (a CUDA stream; on the CPU, a submission queue of the worker
// pool), run in order within a lane and concurrently across lanes, and a *marker* on a lane
// completes when everything launched before it on that lane has finished. The caller (the
// wall-clock replayer, the profiler) waits for markers; the device reports when each
// completed, on its clock.
//
// Backends: `cpu` (OpenBLAS, cpu_device.h) is always built; `cuda` (cuBLAS, cuda_device.h)
// when CMake finds a CUDA toolkit. Tests use a device with a virtual clock.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/core/time.h"
#include "validation/program.h"

namespace infersim::validation {

// What a device says of itself: recorded in profiles (provenance) and measured result sets
// (root attributes).
struct DeviceInfo {
  std::string backend;    // "cpu" | "cuda"
  std::string device;     // identifies the hardware, e.g. "AMD EPYC x2 cores"; a profile
                          // measured on another device is refused by `measure`
  std::string libraries;  // e.g. "OpenBLAS 0.3.21 (Zen, pthread)"
  std::string clock;      // the clock completion times are read on
  int units = 0;          // CPU workers / GPU SMs
};

// One problem of a launch: tenant `tenant`'s operands (weights of the call's layer, its own
// activation buffers) in the shape of `call`.
struct Part {
  std::uint32_t tenant = 0;
  std::uint32_t index = 0;  // the call's position in the program's list (its layer)
  const KernelCall* call = nullptr;
  std::int32_t batch = 1;  // samples in the call (its GEMM's n is batch x n per sample)
};

struct Completion {
  std::uint64_t ticket = 0;
  SimTime time = 0;  // on the device clock (now())
};

class Device {
 public:
  virtual ~Device() = default;

  virtual const DeviceInfo& info() const = 0;

  // Allocates tenant `tenant`'s weights (one set per layer) and activation buffers for
  // `program` at its largest batch, and fills them. Called before timing starts.
  virtual void add_tenant(std::uint32_t tenant, const ModelProgram& program) = 0;
  // A new lane (stream); returns its index.
  virtual std::size_t add_lane() = 0;

  // Enqueues one kernel on `lane`. One part: the call as it is. Several parts (the same
  // layer of same-architecture tenants): one batched launch over all of them, the
  // space-time super-kernel. Every part's call must be of the same kind and layer.
  virtual void launch(std::size_t lane, std::span<const Part> parts) = 0;
  // Enqueues a tenant's whole batch on `lane`: `calls`, its program at batch size `batch`,
  // in order. By default one launch() per call. With batch graphs on (set_batch_graphs) a
  // device captures the calls once per tenant and batch size and launches each later batch
  // as one unit: the same kernels, without the host's cost of launching each one.
  virtual void launch_batch(std::size_t lane, std::uint32_t tenant, int batch,
                            std::span<const KernelCall> calls);
  // Enqueues calls [from, to) of a tenant's program at batch size `batch` on `lane`, one
  // launch() each, in order, whatever set_batch_graphs says; returns how many (to - from).
  std::size_t launch_each(std::size_t lane, std::uint32_t tenant, int batch,
                          std::span<const KernelCall> calls, std::size_t from, std::size_t to);
  // Turns batch graphs on or off (off by default). Only the cuda backend has them (one CUDA
  // graph per tenant and batch size); the others throw std::invalid_argument when asked to
  // turn them on.
  virtual void set_batch_graphs(bool on);
  // Enqueues a marker: `ticket` completes when every earlier launch on `lane` has finished.
  virtual void mark(std::size_t lane, std::uint64_t ticket) = 0;

  // Now on the device clock, ns since the device's epoch (its construction).
  virtual SimTime now() const = 0;
  // Blocks until a marker completes or the clock reaches `until`, whichever is first, and
  // appends the markers completed since the last call (in completion order) to `done`.
  virtual void wait(SimTime until, std::vector<Completion>& done) = 0;
  // Blocks until every lane is idle (markers still reported by the next wait()).
  virtual void synchronize() = 0;
};

// The backends this build has ("cpu", and "cuda" when built with CUDA).
std::vector<std::string> backends();

// The largest `workers` open_device takes: each is a thread, and no machine has more cores.
constexpr int kMaxWorkers = 4096;

// The checks of open_device's arguments that need no device and no build of the backend:
// a backend that is neither cpu nor cuda (at --backend) and workers outside
// 0..kMaxWorkers (at --threads) throw InputError. Commands make them before their other
// input checks, and open the device (which may be missing or not built) after those.
void check_device_options(const std::string& backend, int workers);

// Opens the backend's device. `workers` (cpu only): worker threads, 0 = the online cores
// but one.
// Throws InputError for what check_device_options refuses and for an unbuilt backend,
// DeviceUnavailable when the backend has no device here (no GPU, no driver).
std::unique_ptr<Device> open_device(const std::string& backend, int workers = 0);

// Raised when a backend is built but no device can be opened (e.g. no GPU); its message is
// one line that says so. GPU tests skip on it.
class DeviceUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How busy the device is with work of other processes, sampled over about `seconds`:
// cpu: the non-idle share of every core's time (/proc/stat); cuda: the GPU utilization
// NVML reports, or -1 when it cannot be read.
double background_load(const std::string& backend, double seconds);

}  // namespace infersim::validation
