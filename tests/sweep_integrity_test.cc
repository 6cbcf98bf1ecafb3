// What keeps a sweep's files trustworthy (issue 7): swept columns named as Python
// identifiers (sim/sweep/plan.h); a full disk is one clean error (sim/results/write_driver.h);
// a shard's checksum covers everything it holds (sim/sweep/shard_store.h), and a result
// set's content checksum everything it holds (sim/results/hdf5_writer.h).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include "sim/core/hash.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/plan.h"
#include "sim/sweep/shard_store.h"

namespace infersim {
namespace {

const std::set<std::string> kFixed{"run", "seed", "policy", "point", "replications"};
const Mark kWhere{"test.yaml", 9, 5};

std::string column(const std::string& path) { return swept_column_name(path, kFixed, kWhere); }

TEST(SweptColumnNames, DottedPathsBecomeIdentifiersWithDoubleUnderscores) {
  EXPECT_EQ(column("policy.max_batch"), "policy__max_batch");
  EXPECT_EQ(column("tenants.0.arrival.rate"), "tenants__0__arrival__rate");
  EXPECT_EQ(column("duration_s"), "duration_s");
}

TEST(SweptColumnNames, FixedColumnsAndKeywordsGetAPrefix) {
  EXPECT_EQ(column("seed"), "sweep__seed");
  EXPECT_EQ(column("lambda"), "sweep__lambda");
}

TEST(SweptColumnNames, AmbiguousPartsAreInputErrorsAtTheSweepEntry) {
  for (const char* path : {"a__b.c", "a._b", "a_.b", "a..b", "a.b-c"}) {
    try {
      column(path);
      ADD_FAILURE() << path << ": no error";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("test.yaml:9:5: ", 0), 0u) << e.what();
    }
  }
}

ShardContent sample_shard() {
  ShardContent c;
  c.info.run = 5;
  c.info.point = 1;
  c.info.replication = 2;
  c.info.runs_total = 36;
  c.info.replications = 3;
  c.info.config_hash = "00112233445566ff";
  c.info.sweep_id = "8899aabbccddeeff";
  c.info.requests = true;
  for (const auto& name : shard_attr_names()) c.attrs.emplace_back(name, "text of " + name);
  c.summary.add_column("run", ColType::Int64);
  c.summary.add_column("p99_ms", ColType::Float64);
  c.summary.add_column("policy", ColType::String);
  c.summary.rows.push_back({std::int64_t{5}, 12.5, std::string("mps")});
  c.tenants.add_column("name", ColType::String);
  c.tenants.rows.push_back({std::string("a")});
  c.tenants.rows.push_back({std::string("b")});
  return c;
}

// Every part of a shard moves its checksum: the description, each attribute, a table's
// names, types and cells, and the request records' hash (a change to anything it holds is
// detected, whichever part the damage lands in).
TEST(ShardChecksum, CoversEveryPartOfTheShard) {
  const ShardContent base = sample_shard();
  const std::uint64_t requests = fnv1a64("records");
  const std::string sum = shard_checksum(base, requests);
  EXPECT_EQ(sum.size(), 16u);
  EXPECT_EQ(shard_checksum(base, requests), sum) << "not deterministic";
  auto differs = [&](const char* what, auto change, std::uint64_t req) {
    ShardContent c = sample_shard();
    change(c);
    EXPECT_NE(shard_checksum(c, req), sum) << what;
  };
  auto none = [](ShardContent&) {};
  differs(
      "run", [](ShardContent& c) { c.info.run = 4; }, requests);
  differs(
      "requests flag", [](ShardContent& c) { c.info.requests = false; }, requests);
  differs(
      "config hash", [](ShardContent& c) { c.info.config_hash[3] = 'f'; }, requests);
  differs("request records", none, fnv1a64("recordz"));
  for (std::size_t a = 0; a < base.attrs.size(); ++a) {
    differs(
        base.attrs[a].first.c_str(), [a](ShardContent& c) { c.attrs[a].second += "x"; }, requests);
  }
  differs(
      "column name", [](ShardContent& c) { c.summary.names[1] = "p90_ms"; }, requests);
  differs(
      "column type", [](ShardContent& c) { c.summary.types[0] = ColType::Float64; }, requests);
  differs(
      "int cell", [](ShardContent& c) { c.summary.rows[0][0] = std::int64_t{6}; }, requests);
  differs(
      "float cell", [](ShardContent& c) { c.summary.rows[0][1] = 12.500000000000002; }, requests);
  differs(
      "string cell", [](ShardContent& c) { c.summary.rows[0][2] = std::string("mpx"); }, requests);
  differs(
      "a row less", [](ShardContent& c) { c.tenants.rows.pop_back(); }, requests);
  // Strings are hashed as stored: up to their first NUL.
  ShardContent padded = sample_shard();
  std::get<std::string>(padded.tenants.rows[0][0]).push_back('\0');
  EXPECT_EQ(shard_checksum(padded, requests), sum);
  // The checksum line itself is not hashed.
  ShardContent with_sum = sample_shard();
  with_sum.info.checksum = sum;
  EXPECT_EQ(shard_checksum(with_sum, requests), sum);
}

// Writes a ~1 MiB table to `out` under a 64 KiB file-size limit and exits: 0 when the
// ResultFile threw one line naming the file and EFBIG, 1 for another error, 2 when written.
[[noreturn]] void write_past_the_limit(const std::string& out) {
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit limit{};
  limit.rlim_cur = limit.rlim_max = 64 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &limit);
  Table t;
  t.add_column("x", ColType::Int64);
  // Incompressible values (a multiplicative hash), 128k rows of 8 bytes.
  for (std::int64_t i = 0; i < (1 << 17); ++i) {
    t.rows.push_back(
        {static_cast<std::int64_t>(static_cast<std::uint64_t>(i) * 0x9e3779b97f4a7c15ULL)});
  }
  try {
    ResultFile f(out);
    f.write_table("/t", t);
    f.commit();
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    const bool one_line = what.find('\n') == std::string::npos;
    const bool named = what.rfind("cannot write " + out + ": File too large", 0) == 0;
    std::cerr << what << "\n";
    std::_Exit(one_line && named ? 0 : 1);
  }
  std::_Exit(2);
}

