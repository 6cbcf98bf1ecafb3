// The future event list. Events are small values ordered totally by
// (time, priority, insertion sequence): equal-time events fire by priority level, then in
// the order they were scheduled. The queue is an array reserved up front and reused (sorted
// while short, a heap when long), so scheduling allocates nothing in steady state.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sim/core/time.h"

namespace infersim {

// Priority levels at one instant: completions free resources first, then arrivals join
// queues, then policies decide with everything that happened at that instant in view.
enum class Priority : std::uint8_t {
  kCompletion = 0,
  kArrival = 1,
  kTimer = 2,     // policy timers (quantum ends, batch timeouts)
  kDispatch = 3,  // scheduling decisions (the engine keeps them in a FIFO beside this queue)
};

struct Event {
  SimTime time;
  std::uint64_t key;      // priority in the top 8 bits, insertion sequence below
  std::uint32_t kind;     // engine-level dispatch tag
  std::uint32_t target;   // tenant or GPU index
  std::uint64_t payload;  // meaning chosen by the target

  Priority priority() const { return static_cast<Priority>(key >> 56); }
  bool before(const Event& o) const { return time < o.time || (time == o.time && key < o.key); }
};

// The pending events, in one of two layouts chosen by their number:
//   - at most kSortedMax (24): an array sorted latest first, so the earliest is at the back. A
//     pop is a pop_back; a push shifts the earlier events one place up, scanning from the
//     back. A cluster part of a few tenants (each with one pending arrival) stays here,
//     where a pop costs a few instructions instead of a heap's sift-down.
//   - above: a 4-ary min-heap. Four children per node halve the depth of a binary heap:
//     with 10,000 pending arrivals (one per tenant) a pop walks 7 levels instead of 14,
//     and a node's children share a cache line pair. Beside it the queue may hold one
//     event pushed as the earliest of all (push_heap), which then skips the heap.
// The sorted array reversed is a valid heap, so growing past that switches layouts in
// one pass; the queue returns to the sorted layout when it empties. Cancellation is by flag
// in the owner (a generation number in the payload), which keeps both layouts plain
// arrays. Either layout gives the same order: events are totally ordered by (time,
// priority, insertion sequence), and the keys are unique.
class EventQueue {
 public:
  // Events a sorted queue holds before it becomes a heap. `infersim_bench queue 30000000`
  // holds n pending events (pop the earliest, push one later); two runs on this project's
  // 2-core VM (2026-11-26, 06:30 UTC, with the branch-free heap pop), seconds for 30 M
  // holds, sorted against heap:
  //   n = 8:  0.49 against 0.54-0.62      n = 32:  0.77-0.81 against 0.97-1.10
  //   n = 16: 0.70 against 0.95-0.98      n = 48:  0.94-1.36 against 1.15-1.27
  //   n = 24: 0.59-0.62 against 0.84-1.00 n = 128: 2.01-2.24 against 1.25
  // The sorted layout wins clearly up to 32 and loses from about 64 on; 24 keeps a margin.
  static constexpr std::size_t kSortedMax = 24;

  // sorted_max: the most events held sorted (the tests and the bench force either layout).
  explicit EventQueue(std::size_t sorted_max = kSortedMax) : sorted_max_(sorted_max) {
    q_.reserve(1024);
  }

  bool empty() const { return q_.empty(); }  // (an event is held only beside others)
  std::size_t size() const { return q_.size() + std::size_t{held_}; }
  // Whether the events are held as a heap (more than sorted_max of them since the queue was
  // last empty); for the tests.
  bool is_heap() const { return !sorted_; }
  // The earliest pending event's time; kTimeMax when none is pending.
  SimTime next_time() const {
    if (q_.empty()) return kTimeMax;
    if (sorted_) return q_.back().time;
    return held_ ? min_.time : q_.front().time;
  }

  // The earliest pending event (the next pop()), or null when none is pending.
  const Event* peek() const {
    if (q_.empty()) return nullptr;
    if (sorted_) return &q_.back();
    return held_ ? &min_ : &q_.front();
  }

  // Adds an event at `time` (>= 0).
  void push(SimTime time, Priority prio, std::uint32_t kind, std::uint32_t target,
            std::uint64_t payload) {
    assert(seq_ < (1ULL << 56));
    assert(time >= 0);  // the clock starts at 0 and the engine schedules nothing in the past
    const std::uint64_t key = (static_cast<std::uint64_t>(prio) << 56) | seq_++;
    if (sorted_ && q_.size() < sorted_max_) {
      insert_sorted(Event{time, key, kind, target, payload});
    } else {
      push_heap(time, key, kind, target, payload);
    }
  }

  Event pop() {
    if (sorted_) {
      const Event top = q_.back();
      q_.pop_back();
      return top;
    }
    if (held_) {  // the earliest, held beside the heap (push_heap)
      held_ = false;
      return min_;
    }
    Event top = q_.front();
    Event last = q_.back();
    q_.pop_back();
    if (q_.empty()) {
      sorted_ = true;
    } else {
      sift_down(last);
    }
    return top;
  }

 private:
  static constexpr std::size_t kArity = 4;

