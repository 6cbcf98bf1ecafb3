// The event list's total order: (time, priority, insertion sequence).
#include "sim/core/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "sim/core/ring_queue.h"

namespace infersim {
namespace {

TEST(EventQueue, EqualTimesFireByPriorityThenInsertion) {
  EventQueue q;
  q.push(10, Priority::kDispatch, 0, 0, 1);
  q.push(10, Priority::kArrival, 0, 0, 2);
  q.push(10, Priority::kCompletion, 0, 0, 3);
  q.push(10, Priority::kArrival, 0, 0, 4);
  q.push(5, Priority::kDispatch, 0, 0, 5);
  std::vector<std::uint64_t> order;
  while (!q.empty()) order.push_back(q.pop().payload);
  EXPECT_EQ(order, (std::vector<std::uint64_t>{5, 3, 2, 4, 1}));
}

// Against a reference: a stable sort by (time, priority) of everything pushed, under
// interleaved pushes and pops (pops only ever remove the current minimum). `grow` is the
// chance, in 1/8, that a step pushes: 4 keeps the queue a short random walk around the
// sorted layout's limit, 5 makes it grow through it to a heap of thousands, 3 drains it.
// Every layout: always a heap (sorted_max 0), the default, and always sorted. peek() names
// the event each pop() returns.
void check_against_reference(std::size_t sorted_max, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  EventQueue q(sorted_max);
  struct Ref {
    SimTime t;
    int prio;
    std::uint64_t seq;
  };
  std::vector<Ref> pending;
  std::uint64_t seq = 0;
  SimTime now = 0;
  bool was_heap = false, was_sorted_again = false;
  for (int step = 0; step < 60000; ++step) {
    const std::uint64_t grow = step < 20000 ? 4 : step < 40000 ? 5 : 3;
    if (g() % 8 < grow || pending.empty()) {
      SimTime t = now + static_cast<SimTime>(g() % 8);  // many ties
      int prio = static_cast<int>(g() % 4);
      q.push(t, static_cast<Priority>(prio), 0, 0, seq);
      pending.push_back({t, prio, seq++});
    } else {
      auto it = std::min_element(pending.begin(), pending.end(), [](const Ref& a, const Ref& b) {
        return std::tie(a.t, a.prio, a.seq) < std::tie(b.t, b.prio, b.seq);
      });
      ASSERT_EQ(q.next_time(), it->t);
      const Event* next = q.peek();  // the event pop() returns, in every layout
      ASSERT_NE(next, nullptr);
      ASSERT_EQ(next->payload, it->seq);
      Event e = q.pop();
      ASSERT_EQ(e.payload, it->seq);
      ASSERT_EQ(e.time, it->t);
      now = e.time;
      pending.erase(it);
    }
    ASSERT_EQ(q.size(), pending.size());
    // The layout follows the rule: a heap once more than sorted_max were pending, sorted
    // again once it emptied.
    if (q.is_heap()) was_heap = true;
    if (was_heap && q.empty()) was_sorted_again = true;
    if (q.size() > sorted_max) {
      ASSERT_TRUE(q.is_heap());
    }
    if (q.empty()) {
      ASSERT_FALSE(q.is_heap());
      ASSERT_EQ(q.peek(), nullptr);
    }
  }
  if (sorted_max == EventQueue::kSortedMax) {  // the walk went through both layouts
    EXPECT_TRUE(was_heap);
    EXPECT_TRUE(was_sorted_again);
  }
}

TEST(EventQueue, MatchesStableSortReference) {
  for (std::uint64_t seed : {3, 4, 5}) {
    check_against_reference(0, seed);
    check_against_reference(EventQueue::kSortedMax, seed);
    check_against_reference(SIZE_MAX, seed);
  }
}

// Growing past the sorted layout turns it into a heap without losing or reordering an
// event: 24 pending (sorted), the 25th push switches, then every event comes out in order.
TEST(EventQueue, GrowingPastTheSortedLimitKeepsTheOrder) {
  EventQueue q;
  const std::size_t n = EventQueue::kSortedMax + 1;
  for (std::size_t i = 0; i < n; ++i) {
    q.push(static_cast<SimTime>((i * 7) % n), Priority::kArrival, 0, 0, i);  // times 0..24
    EXPECT_EQ(q.is_heap(), i + 1 > EventQueue::kSortedMax) << i;
  }
  for (std::size_t t = 0; t < n; ++t) {
    const Event e = q.pop();
    EXPECT_EQ(e.time, static_cast<SimTime>(t));
    EXPECT_EQ((e.payload * 7) % n, t);  // the event pushed with time t
  }
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.is_heap());
}

TEST(RingQueue, FifoThroughGrowth) {
  RingQueue<int> r;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 37; ++i) r.push_back(next_in++);
    for (int i = 0; i < 30; ++i) ASSERT_EQ(r.pop_front(), next_out++);
  }
  ASSERT_EQ(r.size(), static_cast<std::size_t>(next_in - next_out));
  for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i], next_out + static_cast<int>(i));
}

