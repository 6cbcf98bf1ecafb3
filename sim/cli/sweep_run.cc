#include "sim/cli/sweep_run.h"

#include "sim/core/version.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <exception>
#include <thread>

#include "sim/cli/mpi_world.h"
#include "sim/cli/output.h"
#include "sim/cli/result_set.h"
#include "sim/cli/runner.h"
#include "sim/config/sweep.h"
#include "sim/results/hdf5_writer.h"

namespace infersim {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Debian's HDF5 is not thread-safe: every HDF5 call made while workers run holds this lock.
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// ------------------------------------------------------------ temporary files and signals

// Temporary files being written, removed if SIGINT/SIGTERM ends the process. Fixed-size
// C strings so the handler only reads memory and calls unlink.
constexpr std::size_t kPathMax = 4096;
char (*g_temp_slots)[kPathMax] = nullptr;
std::atomic<std::size_t> g_temp_count{0};

extern "C" void remove_temps_and_die(int sig) {
  const std::size_t n = g_temp_count.load();
  for (std::size_t i = 0; i < n; ++i) {
    if (g_temp_slots[i][0] != '\0') ::unlink(g_temp_slots[i]);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

class TempFiles {
 public:
  explicit TempFiles(std::size_t slots) : slots_(new char[slots][kPathMax]()) {
    g_temp_slots = slots_;
    g_temp_count = slots;
    old_int_ = std::signal(SIGINT, remove_temps_and_die);
    old_term_ = std::signal(SIGTERM, remove_temps_and_die);
  }
  ~TempFiles() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
    g_temp_count = 0;
    g_temp_slots = nullptr;
    delete[] slots_;
  }
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;

  void set(std::size_t slot, const std::string& path) {
    slots_[slot][0] = '\0';
    std::size_t n = std::min(path.size(), kPathMax - 1);
    std::memcpy(slots_[slot] + 1, path.data() + 1, n > 0 ? n - 1 : 0);
    slots_[slot][n] = '\0';
    slots_[slot][0] = n > 0 ? path[0] : '\0';  // published last
  }
  void clear(std::size_t slot) { slots_[slot][0] = '\0'; }

 private:
  char (*slots_)[kPathMax];
  void (*old_int_)(int) = SIG_DFL;
  void (*old_term_)(int) = SIG_DFL;
};

// Removes "<name>.tmp.<pid>" files in `dir` whose process is gone (left by a killed run).
void remove_stale_temps(const fs::path& dir, const std::string& prefix = "") {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!prefix.empty() && name.compare(0, prefix.size(), prefix) != 0) continue;
    auto pos = name.rfind(".tmp.");
    if (pos == std::string::npos) continue;
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + pos + 5, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    fs::remove(e.path(), ec);
  }
}

// ------------------------------------------------------------------------------ shards

struct ShardInfo {
  std::string path;
  std::uint64_t run = 0;
  std::uint64_t point = 0;
  int replication = 0;
  std::uint64_t runs_total = 0;
  int replications = 1;
  std::string config_hash;
  std::string sweep_id;
  bool requests = false;
};

std::string shard_info_text(const ShardInfo& s) {
  return fmt::format(
      "run={}\npoint={}\nreplication={}\nruns_total={}\nreplications={}\nconfig_hash={}\n"
      "sweep_id={}\nrequests={}\n",
      s.run, s.point, s.replication, s.runs_total, s.replications, s.config_hash, s.sweep_id,
      s.requests ? 1 : 0);
}

