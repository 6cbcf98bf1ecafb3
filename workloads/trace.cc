// Trace replay: `arrival: {process: trace, path: FILE, format: csv | azure2019 | azure2021}`.
//
// A trace is a *shared* process: every tenant entry that names the same file with the same
// settings draws from one instance, which deals the trace's requests among their targets
// (services, or tenants without a router), in experiment order.
//
//   csv        header `time_s,model` or `time_s,tenant`, then one row per request: its
//              arrival time in seconds (plain decimal, non-decreasing) and what it is for.
//              A `model` row goes to the one target serving that model, a `tenant` row to
//              the target of that name. Replayed to the nanosecond (time_scale 1).
//   azure2019  Azure Functions 2019 invocation counts (invocations_per_function_md.anon.dNN
//              .csv): `HashOwner,HashApp,HashFunction,Trigger,1,...,1440`, one row per
//              function, invocations per minute of one day. Functions are mapped onto the
//              targets busiest first (as Clockwork replays it) or in file order; inside each
//              minute a function's n invocations are placed by a seeded process (below).
//   azure2021  Azure Functions 2021 invocation trace: `app,func,end_timestamp,duration`
//              (seconds), one row per invocation, which arrives at end - duration. Functions
//              (app, func) are mapped onto targets busiest first or in order of appearance.
//
// Lines starting with '#' before the header are comments (the checked-in samples say there
// that they are synthetic); files may be gzip-compressed. Every file is checked once per
// process, in full, before a run starts (a bad row is an input error naming file:line:
// column), and what that check learns is cached; runs then stream the file, so memory is
// flat in the trace's length:
//   csv        O(distinct keys)
//   azure2019  O(mapped functions x minutes in which they are invoked): a row is a whole day
//              of one function, so a function's counts are held, never its invocations
//   azure2021  O(functions + invocations within the file's largest out-of-order span): rows
//              are ordered by end time, so starts are re-ordered in a heap that holds only
//              the rows an unread row could still precede.
//
// Placing n invocations inside a minute (azure2019): the n arrivals are the partial sums of
// n + 1 independent gaps, scaled to fill the minute exactly, so each minute reproduces its
// count. `within: poisson` draws exponential gaps: the arrivals are then distributed as n
// uniform points (a Poisson process conditioned on its count). `within: gamma` draws
// Gamma(1/cv^2) gaps, burstier for cv > 1 (cv 1 is Poisson). Both are generated one
// arrival at a time without storing the minute: with k points left, the next one lies a
// Beta(1/cv^2, k/cv^2) fraction of the way from the last one to the minute's end (for
// Poisson, 1 - U^(1/k)), which is the same joint distribution.
//
// rate_scale multiplies every minute's count; fractional counts are carried from minute to
// minute (each minute gets floor of the scaled running total minus what was emitted), so
// the day's total is scaled exactly and rate_scale 1 reproduces the file.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <queue>
#include <unordered_map>
#include <vector>

#include "sim/core/rng.h"
#include "workloads/builtin.h"
#include "workloads/trace_reader.h"

namespace infersim {
namespace {

constexpr int kMinutesPerDay = 1440;
constexpr int kAzure2019Fixed = 4;  // HashOwner, HashApp, HashFunction, Trigger

// Skips '#' comment lines; returns the header line (false: the file is empty).
bool read_header(LineReader& in, std::string_view& line) {
  while (in.next(line)) {
    if (line.empty() || line.front() != '#') return true;
  }
  return false;
}

[[noreturn]] void bad_row(const LineReader& in, std::string_view line, std::string_view field,
                          const std::string& what) {
  throw InputError(in.mark(column_of(line, field)), what);
}

// Time in the trace (ns from its origin) to simulated time.
SimTime scaled(SimTime trace_ns, double time_scale) {
  if (time_scale == 1.0) return trace_ns;
  return round_nearest(static_cast<double>(trace_ns) / time_scale);
}

// A process-wide cache of what checking a file learnt, by file and settings: a sweep's
// points and a run's placement share one check.
template <typename Scan>
std::shared_ptr<const Scan> cached(const std::string& key,
                                   const std::function<std::shared_ptr<const Scan>()>& load) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Scan>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  auto scan = load();  // outside the lock: checking a large file takes a while
  std::lock_guard<std::mutex> lock(mu);
  return cache.emplace(key, scan).first->second;
}

// The order in which functions are mapped onto targets: busiest first (ties in file order)
// or in file order.
std::vector<std::uint32_t> mapping_order(const std::vector<std::uint64_t>& totals, bool busiest) {
  std::vector<std::uint32_t> order(totals.size());
  std::iota(order.begin(), order.end(), 0);
  if (busiest) {
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return totals[a] > totals[b]; });
  }
  return order;
}

