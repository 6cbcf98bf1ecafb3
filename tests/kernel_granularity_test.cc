// The policies at `granularity: kernel`: a batch is its sequence of kernels. Hand-computed
// schedules on hand-built kernel programs, the merged super-kernel of space_time on a real
// kernel graph, equivalences with batch granularity, invariants on random scenarios and
// input errors.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/hardware_files.h"
#include "sim/core/arrival.h"
#include "sim/core/engine.h"
#include "sim/core/rng.h"
#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"
#include "sim/kernels/program.h"
#include "sim/kernels/roofline.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using testing::experiment_from;
using testing::v100_header;

constexpr SimTime kUs = 1000;

const GpuSpec& v100() {
  static const std::vector<GpuSpec> gpus =
      load_gpus(std::string(INFERSIM_SOURCE_DIR) + "/hardware_profiles/gpus.yaml");
  return *find_gpu(gpus, "v100");
}

// A program of one batch size (batch 1) with the given kernels: (duration, SMs).
std::shared_ptr<const kernels::KernelProgram> program(
    const std::vector<std::pair<SimTime, int>>& ks) {
  auto p = std::make_shared<kernels::KernelProgram>();
  p->batches.resize(2);
  p->calls.resize(2);
  p->scale.assign(2, 1.0);
  for (const auto& [ns, sms] : ks) p->batches[1].push({ns, sms});
  return p;
}

// Runs `policy` (settings `given`: numbers, or text for `granularity`) on one V100 with one
// tenant per program, each a closed loop of one request at time 0 and no replacements
// (arrivals stop after 1 ns). Returns each tenant's completion time.
std::vector<SimTime> run_by_hand(
    const std::string& policy, const std::map<std::string, double>& numbers,
    const std::string& granularity,
    const std::vector<std::shared_ptr<const kernels::KernelProgram>>& programs) {
  const Registries reg = testing::registries().view();
  std::vector<TenantInfo> tenants;
  for (std::size_t i = 0; i < programs.size(); ++i) {
    TenantInfo t;
    t.name = fmt::format("t{}", i);
    t.model = fmt::format("m{}", i);
    t.latency_ns = {0, programs[i]->batches[1].total()};
    t.utilization = {0, 0.5};
    t.kernels = programs[i];
    tenants.push_back(std::move(t));
  }
  EngineConfig cfg;
  cfg.duration = 1;
  Engine e(cfg, std::move(tenants));
  const PolicyInfo& info = reg.policies.get(policy, Mark{});
  std::map<std::string, GivenParam> given;
  for (const auto& [k, v] : numbers) given[k] = GivenParam{v, Mark{}};
  given["granularity"] = GivenParam{0, Mark{}, granularity};
  given["max_batch"] = GivenParam{1, Mark{}};
  const Params params = resolve_params(info.params, given, Mark{}, "policy");
  PolicySetup setup{e, 0, {}, params, v100()};
  for (std::uint32_t t = 0; t < programs.size(); ++t) setup.tenants.push_back(t);
  e.set_policy(0, info.create(setup));
  const ArrivalInfo& closed = reg.arrivals.get("closed", Mark{});
  const Params one = resolve_params(closed.params, {{"n", GivenParam{1, Mark{}}}}, Mark{}, "a");
  for (std::uint32_t t = 0; t < programs.size(); ++t) {
    // Without services every tenant is its own service, of the same index.
    const std::vector<ArrivalTarget> target = {{e.tenant(t).name, e.tenant(t).model}};
    e.add_stream(e.tenant(t).name, closed.create(ArrivalSetup{one, target, Mark{}}), {t});
  }
  testing::CollectingSink sink;
  e.set_request_sink(&sink);
  e.run();
  std::vector<SimTime> end(programs.size(), -1);
  for (const RequestOutcome& o : sink.outcomes) end[o.tenant] = o.end;
  return end;
}

TEST(KernelGranularity, ATimeSliceEndsAtAKernelBoundary) {
  // Two contexts, quantum 0.5 ms, free switches. A's batch: kernels of 300, 500 and 400 us
  // (ending 300, 800, 1200 into it); B's: one kernel of 1000 us.
  //   0      A starts; its quantum ends at 500, inside its second kernel (300..800), which
  //          runs on: A is switched out at 800 with 400 us left.
  //   800    B's quantum ends at 1300, inside its only kernel: it runs to 1800 and finishes.
  //   1800   A resumes with its third kernel: done at 2200.
  const auto a = program({{300 * kUs, 10}, {500 * kUs, 10}, {400 * kUs, 10}});
  const auto b = program({{1000 * kUs, 10}});
  const std::map<std::string, double> settings = {{"quantum_ms", 0.5}, {"switch_us", 0}};
  EXPECT_EQ(run_by_hand("time_sliced", settings, "kernel", {a, b}),
            (std::vector<SimTime>{2200 * kUs, 1800 * kUs}));
  // With compute preemption (and at batch granularity) slices end at the quantum: A 0..500,
  // B 500..1000, A 1000..1500 (200 left), B 1500..2000 (done), A 2000..2200 (done).
  std::map<std::string, double> preempt = settings;
  preempt["compute_preemption"] = 1;
  EXPECT_EQ(run_by_hand("time_sliced", preempt, "kernel", {a, b}),
            (std::vector<SimTime>{2200 * kUs, 2000 * kUs}));
  EXPECT_EQ(run_by_hand("time_sliced", settings, "batch", {a, b}),
            (std::vector<SimTime>{2200 * kUs, 2000 * kUs}));
}

