// Turns run results into the tables of the HDF5 result set of DESIGN.md.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "sim/results/hdf5_writer.h"
#include "sim/sweep/runner.h"

namespace infersim {

// Adapts the engine's per-request outcomes to a /runs/<run>/requests stream.
class RequestStreamSink final : public RequestSink {
 public:
  explicit RequestStreamSink(RequestStream& s) : stream_(s) {}
  void record(const RequestOutcome& r) override;

 private:
  RequestStream& stream_;
};

// Swept parameter values of one run, by dotted path (empty without a sweep).
using SweptValues = std::vector<std::pair<std::string, Cell>>;

Table summary_table(const std::vector<RunResult>& runs, const std::vector<SweptValues>& swept);
Table tenants_table(const Experiment& x, const std::vector<RunResult>& runs);

// Root attributes: experiment_yaml, overrides, infersim_version, git_revision, created_utc.
void write_provenance(ResultFile& f, const Experiment& x, const std::vector<std::string>& sets);

// The current time as "2026-11-25T14:58:21Z" (created_utc).
std::string utc_now();

}  // namespace infersim
