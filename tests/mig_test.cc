// MIG instances (policy `mig`) and MPS SM caps (`active_thread_percentage`): layouts NVIDIA
// allows and refuses, a kernel's waves on a 1g instance and under an SM cap (arithmetic in
// the comments), isolation between instances, and the input errors.
#include "sim/gpu/mig.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/hardware_files.h"
#include "sim/gpu/memory.h"
#include "sim/kernels/lower.h"
#include "sim/kernels/roofline.h"
#include "sim/sweep/kernel_programs.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using kernels::KernelCall;
using kernels::KernelModelParams;
using kernels::KernelTime;
using testing::experiment_from;

const GpuSpec& gpu(const std::string& name) {
  static const std::vector<GpuSpec> gpus =
      load_gpus(std::string(INFERSIM_SOURCE_DIR) + "/hardware_profiles/gpus.yaml");
  return *find_gpu(gpus, name);
}

std::vector<const MigProfile*> layout(const GpuSpec& g, const std::vector<std::string>& names) {
  std::vector<const MigProfile*> out;
  for (const auto& n : names) {
    const MigProfile* p = g.mig.find(n);
    EXPECT_NE(p, nullptr) << n;
    out.push_back(p);
  }
  return out;
}

bool valid(const std::string& g, const std::vector<std::string>& names) {
  return place_mig_layout(gpu(g).mig, layout(gpu(g), names)).has_value();
}

TEST(MigLayout, TheLayoutsNvidiaAllowsAndRefuses) {
  // Placements (MIG user guide, `nvidia-smi mig -lgipp`) on 8 memory slices: 1g {0..6}:1,
  // 1g.20gb {0,2,4,6}:2, 2g {0,2,4}:2, 3g {0,4}:4, 4g {0}:4, 7g {0}:8; 7 compute slices.
  EXPECT_TRUE(valid("h100", std::vector<std::string>(7, "1g.10gb")));
  EXPECT_TRUE(valid("h100", {"3g.40gb", "2g.20gb", "2g.20gb"}));
  EXPECT_TRUE(valid("h100", {"4g.40gb", "3g.40gb"}));
  EXPECT_TRUE(valid("h100", {"3g.40gb", "3g.40gb"}));
  EXPECT_TRUE(valid("h100", {"2g.20gb", "2g.20gb", "2g.20gb", "1g.10gb"}));
  EXPECT_TRUE(valid("h100", {"1g.20gb", "1g.20gb", "1g.20gb", "1g.20gb"}));
  EXPECT_TRUE(valid("a100", {"4g.20gb", "2g.10gb", "1g.5gb"}));
  // 8 compute slices of 7.
  EXPECT_FALSE(valid("h100", std::vector<std::string>(8, "1g.10gb")));
  EXPECT_FALSE(valid("h100", {"4g.40gb", "4g.40gb"}));
  // 7 compute slices, but no room: two 3g take all 8 memory slices (0-3, 4-7); a 4g at 0-3
  // leaves 1g.20gb only the starts 4 and 6.
  EXPECT_FALSE(valid("h100", {"3g.40gb", "3g.40gb", "1g.10gb"}));
  EXPECT_FALSE(valid("h100", {"4g.40gb", "1g.20gb", "1g.20gb", "1g.20gb"}));
  EXPECT_FALSE(valid("a100", {"7g.40gb", "1g.5gb"}));
}

TEST(MigLayout, PlacementFollowsTheHardwareStarts) {
  // 3g+2g+2g: a 3g at 0 (slices 0-3) leaves the 2g only start 4, so the 3g goes to 4 (4-7)
  // and the 2g to 0 and 2, as nvidia-smi places them ("3g.40gb ... 4:4").
  const auto placed =
      place_mig_layout(gpu("h100").mig, layout(gpu("h100"), {"3g.40gb", "2g.20gb", "2g.20gb"}));
  ASSERT_TRUE(placed.has_value());
  EXPECT_EQ((*placed)[0].start, 4);
  EXPECT_EQ((*placed)[1].start, 0);
  EXPECT_EQ((*placed)[2].start, 2);
}

