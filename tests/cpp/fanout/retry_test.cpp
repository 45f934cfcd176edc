// Retry: which create outcomes may be resent blindly, and the backoff before a resend.

#include "fanout/retry.h"

#include <gtest/gtest.h>

#include <chrono>

namespace twiliocore::internal {
namespace {

using namespace std::chrono_literals;

Error ApiErr(long status, int code) {
  Error e;
  e.category = ErrorCategory::kApi;
  e.http_status = status;
  e.twilio_code = code;
  e.message = "api error";
  return e;
}

Error TransportErr(TransportStage stage, ErrorCategory category = ErrorCategory::kTransport) {
  Error e;
  e.category = category;
  e.stage = stage;
  e.message = "transport error";
  return e;
}

TEST(ClassifyOutcomeTest, RetriesBlindlyOnlyWhatWasNeverProcessed) {
  EXPECT_EQ(ClassifyOutcome(Error{}), OutcomeClass::kSuccess);
  EXPECT_EQ(ClassifyOutcome(ApiErr(429, 20429)), OutcomeClass::kRetryable);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kResolve)), OutcomeClass::kRetryable);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kConnect)), OutcomeClass::kRetryable);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kTls, ErrorCategory::kTls)),
            OutcomeClass::kRetryable);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kConnect, ErrorCategory::kTimeout)),
            OutcomeClass::kRetryable);
}

TEST(ClassifyOutcomeTest, AmbiguousOutcomesAreNotBlindlyRetried) {
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kReceive)), OutcomeClass::kAmbiguous);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kSend)), OutcomeClass::kAmbiguous);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kReceive, ErrorCategory::kTimeout)),
            OutcomeClass::kAmbiguous);
  for (long status : {500L, 502L, 503L, 504L}) {
    EXPECT_EQ(ClassifyOutcome(ApiErr(status, 0)), OutcomeClass::kAmbiguous) << status;
  }
}

TEST(ClassifyOutcomeTest, PermanentAndFatalErrorsAreNeverRetried) {
  EXPECT_EQ(ClassifyOutcome(ApiErr(400, 21211)), OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyOutcome(ApiErr(400, 21610)), OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyOutcome(ApiErr(404, 20404)), OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyOutcome(ApiErr(400, 21611)), OutcomeClass::kQueueFull);
  EXPECT_EQ(ClassifyOutcome(ApiErr(401, 20003)), OutcomeClass::kFatal);
  EXPECT_EQ(ClassifyOutcome(ApiErr(403, 20003)), OutcomeClass::kFatal);
}

TEST(BackoffDelayTest, FullJitterWithinExponentialCeilingAndCap) {
  using std::chrono::milliseconds;
  EXPECT_EQ(BackoffDelay(0, 100ms, 10s, 0.0), 0ms);
  EXPECT_EQ(BackoffDelay(0, 100ms, 10s, 0.5), 50ms);
  EXPECT_EQ(BackoffDelay(3, 100ms, 10s, 0.5), 400ms);
  EXPECT_EQ(BackoffDelay(20, 100ms, 10s, 0.5), 5000ms);  // capped
  EXPECT_LT(BackoffDelay(20, 100ms, 10s, 0.999999), 10000ms);
  EXPECT_EQ(BackoffDelay(-5, 100ms, 10s, 1.0), 100ms);
}

}  // namespace
}  // namespace twiliocore::internal
