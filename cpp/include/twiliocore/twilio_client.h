#pragma once

/// @file
/// Twilio's REST API (2010-04-01 Messages and Accounts) as typed C++ calls on the HTTP
/// engine: form encoding exactly as Twilio expects, HTTP Basic auth, JSON results
/// (nlohmann::json), Twilio's error JSON mapped onto `twiliocore::Error`.
///
/// Every call has a sync form (throws `ApiError` / `TransportError` / `CancelledError`)
/// and an async form (callback with an `ApiResult` on the engine thread). The sync forms
/// must not be called from an engine callback.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "twiliocore/error.h"
#include "twiliocore/http_engine.h"
#include "twiliocore/secure_string.h"

namespace twiliocore {

/// Twilio's production API host.
inline constexpr std::string_view kDefaultBaseUrl = "https://api.twilio.com";

/// (name, value) form or query parameters in order; names may repeat (`MediaUrl`).
/// The same type as the signature unit's `Params`.
using FormParams = std::vector<std::pair<std::string, std::string>>;

/// `application/x-www-form-urlencoded` encoding of UTF-8 `params`: unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) kept, space as `+`, everything else `%XX`; repeated names stay
/// repeated, in order.
[[nodiscard]] std::string FormEncode(const FormParams& params);

/// Percent-encodes one component (space as `%20`), for paths and query values.
[[nodiscard]] std::string PercentEncode(std::string_view value);

/// Who calls: the account whose resources are addressed, and the Basic-auth pair (the
/// Account SID and auth token, or an API key SID `SK...` and its secret). Move-only.
struct Credentials {
  std::string account_sid;  ///< `AC...`: goes into resource paths
  std::string username;     ///< Basic-auth user; empty: `account_sid`
  SecureString password;    ///< auth token or API key secret
};

/// The result of one API call: the JSON answer or an error, plus what a retry policy needs.
struct ApiResult {
  nlohmann::json json;  ///< the parsed body on success (null for 204)
  Error error;          ///< set on failure (API, transport, timeout, TLS, cancelled)
  long http_status = 0;                      ///< 0 when no answer arrived
  std::chrono::milliseconds retry_after{-1};  ///< `Retry-After` when given, else negative
  /// True on a 2xx answer.
  [[nodiscard]] bool ok() const noexcept { return !error; }
};

/// Called once with the outcome, on the engine thread (see `http::Callback`).
using ApiCallback = std::function<void(ApiResult&&)>;

/// Parameters of POST /Accounts/{sid}/Messages.json. Empty strings are not sent.
struct MessageCreate {
  std::string to;                     ///< `To` (required): E.164 or `whatsapp:+E164`
  std::string from;                   ///< `From`; may be empty with a Messaging Service
  std::string messaging_service_sid;  ///< `MessagingServiceSid`
  std::string body;                   ///< `Body`, up to 1,600 characters
  std::vector<std::string> media_urls;  ///< `MediaUrl`, repeated, at most 10
  std::string status_callback;          ///< `StatusCallback`
  std::optional<int> validity_period;   ///< `ValidityPeriod`, seconds 1..36000
  /// Any other create parameter of the spec (`ContentSid`, `SendAt`, `ScheduleType`, ...),
  /// sent as given, after the named ones.
  FormParams extra;
};

/// Builds the form of a create. Throws `std::invalid_argument` naming the field when `To` is
/// missing, neither `From` nor `MessagingServiceSid` is given, neither `Body`, `MediaUrl` nor
/// `ContentSid` is given, more than 10 media URLs are given, or `ValidityPeriod` is outside
/// 1..36000.
[[nodiscard]] FormParams MessageCreateForm(const MessageCreate& create);

/// Filters and paging of GET /Accounts/{sid}/Messages.json. Empty strings are not sent.
struct MessageListQuery {
  std::string to;         ///< `To`
  std::string from;       ///< `From`
  std::string date_sent;  ///< `DateSent` (YYYY-MM-DD)
  std::string date_sent_before;  ///< `DateSent<`
  std::string date_sent_after;   ///< `DateSent>`
  int page_size = 0;             ///< `PageSize` 1..1000; 0: Twilio's default (50)
};

/// The REST client. Thread-safe: one instance may be used from any number of threads; it
/// holds no per-call state. Shares its engine (`std::shared_ptr`) with other clients and
/// the fan-out.
class TwilioClient {
 public:
  /// Throws `std::invalid_argument` naming the field when `account_sid` or the password is
  /// empty, or `base_url` does not start with http:// or https://.
  TwilioClient(std::shared_ptr<http::Engine> engine, Credentials credentials,
               std::string base_url = std::string(kDefaultBaseUrl));

  [[nodiscard]] const std::string& account_sid() const noexcept { return account_sid_; }
  [[nodiscard]] const std::string& base_url() const noexcept { return base_url_; }
  [[nodiscard]] const std::shared_ptr<http::Engine>& engine() const noexcept { return engine_; }

  // --- generic -------------------------------------------------------------------------

  /// Builds a request: `path` is relative to the base URL (`/2010-04-01/...`) or an
  /// absolute URL on the same host (Twilio's `next_page_uri` is a path); `query` goes into the
  /// URL, `form` into a POST body. Adds Basic auth and Twilio's Accept headers.
  [[nodiscard]] http::Request MakeRequest(std::string_view method, std::string_view path,
                                          const FormParams& query = {},
                                          const FormParams& form = {}) const;