// ---------------------------------------------------------------------------------------
// csv: time_s,model | time_s,tenant

struct CsvScan {
  bool by_tenant = false;
  struct Key {
    std::uint64_t rows = 0;
    std::int64_t first_line = 0;
    int first_column = 0;
  };
  std::unordered_map<std::string, Key> keys;
  SimTime last_ns = 0;
};

std::shared_ptr<const CsvScan> scan_csv(const std::string& path, const Mark& where) {
  auto scan = std::make_shared<CsvScan>();
  LineReader in(path, where);
  std::string_view line;
  if (!read_header(in, line)) throw InputError(in.mark(), "empty trace: expected a header line");
  if (line == "time_s,tenant") {
    scan->by_tenant = true;
  } else if (line != "time_s,model") {
    throw InputError(in.mark(), fmt::format("expected the header 'time_s,model' or "
                                            "'time_s,tenant' (format: csv), got '{}'",
                                            line.substr(0, 80)));
  }
  std::vector<std::string_view> f;
  SimTime last = 0;
  while (in.next(line)) {
    if (split_fields(line, f) != 2) {
      throw InputError(in.mark(), fmt::format("expected 2 fields (time_s and {}), got {}",
                                              scan->by_tenant ? "tenant" : "model", f.size()));
    }
    SimTime t = 0;
    if (!parse_seconds_ns(f[0], t)) {
      bad_row(in, line, f[0],
              fmt::format("expected a time in seconds (a plain decimal >= 0 and "
                          "below 9e9), got '{}'",
                          f[0]));
    }
    if (t < last) {
      bad_row(in, line, f[0],
              fmt::format("times must not decrease: {} s comes after {} s", f[0], ns_to_s(last)));
    }
    last = t;
    if (f[1].empty()) bad_row(in, line, f[1], "expected a model or tenant name");
    auto [it, fresh] = scan->keys.try_emplace(std::string(f[1]));
    if (fresh) {
      it->second.first_line = in.line_number();
      it->second.first_column = column_of(line, f[1]);
    }
    ++it->second.rows;
  }
  scan->last_ns = last;
  return scan;
}

class CsvTrace final : public ArrivalProcess {
 public:
  CsvTrace(const std::string& path, const ArrivalSetup& s)
      : time_scale_(s.params.get("time_scale")) {
    const Mark at = s.params.mark_of("path", s.where);
    scan_ = cached<CsvScan>("csv\n" + path, [&] { return scan_csv(path, at); });
    const bool skip = s.params.get_text("unmatched") == "skip";
    for (std::uint32_t i = 0; i < s.targets.size(); ++i) {
      const std::string& key = scan_->by_tenant ? s.targets[i].name : s.targets[i].model;
      if (!target_of_.emplace(key, i).second) {
        throw InputError(
            at, fmt::format("trace {} is keyed by model, and '{}' is served by two "
                            "targets ('{}' and '{}'): give the replicas a router "
                            "(one service per model) or key the trace by tenant",
                            path, key, s.targets[target_of_[key]].name, s.targets[i].name));
      }
    }
    rows_.assign(s.targets.size(), 0);
    for (const auto& [key, k] : scan_->keys) {
      auto it = target_of_.find(key);
      if (it != target_of_.end()) {
        rows_[it->second] = k.rows;
      } else if (!skip) {
        throw InputError(Mark{path, static_cast<int>(k.first_line), k.first_column},
                         fmt::format("no tenant reading this trace serves {} '{}' (set "
                                     "`unmatched: skip` to ignore such rows)",
                                     scan_->by_tenant ? "tenant" : "model", key));
      }
    }
    in_ = std::make_unique<LineReader>(path, at);
    std::string_view header;
    read_header(*in_, header);
  }

