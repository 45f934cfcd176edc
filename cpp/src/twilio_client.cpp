// Twilio's 2010-04-01 REST API over the HTTP engine (see twilio_client.h).

#include "twiliocore/twilio_client.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace twiliocore {
namespace {

constexpr std::string_view kApiVersion = "/2010-04-01";
constexpr std::size_t kMaxMediaUrls = 10;
constexpr int kMaxValidityPeriod = 36000;
constexpr std::size_t kErrorTextLimit = 200;

// RFC 3986 unreserved characters (ASCII only, whatever the process locale).
bool IsUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

// Appends the encoding of `value` to `out` (no temporary string per value).
void EncodeTo(std::string& out, std::string_view value, bool space_as_plus) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else if (c == ' ' && space_as_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
}

std::string Encode(std::string_view value, bool space_as_plus) {
  std::string out;
  out.reserve(value.size() * 3);
  EncodeTo(out, value, space_as_plus);
  return out;
}

/// Visible text of an error page: tags removed, whitespace collapsed, at most 200 chars.
std::string VisibleText(std::string_view body) {
  std::string out;
  bool in_tag = false;
  bool space = false;
  for (const char ch : body) {
    if (ch == '<') {
      in_tag = true;
      space = true;
      continue;
    }
    if (ch == '>') {
      in_tag = false;
      continue;
    }
    if (in_tag) continue;
    if (std::isspace(static_cast<unsigned char>(ch)) != 0) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(ch);
    if (out.size() >= kErrorTextLimit) break;
  }
  return out;
}

std::chrono::milliseconds ParseRetryAfter(const std::string& value) {
  long seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
    return std::chrono::milliseconds(-1);
  }
  return std::chrono::milliseconds(seconds * 1000);
}

void Add(FormParams& params, std::string_view name, const std::string& value) {
  if (!value.empty()) params.emplace_back(std::string(name), value);
}

void RequireSid(std::string_view sid, std::string_view field) {
  if (sid.empty()) throw std::invalid_argument(std::string(field) + ": must not be empty");
  for (const char c : sid) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
      throw std::invalid_argument(std::string(field) + ": must be letters and digits only, got '" +
                                  std::string(sid) + "'");
    }
  }
}

}  // namespace

std::string FormEncode(const FormParams& params) {
  std::size_t size = 0;
  for (const auto& [name, value] : params) size += name.size() + value.size() + 2;
  std::string out;
  out.reserve(size + size / 4);  // most characters need no escape; one allocation usually
  bool first = true;
  for (const auto& [name, value] : params) {
    if (!first) out.push_back('&');
    first = false;
    EncodeTo(out, name, true);
    out.push_back('=');
    EncodeTo(out, value, true);
  }
  return out;
}

std::string PercentEncode(std::string_view value) { return Encode(value, false); }

FormParams MessageCreateForm(const MessageCreate& create) {
  if (create.to.empty()) throw std::invalid_argument("To: is required");
  if (create.from.empty() && create.messaging_service_sid.empty()) {
    throw std::invalid_argument("From: either From or MessagingServiceSid is required");
  }
  bool has_content_sid = false;
  for (const auto& [name, value] : create.extra) {
    if (name == "ContentSid" && !value.empty()) has_content_sid = true;
  }
  if (create.body.empty() && create.media_urls.empty() && !has_content_sid) {
    throw std::invalid_argument("Body: one of Body, MediaUrl or ContentSid is required");
  }
  if (create.media_urls.size() > kMaxMediaUrls) {
    throw std::invalid_argument("MediaUrl: at most 10 media URLs per message, got " +
                                std::to_string(create.media_urls.size()));
  }
  if (create.validity_period &&
      (*create.validity_period < 1 || *create.validity_period > kMaxValidityPeriod)) {
    throw std::invalid_argument("ValidityPeriod: must be 1..36000 seconds, got " +
                                std::to_string(*create.validity_period));
  }
  FormParams form;
  Add(form, "To", create.to);
  Add(form, "From", create.from);
  Add(form, "MessagingServiceSid", create.messaging_service_sid);
  Add(form, "Body", create.body);
  for (const std::string& url : create.media_urls) form.emplace_back("MediaUrl", url);
  Add(form, "StatusCallback", create.status_callback);
  if (create.validity_period) form.emplace_back("ValidityPeriod", std::to_string(*create.validity_period));
  for (const auto& param : create.extra) form.push_back(param);
  return form;
}