  // Heap layout (switching to it first when the queue is sorted): adds e. Out of line: the
  // short queues that stay sorted keep push small enough to inline.
  //
  // In the heap layout one event may be held beside the heap, in min_: the earliest of
  // all, when it was pushed as such. A pushed event earlier than every pending one is
  // usually the next to go (in a trace-driven cluster, the next arrival of its one stream,
  // a microsecond ahead of completions milliseconds ahead), and holding it spares the
  // sift up to the root and the sift down after popping it. The order is unchanged: the
  // held event is earlier than every event in the heap, and pop() takes it first.
  //
  // The event comes in its fields (registers), not as an Event in memory: the caller
  // would store it field by field and this function load it 16 bytes at a time, a load
  // no store can forward to, which stalls until the stores retire. `perf record` of
  // `infersim_bench trace 10000000`: push_heap fell from 9.9% of the samples to 3.0%.
  [[gnu::noinline]] void push_heap(SimTime time, std::uint64_t key, std::uint32_t kind,
                                   std::uint32_t target, std::uint64_t payload) {
    const Event e{time, key, kind, target, payload};
    if (sorted_) {
      std::reverse(q_.begin(), q_.end());  // earliest first: a heap
      sorted_ = false;
    }
    if (held_) {
      if (!earlier(e, min_)) {
        heap_add(e);
        return;
      }
      heap_add(min_);                                    // e is the earliest now
    } else if (q_.empty() || !earlier(e, q_.front())) {  // (none is held alone)
      heap_add(e);
      return;
    }
    hold(e);
  }
  // Stores e as the held event in two 16-byte stores. It is usually popped by the next
  // pop(), a few dozen instructions later, which copies it 16 bytes at a time: a load that
  // spans several narrower stores cannot take their data from the store buffer and waits
  // for them to retire. `perf annotate` of `infersim_bench trace 10000000`: 14% of
  // Engine::drain's samples sat on that copy when min_ was stored field by field.
  void hold(const Event& e) {
#if defined(__SSE2__)
    const __m128i lo = _mm_set_epi64x(static_cast<long long>(e.key), e.time);
    const __m128i hi =
        _mm_set_epi64x(static_cast<long long>(e.payload),
                       static_cast<long long>((std::uint64_t{e.target} << 32) | e.kind));
    static_assert(offsetof(Event, key) == 8 && offsetof(Event, kind) == 16 &&
                  offsetof(Event, target) == 20 && offsetof(Event, payload) == 24);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&min_), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&min_) + 1, hi);
#else
    min_ = e;
#endif
    held_ = true;
  }
  void heap_add(const Event& e) {
    q_.push_back(e);
    sift_up(q_.size() - 1, e);
  }

  // Sorted layout: moves the events earlier than `e` one place towards the back and puts
  // `e` before them.
  void insert_sorted(const Event& e) {
    std::size_t i = q_.size();
    q_.push_back(e);
    while (i > 0 && q_[i - 1].before(e)) {
      q_[i] = q_[i - 1];
      --i;
    }
    q_[i] = e;
  }

  // Heap layout: moves `e`, just stored at q_[i], up to its place (e is passed rather than
  // read back from q_[i]: a read after the store costs one load per field).
  void sift_up(std::size_t i, Event e) {
    while (i > 0) {
      std::size_t parent = (i - 1) / kArity;
      if (!e.before(q_[parent])) break;
      q_[i] = q_[parent];
      i = parent;
    }
    q_[i] = e;
  }
  // Event::before without a branch: (time, key) as one 128-bit unsigned number, which
  // orders as the pair does because times are never negative (push()): one compare and
  // one borrow. Callgrind (--branch-sim) of a copy of the bench's hold loop, heap layout, 2 M
  // holds at each of 128, 512 and 2,048 pending events: 2.07 G instructions and 6.7 M
  // mispredicted branches; 2.54 G and 21.1 M with `x.time < y.time | (x.time == y.time &
  // x.key < y.key)`; 2.68 G and 35.2 M with before() and a linear scan of the children.
  static bool earlier(const Event& x, const Event& y) {
    __extension__ typedef unsigned __int128 u128;  // GCC and Clang, x86-64 and ARM64
    const u128 a = (u128{static_cast<std::uint64_t>(x.time)} << 64) | x.key;
    const u128 b = (u128{static_cast<std::uint64_t>(y.time)} << 64) | y.key;
    return a < b;
  }
  // Heap layout: places `e` (the former last element) starting from the root. Where a
  // node has all four children (all but the last of a level), the earliest is found by a
  // tournament of three comparisons whose outcomes select with conditional moves, not
  // branches: which child is earliest is a coin toss, and mispredicted branches were most of
  // a pop's cost at a few hundred pending events (a trace-driven cluster holds ~500).
  void sift_down(const Event& e) {
    Event* const h = q_.data();
    const std::size_t n = q_.size();
    std::size_t i = 0;
    for (;;) {
      const std::size_t first = kArity * i + 1;
      std::size_t best;
      if (first + kArity <= n) {
        const std::size_t a = first + std::size_t{earlier(h[first + 1], h[first])};
        const std::size_t b = first + 2 + std::size_t{earlier(h[first + 3], h[first + 2])};
        best = earlier(h[b], h[a]) ? b : a;
      } else if (first < n) {
        best = first;
        for (std::size_t c = first + 1; c < n; ++c) {
          if (h[c].before(h[best])) best = c;
        }
      } else {
        break;
      }
      if (!h[best].before(e)) break;
      h[i] = h[best];
      i = best;
    }
    h[i] = e;
  }

  std::vector<Event> q_;
  Event min_{};  // heap layout: the earliest event, when held_ (push_heap)
  bool held_ = false;
  std::size_t sorted_max_;
  bool sorted_ = true;  // the layout: sorted latest first, or a 4-ary min-heap
  std::uint64_t seq_ = 0;
};

}  // namespace infersim
