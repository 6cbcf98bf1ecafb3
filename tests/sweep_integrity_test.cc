// What keeps a sweep's files trustworthy (issue 7): swept columns named as Python
// identifiers (sim/sweep/plan.h).
#include <gtest/gtest.h>

#include <set>
#include <string>

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

}  // namespace
}  // namespace infersim
