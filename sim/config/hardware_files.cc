#include "sim/config/hardware_files.h"

#include <fmt/format.h>

#include <cmath>

#include "sim/config/yaml_reader.h"
#include "sim/kernels/roofline.h"

namespace infersim {
namespace {

// Reads a required key; missing keys are reported at `owner` (the model's or GPU's name),
// which points at the right entry where the mapping's own mark would only give its first key.
YAML::Node require(MapReader& r, const std::string& key, const Mark& owner,
                   const std::string& what) {
  if (!r.has(key)) throw InputError(owner, fmt::format("missing key '{}' in {}", key, what));
  return r.get(key);
}

double require_nonnegative(MapReader& r, const std::string& key, const Mark& owner,
                           const std::string& what) {
  double v = yaml_double(require(r, key, owner, what), r.file(), key);
  if (!(v >= 0)) r.fail(key, fmt::format("expected '{}' >= 0 in {}, got {}", key, what, v));
  return v;
}

double require_positive(MapReader& r, const std::string& key, const Mark& owner,
                        const std::string& what) {
  double v = yaml_double(require(r, key, owner, what), r.file(), key);
  if (!(v > 0)) r.fail(key, fmt::format("expected '{}' > 0 in {}, got {}", key, what, v));
  return v;
}

// A required number in [lo, hi]; `why` says where the bounds come from. The bounds keep
// every time the kernel and batch models derive from a GPU's figures finite and far from
// int64's range; a time that still passes the horizon is caught where it is modelled.
double require_in(MapReader& r, const std::string& key, const Mark& owner, const std::string& what,
                  double lo, double hi, const std::string& why) {
  const double v = yaml_double(require(r, key, owner, what), r.file(), key);
  if (!(v >= lo && v <= hi)) {
    r.fail(key, fmt::format("expected '{}' between {:g} and {:g} in {} ({}), got {:g}", key, lo, hi,
                            what, why, v));
  }
  return v;
}

std::string entry_name(const YAML::Node& key, const std::string& file, const std::string& what) {
  return yaml_name(key, file, what);
}

// latency_ms: {batch: ms, ...}
void read_latencies(const YAML::Node& n, const std::string& file, const std::string& what,
                    ModelProfile& m) {
  if (!n.IsMap()) {
    throw InputError(mark_of(n, file),
                     fmt::format("expected a mapping of batch size to latency in ms for "
                                 "'latency_ms' in {}, e.g. {{1: 2.6, 2: 3.8}}",
                                 what));
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node key = it->first;  // copies: it->first lives in a temporary proxy
    const YAML::Node value = it->second;
    std::int64_t b = yaml_int(key, file, "latency_ms batch size");
    if (b < 1 || b > std::numeric_limits<int>::max()) {
      throw InputError(
          mark_of(key, file),
          fmt::format("batch size in 'latency_ms' of {} must be >= 1, got {}", what, b));
    }
    if (!m.batch_sizes.empty() && b <= m.batch_sizes.back()) {
      throw InputError(mark_of(key, file),
                       fmt::format("batch sizes in 'latency_ms' of {} must be strictly ascending "
                                   "({} follows {})",
                                   what, b, m.batch_sizes.back()));
    }
    double l = yaml_double(value, file, fmt::format("latency_ms[{}]", b));
    if (!(l > 0)) {
      throw InputError(
          mark_of(value, file),
          fmt::format("latency for batch {} in {} must be > 0 ms, got {}", b, what, l));
    }
    // At least 1 ns as written (a batch that takes no time would let a closed loop spin at
    // one instant), and within the horizon.
    if (!(l >= 1e-6)) {
      throw InputError(
          mark_of(value, file),
          fmt::format("latency for batch {} in {} must be >= 1e-6 ms (1 ns), got {}", b, what, l));
    }
    yaml_time(value, file, fmt::format("latency_ms[{}]", b), TimeUnit::kMilliseconds);
    if (!m.latency_ms.empty() && l < m.latency_ms.back()) {
      throw InputError(mark_of(value, file),
                       fmt::format("{}: latency at batch {} ({} ms) is below that at batch {} "
                                   "({} ms); latencies must be non-decreasing in batch size",
                                   what, b, l, m.batch_sizes.back(), m.latency_ms.back()));
    }
    m.batch_sizes.push_back(static_cast<int>(b));
    m.latency_ms.push_back(l);
  }
  if (m.batch_sizes.size() < 2) {
    throw InputError(mark_of(n, file),
                     fmt::format("'latency_ms' of {} needs at least 2 batch sizes, got {}", what,
                                 m.batch_sizes.size()));
  }
}

ModelProfile read_model(const YAML::Node& key, const YAML::Node& value, const std::string& file) {
  ModelProfile m;
  m.name = entry_name(key, file, "model name");
  m.mark = mark_of(key, file);
  const std::string what = fmt::format("model '{}'", m.name);
  MapReader r(value, file, what,
              {"family", "input_kb", "output_kb", "weights_mb", "transfer_ms", "latency_ms",
               "gflop", "architecture"});
  m.family = r.get_string("family", "");
  m.input_kb = require_nonnegative(r, "input_kb", m.mark, what);
  m.output_kb = require_nonnegative(r, "output_kb", m.mark, what);
  m.weights_mb = require_nonnegative(r, "weights_mb", m.mark, what);
  m.transfer_ms = require_nonnegative(r, "transfer_ms", m.mark, what);
  yaml_time(r.get("transfer_ms"), file, "transfer_ms", TimeUnit::kMilliseconds);  // horizon
  read_latencies(require(r, "latency_ms", m.mark, what), file, what, m);
  if (r.has("gflop")) m.gflop = r.get_positive("gflop");
  m.architecture = r.get_string("architecture", "");
  return m;
}

// A required integer key in [1, int max].
int require_count(MapReader& r, const std::string& key, const Mark& owner,
                  const std::string& what) {
  std::int64_t v = yaml_int(require(r, key, owner, what), r.file(), key);
  if (v < 1 || v > std::numeric_limits<int>::max()) {
    r.fail(key, fmt::format("expected '{}' >= 1 in {}, got {}", key, what, v));
  }
  return static_cast<int>(v);
}

// A required integer key in [lo, hi]; `why` says where the bounds come from.
int require_int_in(MapReader& r, const std::string& key, const Mark& owner, const std::string& what,
                   std::int64_t lo, std::int64_t hi, const std::string& why) {
  const std::int64_t v = yaml_int(require(r, key, owner, what), r.file(), key);
  if (v < lo || v > hi) {
    r.fail(key, fmt::format("expected '{}' between {} and {} in {} ({}), got {}", key, lo, hi, what,
                            why, v));
  }
  return static_cast<int>(v);
}

// `kernel_model:` of a GPU: the kernel-level model's constants, all required.
GpuKernelSpec read_kernel_model(const YAML::Node& n, const std::string& file, const Mark& owner,
                                const std::string& gpu) {
  const std::string what = fmt::format("kernel_model of {}", gpu);
  MapReader r(n, file, what,
              {"copy_bandwidth_gbs", "launch_overhead_us", "host_launch_interval_us",
               "memory_latency_ns", "max_threads_per_sm", "max_blocks_per_sm", "registers_per_sm",
               "shared_kib_per_sm", "schedulers_per_sm"});
  GpuKernelSpec k;
  // A copy reaches 0.88-0.90 of peak on every GPU measured; 1 GB/s is the least peak
  // (memory_bandwidth_gbs below), and the copy cannot beat the peak (read_gpu).
  k.copy_bandwidth_gbs = require_in(r, "copy_bandwidth_gbs", owner, what, 1, 1e5,
                                    "the bounds of memory_bandwidth_gbs");
  // Measured: 1.46-1.9 us per launch, 3.19-3.72 us between host launches, 337-349 ns per
  // load (gpus.yaml [M], [M2]); the maxima are about 300 times those.
  k.launch_overhead_us = require_in(r, "launch_overhead_us", owner, what, 0, 1000,
                                    "at most 1 ms: 500 times the measured 1.9 us");
  k.host_launch_interval_us = require_in(r, "host_launch_interval_us", owner, what, 0, 1000,
                                         "at most 1 ms: 300 times the measured 3.19-3.72 us");
  k.memory_latency_ns = require_in(r, "memory_latency_ns", owner, what, 0, 1e5,
                                   "at most 100 us: 300 times the measured 337-349 ns");
  // An SM must hold one block of every kernel the model may have to launch: the element-wise
  // kernel's 256 threads and the smallest GEMM tile's registers and shared memory
  // (kernels::minimum_sm_resources). Every CUDA GPU since compute capability 2.0 holds 1536
  // threads, 32 K registers and 48 KiB of shared memory or more, so the minima refuse only
  // wrong numbers. The maxima are 32x today's largest (2048 threads, 32 blocks, 64 K
  // registers, 228 KiB, 4 schedulers: compute capability 9.0) and keep the model's int
  // arithmetic (shared KiB x 1024, registers x threads) far from overflow.
  const kernels::SmNeeds needs = kernels::minimum_sm_resources();
  const std::string why =
      "at least what one block of every kernel the model launches needs, at most 32 times "
      "compute capability 9.0's";
  k.max_threads_per_sm =
      require_int_in(r, "max_threads_per_sm", owner, what, needs.threads, 32 * 2048, why);
  k.max_blocks_per_sm = require_int_in(r, "max_blocks_per_sm", owner, what, 1, 32 * 32, why);
  k.registers_per_sm =
      require_int_in(r, "registers_per_sm", owner, what, needs.registers, 32 * 65536, why);
  k.shared_kib_per_sm = require_int_in(r, "shared_kib_per_sm", owner, what,
                                       (needs.shared_bytes + 1023) / 1024, 32 * 228, why);
  k.schedulers_per_sm = require_int_in(r, "schedulers_per_sm", owner, what, 1, 32 * 4, why);
  return k;
}

// `mig:` of a GPU: its slice counts and GPU-instance profiles (MigSpec), all keys required.
MigSpec read_mig(const YAML::Node& n, const std::string& file, const Mark& owner,
                 const std::string& gpu, int sm_count) {
  const std::string what = fmt::format("mig of {}", gpu);
  MapReader r(n, file, what, {"compute_slices", "memory_slices", "profiles"});
  MigSpec m;
  m.compute_slices = require_count(r, "compute_slices", owner, what);
  m.memory_slices = require_count(r, "memory_slices", owner, what);
  if (m.memory_slices > 16) r.fail("memory_slices", "expected 'memory_slices' <= 16");
  YAML::Node profiles = require(r, "profiles", owner, what);
  if (!profiles.IsMap() || profiles.size() == 0) {
    throw InputError(mark_of(profiles, file),
                     fmt::format("expected a non-empty mapping of profile name to profile for "
                                 "'profiles' of {}",
                                 what));
  }
  for (auto it = profiles.begin(); it != profiles.end(); ++it) {
    MigProfile p;
    p.name = entry_name(it->first, file, "MIG profile name");
    p.mark = mark_of(it->first, file);
    const std::string pw = fmt::format("MIG profile '{}' of {}", p.name, gpu);
    MapReader pr(it->second, file, pw,
                 {"compute_slices", "memory_slices", "sms", "copy_engines", "starts"});
    p.compute_slices = require_count(pr, "compute_slices", p.mark, pw);
    p.memory_slices = require_count(pr, "memory_slices", p.mark, pw);
    p.sms = require_count(pr, "sms", p.mark, pw);
    p.copy_engines = require_count(pr, "copy_engines", p.mark, pw);
    if (p.compute_slices > m.compute_slices) {
      pr.fail("compute_slices",
              fmt::format("{} has more compute slices than the GPU's {}", pw, m.compute_slices));
    }
    if (p.memory_slices > m.memory_slices) {
      pr.fail("memory_slices",
              fmt::format("{} has more memory slices than the GPU's {}", pw, m.memory_slices));
    }
    if (p.sms > sm_count) {
      pr.fail("sms", fmt::format("{} has more SMs than the GPU's {}", pw, sm_count));
    }
    YAML::Node starts = require(pr, "starts", p.mark, pw);
    if (!starts.IsSequence() || starts.size() == 0) {
      throw InputError(
          mark_of(starts, file),
          fmt::format("expected a non-empty list of start slices for 'starts' of {}", pw));
    }
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const YAML::Node s = starts[i];
      std::int64_t v = yaml_int(s, file, "starts");
      if (v < 0 || v + p.memory_slices > m.memory_slices) {
        throw InputError(mark_of(s, file),
                         fmt::format("start {} of {} puts its {} memory slices past the GPU's {}",
                                     v, pw, p.memory_slices, m.memory_slices));
      }
      p.starts.push_back(static_cast<int>(v));
    }
    m.profiles.push_back(std::move(p));
  }
  return m;
}

GpuSpec read_gpu(const YAML::Node& key, const YAML::Node& value, const std::string& file) {
  GpuSpec g;
  g.name = entry_name(key, file, "GPU name");
  g.mark = mark_of(key, file);
  const std::string what = fmt::format("GPU '{}'", g.name);
  MapReader r(value, file, what,
              {"memory_gib", "fp32_tflops", "fp16_tflops", "memory_bandwidth_gbs", "sm_count",
               "pcie_gbs", "kernel_model", "mig"});
  g.memory_gib = require_positive(r, "memory_gib", g.mark, what);
  // Throughputs and bandwidths enter every modelled time as divisors. The least is below
  // anything that runs the model: one CPU core with SIMD does more than 1 GFLOP/s (the
  // validation CPU's entry is 81 GFLOP/s and 15.6 GB/s), one DDR3 channel moves 12.8 GB/s,
  // and PCIe 1.0 x1 250 MB/s. The most is about 100 times today's fastest (B200: 80 TFLOP/s
  // FP32, 2250 dense FP16, 8 TB/s; NVLink-C2C 450 GB/s per direction).
  g.fp32_tflops = require_in(r, "fp32_tflops", g.mark, what, 1e-3, 1e4,
                             "1 GFLOP/s to 100 times a B200's FP32 peak");
  g.fp16_tflops = require_in(r, "fp16_tflops", g.mark, what, 1e-3, 1e6,
                             "1 GFLOP/s to 400 times a B200's dense FP16 peak");
  g.memory_bandwidth_gbs = require_in(r, "memory_bandwidth_gbs", g.mark, what, 1, 1e5,
                                      "1 GB/s to 12 times a B200's 8 TB/s");
  g.pcie_gbs = require_in(r, "pcie_gbs", g.mark, what, 0.1, 1e4,
                          "100 MB/s to 20 times NVLink-C2C's 450 GB/s");
  // SMs: 1 (a CPU stands in as one) to 65536, 400 times a B200's 148.
  g.sm_count =
      require_int_in(r, "sm_count", g.mark, what, 1, 65536, "at most 400 times a B200's 148");
  if (auto km = r.find("kernel_model")) {
    g.kernel = read_kernel_model(*km, file, g.mark, what);
    if (g.kernel->copy_bandwidth_gbs > g.memory_bandwidth_gbs) {
      throw InputError(mark_of(*km, file),
                       fmt::format("copy_bandwidth_gbs of {} ({}) exceeds its peak "
                                   "memory_bandwidth_gbs ({})",
                                   what, g.kernel->copy_bandwidth_gbs, g.memory_bandwidth_gbs));
    }
  }
  if (auto mig = r.find("mig")) g.mig = read_mig(*mig, file, g.mark, what, g.sm_count);
  return g;
}

// A non-empty mapping under `key` of the root.
YAML::Node read_entries(MapReader& root, const std::string& key, const std::string& what) {
  YAML::Node n = root.get(key);
  if (!n.IsMap() || n.size() == 0) {
    throw InputError(mark_of(n, root.file()),
                     fmt::format("expected a non-empty mapping of {} for '{}'", what, key));
  }
  return n;
}

}  // namespace

