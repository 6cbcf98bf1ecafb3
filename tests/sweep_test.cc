// The sweep language (sim/sweep/expansion.h): expansion order, zip, exclude, replications,
// value types, path errors with file:line:column, mark-preserving overrides; and the
// /aggregate statistics (sim/results/aggregate.h).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sim/config/overrides.h"
#include "sim/core/hash.h"
#include "sim/results/aggregate.h"
#include "sim/sweep/expansion.h"
#include "sim/sweep/tables.h"
#include "tests/harness.h"

namespace infersim {
namespace {

using testing::registries;

// Lines 1-7; the sweep block starts on line 8.
const std::string kBase =
    "name: s\n"
    "seed: 9\n"
    "duration_s: 2\n"
    "hardware: {profile: hardware_profiles/v100_clockwork.yaml, gpu: v100, count: 2}\n"
    "policy: {name: exclusive, max_batch: 4}\n"
    "tenants:\n"
    "  - {model: resnet50_v1, arrival: {process: poisson, rate: 100}}\n";

Sweep sweep_of(const std::string& block, const std::vector<std::string>& sets = {}) {
  return Sweep::from_text(kBase + block, "test.yaml", sets);
}

// The error of `fn` as "file:line:col: message".
template <typename F>
std::string error_of(F fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> labels(const Sweep& sw, std::size_t point) {
  std::vector<std::string> out;
  for (std::size_t p = 0; p < sw.params().size(); ++p) {
    out.push_back(sw.params()[p].labels[sw.point_values(point)[p]]);
  }
  return out;
}

TEST(Sweep, NoSweepIsOnePoint) {
  Sweep sw = Sweep::from_text(kBase, "test.yaml", {});
  EXPECT_FALSE(sw.has_sweep());
  EXPECT_EQ(sw.points(), 1u);
  EXPECT_EQ(sw.runs(), 1u);
  EXPECT_EQ(sw.describe(0), "");
  Experiment x = sw.experiment(0, registries().view());
  EXPECT_EQ(x.seed, 9u);
}

TEST(Sweep, GridIsACartesianProductFirstAxisSlowest) {
  Sweep sw = sweep_of(
      "sweep:\n"
      "  grid:\n"
      "    policy.max_batch: [1, 2]\n"
      "    tenants.0.arrival.rate: [10, 20, 30]\n");
  ASSERT_EQ(sw.points(), 6u);
  EXPECT_EQ(labels(sw, 0), (std::vector<std::string>{"1", "10"}));
  EXPECT_EQ(labels(sw, 1), (std::vector<std::string>{"1", "20"}));
  EXPECT_EQ(labels(sw, 2), (std::vector<std::string>{"1", "30"}));
  EXPECT_EQ(labels(sw, 3), (std::vector<std::string>{"2", "10"}));
  EXPECT_EQ(labels(sw, 5), (std::vector<std::string>{"2", "30"}));
  EXPECT_EQ(sw.describe(4), "policy.max_batch=2 tenants.0.arrival.rate=20");
  Experiment x = sw.experiment(4, registries().view());
  EXPECT_EQ(x.policy_params.get_int("max_batch"), 2);
  EXPECT_DOUBLE_EQ(x.tenants[0].arrival_params.get("rate"), 20);
}

TEST(Sweep, ZipAdvancesTogetherAndIsOneAxis) {
  Sweep sw = sweep_of(
      "sweep:\n"
      "  zip:\n"
      "    tenants.0.arrival.rate: [10, 20, 30]\n"
      "    tenants.0.slo_ms: [5, 6, 7]\n"
      "  grid:\n"
      "    hardware.count: [1, 2]\n");
  ASSERT_EQ(sw.points(), 6u);  // zip (3) x grid (2); zip written first, so it is slowest
  EXPECT_EQ(labels(sw, 0), (std::vector<std::string>{"10", "5", "1"}));
  EXPECT_EQ(labels(sw, 1), (std::vector<std::string>{"10", "5", "2"}));
  EXPECT_EQ(labels(sw, 2), (std::vector<std::string>{"20", "6", "1"}));
  EXPECT_EQ(labels(sw, 5), (std::vector<std::string>{"30", "7", "2"}));
  // Several zip groups: a list of mappings, one axis each.
  Sweep two = sweep_of(
      "sweep:\n"
      "  zip:\n"
      "    - {tenants.0.arrival.rate: [10, 20], tenants.0.slo_ms: [5, 6]}\n"
      "    - {hardware.count: [1, 2], seed: [3, 4]}\n");
  EXPECT_EQ(two.points(), 4u);
  EXPECT_EQ(labels(two, 1), (std::vector<std::string>{"10", "5", "2", "4"}));
}

TEST(Sweep, ExcludeDropsCombinationsBeforeNumbering) {
  Sweep sw = sweep_of(
      "sweep:\n"
      "  grid:\n"
      "    policy.max_batch: [1, 2]\n"
      "    tenants.0.arrival.rate: [10, 20, 30]\n"
      "  exclude:\n"
      "    - {policy.max_batch: 1, tenants.0.arrival.rate: 30.0}\n"      // numeric equality
      "    - {policy.max_batch: 2, tenants.0.arrival.rate: [10, 20]}\n"  // a list: any of
      "  replications: 3\n");
  EXPECT_EQ(sw.combinations(), 6u);
  EXPECT_EQ(sw.excluded(), 3u);
  ASSERT_EQ(sw.points(), 3u);
  EXPECT_EQ(labels(sw, 0), (std::vector<std::string>{"1", "10"}));
  EXPECT_EQ(labels(sw, 1), (std::vector<std::string>{"1", "20"}));
  EXPECT_EQ(labels(sw, 2), (std::vector<std::string>{"2", "30"}));
  // Runs are point-major, replication-minor.
  EXPECT_EQ(sw.runs(), 9u);
  EXPECT_EQ(sw.point_of_run(4), 1u);
  EXPECT_EQ(sw.replication_of_run(4), 1);
  EXPECT_EQ(sw.point_of_run(8), 2u);
  EXPECT_EQ(sw.replication_of_run(8), 2);
}

TEST(Sweep, ColumnTypesFollowTheValues) {
  Sweep sw = sweep_of(
      "sweep:\n"
      "  grid:\n"
      "    hardware.count: [1, 2]\n"
      "    tenants.0.arrival.rate: [10, 20.5]\n"
      "    policy.name: [exclusive]\n"
      "    tenants.0.slo_ms: [5, {x: 1}]\n");
  ASSERT_EQ(sw.params().size(), 4u);
  EXPECT_EQ(sw.params()[0].type, ColType::Int64);
  EXPECT_EQ(std::get<std::int64_t>(sw.params()[0].cells[1]), 2);
  EXPECT_EQ(sw.params()[1].type, ColType::Float64);
  EXPECT_EQ(std::get<double>(sw.params()[1].cells[0]), 10.0);
  EXPECT_EQ(sw.params()[2].type, ColType::String);
  EXPECT_EQ(sw.params()[3].type, ColType::String);
  EXPECT_EQ(sw.params()[3].labels[1], "{x: 1}");
}

TEST(Sweep, APathLeftToItsDefaultMayBeSwept) {
  // `warmup_s` is not in the file: the sweep adds it.
  Sweep sw = sweep_of("sweep:\n  grid: {warmup_s: [0.5, 1]}\n");
  EXPECT_TRUE(sw.params()[0].new_key);
  EXPECT_DOUBLE_EQ(sw.experiment(1, registries().view()).warmup_s, 1.0);
}

TEST(Sweep, BadPathsNameTheSweepEntry) {
  // Entry keys sit at line 9, column 10 ("  grid: {" is 9 characters).
  EXPECT_EQ(error_of([] { sweep_of("sweep:\n  grid: {tenants.0.arrivl.rate: [1]}\n"); }),
            "test.yaml:9:10: 'tenants.0.arrivl.rate' does not exist: no key 'arrivl' in "
            "'tenants.0'");
  EXPECT_EQ(error_of([] { sweep_of("sweep:\n  grid: {tenants.1.model: [a]}\n"); }),
            "test.yaml:9:10: '1' in 'tenants.1.model' is not an index of 'tenants', a list of 1 "
            "element");
  // A key the file does not have and the experiment does not know: found when the point is
  // checked, reported at the sweep entry.
  Sweep sw = sweep_of("sweep:\n  grid: {hardware.cnt: [1]}\n");
  std::string e = error_of([&] { sw.experiment(0, registries().view()); });
  EXPECT_EQ(e.rfind("test.yaml:9:10: unknown key 'cnt' in hardware", 0), 0u) << e;
  EXPECT_NE(e.find("[sweep point 0: hardware.cnt=1]"), std::string::npos) << e;
  // A bad value: at the value, with the point.
  Sweep neg = sweep_of("sweep:\n  grid: {tenants.0.arrival.rate: [5, -1]}\n");
  EXPECT_NO_THROW(neg.experiment(0, registries().view()));
  e = error_of([&] { neg.experiment(1, registries().view()); });
  EXPECT_EQ(e.rfind("test.yaml:9:38: expected 'rate' > 0", 0), 0u) << e;
  EXPECT_NE(e.find("[sweep point 1: tenants.0.arrival.rate=-1]"), std::string::npos) << e;
}

TEST(Sweep, MalformedBlocksAreErrors) {
  EXPECT_EQ(error_of([] { sweep_of("sweep:\n  grid: {seed: 3}\n"); }),
            "test.yaml:9:16: expected a non-empty list of values for 'seed', e.g. [a, b]");
  EXPECT_EQ(error_of([] { sweep_of("sweep:\n  gird: {seed: [3]}\n"); }).substr(0, 39),
            "test.yaml:9:3: unknown key 'gird' in sw");
  EXPECT_NE(error_of([] {
              sweep_of("sweep:\n  zip: {seed: [1, 2], warmup_s: [0]}\n");
            }).find("zip lists must have the same length"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              sweep_of("sweep:\n  grid: {policy: [a], policy.name: [b]}\n");
            }).find("'policy.name' overlaps 'policy'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              sweep_of("sweep:\n  grid: {seed: [1]}\n  exclude: [{seed: 2}]\n");
            }).find("exclude: 2 is not one of the values of 'seed'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              sweep_of("sweep:\n  grid: {seed: [1]}\n  exclude: [{seed: 1}]\n");
            }).find("exclude removes every point"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              sweep_of("sweep:\n  replications: 0\n");
            }).find("expected 'replications' between 1"),
            std::string::npos);
}

