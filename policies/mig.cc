// mig: NVIDIA Multi-Instance GPU. Each GPU is cut into isolated GPU instances from its own
// MIG profile table (gpus.yaml `mig:`, sourced there from NVIDIA's MIG user guide), e.g.
//   policy: {name: mig, instances: [3g.40gb, 2g.20gb, 2g.20gb], inner: mps}
//
// Model:
//  - The layout must be one the GPU allows: every instance at one of its profile's placements
//    on the memory-slice axis, none overlapping, compute slices within the GPU's
//    (sim/gpu/mig.h); otherwise an input error lists the valid (maximal) layouts.
//  - Every instance is a device of its own (PolicyInfo::partition): its profile's SMs, memory
//    (memory slices / 8 of the GPU's) and memory bandwidth and L2 (the same fraction: an
//    instance has its own memory controllers and L2 banks). Tenants are placed on instances
//    (automatically, or with `mig_instance: N` on the tenant), each instance's memory is checked
//    on its own, and its tenants' kernels are timed by the roofline model on its SMs and
//    bandwidth.
//  - Inside an instance an inner policy runs its tenants: `exclusive` (one tenant per
//    instance, the default), `time_sliced` or `mps` (MIG with MPS), always at kernel
//    granularity, with the inner policy's own settings written on the mig policy.
//  - Instances share nothing in the model, so an instance's tenants never slow another
//    instance's. (On real hardware they share the PCIe link and the power budget, which the
//    MIG user guide names as the exceptions to its isolation; neither is modelled.)
//  - Kernel times come from the kernel-level model with the instance's SMs, so `mig` needs a
//    GPU with `kernel_model:` and `mig:` in gpus.yaml; with a measured profile the L(b) of
//    the whole GPU is split over kernels and rescaled by the kernel model to the instance.
#include "sim/gpu/mig.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "policies/batching.h"
#include "policies/builtin.h"
#include "sim/core/engine.h"
#include "sim/gpu/profile.h"

namespace infersim {
namespace {

// The policies an instance may run, copied from the registry when mig registers.
using InnerPolicies = std::map<std::string, PolicyInfo>;

// The inner policy's settings: the keys given on the mig policy that it declares, at kernel
// granularity. A key given for another inner policy is an error at its mark.
Params inner_params(const InnerPolicies& inner, const std::vector<ParamSpec>& mig_specs,
                    const Params& p, const Mark& where) {
  const std::string& name = p.get_text("inner");
  const PolicyInfo& info = inner.at(name);
  std::map<std::string, GivenParam> given;
  for (const ParamSpec& s : mig_specs) {
    if (!p.given(s.key) || s.key == "instances" || s.key == "inner") continue;
    const Mark m = p.mark_of(s.key, where);
    if (find_spec(info.params, s.key) == nullptr) {
      throw InputError(m, fmt::format("'{}' is a setting of another inner policy, not of "
                                      "inner: {}",
                                      s.key, name));
    }
    GivenParam g;
    g.mark = m;
    if (s.is_text()) {
      g.text = p.get_text(s.key);
    } else if (s.kind == ParamKind::kNumberList) {
      g.list = p.get_list(s.key);
    } else if (s.kind == ParamKind::kNameList) {
      g.names = p.get_names(s.key);
    } else {
      g.value = p.get(s.key);
    }
    given[s.key] = std::move(g);
  }
  GivenParam kernel;
  kernel.mark = where;
  kernel.text = "kernel";
  given["granularity"] = kernel;
  return resolve_params(info.params, given, where, fmt::format("policy 'mig' (inner: {})", name));
}

std::vector<GpuInstance> partition(const Params& p, const GpuSpec& gpu, const Mark& where) {
  const Mark m = p.mark_of("instances", where);
  const MigSpec& mig = gpu.mig;
  if (mig.compute_slices == 0) {
    throw InputError(where, fmt::format("policy 'mig' needs a MIG-capable GPU, but GPU '{}' has "
                                        "no MIG profiles ('mig:' in gpus.yaml); MIG needs an "
                                        "A100, H100 or H200 (compute capability 8.0 or later)",
                                        gpu.name));
  }
  std::vector<std::string> names;
  for (const auto& prof : mig.profiles) names.push_back(prof.name);
  std::vector<const MigProfile*> layout;
  for (const std::string& name : p.get_names("instances")) {
    const MigProfile* prof = mig.find(name);
    if (prof == nullptr) {
      throw InputError(m, fmt::format("unknown MIG profile '{}' for GPU '{}' (expected one of: {})",
                                      name, gpu.name, fmt::join(names, ", ")));
    }
    layout.push_back(prof);
  }
  const auto placed = place_mig_layout(mig, layout);
  if (!placed) {
    int compute = 0;
    std::string text;
    for (const MigProfile* prof : layout) {
      compute += prof->compute_slices;
      text += (text.empty() ? "" : "+") + prof->name;
    }
    const std::string why =
        compute > mig.compute_slices
            ? fmt::format("{} compute slices, the GPU has {}", compute, mig.compute_slices)
            : "its instances cannot be placed without overlapping memory slices";
    throw InputError(m,
                     fmt::format("MIG layout {} is not valid on GPU '{}' ({}); valid layouts "
                                 "(add none to these; any part of one is valid too): {}",
                                 text, gpu.name, why, fmt::join(maximal_mig_layouts(mig), ", ")));
  }
  std::vector<GpuInstance> out;
  for (const MigPlacement& pl : *placed) {
    const double fraction = static_cast<double>(pl.profile->memory_slices) / mig.memory_slices;
    out.push_back(
        {pl.profile->name, pl.start, pl.profile->sms, gpu.memory_gib * fraction, fraction});
  }
  return out;
}

// One instance's policy: the inner policy, built with (and owning) its settings.
class MigInstance final : public Policy {
 public:
  MigInstance(Params params, const PolicyInfo& inner, const PolicySetup& s)
      : params_(std::move(params)) {
    inner_ = inner.create(PolicySetup{s.engine, s.gpu, s.tenants, params_, s.spec});
  }
  bool on_arrival(Request r) override { return inner_->on_arrival(r); }
  void on_dispatch() override { inner_->on_dispatch(); }
  void on_event(std::uint64_t payload) override { inner_->on_event(payload); }