  SimTime next(Rng&, SimTime, std::uint32_t& target) override {
    std::string_view line;
    while (in_->next(line)) {
      SimTime t = 0;
      if (split_fields(line, fields_) != 2 || !parse_seconds_ns(fields_[0], t)) {
        throw std::runtime_error(fmt::format("trace {} changed after it was checked (line {})",
                                             in_->path(), in_->line_number()));
      }
      key_.assign(fields_[1]);
      auto it = target_of_.find(key_);
      if (it == target_of_.end()) continue;  // unmatched: skip (checked at creation)
      target = it->second;
      return scaled(t, time_scale_);
    }
    return kNever;
  }
  double mean_rate(std::uint32_t target) const override {
    const double span_s = ns_to_s(scaled(scan_->last_ns, time_scale_));
    return span_s > 0 ? static_cast<double>(rows_[target]) / span_s : 0.0;
  }

 private:
  double time_scale_;
  std::shared_ptr<const CsvScan> scan_;
  std::unordered_map<std::string, std::uint32_t> target_of_;
  std::vector<std::uint64_t> rows_;  // per target
  std::unique_ptr<LineReader> in_;
  std::vector<std::string_view> fields_;
  std::string key_;
};

// ---------------------------------------------------------------------------------------
// azure2019: HashOwner,HashApp,HashFunction,Trigger,1..1440

struct Az19Scan {
  std::vector<std::uint64_t> totals;  // per function (file order): invocations in the window
  std::vector<std::int64_t> lines;    // per function: its line
};

// Checks the header and every row; totals cover minutes [first, first + count).
std::shared_ptr<const Az19Scan> scan_az19(const std::string& path, const Mark& where, int first,
                                          int count) {
  auto scan = std::make_shared<Az19Scan>();
  LineReader in(path, where);
  std::string_view line;
  if (!read_header(in, line)) throw InputError(in.mark(), "empty trace: expected a header line");
  std::vector<std::string_view> f;
  const char* fixed[kAzure2019Fixed] = {"HashOwner", "HashApp", "HashFunction", "Trigger"};
  bool ok = split_fields(line, f) == kAzure2019Fixed + kMinutesPerDay;
  for (int i = 0; ok && i < kAzure2019Fixed; ++i) ok = f[i] == fixed[i];
  for (int m = 1; ok && m <= kMinutesPerDay; ++m)
    ok = f[kAzure2019Fixed + m - 1] == std::to_string(m);
  if (!ok) {
    throw InputError(in.mark(),
                     "expected the header 'HashOwner,HashApp,HashFunction,Trigger,1,"
                     "2,...,1440' (format: azure2019, Azure Functions 2019 "
                     "invocation counts)");
  }
  while (in.next(line)) {
    const std::size_t n = split_fields(line, f);
    if (n != kAzure2019Fixed + kMinutesPerDay) {
      throw InputError(in.mark(), fmt::format("expected {} fields (4 ids and 1440 per-minute "
                                              "counts), got {}",
                                              kAzure2019Fixed + kMinutesPerDay, n));
    }
    std::uint64_t total = 0;
    for (int m = 1; m <= kMinutesPerDay; ++m) {
      std::string_view v = f[kAzure2019Fixed + m - 1];
      std::uint64_t c = 0;
      if (!parse_count(v, c)) {
        bad_row(in, line, v,
                fmt::format("expected an invocation count (an integer >= 0) for minute {}, got "
                            "'{}'",
                            m, v));
      }
      if (m >= first && m < first + count) total += c;
    }
    scan->totals.push_back(total);
    scan->lines.push_back(in.line_number());
  }
  return scan;
}