TEST(Sweep, ReplicationsWithoutAxes) {
  Sweep sw = sweep_of("sweep:\n  replications: 4\n");
  EXPECT_EQ(sw.points(), 1u);
  EXPECT_EQ(sw.runs(), 4u);
}

TEST(Sweep, EffectiveYamlHasThePointsValuesAndNoSweep) {
  Sweep sw = sweep_of("sweep:\n  grid: {tenants.0.arrival.rate: [10, 20]}\n", {"hardware.count=1"});
  const std::string y = sw.effective_yaml(1);
  EXPECT_EQ(y.find("sweep"), std::string::npos) << y;
  EXPECT_NE(y.find("rate: 20"), std::string::npos) << y;
  EXPECT_NE(y.find("count: 1"), std::string::npos) << y;
  EXPECT_EQ(sw.effective_yaml(1), y);  // stable
  EXPECT_NE(sw.effective_yaml(0), y);
}

TEST(Overrides, SetInPlaceKeepsTheOtherNodesMarks) {
  // A copied tree (YAML::Clone) marks every node 1:1; in place, the rest keeps its position.
  YAML::Node root = load_yaml_string(
      "a: 1\n"
      "b:\n"
      "  c: [1, 2]\n"
      "  d: x\n",
      "f.yaml");
  apply_set_in_place(root, "a=5");
  apply_set_in_place(root, "b.c.1=7");
  apply_set_in_place(root, "b.e=new");
  const YAML::Node& r = root;
  EXPECT_EQ(r["a"].Scalar(), "5");
  EXPECT_EQ(r["b"]["c"][1].Scalar(), "7");
  EXPECT_EQ(r["b"]["e"].Scalar(), "new");
  EXPECT_EQ(format_mark(mark_of(r["b"]["d"], "f.yaml")), "f.yaml:4:6");
  EXPECT_EQ(format_mark(mark_of(r["b"]["c"][1], "f.yaml")), "--set b.c.1=7");
  clear_overrides();
  EXPECT_NE(error_of([&] { apply_set_in_place(root, "b.c.5=1"); }).find("not an index"),
            std::string::npos);
  EXPECT_NE(error_of([&] { apply_set_in_place(root, "b.zz.y=1"); }).find("no key 'zz'"),
            std::string::npos);
  clear_overrides();
}

