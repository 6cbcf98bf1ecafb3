// infersim: the command line. Bad input prints one line naming file:line:column and exits
// with status 2; nothing is written then.
#include "sim/cli/app.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <cstring>
#include <iostream>
#include <sstream>

#include "sim/cli/builtin_registries.h"
#include "sim/cli/commands.h"
#include "sim/config/experiment.h"
#include "sim/config/hardware_files.h"
#include "sim/core/version.h"
#include "sim/gpu/profile.h"
#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"
#include "sim/kernels/roofline.h"
#include "sim/kernels/roofline_report.h"

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
    "  models --roofline [--gpu G] | --graph MODEL [--batch B] roofline predictions; layers\n"
    "  policies                                                list policies and their keys\n"
    "  arrivals                                                list arrival processes\n"
    "  profile --backend cpu|cuda [--models a,b] [--batches 1,2,4,8,16] -o PROFILE.yaml\n"
    "                                                          measure L(b) on real hardware\n"
    "  measure EXPERIMENT.yaml --backend cpu|cuda -o MEASURED.h5\n"
    "                                                          replay the experiment for real\n"
    "  compare SIMULATED.h5 MEASURED.h5 [-o CMP.h5] [--max-error PCT]\n"
    "                                                          simulated against measured\n"
    "  check RESULT.h5... [--allow-missing]                    verify result sets (checksums)\n"
    "  routers                                                 list routers (services)\n"
    "  --version                                               version and git revision\n"
    "\n"
    "`infersim <command> --help` describes a command's options.\n";

constexpr const char* kReport =
    " (a bug in infersim: please report it with the command line and the experiment file)\n";

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

// The same for a command whose positional arguments are a list of up to `max` (-1: any
// number) into `positionals`; the caller checks how many it got, and reads what else was
// given from `vm`.
bool parse_command(const std::vector<std::string>& args, const po::options_description& opts,
                   const char* positional_name, int max, std::vector<std::string>& positionals,
                   po::variables_map& vm) {
  po::options_description hidden;
  hidden.add_options()(positional_name, po::value(&positionals)->composing());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add(positional_name, max);
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts;
    return false;
  }
  return true;
}

// -o FILE: an empty FILE is an error, not the default output (`-o ""` from an unset
// shell variable would otherwise write results/<name>.h5 without a word).
po::typed_value<std::string>* output_value(std::string& out) {
  return po::value(&out)->notifier([](const std::string& v) {
    if (v.empty()) throw po::error("-o expects a file name, got an empty one");
  });
}

int cmd_run(const std::vector<std::string>& args, const AppHooks& hooks) {
  po::options_description opts(
      "infersim run EXPERIMENT.yaml [options]\n\n"
      "Runs every point of the experiment's sweep (x replications), each into its own shard\n"
      "OUT.h5.d/run-NNNNNN.h5 (crash-safe), then merges them into OUT.h5 and removes\n"
      "OUT.h5.d. Exit status: 0 ok, 1 a run failed, 2 bad input (nothing written), 3 an\n"
      "internal error (a bug).\n\n"
      "options");
  RunOptions o;
  std::string shard;
  opts.add_options()("help,h", "show this help")(
      "output,o", output_value(o.out), "result file (default: results/<experiment name>.h5)")(
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
  // Each job holds a thread and a slot for its temporary file; no machine has 4096 cores.
  if (o.jobs < 0 || o.jobs > 4096) throw po::error("-j expects a number of threads from 0 to 4096");
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
      "output,o", output_value(o.out), "result file (default: the directory name without .d)")(
      "allow-missing", po::bool_switch(&o.allow_missing), "merge even if some runs have no shard")(
      "quiet,q", po::bool_switch(&o.quiet), "no summary table");
  if (!parse_command(args, opts, "dir", o.dir)) return 0;
  if (o.dir.empty()) throw po::error("missing the shard directory (OUT.h5.d)");
  return merge_command(o);
}

