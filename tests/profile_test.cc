// Hardware profile and GPU spec loading, L(b) interpolation and solo utilization.
#include "sim/gpu/profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sim/config/hardware_files.h"
#include "sim/core/error.h"

namespace infersim {
namespace {

const std::string kSourceDir = INFERSIM_SOURCE_DIR;
const std::string kClockwork = kSourceDir + "/hardware_profiles/v100_clockwork.yaml";
const std::string kGpus = kSourceDir + "/hardware_profiles/gpus.yaml";

// Rows of the Clockwork table in seed 000 (two pages: 39 + 25).
constexpr std::size_t kClockworkRows = 64;

const Profile& clockwork() {
  static const Profile p = load_profile(kClockwork);
  return p;
}

const ModelProfile& resnet50() {
  const ModelProfile* m = clockwork().find("resnet50_v1");
  if (!m) throw std::runtime_error("resnet50_v1 missing");
  return *m;
}

// Writes `text` to a fresh temporary file and removes it when done.
class TempYaml {
 public:
  explicit TempYaml(const std::string& text) {
    static int counter = 0;
    path_ = (std::filesystem::path(::testing::TempDir()) /
             ("infersim_profile_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter++) + ".yaml"))
                .string();
    std::ofstream(path_) << text;
  }
  ~TempYaml() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Loads `text` with `load` and expects an InputError whose message names path:line: and
// contains `needle`.
template <typename Load>
void expect_error_at(const std::string& text, int line, const std::string& needle, Load load) {
  TempYaml f(text);
  try {
    load(f.path());
    FAIL() << "expected InputError for:\n" << text;
  } catch (const InputError& e) {
    std::string msg = e.what();
    std::string where = f.path() + ":" + std::to_string(line) + ":";
    EXPECT_NE(msg.find(where), std::string::npos) << "message: " << msg << "\nexpected: " << where;
    EXPECT_NE(msg.find(needle), std::string::npos)
        << "message: " << msg << "\nexpected: " << needle;
    EXPECT_EQ(e.mark().line, line) << msg;
  }
}

void expect_profile_error(const std::string& text, int line, const std::string& needle) {
  expect_error_at(text, line, needle, [](const std::string& p) { load_profile(p); });
}

void expect_gpus_error(const std::string& text, int line, const std::string& needle) {
  expect_error_at(text, line, needle, [](const std::string& p) { load_gpus(p); });
}

// A valid one-model profile; line numbers are referred to in the error tests.
const char* kGood =
    "gpu: v100\n"                                  // 1
    "models:\n"                                    // 2
    "  m1:\n"                                      // 3
    "    family: Test\n"                           // 4
    "    input_kb: 602\n"                          // 5
    "    output_kb: 4\n"                           // 6
    "    weights_mb: 10\n"                         // 7
    "    transfer_ms: 1\n"                         // 8
    "    latency_ms: {1: 1.0, 2: 1.5, 4: 2.5}\n";  // 9

// Model m1 up to its `latency_ms:` key (line 8), for tests that write the latencies.
const char* kModelUpToLatencies =
    "gpu: v100\n"
    "models:\n"
    "  m1:\n"
    "    input_kb: 602\n"
    "    output_kb: 4\n"
    "    weights_mb: 10\n"
    "    transfer_ms: 1\n"
    "    latency_ms:\n";  // 8

// GPU g with its required keys (lines 1-8), for tests of what follows: its kernel_model.
const char* kGpuBeforeKernelModel =
    "gpus:\n  g:\n"  // 1-2
    "    memory_gib: 16\n    fp32_tflops: 15.7\n    fp16_tflops: 125\n"
    "    memory_bandwidth_gbs: 900\n    sm_count: 80\n    pcie_gbs: 16\n";  // 3-8

// ---------------------------------------------------------------- the real profile

TEST(Profile, ClockworkHasEveryRowOfTheSeedTable) {
  const Profile& p = clockwork();
  EXPECT_EQ(p.path, kClockwork);
  EXPECT_EQ(p.gpu, "v100");
  ASSERT_EQ(p.models.size(), kClockworkRows);
  std::set<std::string> names;
  for (const auto& m : p.models) {
    names.insert(m.name);
    EXPECT_FALSE(m.family.empty()) << m.name;
    EXPECT_EQ(m.batch_sizes, (std::vector<int>{1, 2, 4, 8, 16})) << m.name;
    EXPECT_GT(m.weights_mb, 0) << m.name;
    EXPECT_GT(m.transfer_ms, 0) << m.name;
    EXPECT_EQ(m.mark.file, kClockwork);
    EXPECT_GT(m.mark.line, 0);
  }
  EXPECT_EQ(names.size(), kClockworkRows);
  // First and last rows of the table, in file order.
  EXPECT_EQ(p.models.front().name, "densenet121");
  EXPECT_EQ(p.models.back().name, "winograd_resnet152_v2");
  EXPECT_EQ(p.find("no_such_model"), nullptr);
}

TEST(Profile, ClockworkResnet50Row) {
  const ModelProfile& m = resnet50();
  EXPECT_EQ(m.family, "ResNet");
  EXPECT_DOUBLE_EQ(m.input_kb, 602);
  EXPECT_DOUBLE_EQ(m.output_kb, 4);
  EXPECT_DOUBLE_EQ(m.weights_mb, 102.3);
  EXPECT_DOUBLE_EQ(m.transfer_ms, 8.33);
  EXPECT_EQ(m.latency_ms, (std::vector<double>{2.61, 3.78, 5.61, 9.13, 15.67}));
  EXPECT_DOUBLE_EQ(m.latency_ms_at(1), 2.61);
  EXPECT_DOUBLE_EQ(m.latency_ms_at(16), 15.67);
  EXPECT_GT(m.gflop, 0);
}

TEST(Profile, ClockworkQuirks) {
  const Profile& p = clockwork();
  // Printed under "Wide ResNet" / "Winograd + ResNet v2" in the table; fixed in the file.
  EXPECT_EQ(p.find("tsn_resnet152_v1b_kinetics400")->family, "TSN");
  EXPECT_EQ(p.find("cifar_wideresnet40_8")->family, "Wide ResNet");
  EXPECT_EQ(p.find("cifar_wideresnet16_10")->family, "Wide ResNet");
  EXPECT_EQ(p.find("winograd_resnet18_v2")->family, "Winograd + ResNet v2");
  EXPECT_EQ(p.find("mobile_pose_resnet50_v1")->family, "Mobile Pose + MobileNet");
  EXPECT_DOUBLE_EQ(p.find("resnet50_v2")->latency_ms.back(), 17.3);
  EXPECT_DOUBLE_EQ(p.find("tsn_inceptionv1_kinetics400")->output_kb, 1.6);
  EXPECT_DOUBLE_EQ(p.find("cifar_wideresnet28_10")->output_kb, 0.04);
}

TEST(Profile, ClockworkGflopWhereSourced) {
  const Profile& p = clockwork();
  EXPECT_DOUBLE_EQ(p.find("resnet50_v1")->gflop, 7.6);    // He et al.: 3.8e9 MACs x 2
  EXPECT_DOUBLE_EQ(p.find("resnet50_v1b")->gflop, 8.18);  // seed 004: 71.34e12 / 8722.50
  EXPECT_DOUBLE_EQ(p.find("densenet121")->gflop, 5.67);
  EXPECT_DOUBLE_EQ(p.find("xception")->gflop, 0);  // unknown
  EXPECT_DOUBLE_EQ(p.find("winograd_resnet50_v2")->gflop, 0);
}

TEST(Profile, ClockworkLatenciesMonotoneAndUtilizationInRange) {
  for (const auto& m : clockwork().models) {
    double prev = 0;
    for (double b = 0.25; b <= 64; b += 0.25) {
      double l = m.latency_ms_at(b);
      EXPECT_GT(l, 0) << m.name << " b=" << b;
      EXPECT_GE(l, prev) << m.name << " b=" << b;
      prev = l;
      double u = m.solo_utilization(b);
      EXPECT_GT(u, 0) << m.name << " b=" << b;
      EXPECT_LE(u, 1) << m.name << " b=" << b;
    }
  }
}

// ---------------------------------------------------------------- L(b)

TEST(Profile, InterpolatesBetweenProfiledSizes) {
  const ModelProfile& m = resnet50();
  // b = 3 lies halfway between the profiled sizes 2 and 4, so
  // L(3) = L(2) + (3-2)/(4-2) * (L(4) - L(2)) = (L(2) + L(4)) / 2 = (3.78 + 5.61) / 2.
  EXPECT_DOUBLE_EQ(m.latency_ms_at(3), (3.78 + 5.61) / 2);
  // b = 12 is halfway between 8 and 16: (9.13 + 15.67) / 2 = 12.40, strictly inside.
  double l12 = m.latency_ms_at(12);
  EXPECT_GT(l12, 9.13);
  EXPECT_LT(l12, 15.67);
  EXPECT_NEAR(l12, (9.13 + 15.67) / 2, 1e-12);
  // Every profiled size returns its profiled value.
  for (std::size_t i = 0; i < m.batch_sizes.size(); ++i) {
    EXPECT_DOUBLE_EQ(m.latency_ms_at(m.batch_sizes[i]), m.latency_ms[i]);
  }
}

TEST(Profile, ExtrapolatesAboveLargestFromLastTwo) {
  const ModelProfile& m = resnet50();
  // Slope of the last segment: (L(16) - L(8)) / (16 - 8) = (15.67 - 9.13) / 8 ms per item;
  // 32 is 16 items beyond 16, so L(32) = 15.67 + 16 * (15.67 - 9.13) / 8 = 28.75.
  EXPECT_NEAR(m.latency_ms_at(32), 15.67 + 16 * (15.67 - 9.13) / 8, 1e-12);
  EXPECT_GT(m.latency_ms_at(17), 15.67);
}

TEST(Profile, BelowSmallestStaysPositiveAndMonotone) {
  const ModelProfile& m = resnet50();
  // Linear from the first two points: slope 1.17 ms/item, intercept 2.61 - 1.17 = 1.44 > 0.
  EXPECT_NEAR(m.latency_ms_at(0.5), 2.61 - 0.5 * (3.78 - 2.61), 1e-12);
  // A profile whose first segment has a negative intercept falls back to the
  // proportional line L(b1) * b / b1 below b1.
  ModelProfile steep;
  steep.name = "steep";
  steep.batch_sizes = {2, 4};
  steep.latency_ms = {1.0, 4.0};  // linear intercept at b=0 would be -2
  EXPECT_DOUBLE_EQ(steep.latency_ms_at(1), 0.5);
  EXPECT_GT(steep.latency_ms_at(0.01), 0);
  EXPECT_THROW(steep.latency_ms_at(0), std::invalid_argument);
  EXPECT_THROW(steep.latency_ms_at(-1), std::invalid_argument);
  EXPECT_THROW(steep.latency_ms_at(std::nan("")), std::invalid_argument);
}

// ---------------------------------------------------------------- u(b)

TEST(Profile, SoloUtilization) {
  const ModelProfile& m = resnet50();
  // Throughputs k / L(k): 1/2.61 = 0.383, 2/3.78 = 0.529, 4/5.61 = 0.713, 8/9.13 = 0.876,
  // 16/15.67 = 1.021 (the peak), so u(1) = (1/2.61) / (16/15.67) = 0.375 (DESIGN: ~0.37).
  EXPECT_NEAR(m.solo_utilization(1), (1 / 2.61) / (16 / 15.67), 1e-12);
  EXPECT_NEAR(m.solo_utilization(1), 0.375, 0.001);
  EXPECT_DOUBLE_EQ(m.solo_utilization(16), 1.0);
  EXPECT_NEAR(m.solo_utilization(8), (8 / 9.13) / (16 / 15.67), 1e-12);
  // Extrapolated sizes above the peak are clamped to 1.
  EXPECT_DOUBLE_EQ(m.solo_utilization(32), 1.0);
}

// ---------------------------------------------------------------- printing

TEST(Profile, PrintModelsOneLineEach) {
  std::ostringstream out;
  print_models(clockwork(), out);
  std::string text = out.str();
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, kClockworkRows + 1);  // header + one model a line
  std::istringstream in(text);
  std::string header, line;
  std::getline(in, header);
  EXPECT_NE(header.find("model"), std::string::npos);
  EXPECT_NE(header.find("GFLOP"), std::string::npos);
  bool found = false;
  while (std::getline(in, line)) {
    EXPECT_EQ(line.size(), header.size()) << "not aligned: " << line;
    if (line.rfind("resnet50_v1 ", 0) == 0) {
      found = true;
      EXPECT_NE(line.find("102.3"), std::string::npos) << line;
      EXPECT_NE(line.find("15.67"), std::string::npos) << line;
      EXPECT_NE(line.find("0.38"), std::string::npos) << line;
      EXPECT_NE(line.find("7.60"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(found);
}

// ---------------------------------------------------------------- profile errors

TEST(ProfileErrors, GoodSnippetLoads) {
  TempYaml f(kGood);
  Profile p = load_profile(f.path());
  ASSERT_EQ(p.models.size(), 1u);
  EXPECT_EQ(p.models[0].name, "m1");
  EXPECT_EQ(p.models[0].mark.line, 3);
  EXPECT_DOUBLE_EQ(p.models[0].gflop, 0);
  EXPECT_DOUBLE_EQ(p.models[0].latency_ms_at(3), 2.0);
}

TEST(ProfileErrors, UnknownModelKey) {
  expect_profile_error(std::string(kGood) + "    latency_us: 3\n", 10, "unknown key 'latency_us'");
}

TEST(ProfileErrors, UnknownTopLevelKey) {
  expect_profile_error("gpu: v100\nmodel: {}\n", 2, "unknown key 'model'");
}

TEST(ProfileErrors, MissingLatency) {
  expect_profile_error(
      "gpu: v100\n"
      "models:\n"
      "  m1:\n"
      "    input_kb: 602\n"
      "    output_kb: 4\n"
      "    weights_mb: 10\n"
      "    transfer_ms: 1\n"
      "  m2:\n"
      "    input_kb: 602\n"
      "    output_kb: 4\n"
      "    weights_mb: 10\n"
      "    transfer_ms: 1\n"
      "    latency_ms: {1: 1.0, 2: 1.5}\n",
      3, "missing key 'latency_ms' in model 'm1'");
}

TEST(ProfileErrors, NegativeLatency) {
  expect_profile_error(
      "gpu: v100\n"
      "models:\n"
      "  m1:\n"
      "    input_kb: 602\n"
      "    output_kb: 4\n"
      "    weights_mb: 10\n"
      "    transfer_ms: 1\n"
      "    latency_ms:\n"
      "      1: 1.0\n"
      "      2: -1.5\n"
      "      4: 2.5\n",
      10, "must be > 0");
}

// The 1 ns floor applies to the latency as written: 5e-7 ms (0.5 ns) used to pass because it
// rounds to 1 ns while 4e-7 ms (0.4 ns, rounding to 0) was refused, with the same message.
TEST(ProfileErrors, LatencyBelowOneNanosecondAsWritten) {
  const std::string head = kModelUpToLatencies;  // lines 1-8
  for (const char* ms : {"5e-7", "4e-7", "0.00000099"}) {
    expect_profile_error(head + "      1: " + ms + "\n      2: 1\n", 9,
                         "latency for batch 1 in model 'm1' must be >= 1e-6 ms (1 ns), got ");
  }
  // 1e-6 ms is exactly the floor (1 ns) and loads.
  TempYaml f(head + "      1: 1e-6\n      2: 0.000001\n");
  const Profile p = load_profile(f.path());
  EXPECT_DOUBLE_EQ(p.models[0].latency_ms[0], 1e-6);
  EXPECT_DOUBLE_EQ(p.models[0].latency_ms[1], 1e-6);
}

TEST(ProfileErrors, DuplicateModelKey) {
  expect_profile_error(std::string(kGood) +
                           "  m1:\n"  // line 10
                           "    input_kb: 602\n"
                           "    output_kb: 4\n"
                           "    weights_mb: 10\n"
                           "    transfer_ms: 1\n"
                           "    latency_ms: {1: 1.0, 2: 1.5}\n",
                       10, "duplicate key 'm1'");
}

TEST(ProfileErrors, NonNumber) {
  expect_profile_error(
      "gpu: v100\n"
      "models:\n"
      "  m1:\n"
      "    input_kb: 602\n"
      "    output_kb: 4\n"
      "    weights_mb: lots\n"
      "    transfer_ms: 1\n"
      "    latency_ms: {1: 1.0, 2: 1.5}\n",
      6, "expected a number for 'weights_mb'");
  expect_profile_error(
      "gpu: v100\n"
      "models:\n"
      "  m1:\n"
      "    input_kb: 602\n"
      "    output_kb: 4\n"
      "    weights_mb: 10\n"
      "    transfer_ms: 1\n"
      "    latency_ms:\n"
      "      1: 1.0\n"
      "      2: fast\n",
      10, "expected a number");
}

TEST(ProfileErrors, BadBatchSizes) {
  const std::string head = kModelUpToLatencies;  // lines 1-8
  expect_profile_error(head + "      0: 1.0\n      2: 1.5\n", 9, "must be >= 1");
  expect_profile_error(head + "      4: 1.0\n      2: 1.5\n", 10, "strictly ascending");
  expect_profile_error(head + "      1.5: 1.0\n      2: 1.5\n", 9, "expected an integer");
  expect_profile_error(head + "      1: 1.0\n", 9, "at least 2 batch sizes");
  expect_profile_error(head + "      1: 2.0\n      2: 1.5\n", 10,
                       "model 'm1': latency at batch 2 (1.5 ms) is below that at batch 1 (2 ms); "
                       "latencies must be non-decreasing in batch size");
  expect_profile_error(
      "gpu: v100\nmodels:\n  m1:\n    input_kb: 602\n    output_kb: 4\n    weights_mb: 10\n"
      "    transfer_ms: 1\n    latency_ms: [1.0, 2.0]\n",
      8, "expected a mapping of batch size");
}

TEST(ProfileErrors, OtherProblems) {
  expect_profile_error("models:\n  m1: {}\n", 1, "missing key 'gpu'");
  expect_profile_error("gpu: v100\nmodels: {}\n", 2, "non-empty mapping");
  expect_profile_error("gpu: v100\nmodels:\n  m1:\n    gflop: 3\n", 3, "missing key 'input_kb'");
  expect_profile_error(std::string(kGood) + "    gflop: -1\n", 10, "'gflop' > 0");
  expect_profile_error(std::string(kGood) + "    family: [a, b]\n", 10, "duplicate key 'family'");
  expect_profile_error("gpu: v100\nmodels:\n  m1: [1, 2]\n", 3, "expected a mapping");
  expect_profile_error("gpu: v100\nmodels: {m1: {input_kb: 1\n", 3, "YAML syntax error");
  EXPECT_THROW(load_profile(kSourceDir + "/hardware_profiles/no_such_file.yaml"), InputError);
}

// ---------------------------------------------------------------- GPUs

TEST(Gpus, LoadsTheFiveGpusAndTheCpu) {
  std::vector<GpuSpec> gpus = load_gpus(kGpus);
  ASSERT_EQ(gpus.size(), 6u);
  // The validation CPU, described like a GPU (measured; no FP16 faster than FP32).
  const GpuSpec* cpu = find_gpu(gpus, "cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_GT(cpu->fp32_tflops, 0);
  EXPECT_EQ(cpu->fp16_tflops, cpu->fp32_tflops);
  EXPECT_GE(cpu->sm_count, 1);
  for (const char* name : {"v100", "a100", "a100_80gb", "h100", "h200"}) {
    const GpuSpec* g = find_gpu(gpus, name);
    ASSERT_NE(g, nullptr) << name;
    EXPECT_GT(g->memory_gib, 0);
    EXPECT_GT(g->fp32_tflops, 0);
    EXPECT_GT(g->fp16_tflops, g->fp32_tflops);
    EXPECT_GT(g->memory_bandwidth_gbs, 0);
    EXPECT_GT(g->pcie_gbs, 0);
    EXPECT_GT(g->sm_count, 0);
  }
  // MIG: 7 compute and 8 memory slices on A100, H100 and H200 (MIG user guide); the full
  // 7g instance has every memory slice and at most the GPU's SMs. The V100 has no MIG.
  for (const char* name : {"a100", "a100_80gb", "h100", "h200"}) {
    const MigSpec& mig = find_gpu(gpus, name)->mig;
    EXPECT_EQ(mig.compute_slices, 7) << name;
    EXPECT_EQ(mig.memory_slices, 8) << name;
    ASSERT_EQ(mig.profiles.size(), 6u) << name;
    EXPECT_EQ(mig.profiles.back().memory_slices, 8) << name;
    EXPECT_LE(mig.profiles.back().sms, find_gpu(gpus, name)->sm_count) << name;
  }
  EXPECT_EQ(find_gpu(gpus, "v100")->mig.compute_slices, 0);
  const GpuSpec* v100 = find_gpu(gpus, "v100");
  EXPECT_DOUBLE_EQ(v100->memory_gib, 16);  // seed 003's 16 GB memory wall
  EXPECT_EQ(v100->sm_count, 80);
  EXPECT_GT(v100->fp16_tflops, 120);  // seed 003: "more than 120 TFLOP/s" half precision
  EXPECT_EQ(find_gpu(gpus, "tpu"), nullptr);
  // The profile's GPU is one of them.
  EXPECT_NE(find_gpu(gpus, clockwork().gpu), nullptr);
}

TEST(Gpus, Errors) {
  const std::string head = "gpus:\n  g:\n";
  const std::string good =
      "    memory_gib: 16\n"             // 3
      "    fp32_tflops: 15.7\n"          // 4
      "    fp16_tflops: 125\n"           // 5
      "    memory_bandwidth_gbs: 900\n"  // 6
      "    sm_count: 80\n"               // 7
      "    pcie_gbs: 16\n";              // 8
  {
    TempYaml f(head + good);
    auto gpus = load_gpus(f.path());
    ASSERT_EQ(gpus.size(), 1u);
    EXPECT_EQ(gpus[0].name, "g");
    EXPECT_EQ(gpus[0].mark.line, 2);
  }
  expect_gpus_error(head + good + "    tdp_w: 300\n", 9, "unknown key 'tdp_w'");
  expect_gpus_error(head + "    memory_gib: 16\n", 2, "missing key 'fp32_tflops' in GPU 'g'");
  std::string bad_sm = head + good;
  bad_sm.replace(bad_sm.find("80"), 2, "8.5");
  expect_gpus_error(bad_sm, 7, "expected an integer for 'sm_count'");
  std::string neg = head + good;
  neg.replace(neg.find("900"), 3, "-900");
  expect_gpus_error(neg, 6, "'memory_bandwidth_gbs' between 1 and 100000");
  expect_gpus_error(head + good + "  g:\n" + good, 9, "duplicate key 'g'");
  // `mig:`: a placement past the memory slices, more SMs than the GPU.
  const std::string mig =
      "    mig:\n      compute_slices: 7\n      memory_slices: 8\n"
      "      profiles:\n";  // lines 9-12
  expect_gpus_error(head + good + mig +
                        "        3g: {compute_slices: 3, memory_slices: 4, sms: 42, "
                        "copy_engines: 3, starts: [0, 5]}\n",
                    13, "start 5 of MIG profile '3g' of GPU 'g' puts its 4 memory slices past");
  expect_gpus_error(head + good + mig +
                        "        7g: {compute_slices: 7, memory_slices: 8, sms: 98, "
                        "copy_engines: 7, starts: [0]}\n",
                    13, "has more SMs than the GPU's 80");
}

TEST(Gpus, KernelModelConstants) {
  std::vector<GpuSpec> gpus = load_gpus(kGpus);
  // The validation CPU has no kernel-level model.
  EXPECT_FALSE(find_gpu(gpus, "cpu")->kernel.has_value());
  for (const char* name : {"v100", "a100", "a100_80gb", "h100", "h200"}) {
    const GpuSpec& g = *find_gpu(gpus, name);
    ASSERT_TRUE(g.kernel.has_value()) << g.name;
    // Every GPU here is compute capability 7.0 or later: 2048 threads, 32 blocks, 64 K
    // registers and four warp schedulers per SM (CUDA programming guide).
    EXPECT_EQ(g.kernel->max_threads_per_sm, 2048) << g.name;
    EXPECT_EQ(g.kernel->max_blocks_per_sm, 32) << g.name;
    EXPECT_EQ(g.kernel->registers_per_sm, 65536) << g.name;
    EXPECT_EQ(g.kernel->schedulers_per_sm, 4) << g.name;
    EXPECT_LT(g.kernel->copy_bandwidth_gbs, g.memory_bandwidth_gbs) << g.name;
  }
  // Shared memory per SM: 96 KiB (7.0), 164 KiB (8.0), 228 KiB (9.0).
  EXPECT_EQ(find_gpu(gpus, "v100")->kernel->shared_kib_per_sm, 96);
  EXPECT_EQ(find_gpu(gpus, "a100")->kernel->shared_kib_per_sm, 164);
  EXPECT_EQ(find_gpu(gpus, "h100")->kernel->shared_kib_per_sm, 228);
  // Measured copies: 790 of 900 GB/s on a V100 (published), 3012 of 3350 on the H100 and
  // 4268 of 4800 on the H200; the A100 is assumed to reach the H100's fraction.
  EXPECT_DOUBLE_EQ(find_gpu(gpus, "v100")->kernel->copy_bandwidth_gbs, 790);
  EXPECT_DOUBLE_EQ(find_gpu(gpus, "h100")->kernel->copy_bandwidth_gbs, 3012);
  EXPECT_DOUBLE_EQ(find_gpu(gpus, "h200")->kernel->copy_bandwidth_gbs, 4268);
  const GpuSpec* a100 = find_gpu(gpus, "a100");
  EXPECT_NEAR(a100->kernel->copy_bandwidth_gbs / a100->memory_bandwidth_gbs, 3012.0 / 3350, 1e-6);
}

TEST(Gpus, KernelModelErrors) {
  const std::string head = kGpuBeforeKernelModel;  // lines 1-8
  const std::string km =
      "    kernel_model:\n"                 // 9
      "      copy_bandwidth_gbs: 790\n"     // 10
      "      launch_overhead_us: 1.9\n"     // 11
      "      host_launch_interval_us: 3\n"  // 12
      "      memory_latency_ns: 349\n"      // 13
      "      max_threads_per_sm: 2048\n"    // 14
      "      max_blocks_per_sm: 32\n"       // 15
      "      registers_per_sm: 65536\n"     // 16
      "      shared_kib_per_sm: 96\n"       // 17
      "      schedulers_per_sm: 4\n";       // 18
  {
    // Without kernel_model a device loads, with no kernel-level constants.
    TempYaml f(head);
    EXPECT_FALSE(load_gpus(f.path())[0].kernel.has_value());
    TempYaml g(head + km);
    auto gpus = load_gpus(g.path());
    ASSERT_TRUE(gpus[0].kernel.has_value());
    EXPECT_DOUBLE_EQ(gpus[0].kernel->host_launch_interval_us, 3);
    EXPECT_EQ(gpus[0].kernel->shared_kib_per_sm, 96);
  }
  std::string missing = head + km;
  missing.erase(missing.find("      schedulers_per_sm: 4\n"));
  expect_gpus_error(missing, 2, "missing key 'schedulers_per_sm' in kernel_model of GPU 'g'");
  expect_gpus_error(head + km + "      l2_mib: 6\n", 19, "unknown key 'l2_mib'");
  std::string fast = head + km;
  fast.replace(fast.find("790"), 3, "901");
  expect_gpus_error(fast, 10, "exceeds its peak memory_bandwidth_gbs");
  std::string zero = head + km;
  zero.replace(zero.find("schedulers_per_sm: 4"), 20, "schedulers_per_sm: 0");
  expect_gpus_error(zero, 18, "'schedulers_per_sm' between 1 and 128");
}

// An SM must hold a block of the element-wise kernel (256 threads) and of the smallest GEMM
// tile (32x32: 64 threads x 92 registers = 5888 registers, 7552 B of shared memory, so
// ceil(7552 / 1024) = 8 KiB): less would leave a kernel no block to run (128 threads once
// divided by zero), so the bound is an error at the key.
TEST(Gpus, KernelModelSmResourcesHoldEveryKernel) {
  const std::string head =
      std::string(kGpuBeforeKernelModel) +  // lines 1-8
      "    kernel_model:\n      copy_bandwidth_gbs: 790\n      launch_overhead_us: 1.9\n"
      "      host_launch_interval_us: 3\n      memory_latency_ns: 349\n";  // 9-13
  const std::string ok =
      "      max_threads_per_sm: 256\n      max_blocks_per_sm: 32\n"  // 14-15
      "      registers_per_sm: 5888\n      shared_kib_per_sm: 8\n"    // 16-17
      "      schedulers_per_sm: 4\n";                                 // 18
  {
    TempYaml f(head + ok);  // the least that runs every kernel loads
    EXPECT_EQ(load_gpus(f.path())[0].kernel->max_threads_per_sm, 256);
  }
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = head + ok;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  expect_gpus_error(with("max_threads_per_sm: 256", "max_threads_per_sm: 128"), 14,
                    "'max_threads_per_sm' between 256 and 65536");
  expect_gpus_error(with("registers_per_sm: 5888", "registers_per_sm: 5887"), 16,
                    "'registers_per_sm' between 5888 and");
  expect_gpus_error(with("shared_kib_per_sm: 8", "shared_kib_per_sm: 7"), 17,
                    "'shared_kib_per_sm' between 8 and");
  // Above 32 x 228 KiB = 7296 KiB, KiB x 1024 would near int's range.
  expect_gpus_error(with("shared_kib_per_sm: 8", "shared_kib_per_sm: 2147483647"), 17,
                    "'shared_kib_per_sm' between 8 and 7296");
}

// The figures every modelled time divides by or adds are bounded at their keys, so absurd
// constants (1e-300 TFLOP/s wrapped L(b) to a negative or tiny value) are input errors.
TEST(Gpus, TimeRelevantConstantsAreBounded) {
  const std::string good =
      "gpus:\n  g:\n"                                                        // 1-2
      "    memory_gib: 16\n    fp32_tflops: 15.7\n    fp16_tflops: 125\n"    // 3-5
      "    memory_bandwidth_gbs: 900\n    sm_count: 80\n    pcie_gbs: 16\n"  // 6-8
      "    kernel_model:\n      copy_bandwidth_gbs: 790\n      launch_overhead_us: 1.9\n"
      "      host_launch_interval_us: 3\n      memory_latency_ns: 349\n"  // 12-13
      "      max_threads_per_sm: 2048\n      max_blocks_per_sm: 32\n"
      "      registers_per_sm: 65536\n      shared_kib_per_sm: 96\n"
      "      schedulers_per_sm: 4\n";
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  expect_gpus_error(with("fp32_tflops: 15.7", "fp32_tflops: 1e-300"), 4,
                    "'fp32_tflops' between 0.001 and 10000");
  expect_gpus_error(with("memory_bandwidth_gbs: 900", "memory_bandwidth_gbs: 0.5"), 6,
                    "'memory_bandwidth_gbs' between 1 and 100000");
  expect_gpus_error(with("pcie_gbs: 16", "pcie_gbs: 1e-12"), 8, "'pcie_gbs' between 0.1 and");
  expect_gpus_error(with("sm_count: 80", "sm_count: 2147483647"), 7,
                    "'sm_count' between 1 and 65536");
  expect_gpus_error(with("copy_bandwidth_gbs: 790", "copy_bandwidth_gbs: 1e-12"), 10,
                    "'copy_bandwidth_gbs' between 1 and");
  expect_gpus_error(with("launch_overhead_us: 1.9", "launch_overhead_us: 1e300"), 11,
                    "'launch_overhead_us' between 0 and 1000");
  expect_gpus_error(with("host_launch_interval_us: 3", "host_launch_interval_us: 1001"), 12,
                    "'host_launch_interval_us' between 0 and 1000");
  expect_gpus_error(with("memory_latency_ns: 349", "memory_latency_ns: 1e9"), 13,
                    "'memory_latency_ns' between 0 and 100000");
}

}  // namespace
}  // namespace infersim
