#include "sim/config/hardware_files.h"

#include <fmt/format.h>

#include <cmath>

#include "sim/config/yaml_reader.h"

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
    // Within the horizon, and at least 1 ns: a batch that takes no time would let a
    // closed loop spin at one instant.
    if (yaml_time(value, file, fmt::format("latency_ms[{}]", b), TimeUnit::kMilliseconds) == 0) {
      throw InputError(
          mark_of(value, file),
          fmt::format("latency for batch {} in {} must be >= 1e-6 ms (1 ns), got {}", b, what, l));
    }
    if (!m.latency_ms.empty() && l < m.latency_ms.back()) {
      throw InputError(mark_of(value, file),
                       fmt::format("latency for batch {} in {} ({} ms) is below that for batch {} "
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

// `kernel_model:` of a GPU: the kernel-level model's constants, all required.
GpuKernelSpec read_kernel_model(const YAML::Node& n, const std::string& file, const Mark& owner,
                                const std::string& gpu) {
  const std::string what = fmt::format("kernel_model of {}", gpu);
  MapReader r(n, file, what,
              {"copy_bandwidth_gbs", "launch_overhead_us", "host_launch_interval_us",
               "memory_latency_ns", "max_threads_per_sm", "max_blocks_per_sm", "registers_per_sm",
               "shared_kib_per_sm", "schedulers_per_sm"});
  GpuKernelSpec k;
  k.copy_bandwidth_gbs = require_positive(r, "copy_bandwidth_gbs", owner, what);
  k.launch_overhead_us = require_nonnegative(r, "launch_overhead_us", owner, what);
  k.host_launch_interval_us = require_nonnegative(r, "host_launch_interval_us", owner, what);
  k.memory_latency_ns = require_nonnegative(r, "memory_latency_ns", owner, what);
  k.max_threads_per_sm = require_count(r, "max_threads_per_sm", owner, what);
  k.max_blocks_per_sm = require_count(r, "max_blocks_per_sm", owner, what);
  k.registers_per_sm = require_count(r, "registers_per_sm", owner, what);
  k.shared_kib_per_sm = require_count(r, "shared_kib_per_sm", owner, what);
  k.schedulers_per_sm = require_count(r, "schedulers_per_sm", owner, what);
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
  g.fp32_tflops = require_positive(r, "fp32_tflops", g.mark, what);
  g.fp16_tflops = require_positive(r, "fp16_tflops", g.mark, what);
  g.memory_bandwidth_gbs = require_positive(r, "memory_bandwidth_gbs", g.mark, what);
  g.pcie_gbs = require_positive(r, "pcie_gbs", g.mark, what);
  std::int64_t sms = yaml_int(require(r, "sm_count", g.mark, what), file, "sm_count");
  if (sms < 1 || sms > std::numeric_limits<int>::max()) {
    r.fail("sm_count", fmt::format("expected 'sm_count' >= 1 in {}, got {}", what, sms));
  }
  g.sm_count = static_cast<int>(sms);
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
