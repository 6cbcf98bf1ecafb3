#include "validation/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace infersim::validation {
namespace {

// The state of one replay: tenants' queues and requests (the BatchHost of BatchRule), the
// arrival streams, the device and its clock, and the tallies.
class Host {
 public:
  Host(Device& dev, const ReplaySpec& spec, std::vector<ReplayTenant>& tenants, RequestSink* sink)
      : dev_(dev), spec_(spec), tenants_(tenants), sink_(sink), queues_(tenants.size()) {
    result_.counters.resize(tenants.size());
    next_arrival_.assign(tenants.size(), kTimeMax);
    for (const auto& t : tenants) rngs_.push_back(run_stream(spec.seed, "arrival/" + t.info.name));
  }

  // ---- BatchHost ----
  SimTime now() const { return now_; }
  RingQueue<Request>& queue(std::uint32_t t) { return queues_[t]; }
  SimTime slo_ns(std::uint32_t t) const { return tenants_[t].info.slo_ns; }
  const TenantInfo& tenant(std::uint32_t t) const { return tenants_[t].info; }
  SimTime latency_ns(std::uint32_t t, std::size_t b) const {
    return tenants_[t].info.latency_ns[b];
  }
  void drop(const Request& r, std::uint32_t gpu) {
    if (r.arrival >= spec_.warmup) ++result_.counters[r.tenant].dropped;
    if (sink_) sink_->record({r.tenant, gpu, r.arrival, now_, now_, 0, true});
    result_.end = std::max(result_.end, now_);
    finish(r.tenant, now_);
  }

  // ---- For the policies ----
  Device& device() { return dev_; }
  const ReplaySpec& spec() const { return spec_; }
  std::size_t tenant_count() const { return tenants_.size(); }
  const ModelProgram& program(std::uint32_t t) const { return *tenants_[t].program; }

  // The request completed at `end` in a batch of `batch` launched at `start`.
  void complete(const Request& r, SimTime start, SimTime end, int batch) {
    if (r.arrival >= spec_.warmup) {
      const SimTime latency = end - r.arrival;
      result_.counters[r.tenant].add_completion(latency, met_deadline(latency, slo_ns(r.tenant)));
    } else if (end > spec_.warmup) {
      result_.counters[r.tenant].add_carried_in(start, end, spec_.warmup);
    }
    if (sink_) sink_->record({r.tenant, 0, r.arrival, start, end, batch, false});
    result_.end = std::max(result_.end, end);
    finish(r.tenant, end);
  }

  // A batch was launched now / finished at `end`: device busy-time accounting.
  void batch_started() {
    if (in_flight_++ == 0) busy_since_ = now_;
    ++result_.batches;
  }
  void batch_finished(SimTime end) {
    if (--in_flight_ == 0) {
      const SimTime from = std::max(busy_since_, spec_.warmup);
      if (end > from) result_.busy_ns += static_cast<double>(end - from);
    }
  }
  void launched(std::size_t kernels) { result_.kernels += kernels; }

  // ---- The loop ----
  template <typename Policy>
  ReplayResult run(Policy& policy) {
    t0_ = dev_.now();
    for (std::uint32_t t = 0; t < tenants_.size(); ++t) {
      ArrivalProcess& a = *tenants_[t].arrival;
      const int n = a.outstanding();
      if (n > 0) {
        for (int i = 0; i < n; ++i) closed_.push_back({0, t});
      } else {
        std::uint32_t target = 0;  // one target: the tenant
        const SimTime first = a.next(rngs_[t], 0, target);
        if (first < spec_.duration) next_arrival_[t] = first;
      }
    }
    std::vector<Completion> done;
    for (;;) {
      now_ = dev_.now() - t0_;
      for (const Completion& c : done) {
        const SimTime at = c.time - t0_;
        const SimTime lag = std::max<SimTime>(0, now_ - at);
        result_.completion_lag_ns.add(lag);
        completion_lag_sum_ += static_cast<double>(lag);
        policy.on_done(c.ticket, at);
      }
      done.clear();
      admit();
      const SimTime timer = policy.dispatch();
      const SimTime next = std::min(next_arrival(), timer);
      if (policy.idle()) {
        if (next == kTimeMax) {
          if (queued() == 0) break;
          throw std::logic_error(fmt::format(
              "replay: {} requests queued with nothing running and nothing due", queued()));
        }
      }
      dev_.wait(next == kTimeMax ? kTimeMax : next + t0_, done);
    }
    dev_.synchronize();
    result_.arrival_lag_mean_ns = mean(arrival_lag_sum_, result_.arrival_lag_ns.count());
    result_.completion_lag_mean_ns = mean(completion_lag_sum_, result_.completion_lag_ns.count());
    return std::move(result_);
  }

