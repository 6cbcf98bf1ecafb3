// infersim_faulty: the infersim program with injected run failures, for the CLI tests of
// failure paths (tests/cli/sweep_resume.sh, tests/cli/exit_status.sh).
// INFERSIM_FAIL_RUNS=3,7 makes runs 3 and 7 fail as if their simulation had thrown a
// run-time error; INFERSIM_BUG_RUNS likewise with an internal error (a broken invariant).
// The real binary has no such hook.
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sim/cli/app.h"

namespace {

std::set<std::size_t> runs_from_env(const char* name) {
  std::set<std::size_t> runs;
  if (const char* s = std::getenv(name)) {
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) {
      if (!item.empty()) runs.insert(std::stoull(item));
    }
  }
  return runs;
}

}  // namespace

int main(int argc, char** argv) {
  // INFERSIM_FAIL_RUNS: a run-time failure (std::runtime_error, exit status 1);
  // INFERSIM_BUG_RUNS: an internal error (std::logic_error, exit status 3).
  const std::set<std::size_t> fail = runs_from_env("INFERSIM_FAIL_RUNS");
  const std::set<std::size_t> bug = runs_from_env("INFERSIM_BUG_RUNS");
  infersim::AppHooks hooks;
  hooks.before_run = [fail, bug](std::size_t run) {
    if (fail.count(run)) throw std::runtime_error("injected failure (INFERSIM_FAIL_RUNS)");
    if (bug.count(run)) throw std::logic_error("injected broken invariant (INFERSIM_BUG_RUNS)");
  };
  return infersim::infersim_main(argc, argv, hooks);
}