TwilioClient::TwilioClient(std::shared_ptr<http::Engine> engine, Credentials credentials,
                           std::string base_url)
    : engine_(std::move(engine)),
      account_sid_(std::move(credentials.account_sid)),
      username_(std::move(credentials.username)),
      password_(std::move(credentials.password)),
      base_url_(std::move(base_url)) {
  if (!engine_) throw std::invalid_argument("engine: must not be null");
  if (account_sid_.empty()) throw std::invalid_argument("account_sid: must not be empty");
  RequireSid(account_sid_, "account_sid");
  if (password_.empty()) throw std::invalid_argument("auth_token: must not be empty");
  if (username_.empty()) username_ = account_sid_;
  if (!base_url_.starts_with("http://") && !base_url_.starts_with("https://")) {
    throw std::invalid_argument("base_url: must start with http:// or https://");
  }
  while (base_url_.ends_with('/')) base_url_.pop_back();
}

http::Request TwilioClient::MakeRequest(std::string_view method, std::string_view path,
                                        const FormParams& query, const FormParams& form) const {
  http::Request request;
  request.method = std::string(method);
  if (path.starts_with("http://") || path.starts_with("https://")) {
    request.url = std::string(path);
  } else {
    request.url = base_url_;
    if (!path.starts_with('/')) request.url.push_back('/');
    request.url += path;
  }
  if (!query.empty()) {
    request.url.push_back(request.url.find('?') == std::string::npos ? '?' : '&');
    request.url += FormEncode(query);
  }
  request.username = username_;
  request.password = CopySecret(password_);
  // twilio-python drops Accept on DELETE (the 204 has no body).
  if (method != "DELETE") request.headers.emplace_back("Accept", "application/json");
  if (method == "POST" || method == "PUT") {
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.body = FormEncode(form);
  }
  return request;
}

ApiResult TwilioClient::Interpret(http::Response&& response) {
  ApiResult result;
  result.http_status = response.status;
  result.retry_after = ParseRetryAfter(response.Header("retry-after"));
  if (response.error) {
    result.error = std::move(response.error);
    return result;
  }
  nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status >= 200 && response.status < 300) {
    if (response.status == 204 || response.body.empty()) {
      result.json = nullptr;
    } else if (parsed.is_discarded()) {
      Error& e = result.error;
      e.category = ErrorCategory::kApi;
      e.http_status = response.status;
      e.url = response.url;
      e.method = response.method;
      e.message = "HTTP " + std::to_string(response.status) + " from " + response.url +
                  ": the answer is not JSON: " + VisibleText(response.body);
    } else {
      result.json = std::move(parsed);
    }
    return result;
  }
  Error& e = result.error;
  e.category = ErrorCategory::kApi;
  e.http_status = response.status;
  e.url = response.url;
  e.method = response.method;
  if (!parsed.is_discarded() && parsed.is_object()) {
    e.details = response.body;
    if (const auto code = parsed.find("code"); code != parsed.end() && code->is_number_integer()) {
      e.twilio_code = code->get<int>();
    }
    if (const auto info = parsed.find("more_info"); info != parsed.end() && info->is_string()) {
      e.more_info = info->get<std::string>();
    }
    // Twilio's {code,message,more_info,status}; RFC 9457 bodies carry detail/title.
    for (const char* key : {"message", "detail", "title"}) {
      if (const auto m = parsed.find(key); m != parsed.end() && m->is_string() && !m->get<std::string>().empty()) {
        e.message = m->get<std::string>();
        break;
      }
    }
  }
  if (e.message.empty()) {
    const std::string text = VisibleText(response.body);
    e.message = "HTTP " + std::to_string(response.status) + " from " + response.url +
                (text.empty() ? std::string(": empty answer") : ": " + text);
  }
  return result;
}

http::RequestId TwilioClient::Send(http::Request request, ApiCallback callback) const {
  return engine_->Submit(std::move(request), [callback = std::move(callback)](http::Response&& r) {
    callback(Interpret(std::move(r)));
  });
}

nlohmann::json TwilioClient::Call(http::Request request) const {
  ApiResult result = Interpret(engine_->Perform(std::move(request)));
  if (result.error) ThrowError(std::move(result.error));
  return std::move(result.json);
}