 private:
  static double mean(double sum, std::uint64_t n) { return n ? sum / static_cast<double>(n) : 0; }

  // Moves every arrival due by now into its tenant's queue, in time order (ties: tenant
  // index, as the engine's insertion order has it).
  void admit() {
    for (;;) {
      std::uint32_t best = 0;
      SimTime at = kTimeMax;
      for (std::uint32_t t = 0; t < next_arrival_.size(); ++t) {
        if (next_arrival_[t] < at) {
          at = next_arrival_[t];
          best = t;
        }
      }
      // Closed-loop replacements are due at their think time after a completion.
      std::size_t closed_index = closed_.size();
      for (std::size_t i = 0; i < closed_.size(); ++i) {
        if (closed_[i].first < at || (closed_[i].first == at && closed_[i].second < best)) {
          at = closed_[i].first;
          best = closed_[i].second;
          closed_index = i;
        }
      }
      if (at > now_) return;
      if (closed_index < closed_.size()) {
        closed_.erase(closed_.begin() + static_cast<std::ptrdiff_t>(closed_index));
      } else {
        ArrivalProcess& a = *tenants_[best].arrival;
        std::uint32_t target = 0;
        const SimTime next = a.next(rngs_[best], at, target);
        next_arrival_[best] = next < spec_.duration ? next : kTimeMax;
      }
      arrive(best, at);
    }
  }

  void arrive(std::uint32_t t, SimTime at) {
    if (at >= spec_.warmup) ++result_.counters[t].arrived;
    result_.arrival_lag_ns.add(now_ - at);
    arrival_lag_sum_ += static_cast<double>(now_ - at);
    queues_[t].push_back(Request{at, t});
  }

  void finish(std::uint32_t t, SimTime at) {
    ArrivalProcess& a = *tenants_[t].arrival;
    if (a.outstanding() > 0) {
      std::uint32_t target = 0;
      const SimTime next = a.next(rngs_[t], at, target);
      if (next < spec_.duration) closed_.push_back({next, t});
    }
  }

  SimTime next_arrival() const {
    SimTime at = kTimeMax;
    for (SimTime a : next_arrival_) at = std::min(at, a);
    for (const auto& c : closed_) at = std::min(at, c.first);
    return at;
  }

  std::size_t queued() const {
    std::size_t n = 0;
    for (const auto& q : queues_) n += q.size();
    return n;
  }

  Device& dev_;
  const ReplaySpec& spec_;
  std::vector<ReplayTenant>& tenants_;
  RequestSink* sink_;
  std::vector<RingQueue<Request>> queues_;
  std::vector<Rng> rngs_;
  std::vector<SimTime> next_arrival_;                      // open loop, per tenant
  std::vector<std::pair<SimTime, std::uint32_t>> closed_;  // closed loop: (due, tenant)
  SimTime t0_ = 0;
  SimTime now_ = 0;
  int in_flight_ = 0;
  SimTime busy_since_ = 0;
  double arrival_lag_sum_ = 0, completion_lag_sum_ = 0;
  ReplayResult result_;
};

static_assert(BatchHost<Host>);

// Launches calls [from, to) of tenant t's batch of n on `lane`; returns how many.
std::size_t launch_calls(Host& h, std::size_t lane, std::uint32_t t, int n, std::size_t from,
                         std::size_t to) {
  const auto& calls = h.program(t).calls.at(static_cast<std::size_t>(n));
  const std::size_t launched = h.device().launch_each(lane, t, n, calls, from, to);
  h.launched(launched);
  return launched;
}

// exclusive and mps: every tenant has its own lane and at most one batch in flight; the
// device runs the lanes concurrently (exclusive has one tenant, so one lane).
class PerTenant {
 public:
  explicit PerTenant(Host& h) : h_(h), rule_(h.spec().rule) {
    for (std::uint32_t t = 0; t < h.tenant_count(); ++t) {
      slots_.push_back({h.device().add_lane(), {}, 0, false});
      slots_.back().batch.reserve(static_cast<std::size_t>(rule_.max_batch));
    }
  }