class Azure2019Trace final : public ArrivalProcess {
 public:
  Azure2019Trace(const std::string& path, const ArrivalSetup& s) {
    const Params& p = s.params;
    const Mark at = p.mark_of("path", s.where);
    first_ = static_cast<int>(p.get_int("start_minute"));
    int count = static_cast<int>(p.get_int("minutes"));
    if (count == 0 || first_ + count - 1 > kMinutesPerDay) count = kMinutesPerDay - first_ + 1;
    minutes_ = count;
    time_scale_ = p.get("time_scale");
    gamma_ = p.get_text("within") == "gamma";
    if (gamma_) shape_ = 1.0 / (p.get("cv") * p.get("cv"));
    const double rate_scale = p.get("rate_scale");
    auto scan = cached<Az19Scan>(fmt::format("azure2019\n{}\n{}\n{}", path, first_, count),
                                 [&] { return scan_az19(path, at, first_, count); });
    const std::size_t k = s.targets.size();
    if (scan->totals.size() < k) {
      throw InputError(at, fmt::format("trace {} has {} functions, but {} targets read it (one "
                                       "function per target)",
                                       path, scan->totals.size(), k));
    }
    // function (file row) -> target
    const auto order = mapping_order(scan->totals, p.get_text("map") == "busiest");
    std::vector<std::int64_t> target_of(scan->totals.size(), -1);
    for (std::size_t i = 0; i < k; ++i) target_of[order[i]] = static_cast<std::int64_t>(i);

    // Read the mapped functions' counts in the window, scaled (running total carried).
    targets_.resize(k);
    LineReader in(path, at);
    std::string_view line;
    read_header(in, line);
    std::vector<std::string_view> f;
    for (std::size_t row = 0; in.next(line); ++row) {
      if (row >= target_of.size() || split_fields(line, f) != kAzure2019Fixed + kMinutesPerDay) {
        throw std::runtime_error(fmt::format("trace {} changed after it was checked", path));
      }
      if (target_of[row] < 0) continue;
      Target& t = targets_[static_cast<std::size_t>(target_of[row])];
      std::uint64_t cumulative = 0, emitted = 0;
      for (int m = 0; m < count; ++m) {
        std::uint64_t c = 0;
        parse_count(f[kAzure2019Fixed + first_ - 1 + m], c);
        cumulative += c;
        const auto want = static_cast<std::uint64_t>(
            rate_scale == 1.0 ? static_cast<double>(cumulative)
                              : std::floor(static_cast<double>(cumulative) * rate_scale));
        if (want > emitted) {
          t.minutes.push_back({static_cast<std::uint32_t>(m), want - emitted});
          t.total += want - emitted;
          emitted = want;
        }
      }
    }
  }

  SimTime next(Rng& rng, SimTime, std::uint32_t& target) override {
    if (!started_) {
      started_ = true;
      build(rng);
    } else if (at_[winner_] != kNever) {
      // The target of the arrival just delivered (the winner) moves on.
      at_[winner_] = advance(rng, targets_[winner_]);
      replay(winner_);
    }
    target = winner_;
    return at_[winner_];
  }

  double mean_rate(std::uint32_t target) const override {
    const double span_s = static_cast<double>(minutes_) * 60.0 / time_scale_;
    return static_cast<double>(targets_[target].total) / span_s;
  }

 private:
  struct Minute {
    std::uint32_t index;  // from start_minute
    std::uint64_t count;
  };
  struct Target {
    std::vector<Minute> minutes;  // minutes with invocations, ascending
    std::uint64_t total = 0;
    std::size_t cursor = 0;  // next minute to start
    std::uint64_t left = 0;  // arrivals left in the current minute
    double x = 0;            // position of the last arrival in the minute, in [0, 1)
    SimTime begin = 0, end = 0;
  };
  // The next arrival over all targets is a k-way merge of their own sequences, kept in a
  // tournament tree (Knuth, TAOCP vol. 3, 5.4.1: a "tree of losers"). Leaf i is target i's
  // next arrival; each inner node keeps the loser of the match played there, so a new
  // arrival of the winner is placed by one match per level on its path to the root:
  // log2(targets) comparisons. A trace feeds thousands of functions, and this merge is
  // most of what an arrival costs the generator (callgrind, `infersim_bench trace`: a binary
  // heap's pop_heap and push_heap took 330 instructions per arrival, this tree 100-odd).
  // The order is total (time, then target), so any correct merge gives the same arrivals.
  bool beats(std::uint32_t a, std::uint32_t b) const {
    return at_[a] < at_[b] || (at_[a] == at_[b] && a < b);
  }