// The shard's description, or nothing if the file is missing, unreadable or not a shard.
std::optional<ShardInfo> read_shard_info(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::string text;
  try {
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    text = read_root_attr(path, "infersim_shard");
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::map<std::string, std::string> kv;
  for (const auto& line : split_lines(text)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const char* k :
       {"run", "point", "replication", "runs_total", "replications", "config_hash", "sweep_id"}) {
    if (!kv.count(k)) return std::nullopt;
  }
  ShardInfo s;
  s.path = path;
  try {
    s.run = std::stoull(kv["run"]);
    s.point = std::stoull(kv["point"]);
    s.replication = std::stoi(kv["replication"]);
    s.runs_total = std::stoull(kv["runs_total"]);
    s.replications = std::stoi(kv["replications"]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  s.config_hash = kv["config_hash"];
  s.sweep_id = kv["sweep_id"];
  s.requests = kv["requests"] == "1";
  if (s.replications < 1 || s.run >= s.runs_total) return std::nullopt;
  return s;
}

std::string utc_now() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

struct MergedSet {
  Table summary;
  Table tenants;
  std::optional<Table> aggregate;
  std::vector<std::string> swept;
};

// Reads the shards (in run order) into the merged tables; checks they share one layout.
MergedSet collect_shards(const std::vector<ShardInfo>& shards) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  MergedSet m;
  if (shards.empty()) return m;
  m.swept = split_lines(read_root_attr(shards.front().path, "swept_columns"));
  for (std::size_t i = 0; i < shards.size(); ++i) {
    Table s = read_table(shards[i].path, "/summary");
    Table t = read_table(shards[i].path, "/tenants");
    if (i == 0) {
      m.summary.names = s.names;
      m.summary.types = s.types;
      m.tenants.names = t.names;
      m.tenants.types = t.types;
    } else if (s.names != m.summary.names || s.types != m.summary.types ||
               t.names != m.tenants.names || t.types != m.tenants.types) {
      throw std::runtime_error(
          fmt::format("shard {} has other /summary or /tenants columns than "
                      "{} (written by another infersim version?)",
                      shards[i].path, shards.front().path));
    }
    for (auto& row : s.rows) m.summary.rows.push_back(std::move(row));
    for (auto& row : t.rows) m.tenants.rows.push_back(std::move(row));
  }
  if (shards.front().replications >= 2) {
    m.aggregate = aggregate_table(m.summary, m.swept, shards.front().replications);
  }
  return m;
}

// Writes OUT.h5 from the shards (run order) and their tables.
void write_merged(const MergedSet& m, const std::vector<ShardInfo>& shards, const std::string& out,
                  TempFiles& temps, std::size_t slot) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  const ShardInfo& first = shards.front();
  ResultFile f(out);
  temps.set(slot, f.temp_path());
  f.write_table("/summary", m.summary);
  f.write_table("/tenants", m.tenants);
  if (m.aggregate) f.write_table("/aggregate", *m.aggregate);
  for (const ShardInfo& s : shards) {
    if (s.requests) {
      const std::string group = fmt::format("/runs/{}", s.run);
      f.copy_object(s.path, group, group);
    }
  }
  for (const char* a :
       {"experiment_yaml", "experiment_file", "overrides", "infersim_version", "git_revision"}) {
    f.set_root_attr(a, read_root_attr(first.path, a));
  }
  f.set_root_attr("created_utc", utc_now());
  f.set_root_attr("sweep_id", first.sweep_id);
  f.set_root_attr("runs_total", std::to_string(first.runs_total));
  f.set_root_attr("replications", std::to_string(first.replications));
  f.set_root_attr("points", std::to_string(first.runs_total / first.replications));
  f.set_root_attr("swept_columns", join(m.swept, "\n"));
  f.commit();
  temps.clear(slot);
}

// ------------------------------------------------------------------------------ the plan

struct RunSpec {
  std::size_t point = 0;
  int replication = 0;
  std::uint64_t seed = 0;
  std::string config_hash;
};

struct Plan {
  Sweep sweep;
  std::vector<std::string> columns;  // the summary column of each swept parameter
  std::vector<RunSpec> runs;
  std::vector<bool> point_requests;  // output.requests of each point
  std::vector<std::string> effective;  // each point's effective YAML (provenance)
  std::string sweep_id;
  std::string name;  // the experiment's name (of point 0)

  SweptValues swept_values(std::size_t point) const {
    SweptValues v;
    const auto& values = sweep.point_values(point);
    for (std::size_t p = 0; p < columns.size(); ++p) {
      v.emplace_back(columns[p], sweep.params()[p].cells[values[p]]);
    }
    return v;
  }
};

// Expands and validates every point before anything runs: a bad point is an InputError.
Plan make_plan(const RunOptions& o, const Registries& reg) {
  Plan plan{Sweep::load(o.experiment, o.sets), {}, {}, {}, {}, {}, {}};
  const Sweep& sw = plan.sweep;
  for (const auto& s : o.sets) {
    const std::string path = s.substr(0, s.find('='));
    for (const auto& p : sw.params()) {
      if (p.path == path) {
        throw InputError(p.mark, fmt::format("'{}' is swept here and also set by --set {}; drop "
                                             "one of them",
                                             p.path, s));
      }
    }
  }
  // Swept paths that collide with a fixed /summary column (e.g. `seed`) get a prefix.
  std::set<std::string> fixed;
  for (const auto& n : summary_table(std::vector<RunResult>{}, {}).names) fixed.insert(n);
  for (const auto& p : sw.params()) {
    plan.columns.push_back(fixed.count(p.path) ? "sweep." + p.path : p.path);
  }

  // Check the points on every core (parsing dominates the start of a large sweep); the
  // first bad point in point order is the one reported, whatever the thread timing.
  struct PointCheck {
    std::string name;
    bool requests = false;
    std::uint64_t seed = 0;
    std::exception_ptr error;
  };
  const std::size_t points = sw.points();
  std::vector<PointCheck> checks(points);
  plan.effective.resize(points);
  std::atomic<std::size_t> next_point{0};
  auto check = [&] {
    for (std::size_t point; (point = next_point++) < points;) {
      try {
        Experiment x = sw.experiment(point, reg);
        try {
          place_tenants(x, reg);
        } catch (const InputError& e) {
          sw.rethrow_for_point(point, e);
        }
        checks[point].name = x.name;
        checks[point].requests = x.output_requests;
        checks[point].seed = x.seed;
        plan.effective[point] = sw.effective_yaml(point);
      } catch (...) {
        checks[point].error = std::current_exception();
      }
    }
  };
  const std::size_t threads = std::min<std::size_t>(
      points, o.jobs > 0 ? static_cast<std::size_t>(o.jobs)
                         : std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < threads; ++i) pool.emplace_back(check);
  check();
  for (auto& t : pool) t.join();
  for (const PointCheck& c : checks) {
    if (c.error) std::rethrow_exception(c.error);
  }

  const int reps = sw.replications();
  std::string all_hashes = fmt::format("runs {}\n", sw.runs());
  for (std::size_t point = 0; point < points; ++point) {
    if (point == 0) plan.name = checks[point].name;
    plan.point_requests.push_back(checks[point].requests);
    const std::string& effective = plan.effective[point];
    std::string swept;
    const auto& values = sw.point_values(point);
    for (std::size_t p = 0; p < plan.columns.size(); ++p) {
      swept += fmt::format("{}={}\n", plan.columns[p], sw.params()[p].labels[values[p]]);
    }
    for (int rep = 0; rep < reps; ++rep) {
      RunSpec r;
      r.point = point;
      r.replication = rep;
      r.seed = replication_seed(checks[point].seed, rep);
      const std::size_t run =
          point * static_cast<std::size_t>(reps) + static_cast<std::size_t>(rep);
      r.config_hash = content_hash(
          fmt::format("infersim {}\nrun {}\npoint {}\nreplication {}\nseed {}\n{}---\n{}",
                      version(), run, point, rep, r.seed, swept, effective));
      all_hashes += r.config_hash + "\n";
      plan.runs.push_back(std::move(r));
    }
  }
  plan.sweep_id = content_hash(all_hashes);
  return plan;
}

// ---------------------------------------------------------------------------- progress

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  long t = static_cast<long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}

