// The wall-clock replayer of `infersim measure` against the simulator: on a device whose
// kernels take exactly what the profile says (a virtual clock, no noise), a replay must
// reproduce the simulated schedule request by request. Where the real execution differs
// from the model by design (time slicing switches at kernel boundaries) the invariants
// are checked instead.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "harness.h"
#include "validation/replay.h"

namespace infersim {
namespace {

using validation::Completion;
using validation::Device;
using validation::ModelProgram;
using validation::Part;

// sgemm_conv2_2_x4 at batch b: 4 GEMMs of 2*256*(128b)*1152 = 75,497,472 b FLOPs each. At
// 301,989,888 FLOP per ms a call takes exactly 0.25 b ms, a batch b ms: the profile below
// (L(b) = b ms at 1, 2, 4, 8, 16, linear in between) is exact for it.
constexpr double kNsPerFlop = 1e6 / 301989888.0;

// A device on a virtual clock: a launch takes its parts' FLOPs at kNsPerFlop, lanes run
// independently (no interference), and wait() jumps the clock to the next completion.
class VirtualDevice final : public Device {
 public:
  VirtualDevice() { info_.backend = "virtual"; }
  const validation::DeviceInfo& info() const override { return info_; }
  void add_tenant(std::uint32_t, const ModelProgram&) override {}
  std::size_t add_lane() override {
    tail_.push_back(0);
    return tail_.size() - 1;
  }
  void launch(std::size_t lane, std::span<const Part> parts) override {
    double flops = 0;
    for (const Part& p : parts) flops += p.call->flops;
    const SimTime start = std::max(now_, tail_[lane]);
    tail_[lane] = start + static_cast<SimTime>(std::llround(flops * kNsPerFlop));
    busy.push_back({start, tail_[lane], lane});
  }
  void mark(std::size_t lane, std::uint64_t ticket) override {
    pending_.push_back({ticket, std::max(now_, tail_[lane])});
  }
  SimTime now() const override { return now_; }
  void wait(SimTime until, std::vector<Completion>& done) override {
    SimTime next = kTimeMax;
    for (const auto& c : pending_) next = std::min(next, c.time);
    if (next == kTimeMax && until == kTimeMax) throw std::logic_error("wait forever");
    now_ = std::max(now_, std::min(next, until));
    // Completions in time order (ties: marking order), as a device reports them.
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const Completion& a, const Completion& b) { return a.time < b.time; });
    auto it = pending_.begin();
    while (it != pending_.end() && it->time <= now_) done.push_back(*it++);
    pending_.erase(pending_.begin(), it);
  }
  void synchronize() override {}

  struct Interval {
    SimTime from, to;
    std::size_t lane;
  };
  std::vector<Interval> busy;

 private:
  validation::DeviceInfo info_;
  SimTime now_ = 0;
  std::vector<SimTime> tail_;
  std::vector<Completion> pending_;
};

std::string linear_profile() {
  // One file per process: ctest runs the test cases as parallel processes.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("infersim_replay_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  static const struct RemoveAtExit {
    std::filesystem::path dir;
    ~RemoveAtExit() { std::filesystem::remove_all(dir); }
  } remove_at_exit{dir};
  const auto path = dir / "linear.yaml";
  std::ofstream(path) << "gpu: cpu\n"
                         "models:\n"
                         "  sgemm_conv2_2_x4:\n"
                         "    input_kb: 590\n    output_kb: 131\n    weights_mb: 4.7\n"
                         "    transfer_ms: 0\n"
                         "    latency_ms: {1: 1, 2: 2, 4: 4, 8: 8, 16: 16}\n";
  return path.string();
}

std::string experiment_yaml(const std::string& policy, int replicas, double rate,
                            const std::string& extra = "") {
  return "name: t\nseed: 11\nduration_s: 2\nwarmup_s: 0.2\n"
         "hardware: {profile: " +
         linear_profile() +
         ", gpu: cpu, count: 1, gpus_file: hardware_profiles/gpus.yaml}\n"
         "policy: {name: " +
         policy + ", max_batch: 8" + extra +
         "}\n"
         "tenants:\n"
         "  - {model: sgemm_conv2_2_x4, replicas: " +
         std::to_string(replicas) +
         ", slo_ms: 12, arrival: {process: poisson, rate: " + std::to_string(rate) + "}}\n";
}