  void build(Rng& rng) {
    std::size_t leaves = 1;
    while (leaves < targets_.size()) leaves *= 2;
    at_.assign(leaves, kNever);  // leaves past the last target never arrive
    for (std::uint32_t i = 0; i < targets_.size(); ++i) at_[i] = advance(rng, targets_[i]);
    // Play the matches bottom up: node n's players are its children 2n and 2n + 1, where
    // node leaves + i stands for leaf i; the winner moves up and the loser stays.
    loser_.assign(leaves, 0);
    std::vector<std::uint32_t> won(2 * leaves);
    for (std::uint32_t i = 0; i < leaves; ++i) won[leaves + i] = i;
    for (std::size_t n = leaves; n-- > 1;) {
      const std::uint32_t a = won[2 * n], b = won[2 * n + 1];
      const bool a_wins = beats(a, b);
      won[n] = a_wins ? a : b;
      loser_[n] = a_wins ? b : a;
    }
    winner_ = leaves > 1 ? won[1] : 0;
  }

  // Leaf w has a new time: replays its matches from its parent up to the root.
  void replay(std::uint32_t w) {
    const std::size_t leaves = at_.size();
    for (std::size_t n = (leaves + w) / 2; n >= 1; n /= 2) {
      const std::uint32_t l = loser_[n];
      if (beats(l, w)) {
        loser_[n] = w;
        w = l;
      }
    }
    winner_ = w;
  }

  SimTime minute_start(std::uint64_t m) const {
    return round_nearest(static_cast<double>(m) * 60e9 / time_scale_);
  }

  // The target's next arrival, or kNever.
  SimTime advance(Rng& rng, Target& t) const {
    if (t.left == 0) {
      if (t.cursor == t.minutes.size()) return kNever;
      const Minute& m = t.minutes[t.cursor++];
      t.left = m.count;
      t.x = 0;
      t.begin = minute_start(m.index);
      t.end = minute_start(m.index + 1);
    }
    // With k = left arrivals to place, the next is a Beta(a, k a) fraction of the rest of
    // the minute away (a = 1: the minimum of k uniforms, 1 - U^(1/k)).
    const double k = static_cast<double>(t.left);
    double step;
    if (gamma_) {
      const double g1 = rng.gamma(shape_, 1.0);
      const double g2 = rng.gamma(shape_ * k, 1.0);
      step = g1 + g2 > 0 ? g1 / (g1 + g2) : 0.0;
    } else {
      step = 1.0 - std::pow(rng.uniform_pos(), 1.0 / k);
    }
    t.x += (1.0 - t.x) * step;
    --t.left;
    const SimTime span = t.end - t.begin;
    SimTime at = t.begin + round_nearest(t.x * static_cast<double>(span));
    return std::min(at, t.end - 1);
  }

  int first_ = 1;
  int minutes_ = kMinutesPerDay;
  double time_scale_ = 1;
  bool gamma_ = false;
  double shape_ = 1;
  std::vector<Target> targets_;
  std::vector<SimTime> at_;           // per leaf (target): its next arrival, kNever when none
  std::vector<std::uint32_t> loser_;  // per inner node of the tournament (1..leaves-1)
  std::uint32_t winner_ = 0;
  bool started_ = false;
};

// ---------------------------------------------------------------------------------------
// azure2021: app,func,end_timestamp,duration

struct Az21Scan {
  std::unordered_map<std::string, std::uint32_t> index;  // "app,func" -> function
  std::vector<std::uint64_t> counts;                     // per function: starts >= origin
  SimTime disorder_ns = 0;  // largest amount by which a start precedes an earlier row's
  SimTime last_start_ns = 0;
};

// Reads one row's fields; false with a message on a bad row.
bool parse_az21_row(LineReader& in, std::string_view line, std::vector<std::string_view>& f,
                    SimTime& start, bool strict) {
  if (split_fields(line, f) != 4) {
    if (!strict) return false;
    throw InputError(in.mark(), fmt::format("expected 4 fields (app, func, end_timestamp, "
                                            "duration), got {}",
                                            f.size()));
  }
  SimTime end = 0, dur = 0;
  if (!parse_seconds_ns(f[2], end)) {
    if (!strict) return false;
    bad_row(in, line, f[2],
            fmt::format("expected end_timestamp in seconds (a plain decimal "
                        ">= 0), got '{}'",
                        f[2]));
  }
  if (!parse_seconds_ns(f[3], dur)) {
    if (!strict) return false;
    bad_row(in, line, f[3],
            fmt::format("expected duration in seconds (a plain decimal >= 0), got '{}'", f[3]));
  }
  start = end - dur;
  if (start < 0) {
    if (!strict) return false;
    bad_row(in, line, f[3], "duration exceeds end_timestamp: the invocation starts before 0");
  }
  return true;
}