// A bar on stderr when it is a terminal; otherwise a line every few seconds.
class Progress {
 public:
  Progress(std::size_t total, bool enabled, std::string label)
      : total_(total),
        enabled_(enabled && total > 0),
        tty_(::isatty(2) == 1),
        label_(std::move(label)),
        start_(Clock::now()),
        last_(start_) {
    if (const char* s = std::getenv("INFERSIM_PROGRESS_SECONDS")) interval_ = std::atof(s);
  }

  void update(std::size_t done, std::size_t failed) {
    if (!enabled_) return;
    const double since = seconds_since(last_);
    if (tty_ ? since < 0.1 && done < total_ : since < interval_) return;
    last_ = Clock::now();
    const double elapsed = seconds_since(start_);
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1;
    const std::string fail = failed ? fmt::format(", {} failed", failed) : "";
    if (tty_) {
      const int width = 30;
      const int fill = static_cast<int>(width * done / total_);
      fmt::print(std::cerr, "\r\033[K{}[{}{}] {}/{} runs  {:.1f} runs/s  ETA {}{}", label_,
                 std::string(fill, '#'), std::string(width - fill, '.'), done, total_, rate,
                 format_duration(eta), fail);
      drawn_ = true;
    } else {
      fmt::print(std::cerr, "infersim: {}{}/{} runs ({:.0f}%), {:.1f} runs/s, ETA {}{}\n", label_,
                 done, total_, 100.0 * static_cast<double>(done) / static_cast<double>(total_),
                 rate, format_duration(eta), fail);
    }
    std::cerr.flush();
  }
  // Prints a line of its own (a failure), keeping the bar intact.
  void message(const std::string& line) {
    clear();
    std::cerr << line << "\n";
  }
  void clear() {
    if (drawn_) std::cerr << "\r\033[K";
    drawn_ = false;
  }

