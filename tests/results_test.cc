#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/results/hdf5_writer.h"

namespace infersim {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp directory, removed afterwards.
class ResultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("infersim_results_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string temp_of(const std::string& final_path) const {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return final_path + ".tmp." + std::to_string(::getpid()) + "." + host;
  }

  fs::path dir_;
};

Table sample_table() {
  Table t;
  t.add_column("run", ColType::Int64);
  t.add_column("policy", ColType::String);
  t.add_column("p99_ms", ColType::Float64);
  t.add_column("workload.rate", ColType::Float64);
  t.add_column("note", ColType::String);
  t.rows.push_back({std::int64_t{0}, std::string("exclusive"), 12.5, 100.0, std::string("")});
  t.rows.push_back(
      {std::int64_t{-7}, std::string("mps"), 0.1 + 0.2, 1e-300, std::string("héllo, UTF-8")});
  t.rows.push_back({std::numeric_limits<std::int64_t>::max(), std::string("time-sliced"), -0.0,
                    std::numeric_limits<double>::max(), std::string("x")});
  return t;
}

TEST_F(ResultsTest, TableRoundTripAllColumnTypes) {
  const std::string file = path("r.h5");
  const Table t = sample_table();
  {
    ResultFile rf(file);
    rf.write_table("/summary", t);
    rf.write_table("/nested/deeper/tenants", t);
    rf.set_root_attr("infersim_version", "0.1.0");
    rf.set_root_attr("experiment_yaml", "name: test\nrate: 100\n");
    rf.set_root_attr("experiment_yaml", "name: replaced\n");  // replaces
    rf.commit();
  }
  for (const char* ds : {"/summary", "/nested/deeper/tenants"}) {
    const Table back = read_table(file, ds);
    EXPECT_EQ(back.names, t.names) << ds;
    EXPECT_EQ(back.types, t.types) << ds;
    ASSERT_EQ(back.rows.size(), t.rows.size()) << ds;
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      EXPECT_EQ(back.rows[r], t.rows[r]) << ds << " row " << r;  // exact, bit-for-bit values
    }
  }
  EXPECT_EQ(read_table(file, "/summary").column("policy"), 1);
  EXPECT_EQ(read_root_attr(file, "infersim_version"), "0.1.0");
  EXPECT_EQ(read_root_attr(file, "experiment_yaml"), "name: replaced\n");
}

TEST_F(ResultsTest, EmptyTableIsWrittenAndReadable) {
  const std::string file = path("empty.h5");
  Table t;
  t.add_column("run", ColType::Int64);
  t.add_column("policy", ColType::String);
  t.add_column("mean_ms", ColType::Float64);
  {
    ResultFile rf(file);
    rf.write_table("/summary", t);
    rf.commit();
  }
  const Table back = read_table(file, "/summary");
  EXPECT_EQ(back.names, t.names);
  EXPECT_EQ(back.types, t.types);
  EXPECT_TRUE(back.rows.empty());
}

TEST_F(ResultsTest, LargeAttributeRoundTrips) {
  const std::string file = path("attr.h5");
  std::string yaml;
  while (yaml.size() < 300000) yaml += "key_" + std::to_string(yaml.size()) + ": value\n";
  {
    ResultFile rf(file);
    rf.set_root_attr("experiment_yaml", yaml);
    rf.commit();
  }
  EXPECT_EQ(read_root_attr(file, "experiment_yaml"), yaml);
}

RequestRecord record(std::int64_t i) {
  RequestRecord r;
  r.tenant = static_cast<std::int32_t>(i % 7);
  r.gpu = static_cast<std::int32_t>(i % 3);
  r.arrival_ns = i * 1000;
  r.start_ns = i * 1000 + 17;
  r.end_ns = i * 1000 + 5'000'000'000LL;
  r.batch = static_cast<std::int32_t>(1 + i % 32);
  r.status = static_cast<std::int8_t>(i % 11 == 0 ? 1 : 0);
  return r;
}

void expect_record(const RequestRecord& got, std::int64_t i) {
  const RequestRecord want = record(i);
  EXPECT_EQ(got.tenant, want.tenant) << i;
  EXPECT_EQ(got.gpu, want.gpu) << i;
  EXPECT_EQ(got.arrival_ns, want.arrival_ns) << i;
  EXPECT_EQ(got.start_ns, want.start_ns) << i;
  EXPECT_EQ(got.end_ns, want.end_ns) << i;
  EXPECT_EQ(got.batch, want.batch) << i;
  EXPECT_EQ(got.status, want.status) << i;
}

