// One fuzzing step over the experiment loader, --set and sweep expansion, shared by the
// libFuzzer target (tests/fuzz/experiment_fuzz.cc, `make fuzz`) and by the corpus replay
// in the ordinary test suite (tests/fuzz_corpus_test.cc), so every input the fuzzer ever
// kept, and every crash it found, is re-checked by `make test` and `make sanitize`.
//
// Input: an experiment file's text, optionally followed by a line "#--set" and then one
// --set assignment per line. The input is expanded (Sweep::from_text), and up to 8 of its
// points are validated and placed, like `infersim run --dry-run`. A point small enough to
// simulate in a few milliseconds (bounded duration, request count and time-slice count)
// is also simulated.
//
// What is allowed: an InputError (bad input, as it should be reported) and, from a
// simulation, a std::runtime_error (a run failing at run time, e.g. the clock limit). Any
// other exception (std::logic_error: a broken invariant) escapes, and libFuzzer reports it
// as a crash, as it does for ASan/UBSan findings and signals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/cli/builtin_registries.h"
#include "sim/sweep/expansion.h"
#include "sim/sweep/runner.h"

namespace infersim::fuzz {

// Whether simulating `x` is cheap: a bound on the requests and time slices it can make.
inline bool cheap_to_simulate(const Experiment& x) {
  if (x.duration > 100'000'000 || x.tenants.size() > 64 || x.gpu_count > 64) return false;
  const double seconds = ns_to_s(x.duration);
  double requests = 0;
  for (const TenantSpec& t : x.tenants) {
    const auto& v = t.arrival_params.values();
    if (auto n = v.find("n"); n != v.end()) {  // closed loop: n per L(1) at most
      const double l1_s = t.profile->latency_ms_at(1) / 1e3;
      if (l1_s < 1e-4) return false;
      requests += n->second * (seconds / l1_s + 1);
    } else if (auto r = v.find("rate"); r != v.end()) {
      requests += r->second * seconds;
    }
  }
  if (requests > 20000) return false;
  const auto& p = x.policy_params.values();
  if (auto q = p.find("quantum_ms"); q != p.end() && seconds / (q->second / 1e3) > 1e5) {
    return false;
  }
  return true;
}

inline void fuzz_experiment(const std::uint8_t* data, std::size_t size) {
  static const BuiltinRegistries registries;
  const Registries reg = registries.view();
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> sets;
  const std::string marker = "\n#--set\n";
  if (auto at = text.find(marker); at != std::string::npos) {
    std::string rest = text.substr(at + marker.size());
    text.resize(at + 1);
    std::size_t start = 0;
    while (start <= rest.size()) {
      std::size_t end = rest.find('\n', start);
      if (end == std::string::npos) end = rest.size();
      if (end > start) sets.push_back(rest.substr(start, end - start));
      start = end + 1;
    }
  }
  try {
    const Sweep sweep = Sweep::from_text(text, "fuzz.yaml", sets);
    PointBuilder points(sweep);
    for (std::size_t point = 0; point < sweep.points() && point < 8; ++point) {
      Experiment x = points.experiment(point, reg);
      place_tenants(x, reg);
      (void)points.effective_yaml(point);
      if (!cheap_to_simulate(x)) continue;
      try {
        simulate(x, reg, point, 0);
      } catch (const InputError&) {
        throw;
      } catch (const std::logic_error&) {
        throw;
      } catch (const std::runtime_error&) {
        // A run failing at run time (e.g. the simulated clock past its limit): allowed.
      }
    }
  } catch (const InputError& e) {
    // Reported as one line: the escaping must leave no newline.
    if (std::string(e.what()).find('\n') != std::string::npos) {
      throw std::logic_error("an InputError message spans lines");
    }
  }
}

}  // namespace infersim::fuzz
