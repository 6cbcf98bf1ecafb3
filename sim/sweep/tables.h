// Turns run results into the tables of the HDF5 result set of DESIGN.md.
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/hash.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/runner.h"

namespace infersim {

// Adapts the engine's per-request outcomes to a /runs/<run>/requests stream, hashing the
// records as written (hash_request_record): the shard checksum's share of them.
class RequestStreamSink final : public RequestSink {
 public:
  explicit RequestStreamSink(RequestStream& s) : stream_(s) {}
  void record(const RequestOutcome& r) override;
  std::uint64_t hash() const { return hash_; }

 private:
  RequestStream& stream_;
  std::uint64_t hash_ = kFnvOffset;
};

// FNV-1a of a record's fields, little-endian and packed (37 bytes), continuing from `h`:
// the same on every machine, whatever RequestRecord's padding.
std::uint64_t hash_request_record(const RequestRecord& r, std::uint64_t h);

// Swept parameter values of one run, by dotted path (empty without a sweep).
using SweptValues = std::vector<std::pair<std::string, Cell>>;

Table summary_table(const std::vector<RunResult>& runs, const std::vector<SweptValues>& swept);
Table tenants_table(const Experiment& x, const std::vector<RunResult>& runs);
// One row per (run, GPU): its node, tenants, requests, utilization and memory.
Table gpus_table(const Experiment& x, const std::vector<RunResult>& runs);

// Root attributes: experiment_yaml, experiment_file, overrides, infersim_version,
// git_revision (provenance_attrs), and created_utc.
using Attrs = std::vector<std::pair<std::string, std::string>>;
Attrs provenance_attrs(const Experiment& x, const std::vector<std::string>& sets);
void write_provenance(ResultFile& f, const Experiment& x, const std::vector<std::string>& sets);

// The current time as "2026-11-25T14:58:21Z" (created_utc).
std::string utc_now();

}  // namespace infersim
