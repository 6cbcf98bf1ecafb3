// The future event list. Events are small values ordered totally by
// (time, priority, insertion sequence): equal-time events fire by priority level, then in
// the order they were scheduled. The default queue is a binary heap over a vector that is
// reserved up front and reused, so scheduling allocates nothing in steady state.
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

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

// A 4-ary min-heap. Cancellation is by flag in the owner (a generation number in the
// payload), which keeps the heap a plain array. Four children per node halve the depth of a
// binary heap: with 10,000 pending arrivals (one per tenant) a pop walks 7 levels instead
// of 14, and a node's children share a cache line pair. Any heap gives the same order:
// events are totally ordered by (time, priority, insertion sequence).
class EventQueue {
 public:
  EventQueue() { heap_.reserve(1024); }

  bool empty() const { return heap_.empty(); }
  // The earliest pending event's time; kTimeMax when none is pending.
  SimTime next_time() const { return heap_.empty() ? kTimeMax : heap_.front().time; }

  void push(SimTime time, Priority prio, std::uint32_t kind, std::uint32_t target,
            std::uint64_t payload) {
    assert(seq_ < (1ULL << 56));
    const Event e{time, (static_cast<std::uint64_t>(prio) << 56) | seq_++, kind, target, payload};
    heap_.push_back(e);
    sift_up(heap_.size() - 1, e);
  }

  Event pop() {
    Event top = heap_.front();
    Event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
    return top;
  }

 private:
  static constexpr std::size_t kArity = 4;

  // Moves `e`, just stored at heap_[i], up to its place (e is passed rather than read back
  // from heap_[i]: a read after the store costs one load per field).
  void sift_up(std::size_t i, Event e) {
    while (i > 0) {
      std::size_t parent = (i - 1) / kArity;
      if (!e.before(heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  // Places `e` (the former last element) starting from the root.
  void sift_down(const Event& e) {
    const std::size_t n = heap_.size();
    std::size_t i = 0;
    for (;;) {
      const std::size_t first = kArity * i + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t end = first + kArity < n ? first + kArity : n;
      for (std::size_t c = first + 1; c < end; ++c) {
        if (heap_[c].before(heap_[best])) best = c;
      }
      if (!heap_[best].before(e)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = e;
  }

  std::vector<Event> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace infersim
