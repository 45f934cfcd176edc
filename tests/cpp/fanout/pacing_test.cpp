// Pacing: the per-sender pacer, the adaptive window, sender rates and duration estimates.

#include "fanout/pacing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace twiliocore::internal {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Pacer

TEST(PacerTest, UnpacedAlwaysAllowsNow) {
  Pacer pacer(0, 0s);
  const auto now = Clock::now();
  for (int i = 0; i < 100; ++i) pacer.Commit(now, 3);
  EXPECT_EQ(pacer.NextAllowed(now, 3), now);
  EXPECT_FALSE(pacer.paced());
  EXPECT_EQ(pacer.BacklogSeconds(now), 0.0);
}

TEST(PacerTest, ConfiguredRateSpacesMessagesBySegments) {
  Pacer pacer(2.0, 0s);  // 2 segments/s, paced from the start
  const auto t0 = Clock::now();
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0);
  pacer.Commit(t0, 1);
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0 + 500ms);
  pacer.Commit(t0 + 500ms, 3);  // a 3-segment message holds the sender 1.5 s
  EXPECT_EQ(pacer.NextAllowed(t0 + 500ms, 1), t0 + 2s);
  EXPECT_NEAR(pacer.BacklogSeconds(t0 + 500ms), 1.5, 1e-6);
}

TEST(PacerTest, DefaultModeBurstsUntilBacklogCapThenPacesToRate) {
  Pacer pacer(1.0, 10s);  // a 1-MPS long code, allow 10 s of queue at Twilio
  const auto t0 = Clock::now();
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(pacer.NextAllowed(t0, 1), t0) << i;
    pacer.Commit(t0, 1);
  }
  EXPECT_NEAR(pacer.BacklogSeconds(t0), 10.0, 1e-6);
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0 + 1s);  // the 11th waits for one to drain
  EXPECT_EQ(pacer.NextAllowed(t0 + 3s, 1), t0 + 3s);
}

TEST(PacerTest, RefundGivesBackRejectedSegments) {
  Pacer pacer(1.0, 0s);
  const auto t0 = Clock::now();
  pacer.Commit(t0, 2);
  pacer.Refund(t0, 2);
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0);
}

TEST(PacerTest, QueueFullAssumesBacklogAtCap) {
  Pacer pacer(1.0, 100s);
  const auto t0 = Clock::now();
  pacer.MarkFull(t0);
  EXPECT_NEAR(pacer.BacklogSeconds(t0), 100.0, 1e-6);
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0 + 1s);
}

TEST(PacerTest, MessageCostlierThanToleranceWaitsForEmptyQueue) {
  Pacer pacer(1.0, 0s);
  const auto t0 = Clock::now();
  pacer.Commit(t0, 5);
  EXPECT_EQ(pacer.NextAllowed(t0, 5), t0 + 5s);
}

TEST(DefaultSenderRateTest, FollowsTwiliosPerSenderDefaults) {
  EXPECT_EQ(DefaultSenderRate("+14155552671", ""), 1.0);   // US long code
  EXPECT_EQ(DefaultSenderRate("+18005550100", ""), 3.0);   // toll-free
  EXPECT_EQ(DefaultSenderRate("+18885550100", ""), 3.0);
  EXPECT_EQ(DefaultSenderRate("12345", ""), 100.0);        // short code
  EXPECT_EQ(DefaultSenderRate("+442079460958", ""), 10.0);
  EXPECT_EQ(DefaultSenderRate("", "MG0123456789abcdef0123456789abcdef"), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Window, estimate

TEST(AdaptiveWindowTest, HalvesOncePerBurstAndGrowsBack) {
  AdaptiveWindow w(64);
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 64; ++i) seqs.push_back(w.OnSubmit());
  for (auto s : seqs) w.OnThrottled(s);  // 64 429s from one window: one cut
  EXPECT_EQ(w.limit(), 32);
  auto s = w.OnSubmit();
  w.OnThrottled(s);  // a 429 for a request sent after the cut: cut again
  EXPECT_EQ(w.limit(), 16);
  for (int i = 0; i < 16; ++i) w.OnSuccess();
  EXPECT_EQ(w.limit(), 17);
  for (int i = 0; i < 10000; ++i) w.OnSuccess();
  EXPECT_EQ(w.limit(), 64);
}

TEST(AdaptiveWindowTest, NeverBelowOne) {
  AdaptiveWindow w(2);
  for (int i = 0; i < 5; ++i) w.OnThrottled(w.OnSubmit());
  EXPECT_EQ(w.limit(), 1);
}

TEST(EstimateDurationTest, TenThousandTwoSegmentMessagesFromOneLongCodeTakeOverFiveHours) {
  EXPECT_GT(EstimateDuration(10'000, 2, DefaultSenderRate("+14155552671", "")), 5 * 3600.0);
  EXPECT_EQ(EstimateDuration(10'000, 2, 0), 0.0);
}

}  // namespace
}  // namespace twiliocore::internal
