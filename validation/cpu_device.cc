#include "validation/cpu_device.h"

#include <cblas.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "validation/buffers.h"

namespace infersim::validation {
namespace {

// A tile's target work: about 4 MFLOP, some 30 us on one core of this machine, long
// against the ~1 us of taking a tile and short enough to balance the cores.
constexpr double kTileFlops = 4e6;
// Narrower blocks than this lose OpenBLAS's register blocking; split the other way or not
// at all.
constexpr std::int64_t kMinBlock = 64;
// Copies are cut into chunks of at least this many bytes.
constexpr std::size_t kMinCopy = 1 << 20;
// How long an idle worker polls for new work before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(200);

int online_cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

void fill(std::vector<float>& v, std::uint32_t salt) {
  // Small, non-zero, non-denormal values; the results are never read.
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = 0.001f * static_cast<float>((i * 2654435761u + salt) % 97 + 1);
  }
}

}  // namespace

std::string CpuDevice::host_cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        model = line.substr(colon + 1);
        model.erase(0, model.find_first_not_of(" \t"));
      }
      break;
    }
  }
  return fmt::format("{} x{} cores", model, online_cores());
}

CpuDevice::CpuDevice(int workers) : epoch_(std::chrono::steady_clock::now()) {
  // One core stays with the host thread that dispatches and stamps completions, as a GPU
  // has its host CPU: a dispatcher competing with the workers for their cores would delay
  // both (and on 2 cores, two workers woken for every kernel were measured slower than one).
  if (workers <= 0) workers = std::max(1, online_cores() - 1);
  // Each tile is one single-threaded OpenBLAS call: the pool, not OpenBLAS, spreads a
  // kernel over the cores.
  openblas_set_num_threads(1);
  info_.backend = "cpu";
  info_.device = host_cpu_name();
  std::string config = openblas_get_config();
  while (!config.empty() && config.back() == ' ') config.pop_back();
  info_.libraries = fmt::format("{} (core {}), {} single-threaded worker(s)", config,
                                openblas_get_corename(), workers);
  info_.clock =
      "std::chrono::steady_clock (CLOCK_MONOTONIC); a marker is stamped by the worker that "
      "finishes the kernel before it";
  info_.units = workers;
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker(); });
}

CpuDevice::~CpuDevice() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void CpuDevice::add_tenant(std::uint32_t tenant, const ModelProgram& program) {
  if (program.calls.size() < 2) throw std::logic_error("CpuDevice: empty program");
  const OperandSizes s = operand_sizes(program);
  auto ops = std::make_unique<Operands>();
  ops->weights.resize(s.weights.size());
  for (std::size_t i = 0; i < s.weights.size(); ++i) {
    ops->weights[i].resize(static_cast<std::size_t>(s.weights[i]));
    fill(ops->weights[i], tenant * 131u + static_cast<std::uint32_t>(i));
  }
  ops->input.resize(static_cast<std::size_t>(s.input));
  ops->output.resize(static_cast<std::size_t>(s.output));
  fill(ops->input, tenant);
  fill(ops->output, tenant + 7);
  ops->copy_src.assign(static_cast<std::size_t>(s.copy_bytes), 1);
  ops->copy_dst.assign(static_cast<std::size_t>(s.copy_bytes), 0);
  std::lock_guard<std::mutex> lock(mu_);
  if (tenants_.size() <= tenant) tenants_.resize(tenant + 1);
  tenants_[tenant] = std::move(ops);
}

std::size_t CpuDevice::add_lane() {
  std::lock_guard<std::mutex> lock(mu_);
  lanes_.emplace_back();
  return lanes_.size() - 1;
}

