// The kernel-level shared-GPU model (policies/kernel_gpu.h): streams of kernels competing for
// SMs, in launch order, with schedules derived by hand.
#include "policies/kernel_gpu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "sim/core/engine.h"
#include "sim/kernels/program.h"

namespace infersim {
namespace {

using kernels::BatchKernels;

BatchKernels batch(const std::vector<std::pair<SimTime, int>>& kernels) {
  BatchKernels b;
  for (const auto& [ns, sms] : kernels) b.push({ns, sms});
  return b;
}

// Starts scripted batches on streams at given times and records when each finishes. u: the
// batch's solo utilization, which the GPU's load sums while the batch is in progress.
struct Start {
  SimTime at;
  std::size_t stream;
  const BatchKernels* batch;
  double u = 0;
};

class ScriptPolicy final : public Policy {
 public:
  ScriptPolicy(Engine& e, std::size_t streams, int sms, std::vector<Start> starts,
               double interference, KernelOverlap overlap = {})
      : e_(e), gpu_(e, 0, streams, sms, interference, overlap), starts_(std::move(starts)) {
    for (std::size_t i = 0; i < starts_.size(); ++i) {
      e.schedule(starts_[i].at, Priority::kTimer, 0, i << 1 | 1);
    }
  }
  void on_dispatch() override {}
  void on_event(std::uint64_t payload) override {
    ++events_;
    if (!KernelGpu::is_completion(payload)) {
      const Start& s = starts_[payload >> 1];
      if (s.batch != nullptr) gpu_.start(s.stream, *s.batch, s.u);  // null: starts nothing
      gpu_.commit();
      return;
    }
    gpu_.on_completion(payload, [this](std::size_t s) { ends_.push_back({s, e_.now()}); });
    gpu_.commit();
  }
  KernelGpu& gpu() { return gpu_; }
  std::vector<std::pair<std::size_t, SimTime>> ends_;
  std::uint64_t events_ = 0;