TEST(Overrides, LoadExperimentErrorsKeepTheirLineAfterSet) {
  // A bad rate on line 7 is still reported there when an unrelated --set was given.
  std::string text = kBase;
  text.replace(text.find("rate: 100"), 9, "rate: -1");
  Sweep sw = Sweep::from_text(text, "test.yaml", {"seed=3"});
  std::string e = error_of([&] { sw.experiment(0, registries().view()); });
  EXPECT_EQ(e.rfind("test.yaml:7:", 0), 0u) << e;
}

TEST(ContentHash, IsFnv1a64) {
  EXPECT_EQ(content_hash(""), "cbf29ce484222325");
  EXPECT_EQ(content_hash("a"), "af63dc4c8601ec8c");
}

TEST(Aggregate, StudentT) {
  EXPECT_DOUBLE_EQ(student_t_975(1), 12.706204736432095);
  EXPECT_DOUBLE_EQ(student_t_975(2), 4.302652729911275);
  EXPECT_NEAR(student_t_975(31), 2.0395134463964077, 1e-7);
  EXPECT_NEAR(student_t_975(100), 1.9839715184496334, 1e-9);
  EXPECT_NEAR(student_t_975(1000000), 1.9599663568142, 1e-9);
  EXPECT_TRUE(std::isnan(student_t_975(0)));
}