std::string TwilioClient::MessagesPath() const {
  return std::string(kApiVersion) + "/Accounts/" + account_sid_ + "/Messages.json";
}

std::string TwilioClient::MessagePath(std::string_view sid) const {
  RequireSid(sid, "message_sid");
  return std::string(kApiVersion) + "/Accounts/" + account_sid_ + "/Messages/" +
         std::string(sid) + ".json";
}

http::Request TwilioClient::CreateMessageRequest(const MessageCreate& create) const {
  return MakeRequest("POST", MessagesPath(), {}, MessageCreateForm(create));
}

MessageCreateTemplate TwilioClient::CreateMessageTemplate(MessageCreate fields) const {
  // Encode the form once with a placeholder recipient and a marker body (validating it as a
  // create would), then keep what surrounds them: "To=" + to + before_body
  // ["&Body=" + body] + after_body. Encoded values never contain a raw '&' or '=', so the
  // marker's field can only be the Body field itself.
  constexpr std::string_view kPrefix = "To=X";
  constexpr std::string_view kMarker = "&Body=%01";
  MessageCreate probe = fields;
  probe.to = "X";
  probe.body = "\x01";
  const std::string form = FormEncode(MessageCreateForm(probe));
  const std::size_t marker = form.find(kMarker, kPrefix.size());
  if (!form.starts_with(kPrefix) || marker == std::string::npos) {
    throw std::logic_error("create form without To first or Body");  // MessageCreateForm changed
  }
  MessageCreateTemplate t;
  t.before_body_ = form.substr(kPrefix.size(), marker - kPrefix.size());
  t.after_body_ = form.substr(marker + kMarker.size());
  if (!fields.body.empty()) {
    EncodeTo(t.body_, fields.body, true);
  }
  t.body_optional_ = !fields.media_urls.empty() ||
                     std::any_of(fields.extra.begin(), fields.extra.end(), [](const auto& param) {
                       return param.first == "ContentSid" && !param.second.empty();
                     });
  http::Request base = MakeRequest("POST", MessagesPath());
  t.url_ = std::move(base.url);
  t.username_ = std::move(base.username);
  t.password_ = std::move(base.password);
  t.headers_ = std::move(base.headers);
  t.fields_ = std::move(fields);
  static std::atomic<std::uint64_t> last_settings_id{0};
  t.settings_id_ = ++last_settings_id;
  return t;
}

void MessageCreateTemplate::Check(std::string_view to,
                                  std::optional<std::string_view> body) const {
  if (to.empty()) throw std::invalid_argument("To: is required");
  const bool empty_body = body ? body->empty() : body_.empty();
  if (empty_body && !body_optional_) {
    throw std::invalid_argument("Body: one of Body, MediaUrl or ContentSid is required");
  }
}

void MessageCreateTemplate::Fill(http::Request& r, std::string_view to,
                                 std::optional<std::string_view> body) const {
  Check(to, body);
  if (r.settings_id != settings_id_) {  // not filled by this template before: copy its settings
    r.method = "POST";
    r.url = url_;
    r.username = username_;
    r.password = SecureString(password_.view());
    r.headers = headers_;
    r.settings_id = settings_id_;
  }
  std::string& form = r.body;
  form.clear();
  const std::size_t body_size = body ? body->size() * 3 : body_.size();
  form.reserve(3 + to.size() * 3 + before_body_.size() + 6 + body_size + after_body_.size());
  form.append("To=");
  EncodeTo(form, to, true);
  form.append(before_body_);
  if (body) {
    if (!body->empty()) {
      form.append("&Body=");
      EncodeTo(form, *body, true);
    }
  } else if (!body_.empty()) {
    form.append("&Body=").append(body_);
  }
  form.append(after_body_);
}

http::Request MessageCreateTemplate::Request(std::string_view to,
                                             std::optional<std::string_view> body) const {
  http::Request r;
  Fill(r, to, body);
  return r;
}

http::Request TwilioClient::FetchMessageRequest(std::string_view sid) const {
  return MakeRequest("GET", MessagePath(sid));
}

http::Request TwilioClient::UpdateMessageRequest(std::string_view sid,
                                                 const FormParams& params) const {
  return MakeRequest("POST", MessagePath(sid), {}, params);
}