 private:
  Engine& e_;
  KernelGpu gpu_;
  std::vector<Start> starts_;
};

struct Result {
  std::vector<std::pair<std::size_t, SimTime>> ends;  // (stream, time) in completion order
  double busy_ns, load_ns;
  std::uint64_t policy_events;
};

Result run(std::size_t streams, int sms, std::vector<Start> starts, double interference = 0,
           std::vector<double> slowdown = {}, KernelOverlap overlap = {}) {
  EngineConfig cfg;
  cfg.gpus = 1;
  Engine e(cfg, {});
  auto p =
      std::make_unique<ScriptPolicy>(e, streams, sms, std::move(starts), interference, overlap);
  ScriptPolicy* raw = p.get();
  for (std::size_t s = 0; s < slowdown.size(); ++s) raw->gpu().set_slowdown(s, slowdown[s]);
  e.set_policy(0, std::move(p));
  e.run();
  return {raw->ends_, e.gpu_busy_ns(0), e.gpu_load_ns(0), raw->events_};
}

using Ends = std::vector<std::pair<std::size_t, SimTime>>;

TEST(KernelGpu, ABatchAloneTakesTheSumOfItsKernelsInOneEvent) {
  // 100 + 50 + 200 ns on 80, 20 and 80 of 80 SMs, started at 1000: done at 1350. The engine
  // sees the start and one completion, not one event per kernel.
  const BatchKernels b = batch({{100, 80}, {50, 20}, {200, 80}});
  const Result r = run(1, 80, {{1000, 0, &b, 0.375}});
  EXPECT_EQ(r.ends, (Ends{{0, 1350}}));
  EXPECT_EQ(r.policy_events, 2u);
  // Busy 350 ns; load at the batch's solo utilization (not the SMs its kernels hold, as at
  // batch granularity and under exclusive): 350 * 0.375 = 131.25 ns.
  EXPECT_DOUBLE_EQ(r.busy_ns, 350);
  EXPECT_DOUBLE_EQ(r.load_ns, 131.25);
}

TEST(KernelGpu, TwoTenantsKernelsShareTheSms) {
  // 80 SMs. Stream 0: 100 ns on 40 SMs, then 50 ns on 80. Stream 1: 70 ns on 40, then 60 ns
  // on 30. Both start at 0:
  //   t=0    A0 (40) and B0 (40) start side by side: 0 SMs free.
  //   t=70   B0 ends; B1 (30) launches and fits: 10 free.
  //   t=100  A0 ends; A1 needs 80, 50 free: it waits.
  //   t=130  B1 ends (stream 1 done); 80 free: A1 starts.
  //   t=180  A1 ends (stream 0 done).
  const BatchKernels a = batch({{100, 40}, {50, 80}});
  const BatchKernels b = batch({{70, 40}, {60, 30}});
  const Result r = run(2, 80, {{0, 0, &a, 0.25}, {0, 1, &b, 0.5}});
  EXPECT_EQ(r.ends, (Ends{{1, 130}, {0, 180}}));
  // Busy the whole 180 ns; both batches in progress until 130 (u 0.25 + 0.5), then stream 0's
  // alone: 130 * 0.75 + 50 * 0.25 = 97.5 + 12.5 = 110 ns.
  EXPECT_DOUBLE_EQ(r.busy_ns, 180);
  EXPECT_DOUBLE_EQ(r.load_ns, 110);
}

TEST(KernelGpu, OverlapStartsEveryKernelAndSlowsItByItsCoRunners) {
  // kernel_sharing overlap, floor 0.25, 80 SMs; every kernel is 80 SMs wide, so under the SM
  // budget none could start beside another.
  //   t=0    A0 (1000 ns, share 0.5) starts alone: ends at 1000.
  //   t=200  B0 (600 ns, share 0) starts with A0 running, k = 2: u = 0.25 + 0.75 * 0 = 0.25,
  //          600 * (1 + 0.25 * 1) = 750 ns: ends at 950.
  //   t=300  C0 (200 ns, share 0.6) starts with A0 and B0 running, k = 3:
  //          u = 0.25 + 0.75 * 0.6 = 0.7, 200 * (1 + 0.7 * 2) = 480 ns: ends at 780.
  //   t=780  stream 2 done. t=950 stream 1 done (B0's factor was fixed when it started).
  //   t=1000 A0 ends; A1 (400 ns, share 0) starts alone: ends at 1400, stream 0 done.
  BatchKernels a, b, c;
  a.push({1000, 80, 0.5f});
  a.push({400, 80, 0.0f});
  b.push({600, 80, 0.0f});
  c.push({200, 80, 0.6f});
  const KernelOverlap overlap{true, 0.25};
  const Result r =
      run(3, 80, {{0, 0, &a, 0.5}, {200, 1, &b, 0.25}, {300, 2, &c, 0.625}}, 0, {}, overlap);
  EXPECT_EQ(r.ends, (Ends{{2, 780}, {1, 950}, {0, 1400}}));
  // Busy the whole 1400 ns. Load, the batches in progress summed and capped at 1:
  //   0..200 0.5 (100), 200..300 0.75 (75), 300..780 1.375 capped to 1 (480),
  //   780..950 0.75 (127.5), 950..1400 0.5 (225): 1007.5 ns.
  EXPECT_DOUBLE_EQ(r.busy_ns, 1400);
  EXPECT_DOUBLE_EQ(r.load_ns, 1007.5);
  // The same under the SM budget: B0 waits for A0 (1000..1600), C0 for B0 (1600..1800), and
  // A1 launched at 1000 queues behind them (1800..2200).
  const Result budget = run(3, 80, {{0, 0, &a}, {200, 1, &b}, {300, 2, &c}});
  EXPECT_EQ(budget.ends, (Ends{{1, 1600}, {2, 1800}, {0, 2200}}));
}

TEST(KernelGpu, KernelsStartInLaunchOrder) {
  // Stream 0 holds 60 of 80 SMs for 100 ns. Stream 1 launches a 40-SM kernel at 10 (does not
  // fit: waits); stream 2 launches a 10-SM kernel at 20, which would fit but queues behind
  // stream 1's. At 100 both start; stream 2's ends at 110, stream 1's at 150.
  const BatchKernels big = batch({{100, 60}});
  const BatchKernels mid = batch({{50, 40}});
  const BatchKernels small = batch({{10, 10}});
  const Result r = run(3, 80, {{0, 0, &big}, {10, 1, &mid}, {20, 2, &small}});
  EXPECT_EQ(r.ends, (Ends{{0, 100}, {2, 110}, {1, 150}}));
}

TEST(KernelGpu, ABatchStartedMidwayReplaysTheKernelsBeforeIt) {
  // Stream 0: five 100-ns kernels alternating 50 and 30 SMs (done at 500 alone). Stream 1
  // starts at 250 with a 60-SM kernel of 40 ns: at 250 stream 0 runs its third kernel (50
  // SMs, 200..300), so 30 free: it waits. At 300 stream 0's fourth (30 SMs) launches after
  // it: stream 1's 60 SMs fit first (20 free), then stream 0's 30 do not: it waits until 340.
  // Stream 1 done at 340; stream 0's fourth kernel 340..440, fifth 440..540.
  const BatchKernels a = batch({{100, 50}, {100, 30}, {100, 50}, {100, 30}, {100, 50}});
  const BatchKernels b = batch({{40, 60}});
  const Result r = run(2, 80, {{0, 0, &a}, {250, 1, &b}});
  EXPECT_EQ(r.ends, (Ends{{1, 340}, {0, 540}}));
  // Two starts, two completions and the stale event of the first prediction (500), which
  // the generation check ignores.
  EXPECT_EQ(r.policy_events, 5u);
}

TEST(KernelGpu, AStartAfterQuietEventsResumesFromTheStateKeptAtTheFirst) {
  // The schedule of ABatchStartedMidwayReplaysTheKernelsBeforeIt, with two events at 120 and
  // 180 that start nothing. At 0 the model runs ahead and keeps its state at the engine's
  // next event (120); the quiet events change nothing; the start at 250 resumes from the
  // state kept at 120 (stream 0 in its second kernel) and must give the same schedule:
  // stream 1 done at 340, stream 0 at 540.
  const BatchKernels a = batch({{100, 50}, {100, 30}, {100, 50}, {100, 30}, {100, 50}});
  const BatchKernels b = batch({{40, 60}});
  const Result r =
      run(2, 80, {{0, 0, &a, 0.25}, {120, 0, nullptr}, {180, 0, nullptr}, {250, 1, &b, 0.5}});
  EXPECT_EQ(r.ends, (Ends{{1, 340}, {0, 540}}));
  // Busy 0..540; stream 0's batch (0.25) throughout, stream 1's (0.5) from 250 to 340:
  // 540 * 0.25 + 90 * 0.5 = 135 + 45 = 180 ns, reported across the quiet events.
  EXPECT_DOUBLE_EQ(r.busy_ns, 540);
  EXPECT_DOUBLE_EQ(r.load_ns, 180);
  // Two starts, two quiet events, two completions and the stale first prediction (500).
  EXPECT_EQ(r.policy_events, 7u);
}

TEST(KernelGpu, BackToBackBatchesAndManyStreams) {
  // 120 streams of one 16-SM kernel of 1000 ns each, all at 0, on 80 SMs: five run at a
  // time, in stream order: stream s ends at 1000 * (s / 5 + 1).
  const BatchKernels k = batch({{1000, 16}});
  std::vector<Start> starts;
  for (std::size_t s = 0; s < 120; ++s) starts.push_back({0, s, &k, 1.0 / 64});
  const Result r = run(120, 80, starts);
  ASSERT_EQ(r.ends.size(), 120u);
  for (std::size_t i = 0; i < 120; ++i) {
    EXPECT_EQ(r.ends[i].first, i);
    EXPECT_EQ(r.ends[i].second, static_cast<SimTime>(1000 * (i / 5 + 1)));
  }
  // 24 rounds of 1000 ns. A batch waiting for SMs is in progress too (as at batch
  // granularity, where every started batch shares the GPU): in round r, 120 - 5r batches at
  // 1/64 each, capped at 1 while 64 or more (r <= 11), then 60/64, 55/64, ..., 5/64:
  // 1000 * (12 + (60 + 55 + ... + 5) / 64) = 1000 * (12 + 390 / 64) = 18093.75 ns.
  EXPECT_DOUBLE_EQ(r.busy_ns, 24000);
  EXPECT_DOUBLE_EQ(r.load_ns, 18093.75);
}

TEST(KernelGpu, InterferenceAndStragglersAreOptionalEffects) {
  // Two 40-SM kernels of 1000 ns at 0 with interference 0.1: the first starts alone (1000 ns),
  // the second with 2 running: 1000 x (1 + 0.1) = 1100 ns. Stream 1's slowdown 1.5 applies
  // too, as it starts while another runs: 1000 x 1.1 x 1.5 = 1650.
  const BatchKernels k = batch({{1000, 40}});
  Result r = run(2, 80, {{0, 0, &k}, {0, 1, &k}}, 0.1);
  EXPECT_EQ(r.ends, (Ends{{0, 1000}, {1, 1100}}));
  r = run(2, 80, {{0, 0, &k}, {0, 1, &k}}, 0.1, {1.0, 1.5});
  EXPECT_EQ(r.ends, (Ends{{0, 1000}, {1, 1650}}));
  // Alone, a straggler runs at its solo time.
  r = run(2, 80, {{0, 1, &k}}, 0.1, {1.0, 1.5});
  EXPECT_EQ(r.ends, (Ends{{1, 1000}}));
}

TEST(KernelGpu, WideKernelsOfTwoStreamsAlternateUntilTwoFitSideBySide) {
  // 80 SMs. Stream 0: 100 ns on 60 SMs, 100 on 60, 100 on 20, 100 on 60. Stream 1 starts at
  // 50: 40 ns on 50 SMs, 40 on 50, 40 on 50. While one 60- or 50-SM kernel runs, the other
  // stream's does not fit beside it, so they take turns in launch order:
  //   t=0    A0 (60) starts.                 t=50   B0 (50) launched: 20 free, waits.
  //   t=100  A0 ends, A1 queues behind B0; B0 starts (30 free), A1 (60) waits.
  //   t=140  B0 ends, B1 queues; A1 starts (20 free), B1 (50) waits.
  //   t=240  A1 ends, A2 (20) queues behind B1; B1 starts (30 free), and A2 fits beside
  //          it: 10 free.
  //   t=280  B1 ends, B2 queues and fits (50 of 60 free).    t=320  B2 ends: stream 1 done.
  //   t=340  A2 ends; A3 (60) starts on an empty GPU.        t=440  stream 0 done.
  const BatchKernels a = batch({{100, 60}, {100, 60}, {100, 20}, {100, 60}});
  const BatchKernels b = batch({{40, 50}, {40, 50}, {40, 50}});
  const Result r = run(2, 80, {{0, 0, &a, 0.5}, {50, 1, &b, 0.25}});
  EXPECT_EQ(r.ends, (Ends{{1, 320}, {0, 440}}));
  // Busy 0..440 throughout. Load: 0.5 alone (0..50), 0.75 with stream 1's batch (50..320),
  // 0.5 again (320..440): 25 + 202.5 + 60 = 287.5 ns.
  EXPECT_DOUBLE_EQ(r.busy_ns, 440);
  EXPECT_DOUBLE_EQ(r.load_ns, 287.5);
  // The same with an event at 200 that starts nothing: the model stops its run ahead
  // there, mid-alternation, and resumes from it.
  const Result q = run(2, 80, {{0, 0, &a, 0.5}, {50, 1, &b, 0.25}, {200, 0, nullptr}});
  EXPECT_EQ(q.ends, r.ends);
  EXPECT_DOUBLE_EQ(q.load_ns, 287.5);
}

// A reference for the randomized comparison below: the launch-queue semantics of the header
// simulated the plain way, instant by instant, with nothing kept ahead and no shortcuts.
struct Job {
  SimTime gap;  // start this long after the stream's previous batch ends (the first: at gap)
  const BatchKernels* batch;
  double u;  // solo utilization
};

struct Reference {
  std::vector<std::pair<std::size_t, SimTime>> ends;
  std::int64_t busy_ns = 0;
  double load_ns = 0;
};

Reference reference(int sms, const std::vector<std::vector<Job>>& jobs, SimTime warmup,
                    double interference, const std::vector<double>& slowdown) {
  struct Stream {
    std::size_t job = 0, kernel = 0;
    bool running = false;
    bool started = false;  // its batch is in progress (queued or running)
    SimTime end = 0;
  };
  std::vector<Stream> st(jobs.size());
  std::deque<std::size_t> queue;
  std::vector<std::tuple<SimTime, std::uint64_t, std::size_t>> starts;  // (time, seq, stream)
  std::uint64_t seq = 0;
  for (std::size_t s = 0; s < jobs.size(); ++s) starts.emplace_back(jobs[s][0].gap, seq++, s);
  Reference out;
  int free = sms;
  int running = 0;
  SimTime t = 0;
  auto kernel_of = [&](std::size_t s) { return jobs[s][st[s].job].batch->kernels[st[s].kernel]; };
  auto admit = [&](SimTime now) {
    while (!queue.empty() && kernel_of(queue.front()).sms <= free) {
      const std::size_t s = queue.front();
      queue.pop_front();
      free -= kernel_of(s).sms;
      st[s].running = true;
      SimTime ns = kernel_of(s).ns;
      if (++running >= 2) {  // the optional effects: a kernel that starts beside others
        const double f = (1.0 + interference * (running - 1)) * slowdown[s];
        ns = std::llround(static_cast<double>(ns) * f);
      }
      st[s].end = now + ns;
    }
  };
  for (;;) {
    SimTime now = kTimeMax;
    for (const Stream& x : st) {
      if (x.running) now = std::min(now, x.end);
    }
    for (const auto& [at, q, s] : starts) now = std::min(now, at);
    if (now == kTimeMax) break;
    const SimTime from = std::max(t, warmup);
    if (now > from && free < sms) {
      out.busy_ns += now - from;
      double u = 0;
      for (std::size_t s = 0; s < st.size(); ++s) {
        if (st[s].started) u += jobs[s][st[s].job].u;
      }
      out.load_ns += static_cast<double>(now - from) * std::min(1.0, u);
    }
    t = now;
    // Kernels ending now, in stream order; then admission; then batches starting now.
    for (std::size_t s = 0; s < st.size(); ++s) {
      Stream& x = st[s];
      if (!x.running || x.end != now) continue;
      x.running = false;
      --running;
      free += kernel_of(s).sms;
      if (++x.kernel < jobs[s][x.job].batch->kernels.size()) {
        queue.push_back(s);
        continue;
      }
      out.ends.emplace_back(s, now);
      x.kernel = 0;
      x.started = false;
      if (++x.job < jobs[s].size()) starts.emplace_back(now + jobs[s][x.job].gap, seq++, s);
    }
    admit(now);
    std::sort(starts.begin(), starts.end());
    while (!starts.empty() && std::get<0>(starts.front()) == now) {
      st[std::get<2>(starts.front())].started = true;
      queue.push_back(std::get<2>(starts.front()));
      starts.erase(starts.begin());
      admit(now);
    }
  }
  return out;
}

// Runs each stream's jobs one after another on a KernelGpu, as a closed loop would.
class LoopPolicy final : public Policy {
 public:
  LoopPolicy(Engine& e, int sms, const std::vector<std::vector<Job>>& jobs, double interference,
             const std::vector<double>& slowdown)
      : e_(e), gpu_(e, 0, jobs.size(), sms, interference), jobs_(jobs), next_(jobs.size(), 0) {
    for (std::size_t s = 0; s < jobs_.size(); ++s) gpu_.set_slowdown(s, slowdown[s]);
    for (std::size_t s = 0; s < jobs_.size(); ++s) {
      e.schedule(jobs_[s][0].gap, Priority::kTimer, 0, s << 1 | 1);
    }
  }
  void on_dispatch() override {}
  void on_event(std::uint64_t payload) override {
    if (!KernelGpu::is_completion(payload)) {
      const std::size_t s = payload >> 1;
      gpu_.start(s, *jobs_[s][next_[s]].batch, jobs_[s][next_[s]].u);
      gpu_.commit();
      return;
    }
    gpu_.on_completion(payload, [this](std::size_t s) {
      ends_.emplace_back(s, e_.now());
      if (++next_[s] < jobs_[s].size()) {
        e_.schedule(e_.now() + jobs_[s][next_[s]].gap, Priority::kTimer, 0, s << 1 | 1);
      }
    });
    gpu_.commit();
  }
  std::vector<std::pair<std::size_t, SimTime>> ends_;