// "1,2,4" -> {1, 2, 4}; "a,b" -> {"a", "b"}.
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from <= s.size()) {
    const std::size_t comma = std::min(s.find(',', from), s.size());
    if (comma > from) out.push_back(s.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

int cmd_profile(const std::vector<std::string>& args) {
  po::options_description opts(
      "infersim profile --backend cpu|cuda -o PROFILE.yaml [options]\n\n"
      "Measures L(b) of each model's kernel calls on the backend's device (warm-up runs, then\n"
      "the median of repeated runs) and the device's peak FLOP/s and memory bandwidth, and\n"
      "writes a hardware profile naming the device, backend, libraries and date.\n\n"
      "options");
  ProfileOptions o;
  std::string models, batches, unused;
  opts.add_options()("help,h", "show this help")("backend", po::value(&o.backend),
                                                 "cpu (OpenBLAS) or cuda (cuBLAS)")(
      "models", po::value(&models), "comma-separated models (default: the synthetic SGEMM models)")(
      "batches", po::value(&batches)->default_value("1,2,4,8,16"), "comma-separated batch sizes")(
      "output,o", output_value(o.out), "profile to write")(
      "warmup", po::value(&o.warmup)->default_value(3), "unmeasured runs per batch size")(
      "repeats", po::value(&o.repeats)->default_value(30), "measured runs per batch size (median)")(
      "threads", po::value(&o.threads)->default_value(0),
      "cpu backend: worker threads (default 0: every core but one, left to the dispatcher)")(
      "launch", po::value(&o.launch)->default_value("eager"),
      "eager: a batch's kernels launched one by one; graph (cuda): each batch size's kernels "
      "as one CUDA graph. Recorded in the profile; `measure` launches exclusive and mps "
      "batches the same way")("no-peak",
                              "skip measuring the device's peak FLOP/s and memory bandwidth");
  po::options_description hidden;
  hidden.add_options()("positional", po::value(&unused));
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (o.backend.empty()) throw po::error("missing --backend cpu|cuda");
  if (o.out.empty()) throw po::error("missing -o PROFILE.yaml");
  o.peaks = !vm.count("no-peak");
  o.models = split_commas(models);
  o.batches.clear();
  for (const auto& b : split_commas(batches)) {
    try {
      std::size_t used = 0;
      o.batches.push_back(std::stoi(b, &used));
      if (used != b.size()) throw std::invalid_argument(b);
    } catch (const std::exception&) {
      throw po::error("--batches expects comma-separated integers, e.g. 1,2,4,8,16");
    }
  }
  o.command_line = "infersim profile";
  for (const auto& a : args) o.command_line += " " + a;
  return profile_command(o);
}

int cmd_measure(const std::vector<std::string>& args) {
  po::options_description opts(
      "infersim measure EXPERIMENT.yaml --backend cpu|cuda -o MEASURED.h5 [options]\n\n"
      "Replays every run of the experiment (the same seeded arrivals `run` simulates) on the\n"
      "backend's device on the wall clock, executing each tenant's kernel calls for real\n"
      "under the experiment's policy, and writes a result set of the same schema as `run`,\n"
      "plus /dispatch (the dispatcher's overhead). The experiment's profile must have been\n"
      "measured on this device, and its offered load must not exceed the measured capacity.\n"
      "Exit status: 0 ok, 1 device busy or a run-time failure, 2 bad input.\n\n"
      "options");
  MeasureOptions o;
  opts.add_options()("help,h", "show this help")("backend", po::value(&o.backend),
                                                 "cpu (OpenBLAS) or cuda (cuBLAS)")(
      "output,o", output_value(o.out), "result file (default: results/<name>.measured.h5)")(
      "set", po::value(&o.sets)->composing(),
      "override a setting by its dotted path (give `run` the same ones)")(
      "threads", po::value(&o.threads)->default_value(0),
      "cpu backend: worker threads (default 0: every core but one, left to the dispatcher)")(
      "idle-wait", po::value(&o.idle_wait_s)->default_value(0),
      "wait up to this many seconds for the device to go idle")(
      "allow-busy", po::bool_switch(&o.allow_busy),
      "measure even when other processes load the device (recorded in the result set)")(
      "quiet,q", po::bool_switch(&o.quiet), "no progress and no summary table");
  if (!parse_command(args, opts, "experiment", o.experiment)) return 0;
  if (o.experiment.empty()) throw po::error("missing EXPERIMENT.yaml");
  if (o.backend.empty()) throw po::error("missing --backend cpu|cuda");
  BuiltinRegistries reg;
  return measure_command(o, reg.view());
}

int cmd_compare(const std::vector<std::string>& args) {
  po::options_description opts(
      "infersim compare SIMULATED.h5 MEASURED.h5 [options]\n\n"
      "Prints, and with -o writes as /comparison, the simulated and measured mean, p50, p90,\n"
      "p95, p99, throughput and SLO attainment of every run, over all tenants and per\n"
      "tenant; error_pct is (simulated - measured) / measured in percent (+-inf against a\n"
      "measured 0; 0 when both are NaN), for SLO attainment the difference in points. The\n"
      "files must come from the same experiment (config hashes). Exit status: 0 ok, 1 an\n"
      "error beyond --max-error, 2 bad input.\n\n"
      "options");
  CompareOptions o;
  std::vector<std::string> files;
  opts.add_options()("help,h", "show this help")("output,o", output_value(o.out),
                                                 "write /comparison here")(
      "report", po::value(&o.report),
      "write a markdown table of each run's mean, p50, p99, throughput and SLO attainment")(
      "max-error", po::value(&o.max_error),
      "exit 1 when any |error_pct| exceeds this (percent; points for slo_attainment)");
  po::variables_map vm;
  if (!parse_command(args, opts, "files", 2, files, vm)) return 0;
  if (files.size() != 2) throw po::error("expected SIMULATED.h5 MEASURED.h5");
  if (vm.count("max-error") && !(o.max_error >= 0)) throw po::error("--max-error expects >= 0");
  o.simulated = files[0];
  o.measured = files[1];
  return compare_command(o);
}

int cmd_check(const std::vector<std::string>& args) {
  po::options_description opts(
      "infersim check RESULT.h5... [options]\n\n"
      "Reads each result set back whole and verifies it: the checksums of its HDF5 metadata\n"
      "and its content checksum (every attribute, cell and request record), and that it lacks\n"
      "no run of its sweep (runs_missing, written by `merge --allow-missing`). Prints one\n"
      "line per file, e.g. `out.h5: verified, 48 runs`. A file of an older infersim, without a\n"
      "content checksum, is read with a warning. Exit status: 0 every file verified, 2 a file\n"
      "missing, not HDF5, not a result set, damaged or partial (each named in one line).\n\n"
      "options");
  CheckOptions o;
  opts.add_options()("help,h", "show this help")(
      "allow-missing", po::bool_switch(&o.allow_missing),
      "accept a partial result set (runs missing); its line says how many");
  po::variables_map vm;
  if (!parse_command(args, opts, "files", -1, o.files, vm)) return 0;
  if (o.files.empty()) throw po::error("expected RESULT.h5 (one or more)");
  return check_command(o);
}

// "1,2,4" -> {1, 2, 4}, each >= 1.
std::vector<int> parse_batches(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    std::size_t used = 0;
    int b = 0;
    try {
      b = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || b < 1) {
      throw po::error("--batches expects batch sizes >= 1 separated by commas, e.g. 1,2,4,8,16");
    }
    out.push_back(b);
  }
  if (out.empty()) throw po::error("--batches expects at least one batch size");
  return out;
}

int cmd_models(const std::vector<std::string>& args) {
  po::options_description opts(
      "infersim models [PROFILE.yaml] [options]\n\n"
      "Lists the models of a hardware profile (default hardware_profiles/v100_clockwork.yaml)\n"
      "with L(b) in ms, the solo utilization u(1) and GFLOP. With --roofline: the roofline\n"
      "model's predictions for every model with a kernel graph, against PROFILE's measurements\n"
      "when it was measured on the same GPU. With --graph: one model's layers and kernels.\n\n"
      "options");
  std::string profile_path = "hardware_profiles/v100_clockwork.yaml";
  std::string gpus_file = "hardware_profiles/gpus.yaml";
  std::string arch_dir = "hardware_profiles/architectures";
  std::string gpu_name, graph, batches_text = "1,2,4,8,16";
  bool roofline = false, unfused = false;
  int batch = 1;
  opts.add_options()("help,h", "show this help")(
      "roofline", po::bool_switch(&roofline),
      "per model: arithmetic intensity against the GPU's compute-to-memory ratio, predicted "
      "L(b), and the profile's measurement and the error where it was measured on that GPU")(
      "graph", po::value(&graph),
      "MODEL (a profile row or an architecture): its layer table, then its kernels at --batch")(
      "gpu", po::value(&gpu_name), "GPU of gpus.yaml (default: the profile's)")(
      "batches", po::value(&batches_text), "--roofline batch sizes (default 1,2,4,8,16)")(
      "batch", po::value(&batch), "--graph batch size (default 1)")(
      "unfused", po::bool_switch(&unfused),
      "one kernel per layer (no element-wise fusion into the producing kernel)")(
      "gpus-file", po::value(&gpus_file),
      "GPU specifications (default hardware_profiles/gpus.yaml)")(
      "architectures", po::value(&arch_dir),
      "kernel graphs (default hardware_profiles/architectures)");
  std::string positional;
  if (!parse_command(args, opts, "profile", positional)) return 0;
  if (!positional.empty()) profile_path = positional;
  if (roofline && !graph.empty()) throw po::error("--roofline and --graph exclude each other");
  if (batch < 1) throw po::error("--batch expects a batch size >= 1");
  const std::vector<int> batches = parse_batches(batches_text);
  profile_path = resolve_data_path(profile_path, "", Mark{profile_path, 0, 0});
  const Profile profile = load_profile(profile_path);
  if (!roofline && graph.empty()) {
    print_models(profile, std::cout);
    return 0;
  }
  gpus_file = resolve_data_path(gpus_file, "", Mark{gpus_file, 0, 0});
  const std::vector<GpuSpec> gpus = load_gpus(gpus_file);
  if (gpu_name.empty()) gpu_name = profile.gpu;
  const GpuSpec* gpu = find_gpu(gpus, gpu_name);
  if (gpu == nullptr) throw po::error(fmt::format("no GPU '{}' in {}", gpu_name, gpus_file));
  if (!gpu->kernel) {
    throw po::error(
        fmt::format("GPU '{}' has no kernel_model constants in {}", gpu_name, gpus_file));
  }
  arch_dir = resolve_data_dir(arch_dir, "", Mark{arch_dir, 0, 0});
  const std::vector<kernels::Architecture> archs = kernels::load_architectures(arch_dir);
  kernels::LowerOptions options;
  options.fuse_elementwise = !unfused;
  const kernels::KernelModelParams params = kernels::default_kernel_params(*gpu);
  if (!graph.empty()) {
    const ModelProfile* m = profile.find(graph);
    const kernels::Architecture* arch =
        m && !m->architecture.empty() ? nullptr : kernels::find_for_model(archs, graph);
    for (const auto& a : archs) {
      if (m && a.name == m->architecture) arch = &a;
    }
    if (arch == nullptr) {
      throw po::error(fmt::format("no kernel graph for '{}' in {}", graph, arch_dir));
    }
    std::ostringstream table;  // printed whole: an input error leaves no partial table
    kernels::print_layers(*arch, table);
    table << "\n";
    try {
      kernels::print_kernels(*arch, kernels::lower(*arch, batch, options), params, table);
    } catch (const kernels::OutOfModelRange& e) {
      throw kernels::out_of_range_error(*arch, batch, params, e);
    }
    std::cout << table.str();
    return 0;
  }
  kernels::print_report(kernels::compare_with_profile(archs, profile, params, batches, options),
                        std::cout);
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
  // Not a process's key: any process but trace takes it (sim/config/experiment.cc).
  std::cout << "beside the keys of any process but trace, in a tenant entry's arrival:\n"
            << fmt::format("    {:<20} {:<10} {}\n", "popularity", "none",
                           "{zipf: s}: one stream for the entry, its requests dealt to the "
                           "entry's services with weight 1/rank^s (its instances with a "
                           "router; without one, every replica, instance by instance)");
  return 0;
}

int cmd_routers() {
  BuiltinRegistries reg;
  for (const auto& r : reg.routers.all()) {
    std::cout << fmt::format("{}: {}\n", r.name, r.description) << describe_params(r.params);
  }
  return 0;
}

}  // namespace

