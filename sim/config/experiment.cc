#include "sim/config/experiment.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "sim/config/hardware_files.h"
#include "sim/config/yaml_reader.h"
#include "sim/kernels/architecture.h"
#include "sim/kernels/predict.h"

namespace infersim {
namespace fs = std::filesystem;
namespace {

// Reads the keys of a component's mapping (all but `skip`) for resolve_params, each as
// its spec's kind says (numbers and bools; text; a data file's path, resolved relative to
// the experiment; a list of numbers; a list of names, or one name), keeping each value's
// mark.
std::map<std::string, GivenParam> given_params(const YAML::Node& map, const std::string& file,
                                               const std::set<std::string>& skip,
                                               const std::vector<ParamSpec>& specs) {
  std::map<std::string, GivenParam> out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node k = it->first;  // a copy: it->first lives in a temporary proxy
    if (!k.IsScalar()) {
      throw InputError(mark_of(k, file), fmt::format("expected a key name, got {}", node_kind(k)));
    }
    std::string key = k.Scalar();
    if (skip.count(key)) continue;
    const YAML::Node v = it->second;  // a copy: it->second lives in a temporary proxy
    GivenParam g;
    g.mark = mark_of(v, file);
    const ParamSpec* spec = find_spec(specs, key);
    if (!spec) {  // resolve_params names it as unknown
    } else if (spec->kind == ParamKind::kNameList) {
      if (v.IsSequence() && v.size() == 0) {
        throw InputError(g.mark, fmt::format("expected a non-empty list of names for '{}'", key));
      }
      if (v.IsSequence()) {
        for (std::size_t i = 0; i < v.size(); ++i) {
          g.names.push_back(yaml_string(v[i], file, fmt::format("{}[{}]", key, i)));
        }
      } else {
        g.names.push_back(yaml_string(v, file, key));
      }
    } else if (spec->is_text()) {
      g.text = yaml_string(v, file, key);
      if (spec->kind == ParamKind::kPath) g.text = resolve_data_path(g.text, file, g.mark);
    } else if (spec->kind == ParamKind::kNumberList) {
      if (!v.IsSequence()) {
        throw InputError(
            g.mark, fmt::format("expected a list of numbers for '{}', got {}", key, node_kind(v)));
      }
      for (std::size_t i = 0; i < v.size(); ++i) {
        g.list.push_back(yaml_double(v[i], file, fmt::format("{}[{}]", key, i)));
      }
    } else if (spec->kind == ParamKind::kBool &&
               !(v.IsScalar() && (v.Scalar() == "0" || v.Scalar() == "1"))) {
      // The spellings yaml_bool takes everywhere else (output.requests, ...), or 0 and 1;
      // anything else is "expected true or false". Only for a true/false setting: `rate:
      // true` is not a rate of 1.
      g.value = yaml_bool(v, file, key) ? 1.0 : 0.0;
    } else {
      g.value = yaml_double(v, file, key);
    }
    out[key] = std::move(g);
  }
  return out;
}

// Profiles are parsed once per path and shared (sweeps parse an experiment per point).
std::shared_ptr<const Profile> cached_profile(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Profile>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[path];
  if (!slot) slot = std::make_shared<const Profile>(load_profile(path));
  return slot;
}

// GPU spec files likewise.
const std::vector<GpuSpec>& cached_gpus(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<std::vector<GpuSpec>>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[path];
  if (!slot) slot = std::make_unique<std::vector<GpuSpec>>(load_gpus(path));
  return *slot;
}

// Architecture directories likewise: every file parsed and its graph built once.
const std::vector<kernels::Architecture>& cached_architectures(const std::string& dir) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<std::vector<kernels::Architecture>>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[dir];
  if (!slot) {
    slot = std::make_unique<std::vector<kernels::Architecture>>(kernels::load_architectures(dir));
  }
  return *slot;
}

// The roofline profile of one GPU over one architecture directory (prediction takes a few
// hundred ms, once per process).
std::shared_ptr<const Profile> cached_roofline_profile(const std::string& dir,
                                                       const std::string& gpus_file,
                                                       const GpuSpec& gpu) {
  const auto& archs = cached_architectures(dir);
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Profile>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[dir + "\n" + gpus_file + "\n" + gpu.name];
  if (!slot) slot = std::make_shared<const Profile>(kernels::predict_profile(archs, gpu));
  return slot;
}