TEST(KernelGranularity, TwoTenantsKernelsShareTheSms) {
  // mps on 80 SMs. A: 100 us on 40 SMs, then 50 us on 80. B: 70 us on 40, then 60 us on 30.
  //   0    A0 and B0 run side by side (80 of 80 SMs).
  //   70   B0 ends; B1 (30 SMs) fits beside A0.
  //   100  A0 ends; A1 needs all 80 SMs and waits for B1.
  //   130  B1 ends: B done. A1 runs 130..180: A done.
  // At kernel granularity interference and stragglers are off unless given: exact times.
  const auto a = program({{100 * kUs, 40}, {50 * kUs, 80}});
  const auto b = program({{70 * kUs, 40}, {60 * kUs, 30}});
  EXPECT_EQ(run_by_hand("mps", {}, "kernel", {a, b}), (std::vector<SimTime>{180 * kUs, 130 * kUs}));
  // Given, interference stretches a kernel that starts beside k - 1 others by
  // (1 + 0.1 (k - 1)): B0 starts second (70 x 1.1 = 77, ends 77), B1 beside A0 (60 x 1.1 =
  // 66, ends 143), A1 alone from 143 (ends 193).
  EXPECT_EQ(run_by_hand("mps", {{"interference", 0.1}}, "kernel", {a, b}),
            (std::vector<SimTime>{193 * kUs, 143 * kUs}));
  // Batch granularity on the same tenants: processor sharing on u = 0.5 each (Σu = 1: solo
  // speed) with the default interference 0.094 and stragglers: both slower than alone.
  const auto batch = run_by_hand("mps", {}, "batch", {a, b});
  EXPECT_GT(batch[0], 150 * kUs);
  EXPECT_GT(batch[1], 130 * kUs);
}

TEST(KernelGranularity, SpaceTimeMergesTheSameLayerOfItsTenants) {
  // Three tenants of seed 003's conv2_2 SGEMM on the predicted V100 profile, each with one
  // request outstanding: every super-kernel is the three problems as one batched GEMM
  // (cublasSgemmBatched of count 3), so every request takes that kernel's time.
  const Experiment x = experiment_from(
      "name: t\nseed: 1\nduration_s: 0.05\nhardware: {profile: roofline, gpu: v100}\n"
      "policy: {name: space_time, max_batch: 3, granularity: kernel}\n"
      "tenants:\n  - {model: sgemm_conv2_2, replicas: 3, arrival: {process: closed, n: 1}}\n");
  const RunResult r = testing::run(x);
  const auto archs = kernels::load_architectures(std::string(INFERSIM_SOURCE_DIR) +
                                                 "/hardware_profiles/architectures");
  const kernels::Architecture& a = *kernels::find_for_model(archs, "sgemm_conv2_2");
  const kernels::KernelModelParams p =
      kernels::with_library(kernels::default_kernel_params(v100()), a.library);
  const std::vector<kernels::KernelCall> parts(3, kernels::lower(a, 1)[0]);
  const SimTime merged = kernels::batched_kernel_time(parts, p).ns;
  EXPECT_DOUBLE_EQ(r.all.mean_ms, ns_to_ms(merged));
  EXPECT_DOUBLE_EQ(r.all.max_ms, ns_to_ms(merged));
  // Three problems in one kernel beat three launches of one.
  EXPECT_LT(merged, 3 * kernels::kernel_time(parts[0], p).ns);
}

