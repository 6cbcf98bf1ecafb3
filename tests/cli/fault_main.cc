// infersim_faulty: the infersim program with injected run failures, for the CLI tests of
// failure paths (tests/cli/sweep_resume.sh). INFERSIM_FAIL_RUNS=3,7 makes runs 3 and 7
// fail as if their simulation had thrown. The real binary has no such hook.
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sim/cli/app.h"

int main(int argc, char** argv) {
  std::set<std::size_t> fail;
  if (const char* s = std::getenv("INFERSIM_FAIL_RUNS")) {
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) {
      if (!item.empty()) fail.insert(std::stoull(item));
    }
  }
  infersim::AppHooks hooks;
  hooks.before_run = [fail](std::size_t run) {
    if (fail.count(run)) throw std::runtime_error("injected failure (INFERSIM_FAIL_RUNS)");
  };
  return infersim::infersim_main(argc, argv, hooks);
}