 private:
  std::size_t total_;
  bool enabled_;
  bool tty_;
  std::string label_;
  Clock::time_point start_, last_;
  double interval_ = 5.0;
  bool drawn_ = false;
};

// ---------------------------------------------------------------------------- executing

// Buffers per-request outcomes and appends them to the shard's stream under the HDF5 lock.
class LockedStreamSink final : public RequestSink {
 public:
  explicit LockedStreamSink(RequestStream& s) : inner_(s) { buf_.reserve(kBatch); }
  void record(const RequestOutcome& r) override {
    buf_.push_back(r);
    if (buf_.size() >= kBatch) {
      std::lock_guard<std::mutex> lock(hdf5_mutex());
      drain();
    }
  }
  void drain() {  // the caller holds the HDF5 lock
    for (const auto& r : buf_) inner_.record(r);
    buf_.clear();
  }

 private:
  static constexpr std::size_t kBatch = 65536;
  RequestStreamSink inner_;
  std::vector<RequestOutcome> buf_;
};

struct Job {
  std::size_t run = 0;
  std::unique_ptr<Experiment> x;
  std::string effective;
};

struct Outcome {
  std::size_t run = 0;
  bool ok = false;
  std::string error;
  bool not_started = false;  // dropped after another run failed (--stop-on-error)
};

struct Counts {
  std::int64_t ok = 0;
  std::int64_t failed = 0;
  std::int64_t not_started = 0;  // left out after a failure with --stop-on-error
};

class Executor {
 public:
  Executor(const Plan& plan, const Registries& reg, std::string dir, TempFiles& temps,
           bool stop_on_error)
      : plan_(plan), reg_(reg), dir_(std::move(dir)), temps_(temps), stop_on_error_(stop_on_error) {
    // Testing hook: INFERSIM_FAIL_RUNS=3,7 makes those runs fail (exercises failure paths).
    if (const char* s = std::getenv("INFERSIM_FAIL_RUNS")) {
      std::stringstream ss(s);
      for (std::string item; std::getline(ss, item, ',');) {
        if (!item.empty()) fail_runs_.insert(std::stoull(item));
      }
    }
  }

  Counts execute(const std::vector<std::size_t>& todo, int jobs, Progress& progress) {
    std::mutex mu;
    std::condition_variable cv_work, cv_done;
    std::deque<Job> queue;
    std::deque<Outcome> outcomes;
    bool closing = false;
    std::vector<std::thread> workers;
    auto shutdown = [&] {
      {
        std::lock_guard<std::mutex> l(mu);
        closing = true;
        queue.clear();
      }
      cv_work.notify_all();
      for (auto& w : workers) w.join();
      workers.clear();
    };
    for (int w = 0; w < jobs; ++w) {
      workers.emplace_back([&, w] {
        while (true) {
          Job job;
          {
            std::unique_lock<std::mutex> l(mu);
            cv_work.wait(l, [&] { return closing || !queue.empty(); });
            if (queue.empty()) return;
            job = std::move(queue.front());
            queue.pop_front();
          }
          Outcome out;
          if (stopping_) {  // --stop-on-error: a run failed; start nothing new
            out.run = job.run;
            out.not_started = true;
          } else {
            out = run_one(job, static_cast<std::size_t>(w));
            if (!out.ok && stop_on_error_) stopping_ = true;
          }
          {
            std::lock_guard<std::mutex> l(mu);
            outcomes.push_back(std::move(out));
          }
          cv_done.notify_one();
        }
      });
    }

    Counts c;
    std::size_t next = 0, dispatched = 0, finished = 0;
    bool stop = false;
    const std::size_t depth = 2 * static_cast<std::size_t>(jobs);
    try {
      while (true) {
        // Keep the queue full; experiments are parsed here, on the main thread.
        while (!stop && next < todo.size()) {
          {
            std::lock_guard<std::mutex> l(mu);
            if (queue.size() >= depth) break;
          }
          const std::size_t run = todo[next++];
          Job job;
          job.run = run;
          try {
            const std::size_t point = plan_.runs[run].point;
            job.x = std::make_unique<Experiment>(plan_.sweep.experiment(point, reg_));
            job.effective = plan_.effective[point];
          } catch (const std::exception& e) {
            std::lock_guard<std::mutex> l(mu);
            outcomes.push_back(Outcome{run, false, e.what()});
            ++dispatched;
            continue;
          }
          {
            std::lock_guard<std::mutex> l(mu);
            queue.push_back(std::move(job));
            ++dispatched;
          }
          cv_work.notify_one();
        }
        std::deque<Outcome> got;
        {
          std::unique_lock<std::mutex> l(mu);
          cv_done.wait_for(l, std::chrono::milliseconds(100), [&] { return !outcomes.empty(); });
          got.swap(outcomes);
        }
        for (auto& o : got) {
          ++finished;
          if (o.not_started) {
            ++c.not_started;
            continue;
          }
          if (o.ok) {
            ++c.ok;
            continue;
          }
          ++c.failed;
          const RunSpec& spec = plan_.runs[o.run];
          const std::string what = plan_.sweep.describe(spec.point);
          progress.message(fmt::format("infersim: run {} failed (point {}, replication {}{}{}): {}",
                                       o.run, spec.point, spec.replication,
                                       what.empty() ? "" : ": ", what, o.error));
          if (stop_on_error_ && !stop) {
            stop = true;
            std::lock_guard<std::mutex> l(mu);
            c.not_started += static_cast<std::int64_t>(queue.size());
            dispatched -= queue.size();
            queue.clear();
          }
        }
        progress.update(static_cast<std::size_t>(c.ok + c.failed),
                        static_cast<std::size_t>(c.failed));
        if (finished == dispatched && (stop || next == todo.size())) break;
      }
    } catch (...) {
      shutdown();
      throw;
    }
    if (stop) c.not_started += static_cast<std::int64_t>(todo.size() - next);
    shutdown();
    progress.clear();
    return c;
  }

