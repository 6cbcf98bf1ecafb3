#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "sim/cli/commands.h"
#include "sim/results/aggregate.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/merge.h"
#include "sim/sweep/mpi_world.h"
#include "sim/sweep/output_files.h"

namespace infersim {
namespace fs = std::filesystem;
namespace {

const char* status_text(ShardCheck::State s) {
  switch (s) {
    case ShardCheck::State::Valid:
      return "done";
    case ShardCheck::State::Stale:
      return "to run (stale shard)";
    case ShardCheck::State::Corrupt:
      return "to run (corrupt shard)";
    case ShardCheck::State::Missing:
      break;
  }
  return "to run";
}

void print_dry_run(std::ostream& out, const Plan& plan, const std::vector<std::size_t>& mine,
                   const std::vector<ShardCheck>* status, const std::vector<std::size_t>* ranks) {
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
    if (status) row.push_back(status_text((*status)[i].state));
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

// After remove_shards: says why the shard directory is still there.
void print_kept(const std::string& dir, const std::vector<std::string>& kept) {
  if (kept.empty()) return;
  std::cout << fmt::format(
      "infersim: kept {}: it holds {} infersim did not make, moved aside, or of "
      "another sweep (e.g. {})\n",
      dir, plural(kept.size(), "file"), kept.front());
}

// Moves a corrupt shard aside and says so (one line).
void report_corrupt(const ShardCheck& c, std::size_t run) {
  const std::string moved = move_aside(c.path);
  std::cerr << fmt::format("infersim: {} is corrupt ({}); moved aside to {}; run {} runs again\n",
                           c.path, c.problem, fs::path(moved).filename().string(), run);
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
  std::string out;
  {
    std::string error;
    try {
      plan_storage.emplace(make_plan(o.experiment, o.sets, o.jobs, reg));
      // Where the results go, checked before anything runs.
      out =
          o.out.empty() ? default_output_path(plan_storage->name, plan_storage->name_mark) : o.out;
      check_output_path(out, o.out.empty() ? plan_storage->name_mark : Mark{"-o", 0, 0}, out + ".d",
                        plan_storage->input_files);
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
      std::vector<ShardCheck> status;
      if (o.resume) status = check_shards(plan, dir, slice);
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

  // 3. One infersim at a time per output (OUT.lock, see OutputLock): a second one fails at
  // once. Temporary files (one slot per worker, one for the merge) and the lock file are
  // removed if a signal ends the process.
  const unsigned hw = std::thread::hardware_concurrency();
  const int max_jobs =
      o.jobs > 0 ? o.jobs : std::max(1, static_cast<int>(hw) / std::max(1, world.local_size()));
  TempFiles temps(static_cast<std::size_t>(max_jobs) + 2);
  const auto merge_slot = static_cast<std::size_t>(max_jobs);
  const std::size_t lock_slot = merge_slot + 1;
  std::optional<OutputLock> lock;
  {
    std::string busy;
    if (root) {
      try {
        lock.emplace(out, sharded ? OutputLock::Mode::Shared : OutputLock::Mode::Exclusive);
      } catch (const std::exception& e) {
        busy = e.what();
      }
    }
    if (world.max(busy.empty() ? 0 : 1) == 1) {
      if (root) std::cerr << "infersim: " << busy << "\n";
      return 1;
    }
  }
  if (lock && !lock->warning().empty())
    std::cerr << "infersim: warning: " << lock->warning() << "\n";
  if (lock && lock->held() && !sharded) temps.set(lock_slot, lock->path());  // exclusive only
  struct ForgetLock {  // before the lock is released (declared after it)
    TempFiles& temps;
    std::size_t slot;
    ~ForgetLock() { temps.clear(slot); }
  } forget_lock{temps, lock_slot};

  // 4. Up to date already? (--resume after a finished run: the shards are gone.) Only a
  // result set that verifies and holds every run of the plan is: a partial merge (merge
  // --allow-missing) or a damaged file is rebuilt from the shards and the missing runs.
  if (o.resume) {
    std::error_code ec;
    bool up_to_date = false;
    std::string gap;
    if (root && fs::is_regular_file(out, ec)) {
      gap = result_set_gap(out, plan);
      up_to_date = gap.empty();
    }
    if (world.max(up_to_date ? 1 : 0) == 1) {
      if (root) {
        if (!sharded && !o.keep_shards) print_kept(dir, remove_shards(plan, dir));
        std::cout << fmt::format("infersim: {} is up to date ({}); nothing to run\n", out,
                                 plural(plan.runs.size(), "run"));
        std::cout << fmt::format("infersim: {}: 0 ok, 0 failed, {} skipped (already done)\n",
                                 plural(plan.runs.size(), "run"), plan.runs.size());
      }
      return 0;
    }
    if (root && !gap.empty()) {
      std::cout << fmt::format("infersim: {} {}; {}\n", out, gap,
                               sharded ? "running what this shard's runs lack"
                                       : "rebuilding it from the shards and the runs they lack");
    }
  }

  // 5. Another sweep's shards in the folder (two experiments with the same name share
  // results/<name>.h5.d): its finished runs are neither overwritten nor deleted.
  {
    std::string foreign;
    if (root) {
      const auto other = foreign_shards(plan, dir);
      if (!other.empty()) {
        const ShardInfo& s = other.front();
        foreign = fmt::format(
            "{} holds {} of another sweep ({}, sweep_id {}; e.g. {}); nothing run: finish or "
            "merge that sweep, or move its shards away, or give this one another -o",
            dir, plural(other.size(), "shard"),
            s.experiment.empty() ? "by an older infersim" : "of " + s.experiment, s.sweep_id,
            fs::path(s.path).filename().string());
      }
    }
    if (world.max(foreign.empty() ? 0 : 1) == 1) {
      if (root) std::cerr << "infersim: " << foreign << "\n";
      return 2;
    }
  }

  // 6. What is left to run.
  std::error_code ec;
  const bool made_dir = fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", dir, ec.message()));
  if (made_dir) temps.remove_dir_if_empty(dir);  // should a signal end the run
  // What killed runs left (on this machine; --shard jobs and MPI ranks too).
  remove_stale_temps(dir);
  remove_stale_temps(
      fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path(),
      fs::path(out).filename().string());
  std::vector<std::size_t> todo;
  std::int64_t already = 0;
  if (o.resume) {
    // Every shard is read back and its checksum verified; a bad one is moved aside (never
    // deleted) and its run re-run.
    auto checks = check_shards(plan, dir, mine);
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (checks[i].state == ShardCheck::State::Valid) {
        ++already;
        continue;
      }
      if (checks[i].state == ShardCheck::State::Corrupt) report_corrupt(checks[i], mine[i]);
      todo.push_back(mine[i]);
    }
  } else {
    todo = mine;
  }

  const int jobs =
      static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(max_jobs, todo.size())));
  SweepCounts c;
  {
    Progress progress(todo.size(), root && !o.quiet,
                      distributed ? fmt::format("rank 0/{}: ", world.size()) : "");
    c = execute_runs(plan, reg, todo, jobs, ExecutorOptions{dir, o.stop_on_error, o.before_run},
                     temps, progress);
  }
  // Shards were renamed into place without syncing the directory each time: do it once.
  if (!todo.empty()) sync_directory(dir);

  // 7. Totals over every rank; rank 0 merges when everything is there.
  std::int64_t totals[6] = {c.ok, c.failed, already, c.not_started, c.internal, c.bad_input};
  world.sum(totals, 6);
  const std::int64_t ok = totals[0], failed = totals[1], done_before = totals[2],
                     not_started = totals[3], internal = totals[4], bad_input = totals[5];
  const std::size_t scope = slice.size();
  int status = failed > 0 || not_started > 0 ? 1 : 0;
  // A bug in a run outranks a run failure; runs that failed only on input found bad while
  // running (a closed loop that would never let time advance) are bad input, exit 2.
  const int failed_status = internal > 0                                            ? 3
                            : failed > 0 && bad_input == failed && not_started == 0 ? 2
                                                                                    : 1;

  if (root) {
    if (status == 0) {
      const std::vector<std::size_t>& runs = slice;
      auto checks = check_shards(plan, dir, runs);
      std::vector<ShardContent> present;
      std::vector<std::size_t> missing;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (checks[i].state == ShardCheck::State::Valid) {
          present.push_back(std::move(*checks[i].content));
        } else {
          if (checks[i].state == ShardCheck::State::Corrupt) report_corrupt(checks[i], runs[i]);
          missing.push_back(runs[i]);
        }
      }
      if (!missing.empty()) {
        std::cerr << fmt::format(
            "infersim: {} of {} have no valid shard in {} (first: run {}); `infersim run ... "
            "--resume` runs them\n",
            plural(missing.size(), "run"), runs.size(), dir, missing.front());
        status = 1;
      } else {
        MergedSet m = collect_shards(present);
        bool written = true;
        if (!sharded) {
          try {
            write_merged(m, present, out, temps, merge_slot);
          } catch (const std::exception& e) {
            // A full disk, say: the shards are intact, and --resume merges them later.
            std::cerr << fmt::format(
                "infersim: {}; the {} shards are kept in {} (`infersim run ... --resume` "
                "merges them)\n",
                e.what(), present.size(), dir);
            status = 1;
            written = false;
          }
        }
        if (written && !o.quiet) {
          print_result_tables(std::cout, m.summary, m.tenants,
                              m.aggregate ? &*m.aggregate : nullptr, m.swept);
        }
        if (written && sharded) {
          std::cout << fmt::format(
              "wrote {} of shard {}/{} to {}; when every shard is done: "
              "infersim merge {} -o {}\n",
              plural(runs.size(), "run"), o.shard_index, o.shard_count, dir, dir, out);
        } else if (written) {
          if (!o.keep_shards) print_kept(dir, remove_shards(plan, dir));
          std::cout << fmt::format(
              "wrote {} ({}{})\n", out, plural(plan.runs.size(), "run"),
              m.aggregate ? fmt::format(", {} with /aggregate", plural(sw.points(), "point")) : "");
        }
      }
    } else {
      // No run finished, now or before: the shard directory this run made holds nothing,
      // and is not left behind (fs::remove removes only an empty directory).
      std::error_code ec;
      const bool nothing =
          ok + done_before == 0 && fs::is_empty(dir, ec) && !ec && fs::remove(dir, ec);
      std::cerr << fmt::format(
          "infersim: {} not merged: {} failed{}; {}; `infersim run ... --resume` runs the "
          "rest\n",
          out, plural(static_cast<std::size_t>(failed), "run"),
          not_started ? fmt::format(", {} not started", not_started) : "",
          nothing ? std::string("no run finished")
                  : fmt::format("the finished runs' shards are in {}", dir));
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
  if (status == 1) status = failed_status;
  return static_cast<int>(world.max(status));
}

}  // namespace

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

}  // namespace infersim