int infersim_main(int argc, char** argv, const AppHooks& hooks) {
  // Past a file-size limit (ulimit -f) a write fails with EFBIG and is reported like a full
  // disk, instead of SIGXFSZ killing the process with its temporary files left behind.
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version")) {
    std::cout << fmt::format("infersim {} (git {})\n", version(), git_revision());
    return 0;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    // The listing commands take no arguments: one given is a mistake, not a filter.
    if ((cmd == "policies" || cmd == "arrivals" || cmd == "routers") && !args.empty()) {
      throw po::error(fmt::format("takes no arguments, got '{}'", args.front()));
    }
    if (cmd == "run") return cmd_run(args, hooks);
    if (cmd == "merge") return cmd_merge(args);
    if (cmd == "models") return cmd_models(args);
    if (cmd == "policies") return cmd_policies();
    if (cmd == "arrivals") return cmd_arrivals();
    if (cmd == "profile") return cmd_profile(args);
    if (cmd == "measure") return cmd_measure(args);
    if (cmd == "compare") return cmd_compare(args);
    if (cmd == "check") return cmd_check(args);
    if (cmd == "routers") return cmd_routers();
    std::cerr << "infersim: unknown command '" << one_line(cmd) << "' (see infersim --help)\n";
    return 2;
  } catch (const InputError& e) {  // already one line
    std::cerr << "infersim: " << e.what() << "\n";
    return 2;
  } catch (const po::error& e) {  // derives from std::logic_error: before it
    std::cerr << "infersim " << one_line(cmd) << ": " << one_line(e.what()) << " (see --help)\n";
    return 2;
  } catch (const std::logic_error& e) {  // a broken invariant: a bug, not the user's fault
    std::cerr << "infersim: internal error: " << one_line(e.what()) << kReport;
    return 3;
  } catch (const std::exception& e) {  // I/O, resources: the run failed
    std::cerr << "infersim: error: " << one_line(e.what()) << "\n";
    return 1;
  } catch (...) {
    std::cerr << "infersim: internal error: an unknown exception" << kReport;
    return 3;
  }
}

}  // namespace infersim