// pop_front_into(n) takes the same values as n pop_front() calls, also when they wrap
// around the end of the ring: 16 slots, 11 values in and out first, so the head sits at 11
// and 10 values run over slots 11..15 and 0..4.
TEST(RingQueue, PopFrontIntoTakesTheOldestInOrderAcrossTheWrap) {
  RingQueue<int> r;
  for (int i = 0; i < 11; ++i) r.push_back(i);
  for (int i = 0; i < 11; ++i) ASSERT_EQ(r.pop_front(), i);
  for (int i = 100; i < 110; ++i) r.push_back(i);
  std::vector<int> out{-1};  // appended to, not cleared
  r.pop_front_into(7, out);
  EXPECT_EQ(out, (std::vector<int>{-1, 100, 101, 102, 103, 104, 105, 106}));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.front(), 107);
  r.push_back(110);  // the tail, still in the wrapped part
  out.clear();
  r.pop_front_into(4, out);
  EXPECT_EQ(out, (std::vector<int>{107, 108, 109, 110}));
  EXPECT_TRUE(r.empty());
  r.pop_front_into(0, out);
  EXPECT_EQ(out.size(), 4u);
}

// Sixteen ints fit inside the queue (64 bytes); the 17th moves the ring to the heap. A
// moved queue keeps its values in order, wrapped or not, inline or on the heap, and the
// queue moved from is empty and usable. (Under `make sanitize`, ASan checks that the heap
// ring is freed once, by its last owner.)
TEST(RingQueue, MovesKeepTheValuesInlineAndOnTheHeap) {
  auto filled = [](int pops, int values) {  // head at `pops`, `values` queued from 1000
    RingQueue<int> r;
    for (int i = 0; i < pops; ++i) r.push_back(-1);
    for (int i = 0; i < pops; ++i) r.pop_front();
    for (int i = 0; i < values; ++i) r.push_back(1000 + i);
    return r;
  };
  auto expect_values = [](const RingQueue<int>& r, int values) {
    ASSERT_EQ(r.size(), static_cast<std::size_t>(values));
    for (int i = 0; i < values; ++i) EXPECT_EQ(r[static_cast<std::size_t>(i)], 1000 + i);
  };
  // Inline and wrapped: head at 12, 10 values over slots 12..15 and 0..5.
  RingQueue<int> a = filled(12, 10);
  RingQueue<int> b(std::move(a));
  expect_values(b, 10);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty, reusable
  a.push_back(7);
  EXPECT_EQ(a.pop_front(), 7);
  // On the heap: 40 values, two doublings (16 -> 32 -> 64).
  RingQueue<int> c = filled(5, 40);
  expect_values(c, 40);
  RingQueue<int> d;
  d.push_back(1);
  d = std::move(c);  // replaces d's inline values
  expect_values(d, 40);
  EXPECT_TRUE(c.empty());  // NOLINT(bugprone-use-after-move)
  // Move-assigning over a heap ring frees it; the inline values arrive intact.
  d = filled(3, 16);
  expect_values(d, 16);
  std::vector<RingQueue<int>> many;  // reallocations move every queue
  for (int i = 0; i < 50; ++i) many.push_back(filled(i % 17, i));
  for (int i = 0; i < 50; ++i) expect_values(many[static_cast<std::size_t>(i)], i);
}

}  // namespace
}  // namespace infersim
