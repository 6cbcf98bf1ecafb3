// The interface of a tenant's arrival process, and the registry that names them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/core/time.h"

namespace infersim {

class Rng;

class ArrivalProcess {
 public:
  virtual ~ArrivalProcess() = default;
  // Open loop: the gap from one arrival to the next (ns, >= 0). The first arrival comes
  // one gap after time 0. Closed loop: the think time between a completion (or drop) and
  // the request that replaces it. At most kMaxDelay: convert with to_delay_ns (time.h),
  // which saturates, so a gap beyond any duration just ends the stream.
  virtual SimTime next_gap(Rng& rng) = 0;
  // Closed loop: the number of requests kept outstanding; 0 for an open-loop process.
  virtual int outstanding() const { return 0; }
  // Mean arrival rate in requests/s of an open-loop process (placement spreads tenants by
  // it); 0 when not known in advance.
  virtual double mean_rate() const { return 0.0; }
};

struct ArrivalInfo {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<ArrivalProcess>(const Params&)> create;
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