  SimTime dispatch() {
    const SimTime now = h_.now();
    SimTime wake = kTimeMax;
    for (std::uint32_t t = 0; t < slots_.size(); ++t) {
      Slot& s = slots_[t];
      if (s.busy) continue;
      rule_.drop_hopeless(h_, 0, t);
      if (h_.queue(t).empty()) continue;
      const SimTime ready = rule_.ready_at(h_, t);
      if (ready > now) {
        wake = std::min(wake, ready);
        continue;
      }
      const int n = static_cast<int>(rule_.take(h_, t, s.batch));
      s.start = now;
      s.busy = true;
      h_.batch_started();
      // The whole batch at once (one CUDA graph with batch graphs on, as it was profiled).
      const auto& calls = h_.program(t).calls[static_cast<std::size_t>(n)];
      h_.device().launch_batch(s.lane, t, n, calls);
      h_.launched(calls.size());
      h_.device().mark(s.lane, t);
    }
    return wake;
  }

  void on_done(std::uint64_t ticket, SimTime at) {
    Slot& s = slots_.at(ticket);
    const int n = static_cast<int>(s.batch.size());
    for (const Request& r : s.batch) h_.complete(r, s.start, at, n);
    s.batch.clear();
    s.busy = false;
    h_.batch_finished(at);
  }

  bool idle() const {
    return std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.busy; });
  }

 private:
  struct Slot {
    std::size_t lane;
    std::vector<Request> batch;
    SimTime start;
    bool busy;
  };
  Host& h_;
  BatchRule rule_;
  std::vector<Slot> slots_;
};

// time_sliced: one context (lane) per tenant, one running at a time, switched at kernel
// boundaries once its quantum is over (see replay.h).
class TimeSliced {
 public:
  static constexpr std::size_t kAhead = 2;  // kernels queued ahead of the host

  explicit TimeSliced(Host& h) : h_(h), rule_(h.spec().rule), quantum_(h.spec().quantum) {
    if (quantum_ <= 0) throw std::logic_error("replay: time_sliced needs a positive quantum");
    for (std::uint32_t t = 0; t < h.tenant_count(); ++t) {
      ctx_.push_back({});
      ctx_.back().lane = h.device().add_lane();
      ctx_.back().batch.reserve(static_cast<std::size_t>(rule_.max_batch));
    }
  }

  SimTime dispatch() {
    wake_ = kTimeMax;
    const SimTime now = h_.now();
    if (has_current_) {
      Context& x = ctx_[current_];
      if (!x.batch.empty()) {  // the running context's batch is in progress
        if (!draining_ && now >= quantum_end_) {
          if (other_ready()) {
            draining_ = true;  // queue no more: switch once the queued kernels are done
          } else {
            quantum_end_ = now + quantum_;  // nobody else waits: a fresh quantum
          }
        }
        if (!draining_) top_up(x);
        if (in_flight_ > 0) return wake_;
        // Preempted at a kernel boundary: the batch resumes in the context's next slice.
        draining_ = false;
        switch_from_current(now);
        return wake_;
      }
      // No batch in progress (it finished): within its quantum the context goes on if it is
      // ready; otherwise its quantum ends early.
      if (now < quantum_end_ && ready(current_)) {
        start_batch(current_, now);
        return wake_;
      }
    }
    switch_from_current(now);
    return wake_;
  }

  void on_done(std::uint64_t ticket, SimTime at) {
    Context& x = ctx_.at(ticket);
    --in_flight_;
    ++x.finished;
    const std::size_t total = calls(x).size();
    if (x.finished == total) {
      const int n = static_cast<int>(x.batch.size());
      for (const Request& r : x.batch) h_.complete(r, x.first_start, at, n);
      x.batch.clear();
      x.launched = x.finished = 0;
      h_.batch_finished(at);
    }
  }

  bool idle() const { return in_flight_ == 0; }

 private:
  struct Context {
    std::size_t lane = 0;
    std::vector<Request> batch;  // the batch in progress; empty when none
    std::size_t launched = 0;    // its kernels queued so far
    std::size_t finished = 0;    // its kernels done
    SimTime first_start = 0;
  };

  const std::vector<KernelCall>& calls(const Context& x) const {
    const std::uint32_t t = static_cast<std::uint32_t>(&x - ctx_.data());
    return h_.program(t).calls[x.batch.size()];
  }

  // A batch in progress, or one that may start now; arms the wake-up of a context waiting
  // for its batch to fill.
  bool ready(std::size_t c) {
    if (!ctx_[c].batch.empty()) return true;
    const auto t = static_cast<std::uint32_t>(c);
    rule_.drop_hopeless(h_, 0, t);
    if (h_.queue(t).empty()) return false;
    const SimTime at = rule_.ready_at(h_, t);
    if (at > h_.now()) {
      wake_ = std::min(wake_, at);
      return false;
    }
    return true;
  }