 private:
  Outcome run_one(Job& job, std::size_t slot) {
    const std::size_t run = job.run;
    const RunSpec& spec = plan_.runs[run];
    const std::string path = shard_path(dir_, run);
    std::unique_lock<std::mutex> h5(hdf5_mutex(), std::defer_lock);
    std::unique_ptr<ResultFile> file;
    std::unique_ptr<RequestStream> stream;
    std::unique_ptr<LockedStreamSink> sink;
    try {
      if (fail_runs_.count(run)) throw std::runtime_error("injected failure (INFERSIM_FAIL_RUNS)");
      if (job.x->output_requests) {
        h5.lock();
        file = std::make_unique<ResultFile>(path);
        temps_.set(slot, file->temp_path());
        stream = file->open_requests(fmt::format("/runs/{}", run));
        h5.unlock();
        sink = std::make_unique<LockedStreamSink>(*stream);
      }
      std::vector<RunResult> one;
      one.push_back(simulate(*job.x, reg_, run, spec.replication, sink.get()));

      ShardInfo info;
      info.run = run;
      info.point = spec.point;
      info.replication = spec.replication;
      info.runs_total = plan_.runs.size();
      info.replications = plan_.sweep.replications();
      info.config_hash = spec.config_hash;
      info.sweep_id = plan_.sweep_id;
      info.requests = job.x->output_requests;

      h5.lock();
      if (!file) {
        file = std::make_unique<ResultFile>(path);
        temps_.set(slot, file->temp_path());
      }
      if (sink) sink->drain();
      if (stream) stream->close();
      file->write_table("/summary", summary_table(one, {plan_.swept_values(spec.point)}));
      file->write_table("/tenants", tenants_table(*job.x, one));
      write_provenance(*file, *job.x, plan_.sweep.sets());
      file->set_root_attr("effective_yaml", job.effective);
      file->set_root_attr("swept_columns", join(plan_.columns, "\n"));
      file->set_root_attr("infersim_shard", shard_info_text(info));
      file->finish();
      h5.unlock();
      // fsync and rename, without the lock: other workers write meanwhile. The directory is
      // fsynced once after all runs; a rename lost in a crash only means re-running.
      file->publish(/*sync_dir=*/false);
      temps_.clear(slot);
      sink.reset();
      stream.reset();
      file.reset();
      return Outcome{run, true, ""};
    } catch (const std::exception& e) {
      if (!h5.owns_lock()) h5.lock();
      file.reset();  // removes the temporary file; abandons the stream
      stream.reset();
      sink.reset();
      temps_.clear(slot);
      return Outcome{run, false, e.what()};
    }
  }

  const Plan& plan_;
  const Registries& reg_;
  std::string dir_;
  TempFiles& temps_;
  bool stop_on_error_;
  std::atomic<bool> stopping_{false};
  std::set<std::size_t> fail_runs_;
};

