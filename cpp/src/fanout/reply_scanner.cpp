#include "fanout/reply_scanner.h"

#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace twiliocore::internal {

namespace {

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The plain string value after the key whose opening quote is at `key_at` and closing quote
// at `key_end - 1` (`"key": "value"`), or nullopt: not a key (a string value is followed by
// ',' or '}', not ':'), an escaped quote, or a value that is not a plain string.
std::optional<std::string_view> ValueOfKeyAt(std::string_view json, std::size_t key_at,
                                             std::size_t key_end) {
  if (key_at > 0 && json[key_at - 1] == '\\') return std::nullopt;  // inside a string
  std::size_t pos = key_end;
  auto skip_ws = [&] {
    while (pos < json.size() &&
           (json[pos] == ' ' || json[pos] == '\n' || json[pos] == '\t' || json[pos] == '\r')) {
      ++pos;
    }
  };
  skip_ws();
  if (pos >= json.size() || json[pos] != ':') return std::nullopt;
  ++pos;
  skip_ws();
  if (pos >= json.size() || json[pos] != '"') return std::nullopt;
  const std::size_t close = json.find('"', pos + 1);
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view value = json.substr(pos + 1, close - pos - 1);
  if (value.find('\\') != std::string_view::npos) return std::nullopt;  // escaped: parse fully
  return value;
}

// The position of the last '"' in json[0, end), or npos.
std::size_t LastQuoteBefore(std::string_view json, std::size_t end) {
#if defined(__GLIBC__)
  const void* found = memrchr(json.data(), '"', end);  // vectorised, unlike a reverse find
  return found == nullptr ? std::string_view::npos
                          : static_cast<std::size_t>(static_cast<const char*>(found) - json.data());
#else
  return end == 0 ? std::string_view::npos : json.rfind('"', end - 1);
#endif
}

}  // namespace

// Quotes are visited from the end: Twilio writes keys in alphabetical order, which puts these
// two among the last, but any order is found. A key inside a string value would have escaped
// quotes, so it cannot match; a Message has no nested "sid"/"status".
bool ScanSidAndStatus(std::string_view json, std::string_view& sid, std::string_view& status) {
  constexpr std::string_view kSid = "\"sid\"";
  constexpr std::string_view kStatus = "\"status\"";
  bool have_sid = false;
  bool have_status = false;
  std::size_t end = json.size();
  while (end > 0 && !(have_sid && have_status)) {
    const std::size_t quote = LastQuoteBefore(json, end);
    if (quote == std::string_view::npos) break;
    end = quote;
    const std::string_view rest = json.substr(quote);
    if (!have_sid && rest.starts_with(kSid)) {
      if (auto value = ValueOfKeyAt(json, quote, quote + kSid.size())) {
        sid = *value;
        have_sid = true;
      }
    } else if (!have_status && rest.starts_with(kStatus)) {
      if (auto value = ValueOfKeyAt(json, quote, quote + kStatus.size())) {
        status = *value;
        have_status = true;
      }
    }
  }
  return have_sid && have_status;
}

void ReadCreateOutcome(http::Response&& response, CreateOutcome& out) {
  if (out.error) out.error = Error{};
  out.retry_after = std::chrono::milliseconds(-1);
  if (!response.error && response.status >= 200 && response.status < 300) {
    std::string_view sid;
    std::string_view status;
    if (ScanSidAndStatus(response.body, sid, status)) {
      out.sid.assign(sid);
      out.status.assign(status);
      return;
    }
  }
  out.sid.clear();
  out.status.clear();
  ApiResult result = TwilioClient::Interpret(std::move(response));
  out.error = std::move(result.error);
  out.retry_after = result.retry_after;
  if (!out.error) {
    out.sid = JsonString(result.json, "sid");
    out.status = JsonString(result.json, "status");
  }
}

CreateOutcome CreateOutcomeOf(http::Response&& response) {
  CreateOutcome out;
  ReadCreateOutcome(std::move(response), out);
  return out;
}

ListOutcome ListOutcomeOf(ApiResult&& result) {
  ListOutcome out;
  out.error = std::move(result.error);
  out.retry_after = result.retry_after;
  if (out.error) return out;
  auto it = result.json.find("messages");
  if (it == result.json.end() || !it->is_array()) {
    out.error.category = ErrorCategory::kApi;
    out.error.http_status = result.http_status;
    out.error.message = "message list without a 'messages' array";
    return out;
  }
  for (const auto& m : *it) {
    ListedMessage lm;
    lm.sid = JsonString(m, "sid");
    lm.to = JsonString(m, "to");
    lm.from = JsonString(m, "from");
    lm.body = JsonString(m, "body");
    lm.messaging_service_sid = JsonString(m, "messaging_service_sid");
    lm.status = JsonString(m, "status");
    lm.date_created = JsonString(m, "date_created");
    out.messages.push_back(std::move(lm));
  }
  return out;
}

}  // namespace twiliocore::internal