TEST_F(ResultsTest, RequestStreamRoundTrip) {
  const std::string file = path("req.h5");
  constexpr std::int64_t kN = 200'000;  // several flushes plus a partial one
  {
    ResultFile rf(file);
    auto s0 = rf.open_requests("/runs/0");
    auto s1 = rf.open_requests("/runs/1/");
    for (std::int64_t i = 0; i < kN; ++i) s0->append(record(i));
    for (std::int64_t i = 0; i < 5; ++i) s1->append(record(i));
    EXPECT_EQ(s0->size(), static_cast<std::uint64_t>(kN));
    s1->close();
    s1->close();  // idempotent
    EXPECT_THROW(s1->append(record(0)), std::runtime_error);
    auto s2 = rf.open_requests("/runs/2");  // stays empty; commit closes s0 and s2
    rf.commit();
    EXPECT_THROW(s0->append(record(0)), std::runtime_error);
  }
  const auto back = read_requests(file, "/runs/0");
  ASSERT_EQ(back.size(), static_cast<std::size_t>(kN));
  for (std::int64_t i : {std::int64_t{0}, std::int64_t{1}, std::int64_t{65535}, std::int64_t{65536},
                         std::int64_t{131073}, kN - 1}) {
    expect_record(back[static_cast<std::size_t>(i)], i);
  }
  EXPECT_EQ(read_requests(file, "/runs/1").size(), 5u);
  EXPECT_TRUE(read_requests(file, "/runs/2").empty());

  // The generic reader sees the seven columns too.
  const Table t = read_table(file, "/runs/1/requests");
  const std::vector<std::string> cols = {"tenant", "gpu",   "arrival_ns", "start_ns",
                                         "end_ns", "batch", "status"};
  EXPECT_EQ(t.names, cols);
  ASSERT_EQ(t.rows.size(), 5u);
  EXPECT_EQ(std::get<std::int64_t>(t.rows[4][2]), record(4).arrival_ns);
}

TEST_F(ResultsTest, StreamDestroyedBeforeCommitIsFlushed) {
  const std::string file = path("req2.h5");
  {
    ResultFile rf(file);
    {
      auto s = rf.open_requests("/runs/9");
      for (std::int64_t i = 0; i < 1000; ++i) s->append(record(i));
    }
    rf.commit();
  }
  const auto back = read_requests(file, "/runs/9");
  ASSERT_EQ(back.size(), 1000u);
  expect_record(back[999], 999);
}

TEST_F(ResultsTest, DestructorWithoutCommitLeavesNothing) {
  const std::string file = path("abandoned.h5");
  std::unique_ptr<RequestStream> survivor;
  {
    ResultFile rf(file);
    EXPECT_EQ(rf.temp_path(), temp_of(file));
    EXPECT_TRUE(fs::exists(temp_of(file)));
    rf.write_table("/summary", sample_table());
    survivor = rf.open_requests("/runs/0");
    survivor->append(record(1));
  }
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(temp_of(file)));
  EXPECT_TRUE(fs::is_empty(dir_));
  EXPECT_THROW(survivor->append(record(2)), std::runtime_error);
  survivor.reset();  // harmless after its file went away
}

TEST_F(ResultsTest, CommitLeavesNoTempFile) {
  const std::string file = path("ok.h5");
  {
    ResultFile rf(file);
    rf.write_table("/summary", sample_table());
    rf.commit();
    EXPECT_THROW(rf.write_table("/again", sample_table()), std::runtime_error);
  }
  EXPECT_TRUE(fs::exists(file));
  EXPECT_FALSE(fs::exists(temp_of(file)));
  std::vector<fs::path> entries(fs::directory_iterator(dir_), fs::directory_iterator{});
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].filename(), "ok.h5");
}

TEST_F(ResultsTest, CommitReplacesAnExistingFile) {
  const std::string file = path("twice.h5");
  for (const char* v : {"first", "second"}) {
    ResultFile rf(file);
    rf.set_root_attr("infersim_version", v);
    rf.commit();
  }
  EXPECT_EQ(read_root_attr(file, "infersim_version"), "second");
}

TEST_F(ResultsTest, WritesIntoMissingDirectory) {
  const std::string file = path("a/b/c/out.h5");
  {
    ResultFile rf(file);
    rf.write_table("/summary", sample_table());
    rf.commit();
  }
  EXPECT_EQ(read_table(file, "/summary").rows.size(), 3u);
}

TEST_F(ResultsTest, ErrorsBecomeRuntimeErrors) {
  const std::string file = path("err.h5");
  ResultFile rf(file);
  rf.write_table("/summary", sample_table());
  // Same dataset twice: HDF5 refuses, we throw with a message naming the dataset.
  try {
    rf.write_table("/summary", sample_table());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/summary"), std::string::npos) << e.what();
  }
  Table bad = sample_table();
  bad.rows[1][0] = std::string("not an int");
  EXPECT_THROW(rf.write_table("/bad", bad), std::runtime_error);
  Table ragged = sample_table();
  ragged.rows[0].pop_back();
  EXPECT_THROW(rf.write_table("/ragged", ragged), std::runtime_error);
  EXPECT_THROW(rf.write_table("/none", Table{}), std::runtime_error);
  EXPECT_THROW(read_table(path("missing.h5"), "/summary"), std::runtime_error);
  EXPECT_THROW(read_root_attr(path("missing.h5"), "x"), std::runtime_error);
  Table t;
  t.add_column("a", ColType::Int64);
  t.rows.push_back({std::int64_t{1}});
  EXPECT_THROW(t.add_column("b", ColType::Int64), std::logic_error);
}

}  // namespace
}  // namespace infersim
