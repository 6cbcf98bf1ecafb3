// infersim: the command line. Bad input prints one line naming file:line:column and exits
// with status 2; nothing is written then.
#include "sim/cli/app.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <boost/program_options.hpp>
#include <cstring>
#include <iostream>

#include "sim/cli/builtin_registries.h"
#include "sim/cli/commands.h"
#include "sim/config/experiment.h"
#include "sim/config/hardware_files.h"
#include "sim/gpu/profile.h"

namespace po = boost::program_options;
namespace infersim {
namespace {

constexpr const char* kUsage =
    "usage: infersim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run EXPERIMENT.yaml [-o OUT.h5] [-j N] [--set path=value]... [--dry-run] [--resume]\n"
    "      [--shard I/N] [--stop-on-error] [--keep-shards]   simulate every sweep point\n"
    "  merge OUT.h5.d [-o OUT.h5] [--allow-missing]            merge shards into a result set\n"
    "  models [PROFILE.yaml]                                   list models and L(b)\n"
    "  policies                                                list policies and their keys\n"
    "  arrivals                                                list arrival processes\n"
    "\n"
    "`infersim <command> --help` describes a command's options.\n";

// "I/N" -> (I, N).
void parse_shard(const std::string& s, RunOptions& o) {
  auto slash = s.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument(s);
    std::size_t a = 0, b = 0;
    o.shard_index = std::stoi(s.substr(0, slash), &a);
    o.shard_count = std::stoi(s.substr(slash + 1), &b);
    if (a != slash || b != s.size() - slash - 1) throw std::invalid_argument(s);
  } catch (const std::exception&) {
    throw po::error("--shard expects I/N, e.g. --shard 0/4");
  }
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
    throw po::error("--shard I/N needs 0 <= I < N");
  }
}

// Parses a command's options and its one positional argument into `positional`.
// Returns false when --help was asked for (and printed).
bool parse_command(const std::vector<std::string>& args, const po::options_description& opts,
                   const char* positional_name, std::string& positional) {
  po::options_description hidden;
  hidden.add_options()(positional_name, po::value(&positional));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add(positional_name, 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts;
    return false;
  }
  return true;
}

int cmd_run(const std::vector<std::string>& args, const AppHooks& hooks) {
  po::options_description opts(
      "infersim run EXPERIMENT.yaml [options]\n\n"
      "Runs every point of the experiment's sweep (x replications), each into its own shard\n"
      "OUT.h5.d/run-NNNNNN.h5 (crash-safe), then merges them into OUT.h5 and removes\n"
      "OUT.h5.d. Exit status: 0 ok, 1 a run failed, 2 bad input (nothing written).\n\n"
      "options");
  RunOptions o;
  std::string shard;
  opts.add_options()("help,h", "show this help")(
      "output,o", po::value(&o.out), "result file (default: results/<experiment name>.h5)")(
      "jobs,j", po::value(&o.jobs)->default_value(0),
      "worker threads (default 0: every core; under mpirun, the cores divided among the "
      "machine's ranks)")(
      "set", po::value(&o.sets)->composing(),
      "override a setting by its dotted path, e.g. --set tenants.0.arrival.rate=300; "
      "repeatable; applies to every sweep point")(
      "dry-run,n", po::bool_switch(&o.dry_run),
      "check every point, list the runs (index, point, replication, seed, config hash, swept "
      "values) and exit")(
      "resume", po::bool_switch(&o.resume),
      "run only the runs without a valid shard of the same config hash in OUT.h5.d; nothing "
      "when OUT.h5 is up to date")(
      "shard", po::value(&shard),
      "I/N: run only the runs whose index is I modulo N, keep their shards and do not merge "
      "(for job arrays; then `infersim merge OUT.h5.d`)")(
      "stop-on-error", po::bool_switch(&o.stop_on_error),
      "stop at the first failed run (default: report it and go on)")(
      "keep-shards", po::bool_switch(&o.keep_shards), "keep OUT.h5.d after merging")(
      "quiet,q", po::bool_switch(&o.quiet), "no progress and no summary table");
  if (!parse_command(args, opts, "experiment", o.experiment)) return 0;
  if (o.experiment.empty()) throw po::error("missing EXPERIMENT.yaml");
  if (o.jobs < 0) throw po::error("-j expects a number of threads >= 0");
  if (!shard.empty()) parse_shard(shard, o);
  o.before_run = hooks.before_run;
  BuiltinRegistries reg;
  return run_command(o, reg.view());
}

int cmd_merge(const std::vector<std::string>& args) {
  po::options_description opts(
      "infersim merge OUT.h5.d [options]\n\n"
      "Builds the result set from the shards of a sweep (from --shard jobs, MPI ranks or an\n"
      "interrupted run). The shards are kept.\n\n"
      "options");
  MergeOptions o;
  opts.add_options()("help,h", "show this help")(
      "output,o", po::value(&o.out), "result file (default: the directory name without .d)")(
      "allow-missing", po::bool_switch(&o.allow_missing), "merge even if some runs have no shard")(
      "quiet,q", po::bool_switch(&o.quiet), "no summary table");
  if (!parse_command(args, opts, "dir", o.dir)) return 0;
  if (o.dir.empty()) throw po::error("missing the shard directory (OUT.h5.d)");
  return merge_command(o);
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
  BuiltinRegistries reg;
  for (const auto& p : reg.policies.all()) {
    std::cout << fmt::format("{}: {}\n", p.name, p.description) << describe_params(p.params);
  }
  return 0;
}

int cmd_arrivals() {
  BuiltinRegistries reg;
  for (const auto& a : reg.arrivals.all()) {
    std::cout << fmt::format("{}: {}\n", a.name, a.description) << describe_params(a.params);
  }
  return 0;
}

}  // namespace

int infersim_main(int argc, char** argv, const AppHooks& hooks) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (cmd == "run") return cmd_run(args, hooks);
    if (cmd == "merge") return cmd_merge(args);
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

}  // namespace infersim
