#include "sim/sweep/executor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "sim/core/error.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/runner.h"
#include "sim/sweep/tables.h"

namespace infersim {
namespace {

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
  std::uint64_t hash() const { return inner_.hash(); }  // of the records drained

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
  bool internal = false;     // the error is a std::logic_error: a bug, exit status 3
  bool bad_input = false;    // an InputError found only while running (exit status 2)
};

// The outcome of a run that threw e.
Outcome failure(std::size_t run, const std::exception& e) {
  Outcome out{run, false, e.what()};
  out.internal = dynamic_cast<const std::logic_error*>(&e) != nullptr;
  out.bad_input = dynamic_cast<const InputError*>(&e) != nullptr;
  return out;
}

class Executor {
 public:
  Executor(const Plan& plan, const Registries& reg, const ExecutorOptions& options,
           TempFiles& temps)
      : plan_(plan),
        reg_(reg),
        dir_(options.shard_dir),
        temps_(temps),
        stop_on_error_(options.stop_on_error),
        before_run_(options.before_run) {}

  SweepCounts execute(const std::vector<std::size_t>& todo, int jobs, Progress& progress) {
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

    SweepCounts c;
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
            job.x = std::make_unique<Experiment>(points_.experiment(point, reg_));
            job.effective = points_.effective_yaml(point);
          } catch (const std::exception& e) {
            std::lock_guard<std::mutex> l(mu);
            outcomes.push_back(failure(run, e));
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
          if (o.internal) ++c.internal;
          if (o.bad_input) ++c.bad_input;
          const RunSpec& spec = plan_.runs[o.run];
          const std::string what = plan_.sweep.describe(spec.point);
          progress.message(
              one_line(fmt::format("infersim: run {} failed (point {}, replication {}{}{}): {}{}",
                                   o.run, spec.point, spec.replication, what.empty() ? "" : ": ",
                                   what, o.internal ? "internal error: " : "", o.error)) +
              (o.internal ? " (a bug in infersim: please report it with the "
                            "command line and the experiment file)"
                          : ""));
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
      if (before_run_) before_run_(run);
      if (job.x->output_requests) {
        h5.lock();
        temps_.set(slot, temp_path_for(path));  // before the file exists: no window
        file = std::make_unique<ResultFile>(path, FileFormat::Shard);
        stream = file->open_requests(fmt::format("/runs/{}", run));
        h5.unlock();
        sink = std::make_unique<LockedStreamSink>(*stream);
      }
      std::vector<RunResult> one;
      one.push_back(simulate(*job.x, reg_, run, spec.replication, sink.get()));

      // Everything the shard holds, and its checksum (shard_checksum).
      ShardContent c;
      c.info.run = run;
      c.info.point = spec.point;
      c.info.replication = spec.replication;
      c.info.runs_total = plan_.runs.size();
      c.info.replications = plan_.sweep.replications();
      c.info.config_hash = spec.config_hash;
      c.info.sweep_id = plan_.sweep_id;
      c.info.experiment = plan_.experiment;
      c.info.requests = job.x->output_requests;
      c.summary = summary_table(one, {plan_.swept_values(spec.point)});
      c.tenants = tenants_table(*job.x, one);
      c.gpus = gpus_table(*job.x, one);
      c.attrs = provenance_attrs(*job.x, plan_.sweep.sets());
      c.attrs.emplace_back("effective_yaml", job.effective);
      c.attrs.emplace_back("swept_columns", fmt::format("{}", fmt::join(plan_.columns, "\n")));
      c.attrs.emplace_back("swept_paths", plan_.swept_paths());
      c.attrs.emplace_back("data_files", plan_.data_files[spec.point]);

      h5.lock();
      if (!file) {
        temps_.set(slot, temp_path_for(path));  // before the file exists: no window
        file = std::make_unique<ResultFile>(path, FileFormat::Shard);
      }
      if (sink) sink->drain();
      if (stream) stream->close();
      c.info.checksum = shard_checksum(c, sink ? sink->hash() : kFnvOffset);
      file->write_table("/summary", c.summary);
      file->write_table("/tenants", c.tenants);
      file->write_table("/gpus", c.gpus);
      for (const auto& [name, value] : c.attrs) file->set_root_attr(name, value);
      file->set_root_attr("created_utc", utc_now());
      file->set_root_attr("infersim_shard", shard_info_text(c.info));
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
      return failure(run, e);
    }
  }

  const Plan& plan_;
  const Registries& reg_;
  PointBuilder points_{plan_.sweep};  // experiments are built on the calling thread only
  std::string dir_;
  TempFiles& temps_;
  bool stop_on_error_;
  std::atomic<bool> stopping_{false};
  FaultHook before_run_;
};

}  // namespace

SweepCounts execute_runs(const Plan& plan, const Registries& reg,
                         const std::vector<std::size_t>& todo, int jobs,
                         const ExecutorOptions& options, TempFiles& temps, Progress& progress) {
  Executor ex(plan, reg, options, temps);
  return ex.execute(todo, jobs, progress);
}

}  // namespace infersim