struct Replayed {
  validation::ReplayResult result;
  std::vector<RequestOutcome> outcomes;
  std::vector<VirtualDevice::Interval> busy;
};

Replayed replay_on_virtual_device(const Experiment& x) {
  const int max_batch = static_cast<int>(x.policy_params.get_int("max_batch"));
  static std::map<int, ModelProgram> programs;
  programs[max_batch] = *validation::synthetic_program("sgemm_conv2_2_x4", max_batch);
  std::vector<validation::ReplayTenant> tenants;
  for (const TenantSpec& ts : x.tenants) {
    validation::ReplayTenant t;
    t.info.name = ts.name;
    t.info.model = ts.model;
    t.info.slo_ns = ms_to_ns(ts.slo_ms);
    t.info.latency_ns.assign(max_batch + 1, 0);
    t.info.utilization.assign(max_batch + 1, 0);
    for (int b = 1; b <= max_batch; ++b) {
      t.info.latency_ns[b] = ms_to_ns(ts.profile->latency_ms_at(b));
    }
    t.program = &programs[max_batch];
    const std::vector<ArrivalTarget> target{{ts.name, ts.model}};  // its own stream
    t.arrival = testing::registries()
                    .arrivals.get(ts.arrival, ts.mark)
                    .create(ArrivalSetup{ts.arrival_params, target, ts.mark});
    tenants.push_back(std::move(t));
  }
  validation::ReplaySpec spec;
  spec.policy = x.policy;
  spec.rule = BatchRule::from(x.policy_params);
  if (x.policy == "time_sliced") spec.quantum = ms_to_ns(x.policy_params.get("quantum_ms"));
  spec.seed = replication_seed(x.seed, 0);
  spec.duration = s_to_ns(x.duration_s);
  spec.warmup = s_to_ns(x.warmup_s);
  VirtualDevice dev;
  testing::CollectingSink sink;
  Replayed r{validation::replay(dev, spec, tenants, &sink), std::move(sink.outcomes), dev.busy};
  return r;
}

// Per-request outcomes keyed by (tenant, arrival): the two sides report completions of one
// instant in different orders.
std::map<std::pair<std::uint32_t, SimTime>, RequestOutcome> by_request(
    const std::vector<RequestOutcome>& v) {
  std::map<std::pair<std::uint32_t, SimTime>, RequestOutcome> m;
  for (const auto& o : v) {
    EXPECT_TRUE(m.emplace(std::make_pair(o.tenant, o.arrival), o).second)
        << "request reported twice: tenant " << o.tenant << " at " << o.arrival;
  }
  return m;
}

void expect_same_schedule(const std::string& yaml) {
  const Experiment x = testing::experiment_from(yaml);
  testing::CollectingSink sim_sink;
  const RunResult sim = testing::run(x, &sim_sink);
  const Replayed real = replay_on_virtual_device(x);
  const auto a = by_request(sim_sink.outcomes);
  const auto b = by_request(real.outcomes);
  ASSERT_GT(a.size(), 500u);  // enough requests that batching and queueing happen
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [key, s] : a) {
    auto it = b.find(key);
    ASSERT_NE(it, b.end()) << "request of tenant " << key.first << " at " << key.second;
    const RequestOutcome& r = it->second;
    EXPECT_EQ(s.dropped, r.dropped) << key.second;
    EXPECT_EQ(s.start, r.start) << key.second;
    EXPECT_EQ(s.end, r.end) << key.second;
    EXPECT_EQ(s.batch, r.batch) << key.second;
  }
  // And the tallies the result tables are computed from.
  for (std::size_t t = 0; t < x.tenants.size(); ++t) {
    EXPECT_EQ(sim.tenants[t].completed, real.result.counters[t].completed);
    EXPECT_EQ(sim.tenants[t].dropped, real.result.counters[t].dropped);
    EXPECT_EQ(sim.tenants[t].met_slo, real.result.counters[t].met_slo);
  }
}

// Exclusive at ~70% of the model's batched capacity (8 / L(8) = 1000 req/s): batches of
// every size form. The arrival trace, the batch formation and the completions must match.
TEST(ValidationReplay, ExclusiveMatchesTheSimulatorOnAnExactDevice) {
  expect_same_schedule(experiment_yaml("exclusive", 1, 700));
}