  bool other_ready() {
    for (std::size_t c = 0; c < ctx_.size(); ++c) {
      if (c != current_ && ready(c)) return true;
    }
    return false;
  }

  // The GPU is free of the current context's kernels: the first ready context in
  // round-robin order after the current one (the current one last) gets a quantum.
  void switch_from_current(SimTime now) {
    const std::size_t n = ctx_.size();
    const std::size_t first = has_current_ ? current_ + 1 : 0;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t c = (first + k) % n;
      if (!ready(c)) continue;
      current_ = c;
      has_current_ = true;
      quantum_end_ = now + quantum_;
      if (ctx_[c].batch.empty()) {
        start_batch(c, now);
      } else {
        top_up(ctx_[c]);
      }
      return;
    }
  }

  void start_batch(std::size_t c, SimTime now) {
    Context& x = ctx_[c];
    rule_.take(h_, static_cast<std::uint32_t>(c), x.batch);
    x.first_start = now;
    x.launched = x.finished = 0;
    h_.batch_started();
    top_up(x);
  }

  // Queues the context's next kernels, up to kAhead unfinished, each followed by a marker.
  void top_up(Context& x) {
    const auto t = static_cast<std::uint32_t>(&x - ctx_.data());
    const std::size_t total = calls(x).size();
    while (in_flight_ < kAhead && x.launched < total) {
      launch_calls(h_, x.lane, t, static_cast<int>(x.batch.size()), x.launched, x.launched + 1);
      h_.device().mark(x.lane, t);
      ++x.launched;
      ++in_flight_;
    }
  }

  Host& h_;
  BatchRule rule_;
  SimTime quantum_;
  std::vector<Context> ctx_;
  bool has_current_ = false;
  std::size_t current_ = 0;
  SimTime quantum_end_ = 0;
  bool draining_ = false;
  std::size_t in_flight_ = 0;  // kernels queued and not yet done (of the current context)
  SimTime wake_ = kTimeMax;
};

// space_time: same-model tenants form a group with one lane; a group's super-kernel merges
// its requests EDF (BatchRule::take_group), one batched launch per layer.
class SpaceTime {
 public:
  explicit SpaceTime(Host& h) : h_(h), rule_(h.spec().rule) {
    // Groups by model, in order of each model's first tenant; members ascend (as the
    // simulator's space_time policy forms them).
    for (std::uint32_t t = 0; t < h.tenant_count(); ++t) {
      const std::string& model = h.tenant(t).model;
      auto it = std::find_if(groups_.begin(), groups_.end(), [&](const Group& g) {
        return h.tenant(g.members.front()).model == model;
      });
      if (it == groups_.end()) {
        groups_.push_back({});
        groups_.back().members.push_back(t);
        groups_.back().lane = h.device().add_lane();
        groups_.back().batch.reserve(static_cast<std::size_t>(rule_.max_batch));
      } else {
        it->members.push_back(t);
      }
    }
  }

  SimTime dispatch() {
    const SimTime now = h_.now();
    SimTime wake = kTimeMax;
    for (Group& g : groups_) {
      if (g.busy) continue;
      const SimTime at = rule_.take_group(h_, 0, g.members, g.batch);
      if (at > now) {
        wake = std::min(wake, at);
        continue;
      }
      launch(g, now);
    }
    return wake;
  }

  void on_done(std::uint64_t ticket, SimTime at) {
    Group& g = groups_.at(ticket);
    const int n = static_cast<int>(g.batch.size());
    for (const Request& r : g.batch) h_.complete(r, g.start, at, n);
    g.batch.clear();
    g.busy = false;
    h_.batch_finished(at);
  }

  bool idle() const {
    return std::none_of(groups_.begin(), groups_.end(), [](const Group& g) { return g.busy; });
  }

 private:
  struct Group {
    std::vector<std::uint32_t> members;
    std::size_t lane = 0;
    std::vector<Request> batch;
    SimTime start = 0;
    bool busy = false;
  };

