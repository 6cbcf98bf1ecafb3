// The event list's total order: (time, priority, insertion sequence).
#include "sim/core/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
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
// interleaved pushes and pops (pops only ever remove the current minimum).
TEST(EventQueue, MatchesStableSortReference) {
  std::mt19937_64 g(3);
  EventQueue q;
  struct Ref {
    SimTime t;
    int prio;
    std::uint64_t seq;
  };
  std::vector<Ref> pending;
  std::uint64_t seq = 0;
  SimTime now = 0;
  for (int step = 0; step < 100000; ++step) {
    if (g() % 2 != 0 || pending.empty()) {
      SimTime t = now + static_cast<SimTime>(g() % 8);  // many ties
      int prio = static_cast<int>(g() % 4);
      q.push(t, static_cast<Priority>(prio), 0, 0, seq);
      pending.push_back({t, prio, seq++});
    } else {
      auto it = std::min_element(pending.begin(), pending.end(), [](const Ref& a, const Ref& b) {
        return std::tie(a.t, a.prio, a.seq) < std::tie(b.t, b.prio, b.seq);
      });
      Event e = q.pop();
      ASSERT_EQ(e.payload, it->seq);
      ASSERT_EQ(e.time, it->t);
      now = e.time;
      pending.erase(it);
    }
  }
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