TEST(KernelGranularity, SpaceTimeSuperKernelOfOneNanosecondBatchesTakesTime) {
  // Two resnet50_v1 tenants on a profile with L(1) = 1 ns and L(2) = 2 ns (the least a
  // profile may give), Poisson at 1e6/s each for 1 ms: some of their requests ride one
  // super-kernel of 2. Its calibrated total is the merged kernels' modelled time x 2 ns /
  // modelled L(2), about 2 ns, and at least 1 ns; each of its 56 kernels rounded on its own
  // went to 0, so a super-kernel took no time (and a closed loop spun at one instant).
  const std::string profile = ::testing::TempDir() + "/infersim_one_ns_resnet.yaml";
  std::ofstream(profile) << "gpu: v100\nmodels:\n  resnet50_v1:\n    input_kb: 602\n"
                            "    output_kb: 4\n    weights_mb: 100\n    transfer_ms: 10\n"
                            "    latency_ms: {1: 0.000001, 2: 0.000002}\n";
  const Experiment x = experiment_from(
      "name: t\nseed: 1\nduration_s: 0.001\nhardware: {profile: " + profile +
      ", gpu: v100, gpus_file: " + std::string(INFERSIM_SOURCE_DIR) +
      "/hardware_profiles/gpus.yaml, architectures: " + std::string(INFERSIM_SOURCE_DIR) +
      "/hardware_profiles/architectures}\npolicy: {name: space_time, max_batch: 2, "
      "granularity: kernel}\ntenants:\n  - {model: resnet50_v1, replicas: 2, arrival: "
      "{process: poisson, rate: 1e6}}\n");
  testing::CollectingSink sink;
  testing::run(x, &sink);
  std::size_t merged = 0;
  for (const RequestOutcome& o : sink.outcomes) {
    ASSERT_FALSE(o.dropped);
    EXPECT_GE(o.end - o.start, 1) << "a batch of " << o.batch << " at " << o.start;
    if (o.batch == 2) ++merged;
  }
  EXPECT_GT(merged, 0u);  // super-kernels formed
  std::remove(profile.c_str());
}

// The summary tables of two runs, compared on what the policy decides.
void expect_same_outcomes(const RunResult& a, const RunResult& b) {
  EXPECT_EQ(a.all.requests, b.all.requests);
  EXPECT_EQ(a.all.completed, b.all.completed);
  EXPECT_DOUBLE_EQ(a.all.mean_ms, b.all.mean_ms);
  EXPECT_DOUBLE_EQ(a.all.p99_ms, b.all.p99_ms);
  EXPECT_DOUBLE_EQ(a.all.max_ms, b.all.max_ms);
}

TEST(KernelGranularity, CalibratedExclusiveAndSoloSlicingAreUnchanged) {
  // Calibrated kernels sum to L(b), so one tenant alone sees exactly the batch-level run.
  const std::string tenant =
      "tenants:\n  - {model: resnet50_v1, arrival: {process: poisson, rate: 500}}\n";
  for (const char* policy : {"exclusive", "time_sliced", "mps", "space_time"}) {
    SCOPED_TRACE(policy);
    const RunResult batch = testing::run(experiment_from(
        v100_header(3) + "policy: {name: " + policy + ", max_batch: 8}\n" + tenant));
    const RunResult kernel =
        testing::run(experiment_from(v100_header(3) + "policy: {name: " + policy +
                                     ", max_batch: 8, granularity: kernel}\n" + tenant));
    expect_same_outcomes(batch, kernel);
  }
}

TEST(KernelGranularity, RandomizedInvariants) {
  // Models with kernel graphs, mixed; random load, batching and SLOs, under each sharing
  // policy at kernel granularity: every request completes or drops exactly once, a batch is
  // never faster than its solo L(b), the GPU is never more than fully busy.
  const char* models[] = {"resnet50_v1", "densenet121", "googlenet",
                          "resnet18_v1", "inceptionv3", "resnext50_32x4d"};
  const char* policies[] = {"time_sliced", "mps", "space_time"};
  Rng rng(808);
  for (int scenario = 0; scenario < 18; ++scenario) {
    const std::string policy = policies[scenario % 3];
    const int n = 2 + static_cast<int>(rng.uniform() * 5);
    const int max_batch = 1 << static_cast<int>(rng.uniform() * 4);
    const int distinct = 1 + static_cast<int>(rng.uniform() * 3);
    std::string yaml = v100_header(1.0) + "policy: {name: " + policy +
                       ", granularity: kernel, max_batch: " + std::to_string(max_batch) +
                       ", drop_late: " + (rng.uniform() < 0.5 ? "true" : "false") + "}\ntenants:\n";
    for (int i = 0; i < n; ++i) {
      const std::string model = models[static_cast<int>(rng.uniform() * distinct * 2) % 6];
      const std::string arrival =
          rng.uniform() < 0.2
              ? "{process: closed, n: 2}"
              : "{process: poisson, rate: " + std::to_string(50 + 400 * rng.uniform()) + "}";
      const std::string slo =
          rng.uniform() < 0.3 ? "" : ", slo_ms: " + std::to_string(5 + 100 * rng.uniform());
      yaml += "  - {model: " + model + ", name: t" + std::to_string(i) + slo +
              ", arrival: " + arrival + "}\n";
    }
    SCOPED_TRACE(yaml);
    const Experiment x = experiment_from(yaml);
    testing::CollectingSink sink;
    const RunResult r = testing::run(x, &sink);
    EXPECT_EQ(sink.outcomes.size(), r.all.requests);
    EXPECT_EQ(r.all.completed + r.all.dropped, r.all.requests);
    EXPECT_GT(r.all.completed, 0u);
    for (const RequestOutcome& o : sink.outcomes) {
      EXPECT_GE(o.end, o.start);
      EXPECT_GE(o.start, o.arrival);
      if (o.dropped || policy == "space_time") continue;  // super-kernels mix tenants
      const SimTime solo = ms_to_ns(x.tenants[o.tenant].profile->latency_ms_at(o.batch));
      EXPECT_GE(o.end - o.start, solo);
    }
    EXPECT_LE(r.gpu_busy, 1.0 + 1e-12);
    EXPECT_LE(r.gpu_load, r.gpu_busy + 1e-12);
    EXPECT_GT(r.gpu_load, 0);
  }
}

