// Replays the fuzzing corpus (tests/fuzz/corpus: the seeds) and every crash `make fuzz`
// has found (tests/fuzz/regressions) through the fuzz target's own step, so the ordinary
// suite, and `make sanitize`, re-check them without clang or libFuzzer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/experiment_fuzz.h"

namespace infersim {
namespace {

std::vector<std::filesystem::path> inputs_in(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(INFERSIM_SOURCE_DIR) + dir)) {
    if (e.is_regular_file() && e.path().filename() != "README.md") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void replay(const std::string& dir, std::size_t at_least) {
  const auto files = inputs_in(dir);
  EXPECT_GE(files.size(), at_least) << dir;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NO_THROW(
        fuzz::fuzz_experiment(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()))
        << f;
  }
}

TEST(FuzzCorpus, SeedsPassTheFuzzStep) { replay("/tests/fuzz/corpus", 20); }

TEST(FuzzCorpus, EveryFuzzFindingStaysFixed) { replay("/tests/fuzz/regressions", 0); }

}  // namespace
}  // namespace infersim
