// The interface of an arrival process, and the registry that names them.
//
// An arrival process feeds one or more *targets* (a tenant, or a service of replicas behind
// a router): the engine asks it for the next arrival's time and target, one at a time. Most
// processes feed one target (each tenant its own Poisson stream). A *shared* process -- a
// trace file -- is created once for every tenant entry that names it with identical
// settings and deals its arrivals among all their targets (rows keyed by model or tenant,
// functions mapped onto models).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/core/time.h"

namespace infersim {

class Rng;

// A destination of an arrival process, as the process sees it.
struct ArrivalTarget {
  std::string name;   // the tenant's or service's name, e.g. "resnet50_v1/3"
  std::string model;  // its model
};

class ArrivalProcess {
 public:
  static constexpr SimTime kNever = kTimeMax;

  virtual ~ArrivalProcess() = default;
  // Open loop: the time of the arrival after one at `now` (for the first, now = 0), which
  // is >= now, or kNever when no arrival is left; `target` receives its target's index
  // (a process with one target may leave it 0). Closed loop: the time at which the request
  // that replaces one finished (or dropped) at `now` arrives. A gap is at most kMaxDelay:
  // convert with to_delay_ns (time.h), which saturates, so a gap beyond any duration just
  // ends the stream (now + kMaxDelay cannot overflow: the clock stays below kClockLimit).
  virtual SimTime next(Rng& rng, SimTime now, std::uint32_t& target) = 0;
  // Closed loop: the number of requests kept outstanding; 0 for an open-loop process.
  virtual int outstanding() const { return 0; }
  // Mean arrival rate in requests/s to target `target`, for placement; 0 when unknown.
  virtual double mean_rate(std::uint32_t /*target*/) const { return 0.0; }
};

// What a process is created with.
struct ArrivalSetup {
  const Params& params;
  const std::vector<ArrivalTarget>& targets;  // one, unless the process is shared
  Mark where;  // the arrival settings (errors found reading a data file name the file)
  // The run's end: no arrival at or after it is used, so a process whose search for its
  // next arrival passes it may stop searching and return kNever (a modulated process at a
  // tiny rate would otherwise walk state after state towards an arrival decades away).
  SimTime end = kTimeMax;
};

struct ArrivalInfo {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<ArrivalProcess>(const ArrivalSetup&)> create;
  // Shared: tenant entries that give this process identical settings draw from one instance,
  // created with all their targets (in experiment order).
  bool shared = false;
};

class ArrivalRegistry {
 public:
  void add(ArrivalInfo info);
  const ArrivalInfo& get(const std::string& name, const struct Mark& where) const;
  const std::vector<ArrivalInfo>& all() const { return entries_; }

 private:
  std::vector<ArrivalInfo> entries_;
};

}  // namespace infersim