std::shared_ptr<const Az21Scan> scan_az21(const std::string& path, const Mark& where,
                                          SimTime origin) {
  auto scan = std::make_shared<Az21Scan>();
  LineReader in(path, where);
  std::string_view line;
  if (!read_header(in, line)) throw InputError(in.mark(), "empty trace: expected a header line");
  if (line != "app,func,end_timestamp,duration") {
    throw InputError(in.mark(),
                     "expected the header 'app,func,end_timestamp,duration' (format: "
                     "azure2021, Azure Functions 2021 invocation trace)");
  }
  std::vector<std::string_view> f;
  std::string key;
  SimTime max_start = 0;
  while (in.next(line)) {
    SimTime start = 0;
    parse_az21_row(in, line, f, start, true);
    scan->disorder_ns = std::max(scan->disorder_ns, max_start - start);
    max_start = std::max(max_start, start);
    key.assign(f[0]);
    key += ',';
    key.append(f[1]);
    auto [it, fresh] =
        scan->index.try_emplace(key, static_cast<std::uint32_t>(scan->counts.size()));
    if (fresh) scan->counts.push_back(0);
    if (start >= origin) ++scan->counts[it->second];
  }
  scan->last_start_ns = max_start;
  return scan;
}

class Azure2021Trace final : public ArrivalProcess {
 public:
  Azure2021Trace(const std::string& path, const ArrivalSetup& s) {
    const Params& p = s.params;
    const Mark at = p.mark_of("path", s.where);
    time_scale_ = p.get("time_scale");
    origin_ = s_to_ns(p.get("origin_s"));
    scan_ = cached<Az21Scan>(fmt::format("azure2021\n{}\n{}", path, origin_),
                             [&] { return scan_az21(path, at, origin_); });
    const std::size_t k = s.targets.size();
    if (scan_->counts.size() < k) {
      throw InputError(at, fmt::format("trace {} has {} functions, but {} targets read it (one "
                                       "function per target)",
                                       path, scan_->counts.size(), k));
    }
    const auto order = mapping_order(scan_->counts, p.get_text("map") == "busiest");
    target_of_.assign(scan_->counts.size(), -1);
    counts_.resize(k);
    for (std::size_t i = 0; i < k; ++i) {
      target_of_[order[i]] = static_cast<std::int64_t>(i);
      counts_[i] = scan_->counts[order[i]];
    }
    in_ = std::make_unique<LineReader>(path, at);
    std::string_view header;
    read_header(*in_, header);
  }

  SimTime next(Rng&, SimTime, std::uint32_t& target) override {
    // Read until the earliest pending start can no longer be preceded by an unread row.
    while (!eof_ && (heap_.empty() || heap_.front().start > max_start_ - scan_->disorder_ns)) {
      std::string_view line;
      if (!in_->next(line)) {
        eof_ = true;
        break;
      }
      SimTime start = 0;
      if (!parse_az21_row(*in_, line, fields_, start, false)) {
        throw std::runtime_error(fmt::format("trace {} changed after it was checked (line {})",
                                             in_->path(), in_->line_number()));
      }
      max_start_ = std::max(max_start_, start);
      key_.assign(fields_[0]);
      key_ += ',';
      key_.append(fields_[1]);
      auto it = scan_->index.find(key_);
      if (it == scan_->index.end()) throw std::runtime_error("trace changed after it was checked");
      const std::int64_t t = target_of_[it->second];
      if (t < 0 || start < origin_) continue;
      heap_.push_back({start, row_++, static_cast<std::uint32_t>(t)});
      std::push_heap(heap_.begin(), heap_.end(), later);
    }
    if (heap_.empty()) return kNever;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Pending p = heap_.back();
    heap_.pop_back();
    target = p.target;
    return scaled(p.start - origin_, time_scale_);
  }