TEST(MigLayout, TheListedLayoutsAreMaximalAndValid) {
  const MigSpec& mig = gpu("h100").mig;
  const std::vector<std::string> all = maximal_mig_layouts(mig);
  auto listed = [&](const std::string& s) {
    return std::find(all.begin(), all.end(), s) != all.end();
  };
  EXPECT_TRUE(listed("7g.80gb"));
  EXPECT_TRUE(listed("4g.40gb+3g.40gb"));
  EXPECT_TRUE(listed("3g.40gb+3g.40gb"));
  EXPECT_TRUE(listed("3g.40gb+2g.20gb+2g.20gb"));
  EXPECT_TRUE(listed("1g.10gb+1g.10gb+1g.10gb+1g.10gb+1g.10gb+1g.10gb+1g.10gb"));
  EXPECT_FALSE(listed("3g.40gb+2g.20gb"));  // a 2g more fits
  for (const std::string& s : all) {
    std::vector<std::string> names;
    std::size_t from = 0;
    while (true) {
      const std::size_t plus = s.find('+', from);
      names.push_back(s.substr(from, plus == std::string::npos ? plus : plus - from));
      if (plus == std::string::npos) break;
      from = plus + 1;
    }
    EXPECT_TRUE(valid("h100", names)) << s;
    for (const MigProfile& p : mig.profiles) {  // nothing more fits
      names.push_back(p.name);
      EXPECT_FALSE(valid("h100", names)) << s << "+" << p.name;
      names.pop_back();
    }
  }
}

const std::string kH100 =
    "name: t\nseed: 7\nduration_s: 0.2\nhardware: {profile: roofline, gpu: h100}\n";

// ResNet-18 conv2_2 as seed 003's batched super-kernel of 120 problems: 256 x 128 x 1152.
KernelCall conv2_2_x120() {
  KernelCall c;
  c.m = 256;
  c.n = 128;
  c.k = 1152;
  c.count = 120;
  c.flops = 2.0 * 256 * 128 * 1152 * 120;
  c.bytes = 4.0 * (256 * 1152 + 1152 * 128 + 256 * 128) * 120;
  return c;
}

int tile_index(const KernelModelParams& p, int m, int n) {
  for (int i = 0; i < static_cast<int>(p.tiles.size()); ++i) {
    if (p.tiles[i].m == m && p.tiles[i].n == n) return i;
  }
  return -1;
}

TEST(Mig, AKernelOnA1gInstanceTakesTheWavesOfItsSms) {
  const Experiment x = experiment_from(
      kH100 +
      "policy: {name: mig, instances: [1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, "
      "1g.10gb], max_batch: 4}\n"
      "tenants:\n  - {model: resnet50_v1, mig_instance: 3, arrival: {process: closed, n: 1}}\n");
  const Placement placed = place_tenants(x, testing::registries().view());
  EXPECT_EQ(placed.gpu[0], 3u);
  // A 1g.10gb of an H100: 16 SMs (`nvidia-smi mig -lgip`) and 1 of 8 memory slices: 1/8 of
  // the memory (10 GiB of 80) and of the bandwidth.
  const kernels::GpuShare share = tenant_share(x, x.tenants[0], placed.gpu[0]);
  EXPECT_EQ(share.sms, 16);
  EXPECT_DOUBLE_EQ(share.bandwidth_fraction, 0.125);
  EXPECT_DOUBLE_EQ(device_specs(x)[3].memory_gib, 10.0);
  // The 64x64 SIMT tile holds 4 blocks per SM on Hopper (65536 registers / (128 threads x 121
  // registers) = 4.2). 960 blocks (4 x 2 tiles x 120 problems) take ceil(960 / (16 x 4)) = 15
  // waves on the 1g instance, ceil(960 / (132 x 4)) = 2 on the whole GPU.
  const KernelModelParams p = kernels::default_kernel_params(gpu("h100"));
  const int tile = tile_index(p, 64, 64);
  const KernelTime on_1g = kernels::gemm_time(conv2_2_x120(), p, tile, 1, share);
  const KernelTime whole = kernels::gemm_time(conv2_2_x120(), p, tile, 1);
  EXPECT_EQ(on_1g.blocks, 960);
  EXPECT_EQ(on_1g.blocks_per_sm, 4);
  EXPECT_EQ(on_1g.waves, 15);
  EXPECT_EQ(on_1g.sms_touched, 16);
  EXPECT_EQ(whole.waves, 2);
  // Each SM runs 60 blocks on the instance and ceil(960 / 132) = 8 on the whole GPU: the
  // compute term scales by 60 / 8.
  EXPECT_NEAR(on_1g.compute_ns / whole.compute_ns, 60.0 / 8.0, 1e-9);

  // The run times the tenant's kernels on that share: one request alone takes exactly its
  // program's batch of 1 on the instance, which is slower than on the whole GPU and never
  // occupies more than the instance's 16 SMs.
  const auto on_instance = kernel_program(x, x.tenants[0], 4, share);
  const auto on_gpu = kernel_program(x, x.tenants[0], 4);
  for (const auto& k : on_instance->batches[1].kernels) EXPECT_LE(k.sms, 16);
  EXPECT_GT(on_instance->batches[1].total(), on_gpu->batches[1].total());
  Experiment one = x;
  one.duration_s = 1e-6;  // the closed loop's first request only
  one.duration = 1000;
  testing::CollectingSink sink;
  const RunResult r = testing::run(one, &sink);
  ASSERT_EQ(sink.outcomes.size(), 1u);
  // The GPU's busy fraction weighs each instance by its SMs: one 1g busy throughout, six
  // idle, is 16 of the H100's 132 SMs.
  EXPECT_NEAR(r.gpu_busy, 16.0 / 132.0, 1e-12);
  Experiment lone = experiment_from(kH100 +
                                    "policy: {name: mig, instances: [1g.10gb], max_batch: 4}\n"
                                    "tenants:\n  - {model: resnet50_v1, arrival: {process: "
                                    "closed, n: 1}}\n");
  lone.duration_s = 1e-6;
  lone.duration = 1000;
  EXPECT_NEAR(testing::run(lone).gpu_busy, 16.0 / 132.0, 1e-12);  // a layout of one instance
  EXPECT_EQ(sink.outcomes[0].end - sink.outcomes[0].arrival, on_instance->batches[1].total());
}