TEST(KernelGranularity, GpuLoadIsSoloUtilizationUnderEveryPolicy) {
  // One ResNet-50 tenant alone, a closed loop of one request without think time: every batch
  // is of 1, so whatever runs it, the GPU's load over its busy time is u(1) =
  // (1 / L(1)) / max_b (b / L(b)) of the profile (0.375 on the V100 table). mps and
  // space_time at kernel granularity used to report the fraction of SMs their kernels held
  // instead (0.69 here), so gpu_load could not be compared across policies.
  for (const char* policy : {"exclusive", "time_sliced", "mps", "space_time"}) {
    for (const char* granularity : {"batch", "kernel"}) {
      SCOPED_TRACE(fmt::format("{} at {} granularity", policy, granularity));
      const Experiment x = experiment_from(
          v100_header(0.5, 0.05) + "policy: {name: " + policy + ", granularity: " + granularity +
          "}\ntenants:\n  - {model: resnet50_v1, arrival: {process: closed, n: 1}}\n");
      const ModelProfile& p = *x.tenants[0].profile;
      double peak = 0;
      for (std::size_t k = 0; k < p.batch_sizes.size(); ++k) {
        peak = std::max(peak, p.batch_sizes[k] / p.latency_ms[k]);
      }
      const double u1 = (1 / p.latency_ms_at(1)) / peak;
      const RunResult r = testing::run(x);
      ASSERT_GT(r.gpu_busy, 0.99);
      EXPECT_NEAR(r.gpu_load / r.gpu_busy, u1, 1e-9);
    }
  }
}

TEST(KernelGranularity, InputErrors) {
  auto error_of = [](const std::string& yaml) -> std::string {
    try {
      experiment_from(yaml);
    } catch (const InputError& e) {
      return fmt::format("{}: {}", e.mark().line, e.what());
    }
    return "no error";
  };
  const std::string tenant =
      "tenants:\n  - {model: resnet50_v1, arrival: {process: poisson, rate: 5}}\n";
  // Line 6 is the policy, line 8 the tenant.
  EXPECT_NE(error_of(v100_header(1) + "policy: {name: mps, granularity: kernels}\n" + tenant)
                .find("6: test.yaml:6:"),
            std::string::npos);
  EXPECT_NE(error_of(v100_header(1) + "policy: {name: mps, granularity: kernels}\n" + tenant)
                .find("expected 'granularity' to be one of: batch, kernel, got 'kernels'"),
            std::string::npos);
  // A model without a kernel graph.
  const std::string mobile =
      "tenants:\n  - {model: mobile_pose_mobilenet1.0, arrival: {process: poisson, rate: 5}}\n";
  const std::string e =
      error_of(v100_header(1) + "policy: {name: mps, granularity: kernel}\n" + mobile);
  EXPECT_NE(e.find("8: test.yaml:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("has no kernel graph"), std::string::npos) << e;
  // At batch granularity the same model is fine.
  EXPECT_EQ(error_of(v100_header(1) + "policy: {name: mps}\n" + mobile), "no error");
  // A device without kernel_model constants.
  const std::string cpu =
      "name: t\nduration_s: 1\nhardware: {profile: hardware_profiles/cpu_validation.yaml, "
      "gpu: cpu}\npolicy: {name: mps, granularity: kernel}\n"
      "tenants:\n  - {model: sgemm_conv2_2_x4, arrival: {process: poisson, rate: 5}}\n";
  EXPECT_NE(error_of(cpu).find("which needs the kernel_model constants of GPU 'cpu'"),
            std::string::npos)
      << error_of(cpu);
}

}  // namespace
}  // namespace infersim
