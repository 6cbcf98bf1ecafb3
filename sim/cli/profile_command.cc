// `infersim profile`: measures L(b) of models on a real device (validation/profiler.h) and
// writes a hardware profile that `infersim run` simulates with and `infersim measure`
// checks against.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>

#include "sim/cli/commands.h"
#include "sim/core/version.h"
#include "sim/sweep/output_files.h"
#include "sim/sweep/tables.h"
#include "validation/device.h"
#include "validation/profiler.h"

namespace infersim {
namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The gpus.yaml entry of a device: `cpu`, or the GPU named in the CUDA device's name.
std::string gpu_entry(const validation::DeviceInfo& d) {
  if (d.backend == "cpu") return "cpu";
  for (const char* g : {"H200", "H100", "A100", "V100"}) {
    if (d.device.find(g) != std::string::npos) {
      std::string s = g;
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      return s;
    }
  }
  throw std::runtime_error(
      fmt::format("no hardware_profiles/gpus.yaml entry for '{}'; add one "
                  "(datasheet figures) and name it in the profile's gpu: key",
                  d.device));
}

}  // namespace

std::string architectures_dir() {
  namespace fs = std::filesystem;
  for (const fs::path& p : {fs::path("hardware_profiles/architectures"),
                            fs::path(INFERSIM_DATA_DIR) / "hardware_profiles/architectures"}) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) return p.string();
  }
  return "";
}

std::vector<std::string> architecture_files() {
  std::vector<std::string> files;
  const std::string dir = architectures_dir();
  std::error_code ec;
  if (dir.empty()) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    files.push_back(e.path().string());
  }
  return files;
}

