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
// Every layout: always a heap (sorted_max 0), the default, and always sorted.
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

}  // namespace
}  // namespace infersim
