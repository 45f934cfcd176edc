#pragma once

/// @file
/// The one error model of the core. An `Error` is a value (per-recipient bulk
/// results carry one); single calls throw the matching exception type below.
/// The Python bindings translate these in one place (cpp/bindings/bind_errors.cpp).

#include <stdexcept>
#include <string>

namespace twiliocore {

/// What went wrong, coarsely: decides the Python exception class and whether a
/// retry can be safe.
enum class ErrorCategory {
  kNone = 0,         ///< no error
  kInvalidArgument,  ///< bad input caught before any request (phone number, parameter)
  kTransport,        ///< DNS, connect, send or receive failure
  kTimeout,          ///< connect or total timeout
  kTls,              ///< TLS handshake or certificate verification failure
  kApi,              ///< Twilio answered with an error status (4xx/5xx)
  kCancelled,        ///< cancelled by the caller or by engine shutdown
};

/// Which transport step failed; lets the fan-out tell "never left" from "ambiguous".
enum class TransportStage {
  kNone = 0,
  kResolve,   ///< DNS lookup failed: the request never left
  kConnect,   ///< TCP connect refused/unreachable: the request never left
  kTls,       ///< TLS handshake/verification failed: the request never left
  kSend,      ///< failure while sending: the server may or may not have it
  kReceive,   ///< failure after sending (reset, timeout, empty reply): ambiguous
};

/// An error as a value. `explicit operator bool` is true when it holds an error.
struct Error {
  ErrorCategory category = ErrorCategory::kNone;
  TransportStage stage = TransportStage::kNone;
  long http_status = 0;   ///< HTTP status when Twilio answered, else 0
  int twilio_code = 0;    ///< Twilio error code (e.g. 21211), 0 when none
  std::string message;    ///< human-readable; never contains credentials
  std::string more_info;  ///< Twilio's more_info URL when given
  std::string url;        ///< request URL, credentials stripped
  std::string method;     ///< HTTP method of the failed request
  std::string details;    ///< raw error body (JSON text) when Twilio sent one

  [[nodiscard]] explicit operator bool() const noexcept { return category != ErrorCategory::kNone; }

  /// True when the request certainly did not reach Twilio (safe to resend).
  [[nodiscard]] bool NeverSent() const noexcept {
    return stage == TransportStage::kResolve || stage == TransportStage::kConnect ||
           stage == TransportStage::kTls;
  }
};

/// Name of a category, for messages and logs ("transport", "timeout", ...).
[[nodiscard]] const char* CategoryName(ErrorCategory category) noexcept;

/// Base of every exception thrown by the core; carries the full `Error`.
class Exception : public std::runtime_error {
 public:
  explicit Exception(Error error);
  [[nodiscard]] const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// Twilio answered with an error status; `error()` holds status, code, more_info.
class ApiError : public Exception {
 public:
  using Exception::Exception;
};

/// The request failed below HTTP (DNS, connect, reset, TLS, timeout).
class TransportError : public Exception {
 public:
  using Exception::Exception;
};

/// The request was cancelled (by the caller or engine shutdown).
class CancelledError : public Exception {
 public:
  using Exception::Exception;
};

/// A phone number that cannot be used; `reason()` is libphonenumber's reason.
class InvalidPhoneNumber : public std::invalid_argument {
 public:
  InvalidPhoneNumber(std::string number, std::string reason);
  [[nodiscard]] const std::string& number() const noexcept { return number_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::string number_;
  std::string reason_;
};

/// Throws the exception type matching `error.category`. Precondition: `error` holds an error.
[[noreturn]] void ThrowError(Error error);

}  // namespace twiliocore
