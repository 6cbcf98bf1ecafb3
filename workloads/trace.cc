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
// column), and what that check learns is cached (for azure2019 it is all a run needs: the
// mapped functions' counts, kept in the same pass); csv and azure2021 runs then stream the
// file. So memory is flat in the trace's length:
//   csv        O(distinct keys)
//   azure2019  O(mapped functions x minutes in which they are invoked): a row is a whole day
//              of one function, so a function's counts are held, never its invocations
//   azure2021  O(functions + invocations within the file's largest out-of-order span): rows
//              are ordered by end time, so starts are re-ordered in a heap that holds only
//              the rows an unread row could still precede.
//
// Placing n invocations inside a minute (azure2019). `within: poisson` places them as n
// independent uniform points in the minute (a Poisson process conditioned on its count);
// `within: gamma` as the points of a renewal process with Gamma(1/cv^2) gaps conditioned to
// fill the minute (n + 1 gaps scaled to its length; burstier for cv > 1, cv 1 is Poisson),
// generated one at a time: with k points left, the next lies a Beta(1/cv^2, k/cv^2)
// fraction of the way from the last one to the minute's end. A point is rounded down
// (poisson) or to the nearest (gamma) nanosecond inside the minute.
//
// The functions' arrivals are merged minute by minute: each function writes its points of
// the minute into one buffer as (offset, target) keys, the buffer is sorted, and the
// arrivals are dealt from it, in (time, target) order. A minute holding more than
// kPieceArrivals (16,384) is first halved, and its halves halved, into 2^d equal pieces,
// replayed one after another, so the buffer stays small whatever rate_scale does. Under
// poisson a function's count splits at each halving as Binomial(count, 1/2) (the number
// of ones among count random bits), which is exact for uniform points; under gamma each
// function generates its points in order and stops at the piece's end. Per arrival this
// costs one uniform draw and a few passes of the sort, where merging per-function streams
// (a tournament tree over 2,000 functions, with a pow per point) took about 370 instructions
// (callgrind, `infersim_bench trace`).
//
// rate_scale multiplies every minute's count; fractional counts are carried from minute to
// minute (each minute gets floor of the scaled running total minus what was emitted), so
// the day's total is scaled exactly and rate_scale 1 reproduces the file.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <queue>
#include <span>
#include <unordered_map>
#include <utility>
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

