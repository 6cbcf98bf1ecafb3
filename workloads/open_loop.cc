// Open-loop arrival processes: requests come at a given mean rate whatever the system does.
#include <cmath>

#include "sim/core/rng.h"
#include "workloads/builtin.h"

namespace infersim {
namespace {

// Exponential gaps: a Poisson process.
class Poisson final : public ArrivalProcess {
 public:
  explicit Poisson(double rate) : rate_(rate), mean_(1.0 / rate) {}
  SimTime next(Rng& rng, SimTime now, std::uint32_t&) override {
    return now + to_ns(rng.exponential(mean_));
  }
  double mean_rate(std::uint32_t) const override { return rate_; }

 private:
  double rate_;
  double mean_;
};

// Gamma-distributed gaps with mean 1/rate and coefficient of variation cv: cv > 1 is
// burstier than Poisson (cv = 1 is Poisson), cv < 1 more regular.
class GammaArrivals final : public ArrivalProcess {
 public:
  GammaArrivals(double rate, double cv)
      : rate_(rate), shape_(1.0 / (cv * cv)), scale_(1.0 / rate / shape_) {}
  SimTime next(Rng& rng, SimTime now, std::uint32_t&) override {
    return now + to_ns(rng.gamma(shape_, scale_));
  }
  double mean_rate(std::uint32_t) const override { return rate_; }

 private:
  double rate_;
  double shape_;
  double scale_;
};

// Evenly spaced arrivals; the k-th comes at round(k / rate) so rounding never drifts.
class Constant final : public ArrivalProcess {
 public:
  explicit Constant(double rate) : rate_(rate) {}
  SimTime next(Rng&, SimTime, std::uint32_t&) override {
    ++k_;
    return to_ns(static_cast<double>(k_) / rate_);
  }
  double mean_rate(std::uint32_t) const override { return rate_; }

 private:
  double rate_;
  std::int64_t k_ = 0;
};

// N requests always outstanding: each completion (or drop) is replaced after a think time
// (exponential with mean think_ms, or none). With think_ms 0 the tenant's queue never
// empties: seed 003's saturated setting.
class Closed final : public ArrivalProcess {
 public:
  Closed(int n, double think_ms) : n_(n), think_s_(think_ms / 1e3) {}
  SimTime next(Rng& rng, SimTime now, std::uint32_t&) override {
    return now + (think_s_ > 0 ? to_ns(rng.exponential(think_s_)) : 0);
  }
  int outstanding() const override { return n_; }

 private:
  int n_;
  double think_s_;
};

}  // namespace

ParamSpec rate_spec() {
  return {
      "rate", ParamKind::kNumber, ParamSpec::kRequired, "mean arrival rate, requests/s", 0, 1e12,
      true};
}

void register_builtin_arrivals(ArrivalRegistry& r) {
  r.add({"poisson",
         "exponential inter-arrival times (memoryless)",
         {rate_spec()},
         [](const ArrivalSetup& s) { return std::make_unique<Poisson>(s.params.get("rate")); }});
  r.add({"gamma",
         "gamma inter-arrival times; cv > 1 is bursty",
         {rate_spec(),
          {"cv", ParamKind::kNumber, ParamSpec::kRequired,
           "coefficient of variation of the gaps (1 = Poisson); from 1e-6 (gamma shape "
           "1/cv^2 = 1e12: the gaps are regular to 1 part in a million, use `constant` for "
           "none) to 1000",
           1e-6, 1e3}},
         [](const ArrivalSetup& s) {
           return std::make_unique<GammaArrivals>(s.params.get("rate"), s.params.get("cv"));
         }});
  r.add({"constant", "evenly spaced arrivals", {rate_spec()}, [](const ArrivalSetup& s) {
           return std::make_unique<Constant>(s.params.get("rate"));
         }});
  r.add({"closed",
         "closed loop: n requests always outstanding",
         {{"n", ParamKind::kInteger, ParamSpec::kRequired, "requests kept outstanding", 1, 1e6},
          {"think_ms", ParamKind::kMilliseconds, 0,
           "mean think time between a completion and the next request (exponential), ms", 0}},
         [](const ArrivalSetup& s) {
           return std::make_unique<Closed>(static_cast<int>(s.params.get_int("n")),
                                           s.params.get("think_ms"));
         }});
  register_modulated_arrivals(r);
  register_trace_arrivals(r);
}

}  // namespace infersim
