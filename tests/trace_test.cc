// Trace replay (workloads/trace.cc): every CSV request at its exact nanosecond, Azure 2019
// per-minute counts reproduced exactly, Azure 2021 invocations at end - duration, the
// mapping of functions onto tenants, and bad traces as input errors at file:line:column.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/core/arrival.h"
#include "sim/core/rng.h"
#include "tests/harness.h"
#include "workloads/trace_reader.h"

namespace infersim {
namespace {

using testing::CollectingSink;
using testing::experiment_from;
using testing::v100_header;

// A file in a fresh temporary directory, removed at the end of the test.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& text) {
    dir_ = std::filesystem::temp_directory_path() /
           ("infersim_trace_test_" + std::to_string(getpid()) + "_" + std::to_string(count_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / name).string();
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  static inline int count_ = 0;
  std::filesystem::path dir_;
  std::string path_;
};

// "trace" arrival mapping for a file.
std::string trace(const std::string& path, const std::string& more = "") {
  return "{process: trace, path: " + path + more + "}";
}

TEST(TraceParse, SecondsToNanosecondsIsExact) {
  SimTime ns = -1;
  ASSERT_TRUE(parse_seconds_ns("0", ns));
  EXPECT_EQ(ns, 0);
  ASSERT_TRUE(parse_seconds_ns("0.000000001", ns));
  EXPECT_EQ(ns, 1);
  ASSERT_TRUE(parse_seconds_ns("1.5", ns));
  EXPECT_EQ(ns, 1'500'000'000);
  // Nine decimals .142570018, the tenth (7) rounds up.
  ASSERT_TRUE(parse_seconds_ns("5160.142570018768", ns));
  EXPECT_EQ(ns, 5'160'142'570'019);
  ASSERT_TRUE(parse_seconds_ns("5160.1425700184", ns));  // the tenth (4) rounds down
  EXPECT_EQ(ns, 5'160'142'570'018);
  ASSERT_TRUE(parse_seconds_ns("0.0000000015", ns));  // 1.5 ns: the tenth decimal rounds up
  EXPECT_EQ(ns, 2);
  ASSERT_TRUE(parse_seconds_ns("0.00000000149999", ns));
  EXPECT_EQ(ns, 1);
  ASSERT_TRUE(parse_seconds_ns("8999999999.999999999", ns));
  EXPECT_EQ(ns, 8'999'999'999'999'999'999);
  for (const char* bad : {"", "-1", "1e3", "+1", ".", "1.2.3", "12a", "9000000000", " 1"}) {
    EXPECT_FALSE(parse_seconds_ns(bad, ns)) << bad;
  }
  EXPECT_TRUE(parse_seconds_ns(".5", ns));
  EXPECT_EQ(ns, 500'000'000);
}

// Rows with times chosen to catch any floating-point step (1 ns, 0.1 s, 1/3-like
// decimals): each request arrives at exactly the time written, for the tenant its model
// names.
TEST(TraceCsv, EveryRequestArrivesAtItsExactNanosecond) {
  TempFile f("t.csv",
             "# synthetic\ntime_s,model\n"
             "0,resnet50_v1\n"
             "0.000000001,densenet121\n"
             "0.1,resnet50_v1\n"
             "0.100000007,resnet50_v1\n"
             "0.333333333,densenet121\n"
             "0.7,densenet121\n"
             "1.234567891,resnet50_v1\n");
  Experiment x = experiment_from(v100_header(2, 0, 2) +
                                 "policy: {name: exclusive}\ntenants:\n"
                                 "  - {model: resnet50_v1, arrival: " +
                                 trace(f.path()) +
                                 "}\n"
                                 "  - {model: densenet121, arrival: " +
                                 trace(f.path()) + "}\n");
  CollectingSink sink;
  RunResult r = testing::run(x, &sink);
  std::multimap<SimTime, std::uint32_t> got;
  for (const auto& o : sink.outcomes) got.emplace(o.arrival, o.tenant);
  const std::vector<std::pair<SimTime, std::uint32_t>> want{
      {0, 0},           {1, 1},           {100'000'000, 0},  {100'000'007, 0},
      {333'333'333, 1}, {700'000'000, 1}, {1'234'567'891, 0}};
  ASSERT_EQ(got.size(), want.size());
  auto it = got.begin();
  for (const auto& [t, tenant] : want) {
    EXPECT_EQ(it->first, t);
    EXPECT_EQ(it->second, tenant) << t;
    ++it;
  }
  EXPECT_EQ(r.tenants[0].requests, 4u);
  EXPECT_EQ(r.tenants[1].requests, 3u);
}

// `time_s,tenant` rows go to the tenant of that name; time_scale divides times.
TEST(TraceCsv, TenantKeyedRowsAndTimeScale) {
  TempFile f("t.csv", "time_s,tenant\n1,b/1\n2,b/0\n3,b/1\n3,a\n");
  Experiment x = experiment_from(v100_header(10, 0, 3) +
                                 "policy: {name: exclusive}\ntenants:\n"
                                 "  - {model: resnet50_v1, name: a, arrival: " +
                                 trace(f.path(), ", time_scale: 2") +
                                 "}\n"
                                 "  - {model: resnet18_v1, name: b, replicas: 2, arrival: " +
                                 trace(f.path(), ", time_scale: 2") + "}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  std::multimap<SimTime, std::uint32_t> got;
  for (const auto& o : sink.outcomes) got.emplace(o.arrival, o.tenant);
  // tenants: 0 = a, 1 = b/0, 2 = b/1; times halved.
  const std::vector<std::pair<SimTime, std::uint32_t>> want{
      {500'000'000, 2}, {1'000'000'000, 1}, {1'500'000'000, 2}, {1'500'000'000, 0}};
  ASSERT_EQ(got.size(), want.size());
  std::multiset<std::pair<SimTime, std::uint32_t>> a(want.begin(), want.end()), b;
  for (const auto& [t, tenant] : got) b.emplace(t, tenant);
  EXPECT_EQ(a, b);
}

// Bad traces are input errors naming the file, line and column.
TEST(TraceCsv, BadRowsAreInputErrorsAtTheirPosition) {
  struct Case {
    std::string text, where, what;
  };
  const std::vector<Case> cases{
      {"time_s,model\n0.5,resnet50_v1\n0.25,resnet50_v1\n", ":3:1:", "must not decrease"},
      {"time_s,model\n1e3,resnet50_v1\n", ":2:1:", "plain decimal"},
      {"time_s,model\n1,resnet50_v1,x\n", ":2:1:", "expected 2 fields"},
      {"time,model\n", ":1:1:", "header"},
      {"time_s,model\n1,densenet121\n", ":2:3:", "no tenant reading this trace serves model"},
      {"", ":1:1:", "empty trace"},  // a whole-file problem, at 1:1 as read_input_file reports
  };
  for (const Case& c : cases) {
    TempFile f("bad.csv", c.text);
    try {
      Experiment x = experiment_from(v100_header(1) +
                                     "policy: {name: exclusive}\ntenants:\n"
                                     "  - {model: resnet50_v1, arrival: " +
                                     trace(f.path()) + "}\n");
      testing::run(x);
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(f.path() + c.where), std::string::npos) << msg;
      EXPECT_NE(msg.find(c.what), std::string::npos) << msg;
    }
  }
}

// A gzip trace is read through zlib, which reports a stream cut short only through
// gzerror (gzread returns 0, as at the end of the file): a cut file, or one whose checksum
// fails, must be an input error, never a shorter trace. Cut a 20,000-line file in half: the
// lines before the cut come back, then the error names the line the cut falls in.
TEST(TraceGzip, CutOrCorruptFilesAreInputErrorsNotShortTraces) {
  TempFile f("t.csv.gz", "");
  const int kLines = 20000;
  {
    gzFile z = gzopen(f.path().c_str(), "wb");
    ASSERT_NE(z, nullptr);
    for (int i = 0; i < kLines; ++i) gzprintf(z, "%d.000000001,resnet50_v1\n", i);
    ASSERT_EQ(gzclose(z), Z_OK);
  }
  std::string bytes;
  {
    std::ifstream in(f.path(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 1000u);
  // Every line of the intact file, and no error.
  auto read_all = [&](int& lines) {
    LineReader r(f.path(), Mark{});
    std::string_view line;
    lines = 0;
    while (r.next(line)) ++lines;
  };
  int lines = 0;
  read_all(lines);
  EXPECT_EQ(lines, kLines);

  auto rewrite = [&](const std::string& b) { std::ofstream(f.path(), std::ios::binary) << b; };
  // Cut in the middle of the stream.
  rewrite(bytes.substr(0, bytes.size() / 2));
  {
    LineReader r(f.path(), Mark{});
    std::string_view line;
    int n = 0;
    try {
      while (r.next(line)) ++n;
      ADD_FAILURE() << "a cut file read as " << n << " lines";
    } catch (const InputError& e) {
      EXPECT_GT(n, 0);
      EXPECT_LT(n, kLines);
      EXPECT_EQ(e.mark().line, n + 1) << e.what();  // the line the cut falls in
      EXPECT_NE(std::string(e.what()).find("middle of its stream"), std::string::npos) << e.what();
    }
  }
  // The whole stream, with its CRC-32 (the trailer's first 4 of 8 bytes) changed.
  std::string bad = bytes;
  bad[bad.size() - 8] = static_cast<char>(bad[bad.size() - 8] ^ 0x01);
  rewrite(bad);
  try {
    read_all(lines);
    ADD_FAILURE() << "a file whose checksum fails read as " << lines << " lines";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt compressed data"), std::string::npos) << e.what();
  }
}

// A model-keyed trace cannot feed two replicas without a router, and with `unmatched:
// skip` rows for models nobody serves are ignored.
TEST(TraceCsv, ModelKeysNeedOneTargetPerModel) {
  TempFile f("t.csv", "time_s,model\n0.001,resnet50_v1\n0.002,densenet121\n");
  Experiment two = experiment_from(v100_header(1, 0, 2) +
                                   "policy: {name: exclusive}\ntenants:\n"
                                   "  - {model: resnet50_v1, replicas: 2, arrival: " +
                                   trace(f.path(), ", unmatched: skip") + "}\n");
  EXPECT_THROW(testing::run(two), InputError);
  Experiment skip = experiment_from(v100_header(1) +
                                    "policy: {name: exclusive}\ntenants:\n"
                                    "  - {model: resnet50_v1, arrival: " +
                                    trace(f.path(), ", unmatched: skip") + "}\n");
  EXPECT_EQ(testing::run(skip).all.requests, 1u);
}

// Entries that name one trace file with equal settings read one instance of it, however
// the path is spelled: "dir/t.csv", "dir/./t.csv" and a symlink are the same two rows, so
// each is replayed once (2 requests), and two resnet50_v1 entries on a model-keyed trace
// are the same error as with identical spellings.
TEST(TraceCsv, OneFileSpelledTwoWaysIsOneTrace) {
  TempFile f("t.csv", "time_s,model\n0.001,resnet50_v1\n0.002,densenet121\n");
  const std::filesystem::path file(f.path());
  const std::string dotted = (file.parent_path() / "." / file.filename()).string();
  const std::string link = (file.parent_path() / "link.csv").string();
  std::filesystem::create_symlink(file, link);
  for (const std::string& other : {dotted, link}) {
    Experiment both = experiment_from(v100_header(1, 0, 2) +
                                      "policy: {name: exclusive}\ntenants:\n"
                                      "  - {model: resnet50_v1, arrival: " +
                                      trace(f.path()) +
                                      "}\n"
                                      "  - {model: densenet121, arrival: " +
                                      trace(other) + "}\n");
    EXPECT_EQ(testing::run(both).all.requests, 2u) << other;
    Experiment twice = experiment_from(v100_header(1, 0, 2) +
                                       "policy: {name: exclusive}\ntenants:\n"
                                       "  - {model: resnet50_v1, arrival: " +
                                       trace(f.path(), ", unmatched: skip") +
                                       "}\n"
                                       "  - {model: resnet50_v1, arrival: " +
                                       trace(other, ", unmatched: skip") + "}\n");
    try {
      testing::run(twice);
      ADD_FAILURE() << "two resnet50_v1 targets of one model-keyed trace, via " << other;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("served by two targets"), std::string::npos) << e.what();
    }
  }
}

// An Azure 2019 file: 4 ids and 1440 per-minute counts per function.
std::string azure2019(const std::vector<std::map<int, int>>& functions) {
  std::string s = "# synthetic test trace\nHashOwner,HashApp,HashFunction,Trigger";
  for (int m = 1; m <= 1440; ++m) s += fmt::format(",{}", m);
  s += "\n";
  for (std::size_t i = 0; i < functions.size(); ++i) {
    s += fmt::format("o{0},a{0},f{0},http", i);
    for (int m = 1; m <= 1440; ++m) {
      auto it = functions[i].find(m);
      s += fmt::format(",{}", it == functions[i].end() ? 0 : it->second);
    }
    s += "\n";
  }
  return s;
}

// Per tenant, the arrivals in each minute of the run (minute length `minute_ns`).
std::vector<std::map<int, int>> per_minute(const CollectingSink& sink, std::size_t tenants,
                                           SimTime minute_ns) {
  std::vector<std::map<int, int>> out(tenants);
  for (const auto& o : sink.outcomes) ++out[o.tenant][static_cast<int>(o.arrival / minute_ns)];
  return out;
}

// Three functions; busiest first maps the 2nd (total 40) to tenant 0, the 3rd (31) to tenant
// 1 and the 1st (6) to tenant 2. Minutes 2..5 are replayed (start_minute 2, minutes 4), so
// minute m of the file is minute m - 2 of the run; counts outside are not replayed.
const std::vector<std::map<int, int>> kFunctions{
    {{1, 100}, {2, 3}, {5, 3}},          // window total 6
    {{2, 10}, {3, 20}, {4, 5}, {5, 5}},  // 40
    {{3, 30}, {5, 1}, {6, 9}},           // 31
};

void expect_counts(const std::string& within) {
  TempFile f("d01.csv", azure2019(kFunctions));
  const std::string arrival =
      trace(f.path(), ", format: azure2019, start_minute: 2, minutes: 4" + within);
  Experiment x = experiment_from(v100_header(300, 0, 3) +
                                 "policy: {name: exclusive}\ntenants:\n"
                                 "  - {model: resnet50_v1, name: a, arrival: " +
                                 arrival +
                                 "}\n"
                                 "  - {model: resnet50_v1, name: b, arrival: " +
                                 arrival +
                                 "}\n"
                                 "  - {model: densenet121, arrival: " +
                                 arrival + "}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  const SimTime minute = 60'000'000'000;
  auto got = per_minute(sink, 3, minute);
  EXPECT_EQ(got[0], (std::map<int, int>{{0, 10}, {1, 20}, {2, 5}, {3, 5}}));
  EXPECT_EQ(got[1], (std::map<int, int>{{1, 30}, {3, 1}}));
  EXPECT_EQ(got[2], (std::map<int, int>{{0, 3}, {3, 3}}));
}

TEST(TraceAzure2019, ReproducesPerMinuteCountsExactly) { expect_counts(""); }
TEST(TraceAzure2019, GammaWithinMinutesKeepsTheCounts) { expect_counts(", within: gamma, cv: 4"); }

// The functions' arrivals are merged into one stream (each minute's points sorted by
// time, then target). 37 functions in minutes of 60 ns (time_scale 1e9): with `scale` 1,
// 186-188 arrivals share a minute's 60 ns, so many share a nanosecond. With `scale` 1000, a
// minute holds 186,000-188,000, more than a piece holds (kPieceArrivals, 16,384), so each
// minute is halved into 16 pieces of under 4 ns (188,000 / 16 = 11,750 a piece): that
// exercises the halving, the pieces' bounds and the radix sort. Whatever the random draws,
// a correct merge delivers times in order, equal times in target order, every function's
// per-minute count exactly, and then kNever.
void expect_merged_in_order(int scale) {
  std::vector<std::map<int, int>> functions(37);
  std::vector<std::map<int, int>> want(37);  // per target (file order), by run minute
  for (int i = 0; i < 37; ++i) {
    for (int m = 1; m <= 4; ++m) {
      const int c = (i * 7 + m * 3) % 11 * scale;  // 0..10 x scale; minute 4 is not replayed
      if (c == 0) continue;
      functions[static_cast<std::size_t>(i)][m] = c;
      if (m <= 3) want[static_cast<std::size_t>(i)][m - 1] = c;
    }
  }
  TempFile f("d01.csv", azure2019(functions));
  for (const char* within : {"", ", within: gamma, cv: 3"}) {
    SCOPED_TRACE(within);
    const Experiment x = experiment_from(
        v100_header(1) + "policy: {name: exclusive}\ntenants:\n  - {model: resnet50_v1, arrival: " +
        trace(f.path(),
              std::string(", format: azure2019, map: file, minutes: 3, time_scale: 1e9") + within) +
        "}\n");
    const TenantSpec& ts = x.tenants.at(0);
    std::vector<ArrivalTarget> targets;
    for (int i = 0; i < 37; ++i) targets.push_back({fmt::format("t{}", i), "resnet50_v1"});
    auto process = testing::registries()
                       .arrivals.get("trace", ts.mark)
                       .create(ArrivalSetup{ts.arrival_params, targets, ts.mark});
    Rng rng(12345);
    std::vector<std::map<int, int>> got(37);
    SimTime prev_time = -1;
    std::uint32_t prev_target = 0;
    int ties = 0;
    for (;;) {
      std::uint32_t target = 0;
      const SimTime t = process->next(rng, std::max<SimTime>(prev_time, 0), target);
      if (t == ArrivalProcess::kNever) break;
      ASSERT_LT(target, 37u);
      ASSERT_GE(t, prev_time);
      if (t == prev_time) {
        ASSERT_GE(target, prev_target) << "at " << t << " ns";
        if (target != prev_target) ++ties;
      }
      ++got[target][static_cast<int>(t / 60)];  // a minute is 60e9 / 1e9 = 60 ns
      prev_time = t;
      prev_target = target;
    }
    EXPECT_EQ(got, want);
    EXPECT_GT(ties, 20);  // the tie order was exercised
    std::uint32_t target = 0;
    EXPECT_EQ(process->next(rng, prev_time, target), ArrivalProcess::kNever);  // and stays done
  }
}

TEST(TraceAzure2019, MergeOfManyFunctionsIsInTimeThenTargetOrder) { expect_merged_in_order(1); }
TEST(TraceAzure2019, MinutesHalvedIntoPiecesKeepTheOrderAndCounts) { expect_merged_in_order(1000); }

// time_scale 60 makes a trace minute one second; rate_scale multiplies the counts with the
// fractions carried: 0.5 x (10, 20, 5, 5) has running totals 5, 15, 17.5, 20 -> 5, 10, 2, 3.
TEST(TraceAzure2019, TimeScaleAndRateScale) {
  TempFile f("d01.csv", azure2019(kFunctions));
  Experiment x = experiment_from(
      v100_header(10) + "policy: {name: exclusive}\ntenants:\n  - {model: resnet50_v1, arrival: " +
      trace(f.path(),
            ", format: azure2019, start_minute: 2, minutes: 4, time_scale: 60, rate_scale: 0.5") +
      "}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  auto got = per_minute(sink, 1, 1'000'000'000);
  EXPECT_EQ(got[0], (std::map<int, int>{{0, 5}, {1, 10}, {2, 2}, {3, 3}}));
}

// Inside a minute Poisson arrivals are uniform: with one function of 60000 invocations in a
// minute, each second holds 1000 +- 3 sqrt(1000 (1 - 1/60)) ~ 94 of them. The minute holds
// more than a piece (16,384), so it is halved twice into four 15 s pieces whose counts
// come from Binomial(n, 1/2) splits: a biased split would crowd some seconds.
TEST(TraceAzure2019, PoissonWithinAMinuteIsUniform) {
  TempFile f("d01.csv", azure2019({{{1, 60000}}}));
  Experiment x = experiment_from(v100_header(61, 0, 1) +
                                 "policy: {name: space_time}\ntenants:\n"
                                 "  - {model: resnet18_v1, arrival: " +
                                 trace(f.path(), ", format: azure2019, minutes: 1") + "}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  ASSERT_EQ(sink.outcomes.size(), 60000u);
  std::map<int, int> per_second;
  for (const auto& o : sink.outcomes) ++per_second[static_cast<int>(o.arrival / 1'000'000'000)];
  ASSERT_EQ(per_second.size(), 60u);
  for (const auto& [s, n] : per_second) EXPECT_NEAR(n, 1000, 94) << "second " << s;
}

// A minute of 60,000 Poisson invocations is halved twice into four 15 s pieces, and a
// piece's count comes from Binomial splits (60,000 -> halves -> quarters). Uniform points
// put Binomial(60,000, 1/4) of them in each quarter: mean 15,000, variance 60,000 (1/4)(3/4)
// = 11,250. Over 200 seeds the mean of a quarter's count has a standard error of
// sqrt(11,250 / 200) = 7.5, and the sample variance a relative one of sqrt(2 / 199) = 0.10:
// 5 standard errors are +-38 and [0.5, 1.5]. Splits that were even (n / 2) would give a
// variance of 0; drawing the resumed right halves wrongly would miss the mean.
TEST(TraceAzure2019, PiecesOfAMinuteHoldBinomialCounts) {
  TempFile f("d01.csv", azure2019({{{1, 60000}}}));
  const Experiment x = experiment_from(
      v100_header(61) + "policy: {name: exclusive}\ntenants:\n  - {model: resnet50_v1, arrival: " +
      trace(f.path(), ", format: azure2019, minutes: 1") + "}\n");
  const TenantSpec& ts = x.tenants.at(0);
  const std::vector<ArrivalTarget> targets{{"t", "resnet50_v1"}};
  const int runs = 200;
  std::vector<std::vector<double>> quarter(4);
  for (int run = 0; run < runs; ++run) {
    auto process = testing::registries()
                       .arrivals.get("trace", ts.mark)
                       .create(ArrivalSetup{ts.arrival_params, targets, ts.mark});
    Rng rng(1000 + static_cast<std::uint64_t>(run));
    int counts[4] = {0, 0, 0, 0};
    std::uint32_t target = 0;
    SimTime prev = 0;
    for (SimTime t = 0; (t = process->next(rng, t, target)) != ArrivalProcess::kNever;) {
      ASSERT_GE(t, prev);  // 15 s pieces: 34-bit offsets, sorted in three radix passes
      ASSERT_LT(t, 60'000'000'000);
      ++counts[t / 15'000'000'000];
      prev = t;
    }
    ASSERT_EQ(counts[0] + counts[1] + counts[2] + counts[3], 60000);
    for (int q = 0; q < 4; ++q) quarter[static_cast<std::size_t>(q)].push_back(counts[q]);
  }
  for (int q = 0; q < 4; ++q) {
    const std::vector<double>& c = quarter[static_cast<std::size_t>(q)];
    double mean = 0;
    for (const double v : c) mean += v / runs;
    double var = 0;
    for (const double v : c) var += (v - mean) * (v - mean) / (runs - 1);
    EXPECT_NEAR(mean, 15000, 38) << "quarter " << q;
    EXPECT_NEAR(var / 11250, 1.0, 0.5) << "quarter " << q;
  }
}

// A time_scale so small that the replay would run past the clock's horizon (1e18 ns) is an
// input error at the key, for every format: scaled times would overflow. A 4 s CSV trace
// at time_scale 1e-9 reaches 4e18 ns; at 4e-9 exactly the horizon, which is allowed. A day
// of Azure 2019 minutes (86,400 s) needs time_scale >= 8.64e13 / 1e18 = 8.64e-5.
TEST(TraceTimeScale, PastTheHorizonIsAnInputErrorAtTheKey) {
  TempFile csv("t.csv", "time_s,model\n1,resnet50_v1\n4,resnet50_v1\n");
  TempFile az("d01.csv", azure2019({{{1, 3}}}));
  auto run_with = [](const std::string& arrival) {
    testing::run(experiment_from(v100_header(10) +
                                 "policy: {name: exclusive}\ntenants:\n"
                                 "  - {model: resnet50_v1, arrival: " +
                                 arrival + "}\n"));
  };
  const std::string arrival = trace(csv.path(), ", time_scale: 1e-9");
  try {
    run_with(arrival);
    FAIL() << "expected an input error";
  } catch (const InputError& e) {
    // Line 8 (five header lines, `policy`, `tenants`, the entry), at the value of the key.
    const std::string line = "  - {model: resnet50_v1, arrival: " + arrival;
    EXPECT_EQ(std::string(e.what()),
              fmt::format("test.yaml:8:{}: time_scale 1e-09 stretches the trace's 4 s to 4e+09 "
                          "s, past the clock's horizon of 1e+09 s: expected a larger time_scale",
                          line.find("1e-9") + 1));
  }
  EXPECT_NO_THROW(run_with(trace(csv.path(), ", time_scale: 4e-9")));
  EXPECT_THROW(run_with(trace(az.path(), ", format: azure2019, time_scale: 8e-5")), InputError);
  EXPECT_NO_THROW(run_with(trace(az.path(), ", format: azure2019, time_scale: 8.7e-5")));
}

// A minute may hold at most 2^20 = 1,048,576 invocations per simulated nanosecond (its
// pieces are at least a nanosecond long, and a piece's arrivals are held in memory). 100
// invocations at rate_scale 1e6 are 1e8 in a minute of 60 ns (time_scale 1e9): 1.67e6 per
// ns, an input error at rate_scale; at rate_scale 6e5, 6e7 / 60 = 1e6 per ns, which is
// allowed (the process is created and its first arrivals drawn, not a whole run).
TEST(TraceAzure2019, MoreThanAMillionInvocationsPerNanosecondIsAnInputError) {
  TempFile f("d01.csv", azure2019({{{1, 100}}}));
  auto create = [&](const std::string& rate_scale) {
    const Experiment x = experiment_from(
        v100_header(1) + "policy: {name: exclusive}\ntenants:\n  - {model: resnet50_v1, arrival: " +
        trace(f.path(),
              ", format: azure2019, minutes: 1, time_scale: 1e9, rate_scale: " + rate_scale) +
        "}\n");
    const TenantSpec& ts = x.tenants.at(0);
    const std::vector<ArrivalTarget> targets{{"t", "resnet50_v1"}};
    return testing::registries()
        .arrivals.get("trace", ts.mark)
        .create(ArrivalSetup{ts.arrival_params, targets, ts.mark});
  };
  try {
    create("1e6");
    FAIL() << "expected an input error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("minute 1 of the trace holds 1e+08 invocations "
                                         "(rate_scale 1000000) in 60 ns"),
              std::string::npos)
        << e.what();
  }
  auto ok = create("6e5");
  Rng rng(1);
  std::uint32_t target = 0;
  SimTime prev = 0;
  for (int i = 0; i < 1000; ++i) {
    const SimTime t = ok->next(rng, prev, target);
    ASSERT_GE(t, prev);
    ASSERT_LT(t, 60);
    prev = t;
  }
}

// Busiest first with fewer targets than functions, ties in file order. Window totals by row:
// 5, 9, 5, 9, 2, 5. The three busiest are row 1 (9), row 3 (9, after row 1) and row 0 (5,
// before rows 2 and 5): row 3 must displace row 2, and row 5 must not displace row 0. Each
// row's minute tells which row a tenant got.
TEST(TraceAzure2019, BusiestFirstKeepsTheBusiestWithTiesInFileOrder) {
  TempFile f("d01.csv", azure2019({{{1, 5}}, {{1, 9}}, {{2, 5}}, {{2, 9}}, {{1, 2}}, {{2, 5}}}));
  const std::string arrival = trace(f.path(), ", format: azure2019, minutes: 2");
  Experiment x = experiment_from(v100_header(121, 0, 3) +
                                 "policy: {name: exclusive}\ntenants:\n"
                                 "  - {model: resnet50_v1, replicas: 3, arrival: " +
                                 arrival + "}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  auto got = per_minute(sink, 3, 60'000'000'000);
  EXPECT_EQ(got[0], (std::map<int, int>{{0, 9}}));  // row 1
  EXPECT_EQ(got[1], (std::map<int, int>{{1, 9}}));  // row 3
  EXPECT_EQ(got[2], (std::map<int, int>{{0, 5}}));  // row 0
}

// More tenants than functions is an input error; `map: file` maps in file order.
TEST(TraceAzure2019, MappingErrorsAndFileOrder) {
  TempFile f("d01.csv", azure2019({{{1, 1}}, {{1, 5}}}));
  const std::string arrival = trace(f.path(), ", format: azure2019, map: file, minutes: 1");
  Experiment three = experiment_from(v100_header(61, 0, 3) +
                                     "policy: {name: exclusive}\ntenants:\n"
                                     "  - {model: resnet50_v1, replicas: 3, arrival: " +
                                     arrival + "}\n");
  EXPECT_THROW(testing::run(three), InputError);
  Experiment two = experiment_from(v100_header(61, 0, 2) +
                                   "policy: {name: exclusive}\ntenants:\n"
                                   "  - {model: resnet50_v1, replicas: 2, arrival: " +
                                   arrival + "}\n");
  RunResult r = testing::run(two);
  EXPECT_EQ(r.tenants[0].requests, 1u);
  EXPECT_EQ(r.tenants[1].requests, 5u);
  // A key of another format is an error at the key.
  EXPECT_THROW(experiment_from(v100_header(1) +
                               "policy: {name: exclusive}\ntenants:\n"
                               "  - {model: resnet50_v1, arrival: " +
                               trace(f.path(), ", minutes: 1") + "}\n"),
               InputError);
}

// Azure 2021: rows ordered by end time, starts (end - duration) out of order. Function
// (a, f1) has 3 invocations, (a, f2) 2, (b, f1) 1: busiest first maps them to tenants 0, 1
// and 2. origin_s 100 is time 0 and skips the invocation starting at 99.5.
TEST(TraceAzure2021, ReproducesItsInvocations) {
  TempFile f("inv.csv",
             "app,func,end_timestamp,duration\n"
             "a,f2,100.5,1.0\n"          // starts 99.5: before the origin, skipped
             "a,f1,101.25,0.125\n"       // 101.125
             "b,f1,103.0,2.999999999\n"  // 100.000000001
             "a,f1,104.0,0.0\n"          // 104
             "a,f2,104.5,3.25\n"         // 101.25
             "a,f1,110.123456789,9.0\n"  // 101.123456789
             "a,f2,111,0.5\n");          // 110.5
  const std::string arrival = trace(f.path(), ", format: azure2021, origin_s: 100");
  Experiment x = experiment_from(v100_header(20, 0, 3) +
                                 "policy: {name: exclusive}\ntenants:\n"
                                 "  - {model: resnet50_v1, replicas: 2, arrival: " +
                                 arrival +
                                 "}\n"
                                 "  - {model: densenet121, arrival: " +
                                 arrival + "}\n");
  CollectingSink sink;
  testing::run(x, &sink);
  std::multiset<std::pair<SimTime, std::uint32_t>> got,
      want{
          {1'125'000'000, 0},  {1, 2}, {4'000'000'000, 0}, {1'250'000'000, 1}, {1'123'456'789, 0},
          {10'500'000'000, 1},
      };
  for (const auto& o : sink.outcomes) got.emplace(o.arrival, o.tenant);
  EXPECT_EQ(got, want);
}

TEST(TraceAzure2021, BadRowsAreInputErrors) {
  TempFile f("inv.csv", "app,func,end_timestamp,duration\na,f,1.0,2.0\n");
  try {
    Experiment x = experiment_from(v100_header(1) +
                                   "policy: {name: exclusive}\ntenants:\n"
                                   "  - {model: resnet50_v1, arrival: " +
                                   trace(f.path(), ", format: azure2021") + "}\n");
    testing::run(x);
    ADD_FAILURE() << "accepted a duration longer than its end time";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(f.path() + ":2:9:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace infersim