 private:
  Engine& e_;
  KernelGpu gpu_;
  const std::vector<std::vector<Job>>& jobs_;
  std::vector<std::size_t> next_;
};

TEST(KernelGpu, MatchesAPlainSimulationOverRandomScenarios) {
  // 400 random closed loops of 1-5 streams on 80 SMs: kernels wide and narrow (so streams
  // take turns, run side by side, and switch between the two), durations from a small set
  // (so kernels often end at the same instant), gaps often 0 (a batch starts the instant
  // the last ended), a warm-up that is sometimes mid-run, and in a third of them the
  // optional interference and straggler slowdowns. The model (run ahead, the
  // state kept at the engine's next event, the one-at-a-time and alone shortcuts) must give
  // the reference's completions and GPU use exactly.
  std::mt19937_64 rng(20261126);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int scenario = 0; scenario < 400; ++scenario) {
    std::vector<BatchKernels> batches(8);
    for (BatchKernels& b : batches) {
      const int n = pick(1, 12);
      for (int i = 0; i < n; ++i) {
        const SimTime ns = 25 * pick(1, 8) + (pick(0, 3) == 0 ? pick(1, 24) : 0);
        const int sms = pick(0, 2) == 0 ? pick(1, 40) : pick(41, 80);
        b.push({ns, sms});
      }
    }
    std::vector<std::vector<Job>> jobs(static_cast<std::size_t>(pick(1, 5)));
    for (auto& js : jobs) {
      const int n = pick(1, 6);
      for (int i = 0; i < n; ++i) {
        const SimTime gap = pick(0, 2) == 0 ? 0 : 10 * pick(1, 60);
        // u in eighths: every sum and product below is exact in binary.
        js.push_back({gap, &batches[static_cast<std::size_t>(pick(0, 7))], pick(0, 8) / 8.0});
      }
    }
    const SimTime warmup = pick(0, 1) == 0 ? 0 : 50 * pick(1, 20);
    const bool effects = pick(0, 2) == 0;
    const double interference = effects ? 0.1 : 0;
    std::vector<double> slowdown(jobs.size(), 1.0);
    if (effects) {
      for (double& f : slowdown) f = 1.0 + 0.1 * pick(0, 5);
    }
    const Reference want = reference(80, jobs, warmup, interference, slowdown);

    EngineConfig cfg;
    cfg.gpus = 1;
    cfg.warmup = warmup;
    Engine e(cfg, {});
    auto p = std::make_unique<LoopPolicy>(e, 80, jobs, interference, slowdown);
    LoopPolicy* raw = p.get();
    e.set_policy(0, std::move(p));
    e.run();
    ASSERT_EQ(raw->ends_, want.ends) << "scenario " << scenario;
    EXPECT_DOUBLE_EQ(e.gpu_busy_ns(0), static_cast<double>(want.busy_ns))
        << "scenario " << scenario;
    EXPECT_DOUBLE_EQ(e.gpu_load_ns(0), want.load_ns) << "scenario " << scenario;
  }
}

TEST(KernelGpu, AKernelWiderThanTheGpuIsAnError) {
  const BatchKernels k = batch({{1000, 81}});
  EXPECT_THROW(run(1, 80, {{0, 0, &k}}), std::logic_error);
}

}  // namespace
}  // namespace infersim