 private:
  Params params_;
  std::unique_ptr<Policy> inner_;
};

}  // namespace

void register_mig(PolicyRegistry& r) {
  auto inner = std::make_shared<InnerPolicies>();
  std::vector<std::string> inner_names;
  // The settings of every inner policy (first declaration of a key wins; the common keys are
  // the same everywhere), but granularity: instances always run at kernel granularity.
  std::vector<ParamSpec> params;
  params.push_back({"instances", ParamKind::kNameList, ParamSpec::kRequired,
                    "the GPU instances each GPU is cut into, as MIG profile names of the GPU "
                    "(gpus.yaml `mig:`), e.g. [3g.40gb, 2g.20gb, 2g.20gb] on an H100; the layout "
                    "must be one NVIDIA allows"});
  for (const char* name : {"exclusive", "time_sliced", "mps"}) {
    const PolicyInfo& info = r.get(name, Mark{});
    inner->emplace(name, info);
    inner_names.push_back(name);
    for (ParamSpec s : info.params) {
      if (s.key == "granularity" || find_spec(params, s.key) != nullptr) continue;
      // A key that applies only at granularity kernel always applies here (the inner
      // policy's own settings, resolved at kernel granularity, still check it).
      if (s.only_with == "granularity") s.only_with.clear();
      params.push_back(std::move(s));
    }
  }
  params.push_back({"inner", ParamKind::kString, 0,
                    "the policy inside each instance, at kernel granularity: exclusive (one "
                    "tenant per instance), time_sliced, or mps (MIG with MPS); its settings are "
                    "written on this policy",
                    0, 0, false, "exclusive", inner_names});
  auto specs = std::make_shared<std::vector<ParamSpec>>(params);
  r.add({"mig",
         "NVIDIA Multi-Instance GPU: each GPU cut into isolated instances (their own SMs, memory "
         "and memory bandwidth) from its MIG profile table; an inner policy (exclusive, "
         "time_sliced or mps) runs each instance's tenants at kernel granularity",
         std::move(params), ProcessModel::kProcessPerTenant,
         [inner, specs](const Params& p) {
           const Params ip = inner_params(*inner, *specs, p, Mark{});
           PolicyNeeds n = inner->at(p.get_text("inner")).needs(ip);
           n.kernels = true;
           n.sm_caps = p.get_text("inner") == "mps";
           return n;
         },
         [inner, specs](const PolicySetup& s) -> std::unique_ptr<Policy> {
           return std::make_unique<MigInstance>(inner_params(*inner, *specs, s.params, Mark{}),
                                                inner->at(s.params.get_text("inner")), s);
         },
         [inner, specs](const Params& p, const GpuSpec& gpu, const Mark& where) {
           inner_params(*inner, *specs, p, where);  // settings of another inner policy
           return partition(p, gpu, where);
         }});
}

}  // namespace infersim