int profile_command(const ProfileOptions& o) {
  const Mark where{"--models", 0, 0};
  std::vector<std::string> models = o.models;
  if (models.empty()) models = validation::synthetic_models();
  // A profile holds each model once (a second entry is a duplicate key it would refuse).
  std::set<std::string> seen;
  for (const auto& m : models) {
    if (!seen.insert(m).second) {
      throw InputError(where, fmt::format("model '{}' is named twice; expected each model once "
                                          "(a profile holds one entry per model)",
                                          m));
    }
  }
  if (o.batches.empty()) throw InputError(Mark{"--batches", 0, 0}, "expected batch sizes");
  std::vector<int> batches = o.batches;
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  if (batches.front() < 1 || batches.size() < 2) {
    throw InputError(Mark{"--batches", 0, 0},
                     "expected at least 2 distinct batch sizes >= 1, e.g. 1,2,4,8,16");
  }
  if (o.repeats < 1) {
    throw InputError(Mark{"--repeats", 0, 0},
                     fmt::format("expected --repeats >= 1, got {}", o.repeats));
  }
  if (o.warmup < 0) {
    throw InputError(Mark{"--warmup", 0, 0},
                     fmt::format("expected --warmup >= 0, got {}", o.warmup));
  }
  validation::check_device_options(o.backend, o.threads);
  if (o.launch != "eager" && o.launch != "graph") {
    throw InputError(Mark{"--launch", 0, 0},
                     fmt::format("expected eager or graph, got '{}'", o.launch));
  }
  check_output_path(o.out, Mark{"-o", 0, 0}, "", architecture_files());
  if (o.launch == "graph" && o.backend != "cuda") {
    throw InputError(
        Mark{"--launch", 0, 0},
        fmt::format("graph launches need --backend cuda (CUDA graphs), not '{}'", o.backend));
  }
  std::vector<validation::ModelProgram> programs;
  const validation::ProgramLibrary library(architectures_dir());
  for (const auto& m : models) {
    auto p = library.get(m, batches.back());
    if (!p) {
      throw InputError(
          where, fmt::format("no kernel program for model '{}' (known: {})", m, library.known()));
    }
    programs.push_back(std::move(*p));
  }

  auto device = validation::open_device(o.backend, o.threads);
  device->set_batch_graphs(o.launch == "graph");
  const validation::DeviceInfo& info = device->info();
  const std::string gpu = gpu_entry(info);
  std::cerr << fmt::format(
      "profiling on {} ({}): {} model(s), batches {}, median of {} runs "
      "after {} warm-up\n",
      info.device, info.backend, programs.size(), fmt::join(batches, ","), o.repeats, o.warmup);
  validation::TimingSettings settings{o.warmup, o.repeats};

  std::string models_yaml;
  for (std::uint32_t i = 0; i < programs.size(); ++i) {
    const auto& p = programs[i];
    device->add_tenant(i, p);
    auto t = validation::time_batches(*device, i, p, batches, settings);
    // A batch never takes less than a smaller one (it could be padded to it): noise that
    // makes a median dip below a smaller batch's is lifted to it; raw medians stay in the
    // comment.
    std::string raw, lat;
    double floor = 0;
    for (const auto& b : t) {
      raw += fmt::format("{}{}: {:.4f} [{:.4f}, {:.4f}]", raw.empty() ? "" : ", ", b.batch,
                         b.median_ms, b.min_ms, b.max_ms);
      floor = std::max(floor, b.median_ms);
      lat += fmt::format("{}{}: {:.4f}", lat.empty() ? "" : ", ", b.batch, floor);
    }
    models_yaml += fmt::format(
        "  {}:\n"
        "    # median ms [min, max] per batch: {}\n"
        "    family: {}\n"
        "    input_kb: {:.3f}\n"
        "    output_kb: {:.3f}\n"
        "    weights_mb: {:.3f}\n"
        "    transfer_ms: 0  # not measured: the {} backend keeps weights resident\n"
        "    latency_ms: {{{}}}\n"
        "    gflop: {:.6f}\n",
        p.model, raw, quoted(p.family), p.input_bytes / 1e3, p.output_bytes / 1e3,
        p.weight_bytes / 1e6, info.backend, lat, p.flops / 1e9);
    std::cerr << fmt::format("  {}: L(b) ms {}\n", p.model, lat);
  }

  std::string peaks;
  if (o.peaks) {
    const bool gpu_backend = info.backend == "cuda";
    auto f = validation::measure_peaks(*device, static_cast<std::uint32_t>(programs.size()),
                                       gpu_backend ? 8192 : 2048, gpu_backend ? 2048 : 256,
                                       validation::TimingSettings{2, 5});
    peaks = fmt::format(
        "  peak_fp32_gflops: {}\n  memory_bandwidth_gbs: {}\n",
        quoted(fmt::format("{:.1f} (median of 5 SGEMMs of {} after 2 warm-up)", f.gflops, f.gemm)),
        quoted(fmt::format("{:.1f} (median of 5 copies of {}, bytes read + written)",
                           f.bandwidth_gbs, f.copy)));
    std::cerr << fmt::format(
        "  device peak: {:.1f} GFLOP/s (SGEMM {}), {:.1f} GB/s (copy of {}, "
        "read + written)\n",
        f.gflops, f.gemm, f.bandwidth_gbs, f.copy);
  }

  std::string text = fmt::format(
      "# Measured by `infersim profile` (validation mode): L(b) of each model's kernel calls,\n"
      "# one batch alone on the device, from the first launch to the completion of the last\n"
      "# kernel; median of {} runs after {} warm-up runs (seed 002's method).\n"
      "gpu: {}\n"
      "provenance:\n"
      "  device: {}\n"
      "  backend: {}\n"
      "  libraries: {}\n"
      "  clock: {}\n"
      "  date: {}\n"
      "  infersim: {}\n"
      "  command: {}\n"
      "  launch: {}\n"
      "  method: {}\n"
      "{}"
      "models:\n{}",
      o.repeats, o.warmup, gpu, quoted(info.device), info.backend, quoted(info.libraries),
      quoted(info.clock), utc_now(), quoted(fmt::format("{} ({})", version(), git_revision())),
      quoted(o.command_line), o.launch,
      quoted(fmt::format("median of {} runs after {} warm-up runs; {}; latency_ms lifted to be "
                         "non-decreasing in batch size",
                         o.repeats, o.warmup,
                         o.launch == "graph"
                             ? "each batch size's kernels captured once as a CUDA graph and "
                               "launched as one"
                             : "each kernel launched on its own")),
      peaks, models_yaml);

  write_text_file(o.out, text);
  std::cout << fmt::format("wrote {} ({} model(s) on {})\n", o.out, programs.size(), info.device);
  return 0;
}

}  // namespace infersim
