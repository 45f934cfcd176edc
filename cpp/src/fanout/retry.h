#pragma once

/// @file
/// What a create outcome means for its recipient, and how long to wait before a safe resend.
/// Twilio's create has no idempotency key, so only outcomes Twilio guarantees were not
/// processed may be resent blindly; everything else is looked up first (or reported).

#include <chrono>

#include "twiliocore/error.h"

namespace twiliocore::internal {

/// What a create outcome means for the recipient.
enum class OutcomeClass {
  kSuccess,     ///< created
  kPermanent,   ///< Twilio refused it (4xx other than 429): never retried
  kRetryable,   ///< certainly not processed (429, resolve/connect/TLS failure): resend safely
  kQueueFull,   ///< 21611: the sender's queue at Twilio is full; resend once it drains
  kAmbiguous,   ///< may or may not have been created (timeout/reset after sending, 5xx)
  kFatal,       ///< no later request can succeed (401/403 authentication): stop the job
  kCancelled,   ///< the request was cancelled before an answer
};

/// Classifies a create outcome (pure). 500, 502, 503 and 504 are ambiguous: Twilio does not
/// document that any 5xx answer means the message was not created.
[[nodiscard]] OutcomeClass ClassifyOutcome(const Error& error) noexcept;

/// Exponential backoff with full jitter: a uniform delay in [0, min(cap, base * 2^attempt)).
/// `random01` in [0, 1). Pure.
[[nodiscard]] std::chrono::milliseconds BackoffDelay(int attempt, std::chrono::milliseconds base,
                                                     std::chrono::milliseconds cap,
                                                     double random01) noexcept;

}  // namespace twiliocore::internal
