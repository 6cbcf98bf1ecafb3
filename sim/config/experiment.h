// An experiment file, validated into typed settings.
//
// Parsing is strict: every key is declared, unknown keys and wrong types are errors with
// file:line:column. Overrides (--set path=value, sweep points) are applied to the YAML
// tree before validation (Sweep, sim/sweep/expansion.h), so they are checked exactly like the
// file itself.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/arrival.h"
#include "sim/core/params.h"
#include "sim/core/policy.h"
#include "sim/core/router.h"
#include "sim/gpu/profile.h"

namespace infersim {

namespace kernels {
struct Architecture;  // sim/kernels/graph.h
}

struct TenantSpec {
  std::string name;   // unique within the experiment
  std::string model;  // a model of the profile
  // Shares ownership of the experiment's (immutable) Profile, so a copy of a TenantSpec
  // or of its Experiment never dangles.
  std::shared_ptr<const ModelProfile> profile;
  // Its kernel graph (Experiment::architectures_dir), when the run reads them (the roofline
  // profile, or kernel granularity); nullptr otherwise or when the model has none. The
  // graphs are cached for the process's life (sim/config/experiment.cc).
  const kernels::Architecture* architecture = nullptr;
  double slo_ms = 0;       // 0: no SLO (as written)
  SimTime slo = kTimeMax;  // in ns, checked against the horizon; kTimeMax: no SLO
  int gpu = -1;            // explicit placement; -1: automatic
  // A partitioning policy's instance (Experiment::mig_instances) it is placed on, tenant key
  // `mig_instance`; -1: automatic.
  int mig_instance = -1;
  // Its SM cap, percent of its device's SMs (`active_thread_percentage`, MPS's
  // CUDA_MPS_ACTIVE_THREAD_PERCENTAGE); 0: uncapped (also when 100 is written). Only a policy
  // with PolicyNeeds::sm_caps accepts a value below 100.
  double active_thread_percentage = 0;
  std::string arrival;
  Params arrival_params;
  Mark mark;
  std::uint32_t entry = 0;    // the element of `tenants:` it comes from
  std::uint32_t service = 0;  // the service it is a replica of
};

// A service: the replicas (tenants) of one model instance behind a router and one arrival
// stream. Without `router:` every tenant is a service of one, named after it.
struct ServiceSpec {
  std::string name;
  std::vector<std::uint32_t> replicas;  // tenant indices, in replica order
  std::string router;                   // empty: one replica
  Params router_params;
  Mark router_mark;
};

// One element of `tenants:` as written, after expansion: its arrival settings and the
// services it made.
struct EntrySpec {
  std::string name;  // the entry's name (`name:` or its model), for its streams' names
  std::string arrival;
  Params arrival_params;
  Mark arrival_mark;
  // popularity: {zipf: s}: one stream for the entry, each request's service drawn with
  // weight 1/(i+1)^s (i: the service's position in the entry). 0: none.
  double zipf = 0;
  Mark popularity_mark;
  std::vector<std::uint32_t> services;
};

struct Experiment {
  std::string file;       // path it was read from
  std::string yaml_text;  // the file's text, for provenance
  std::string name;
  std::uint64_t seed = 0;
  double duration_s = 0;  // as written
  double warmup_s = 0;
  SimTime duration = 0;  // the same in ns, checked against the horizon (sim/core/time.h)
  SimTime warmup = 0;

  std::string profile_path;                // resolved; "roofline" for the predicted profile
  std::shared_ptr<const Profile> profile;  // shared, immutable (parsed once per path)
  // The kernel graphs (`hardware.architectures`, resolved), when the run reads them: the
  // roofline profile or kernel granularity; "" otherwise.
  std::string architectures_dir;
  GpuSpec gpu;
  int gpu_count = 1;              // nodes x gpus_per_node
  int nodes = 1;                  // hardware.nodes
  int gpus_per_node = 1;          // hardware.count
  double activation_factor = 32;  // activation MiB per sample = factor x input size
  // hardware.weights: `resident` (default): every placed model's weights stay on its GPU,
  // and placement refuses a GPU whose models do not all fit. `on_demand`: placement may
  // over-subscribe a GPU's memory (its contexts and activations plus its largest model
  // must fit); weights load over PCIe when a request needs them and idle ones are evicted
  // least recently used first (sim/core/engine_loading.cc).
  bool on_demand = false;
  bool preload = true;  // hardware.preload (on_demand): start with what fits resident
  Mark hardware_mark;
  // Where hardware.profile, hardware.count and hardware.nodes were given (the mapping's
  // mark for a key left out): errors about the profile or the GPU count point there, to a
  // --set or sweep entry when one gave the value.
  Mark profile_mark;
  Mark count_mark;
  Mark nodes_mark;

  std::string policy;
  Params policy_params;
  Mark policy_mark;
  // The policy times kernels (PolicyNeeds::kernels, `granularity: kernel`): every tenant has
  // an architecture and the GPU its kernel_model constants.
  bool kernel_level = false;
  // A partitioning policy's instances of each GPU (PolicyInfo::partition); empty: each GPU is
  // one device.
  std::vector<GpuInstance> mig_instances;

  std::vector<TenantSpec> tenants;  // replicas expanded
  std::vector<ServiceSpec> services;
  std::vector<EntrySpec> entries;
  Mark tenants_mark;

  // Every data file the experiment was built from (profile, GPU specs, and any other file a
  // key names, e.g. a trace), as resolved paths in the order read. A sweep hashes their
  // content into each run's config hash, so editing one makes --resume re-run its runs;
  // a loader of a new kind of data file appends its path here.
  std::vector<std::string> data_files;

  bool output_requests = false;
  // Also run every tenant alone (same policy, same arrival trace) to measure isolation.
  bool isolation = false;
};

struct Registries {
  const PolicyRegistry& policies;
  const ArrivalRegistry& arrivals;
  const RouterRegistry& routers;
};

// Reads and validates. `file` names the source in errors; `text` is kept for provenance.
Experiment parse_experiment(const YAML::Node& root, const std::string& file,
                            const std::string& text, const Registries& reg);

// Finds a data file: as given, relative to the experiment's folder, or to the folder
// infersim was built from. Throws InputError at `where` when none exists.
std::string resolve_data_path(const std::string& path, const std::string& experiment_file,
                              const Mark& where);
// The same for a directory.
std::string resolve_data_dir(const std::string& path, const std::string& experiment_file,
                             const Mark& where);

}  // namespace infersim