TEST(Aggregate, MeanAndHalfWidthPerPoint) {
  Table s;
  s.add_column("run", ColType::Int64);
  s.add_column("rate", ColType::Float64);
  s.add_column("policy", ColType::String);
  s.add_column("replication", ColType::Int64);
  s.add_column("seed", ColType::Int64);
  s.add_column("p99_ms", ColType::Float64);
  s.add_column("requests", ColType::Int64);
  s.add_column("wall_s", ColType::Float64);
  // Point 0: p99 {1, 2, 3}; point 1: {10, 10, 10}.
  const double p99[] = {1, 2, 3, 10, 10, 10};
  for (std::int64_t r = 0; r < 6; ++r) {
    s.rows.push_back({r, r < 3 ? 100.0 : 200.0, std::string("exclusive"), r % 3, std::int64_t{7},
                      p99[r], std::int64_t{100 + r}, 0.5});
  }
  Table a = aggregate_table(s, {"rate"}, 3);
  EXPECT_EQ(a.names,
            (std::vector<std::string>{"point", "rate", "policy", "replications", "p99_ms_mean",
                                      "p99_ms_ci95", "requests_mean", "requests_ci95"}));
  ASSERT_EQ(a.rows.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(a.rows[0][0]), 0);
  EXPECT_EQ(std::get<double>(a.rows[1][1]), 200.0);
  EXPECT_EQ(std::get<std::int64_t>(a.rows[0][3]), 3);
  EXPECT_DOUBLE_EQ(std::get<double>(a.rows[0][4]), 2.0);
  // sd = 1, n = 3: t(2) * 1 / sqrt(3).
  EXPECT_NEAR(std::get<double>(a.rows[0][5]), 4.302652729911275 / std::sqrt(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(std::get<double>(a.rows[1][5]), 0.0);
  EXPECT_DOUBLE_EQ(std::get<double>(a.rows[1][6]), 104.0);
  // One replication: no interval.
  Table one = aggregate_table(s, {"rate"}, 1);
  EXPECT_EQ(one.rows.size(), 6u);
  EXPECT_TRUE(std::isnan(std::get<double>(one.rows[0][5])));
}

// /tenants' slo_ms is the SLO as written, and +inf for a tenant without one (slo_ms 0 in
// the experiment): no deadline, which every latency meets, as its slo_attainment of 1
// counts it (0 ms would be a deadline none meets).
TEST(Tables, TenantWithoutSloHasAnInfiniteSlo) {
  Experiment x = testing::experiment_from(
      testing::v100_header(1, 0, 2) +
      "policy: {name: exclusive}\ntenants:\n"
      "  - {model: resnet50_v1, slo_ms: 25, arrival: {process: poisson, rate: 50}}\n"
      "  - {model: densenet121, arrival: {process: poisson, rate: 50}}\n");
  const Table t = tenants_table(x, {testing::run(x)});
  const int slo = t.column("slo_ms"), att = t.column("slo_attainment");
  ASSERT_GE(slo, 0);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(std::get<double>(t.rows[0][static_cast<std::size_t>(slo)]), 25.0);
  EXPECT_EQ(std::get<double>(t.rows[1][static_cast<std::size_t>(slo)]),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(std::get<double>(t.rows[1][static_cast<std::size_t>(att)]), 1.0);
}

}  // namespace
}  // namespace infersim