Profile load_profile(const std::string& path) {
  YAML::Node doc = load_yaml_file(path);
  MapReader root(doc, path, "profile", {"gpu", "models", "provenance"});
  Profile p;
  p.path = path;
  p.gpu = root.get_string("gpu");
  if (p.gpu.empty()) root.fail("gpu", "expected a GPU name for 'gpu'");
  // Optional: how `infersim profile` measured it (key -> text, kept in file order).
  if (auto prov = root.find("provenance")) {
    if (!prov->IsMap()) {
      throw InputError(mark_of(*prov, path), "expected a mapping of key to text for 'provenance'");
    }
    for (auto it = prov->begin(); it != prov->end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      const std::string k = yaml_string(key, path, "provenance key");
      p.provenance.emplace_back(k, yaml_string(value, path, fmt::format("provenance '{}'", k)));
    }
  }
  YAML::Node models = read_entries(root, "models", "model name to model profile");
  for (auto it = models.begin(); it != models.end(); ++it) {
    p.models.push_back(read_model(it->first, it->second, path));
  }
  return p;
}

std::vector<GpuSpec> load_gpus(const std::string& path) {
  YAML::Node doc = load_yaml_file(path);
  MapReader root(doc, path, "GPU list", {"gpus"});
  YAML::Node gpus = read_entries(root, "gpus", "GPU name to GPU specification");
  std::vector<GpuSpec> out;
  for (auto it = gpus.begin(); it != gpus.end(); ++it) {
    out.push_back(read_gpu(it->first, it->second, path));
  }
  return out;
}

}  // namespace infersim