  /// Turns an engine response into a result: 2xx JSON → `json`; Twilio error JSON →
  /// `kApi` error with status, code, message, more_info, details; non-JSON error bodies →
  /// "HTTP 502 from <url>: <text>"; transport errors pass through.
  [[nodiscard]] static ApiResult Interpret(http::Response&& response);

  /// Sends a built request; `callback` gets the interpreted result.
  http::RequestId Send(http::Request request, ApiCallback callback) const;

  /// Sends a built request and waits; throws on error.
  [[nodiscard]] nlohmann::json Call(http::Request request) const;

  // --- Messages --------------------------------------------------------------------------

  [[nodiscard]] http::Request CreateMessageRequest(const MessageCreate& create) const;
  /// The template of a create sent to many recipients (see `MessageCreateTemplate`).
  [[nodiscard]] class MessageCreateTemplate CreateMessageTemplate(MessageCreate fields) const;
  [[nodiscard]] http::Request FetchMessageRequest(std::string_view sid) const;
  /// POST Messages/{sid}.json with `params` (`Body=""` redacts, `Status=canceled` cancels).
  [[nodiscard]] http::Request UpdateMessageRequest(std::string_view sid,
                                                   const FormParams& params) const;
  [[nodiscard]] http::Request DeleteMessageRequest(std::string_view sid) const;
  /// First page of the list; later pages with `PageRequest(next_page_uri)`.
  [[nodiscard]] http::Request ListMessagesRequest(const MessageListQuery& query) const;
  /// GET of a `next_page_uri` / `previous_page_uri` Twilio returned.
  [[nodiscard]] http::Request PageRequest(std::string_view page_uri) const;
  [[nodiscard]] http::Request FetchAccountRequest(std::string_view sid) const;

  /// Sync forms: return the resource JSON (the page JSON for lists); throw on error.
  nlohmann::json CreateMessage(const MessageCreate& create) const;
  nlohmann::json FetchMessage(std::string_view sid) const;
  nlohmann::json UpdateMessage(std::string_view sid, const FormParams& params) const;
  /// Returns normally on 204.
  void DeleteMessage(std::string_view sid) const;
  nlohmann::json ListMessagesPage(const MessageListQuery& query) const;
  /// Follows `next_page_uri` until `limit` messages (0: all) are collected.
  std::vector<nlohmann::json> ListMessages(const MessageListQuery& query, std::size_t limit = 0) const;
  nlohmann::json FetchAccount(std::string_view sid) const;

  /// Async forms.
  http::RequestId CreateMessageAsync(const MessageCreate& create, ApiCallback callback) const;
  http::RequestId FetchMessageAsync(std::string_view sid, ApiCallback callback) const;
  http::RequestId UpdateMessageAsync(std::string_view sid, const FormParams& params,
                                     ApiCallback callback) const;
  http::RequestId DeleteMessageAsync(std::string_view sid, ApiCallback callback) const;
  http::RequestId ListMessagesPageAsync(const MessageListQuery& query, ApiCallback callback) const;
  http::RequestId FetchAccountAsync(std::string_view sid, ApiCallback callback) const;

 private:
  [[nodiscard]] std::string MessagesPath() const;
  [[nodiscard]] std::string MessagePath(std::string_view sid) const;

  std::shared_ptr<http::Engine> engine_;
  std::string account_sid_;
  std::string username_;
  SecureString password_;
  std::string base_url_;
};

/// A create-message request prepared for many recipients: the URL, headers, credentials and
/// every form field but `To` (and a recipient's own `Body`) are encoded once. `Request(to)`
/// is byte for byte what `TwilioClient::CreateMessageRequest` builds for the same fields,
/// at a fraction of the work (the bulk fan-out builds one per recipient). Immutable: safe to
/// share between threads.
class MessageCreateTemplate {
 public:
  /// The fields as given (`to` is not used).
  [[nodiscard]] const MessageCreate& fields() const noexcept { return fields_; }
  /// The request for `to` with the template's body, or with `body` when given. Throws
  /// `std::invalid_argument` naming the field when `to` is empty, or when the body is empty
  /// and the template has neither media nor `ContentSid`.
  [[nodiscard]] http::Request Request(std::string_view to,
                                      std::optional<std::string_view> body = std::nullopt) const;
  /// The same request written into `request`, reusing its buffers: fields that already hold
  /// the template's values are not copied again and the body is rebuilt in place (the bulk
  /// fan-out's engine slots reuse one request object per slot). Same checks as `Request`,
  /// made before anything is written.
  void Fill(http::Request& request, std::string_view to,
            std::optional<std::string_view> body = std::nullopt) const;
  /// The checks of `Request`, without building anything.
  void Check(std::string_view to, std::optional<std::string_view> body = std::nullopt) const;

 private:
  friend class TwilioClient;
  MessageCreateTemplate() = default;

  MessageCreate fields_;
  std::string url_;
  std::string username_;
  SecureString password_;
  http::Headers headers_;
  std::string before_body_;  ///< encoded fields between `To` and `Body` ("&From=...")
  std::string body_;         ///< the encoded default body ("" when empty)
  std::string after_body_;   ///< encoded fields after `Body` ("&MediaUrl=...")
  bool body_optional_ = false;  ///< media or ContentSid present: an empty body is allowed
  std::uint64_t settings_id_ = 0;  ///< http::Request::settings_id of its requests (unique)
};

}  // namespace twiliocore
