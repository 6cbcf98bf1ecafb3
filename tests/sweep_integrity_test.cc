// What keeps a sweep's files trustworthy (issue 7): swept columns named as Python
// identifiers (sim/sweep/plan.h); a full disk is one clean error (sim/results/write_driver.h).
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

#include "sim/results/hdf5_writer.h"
#include "sim/sweep/plan.h"

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

}  // namespace
}  // namespace infersim