TEST(ValidationReplay, ExclusiveWithBatchTimeoutAndDropLateMatchesTheSimulator) {
  // drop_late at 12 ms SLO and a 2 ms batch timeout: both BatchRule paths taken.
  expect_same_schedule(
      experiment_yaml("exclusive", 1, 900, ", batch_timeout_ms: 2, drop_late: true"));
}

// One architecture: space_time's super-kernel of B requests across 3 tenants is one
// batched launch per layer, whose FLOPs are those of one batch of B: L(B) exactly.
TEST(ValidationReplay, SpaceTimeOneArchitectureMatchesTheSimulator) {
  expect_same_schedule(experiment_yaml("space_time", 3, 230, ", drop_late: true"));
}

// A single context never switches: time slicing is exclusive (the simulator says so too).
TEST(ValidationReplay, TimeSlicedWithOneTenantMatchesTheSimulator) {
  expect_same_schedule(experiment_yaml("time_sliced", 1, 600));
}

TEST(ValidationReplay, MpsWithOneTenantMatchesTheSimulator) {
  expect_same_schedule(experiment_yaml("mps", 1, 600));
}

// Several contexts: at most one lane runs at any time, a context keeps the device at most
// one kernel past its quantum while another waits, and every request completes once.
TEST(ValidationReplay, TimeSlicedRunsOneContextAtATime) {
  const Experiment x =
      testing::experiment_from(experiment_yaml("time_sliced", 3, 150, ", quantum_ms: 1"));
  const Replayed r = replay_on_virtual_device(x);
  auto busy = r.busy;
  std::sort(busy.begin(), busy.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
  std::set<std::size_t> lanes;
  for (std::size_t i = 1; i < busy.size(); ++i) {
    lanes.insert(busy[i].lane);
    EXPECT_LE(busy[i - 1].to, busy[i].from) << "two contexts ran at once";
  }
  EXPECT_EQ(lanes.size(), 3u);
  std::uint64_t arrived = 0, finished = 0;
  for (const auto& c : r.result.counters) {
    arrived += c.arrived;
    finished += c.completed + c.dropped;
  }
  EXPECT_EQ(arrived, finished);
  EXPECT_GT(arrived, 200u);
  EXPECT_EQ(by_request(r.outcomes).size(), r.outcomes.size());
}

// mps on a device without interference: concurrent lanes overlap (batches of different
// tenants run at once), unlike time slicing.
TEST(ValidationReplay, MpsRunsTenantsConcurrently) {
  const Experiment x = testing::experiment_from(experiment_yaml("mps", 3, 300));
  const Replayed r = replay_on_virtual_device(x);
  bool overlap = false;
  for (std::size_t i = 0; i < r.busy.size() && !overlap; ++i) {
    for (std::size_t j = i + 1; j < r.busy.size() && !overlap; ++j) {
      overlap = r.busy[i].lane != r.busy[j].lane && r.busy[i].from < r.busy[j].to &&
                r.busy[j].from < r.busy[i].to;
    }
  }
  EXPECT_TRUE(overlap);
}

// A batch launched whole (Device::launch_batch, what exclusive and mps use) is, without
// batch graphs, one launch per call, in order, back to back on its lane: sgemm_conv2_2_x4 at
// batch 2 is four 256 x 256 x 1152 GEMMs of 2 * 256 * 256 * 1152 = 150,994,944 FLOPs, 0.5 ms
// each at kNsPerFlop (1 ms per 301,989,888 FLOPs). A device without graphs refuses them.
TEST(ValidationReplay, LaunchBatchIsOneLaunchPerCallWithoutGraphs) {
  VirtualDevice d;
  const auto program = validation::synthetic_program("sgemm_conv2_2_x4", 2);
  ASSERT_TRUE(program);
  const auto& calls = program->calls[2];
  ASSERT_EQ(calls.size(), 4u);
  const std::size_t lane = d.add_lane();
  d.set_batch_graphs(false);
  EXPECT_THROW(d.set_batch_graphs(true), std::invalid_argument);
  d.launch_batch(lane, 0, 2, calls);
  ASSERT_EQ(d.busy.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(d.busy[i].lane, lane);
    EXPECT_EQ(d.busy[i].from, static_cast<SimTime>(i) * 500'000);
    EXPECT_EQ(d.busy[i].to, static_cast<SimTime>(i + 1) * 500'000);
  }
}

}  // namespace
}  // namespace infersim
