// Test helpers: build an experiment from YAML text and run it in-process, collecting every
// request's outcome; and a minimal tenant for tests that build an Engine by hand.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/cli/builtin_registries.h"
#include "sim/config/experiment.h"
#include "sim/config/overrides.h"
#include "sim/config/yaml_reader.h"
#include "sim/core/engine.h"
#include "sim/sweep/expansion.h"
#include "sim/sweep/runner.h"

namespace infersim::testing {

// The share of their full size at which heavy statistical tests run: the environment
// variable INFERSIM_TEST_SCALE, in (0, 1], default 1. `make sanitize` sets 0.25, since
// ASan and UBSan slow the simulation ~10x; such tests widen their bounds by
// 1/sqrt(scale), keeping the same number of standard errors.
inline double test_scale() {
  const char* s = std::getenv("INFERSIM_TEST_SCALE");
  if (!s) return 1.0;
  const double v = std::strtod(s, nullptr);
  return v > 0 && v <= 1 ? v : 1.0;
}

inline const BuiltinRegistries& registries() {
  static const BuiltinRegistries r;
  return r;
}

inline Experiment experiment_from(const std::string& yaml,
                                  const std::vector<std::string>& sets = {}) {
  YAML::Node root = load_yaml_string(yaml, "test.yaml");
  for (const auto& s : sets) apply_set_in_place(root, s);
  Experiment x = parse_experiment(root, "test.yaml", yaml, registries().view());
  clear_overrides();
  return x;
}

class CollectingSink final : public RequestSink {
 public:
  void record(const RequestOutcome& r) override { outcomes.push_back(r); }
  std::vector<RequestOutcome> outcomes;
};

inline RunResult run(const Experiment& x, RequestSink* sink = nullptr, int replication = 0) {
  return simulate(x, registries().view(), 0, replication, sink);
}

// A one-GPU V100 experiment header; append `policy:` and `tenants:`.
inline std::string v100_header(double duration_s, double warmup_s = 0, int gpus = 1) {
  return "name: t\nseed: 7\nduration_s: " + std::to_string(duration_s) +
         "\nwarmup_s: " + std::to_string(warmup_s) +
         "\nhardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: " +
         std::to_string(gpus) + "}\n";
}

// A tenant for a hand-built Engine: model "m" with one profiled batch size, L(1) = 1 us at
// solo utilization `utilization`, on GPU `gpu`.
inline TenantInfo on_gpu(const std::string& name, std::uint32_t gpu, double utilization = 1.0) {
  TenantInfo t;
  t.name = name;
  t.model = "m";
  t.gpu = gpu;
  t.latency_ns = {0, 1000};
  t.utilization = {0, utilization};
  return t;
}

}  // namespace infersim::testing