// The kernel graph of profile model `m`: the one it names, else the architecture named like
// it or listing it as a Clockwork row; nullptr when there is none.
const kernels::Architecture* architecture_of(const ModelProfile& m,
                                             const std::vector<kernels::Architecture>& archs,
                                             const std::string& dir) {
  if (m.architecture.empty()) return kernels::find_for_model(archs, m.name);
  for (const auto& a : archs) {
    if (a.name == m.architecture) return &a;
  }
  throw InputError(m.mark, fmt::format("model '{}' names architecture '{}', which is not in {}",
                                       m.name, m.architecture, dir));
}

}  // namespace

namespace {

// `path` as given, next to the experiment file, then in the installed data directory: the
// first candidate that `is_kind` accepts ("file" or "directory" in the error).
std::string find_data(const std::string& path, const std::string& experiment_file,
                      const Mark& where, bool (*is_kind)(const fs::path&, std::error_code&),
                      const char* kind) {
  fs::path p(path);
  std::vector<fs::path> candidates{p};
  if (p.is_relative()) {
    candidates.push_back(fs::path(experiment_file).parent_path() / p);
    candidates.push_back(fs::path(INFERSIM_DATA_DIR) / p);
  }
  for (const auto& c : candidates) {
    std::error_code ec;
    if (is_kind(c, ec)) return c.string();
  }
  throw InputError(where, fmt::format("{} '{}' not found (looked as given, next to the "
                                      "experiment, and in {})",
                                      kind, path, INFERSIM_DATA_DIR));
}

}  // namespace

std::string resolve_data_dir(const std::string& path, const std::string& experiment_file,
                             const Mark& where) {
  return find_data(path, experiment_file, where, fs::is_directory, "directory");
}

std::string resolve_data_path(const std::string& path, const std::string& experiment_file,
                              const Mark& where) {
  return find_data(path, experiment_file, where, fs::is_regular_file, "file");
}