// Shard infos of runs [0, n) that match the plan; nullopt entries are missing.
std::vector<std::optional<ShardInfo>> valid_shards(const Plan& plan, const std::string& dir,
                                                   const std::vector<std::size_t>& runs) {
  std::vector<std::optional<ShardInfo>> out;
  for (std::size_t run : runs) {
    auto info = read_shard_info(shard_path(dir, run));
    if (info && (info->config_hash != plan.runs[run].config_hash || info->run != run)) {
      info.reset();
    }
    out.push_back(std::move(info));
  }
  return out;
}

void print_dry_run(std::ostream& out, const Plan& plan, const std::vector<std::size_t>& mine,
                   const std::vector<std::optional<ShardInfo>>* status,
                   const std::vector<std::size_t>* ranks) {
  const Sweep& sw = plan.sweep;
  std::vector<std::string> header{"run", "point", "rep", "seed", "config_hash"};
  if (ranks) header.insert(header.begin() + 3, "rank");
  for (const auto& c : plan.columns) header.push_back(c);
  if (status) header.push_back("status");
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    const RunSpec& r = plan.runs[mine[i]];
    std::vector<std::string> row{std::to_string(mine[i]), std::to_string(r.point),
                                 std::to_string(r.replication), fmt::format("{:016x}", r.seed),
                                 r.config_hash};
    if (ranks) row.insert(row.begin() + 3, std::to_string((*ranks)[i]));
    const auto& values = sw.point_values(r.point);
    for (std::size_t p = 0; p < plan.columns.size(); ++p) {
      row.push_back(sw.params()[p].labels[values[p]]);
    }
    if (status) row.push_back((*status)[i] ? "done" : "to run");
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::size_t numeric = ranks ? 4 : 3;
      s += (c ? "  " : "") + (c < numeric ? fmt::format("{:>{}}", cells[c], width[c])
                                          : fmt::format("{:<{}}", cells[c], width[c]));
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string plural(std::size_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

int run_command_impl(const RunOptions& o, const Registries& reg, MpiWorld& world) {
  const auto start = Clock::now();
  const bool root = world.rank() == 0;
  const bool distributed = world.size() > 1;
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
    throw InputError(Mark{"--shard", 0, 0}, "expected I/N with 0 <= I < N");
  }

  // 1. Expand and check every point; nothing is written before this succeeds.
  std::optional<Plan> plan_storage;
  {
    std::string error;
    try {
      plan_storage.emplace(make_plan(o, reg));
    } catch (const InputError& e) {
      error = e.what();
    }
    const std::int64_t first_bad =
        world.min(error.empty() ? std::int64_t{world.size()} : std::int64_t{world.rank()});
    if (first_bad < world.size()) {
      if (world.rank() == first_bad) std::cerr << "infersim: " << error << "\n";
      return 2;
    }
  }
  const Plan& plan = *plan_storage;
  const Sweep& sw = plan.sweep;
  const std::string out =
      o.out.empty() ? (fs::path("results") / (plan.name + ".h5")).string() : o.out;
  const std::string dir = out + ".d";
  const bool sharded = o.shard_count > 1;

  // 2. This process's runs: its --shard slice, dealt round-robin to the MPI ranks.
  std::vector<std::size_t> slice, mine, rank_of;
  for (std::size_t r = static_cast<std::size_t>(o.shard_index); r < plan.runs.size();
       r += static_cast<std::size_t>(o.shard_count)) {
    const std::size_t rank = slice.size() % static_cast<std::size_t>(world.size());
    slice.push_back(r);
    rank_of.push_back(rank);
    if (rank == static_cast<std::size_t>(world.rank())) mine.push_back(r);
  }
  const std::string shard_label =
      sharded ? fmt::format("shard {}/{}, ", o.shard_index, o.shard_count) : "";

  if (o.dry_run) {
    if (root) {
      std::vector<std::optional<ShardInfo>> status;
      if (o.resume) status = valid_shards(plan, dir, slice);
      std::cout << fmt::format("{}: {} ({} point{} x {} replication{}{}){}; output {}\n", sw.file(),
                               plural(plan.runs.size(), "run"), sw.points(),
                               sw.points() == 1 ? "" : "s", sw.replications(),
                               sw.replications() == 1 ? "" : "s",
                               sw.excluded() ? fmt::format(", {} excluded", sw.excluded()) : "",
                               sharded ? fmt::format("; shard {}/{}: {}", o.shard_index,
                                                     o.shard_count, plural(slice.size(), "run"))
                                       : "",
                               out);
      print_dry_run(std::cout, plan, slice, o.resume ? &status : nullptr,
                    distributed ? &rank_of : nullptr);
    }
    return 0;
  }

  // 3. Up to date already? (--resume after a finished run: the shards are gone.)
  if (o.resume) {
    std::error_code ec;
    bool up_to_date = false;
    if (fs::is_regular_file(out, ec)) {
      try {
        std::lock_guard<std::mutex> lock(hdf5_mutex());
        up_to_date = read_root_attr(out, "sweep_id") == plan.sweep_id;
      } catch (const std::exception&) {
      }
    }
    if (world.min(up_to_date ? 1 : 0) == 1) {
      if (root) {
        if (!sharded && !o.keep_shards) fs::remove_all(dir, ec);
        std::cout << fmt::format("infersim: {} is up to date ({}); nothing to run\n", out,
                                 plural(plan.runs.size(), "run"));
        std::cout << fmt::format("infersim: {}: 0 ok, 0 failed, {} skipped (already done)\n",
                                 plural(plan.runs.size(), "run"), plan.runs.size());
      }
      return 0;
    }
  }

  // 4. What is left to run.
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", dir, ec.message()));
  if (!distributed && !sharded) {
    remove_stale_temps(dir);
    remove_stale_temps(
        fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path(),
        fs::path(out).filename().string() + ".tmp.");
  }
  std::vector<std::size_t> todo;
  std::int64_t already = 0;
  if (o.resume) {
    auto status = valid_shards(plan, dir, mine);
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (status[i]) {
        ++already;
      } else {
        todo.push_back(mine[i]);
      }
    }
  } else {
    todo = mine;
  }

  unsigned hw = std::thread::hardware_concurrency();
  int jobs =
      o.jobs > 0 ? o.jobs : std::max(1, static_cast<int>(hw) / std::max(1, world.local_size()));
  jobs = static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(jobs, todo.size())));

  TempFiles temps(static_cast<std::size_t>(jobs) + 1);
  Counts c;
  {
    Progress progress(todo.size(), root && !o.quiet,
                      distributed ? fmt::format("rank 0/{}: ", world.size()) : "");
    Executor ex(plan, reg, dir, temps, o.stop_on_error);
    c = ex.execute(todo, jobs, progress);
  }
  // Shards were renamed into place without syncing the directory each time: do it once.
  if (!todo.empty()) sync_directory(dir);

  // 5. Totals over every rank; rank 0 merges when everything is there.
  std::int64_t totals[4] = {c.ok, c.failed, already, c.not_started};
  world.sum(totals, 4);
  const std::int64_t ok = totals[0], failed = totals[1], done_before = totals[2],
                     not_started = totals[3];
  const std::size_t scope = slice.size();
  int status = failed > 0 || not_started > 0 ? 1 : 0;

  if (root) {
    if (status == 0) {
      const std::vector<std::size_t>& runs = slice;
      auto shards = valid_shards(plan, dir, runs);
      std::vector<ShardInfo> present;
      std::vector<std::size_t> missing;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (shards[i]) {
          present.push_back(*shards[i]);
        } else {
          missing.push_back(runs[i]);
        }
      }
      if (!missing.empty()) {
        std::cerr << fmt::format("infersim: {} of {} have no valid shard in {} (first: run {})\n",
                                 plural(missing.size(), "run"), runs.size(), dir, missing.front());
        status = 1;
      } else {
        MergedSet m = collect_shards(present);
        if (!sharded) write_merged(m, present, out, temps, static_cast<std::size_t>(jobs));
        if (!o.quiet) {
          print_result_tables(std::cout, m.summary, m.tenants,
                              m.aggregate ? &*m.aggregate : nullptr, m.swept);
        }
        if (sharded) {
          std::cout << fmt::format(
              "wrote {} of shard {}/{} to {}; when every shard is done: "
              "infersim merge {} -o {}\n",
              plural(runs.size(), "run"), o.shard_index, o.shard_count, dir, dir, out);
        } else {
          if (!o.keep_shards) fs::remove_all(dir, ec);
          std::cout << fmt::format(
              "wrote {} ({}{})\n", out, plural(plan.runs.size(), "run"),
              m.aggregate ? fmt::format(", {} with /aggregate", plural(sw.points(), "point")) : "");
        }
      }
    } else {
      std::cerr << fmt::format(
          "infersim: {} not merged: {} failed{}; the finished runs' shards "
          "are in {}; `infersim run ... --resume` runs the rest\n",
          out, plural(static_cast<std::size_t>(failed), "run"),
          not_started ? fmt::format(", {} not started", not_started) : "", dir);
    }
    std::cout << fmt::format(
        "infersim: {}{}: {} ok, {} failed, {} skipped{} in {:.2f} s with -j {}{}\n", shard_label,
        plural(scope, "run"), ok, failed, done_before + not_started,
        done_before && not_started
            ? fmt::format(" ({} already done, {} not started)", done_before, not_started)
        : done_before ? " (already done)"
        : not_started ? " (not started)"
                      : "",
        seconds_since(start), jobs, distributed ? fmt::format(" x {} ranks", world.size()) : "");
  }
  return static_cast<int>(world.max(status));
}

}  // namespace