// In a child process (a death test), so the limit stays there.
TEST(WriteDriver, AFileSizeLimitIsOneErrorAndNoFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("infersim_write_driver_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "big.h5").string();
  EXPECT_EXIT(write_past_the_limit(out), ::testing::ExitedWithCode(0),
              "cannot write .*big.h5: File too large");
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a file was left in " << dir;
  std::filesystem::remove_all(dir);
}

// A result set (OUT.h5) carries a content checksum of everything it holds; changing any
// attribute text or cell afterwards, as a damaged global heap or datatype would, makes
// verify() throw. Each change is made through the HDF5 library, so the metadata checksums
// still hold and only the content checksum can tell.
class ResultSetChecksum : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("infersim_result_checksum_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "out.h5").string();
    Table t;
    t.add_column("run", ColType::Int64);
    t.add_column("p99_ms", ColType::Float64);
    t.rows.push_back({std::int64_t{0}, 4.636672});
    t.rows.push_back({std::int64_t{1}, 4.800512});
    ResultFile f(path_);
    f.write_table("/summary", t);
    f.set_root_attr("experiment_yaml", "seed: 8\n");
    f.commit();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Rewrites the root attribute `name` as a variable-length string holding `value`.
  void rewrite_attr(const std::string& name, const std::string& value) {
    const hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Adelete(f, name.c_str()), 0);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(f, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* text = value.c_str();
    EXPECT_GE(H5Awrite(a, type, &text), 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    H5Fclose(f);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(ResultSetChecksum, AnUnchangedFileVerifies) {
  EXPECT_TRUE(ResultReader(path_).verify());
  EXPECT_EQ(read_root_attr(path_, kContentChecksumAttr).size(), 16u);
}

TEST_F(ResultSetChecksum, ChangedAttributeTextIsDetected) {
  rewrite_attr("experiment_yaml", "seed: 9\n");
  EXPECT_THROW(ResultReader(path_).verify(), std::runtime_error);
}

TEST_F(ResultSetChecksum, AChangedCellIsDetected) {
  const hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t ds = H5Dopen2(f, "/summary", H5P_DEFAULT);
  const hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(double));
  H5Tinsert(mt, "p99_ms", 0, H5T_NATIVE_DOUBLE);
  const double doubled[2] = {9.273344, 9.601024};  // every p99 doubled
  EXPECT_GE(H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, doubled), 0);
  H5Tclose(mt);
  H5Dclose(ds);
  H5Fclose(f);
  EXPECT_THROW(ResultReader(path_).verify(), std::runtime_error);
}

TEST_F(ResultSetChecksum, AFileWithoutOneIsReportedUnverified) {
  rewrite_attr(kContentChecksumAttr, "");  // present but wrong: damaged
  EXPECT_THROW(ResultReader(path_).verify(), std::runtime_error);
  const hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  ASSERT_GE(H5Adelete(f, kContentChecksumAttr), 0);
  H5Fclose(f);
  EXPECT_FALSE(ResultReader(path_).verify());  // an older infersim's file
}

}  // namespace
}  // namespace infersim