// The requests of tenant 0 in a run: (arrival, start, end).
std::vector<std::array<SimTime, 3>> tenant0(const Experiment& x) {
  testing::CollectingSink sink;
  testing::run(x, &sink);
  std::vector<std::array<SimTime, 3>> out;
  for (const RequestOutcome& o : sink.outcomes) {
    if (o.tenant == 0) out.push_back({o.arrival, o.start, o.end});
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Mig, AnInstancesTenantsNeverSlowAnotherInstances) {
  // A steady ResNet-50 on the 3g instance; alone, then beside a DenseNet-121 and a
  // ResNeXt-50 that burst on the two 2g instances (far above what they can serve). A's
  // arrival stream is named by the tenant, so both runs see the same requests: under mig
  // every one of them must start and end at the same instant.
  const std::string steady =
      "  - {model: resnet50_v1, name: a, mig_instance: 0, "
      "arrival: {process: poisson, rate: 400}}\n";
  const std::string noisy =
      "  - {model: densenet121, name: b, mig_instance: 1, arrival: {process: gamma, rate: 4000, "
      "cv: 4}}\n"
      "  - {model: resnext50_32x4d, name: c, mig_instance: 2, arrival: {process: poisson, rate: "
      "3000}}\n";
  const std::string mig =
      "policy: {name: mig, instances: [3g.40gb, 2g.20gb, 2g.20gb], inner: "
      "mps, max_batch: 8}\n";
  const auto alone = tenant0(experiment_from(kH100 + mig + "tenants:\n" + steady));
  const auto beside = tenant0(experiment_from(kH100 + mig + "tenants:\n" + steady + noisy));
  ASSERT_GT(alone.size(), 50u);
  EXPECT_EQ(alone, beside);
  // The same tenants sharing the whole GPU under uncapped mps: the neighbours' kernels take
  // SMs A's kernels need, and A's requests finish later (the check above can fail).
  const std::string mps = "policy: {name: mps, granularity: kernel, max_batch: 8}\n";
  const std::string steady_mps =
      "  - {model: resnet50_v1, name: a, arrival: {process: poisson, "
      "rate: 400}}\n";
  std::string noisy_mps = noisy;
  for (const char* key : {"mig_instance: 1, ", "mig_instance: 2, "}) {
    noisy_mps.erase(noisy_mps.find(key), std::string(key).size());
  }
  const auto mps_alone = tenant0(experiment_from(kH100 + mps + "tenants:\n" + steady_mps));
  const auto mps_beside =
      tenant0(experiment_from(kH100 + mps + "tenants:\n" + steady_mps + noisy_mps));
  ASSERT_EQ(mps_alone.size(), mps_beside.size());
  SimTime late = 0;
  for (std::size_t i = 0; i < mps_alone.size(); ++i) {
    late += mps_beside[i][2] - mps_alone[i][2];
  }
  EXPECT_GT(late, 0);
}

TEST(MpsCap, ACappedClientsKernelTakesTheWavesOfItsCap) {
  const Experiment x = experiment_from(
      kH100 +
      "policy: {name: mps, granularity: kernel, max_batch: 4}\ntenants:\n"
      "  - {model: resnet50_v1, active_thread_percentage: 25, arrival: {process: closed, "
      "n: 1}}\n");
  // 25% of 132 SMs = 33 SMs (rounded up to a whole SM); the bandwidth is not partitioned.
  const kernels::GpuShare share = tenant_share(x, x.tenants[0], 0);
  EXPECT_EQ(share.sms, 33);
  EXPECT_DOUBLE_EQ(share.bandwidth_fraction, 1.0);
  // 960 blocks of the 64x64 tile on 33 SMs x 4 blocks: ceil(960 / 132) = 8 waves, against
  // ceil(960 / 528) = 2 uncapped; the busiest SM runs ceil(960 / 33) = 30 blocks (8 on 132).
  const KernelModelParams p = kernels::default_kernel_params(gpu("h100"));
  const KernelTime capped = kernels::gemm_time(conv2_2_x120(), p, tile_index(p, 64, 64), 1, share);
  EXPECT_EQ(capped.waves, 8);
  EXPECT_EQ(capped.sms_touched, 33);
  const KernelTime whole = kernels::gemm_time(conv2_2_x120(), p, tile_index(p, 64, 64), 1);
  EXPECT_NEAR(capped.compute_ns / whole.compute_ns, 30.0 / 8.0, 1e-9);
  // The client's kernels never occupy more than its 33 SMs.
  for (const auto& k : kernel_program(x, x.tenants[0], 4, share)->batches[4].kernels) {
    EXPECT_LE(k.sms, 33);
  }
  // Percentages round up: 100/3 % of 132 = 44 SMs exactly; 1% = 1.32 -> 2.
  TenantSpec t = x.tenants[0];
  t.active_thread_percentage = 100.0 / 3.0;
  EXPECT_EQ(tenant_share(x, t, 0).sms, 44);
  t.active_thread_percentage = 1;
  EXPECT_EQ(tenant_share(x, t, 0).sms, 2);
  // Under mig with inner mps a cap is a share of the instance: 12.5% of a 1g.10gb's 16 SMs
  // is exactly 2.
  const Experiment in_mig =
      experiment_from(kH100 + "policy: {name: mig, instances: [1g.10gb], inner: mps}\n" +
                      "tenants:\n  - {model: resnet50_v1, active_thread_percentage: 12.5, "
                      "arrival: {process: poisson, rate: 10}}\n");
  const kernels::GpuShare s = tenant_share(in_mig, in_mig.tenants[0], 0);
  EXPECT_EQ(s.sms, 2);
  EXPECT_DOUBLE_EQ(s.bandwidth_fraction, 0.125);
}

TEST(MpsCap, ClientsCappedToHalvesRunAsIfAlone) {
  // Two closed-loop clients (one request outstanding each), each capped at 50%: 66 + 66 SMs
  // fit the 132, so no kernel ever waits for SMs and every batch of 1 takes exactly the
  // client's program on 66 SMs. Uncapped, their kernels contend and the mean is longer.
  const std::string tenants =
      "tenants:\n"
      "  - {model: resnet50_v1, name: a, active_thread_percentage: 50, arrival: {process: closed, "
      "n: 1}}\n"
      "  - {model: densenet121, name: b, active_thread_percentage: 50, arrival: {process: "
      "closed, n: 1}}\n";
  const std::string policy = "policy: {name: mps, granularity: kernel, max_batch: 1}\n";
  const Experiment x = experiment_from(kH100 + policy + tenants);
  testing::CollectingSink sink;
  testing::run(x, &sink);
  for (std::uint32_t t = 0; t < 2; ++t) {
    const auto prog = kernel_program(x, x.tenants[t], 1, tenant_share(x, x.tenants[t], 0));
    int n = 0;
    for (const RequestOutcome& o : sink.outcomes) {
      if (o.tenant != t) continue;
      EXPECT_EQ(o.end - o.start, prog->batches[1].total());
      ++n;
    }
    EXPECT_GT(n, 50);  // DenseNet-121 takes 2.8 ms alone on the whole H100: ~70 in 0.2 s
  }
}

// Placement on MIG instances searches each instance slot's devices in load order instead
// of trying every instance of every GPU; it must pick what trying every one picks: among
// the instances a tenant may use (its gpu: and mig_instance:, the inner policy's tenant
// limit, memory), least load per SM after adding it, then fewest tenants, then lowest
// index. Written out here by brute force, with memory from memory_demand(), over random
// layouts, pins and loads drawn from a few values (so loads tie, and sums that differ
// below a rounding step tie after it).
TEST(Mig, PlacementEqualsTryingEveryInstance) {
  const std::vector<std::string> layouts = {"[3g.40gb, 2g.20gb, 2g.20gb]",
                                            "[4g.40gb, 2g.20gb, 1g.10gb]",
                                            "[1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, "
                                            "1g.10gb, 1g.10gb]",
                                            "[7g.80gb]"};
  const char* models[] = {"resnet18_v1", "resnet152_v1", "densenet121"};
  const double loads[] = {0.1, 0.2, 0.3, 0.1 + 1e-17, 1e-18, 0.0};
  std::mt19937_64 pick(29);
  int placed = 0, pinned = 0;
  for (int scenario = 0; scenario < 60; ++scenario) {
    const int gpus = 1 + static_cast<int>(pick() % 8);
    const std::string inner = pick() % 3 == 0 ? "exclusive" : "mps";
    std::string yaml =
        "name: t\nseed: 7\nduration_s: 0.2\nhardware: {profile: roofline, gpu: "
        "h100, count: " +
        std::to_string(gpus) +
        "}\npolicy: {name: mig, instances: " + layouts[pick() % layouts.size()] +
        ", inner: " + inner + "}\ntenants:\n";
    const int n = 1 + static_cast<int>(pick() % 60);
    for (int i = 0; i < n; ++i) {
      std::string pin;
      if (pick() % 6 == 0) pin = ", gpu: " + std::to_string(pick() % gpus);
      if (pin.empty() && pick() % 6 == 0) pin = ", mig_instance: 0";
      pinned += !pin.empty();
      yaml += "  - {model: " + std::string(models[pick() % 3]) + pin +
              ", arrival: {process: poisson, rate: 1}}\n";
    }
    Experiment x;
    try {
      x = experiment_from(yaml);
    } catch (const InputError&) {
      continue;
    }
    std::vector<double> load_of(x.tenants.size());
    for (double& l : load_of) l = loads[pick() % std::size(loads)];
    const Registries& reg = testing::registries().view();
    Placement p;
    try {
      p = place_tenants(x, reg, load_of);
    } catch (const InputError&) {
      continue;  // too many for the instances: the same error either way
    }
    const PolicyInfo& policy = reg.policies.get(x.policy, x.policy_mark);
    const PolicyNeeds needs = policy.needs(x.policy_params);
    MemorySettings ms;
    ms.context_mib = needs.context_mib;
    ms.activation_factor = x.activation_factor;
    ms.max_batch = needs.max_batch;
    const int per = static_cast<int>(x.mig_instances.size());
    const int devices = gpus * per;
    std::vector<std::size_t> order(x.tenants.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return load_of[a] > load_of[b]; });
    std::vector<std::vector<const ModelProfile*>> on(static_cast<std::size_t>(devices));
    std::vector<double> load(static_cast<std::size_t>(devices), 0.0);
    for (std::size_t i : order) {
      const TenantSpec& t = x.tenants[i];
      int best = -1;
      double best_after = 0;
      for (int d = 0; d < devices; ++d) {
        const GpuInstance& in = x.mig_instances[static_cast<std::size_t>(d % per)];
        if ((t.gpu >= 0 && d / per != t.gpu) || (t.mig_instance >= 0 && d % per != t.mig_instance))
          continue;
        auto with = on[d];
        with.push_back(t.profile.get());
        if ((needs.max_tenants_per_gpu > 0 &&
             static_cast<int>(with.size()) > needs.max_tenants_per_gpu) ||
            memory_demand(with, policy.processes, ms).total() > in.memory_gib * 1024.0)
          continue;
        const double after = (load[d] + load_of[i]) / in.sms;
        if (best < 0 || after < best_after ||
            (after == best_after && on[d].size() < on[best].size())) {
          best = d;
          best_after = after;
        }
      }
      ASSERT_GE(best, 0) << yaml;
      ASSERT_EQ(p.gpu[i], static_cast<std::uint32_t>(best)) << "tenant " << i << "\n" << yaml;
      on[best].push_back(t.profile.get());
      load[best] += load_of[i];
      ++placed;
    }
  }
  EXPECT_GT(placed, 800);  // enough scenarios placed, not all refused
  EXPECT_GT(pinned, 100);
}

