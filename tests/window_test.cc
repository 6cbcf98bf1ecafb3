// The measured window (DESIGN.md "Window"): throughput and utilization are measured from
// warmup_s to the last completion or drop, never to a cancelled timer that fires later.
#include <gtest/gtest.h>

#include "tests/harness.h"

namespace infersim {
namespace {

using testing::experiment_from;
using testing::v100_header;

// Constant arrivals at 1000/s come at 1 ms and 2 ms (the next, at 3 ms, is past
// duration_s 2.5 ms). max_batch 2, batch_timeout_ms 10:
//   t = 1 ms     request 1 waits to fill a batch; its timer is set for 1 + 10 = 11 ms
//   t = 2 ms     request 2 fills the batch, which starts at once (the timer is cancelled,
//                but its event stays queued and fires, stale, at 11 ms)
//                L(2) of resnet50_v1 = 3.78 ms (the Clockwork table): done at 5.78 ms
// Window = 5.78 ms - 0 = 5.78 ms; throughput = 2 / 5.78e-3 s = 346.02 requests/s; the GPU
// is busy 3.78 of those 5.78 ms = 0.65398. (Measured to the stale timer at 11 ms, the
// window read 11 ms: 181.8 requests/s and a busy fraction of 0.344.)
// With one tenant every policy runs this schedule: time_sliced never switches, mps and
// space_time run one kernel alone (no interference or straggler noise apply to it).
class WindowAfterCancelledTimer : public ::testing::TestWithParam<const char*> {};

TEST_P(WindowAfterCancelledTimer, WindowEndsAtLastCompletionNotAtStaleTimer) {
  Experiment x = experiment_from(
      v100_header(0.0025) + "policy: {name: " + GetParam() +
      ", max_batch: 2, batch_timeout_ms: 10}\n"
      "tenants:\n  - {model: resnet50_v1, arrival: {process: constant, rate: 1000}}\n");
  RunResult r = testing::run(x);
  ASSERT_EQ(r.all.completed, 2u);
  EXPECT_DOUBLE_EQ(r.window_s, 5.78e-3);
  EXPECT_NEAR(r.all.throughput_rps, 2 / 5.78e-3, 1e-9);
  EXPECT_NEAR(r.all.throughput_rps, 346.02, 0.005);
  EXPECT_NEAR(r.gpu_busy, 3.78 / 5.78, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Policies, WindowAfterCancelledTimer,
                         ::testing::Values("exclusive", "time_sliced", "mps", "space_time"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

// flop_util counts the work done in the window, as gpu_busy counts its time, including the
// backlog of requests that arrived before warm-up. Constant arrivals at 2000/s overload
// resnet50_v1 (batches of 16 take L(16) = 15.67 ms: 1021/s), so from warm-up (1 s) to the
// last completion the GPU runs full batches of 16 back to back (only the last holds 15).
// Achieved FLOP/s = 16 x 7.6 GFLOP / 15.67 ms = 7.760 TFLOP/s, over the V100's 15.7 peak:
// 0.49427 (the short last batch moves it by about 5e-5). Counting only the ~2000 requests
// that arrived after warm-up, as before, read 0.33: the window is about 2.9 s long.
TEST(Window, FlopUtilCountsTheBacklogDoneInTheWindow) {
  Experiment x = experiment_from(
      v100_header(2, 1) +
      "policy: {name: exclusive, max_batch: 16}\n"
      "tenants:\n  - {model: resnet50_v1, arrival: {process: constant, rate: 2000}}\n");
  RunResult r = testing::run(x);
  EXPECT_NEAR(r.gpu_busy, 1.0, 1e-12);
  EXPECT_NEAR(r.flop_util, 16 * 7.6e9 / (15.67e-3 * 15.7e12), 2e-4);
}

// The window starts at warm-up. Arrivals every 1 ms at 1..4 ms (duration 4.5 ms), warmup
// 2 ms, max_batch 1, SLO 3 ms with drop_late, L(1) = 2.61 ms:
//   t = 1     request 1 (deadline 4): 1 + 2.61 <= 4, runs -> done at 3.61
//   t = 3.61  request 2 (deadline 5): 3.61 + 2.61 = 6.22 > 5, dropped; request 3
//             (deadline 6): 6.22 > 6, dropped
//   t = 4     request 4 (deadline 7): 4 + 2.61 = 6.61 <= 7, runs -> done at 6.61
// Measured (arrived at or after 2 ms): requests 2, 3 dropped and 4 completed.
// Window = 6.61 - 2 = 4.61 ms; throughput = 1 / 4.61e-3 = 216.92 requests/s.
TEST(Window, RunsFromWarmupToLastCompletion) {
  Experiment x = experiment_from(
      v100_header(0.0045, 0.002) +
      "policy: {name: exclusive, max_batch: 1, drop_late: true}\n"
      "tenants:\n  - {model: resnet50_v1, slo_ms: 3, arrival: {process: constant, rate: 1000}}\n");
  RunResult r = testing::run(x);
  EXPECT_EQ(r.all.requests, 3u);
  EXPECT_EQ(r.all.dropped, 2u);
  EXPECT_EQ(r.all.completed, 1u);
  EXPECT_DOUBLE_EQ(r.window_s, 4.61e-3);
  EXPECT_NEAR(r.all.throughput_rps, 1 / 4.61e-3, 1e-9);
}

// A drop ends the window too. Arrivals at 1 and 2 ms (duration 2.5 ms), SLO 2 ms with
// drop_late, L(1) = 2.61 ms: every request is hopeless on arrival (t + 2.61 > t + 2) and
// dropped at once, at 1 and 2 ms. Nothing completes; the window is 2 ms.
TEST(Window, EndsAtTheLastDrop) {
  Experiment x = experiment_from(
      v100_header(0.0025) +
      "policy: {name: exclusive, max_batch: 1, drop_late: true}\n"
      "tenants:\n  - {model: resnet50_v1, slo_ms: 2, arrival: {process: constant, rate: 1000}}\n");
  RunResult r = testing::run(x);
  EXPECT_EQ(r.all.dropped, 2u);
  EXPECT_EQ(r.all.completed, 0u);
  EXPECT_DOUBLE_EQ(r.window_s, 2e-3);
}

}  // namespace
}  // namespace infersim