void CpuDevice::add_tiles(std::vector<Tile>& out, const Part& part) const {
  if (part.tenant >= tenants_.size() || !tenants_[part.tenant]) {
    throw std::logic_error(fmt::format("CpuDevice: tenant {} has no operands", part.tenant));
  }
  const Operands& ops = *tenants_[part.tenant];
  const KernelCall& c = *part.call;
  if (c.kind == KernelCall::Kind::kMemory) {
    const std::size_t bytes = static_cast<std::size_t>(c.bytes / 2);
    if (bytes > ops.copy_src.size()) throw std::logic_error("CpuDevice: copy larger than buffer");
    const std::size_t chunks = std::max<std::size_t>(
        1, std::min<std::size_t>(bytes / kMinCopy, 4 * static_cast<std::size_t>(info_.units)));
    for (std::size_t i = 0; i < chunks; ++i) {
      Tile t;
      t.copy = true;
      const std::size_t from = bytes * i / chunks, to = bytes * (i + 1) / chunks;
      t.src = ops.copy_src.data() + from;
      t.dst = const_cast<char*>(ops.copy_dst.data()) + from;
      t.bytes = to - from;
      out.push_back(t);
    }
    return;
  }
  if (part.index >= ops.weights.size() ||
      static_cast<std::int64_t>(ops.weights[part.index].size()) != c.m * c.k * c.count ||
      c.k * c.n * c.count > static_cast<std::int64_t>(ops.input.size()) ||
      c.m * c.n * c.count > static_cast<std::int64_t>(ops.output.size())) {
    throw std::logic_error(fmt::format("CpuDevice: call {} of tenant {} does not fit its operands",
                                       part.index, part.tenant));
  }
  // Tiles per group: enough to keep every worker busy on a large kernel, never blocks
  // narrower than kMinBlock (split the columns when there are enough of them, else the rows).
  const double flops = 2.0 * static_cast<double>(c.m * c.n * c.k);
  const std::int64_t want = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil(flops * static_cast<double>(c.count) / kTileFlops)), 1,
      4 * info_.units);
  const std::int64_t per_group = std::max<std::int64_t>(1, want / c.count);
  const bool by_columns = c.n >= kMinBlock;
  const std::int64_t extent = by_columns ? c.n : c.m;
  const std::int64_t blocks = std::clamp<std::int64_t>(extent / kMinBlock, 1, per_group);
  const float* a0 = ops.weights[part.index].data();
  const float* b0 = ops.input.data();
  float* c0 = const_cast<float*>(ops.output.data());
  for (std::int64_t g = 0; g < c.count; ++g) {
    const float* a = a0 + g * c.m * c.k;
    const float* b = b0 + g * c.k * c.n;
    float* cc = c0 + g * c.m * c.n;
    for (std::int64_t i = 0; i < blocks; ++i) {
      const std::int64_t from = extent * i / blocks, to = extent * (i + 1) / blocks;
      Tile t;
      t.lda = static_cast<int>(c.m);
      t.ldb = static_cast<int>(c.k);
      t.ldc = static_cast<int>(c.m);
      t.k = static_cast<int>(c.k);
      if (by_columns) {  // C[:, from:to] = A * B[:, from:to] (column-major)
        t.m = static_cast<int>(c.m);
        t.n = static_cast<int>(to - from);
        t.a = a;
        t.b = b + from * c.k;
        t.c = cc + from * c.m;
      } else {  // C[from:to, :] = A[from:to, :] * B
        t.m = static_cast<int>(to - from);
        t.n = static_cast<int>(c.n);
        t.a = a + from;
        t.b = b;
        t.c = cc + from;
      }
      out.push_back(t);
    }
  }
}

void CpuDevice::launch(std::size_t lane, std::span<const Part> parts) {
  Kernel k;
  {
    std::lock_guard<std::mutex> lock(mu_);  // tenants_ is read under the lock
    for (const Part& p : parts) add_tiles(k.tiles, p);
  }
  if (k.tiles.empty()) return;  // nothing to run (an empty copy)
  k.left = k.tiles.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    lanes_.at(lane).fifo.push_back(std::move(k));
    ++busy_;
    epoch_of_work_.fetch_add(1, std::memory_order_release);
  }
  work_cv_.notify_all();
}

void CpuDevice::mark(std::size_t lane, std::uint64_t ticket) {
  bool now_done = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Lane& l = lanes_.at(lane);
    if (l.fifo.empty()) {
      completed_.push_back({ticket, now()});
      now_done = true;
    } else {
      Kernel k;
      k.marker = true;
      k.ticket = ticket;
      l.fifo.push_back(std::move(k));
    }
  }
  if (now_done) done_cv_.notify_all();
}

