// libFuzzer target for the experiment loader, --set and sweep expansion: `make fuzz`
// (tests/fuzz/experiment_fuzz.h says what one input is and what counts as a finding).
#include "tests/fuzz/experiment_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  infersim::fuzz::fuzz_experiment(data, size);
  return 0;
}