std::string shard_path(const std::string& shard_dir, std::size_t run) {
  return (fs::path(shard_dir) / fmt::format("run-{:06}.h5", run)).string();
}

int run_command(const RunOptions& options, const Registries& reg) {
  MpiWorld world;
  try {
    return run_command_impl(options, reg, world);
  } catch (const std::exception& e) {
    if (world.size() > 1) {
      std::cerr << fmt::format("infersim: rank {}: {}\n", world.rank(), e.what());
    }
    throw;  // with several ranks, ~MpiWorld aborts them all
  }
}

int merge_command(const MergeOptions& o) {
  std::string dir = o.dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string out = o.out;
  if (out.empty()) {
    out = dir.size() > 2 && dir.compare(dir.size() - 2, 2, ".d") == 0
              ? dir.substr(0, dir.size() - 2)
              : dir + ".h5";
  }
  const Mark where{dir, 0, 0};
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(where, "not a directory of shards");
  std::vector<ShardInfo> shards;
  std::vector<std::string> unreadable;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 8 || name.compare(0, 4, "run-") != 0 ||
        name.compare(name.size() - 3, 3, ".h5") != 0 ||
        name.find_first_not_of("0123456789", 4) != name.size() - 3) {
      continue;
    }
    auto info = read_shard_info(e.path().string());
    if (info) {
      shards.push_back(std::move(*info));
    } else {
      unreadable.push_back(name);
    }
  }
  if (!unreadable.empty()) {
    throw InputError(
        where, fmt::format("{} unreadable shard file{} (e.g. {}); remove {} and "
                           "re-run its runs with --resume",
                           unreadable.size(), unreadable.size() == 1 ? "" : "s", unreadable.front(),
                           unreadable.size() == 1 ? "it" : "them"));
  }
  if (shards.empty()) throw InputError(where, "no shards (run-NNNNNN.h5) found");
  std::map<std::string, std::size_t> ids;
  for (const auto& s : shards) ++ids[s.sweep_id];
  if (ids.size() > 1) {
    std::string list;
    for (const auto& [id, n] : ids)
      list += fmt::format("{}{} x {}", list.empty() ? "" : ", ", n, id);
    throw InputError(where, fmt::format("shards of {} different sweeps (sweep_id: {}); remove the "
                                        "stale ones",
                                        ids.size(), list));
  }
  std::sort(shards.begin(), shards.end(),
            [](const ShardInfo& a, const ShardInfo& b) { return a.run < b.run; });
  const std::uint64_t total = shards.front().runs_total;
  std::vector<std::uint64_t> missing;
  std::size_t k = 0;
  for (std::uint64_t r = 0; r < total; ++r) {
    if (k < shards.size() && shards[k].run == r) {
      ++k;
    } else {
      missing.push_back(r);
    }
  }
  if (!missing.empty() && !o.allow_missing) {
    std::string first;
    for (std::size_t i = 0; i < missing.size() && i < 8; ++i) {
      first += fmt::format("{}{}", i ? ", " : "", missing[i]);
    }
    throw InputError(where,
                     fmt::format("{} of {} runs have no shard (runs {}{}); run the missing "
                                 "shards (infersim run ... --resume) or merge with "
                                 "--allow-missing",
                                 missing.size(), total, first, missing.size() > 8 ? ", ..." : ""));
  }
  TempFiles temps(1);
  MergedSet m = collect_shards(shards);
  write_merged(m, shards, out, temps, 0);
  if (!o.quiet) {
    print_result_tables(std::cout, m.summary, m.tenants, m.aggregate ? &*m.aggregate : nullptr,
                        m.swept);
  }
  std::cout << fmt::format("wrote {} ({} of {} runs from {}{})\n", out, shards.size(), total, dir,
                           missing.empty() ? "" : fmt::format("; {} missing", missing.size()));
  return 0;
}

}  // namespace infersim
