#include "twiliocore/error.h"

#include <utility>

namespace twiliocore {

const char* CategoryName(ErrorCategory category) noexcept {
  switch (category) {
    case ErrorCategory::kNone: return "none";
    case ErrorCategory::kInvalidArgument: return "invalid_argument";
    case ErrorCategory::kTransport: return "transport";
    case ErrorCategory::kTimeout: return "timeout";
    case ErrorCategory::kTls: return "tls";
    case ErrorCategory::kApi: return "api";
    case ErrorCategory::kCancelled: return "cancelled";
  }
  return "unknown";
}

Exception::Exception(Error error) : std::runtime_error(error.message), error_(std::move(error)) {}

InvalidPhoneNumber::InvalidPhoneNumber(std::string number, std::string reason)
    : std::invalid_argument("invalid phone number: " + reason),
      number_(std::move(number)),
      reason_(std::move(reason)) {}

void ThrowError(Error error) {
  switch (error.category) {
    case ErrorCategory::kApi: throw ApiError(std::move(error));
    case ErrorCategory::kCancelled: throw CancelledError(std::move(error));
    case ErrorCategory::kInvalidArgument: throw std::invalid_argument(error.message);
    default: throw TransportError(std::move(error));
  }
}

}  // namespace twiliocore