  void launch(Group& g, SimTime now) {
    // Each tenant's share of the super-kernel: its requests' count, in tenant order.
    std::map<std::uint32_t, int> per_tenant;
    for (const Request& r : g.batch) ++per_tenant[r.tenant];
    const std::size_t layers = h_.program(g.members.front()).calls[1].size();
    std::vector<Part> parts;
    for (std::size_t i = 0; i < layers; ++i) {
      parts.clear();
      for (const auto& [t, n] : per_tenant) {
        const auto& calls = h_.program(t).calls.at(static_cast<std::size_t>(n));
        if (calls.size() != layers) {
          throw std::logic_error(
              fmt::format("replay: tenant {} of model {} has {} kernels at batch {}, its group {}",
                          h_.tenant(t).name, h_.tenant(t).model, calls.size(), n, layers));
        }
        parts.push_back({t, static_cast<std::uint32_t>(i), &calls[i], n});
      }
      h_.device().launch(g.lane, parts);
    }
    h_.launched(layers);
    h_.device().mark(g.lane, static_cast<std::uint64_t>(&g - groups_.data()));
    g.start = now;
    g.busy = true;
    h_.batch_started();
  }

  Host& h_;
  BatchRule rule_;
  std::vector<Group> groups_;
};

}  // namespace

// Runs every kernel a replay can launch once before its clock starts: each tenant program
// at every batch size, and for space_time a super-kernel of every total size (two tenants of
// one model sharing it). On a GPU the first use of a kernel loads its module (CUDA's lazy
// loading; a measured H100 run saw arrivals noticed up to 108 ms late in the first run
// without this), which would otherwise land inside the measured run. Under exclusive and mps
// every tenant's batch of every size is launched as the replay will launch it
// (Device::launch_batch), so batch graphs, when on, are captured here too. The CPU backend
// has no such first-use cost, and its runs are long enough already: it is skipped there.
void warm_up(Device& device, const ReplaySpec& spec, const std::vector<ReplayTenant>& tenants) {
  if (device.info().backend != "cuda") return;
  const std::size_t lane = device.add_lane();
  std::map<const ModelProgram*, std::vector<std::uint32_t>> users;
  for (std::uint32_t t = 0; t < tenants.size(); ++t) users[tenants[t].program].push_back(t);
  std::vector<Part> parts;
  const bool whole_batches = spec.policy == "exclusive" || spec.policy == "mps";
  for (const auto& [program, ts] : users) {
    for (int b = 1; b <= spec.rule.max_batch; ++b) {
      const auto& calls = program->calls.at(static_cast<std::size_t>(b));
      if (whole_batches) {
        for (const std::uint32_t t : ts) device.launch_batch(lane, t, b, calls);
      } else {
        for (std::uint32_t i = 0; i < calls.size(); ++i) {
          parts.assign(1, Part{ts[0], i, &calls[i], b});
          device.launch(lane, parts);
          if (spec.policy == "space_time" && ts.size() > 1 && b > 1) {
            const auto& rest = program->calls.at(static_cast<std::size_t>(b - 1));
            const auto& one = program->calls.at(1);
            parts.assign({Part{ts[0], i, &rest[i], b - 1}, Part{ts[1], i, &one[i], 1}});
            device.launch(lane, parts);
          }
        }
      }
      // Marked per batch size: a super-kernel's pointer staging is reused from the start
      // of each job (CudaDevice::launch).
      constexpr std::uint64_t kTicket = ~std::uint64_t{0};
      device.mark(lane, kTicket);
      std::vector<Completion> done;
      while (std::none_of(done.begin(), done.end(),
                          [](const Completion& c) { return c.ticket == kTicket; })) {
        device.wait(kTimeMax, done);
      }
    }
  }
}

const std::vector<std::string>& replay_policies() {
  static const std::vector<std::string> names{"exclusive", "time_sliced", "mps", "space_time"};
  return names;
}

ReplayResult replay(Device& device, const ReplaySpec& spec, std::vector<ReplayTenant>& tenants,
                    RequestSink* sink) {
  for (const auto& t : tenants) {
    if (!t.program || t.program->max_batch() < spec.rule.max_batch || !t.arrival) {
      throw std::logic_error(fmt::format("replay: tenant {} lacks a program up to batch {}",
                                         t.info.name, spec.rule.max_batch));
    }
  }
  warm_up(device, spec, tenants);
  Host host(device, spec, tenants, sink);
  if (spec.policy == "exclusive" || spec.policy == "mps") {
    PerTenant p(host);
    return host.run(p);
  }
  if (spec.policy == "time_sliced") {
    TimeSliced p(host);
    return host.run(p);
  }
  if (spec.policy == "space_time") {
    SpaceTime p(host);
    return host.run(p);
  }
  throw std::logic_error(fmt::format("replay: no real execution of policy '{}'", spec.policy));
}

}  // namespace infersim::validation