Experiment parse_experiment(const YAML::Node& root, const std::string& file,
                            const std::string& text, const Registries& reg) {
  Experiment x;
  x.file = file;
  x.yaml_text = text;
  // `sweep` is read and expanded by Sweep (sim/sweep/expansion.h), which hands each point
  // here without it; parsing a file directly ignores it (runs the base point).
  MapReader top(root, file, "experiment",
                {"name", "seed", "duration_s", "warmup_s", "hardware", "policy", "tenants",
                 "output", "sweep"});
  if (top.has("name")) {
    x.name = yaml_name(top.get("name"), file, "experiment name");
  } else {
    x.name = fs::path(file).stem().string();
    check_name(x.name, Mark{file, 1, 1}, "experiment name (the file's name; set 'name')");
  }
  std::int64_t seed = top.get_int("seed", 1);
  if (seed < 0) top.fail("seed", "expected 'seed' >= 0");
  x.seed = static_cast<std::uint64_t>(seed);
  x.duration_s = top.get_positive("duration_s");
  x.warmup_s = top.get_nonnegative("warmup_s", 0);
  x.duration = top.get_time("duration_s", TimeUnit::kSeconds);
  x.warmup = top.get_time("warmup_s", TimeUnit::kSeconds, 0);
  if (x.duration == 0) top.fail("duration_s", "expected 'duration_s' >= 1e-9 (1 ns)");
  if (x.warmup >= x.duration) {
    top.fail("warmup_s", fmt::format("expected 'warmup_s' < duration_s ({})", x.duration_s));
  }

  // The architecture directory is read only when something needs kernel graphs: the
  // roofline profile, or a policy at kernel granularity (checked after the policy).
  std::string arch_dir;
  Mark arch_mark;
  bool sm_caps = false;  // the policy honours active_thread_percentage
  Mark weights_mark;     // hardware.weights, when on_demand
  Mark gpu_mark;
  {
    MapReader hw(top.get("hardware"), file, "hardware",
                 {"profile", "gpu", "count", "nodes", "gpus_file", "activation_factor", "weights",
                  "preload", "architectures"});
    x.hardware_mark = hw.mark();
    x.profile_mark = hw.mark("profile");
    x.count_mark = hw.mark("count");
    x.nodes_mark = hw.mark("nodes");
    arch_mark = hw.mark("architectures");
    arch_dir = hw.get_string("architectures", "hardware_profiles/architectures");
    gpu_mark = hw.mark("gpu");
    const std::string profile_name = hw.get_string("profile");
    const bool roofline = profile_name == "roofline";
    if (!roofline) {
      x.profile_path = resolve_data_path(profile_name, file, hw.mark("profile"));
      x.profile = cached_profile(x.profile_path);
      x.data_files.push_back(x.profile_path);
    }
    std::string gpus_file = resolve_data_path(
        hw.get_string("gpus_file",
                      roofline ? std::string("hardware_profiles/gpus.yaml")
                               : (fs::path(x.profile_path).parent_path() / "gpus.yaml").string()),
        file, hw.mark("gpus_file"));
    const std::vector<GpuSpec>& gpus = cached_gpus(gpus_file);
    x.data_files.push_back(gpus_file);
    if (roofline && !hw.has("gpu")) {
      hw.fail("profile",
              "'profile: roofline' predicts latencies for the GPU named by "
              "'hardware.gpu'; add e.g. 'gpu: v100'");
    }
    std::string gpu_name = hw.get_string("gpu", roofline ? std::string() : x.profile->gpu);
    const GpuSpec* spec = find_gpu(gpus, gpu_name);
    if (!spec) {
      std::string list;
      for (const auto& g : gpus) list += (list.empty() ? "" : ", ") + g.name;
      hw.fail("gpu", fmt::format("unknown GPU '{}' (expected one of: {})", gpu_name, list));
    }
    // A measured profile's L(b) belong to the GPU it was measured on: on another GPU they
    // would silently be that GPU's latencies (and its MIG slices timed from them). A GPU of
    // the same compute (SMs, peak FLOP/s, memory bandwidth) is that GPU with other memory or
    // PCIe, a what-if the latencies carry over to; a GPU file that does not define the
    // profile's GPU is the user's own, and is taken at its word.
    const GpuSpec* measured_on = roofline ? nullptr : find_gpu(gpus, x.profile->gpu);
    if (measured_on != nullptr && gpu_name != x.profile->gpu &&
        (measured_on->sm_count != spec->sm_count || measured_on->fp32_tflops != spec->fp32_tflops ||
         measured_on->fp16_tflops != spec->fp16_tflops ||
         measured_on->memory_bandwidth_gbs != spec->memory_bandwidth_gbs)) {
      hw.fail("gpu", fmt::format("the profile {} was measured on '{}', not '{}', which computes "
                                 "differently: its latencies are the {}'s; use 'profile: "
                                 "roofline' to predict the {}, or a profile measured on it",
                                 profile_name, x.profile->gpu, gpu_name, x.profile->gpu, gpu_name));
    }
    x.gpu = *spec;
    if (roofline) {
      if (!x.gpu.kernel) {
        hw.fail("gpu", fmt::format("'profile: roofline' needs the kernel_model constants of GPU "
                                   "'{}', which {} does not give",
                                   gpu_name, gpus_file));
      }
      x.architectures_dir = resolve_data_dir(arch_dir, file, arch_mark);
      for (const auto& a : cached_architectures(x.architectures_dir))
        x.data_files.push_back(a.path);
      x.profile_path = "roofline";
      x.profile = cached_roofline_profile(x.architectures_dir, gpus_file, x.gpu);
    }
    // `count` GPUs in each of `nodes` machines; GPU g sits in node g / count.
    std::int64_t count = hw.get_int("count", 1);
    if (count < 1 || count > 100000) hw.fail("count", "expected 'count' between 1 and 100000");
    std::int64_t nodes = hw.get_int("nodes", 1);
    if (nodes < 1 || nodes > 100000 / count) {  // divided, so a huge nodes cannot overflow
      hw.fail("nodes", fmt::format("expected 'nodes' >= 1 with nodes x count <= 100000 GPUs "
                                   "(count: {} per node)",
                                   count));
    }
    x.gpus_per_node = static_cast<int>(count);
    x.nodes = static_cast<int>(nodes);
    x.gpu_count = static_cast<int>(nodes * count);
    x.activation_factor = hw.get_nonnegative("activation_factor", 32);
    const std::string weights = hw.get_string("weights", "resident");
    if (weights != "resident" && weights != "on_demand") {
      hw.fail("weights", fmt::format("expected 'weights' to be resident (every placed model "
                                     "stays on its GPU) or on_demand (load over PCIe when "
                                     "requested, evict least recently used), got '{}'",
                                     weights));
    }
    x.on_demand = weights == "on_demand";
    if (x.on_demand) weights_mark = hw.mark("weights");
    if (hw.has("preload") && !x.on_demand) {
      hw.fail("preload", "'preload' applies only with weights: on_demand");
    }
    x.preload = hw.get_bool("preload", true);
  }

  int max_batch = 1;  // the largest batch the policy forms (its latency tables' size)
  {
    YAML::Node pnode = top.get("policy");
    x.policy_mark = mark_of(pnode, file);
    std::string pname;
    if (pnode.IsScalar()) {
      pname = pnode.Scalar();
    } else {
      MapReader pm(pnode, file, "policy");
      pname = pm.get_string("name");
    }
    const PolicyInfo& info = reg.policies.get(pname, x.policy_mark);
    x.policy = pname;
    std::map<std::string, GivenParam> given;
    if (pnode.IsMap()) given = given_params(pnode, file, {"name"}, info.params);
    x.policy_params =
        resolve_params(info.params, given, x.policy_mark, fmt::format("policy '{}'", pname));
    max_batch = info.needs(x.policy_params).max_batch;
    x.kernel_level = info.needs(x.policy_params).kernels;
    sm_caps = info.needs(x.policy_params).sm_caps;
    if (info.partition) x.mig_instances = info.partition(x.policy_params, x.gpu, x.policy_mark);
    if (!x.mig_instances.empty() && x.on_demand) {
      // Loading on demand is modelled per GPU (one copy engine, one weights budget); how MIG
      // instances share the copy engines and the PCIe link is not modelled.
      throw InputError(weights_mark, fmt::format("'weights: on_demand' is not modelled under "
                                                 "policy '{}' (a partitioned GPU); use weights: "
                                                 "resident",
                                                 pname));
    }
    if (x.kernel_level && !x.gpu.kernel) {
      throw InputError(x.policy_mark,
                       fmt::format("policy '{}' times kernels (granularity 'kernel'), which needs "
                                   "the kernel_model constants of GPU "
                                   "'{}' (gpus.yaml), which it does not have",
                                   pname, x.gpu.name));
    }
    if (x.kernel_level && x.architectures_dir.empty()) {
      x.architectures_dir = resolve_data_dir(arch_dir, file, arch_mark);
      for (const auto& a : cached_architectures(x.architectures_dir))
        x.data_files.push_back(a.path);
    }
  }

  {
    YAML::Node tnode = top.get("tenants");
    x.tenants_mark = mark_of(tnode, file);
    if (!tnode.IsSequence() || tnode.size() == 0) {
      throw InputError(x.tenants_mark, "expected a non-empty list for 'tenants'");
    }
    std::set<std::string> names;
    std::map<std::string, int> entries_of_model;  // entries naming each model (counted once)
    for (const auto& entry : tnode) {
      if (entry.IsMap() && entry["model"] && entry["model"].IsScalar()) {
        ++entries_of_model[entry["model"].Scalar()];
      }
    }
    auto add_tenant = [&](const TenantSpec& base, std::string name, MapReader& tm) {
      if (!names.insert(name).second) {
        tm.fail("name", fmt::format("duplicate tenant name '{}' (give each entry a distinct "
                                    "'name')",
                                    name));
      }
      TenantSpec t = base;
      t.name = std::move(name);
      t.service = static_cast<std::uint32_t>(x.services.size());
      x.tenants.push_back(std::move(t));
      return static_cast<std::uint32_t>(x.tenants.size() - 1);
    };
    for (std::size_t i = 0; i < tnode.size(); ++i) {
      const YAML::Node& tn = tnode[i];
      MapReader tm(tn, file, "tenant",
                   {"model", "name", "replicas", "instances", "slo_ms", "gpu", "mig_instance",
                    "active_thread_percentage", "arrival", "router"});
      TenantSpec base;
      base.mark = tm.mark();
      base.entry = static_cast<std::uint32_t>(i);
      base.model = tm.get_string("model");
      const ModelProfile* model = x.profile->find(base.model);
      if (!model) {
        tm.fail("model", fmt::format("unknown model '{}' in profile {} (`infersim models {}` "
                                     "lists them)",
                                     base.model, x.profile_path, x.profile_path));
      }
      base.profile = std::shared_ptr<const ModelProfile>(x.profile, model);  // aliasing
      // The run's latency table holds L(b) in ns up to the policy's max_batch; L grows with
      // b, so its largest entry, possibly extrapolated past the profiled sizes, must be
      // within the horizon like every other time.
      const std::optional<SimTime> l1 =
          to_ns_checked(model->latency_ms_at(1), TimeUnit::kMilliseconds);
      if (l1 && *l1 == 0) {
        tm.fail("model",
                fmt::format("model '{}': L(1) = {:g} ms (from the profile at {}) is "
                            "below 1 ns, the clock's resolution",
                            base.model, model->latency_ms_at(1), format_mark(model->mark)));
      }
      if (!l1) {
        tm.fail("model", fmt::format("model '{}': L(1) = {:g} ms (from the profile at {}) is "
                                     "beyond the time horizon of {:g} ms",
                                     base.model, model->latency_ms_at(1), format_mark(model->mark),
                                     horizon_in(TimeUnit::kMilliseconds)));
      }
      if (!to_ns_checked(model->latency_ms_at(max_batch), TimeUnit::kMilliseconds)) {
        tm.fail(
            "model",
            fmt::format("model '{}': L({}) = {:g} ms (max_batch {} of policy '{}', from "
                        "the profile at {}) is beyond the time horizon of {:g} ms",
                        base.model, max_batch, model->latency_ms_at(max_batch), max_batch, x.policy,
                        format_mark(model->mark), horizon_in(TimeUnit::kMilliseconds)));
      }
      if (!x.architectures_dir.empty()) {
        const auto& archs = cached_architectures(x.architectures_dir);
        base.architecture = architecture_of(*base.profile, archs, x.architectures_dir);
        if (!base.architecture && x.kernel_level) {
          tm.fail("model", fmt::format("model '{}' has no kernel graph in {} (granularity "
                                       "'kernel' times every tenant's kernels; `infersim "
                                       "models --roofline` lists the models with graphs)",
                                       base.model, x.architectures_dir));
        }
      }
      // Without an explicit name a tenant is called after its model, made unique with
      // the entry's index when another entry serves the same model.
      const bool named = tm.has("name");
      std::string name = named ? yaml_name(tm.get("name"), file, "tenant name") : base.model;
      if (!named && entries_of_model[base.model] > 1) name = fmt::format("{}#{}", base.model, i);
      std::int64_t replicas = tm.get_int("replicas", 1);
      if (replicas < 1 || replicas > 100000) {
        tm.fail("replicas", "expected 'replicas' between 1 and 100000");
      }
      std::int64_t instances = tm.get_int("instances", 1);
      if (instances < 1 || instances > 1000000 / replicas) {  // divided: cannot overflow
        tm.fail("instances", "expected 'instances' >= 1 with instances x replicas <= 1000000");
      }
      base.slo_ms = tm.get_nonnegative("slo_ms", 0);
      if (base.slo_ms > 0) base.slo = tm.get_time("slo_ms", TimeUnit::kMilliseconds);
      if (base.slo_ms > 0 && base.slo == 0) {
        tm.fail("slo_ms", "expected 'slo_ms' >= 1e-6 (1 ns) or 0 (no SLO)");
      }
      std::int64_t gpu = tm.get_int("gpu", -1);
      if (gpu < -1 || gpu >= x.gpu_count) {
        tm.fail("gpu", fmt::format("expected 'gpu' between 0 and {} (nodes x count - 1)",
                                   x.gpu_count - 1));
      }
      base.gpu = static_cast<int>(gpu);
      if (tm.has("mig_instance")) {
        if (x.mig_instances.empty()) {
          tm.fail("mig_instance", fmt::format("'mig_instance' places a tenant on an instance of "
                                              "a partitioned GPU, but policy '{}' does not "
                                              "partition GPUs (use policy 'mig')",
                                              x.policy));
        }
        std::int64_t inst = tm.get_int("mig_instance");
        if (inst < 0 || inst >= static_cast<std::int64_t>(x.mig_instances.size())) {
          tm.fail("mig_instance", fmt::format("expected 'mig_instance' between 0 and {} (the "
                                              "policy's instances, in order)",
                                              x.mig_instances.size() - 1));
        }
        base.mig_instance = static_cast<int>(inst);
      }
      if (tm.has("active_thread_percentage")) {
        double pct = tm.get_double("active_thread_percentage");
        if (!(pct >= 1 && pct <= 100)) {
          tm.fail("active_thread_percentage",
                  fmt::format("expected 'active_thread_percentage' between 1 and 100 (percent "
                              "of the device's SMs, as CUDA_MPS_ACTIVE_THREAD_PERCENTAGE), got "
                              "{}",
                              pct));
        }
        // 100 is every SM, which any policy gives (so a sweep may set it on every row).
        if (pct < 100 && !sm_caps) {
          tm.fail("active_thread_percentage",
                  fmt::format("'active_thread_percentage' below 100 caps an MPS client's SMs at "
                              "kernel granularity; policy '{}' does not honour it here (use "
                              "policy 'mps' with granularity: kernel, or 'mig' with inner: mps)",
                              x.policy));
        }
        if (pct < 100) {
          base.active_thread_percentage = pct;
        }
      }

      EntrySpec entry;
      entry.name = name;
      MapReader am(tm.get("arrival"), file, "arrival");
      entry.arrival_mark = am.mark();
      base.arrival = am.get_string("process");
      const ArrivalInfo& ai = reg.arrivals.get(base.arrival, am.mark("process"));
      base.arrival_params = resolve_params(
          ai.params, given_params(am.node(), file, {"process", "popularity"}, ai.params), am.mark(),
          fmt::format("arrival '{}'", base.arrival));
      entry.arrival = base.arrival;
      entry.arrival_params = base.arrival_params;
      // Its data files (a trace): inputs of the run, so part of its config hash (an edited
      // trace is a new run for --resume) and never an output.
      for (const ParamSpec& spec : ai.params) {
        if (spec.kind == ParamKind::kPath) {
          x.data_files.push_back(base.arrival_params.get_text(spec.key));
        }
      }
      if (auto pop = am.find("popularity")) {
        MapReader pm(*pop, file, "popularity", {"zipf"});
        entry.popularity_mark = pm.mark();
        entry.zipf = pm.get_double("zipf");
        if (!(entry.zipf > 0) || entry.zipf > 100) {
          pm.fail("zipf", "expected 'zipf' > 0 and <= 100 (the exponent s: weight 1/rank^s)");
        }
        if (ai.shared) {
          am.fail("popularity", fmt::format("arrival '{}' deals its requests itself; "
                                            "'popularity' applies to the other processes",
                                            base.arrival));
        }
      }

      // Services: with a router, each instance is one service of `replicas` replicas; without
      // one, every replica of every instance is a service of its own.
      std::string router;
      Params router_params;
      Mark router_mark;
      if (auto rn = tm.find("router")) {
        router_mark = mark_of(*rn, file);
        std::map<std::string, GivenParam> given;
        if (rn->IsScalar()) {
          router = rn->Scalar();
        } else {
          MapReader rm(*rn, file, "router");
          router = rm.get_string("name");
        }
        const RouterInfo& ri = reg.routers.get(router, router_mark);
        if (rn->IsMap()) given = given_params(*rn, file, {"name"}, ri.params);
        router_params =
            resolve_params(ri.params, given, router_mark, fmt::format("router '{}'", router));
      }
      for (std::int64_t k = 0; k < instances; ++k) {
        const std::string instance = instances > 1 ? fmt::format("{}.{}", name, k) : name;
        auto replica_name = [&](std::int64_t r) {
          return replicas > 1 ? fmt::format("{}/{}", instance, r) : instance;
        };
        if (!router.empty()) {
          ServiceSpec svc{instance, {}, router, router_params, router_mark};
          for (std::int64_t r = 0; r < replicas; ++r) {
            svc.replicas.push_back(add_tenant(base, replica_name(r), tm));
          }
          entry.services.push_back(static_cast<std::uint32_t>(x.services.size()));
          x.services.push_back(std::move(svc));
          continue;
        }
        for (std::int64_t r = 0; r < replicas; ++r) {
          const std::uint32_t t = add_tenant(base, replica_name(r), tm);
          entry.services.push_back(static_cast<std::uint32_t>(x.services.size()));
          x.services.push_back(ServiceSpec{x.tenants[t].name, {t}, "", {}, {}});
        }
      }
      x.entries.push_back(std::move(entry));
    }
  }

  if (auto out = top.find("output")) {
    MapReader om(*out, file, "output", {"requests", "isolation"});
    x.output_requests = om.get_bool("requests", false);
    x.isolation = om.get_bool("isolation", false);
    if (x.isolation) {
      // Each tenant alone on the same arrivals needs arrivals of its own.
      for (const EntrySpec& e : x.entries) {
        const bool own = x.services[e.services.front()].router.empty() && e.zipf == 0 &&
                         !reg.arrivals.get(e.arrival, e.arrival_mark).shared;
        if (!own) {
          om.fail("isolation",
                  fmt::format("'isolation' runs every tenant alone on its own arrival stream, "
                              "but tenant entry '{}' shares one (router, popularity or a "
                              "trace)",
                              e.name));
        }
      }
    }
  }
  return x;
}

}  // namespace infersim
