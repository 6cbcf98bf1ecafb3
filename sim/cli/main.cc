// infersim: the command line. Bad input prints one line naming file:line:column and exits
// with status 2; nothing is written then.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "policies/builtin.h"
#include "sim/cli/output.h"
#include "sim/cli/runner.h"
#include "sim/config/experiment.h"
#include "sim/gpu/profile.h"
#include "workloads/builtin.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace infersim;

namespace {

constexpr const char* kUsage =
    "usage: infersim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run EXPERIMENT.yaml [-o OUT.h5] [--set path=value]...   simulate, write a result set\n"
    "  models [PROFILE.yaml]                                   list models and L(b)\n"
    "  policies                                                list policies and their keys\n"
    "  arrivals                                                list arrival processes\n"
    "\n"
    "`infersim <command> --help` describes a command's options.\n";

// The temporary output file, removed if the run is interrupted.
char g_temp_path[4096] = {0};

extern "C" void on_signal(int sig) {
  if (g_temp_path[0]) ::unlink(g_temp_path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

struct Registries_ {
  PolicyRegistry policies;
  ArrivalRegistry arrivals;
  Registries_() {
    register_builtin_policies(policies);
    register_builtin_arrivals(arrivals);
  }
  Registries view() const { return Registries{policies, arrivals}; }
};

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts("infersim run EXPERIMENT.yaml [options]");
  std::string out;
  std::vector<std::string> sets;
  opts.add_options()("help,h", "show this help")(
      "output,o", po::value(&out), "result file (default: results/<experiment name>.h5)")(
      "set", po::value(&sets)->composing(),
      "override a setting by its dotted path, e.g. --set tenants.0.arrival.rate=300; "
      "repeatable")("quiet,q", "do not print the summary table");
  po::options_description hidden;
  std::string experiment;
  hidden.add_options()("experiment", po::value(&experiment));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("experiment", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (experiment.empty()) throw po::error("missing EXPERIMENT.yaml");

  Registries_ reg;
  Experiment x = load_experiment(experiment, sets, reg.view());
  if (out.empty()) out = (fs::path("results") / (x.name + ".h5")).string();
  // Placement errors are input errors: find them before any file is created.
  place_tenants(x, reg.policies.get(x.policy, x.policy_mark));

  ResultFile file(out);
  std::snprintf(g_temp_path, sizeof g_temp_path, "%s", file.temp_path().c_str());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  std::vector<RunResult> runs;
  {
    std::unique_ptr<RequestStream> stream;
    std::unique_ptr<RequestStreamSink> sink;
    if (x.output_requests) {
      stream = file.open_requests("/runs/0");
      sink = std::make_unique<RequestStreamSink>(*stream);
    }
    runs.push_back(simulate(x, reg.view(), 0, 0, sink.get()));
    if (stream) stream->close();
  }
  file.write_table("/summary", summary_table(runs, {}));
  file.write_table("/tenants", tenants_table(x, runs));
  write_provenance(file, x, sets);
  file.commit();
  g_temp_path[0] = 0;

  if (!vm.count("quiet")) print_summary(std::cout, x, runs);
  std::cout << fmt::format("wrote {} ({} run{}, {:.2f} s wall)\n", out, runs.size(),
                           runs.size() == 1 ? "" : "s", runs[0].wall_s);
  return 0;
}

int cmd_models(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << "infersim models [PROFILE.yaml]\n  Lists the models of a hardware profile "
                 "(default hardware_profiles/v100_clockwork.yaml) with L(b) in ms and the "
                 "solo utilization u(1).\n";
    return 0;
  }
  if (args.size() > 1) throw po::error("models takes at most one PROFILE.yaml");
  std::string path = args.empty() ? "hardware_profiles/v100_clockwork.yaml" : args[0];
  path = resolve_data_path(path, "", Mark{path, 0, 0});
  print_models(load_profile(path), std::cout);
  return 0;
}

int cmd_policies() {
  Registries_ reg;
  for (const auto& p : reg.policies.all()) {
    std::cout << fmt::format("{}: {}\n", p.name, p.description) << describe_params(p.params);
  }
  return 0;
}

int cmd_arrivals() {
  Registries_ reg;
  for (const auto& a : reg.arrivals.all()) {
    std::cout << fmt::format("{}: {}\n", a.name, a.description) << describe_params(a.params);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (cmd == "run") return cmd_run(args);
    if (cmd == "models") return cmd_models(args);
    if (cmd == "policies") return cmd_policies();
    if (cmd == "arrivals") return cmd_arrivals();
    std::cerr << "infersim: unknown command '" << cmd << "'\n" << kUsage;
    return 2;
  } catch (const InputError& e) {
    std::cerr << "infersim: " << e.what() << "\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << "infersim " << cmd << ": " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "infersim: error: " << e.what() << "\n";
    return 1;
  }
}