SimTime CpuDevice::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              epoch_)
      .count();
}

bool CpuDevice::take(std::size_t& lane, Kernel*& kernel, std::size_t& tile) {
  const std::size_t n = lanes_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t l = (cursor_ + i) % n;
    auto& fifo = lanes_[l].fifo;
    if (fifo.empty()) continue;
    Kernel& k = fifo.front();
    if (k.marker || k.next >= k.tiles.size()) continue;
    lane = l;
    kernel = &k;
    tile = k.next++;
    cursor_ = (l + 1) % n;  // the next tile comes from the next lane with work
    return true;
  }
  return false;
}

void CpuDevice::retire_front(Lane& lane) {
  lane.fifo.pop_front();
  --busy_;
  while (!lane.fifo.empty() && lane.fifo.front().marker) {
    completed_.push_back({lane.fifo.front().ticket, now()});
    lane.fifo.pop_front();
  }
}

void CpuDevice::run(const Tile& t) {
  if (t.copy) {
    std::memcpy(t.dst, t.src, t.bytes);
    return;
  }
  cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, t.m, t.n, t.k, 1.0f, t.a, t.lda, t.b,
              t.ldb, 0.0f, t.c, t.ldc);
}

void CpuDevice::worker() {
  // Under a real-time policy (scripts/validate.sh runs the CPU measurement with chrt -f),
  // workers run one priority below the thread that created them, so the dispatcher -- the
  // host that launches kernels and stamps completions -- never waits behind a spinning
  // worker, as a GPU's host thread never waits for the GPU's schedulers.
  int policy = 0;
  sched_param param{};
  if (pthread_getschedparam(pthread_self(), &policy, &param) == 0 &&
      (policy == SCHED_FIFO || policy == SCHED_RR) && param.sched_priority > 1) {
    --param.sched_priority;
    pthread_setschedparam(pthread_self(), policy, &param);
  }
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    std::size_t lane = 0, index = 0;
    Kernel* kernel = nullptr;
    while (!stop_ && !take(lane, kernel, index)) {
      // Spin a little before sleeping: the next kernel of a chain usually comes within
      // microseconds, and waking a sleeping thread (an idle vCPU in a VM) costs far more.
      const std::uint64_t seen = epoch_of_work_.load(std::memory_order_acquire);
      lock.unlock();
      const auto until = std::chrono::steady_clock::now() + kSpin;
      while (epoch_of_work_.load(std::memory_order_acquire) == seen &&
             std::chrono::steady_clock::now() < until) {
      }
      lock.lock();
      if (epoch_of_work_.load(std::memory_order_acquire) != seen || stop_) continue;
      work_cv_.wait(lock);
    }
    if (stop_) return;
    const Tile tile = kernel->tiles[index];
    lock.unlock();
    run(tile);
    lock.lock();
    // The kernel stays at its lane's front until its last tile is done (deque references
    // survive pushes at the back), so `kernel` is still valid here.
    if (--kernel->left == 0) {
      const std::size_t before = completed_.size();
      retire_front(lanes_[lane]);
      if (completed_.size() > before || busy_ == 0) done_cv_.notify_all();
      // The lane's next kernel may start: wake the other workers.
      if (!lanes_[lane].fifo.empty()) {
        epoch_of_work_.fetch_add(1, std::memory_order_release);
        work_cv_.notify_all();
      }
    }
  }
}

void CpuDevice::wait(SimTime until, std::vector<Completion>& done) {
  std::unique_lock<std::mutex> lock(mu_);
  if (until >= kTimeMax / 2) {  // no deadline: until a marker completes
    done_cv_.wait(lock, [this] { return !completed_.empty(); });
  } else {
    const auto deadline = epoch_ + std::chrono::nanoseconds(until);
    while (completed_.empty() && std::chrono::steady_clock::now() < deadline) {
      done_cv_.wait_until(lock, deadline);
    }
  }
  done.insert(done.end(), completed_.begin(), completed_.end());
  completed_.clear();
}

void CpuDevice::synchronize() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return busy_ == 0; });
}

}  // namespace infersim::validation
