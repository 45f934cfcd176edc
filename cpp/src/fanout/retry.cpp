#include "fanout/retry.h"

#include <algorithm>
#include <cmath>

namespace twiliocore::internal {

OutcomeClass ClassifyOutcome(const Error& error) noexcept {
  switch (error.category) {
    case ErrorCategory::kNone:
      return OutcomeClass::kSuccess;
    case ErrorCategory::kInvalidArgument:
      return OutcomeClass::kPermanent;
    case ErrorCategory::kCancelled:
      return error.NeverSent() ? OutcomeClass::kRetryable : OutcomeClass::kCancelled;
    case ErrorCategory::kTransport:
    case ErrorCategory::kTimeout:
    case ErrorCategory::kTls:
      // Only a failure before the request left (resolve/connect/TLS handshake) is safe.
      return error.NeverSent() ? OutcomeClass::kRetryable : OutcomeClass::kAmbiguous;
    case ErrorCategory::kApi:
      break;
  }
  const long status = error.http_status;
  if (status == 429) return OutcomeClass::kRetryable;  // 20429: "never processed"
  if (error.twilio_code == 21611) return OutcomeClass::kQueueFull;
  if (status == 401 || status == 403) return OutcomeClass::kFatal;
  if (status >= 500) return OutcomeClass::kAmbiguous;
  return OutcomeClass::kPermanent;
}

std::chrono::milliseconds BackoffDelay(int attempt, std::chrono::milliseconds base,
                                       std::chrono::milliseconds cap, double random01) noexcept {
  using std::chrono::milliseconds;
  if (attempt < 0) attempt = 0;
  double ceiling = static_cast<double>(base.count()) * std::pow(2.0, std::min(attempt, 30));
  ceiling = std::min(ceiling, static_cast<double>(cap.count()));
  random01 = std::clamp(random01, 0.0, 1.0);
  return milliseconds(static_cast<milliseconds::rep>(ceiling * random01));
}

}  // namespace twiliocore::internal