  double mean_rate(std::uint32_t target) const override {
    const double span_s = ns_to_s(scaled(scan_->last_start_ns - origin_, time_scale_));
    return span_s > 0 ? static_cast<double>(counts_[target]) / span_s : 0.0;
  }

 private:
  struct Pending {
    SimTime start;
    std::uint64_t row;
    std::uint32_t target;
  };
  static bool later(const Pending& a, const Pending& b) {
    return a.start > b.start || (a.start == b.start && a.row > b.row);
  }

  double time_scale_ = 1;
  SimTime origin_ = 0;
  std::shared_ptr<const Az21Scan> scan_;
  std::vector<std::int64_t> target_of_;  // per function
  std::vector<std::uint64_t> counts_;    // per target
  std::unique_ptr<LineReader> in_;
  std::vector<std::string_view> fields_;
  std::string key_;
  std::vector<Pending> heap_;
  SimTime max_start_ = 0;
  std::uint64_t row_ = 0;
  bool eof_ = false;
};

std::unique_ptr<ArrivalProcess> create_trace(const ArrivalSetup& s) {
  const std::string& path = s.params.get_text("path");
  const std::string& format = s.params.get_text("format");
  if (format == "azure2019") return std::make_unique<Azure2019Trace>(path, s);
  if (format == "azure2021") return std::make_unique<Azure2021Trace>(path, s);
  return std::make_unique<CsvTrace>(path, s);
}

}  // namespace

void register_trace_arrivals(ArrivalRegistry& r) {
  const std::vector<std::string> azure{"azure2019", "azure2021"};
  ArrivalInfo info{
      "trace",
      "replays a trace file, shared by every tenant entry naming it with the same settings: csv "
      "(time_s,model | time_s,tenant rows), azure2019 (per-minute function counts), azure2021 "
      "(one row per invocation)",
      {{"path", ParamKind::kPath, 0, "the trace file (relative to the experiment; .gz allowed)"},
       {"format",
        ParamKind::kString,
        0,
        "the file's format",
        0,
        0,
        false,
        "csv",
        {"csv", "azure2019", "azure2021"}},
       {"time_scale", ParamKind::kNumber, 1,
        "trace time is divided by this: 60 replays a minute of trace in a second (the requests "
        "of a day in 24 minutes)",
        0, 1e9, true},
       {"unmatched",
        ParamKind::kString,
        0,
        "rows whose model or tenant no target serves: an error, or skipped",
        0,
        0,
        false,
        "error",
        {"error", "skip"},
        "format",
        {"csv"}},
       {"map",
        ParamKind::kString,
        0,
        "which function feeds which target: the busiest (most invocations in the replayed "
        "part) to the first target, as Clockwork maps Azure functions onto models, or in file "
        "order",
        0,
        0,
        false,
        "busiest",
        {"busiest", "file"},
        "format",
        azure},
       {"within",
        ParamKind::kString,
        0,
        "how a minute's invocations are spread inside it: poisson (uniformly at random) or "
        "gamma (gaps with coefficient of variation cv)",
        0,
        0,
        false,
        "poisson",
        {"poisson", "gamma"},
        "format",
        {"azure2019"}},
       {"cv",
        ParamKind::kNumber,
        1,
        "coefficient of variation of the gaps inside a minute",
        0,
        1e3,
        true,
        {},
        {},
        "within",
        {"gamma"}},
       {"rate_scale",
        ParamKind::kNumber,
        1,
        "multiplies every minute's invocation count (fractions carry over to the next minute)",
        0,
        1e9,
        true,
        {},
        {},
        "format",
        {"azure2019"}},
       {"start_minute",
        ParamKind::kInteger,
        1,
        "the first minute of the day replayed (its start is time 0)",
        1,
        1440,
        false,
        {},
        {},
        "format",
        {"azure2019"}},
       {"minutes",
        ParamKind::kInteger,
        0,
        "minutes replayed (0: to the end of the day)",
        0,
        1440,
        false,
        {},
        {},
        "format",
        {"azure2019"}},
       {"origin_s",
        ParamKind::kNumber,
        0,
        "the trace time that becomes time 0; invocations starting earlier are skipped",
        0,
        9e9,
        false,
        {},
        {},
        "format",
        {"azure2021"}}},
      create_trace,
      /*shared=*/true};
  r.add(std::move(info));
}

}  // namespace infersim
