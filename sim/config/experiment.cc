#include "sim/config/experiment.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "sim/config/hardware_files.h"
#include "sim/config/yaml_reader.h"

namespace infersim {
namespace fs = std::filesystem;
namespace {

// Reads the keys of a component's mapping (all but `skip`) as numbers/bools for
// resolve_params, keeping each value's mark.
std::map<std::string, GivenParam> given_params(const YAML::Node& map, const std::string& file,
                                               const std::set<std::string>& skip) {
  std::map<std::string, GivenParam> out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node k = it->first;  // a copy: it->first lives in a temporary proxy
    if (!k.IsScalar()) {
      throw InputError(mark_of(k, file), fmt::format("expected a key name, got {}", node_kind(k)));
    }
    std::string key = k.Scalar();
    if (skip.count(key)) continue;
    const YAML::Node v = it->second;  // a copy: it->second lives in a temporary proxy
    double value;
    if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) {
      value = v.Scalar() == "true" ? 1.0 : 0.0;
    } else {
      value = yaml_double(v, file, key);
    }
    out[key] = GivenParam{value, mark_of(v, file)};
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

}  // namespace

std::string resolve_data_path(const std::string& path, const std::string& experiment_file,
                              const Mark& where) {
  fs::path p(path);
  std::vector<fs::path> candidates{p};
  if (p.is_relative()) {
    candidates.push_back(fs::path(experiment_file).parent_path() / p);
    candidates.push_back(fs::path(INFERSIM_DATA_DIR) / p);
  }
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return c.string();
  }
  throw InputError(where, fmt::format("file '{}' not found (looked as given, next to the "
                                      "experiment, and in {})",
                                      path, INFERSIM_DATA_DIR));
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

  {
    MapReader hw(top.get("hardware"), file, "hardware",
                 {"profile", "gpu", "count", "gpus_file", "activation_factor"});
    x.hardware_mark = hw.mark();
    x.profile_path = resolve_data_path(hw.get_string("profile"), file, hw.mark("profile"));
    x.profile = cached_profile(x.profile_path);
    const Profile& profile = *x.profile;
    x.data_files.push_back(x.profile_path);
    std::string gpus_file = resolve_data_path(
        hw.get_string("gpus_file", (fs::path(x.profile_path).parent_path() / "gpus.yaml").string()),
        file, hw.mark("gpus_file"));
    const std::vector<GpuSpec>& gpus = cached_gpus(gpus_file);
    std::string gpu_name = hw.get_string("gpu", profile.gpu);
    x.data_files.push_back(gpus_file);
    const GpuSpec* spec = find_gpu(gpus, gpu_name);
    if (!spec) {
      std::string list;
      for (const auto& g : gpus) list += (list.empty() ? "" : ", ") + g.name;
      hw.fail("gpu", fmt::format("unknown GPU '{}' (expected one of: {})", gpu_name, list));
    }
    x.gpu = *spec;
    std::int64_t count = hw.get_int("count", 1);
    if (count < 1 || count > 100000) hw.fail("count", "expected 'count' between 1 and 100000");
    x.gpu_count = static_cast<int>(count);
    x.activation_factor = hw.get_nonnegative("activation_factor", 32);
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
    if (pnode.IsMap()) given = given_params(pnode, file, {"name"});
    x.policy_params =
        resolve_params(info.params, given, x.policy_mark, fmt::format("policy '{}'", pname));
    max_batch = info.needs(x.policy_params).max_batch;
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
    for (std::size_t i = 0; i < tnode.size(); ++i) {
      const YAML::Node& tn = tnode[i];
      MapReader tm(tn, file, "tenant", {"model", "name", "replicas", "slo_ms", "gpu", "arrival"});
      TenantSpec base;
      base.mark = tm.mark();
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
      if (to_ns_checked(model->latency_ms_at(1), TimeUnit::kMilliseconds).value_or(0) == 0) {
        tm.fail("model",
                fmt::format("model '{}': L(1) = {:g} ms (from the profile at {}) is "
                            "below 1 ns, the clock's resolution",
                            base.model, model->latency_ms_at(1), format_mark(model->mark)));
      }
      if (!to_ns_checked(model->latency_ms_at(max_batch), TimeUnit::kMilliseconds)) {
        tm.fail(
            "model",
            fmt::format("model '{}': L({}) = {:g} ms (max_batch {} of policy '{}', from "
                        "the profile at {}) is beyond the time horizon of {:g} ms",
                        base.model, max_batch, model->latency_ms_at(max_batch), max_batch, x.policy,
                        format_mark(model->mark), horizon_in(TimeUnit::kMilliseconds)));
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
      base.slo_ms = tm.get_nonnegative("slo_ms", 0);
      if (base.slo_ms > 0) base.slo = tm.get_time("slo_ms", TimeUnit::kMilliseconds);
      if (base.slo_ms > 0 && base.slo == 0) {
        tm.fail("slo_ms", "expected 'slo_ms' >= 1e-6 (1 ns) or 0 (no SLO)");
      }
      std::int64_t gpu = tm.get_int("gpu", -1);
      if (gpu < -1 || gpu >= x.gpu_count) {
        tm.fail("gpu", fmt::format("expected 'gpu' between 0 and {} (hardware.count - 1)",
                                   x.gpu_count - 1));
      }
      base.gpu = static_cast<int>(gpu);
      MapReader am(tm.get("arrival"), file, "arrival");
      base.arrival = am.get_string("process");
      const ArrivalInfo& ai = reg.arrivals.get(base.arrival, am.mark("process"));
      base.arrival_params = resolve_params(ai.params, given_params(am.node(), file, {"process"}),
                                           am.mark(), fmt::format("arrival '{}'", base.arrival));
      for (std::int64_t r = 0; r < replicas; ++r) {
        TenantSpec t = base;
        t.name = replicas > 1 ? fmt::format("{}/{}", name, r) : name;
        if (!names.insert(t.name).second) {
          tm.fail("name", fmt::format("duplicate tenant name '{}' (give each entry a distinct "
                                      "'name')",
                                      t.name));
        }
        x.tenants.push_back(std::move(t));
      }
    }
  }

  if (auto out = top.find("output")) {
    MapReader om(*out, file, "output", {"requests", "isolation"});
    x.output_requests = om.get_bool("requests", false);
    x.isolation = om.get_bool("isolation", false);
  }
  return x;
}

}  // namespace infersim