// 7,000 tenants on 1,000 H100s of seven 1g.10gb instances each (7,000 instances) under
// inner mps, memory ample: each tenant tries the least-loaded instance of each of the seven
// slots (equal loads, so the next run of loads is higher and ends the slot's search): 7 fit
// tests per tenant, 49,000, where trying every instance made 7,000 x 7,000 = 49,000,000.
TEST(Mig, PlacementMakesOneFitTestPerSlotPerTenant) {
  Experiment x = experiment_from(
      "name: t\nseed: 7\nduration_s: 0.1\nhardware: {profile: roofline, gpu: h100, count: "
      "1000}\npolicy: {name: mig, instances: [1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, "
      "1g.10gb, 1g.10gb], inner: mps}\ntenants:\n  - {model: resnet18_v1, replicas: 7000, "
      "arrival: {process: poisson, rate: 1}}\n");
  const Placement p = place_tenants(x, testing::registries().view());
  EXPECT_EQ(p.fit_checks, 49'000u);
  std::vector<int> per_instance(7000, 0);
  for (std::uint32_t d : p.gpu) ++per_instance[d];
  EXPECT_EQ(*std::max_element(per_instance.begin(), per_instance.end()), 1);  // one each
}

TEST(Mig, InputErrors) {
  auto error_of = [](const std::string& yaml) {
    try {
      place_tenants(experiment_from(yaml), testing::registries().view());
    } catch (const InputError& e) {
      return format_mark(e.mark()) + ": " + e.what();
    }
    return std::string("no error");
  };
  const std::string tenant =
      "tenants:\n  - {model: resnet50_v1, arrival: {process: poisson, rate: 10}}\n";
  // A layout with 8 compute slices: the error names the value and lists valid layouts.
  std::string e = error_of(kH100 + "policy: {name: mig, instances: [4g.40gb, 4g.40gb]}\n" + tenant);
  EXPECT_NE(e.find("test.yaml:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("MIG layout 4g.40gb+4g.40gb is not valid"), std::string::npos) << e;
  EXPECT_NE(e.find("4g.40gb+3g.40gb"), std::string::npos) << e;
  e = error_of(kH100 + "policy: {name: mig, instances: [5g.50gb]}\n" + tenant);
  EXPECT_NE(e.find("unknown MIG profile '5g.50gb'"), std::string::npos) << e;
  // A V100 has no MIG.
  e = error_of(
      "name: t\nduration_s: 1\nhardware: {profile: roofline, gpu: v100}\n"
      "policy: {name: mig, instances: [1g.5gb]}\n" +
      tenant);
  EXPECT_NE(e.find("needs a MIG-capable GPU"), std::string::npos) << e;
  // A setting of another inner policy.
  e = error_of(kH100 + "policy: {name: mig, instances: [7g.80gb], quantum_ms: 2}\n" + tenant);
  EXPECT_NE(e.find("not of inner: exclusive"), std::string::npos) << e;
  // An instance out of range; an instance on a policy that does not partition.
  e = error_of(kH100 + "policy: {name: mig, instances: [7g.80gb]}\n" +
               "tenants:\n  - {model: resnet50_v1, mig_instance: 1, arrival: {process: poisson, "
               "rate: 10}}\n");
  EXPECT_NE(e.find("expected 'mig_instance' between 0 and 0"), std::string::npos) << e;
  e = error_of(kH100 + "policy: {name: mps}\n" +
               "tenants:\n  - {model: resnet50_v1, mig_instance: 0, arrival: {process: poisson, "
               "rate: 10}}\n");
  EXPECT_NE(e.find("does not partition"), std::string::npos) << e;
  // Weights loaded on demand are modelled per whole GPU, not per instance.
  e = error_of(
      "name: t\nseed: 7\nduration_s: 0.2\n"
      "hardware: {profile: roofline, gpu: h100, weights: on_demand}\n"
      "policy: {name: mig, instances: [7g.80gb]}\n" +
      tenant);
  EXPECT_NE(e.find("test.yaml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("'weights: on_demand' is not modelled under policy 'mig'"), std::string::npos)
      << e;
  // A single name is a one-instance layout; an empty list is no layout.
  EXPECT_EQ(experiment_from(kH100 + "policy: {name: mig, instances: 7g.80gb}\n" + tenant)
                .mig_instances.size(),
            1u);
  e = error_of(kH100 + "policy: {name: mig, instances: []}\n" + tenant);
  EXPECT_NE(e.find("expected a non-empty list of names for 'instances'"), std::string::npos) << e;
  // active_thread_percentage: 1..100, and only where honoured (mps at kernel granularity).
  for (const char* bad : {"0", "100.5", "-3"}) {
    e = error_of(kH100 + "policy: {name: mps, granularity: kernel}\n" +
                 "tenants:\n  - {model: resnet50_v1, active_thread_percentage: " + bad +
                 ", arrival: {process: poisson, rate: 10}}\n");
    EXPECT_NE(e.find("test.yaml:7:"), std::string::npos) << e;
    EXPECT_NE(e.find("between 1 and 100"), std::string::npos) << e;
  }
  e = error_of(kH100 + "policy: {name: mps}\n" +
               "tenants:\n  - {model: resnet50_v1, active_thread_percentage: 50, arrival: "
               "{process: poisson, rate: 10}}\n");
  EXPECT_NE(e.find("does not honour it"), std::string::npos) << e;
  // 100 (every SM) is accepted anywhere: a sweep may write it on every row.
  EXPECT_EQ(error_of(kH100 + "policy: {name: mps}\n" +
                     "tenants:\n  - {model: resnet50_v1, active_thread_percentage: 100, "
                     "arrival: {process: poisson, rate: 10}}\n"),
            "no error");
  // inner: exclusive holds one tenant per instance.
  e = error_of(kH100 + "policy: {name: mig, instances: [4g.40gb, 3g.40gb]}\n" +
               "tenants:\n  - {model: resnet50_v1, replicas: 3, arrival: {process: poisson, "
               "rate: 10}}\n");
  EXPECT_NE(e.find("policy 'mig' allows 1 tenant(s) per instance, but tenant 'resnet50_v1/2' "
                   "would be number 2"),
            std::string::npos)
      << e;
  // Each instance's memory on its own: 8 ResNet-50 processes under inner mps need more than
  // a 1g.10gb's 10 GiB (weights 102 MiB + context 500 MiB + activations each).
  e = error_of(kH100 + "policy: {name: mig, instances: [1g.10gb], inner: mps}\n" +
               "tenants:\n  - {model: resnet50_v1, replicas: 20, arrival: {process: poisson, "
               "rate: 10}}\n");
  EXPECT_NE(e.find("does not fit in the memory of instance 0 (1g.10gb) of GPU 0"),
            std::string::npos)
      << e;
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

// experiments/partitioning.yaml at one load (200 req/s per tenant), shortened, under
// `policy` (a --set value) and a cap on every client: each steady tenant's p99 beside the
// neighbours over its p99 alone on the same trace (output.isolation), worst of them.
double steady_isolation(const std::string& policy, double cap = 100) {
  std::ifstream in(std::string(INFERSIM_SOURCE_DIR) + "/experiments/partitioning.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> sets = {"duration_s=3", "warmup_s=0.5", "policy=" + policy};
  for (int t = 0; t < 4; ++t) {
    sets.push_back(fmt::format("tenants.{}.arrival.rate=200", t));
    sets.push_back(fmt::format("tenants.{}.active_thread_percentage={}", t, cap));
  }
  const Experiment x = experiment_from(text.str(), sets);
  EXPECT_TRUE(x.isolation);
  const RunResult r = testing::run(x);
  double worst = 0;
  for (std::size_t t = 0; t < x.tenants.size(); ++t) {
    if (x.tenants[t].name == "burst") continue;
    EXPECT_GT(r.tenants[t].completed, 300u);
    worst = std::max(worst, r.tenants[t].p99_ms / r.p99_alone_ms[t]);
  }
  return worst;
}

TEST(Partitioning, MigIsolatesTheSteadyTenantsUncappedMpsDoesNot) {
  // Under mig every steady tenant's p99 next to the bursting ResNeXt-50 equals its p99 alone
  // on its instance: the isolation metric is exactly 1 (no sampling noise: the instance runs
  // the very same requests the same way). So is it with every MPS client capped at a 1g
  // instance's 16 SMs (caps summing to at most the GPU: no kernel ever waits for SMs).
  EXPECT_EQ(steady_isolation("{name: mig, instances: [1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, "
                             "1g.10gb, 1g.10gb, 1g.10gb], max_batch: 8}"),
            1.0);
  EXPECT_EQ(steady_isolation("{name: mps, granularity: kernel, max_batch: 8}", 12.12), 1.0);
  // Uncapped mps lets the burst's kernels take the SMs the steady tenants' kernels wait for:
  // their p99 is several times their p99 alone (13x in the README's table at this load).
  EXPECT_GT(steady_isolation("{name: mps, granularity: kernel, max_batch: 8}"), 3.0);
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

std::vector<std::array<SimTime, 4>> outcomes(const Experiment& x) {
  testing::CollectingSink sink;
  testing::run(x, &sink);
  std::vector<std::array<SimTime, 4>> out;
  for (const RequestOutcome& o : sink.outcomes)
    out.push_back({o.tenant, o.arrival, o.start, o.end});
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Mig, OneInstanceOfTheWholeH100RunsItsInnerPolicyUnchanged) {
  // An H100's 7g.80gb has all 132 SMs, 8 of 8 memory slices (all the bandwidth) and 80 GB:
  // the instance is the GPU, so mig with one 7g.80gb and inner X gives every request the
  // same start and end as X at kernel granularity on the whole GPU, settings included.
  const std::string tenants =
      "tenants:\n"
      "  - {model: resnet50_v1, name: a, arrival: {process: poisson, rate: 300}}\n"
      "  - {model: densenet121, name: b, arrival: {process: poisson, rate: 100}}\n"
      "  - {model: resnext50_32x4d, name: c, arrival: {process: gamma, rate: 200, cv: 4}}\n";
  const std::string one =
      "tenants:\n  - {model: resnet50_v1, name: a, arrival: {process: "
      "poisson, rate: 300}}\n";
  struct Case {
    std::string inner, settings, tenants;
  };
  for (const Case& c :
       {Case{"exclusive", "", one}, Case{"time_sliced", ", quantum_ms: 0.5", tenants},
        Case{"mps", ", interference: 0.05", tenants}}) {
    const auto mig =
        outcomes(experiment_from(kH100 +
                                 "policy: {name: mig, instances: [7g.80gb], "
                                 "inner: " +
                                 c.inner + ", max_batch: 4" + c.settings + "}\n" + c.tenants));
    const auto whole = outcomes(experiment_from(kH100 + "policy: {name: " + c.inner +
                                                ", granularity: kernel, max_batch: 4" + c.settings +
                                                "}\n" + c.tenants));
    EXPECT_GT(mig.size(), 50u) << c.inner;
    EXPECT_EQ(mig, whole) << c.inner;
  }
}

TEST(MpsCap, ACalibratedProfileKeepsTheWholeGpusCalibrationOnACap) {
  // On a measured profile (the Clockwork V100 table) a batch on the whole GPU takes exactly
  // the measured L(b); capped at 50% (40 of 80 SMs) it takes L(b) x (modelled on 40 SMs /
  // modelled on 80), the kernels keeping the whole GPU's calibration factor.
  const Experiment x = experiment_from(
      testing::v100_header(1) +
      "policy: {name: mps, granularity: kernel, max_batch: 4}\ntenants:\n"
      "  - {model: resnet50_v1, active_thread_percentage: 50, arrival: {process: poisson, "
      "rate: 10}}\n");
  const kernels::GpuShare cap = tenant_share(x, x.tenants[0], 0);
  ASSERT_EQ(cap.sms, 40);
  const auto whole = kernel_program(x, x.tenants[0], 4);
  const auto capped = kernel_program(x, x.tenants[0], 4, cap);
  const KernelModelParams& p = whole->params;
  for (int b = 1; b <= 4; ++b) {
    EXPECT_EQ(whole->batches[b].total(), ms_to_ns(x.tenants[0].profile->latency_ms_at(b)));
    SimTime on_cap = 0, on_gpu = 0;
    for (const KernelCall& c : whole->calls[b]) {
      on_cap += kernels::kernel_time(c, p, cap).ns;
      on_gpu += kernels::kernel_time(c, p).ns;
    }
    const double expected = static_cast<double>(whole->batches[b].total()) * on_cap / on_gpu;
    EXPECT_EQ(capped->batches[b].total(), std::llround(expected)) << b;
    EXPECT_GT(capped->batches[b].total(), whole->batches[b].total()) << b;
  }
}

}  // namespace
}  // namespace infersim

namespace infersim {
namespace {

TEST(Mig, RandomLayoutsIsolateEveryInstance) {
  // Random valid layouts (maximal ones, on each MIG GPU) with one random tenant per instance:
  // every request completes once, and a random tenant's requests start and end exactly as
  // when it runs alone on its instance.
  std::mt19937_64 rng(20261125);
  const std::vector<std::string> models = {"resnet50_v1", "densenet121", "resnext50_32x4d",
                                           "googlenet"};
  for (const char* g : {"a100", "a100_80gb", "h100", "h200"}) {
    const std::vector<std::string> layouts = maximal_mig_layouts(gpu(g).mig);
    ASSERT_FALSE(layouts.empty());
    for (int trial = 0; trial < 2; ++trial) {
      std::string layout = layouts[rng() % layouts.size()];
      std::string list;
      int instances = 1;
      for (char c : layout) {
        if (c == '+') ++instances;
        list += c == '+' ? std::string(", ") : std::string(1, c);
      }
      std::string yaml = fmt::format(
          "name: t\nseed: {}\nduration_s: 0.3\nhardware: {{profile: roofline, gpu: {}}}\n"
          "policy: {{name: mig, instances: [{}], max_batch: 4}}\ntenants:\n",
          rng() % 1000, g, list);
      for (int i = 0; i < instances; ++i) {
        yaml += fmt::format(
            "  - {{model: {}, name: t{}, mig_instance: {}, arrival: {{process: "
            "poisson, rate: {}}}}}\n",
            models[rng() % models.size()], i, i, 50 + rng() % 400);
      }
      const Experiment x = experiment_from(yaml);
      testing::CollectingSink sink;
      const RunResult r = testing::run(x, &sink);
      std::uint64_t arrived = 0;
      for (const auto& t : r.tenants) arrived += t.requests;
      EXPECT_EQ(sink.outcomes.size(), arrived) << layout;
      // Tenant k alone on its instance: it becomes tenant 0 of a one-tenant experiment.
      const int k = static_cast<int>(rng() % instances);
      std::vector<std::array<SimTime, 3>> beside, alone;
      for (const RequestOutcome& o : sink.outcomes) {
        if (o.tenant == static_cast<std::uint32_t>(k))
          beside.push_back({o.arrival, o.start, o.end});
      }
      // Its service and entry too (its arrival stream is named by its service), as
      // simulate's isolation runs make it.
      const Experiment solo = tenant_alone(x, static_cast<std::uint32_t>(k), k);
      EXPECT_EQ(solo.tenants[0].mig_instance, k);
      testing::CollectingSink solo_sink;
      testing::run(solo, &solo_sink);
      for (const RequestOutcome& o : solo_sink.outcomes)
        alone.push_back({o.arrival, o.start, o.end});
      std::sort(beside.begin(), beside.end());
      std::sort(alone.begin(), alone.end());
      EXPECT_FALSE(alone.empty()) << layout;
      EXPECT_EQ(beside, alone) << g << " " << layout << " tenant " << k;
    }
  }
}

}  // namespace
}  // namespace infersim