http::Request TwilioClient::DeleteMessageRequest(std::string_view sid) const {
  return MakeRequest("DELETE", MessagePath(sid));
}

http::Request TwilioClient::ListMessagesRequest(const MessageListQuery& query) const {
  if (query.page_size < 0 || query.page_size > 1000) {
    throw std::invalid_argument("PageSize: must be 1..1000, got " + std::to_string(query.page_size));
  }
  FormParams params;
  Add(params, "To", query.to);
  Add(params, "From", query.from);
  Add(params, "DateSent", query.date_sent);
  Add(params, "DateSent<", query.date_sent_before);
  Add(params, "DateSent>", query.date_sent_after);
  if (query.page_size > 0) params.emplace_back("PageSize", std::to_string(query.page_size));
  return MakeRequest("GET", MessagesPath(), params);
}

http::Request TwilioClient::PageRequest(std::string_view page_uri) const {
  if (page_uri.empty()) throw std::invalid_argument("page_uri: must not be empty");
  // Twilio gives next_page_uri as a path on the API host; an absolute URL must stay on the
  // configured host, so credentials never go elsewhere.
  if (page_uri.starts_with("http://") || page_uri.starts_with("https://")) {
    if (!page_uri.starts_with(base_url_ + "/")) {
      throw std::invalid_argument("page_uri: not on the configured base URL");
    }
  }
  return MakeRequest("GET", page_uri);
}

http::Request TwilioClient::FetchAccountRequest(std::string_view sid) const {
  RequireSid(sid, "account_sid");
  return MakeRequest("GET", std::string(kApiVersion) + "/Accounts/" + std::string(sid) + ".json");
}

nlohmann::json TwilioClient::CreateMessage(const MessageCreate& create) const {
  return Call(CreateMessageRequest(create));
}

nlohmann::json TwilioClient::FetchMessage(std::string_view sid) const {
  return Call(FetchMessageRequest(sid));
}

nlohmann::json TwilioClient::UpdateMessage(std::string_view sid, const FormParams& params) const {
  return Call(UpdateMessageRequest(sid, params));
}

void TwilioClient::DeleteMessage(std::string_view sid) const { (void)Call(DeleteMessageRequest(sid)); }

nlohmann::json TwilioClient::ListMessagesPage(const MessageListQuery& query) const {
  return Call(ListMessagesRequest(query));
}

std::vector<nlohmann::json> TwilioClient::ListMessages(const MessageListQuery& query,
                                                       std::size_t limit) const {
  std::vector<nlohmann::json> out;
  nlohmann::json page = ListMessagesPage(query);
  for (;;) {
    if (const auto messages = page.find("messages"); messages != page.end() && messages->is_array()) {
      for (auto& message : *messages) {
        out.push_back(std::move(message));
        if (limit != 0 && out.size() >= limit) return out;
      }
    }
    const auto next = page.find("next_page_uri");
    if (next == page.end() || !next->is_string() || next->get<std::string>().empty()) break;
    page = Call(PageRequest(next->get<std::string>()));
  }
  return out;
}

nlohmann::json TwilioClient::FetchAccount(std::string_view sid) const {
  return Call(FetchAccountRequest(sid));
}

http::RequestId TwilioClient::CreateMessageAsync(const MessageCreate& create,
                                                 ApiCallback callback) const {
  return Send(CreateMessageRequest(create), std::move(callback));
}

http::RequestId TwilioClient::FetchMessageAsync(std::string_view sid, ApiCallback callback) const {
  return Send(FetchMessageRequest(sid), std::move(callback));
}

http::RequestId TwilioClient::UpdateMessageAsync(std::string_view sid, const FormParams& params,
                                                 ApiCallback callback) const {
  return Send(UpdateMessageRequest(sid, params), std::move(callback));
}

http::RequestId TwilioClient::DeleteMessageAsync(std::string_view sid, ApiCallback callback) const {
  return Send(DeleteMessageRequest(sid), std::move(callback));
}

http::RequestId TwilioClient::ListMessagesPageAsync(const MessageListQuery& query,
                                                    ApiCallback callback) const {
  return Send(ListMessagesRequest(query), std::move(callback));
}

http::RequestId TwilioClient::FetchAccountAsync(std::string_view sid, ApiCallback callback) const {
  return Send(FetchAccountRequest(sid), std::move(callback));
}

}  // namespace twiliocore
