// The event stack: outcomes posted from any thread reach the coordinator once each, in order,
// and its sleep ends for a batch, an interrupt or the deadline.

#include "fanout/event_stack.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <thread>
#include <vector>

namespace twiliocore::internal {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Event CreateEvent(std::uint64_t id) {
  Event event;
  event.id = id;
  event.create.sid = "SM" + std::to_string(id);
  return event;
}

TEST(EventStackTest, EveryPostFromManyThreadsIsTakenOnceInEachThreadsOrder) {
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPerThread = 2000;
  EventStack stack;
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&stack, t] {
      for (std::uint64_t i = 0; i < kPerThread; ++i) {
        stack.Post(CreateEvent(static_cast<std::uint64_t>(t) * 1'000'000 + i));
      }
    });
  }
  std::vector<Event> taken;
  const auto deadline = Clock::now() + 30s;
  while (taken.size() < kThreads * kPerThread && Clock::now() < deadline) {
    stack.WaitUntil(64, Clock::now() + 1ms, [] { return false; });
    stack.TakeAll(taken);
  }
  for (auto& poster : posters) poster.join();
  stack.TakeAll(taken);
  ASSERT_EQ(taken.size(), kThreads * kPerThread);
  std::map<std::uint64_t, std::uint64_t> next;  // thread -> the index expected next
  for (const Event& event : taken) {
    const std::uint64_t thread = event.id / 1'000'000;
    const std::uint64_t index = event.id % 1'000'000;
    ASSERT_EQ(index, next[thread]) << "thread " << thread;
    ASSERT_EQ(event.create.sid, "SM" + std::to_string(event.id));
    ++next[thread];
  }
}

TEST(EventStackTest, SleepEndsForABatchAnInterruptOrTheDeadline) {
  EventStack stack;
  // A batch: three outcomes wake a sleep waiting for three, long before its deadline.
  std::thread poster([&stack] {
    std::this_thread::sleep_for(20ms);
    for (std::uint64_t i = 0; i < 3; ++i) stack.Post(CreateEvent(i));
  });
  auto begin = Clock::now();
  stack.WaitUntil(3, begin + 20s, [] { return false; });
  EXPECT_LT(Clock::now() - begin, 10s);
  poster.join();
  std::vector<Event> taken;
  stack.TakeAll(taken);
  EXPECT_EQ(taken.size(), 3u);

  // An interrupt: the flag set through Interrupt wakes a sleep that no outcome would end.
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(20ms);
    stack.Interrupt([&] { cancel = true; });
  });
  begin = Clock::now();
  stack.WaitUntil(100, begin + 20s, [&] { return cancel.load(); });
  EXPECT_LT(Clock::now() - begin, 10s);
  EXPECT_TRUE(cancel.load());
  canceller.join();

  // Neither: the sleep lasts until the deadline. Outcomes announced for a transport's own ring
  // count until taken.
  stack.Arrived(2);
  begin = Clock::now();
  stack.WaitUntil(3, begin + 50ms, [] { return false; });
  EXPECT_GE(Clock::now() - begin, 50ms);
  stack.Taken(2);
  begin = Clock::now();
  stack.WaitUntil(1, begin + 50ms, [] { return false; });
  EXPECT_GE(Clock::now() - begin, 50ms);
}

}  // namespace
}  // namespace twiliocore::internal
