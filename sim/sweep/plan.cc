#include "sim/sweep/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "sim/config/overrides.h"
#include "sim/config/yaml_reader.h"
#include "sim/core/hash.h"
#include "sim/core/version.h"
#include "sim/sweep/runner.h"
#include "sim/sweep/shard_store.h"

namespace infersim {
namespace {

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool is_python_keyword(const std::string& s) {
  static const std::set<std::string> kKeywords{
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  return kKeywords.count(s) > 0;
}

// The bytes of a data file the experiment was built from.
// content_hash of the file's bytes, read in pieces: a trace may be hundreds of MB.
std::string hash_data_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::uint64_t h = kFnvOffset;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h = fnv1a64(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())), h);
  }
  if (in.bad() || !in.eof()) {
    throw std::runtime_error(
        fmt::format("cannot read {} to hash it: {}", path, std::strerror(errno)));
  }
  return fmt::format("{:016x}", h);
}

}  // namespace

std::string swept_column_name(const std::string& path, const std::set<std::string>& fixed,
                              const Mark& where) {
  std::string name;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
    // "__" joins the parts: a part that is empty, holds "__" or begins or ends with '_'
    // would make the name ambiguous.
    if (part.empty() || part.find("__") != std::string::npos || part.front() == '_' ||
        part.back() == '_') {
      throw InputError(where, fmt::format("cannot name a result column after the swept path "
                                          "'{}': its part '{}' is empty, holds \"__\" or begins "
                                          "or ends with '_'",
                                          path, part));
    }
    name += (name.empty() ? "" : "__") + part;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (fixed.count(name) || is_python_keyword(name)) name = "sweep__" + name;
  if (!is_identifier(name)) {
    throw InputError(where, fmt::format("cannot name a result column after the swept path "
                                        "'{}': '{}' is not a Python identifier (letters, "
                                        "digits and '_')",
                                        path, name));
  }
  return name;
}

std::string Plan::swept_paths() const {
  std::string s;
  for (std::size_t p = 0; p < columns.size(); ++p) {
    s += fmt::format("{}={}\n", columns[p], sweep.params()[p].path);
  }
  return s;
}

Plan make_plan(const std::string& experiment, const std::vector<std::string>& sets, int jobs,
               const Registries& reg) {
  Plan plan{Sweep::load(experiment, sets), {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  const Sweep& sw = plan.sweep;
  // A --set on a swept path, or above or below one, would be overridden by the sweep (or
  // override part of it) without a word.
  for (const auto& s : sets) {
    const std::vector<std::string> set_parts = split_path(s.substr(0, s.find('=')));
    for (const auto& p : sw.params()) {
      const std::size_t n = std::min(set_parts.size(), p.parts.size());
      if (std::equal(set_parts.begin(), set_parts.begin() + n, p.parts.begin())) {
        throw InputError(p.mark, fmt::format("'{}' is swept here and also set by --set {}; drop "
                                             "one of them",
                                             p.path, s));
      }
    }
  }
  // Swept columns are named after their paths; those that would collide with a fixed
  // column of /summary or /aggregate (e.g. `seed`) get a prefix.
  std::set<std::string> fixed{"point", "replications"};
  for (const auto& n : summary_table(std::vector<RunResult>{}, {}).names) fixed.insert(n);
  for (const auto& p : sw.params())
    plan.columns.push_back(swept_column_name(p.path, fixed, p.mark));

  // Check the points on every core (parsing dominates the start of a large sweep); the
  // first bad point in point order is the one reported, whatever the thread timing.
  struct PointCheck {
    std::string name;
    bool requests = false;
    std::uint64_t seed = 0;
    std::vector<std::string> data_files;
    std::exception_ptr error;
  };
  const std::size_t points = sw.points();
  std::vector<PointCheck> checks(points);
  std::atomic<std::size_t> next_point{0};
  auto check = [&] {
    PointBuilder builder(sw);  // one parse of the file per thread, not per point
    for (std::size_t point; (point = next_point++) < points;) {
      try {
        Experiment x = builder.experiment(point, reg);
        try {
          place_tenants(x, reg);
        } catch (const InputError& e) {
          sw.rethrow_for_point(point, e);
        }
        checks[point].name = x.name;
        checks[point].requests = x.output_requests;
        checks[point].seed = x.seed;
        checks[point].data_files = x.data_files;
      } catch (...) {
        checks[point].error = std::current_exception();
      }
    }
  };
  const std::size_t threads =
      std::min<std::size_t>(points, jobs > 0 ? static_cast<std::size_t>(jobs)
                                             : std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < threads; ++i) pool.emplace_back(check);
  check();
  for (auto& t : pool) t.join();
  for (const PointCheck& c : checks) {
    if (c.error) std::rethrow_exception(c.error);
  }

  // The data files' content, once per file: a run's config hash covers what its profile and
  // GPU file hold, not just their paths (an edited profile must not pass for the old one).
  std::map<std::string, std::string> file_hash;
  for (const PointCheck& c : checks) {
    for (const auto& path : c.data_files) {
      if (!file_hash.count(path)) file_hash[path] = hash_data_file(path);
    }
  }
  plan.input_files.push_back(sw.file());
  plan.experiment = experiment_identity(sw.file());
  for (const auto& [path, hash] : file_hash) plan.input_files.push_back(path);

  const int reps = sw.replications();
  plan.base_yaml = sw.effective_yaml(0);
  std::string all_hashes = fmt::format("runs {}\n", sw.runs());
  plan.data_files.resize(points);
  for (std::size_t point = 0; point < points; ++point) {
    if (point == 0) plan.name = checks[point].name;
    plan.point_requests.push_back(checks[point].requests);
    for (const auto& path : checks[point].data_files) {
      plan.data_files[point] += fmt::format("{}  {}\n", file_hash[path], path);
    }
    std::string swept;
    const auto& values = sw.point_values(point);
    for (std::size_t p = 0; p < plan.columns.size(); ++p) {
      swept += fmt::format("{}={}\n", plan.columns[p], sw.params()[p].labels[values[p]]);
    }
    for (int rep = 0; rep < reps; ++rep) {
      RunSpec r;
      r.point = point;
      r.replication = rep;
      r.seed = replication_seed(checks[point].seed, rep);
      const std::size_t run =
          point * static_cast<std::size_t>(reps) + static_cast<std::size_t>(rep);
      r.config_hash = content_hash(fmt::format(
          "infersim {}\nrun {}\npoint {}\nreplication {}\nseed {}\n{}---\n{}---\n{}", version(),
          run, point, rep, r.seed, swept, plan.data_files[point], plan.base_yaml));
      all_hashes += r.config_hash + "\n";
      plan.runs.push_back(std::move(r));
    }
  }
  plan.sweep_id = content_hash(all_hashes);
  plan.name_mark = Mark{sw.file(), 0, 0};
  PointBuilder first(sw);
  if (const YAML::Node name = first.tree(0)["name"]) plan.name_mark = mark_of(name, sw.file());
  return plan;
}

}  // namespace infersim
