// The infersim program as a function, so that the real binary (main.cc) and test builds of
// it (tests/cli/fault_main.cc, which injects failures) share every line of it.
#pragma once

#include "sim/sweep/executor.h"

namespace infersim {

struct AppHooks {
  FaultHook before_run;  // called before each run of `infersim run` simulates
};

// Parses the command line and runs the command. Exit status: 0 success, 1 a run failed at
// run time (I/O, resources), 2 bad input (one line, file:line:column), 3 an internal error
// (a std::logic_error: a bug; the message asks for a report).
int infersim_main(int argc, char** argv, const AppHooks& hooks);

}  // namespace infersim