// Times past the clock's horizon (1e18 ns, about 31.7 years) would overflow once scaled, so
// a replay must end within it: an input error at `time_scale` otherwise. `span_ns` is how
// far the replayed part of the trace reaches from its time 0, in trace time.
void check_scaled_span(double span_ns, const Params& p, const Mark& where) {
  const double time_scale = p.get("time_scale");
  const double scaled_ns = span_ns / time_scale;
  if (!(scaled_ns <= static_cast<double>(kHorizon))) {
    throw InputError(p.mark_of("time_scale", where),
                     fmt::format("time_scale {} stretches the trace's {:.6g} s to {:.3g} s, past "
                                 "the clock's horizon of {:.3g} s: expected a larger time_scale",
                                 time_scale, span_ns / 1e9, scaled_ns / 1e9,
                                 static_cast<double>(kHorizon) / 1e9));
  }
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

// Whether function a (with `total_a` invocations, at position a in the file) is mapped
// onto a target before function b: busiest first (ties in file order) or in file order.
bool maps_before(std::uint64_t total_a, std::size_t a, std::uint64_t total_b, std::size_t b,
                 bool busiest) {
  return busiest && total_a != total_b ? total_a > total_b : a < b;
}

// The order in which functions are mapped onto targets (maps_before).
std::vector<std::uint32_t> mapping_order(const std::vector<std::uint64_t>& totals, bool busiest) {
  std::vector<std::uint32_t> order(totals.size());
  std::iota(order.begin(), order.end(), 0);
  if (busiest) {
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return maps_before(totals[a], a, totals[b], b, true);
    });
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
    check_scaled_span(static_cast<double>(scan_->last_ns), s.params, s.where);
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

// A minute of an azure2019 function with invocations: its index from start_minute, and how
// many.
struct Az19Minute {
  std::uint32_t index;
  std::uint64_t count;
};

// What one pass over an azure2019 file learns for k targets: the file's row count and the
// mapped functions' invocations, in target order, each minute of the window with
// invocations in ascending order.
struct Az19Window {
  std::size_t functions = 0;
  std::vector<std::vector<Az19Minute>> counts;
};

// Checks the header and every row, and keeps the counts in minutes [first, first + count)
// of the k functions that map onto targets: the first k in mapping order (maps_before:
// the first k rows, or with `busiest` the k with the most invocations in the window, ties
// in file order). One pass: the busiest are chosen as the rows go by, in a heap whose top is
// the least busy kept, so memory holds at most k + 1 functions' counts.
std::shared_ptr<const Az19Window> scan_az19(const std::string& path, const Mark& where, int first,
                                            int count, std::size_t k, bool busiest) {
  auto win = std::make_shared<Az19Window>();
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
  struct Kept {
    std::uint64_t total;
    std::size_t row;
    std::vector<Az19Minute> minutes;
  };
  auto before = [busiest](const Kept& a, const Kept& b) {
    return maps_before(a.total, a.row, b.total, b.row, busiest);
  };
  std::vector<Kept> kept;  // a heap under `before`: its front is the last of them in order
  Kept row_counts{0, 0, {}};
  for (std::size_t row = 0; in.next(line); ++row) {
    const std::size_t n = split_fields(line, f);
    if (n != kAzure2019Fixed + kMinutesPerDay) {
      throw InputError(in.mark(), fmt::format("expected {} fields (4 ids and 1440 per-minute "
                                              "counts), got {}",
                                              kAzure2019Fixed + kMinutesPerDay, n));
    }
    row_counts.total = 0;
    row_counts.row = row;
    row_counts.minutes.clear();
    for (int m = 1; m <= kMinutesPerDay; ++m) {
      std::string_view v = f[kAzure2019Fixed + m - 1];
      std::uint64_t c = 0;
      if (!parse_count(v, c)) {
        bad_row(in, line, v,
                fmt::format("expected an invocation count (an integer >= 0) for minute {}, got "
                            "'{}'",
                            m, v));
      }
      if (m >= first && m < first + count && c > 0) {
        row_counts.total += c;
        row_counts.minutes.push_back({static_cast<std::uint32_t>(m - first), c});
      }
    }
    ++win->functions;
    if (kept.size() < k) {
      kept.push_back(std::move(row_counts));
      std::push_heap(kept.begin(), kept.end(), before);
      row_counts = Kept{0, 0, {}};
    } else if (k > 0 && before(row_counts, kept.front())) {
      std::pop_heap(kept.begin(), kept.end(), before);
      std::swap(kept.back(), row_counts);  // the evicted row's buffer is reused
      std::push_heap(kept.begin(), kept.end(), before);
    }
  }
  std::sort(kept.begin(), kept.end(), before);
  for (Kept& r : kept) win->counts.push_back(std::move(r.minutes));
  return win;
}

class Azure2019Trace final : public ArrivalProcess {
 public:
  // The most arrivals a piece of a minute holds on average: a minute with more is split in
  // halves, and halves again, until its pieces hold at most this many (see the comment at
  // the top). A piece's arrivals are sorted in a buffer of 8 bytes each, twice (the sort's
  // input and output): 256 KiB at this size, which stays in this machine's 1 MiB L2 beside
  // the simulation's own state. The sample trace at time_scale 3600 (`infersim_bench
  // trace`) averages 16,300 arrivals a minute, so most of its minutes are one piece.
  static constexpr std::uint64_t kPieceArrivals = std::uint64_t{1} << 14;
  // The most invocations a minute may hold per simulated nanosecond (2^20: 10^15 requests
  // per second). A minute is halved into pieces of at least a nanosecond, so a piece holds
  // at most about twice this, 32 MiB of keys; a denser replay (rate_scale 10^6 on a minute
  // of 60 ns) would exhaust memory, and is an input error.
  static constexpr double kMaxPerNanosecond = 1 << 20;

  Azure2019Trace(const std::string& path, const ArrivalSetup& s) {
    const Params& p = s.params;
    const Mark at = p.mark_of("path", s.where);
    first_ = static_cast<int>(p.get_int("start_minute"));
    int count = static_cast<int>(p.get_int("minutes"));
    if (count == 0 || first_ + count - 1 > kMinutesPerDay) count = kMinutesPerDay - first_ + 1;
    minutes_ = count;
    time_scale_ = p.get("time_scale");
    check_scaled_span(count * 60e9, p, s.where);  // so every minute_start() fits the clock
    gamma_ = p.get_text("within") == "gamma";
    if (gamma_) shape_ = 1.0 / (p.get("cv") * p.get("cv"));
    const double rate_scale = p.get("rate_scale");
    const std::size_t k = s.targets.size();
    const bool busiest = p.get_text("map") == "busiest";
    scan_ = cached<Az19Window>(
        fmt::format("azure2019\n{}\n{}\n{}\n{}\n{}", path, first_, count, k, busiest),
        [&] { return scan_az19(path, at, first_, count, k, busiest); });
    const Az19Window* scan = scan_.get();
    if (scan->functions < k) {
      throw InputError(at, fmt::format("trace {} has {} functions, but {} targets read it (one "
                                       "function per target)",
                                       path, scan->functions, k));
    }
    target_bits_ = static_cast<int>(std::bit_width(std::uint64_t{k > 0 ? k - 1 : 0}));
    target_mask_ = (std::uint64_t{1} << target_bits_) - 1;

    // The mapped functions' counts in the window, scaled (running total carried). A minute
    // without invocations leaves the running total, so what it would emit, unchanged. At
    // rate_scale 1 a function replays its counts as they are: the cached ones, not a copy.
    targets_.resize(k);
    std::vector<double> minute_total(static_cast<std::size_t>(count), 0.0);  // all functions
    for (std::size_t i = 0; i < k; ++i) {
      Target& t = targets_[i];
      std::uint64_t cumulative = 0, emitted = 0;
      for (const auto& [m, c] : scan->counts[i]) {
        cumulative += c;
        const double w = rate_scale == 1.0
                             ? static_cast<double>(cumulative)
                             : std::floor(static_cast<double>(cumulative) * rate_scale);
        if (!(w < 0x1p62)) too_dense(p, s.where, static_cast<int>(m), w);
        const auto want = static_cast<std::uint64_t>(w);
        if (want > emitted) {
          if (rate_scale != 1.0) t.scaled.push_back({m, want - emitted});
          t.total += want - emitted;
          minute_total[m] += static_cast<double>(want - emitted);
          emitted = want;
        }
      }
      t.minutes = rate_scale == 1.0 ? std::span<const Az19Minute>(scan->counts[i])
                                    : std::span<const Az19Minute>(t.scaled);
    }
    for (int m = 0; m < count; ++m) {
      const auto span = static_cast<double>(minute_start(m + 1) - minute_start(m));
      const double n = minute_total[static_cast<std::size_t>(m)];
      if (n > span * kMaxPerNanosecond) too_dense(p, s.where, m, n);
    }
  }

  SimTime next(Rng& rng, SimTime, std::uint32_t& target) override {
    while (pos_ == keys_.size()) {
      if (!next_piece(rng)) return kNever;
    }
    const std::uint64_t key = keys_[pos_++];
    target = static_cast<std::uint32_t>(key & target_mask_);
    return piece_begin_ + static_cast<SimTime>(key >> target_bits_);
  }

  double mean_rate(std::uint32_t target) const override {
    const double span_s = static_cast<double>(minutes_) * 60.0 / time_scale_;
    return static_cast<double>(targets_[target].total) / span_s;
  }

 private:
  struct Target {
    std::span<const Az19Minute> minutes;  // minutes with invocations, ascending
    std::vector<Az19Minute> scaled;       // their counts under rate_scale (when not 1)
    std::uint64_t total = 0;
    std::size_t cursor = 0;  // the next minute to replay
  };
  struct Entry {  // a function invoked in the current minute
    std::uint32_t target;
    std::uint64_t count;
  };
  // within: gamma, one per function of the minute: its points are generated in order.
  struct GammaState {
    std::uint64_t left;  // points not yet generated
    double x;            // the last point's position in the minute, in [0, 1)
    SimTime next;        // the next point's offset in the minute; kNever when none is left
  };

  [[noreturn]] void too_dense(const Params& p, const Mark& where, int m, double n) const {
    throw InputError(
        p.mark_of("rate_scale", where),
        fmt::format("minute {} of the trace holds {:.3g} invocations (rate_scale {}) in {} ns "
                    "(time_scale {}): expected at most {:.0f} per nanosecond; a smaller "
                    "rate_scale or time_scale",
                    first_ + m, n, p.get("rate_scale"),
                    minute_start(static_cast<std::uint64_t>(m) + 1) -
                        minute_start(static_cast<std::uint64_t>(m)),
                    time_scale_, kMaxPerNanosecond));
  }

  SimTime minute_start(std::uint64_t m) const {
    return round_nearest(static_cast<double>(m) * 60e9 / time_scale_);
  }
  // The start of piece j of the current minute, from the minute's start: floor(j span / 2^d).
  SimTime piece_bound(std::uint64_t j) const {
    __extension__ typedef unsigned __int128 u128;
    return static_cast<SimTime>((u128{j} * static_cast<std::uint64_t>(span_)) >> depth_);
  }

  // Fills keys_ with the next piece's arrivals, in order; false when no piece is left (a
  // piece may be empty).
  bool next_piece(Rng& rng) {
    if (piece_ == pieces_ && !start_minute(rng)) return false;
    const SimTime lo = piece_bound(piece_), hi = piece_bound(piece_ + 1);
    keys_.clear();
    pos_ = 0;
    if (gamma_) {
      fill_gamma(rng, lo, hi);
    } else {
      fill_poisson(rng, lo, hi);
    }
    ++piece_;
    sort_keys(hi - lo);
    piece_begin_ = begin_ + lo;
    return true;
  }

  // Starts the next minute in which some function is invoked; false when none is left.
  // Each minute looks at every target (twice): a few thousand functions against the
  // thousands of arrivals a busy minute holds.
  bool start_minute(Rng& rng) {
    std::uint32_t minute = UINT32_MAX;
    for (const Target& t : targets_) {
      if (t.cursor < t.minutes.size()) minute = std::min(minute, t.minutes[t.cursor].index);
    }
    if (minute == UINT32_MAX) return false;
    active_.clear();
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      Target& t = targets_[i];
      if (t.cursor < t.minutes.size() && t.minutes[t.cursor].index == minute) {
        active_.push_back({static_cast<std::uint32_t>(i), t.minutes[t.cursor++].count});
        n += active_.back().count;
      }
    }
    begin_ = minute_start(minute);
    span_ = minute_start(minute + 1) - begin_;  // >= 60 ns (time_scale <= 1e9)
    // Halve until a piece holds at most kPieceArrivals on average and a key (a point's
    // offset in its piece above the target's bits) fits 64 bits, but keep pieces >= 1 ns.
    const int max_depth = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(span_))) - 1;
    const int offset_bits = 64 - target_bits_;
    depth_ = 0;
    while (depth_ < max_depth &&
           ((n >> depth_) > kPieceArrivals ||
            static_cast<int>(std::bit_width(static_cast<std::uint64_t>(span_ >> depth_) + 1)) >
                offset_bits)) {
      ++depth_;
    }
    pieces_ = std::uint64_t{1} << depth_;
    piece_ = 0;
    if (gamma_) {
      gamma_state_.resize(active_.size());
      for (std::size_t a = 0; a < active_.size(); ++a) {
        GammaState& g = gamma_state_[a];
        g.left = active_[a].count;
        g.x = 0;
        g.next = advance_gamma(rng, g);
      }
    } else if (depth_ > 0) {
      right_.resize(active_.size() * static_cast<std::size_t>(depth_));
    }
    return true;
  }

  // Binomial(n, 1/2): the number of ones among n random bits.
  static std::uint64_t half(Rng& rng, std::uint64_t n) {
    std::uint64_t ones = 0;
    for (; n >= 64; n -= 64) ones += static_cast<std::uint64_t>(std::popcount(rng.next_u64()));
    if (n > 0) {
      const std::uint64_t mask = (std::uint64_t{1} << n) - 1;
      ones += static_cast<std::uint64_t>(std::popcount(rng.next_u64() & mask));
    }
    return ones;
  }

  // within: poisson. The function's count in the current piece: the minute's halving tree
  // walked depth first, left half first. right[k] holds the count of the right half at
  // depth k + 1 not yet visited; piece j > 0 resumes at depth d - ctz(j), the right half
  // whose left sibling's last piece was j - 1.
  std::uint64_t piece_count(Rng& rng, std::size_t a, std::uint64_t count) {
    if (depth_ == 0) return count;
    std::uint64_t* right = &right_[a * static_cast<std::size_t>(depth_)];
    std::uint64_t n = count;
    int k = 0;
    if (piece_ > 0) {
      k = depth_ - std::countr_zero(piece_);
      n = right[k - 1];
    }
    for (; k < depth_; ++k) {
      const std::uint64_t left = half(rng, n);
      right[k] = n - left;
      n = left;
    }
    return n;
  }

  // Each of the piece's points lies uniformly in it: x = (j + u) / 2^d of the way through
  // the minute, rounded down to its nanosecond (clamped to the piece, against rounding).
  void fill_poisson(Rng& rng, SimTime lo, SimTime hi) {
    const double scale = std::ldexp(static_cast<double>(span_), -depth_);
    const double j = static_cast<double>(piece_);
    for (std::size_t a = 0; a < active_.size(); ++a) {
      const std::uint64_t n = piece_count(rng, a, active_[a].count);
      const std::uint64_t target = active_[a].target;
      for (std::uint64_t p = 0; p < n; ++p) {
        const auto at = static_cast<SimTime>((j + rng.uniform()) * scale);
        const SimTime offset = std::clamp(at, lo, hi - 1);
        keys_.push_back((static_cast<std::uint64_t>(offset - lo) << target_bits_) | target);
      }
    }
  }

  void fill_gamma(Rng& rng, SimTime lo, SimTime hi) {
    for (std::size_t a = 0; a < active_.size(); ++a) {
      GammaState& g = gamma_state_[a];
      const std::uint64_t target = active_[a].target;
      while (g.next < hi) {
        keys_.push_back((static_cast<std::uint64_t>(g.next - lo) << target_bits_) | target);
        g.next = advance_gamma(rng, g);
      }
    }
  }

  // The function's next point in the minute, or kNever. With k = left points to place, the
  // next is a Beta(a, k a) fraction of the rest of the minute away.
  SimTime advance_gamma(Rng& rng, GammaState& g) const {
    if (g.left == 0) return kNever;
    const double k = static_cast<double>(g.left);
    const double g1 = rng.gamma(shape_, 1.0);
    const double g2 = rng.gamma(shape_ * k, 1.0);
    const double step = g1 + g2 > 0 ? g1 / (g1 + g2) : 0.0;
    g.x += (1.0 - g.x) * step;
    --g.left;
    return std::min(round_nearest(g.x * static_cast<double>(span_)), span_ - 1);
  }

  // Sorts the piece's keys: by offset, equal offsets in target order. Small pieces (and
  // any beyond 32-bit counts) sort the whole key (offset above the target's bits). Larger
  // ones take an LSD radix sort of the offset's bits alone, at most 12 bits a pass (a
  // 16 KiB count table; the sample at time_scale 3600 has 24-bit offsets, two passes): it
  // is stable, and the keys were written in target order, so ties stay in target order. A
  // comparison sort of random keys mispredicts about one branch per comparison.
  void sort_keys(SimTime piece_len) {
    const std::size_t n = keys_.size();
    if (n < 256 || n > UINT32_MAX) {
      std::sort(keys_.begin(), keys_.end());
      return;
    }
    const int bits = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(piece_len - 1)));
    if (bits == 0) return;  // one nanosecond: already in target order
    const int passes = (bits + 11) / 12;
    const int width = (bits + passes - 1) / passes;
    const std::size_t buckets = std::size_t{1} << width;
    const std::uint64_t digit = buckets - 1;
    counts_.assign(static_cast<std::size_t>(passes) * buckets, 0);
    std::uint32_t* const counts = counts_.data();
    scratch_.resize(n);
    std::uint64_t* in = keys_.data();
    std::uint64_t* out = scratch_.data();
    for (std::size_t i = 0; i < n; ++i) {
      for (int p = 0; p < passes; ++p) {
        ++counts[static_cast<std::size_t>(p) * buckets +
                 ((in[i] >> (target_bits_ + p * width)) & digit)];
      }
    }
    for (int p = 0; p < passes; ++p) {
      std::uint32_t* const c = counts + static_cast<std::size_t>(p) * buckets;
      std::uint32_t sum = 0;
      for (std::size_t b = 0; b < buckets; ++b) sum += std::exchange(c[b], sum);
      const int shift = target_bits_ + p * width;
      for (std::size_t i = 0; i < n; ++i) out[c[(in[i] >> shift) & digit]++] = in[i];
      std::swap(in, out);
    }
    if (in != keys_.data()) keys_.swap(scratch_);
  }

  int first_ = 1;
  int minutes_ = kMinutesPerDay;
  double time_scale_ = 1;
  bool gamma_ = false;
  double shape_ = 1;
  int target_bits_ = 0;  // a key's low bits: the target
  std::uint64_t target_mask_ = 0;
  std::shared_ptr<const Az19Window> scan_;  // the counts targets_ replay at rate_scale 1
  std::vector<Target> targets_;
  // The current minute: its functions (in target order), start and length, and its
  // halving into 2^depth_ pieces.
  std::vector<Entry> active_;
  SimTime begin_ = 0, span_ = 0;
  int depth_ = 0;
  std::uint64_t pieces_ = 0, piece_ = 0;  // piece_: the next piece
  std::vector<std::uint64_t> right_;      // poisson: per function, depth_ right-half counts
  std::vector<GammaState> gamma_state_;   // gamma: per function
  // The current piece's arrivals, (offset in the piece << target_bits_) | target, in order.
  std::vector<std::uint64_t> keys_, scratch_;
  std::vector<std::uint32_t> counts_;  // < 2^32 keys: a piece holds ~kPieceArrivals
  std::size_t pos_ = 0;                // the next in keys_
  SimTime piece_begin_ = 0;
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
    check_scaled_span(static_cast<double>(std::max<SimTime>(scan_->last_start_ns - origin_, 0)), p,
                      s.where);
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
