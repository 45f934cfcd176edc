#include "twiliocore/fanout.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <queue>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "twiliocore/ascii.h"
#include "twiliocore/phone.h"
#include "twiliocore/segments.h"
#include "twiliocore/thread_name.h"
#include "twiliocore/twilio_client.h"

namespace twiliocore {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr std::uint64_t kWhatsAppTag = std::uint64_t{1} << 62;
constexpr std::uint64_t kHashedTag = std::uint64_t{1} << 63;


bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses Twilio's RFC 2822 timestamps ("Thu, 24 Aug 2023 05:01:45 +0000") into Unix seconds.
std::optional<std::int64_t> ParseRfc2822(std::string_view text) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto comma = text.find(", ");
  if (comma != std::string_view::npos) text.remove_prefix(comma + 2);
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  char month[4] = {};
  char sign = '+';
  int offset = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d %3s %d %d:%d:%d %c%4d", &day, month, &year, &hour, &minute,
                  &second, &sign, &offset) < 6) {
    return std::nullopt;
  }
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (kMonths[i] == std::string_view(month)) mon = i;
  }
  if (mon < 0) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::int64_t t = static_cast<std::int64_t>(timegm(&tm));
  std::int64_t off = (offset / 100) * 3600 + (offset % 100) * 60;
  return sign == '-' ? t + off : t - off;
}

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The transport over TwilioClient

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

namespace internal {

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

}  // namespace internal

namespace {

// What a create answer means for the job, written into `out` (a success reuses its strings'
// buffers): `sid` and `status` read straight from a success's body (the ~850-byte Message
// JSON is not parsed), anything else interpreted in full.
void ReadCreateOutcome(http::Response&& response, CreateOutcome& out) {
  if (out.error) out.error = Error{};
  out.retry_after = std::chrono::milliseconds(-1);
  if (!response.error && response.status >= 200 && response.status < 300) {
    std::string_view sid;
    std::string_view status;
    if (internal::ScanSidAndStatus(response.body, sid, status)) {
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

CreateOutcome RefusedBeforeSending(const std::invalid_argument& e) {
  CreateOutcome out;
  out.error.category = ErrorCategory::kInvalidArgument;
  out.error.message = e.what();
  return out;
}

// The engine feed of a job's creates: the coordinator pushes prepared recipients into a
// single-producer single-consumer ring; the engine thread pops them in `Next` and writes each
// request into a reused slot from the job's create template.
class CreateFeed final : public http::Feed {
 public:
  CreateFeed(MessageCreateTemplate form, std::shared_ptr<BulkTransport::Sink> sink,
             std::size_t capacity)
      : form_(std::move(form)), sink_(std::move(sink)) {
    std::size_t size = 1;
    while (size < capacity) size <<= 1;
    ring_.resize(size);
    done_.resize(size);
    mask_ = size - 1;
  }

  const MessageCreateTemplate& form() const noexcept { return form_; }

  // Coordinator: false when the ring is full.
  bool Push(std::uint64_t tag, std::string_view to, std::optional<std::string_view> body) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_seen_ > mask_) {
      head_seen_ = head_.load(std::memory_order_acquire);
      if (tail - head_seen_ > mask_) return false;
    }
    Entry& entry = ring_[tail & mask_];
    entry.tag = tag;
    entry.to.assign(to);
    entry.own_body = body.has_value();
    if (body) entry.body.assign(*body);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  std::size_t Limit() const override { return limit_.load(std::memory_order_relaxed); }
  void SetLimit(std::size_t limit) { limit_.store(limit, std::memory_order_relaxed); }

  void Stopped() override { stopped_.store(true, std::memory_order_release); }
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

  // Coordinator, once stopped (the engine no longer reads the ring, so this thread may):
  // reports what is left in the ring as cancelled before it was sent.
  void CancelPending() {
    std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    for (; head != tail; ++head) {
      CreateOutcome out;
      out.error.category = ErrorCategory::kCancelled;
      out.error.message = "engine shut down before the request started";
      sink_->OnCreate(ring_[head & mask_].tag, std::move(out));
    }
    head_.store(head, std::memory_order_relaxed);
  }

  bool Next(http::Request& request, std::uint64_t& tag) override {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_seen_) {
      tail_seen_ = tail_.load(std::memory_order_acquire);
      if (head == tail_seen_) return false;
    }
    const Entry& entry = ring_[head & mask_];
    tag = entry.tag;
    // Checked by the coordinator before the push (Check), so this does not throw.
    form_.Fill(request, entry.to,
               entry.own_body ? std::optional<std::string_view>(entry.body) : std::nullopt);
    request.keep_response_headers = false;  // a success needs only the body's sid and status
    request.accept_compressed = false;      // ~850 bytes: not worth compressing
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Outcomes go into a second ring the job drains; they are published, and the job told how
  // many, once per engine pass.
  void Done(std::uint64_t tag, http::Response& response) override {
    if (done_tail_ - done_head_seen_ > mask_) {
      done_head_seen_ = done_head_.load(std::memory_order_acquire);
      if (done_tail_ - done_head_seen_ > mask_) {
        // Cannot happen (the job never has more creates outstanding than the ring holds); if
        // it did, the outcome still arrives, the slow way.
        sink_->OnCreate(tag, CreateOutcomeOf(std::move(response)));
        return;
      }
    }
    Completion& slot = done_[done_tail_ & mask_];
    slot.tag = tag;
    ReadCreateOutcome(std::move(response), slot.outcome);
    ++done_tail_;
  }

  void Flush() override {
    const std::size_t published = done_published_.load(std::memory_order_relaxed);
    if (done_tail_ == published) return;
    done_published_.store(done_tail_, std::memory_order_release);
    sink_->OnReady(done_tail_ - published);
  }

  // Coordinator: hands each published outcome to `handle` (a copy: the slot keeps its
  // buffers for the engine); returns how many.
  template <typename Handle>
  std::size_t Drain(Handle&& handle) {
    const std::size_t end = done_published_.load(std::memory_order_acquire);
    std::size_t head = done_head_.load(std::memory_order_relaxed);
    const std::size_t count = end - head;
    for (; head != end; ++head) {
      const Completion& slot = done_[head & mask_];
      CreateOutcome outcome = slot.outcome;
      const std::uint64_t tag = slot.tag;
      done_head_.store(head + 1, std::memory_order_release);
      handle(tag, outcome);
    }
    return count;
  }

 private:
  struct Entry {
    std::uint64_t tag = 0;
    std::string to;
    std::string body;
    bool own_body = false;
  };

  const MessageCreateTemplate form_;
  const std::shared_ptr<BulkTransport::Sink> sink_;
  std::vector<Entry> ring_;
  std::size_t mask_ = 0;
  struct Completion {
    std::uint64_t tag = 0;
    CreateOutcome outcome;
  };
  std::vector<Completion> done_;  // the outcomes ring, ring_'s size

  // The two threads' indices live on separate cache lines, each with the thread's last reading
  // of the other side's index: a thread reads the other's line only when its reading says the
  // ring is empty (or full), not for every entry, so the lines do not bounce between the CPUs
  // on every message.
  // Written by the engine thread:
  alignas(64) std::atomic<std::size_t> head_{0};  // next entry the engine takes
  std::size_t tail_seen_ = 0;                      // tail_ as the engine last read it
  std::size_t done_tail_ = 0;                      // next outcome slot to fill
  std::size_t done_head_seen_ = 0;                 // done_head_ as the engine last read it
  // Written by the coordinator:
  alignas(64) std::atomic<std::size_t> tail_{0};  // next entry the coordinator fills
  std::size_t head_seen_ = 0;                      // head_ as the coordinator last read it
  std::atomic<std::size_t> done_head_{0};          // next outcome slot the job reads
  // Written by the engine once per pass:
  alignas(64) std::atomic<std::size_t> done_published_{0};  // filled slots the job may read
  // Written rarely:
  alignas(64) std::atomic<std::size_t> limit_{1};
  std::atomic<bool> stopped_{false};
};

// The create fields of a bulk message, without its recipient.
MessageCreate FieldsOf(const BulkMessage& message) {
  MessageCreate fields;
  fields.from = message.from;
  fields.messaging_service_sid = message.messaging_service_sid;
  fields.body = message.body;
  fields.media_urls = message.media_urls;
  fields.status_callback = message.status_callback;
  if (message.smart_encoded) fields.extra.emplace_back("SmartEncoded", "true");
  return fields;
}

bool SendsSmartEncoded(const MessageCreate& fields) {
  return std::any_of(fields.extra.begin(), fields.extra.end(),
                     [](const auto& param) { return param.first == "SmartEncoded"; });
}

class ClientTransport final : public BulkTransport {
 public:
  ClientTransport(std::shared_ptr<const TwilioClient> client, std::size_t capacity)
      : client_(std::move(client)), capacity_(std::max<std::size_t>(1, capacity)) {}

  ~ClientTransport() override { Close(); }

  void Bind(std::shared_ptr<Sink> sink) override { sink_ = std::move(sink); }

  void CreateMessage(std::uint64_t tag, const BulkMessage& message) override {
    try {
      if (!feed_) {
        feed_ = std::make_shared<CreateFeed>(client_->CreateMessageTemplate(FieldsOf(message)),
                                             sink_, 2 * capacity_);
        feed_->SetLimit(window_);
        client_->engine()->Attach(feed_);
      }
      const MessageCreate& fields = feed_->form().fields();
      const bool same_fields = fields.from == message.from &&
                               fields.messaging_service_sid == message.messaging_service_sid &&
                               fields.media_urls == message.media_urls &&
                               fields.status_callback == message.status_callback &&
                               SendsSmartEncoded(fields) == message.smart_encoded;
      const std::optional<std::string_view> body =
          message.body == fields.body ? std::nullopt
                                      : std::optional<std::string_view>(message.body);
      if (same_fields) {
        feed_->form().Check(message.to, body);
        if (feed_->Push(tag, message.to, body)) {
          pushed_ = true;
          return;
        }
      }
      // Other fields than the job's, or more in flight than the ring holds: a request of its own.
      MessageCreate create = FieldsOf(message);
      create.to = message.to;
      http::Request request = client_->CreateMessageRequest(create);
      request.keep_response_headers = false;
      request.accept_compressed = false;
      client_->engine()->Submit(std::move(request), [sink = sink_, tag](http::Response&& response) {
        sink->OnCreate(tag, CreateOutcomeOf(std::move(response)));
      });
    } catch (const std::invalid_argument& e) {  // the form was refused before sending
      sink_->OnCreate(tag, RefusedBeforeSending(e));
    }
  }

  std::size_t DrainCreates(const std::function<void(std::uint64_t, CreateOutcome&)>& handle) override {
    return feed_ ? feed_->Drain(handle) : 0;
  }

  std::size_t Lookahead() const override { return capacity_; }

  void SetWindow(int window) override {
    window_ = static_cast<std::size_t>(std::max(1, window));
    if (feed_) {
      feed_->SetLimit(window_);
      pushed_ = true;  // a larger window may start waiting requests: poke at the flush
    }
  }

  void Flush() override {
    if (pushed_) {
      pushed_ = false;
      client_->engine()->Poke();
    }
    // The engine shut down: what it did not take (pushed before or after it stopped) will not
    // be sent; each is reported, or the job would wait for it forever.
    if (feed_ && feed_->stopped()) feed_->CancelPending();
  }

  void Close() override {
    if (feed_) {
      client_->engine()->Detach(feed_);
      feed_.reset();
    }
  }

  void ListMessages(std::uint64_t tag, const ListQuery& query) override {
    MessageListQuery q;
    q.to = query.to;
    q.from = query.from;
    q.page_size = query.page_size;
    try {
      client_->ListMessagesPageAsync(q, [sink = sink_, tag](ApiResult&& result) {
        ListOutcome out;
        out.error = std::move(result.error);
        out.retry_after = result.retry_after;
        if (!out.error) {
          auto it = result.json.find("messages");
          if (it != result.json.end() && it->is_array()) {
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
          } else {
            out.error.category = ErrorCategory::kApi;
            out.error.http_status = result.http_status;
            out.error.message = "message list without a 'messages' array";
          }
        }
        sink->OnList(tag, std::move(out));
      });
    } catch (const std::invalid_argument& e) {
      ListOutcome out;
      out.error.category = ErrorCategory::kInvalidArgument;
      out.error.message = e.what();
      sink_->OnList(tag, std::move(out));
    }
  }

 private:
  std::shared_ptr<const TwilioClient> client_;
  std::size_t capacity_;
  std::size_t window_ = 1;
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<CreateFeed> feed_;
  bool pushed_ = false;
};

// Segments a body costs as Twilio sends it: after Smart Encoding when the job asks for it.
// Throws std::invalid_argument for a body that is not UTF-8.
std::size_t SegmentsOf(std::string_view body, bool smart_encoded) {
  return smart_encoded ? CountSegments(SmartEncode(body)).num_segments
                       : CountSegments(body).num_segments;
}

}  // namespace

std::shared_ptr<BulkTransport> MakeClientTransport(std::shared_ptr<const TwilioClient> client,
                                                   std::size_t max_in_flight) {
  if (!client) throw std::invalid_argument("client: required");
  return std::make_shared<ClientTransport>(std::move(client), max_in_flight);
}

// ---------------------------------------------------------------------------------------------
// Pacer

Pacer::Pacer(double segments_per_second, std::chrono::duration<double> max_backlog)
    : rate_(segments_per_second > 0 && std::isfinite(segments_per_second) ? segments_per_second
                                                                         : 0.0),
      tolerance_(duration_cast<Clock::duration>(std::max(max_backlog,
                                                         std::chrono::duration<double>(0)))) {}

static Clock::duration Cost(double rate, std::size_t segments) {
  return duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(std::max<std::size_t>(segments, 1)) / rate));
}

Clock::time_point Pacer::NextAllowed(Clock::time_point now, std::size_t segments) const {
  if (!paced()) return now;
  // Backlog after this message: max(tat, now) + cost - now <= tolerance. A message costlier
  // than the tolerance goes when the queue is empty (tat), so pacing never stalls.
  Clock::duration cost = Cost(rate_, segments);
  Clock::duration slack = tolerance_ > cost ? tolerance_ - cost : Clock::duration::zero();
  return std::max(now, tat_ - slack);
}

void Pacer::Commit(Clock::time_point now, std::size_t segments) {
  if (!paced()) return;
  tat_ = std::max(tat_, now) + Cost(rate_, segments);
}

void Pacer::Refund(Clock::time_point now, std::size_t segments) {
  if (!paced()) return;
  tat_ = std::max(now, tat_ - Cost(rate_, segments));
}

void Pacer::MarkFull(Clock::time_point now) {
  if (!paced()) return;
  tat_ = std::max(tat_, now + tolerance_);
}

double Pacer::BacklogSeconds(Clock::time_point now) const {
  if (!paced() || tat_ <= now) return 0.0;
  return std::chrono::duration<double>(tat_ - now).count();
}

double DefaultSenderRate(std::string_view from, std::string_view messaging_service_sid) {
  if (from.empty()) {
    (void)messaging_service_sid;
    return 0.0;  // a Messaging Service: the pool and its rates are Twilio's business
  }
  if (ascii::StartsWithIgnoreCase(from, "whatsapp:")) return 80.0;  // Meta's default business throughput
  if (AllDigits(from) && from.size() >= 3 && from.size() <= 8) return 100.0;  // short code
  if (from.size() > 2 && from[0] == '+' && from[1] == '1' && from.size() == 12) {
    std::string_view npa = from.substr(2, 3);
    static constexpr std::string_view kTollFree[] = {"800", "833", "844", "855",
                                                     "866", "877", "888"};
    for (auto tf : kTollFree) {
      if (npa == tf) return 3.0;
    }
    return 1.0;  // US/CA long code
  }
  return 10.0;
}

// ---------------------------------------------------------------------------------------------
// Classification, backoff, window

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

milliseconds BackoffDelay(int attempt, milliseconds base, milliseconds cap,
                          double random01) noexcept {
  if (attempt < 0) attempt = 0;
  double ceiling = static_cast<double>(base.count()) * std::pow(2.0, std::min(attempt, 30));
  ceiling = std::min(ceiling, static_cast<double>(cap.count()));
  random01 = std::clamp(random01, 0.0, 1.0);
  return milliseconds(static_cast<milliseconds::rep>(ceiling * random01));
}

AdaptiveWindow::AdaptiveWindow(int max_window) : max_(std::max(1, max_window)), limit_(max_) {}

void AdaptiveWindow::OnThrottled(std::uint64_t sequence) noexcept {
  // Requests submitted before the last cut were already in flight when it happened: their 429s
  // belong to the same overload and must not cut again.
  if (sequence <= last_cut_) return;
  limit_ = std::max(1, limit_ / 2);
  last_cut_ = submitted_;
  successes_ = 0;
}

void AdaptiveWindow::OnSuccess() noexcept {
  if (limit_ >= max_) return;
  if (++successes_ >= limit_) {
    ++limit_;
    successes_ = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// AddressSet

std::uint64_t AddressSet::Key(std::string_view address) noexcept {
  std::uint64_t tag = 0;
  if (ascii::StartsWithIgnoreCase(address, "whatsapp:")) {
    tag = kWhatsAppTag;
    address.remove_prefix(9);
  }
  if (address.size() >= 2 && address.size() <= 16 && address[0] == '+' &&
      AllDigits(address.substr(1)) && address[1] != '0') {
    std::uint64_t value = 0;
    for (char c : address.substr(1)) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    return value | tag;  // at most 15 digits < 2^50: exact
  }
  // Not an E.164 number (cannot happen after normalisation): FNV-1a, tagged apart.
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : address) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return (h >> 2) | kHashedTag | tag;
}

bool AddressSet::Insert(std::string_view address) {
  std::uint64_t key = Key(address);
  if (key == 0) key = 1;
  // Linear probing up to three quarters full (a few probes within a cache line or two): the
  // table, and the old and new table side by side while it doubles, stay half the size they
  // would be at half full.
  if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
  while (slots_[i] != 0) {
    if (slots_[i] == key) return false;
    i = (i + 1) & mask;
  }
  slots_[i] = key;
  ++size_;
  return true;
}

void AddressSet::Grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  const std::size_t mask = slots_.size() - 1;
  for (std::uint64_t key : old) {
    if (key == 0) continue;
    std::size_t i = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = key;
  }
}

double EstimateDuration(std::int64_t recipients, std::size_t segments, double rate) noexcept {
  if (recipients <= 0 || rate <= 0) return 0.0;
  return static_cast<double>(recipients) * static_cast<double>(std::max<std::size_t>(segments, 1)) /
         rate;
}

const char* RecipientStatusName(RecipientStatus status) noexcept {
  switch (status) {
    case RecipientStatus::kSent:
      return "sent";
    case RecipientStatus::kFailed:
      return "failed";
    case RecipientStatus::kInvalid:
      return "invalid";
    case RecipientStatus::kDuplicate:
      return "duplicate";
    case RecipientStatus::kUnknown:
      return "unknown";
    case RecipientStatus::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// BulkJob

struct BulkJob::Item {
  std::string to;
  std::string body;  // the recipient's own body; empty when it has none (`own_body`)
  bool own_body = false;
  std::size_t segments = 1;
  int attempts = 0;
  std::uint64_t sequence = 0;
  bool lookup = false;          // next step is a reconciliation lookup, not a create
  std::size_t lookups = 0;      // lookups done
  int lookup_throttles = 0;     // failed lookups asked again (not counted in `lookups`)
  std::int64_t first_sent_unix = 0;
  Error last_error;
};

struct BulkJob::Event {
  std::uint64_t id = 0;
  bool is_list = false;
  CreateOutcome create;
  ListOutcome list;
};

struct BulkJob::Shared final : BulkTransport::Sink {
  std::mutex mu;                        // guards the members below up to `results`
  std::condition_variable finished_cv;  // waiters: done
  bool done = false;
  bool started = false;
  BulkSummary summary;
  std::vector<RecipientResult> results;

  // Completions reach the coordinator through a lock-free stack: the engine thread never
  // waits for the coordinator (nor the coordinator for it) to hand over an outcome. The
  // coordinator sleeps on `wake` and is woken only once `notify_at` outcomes are waiting
  // (it also wakes every millisecond while requests are in flight): one thread switch per
  // batch of completions, not per message.
  struct EventNode {
    Event event;
    EventNode* next = nullptr;
  };
  std::atomic<EventNode*> event_head{nullptr};  // owns the nodes (see ~Shared)
  std::atomic<std::int64_t> event_count{0};    // posted and not yet taken (may dip below 0)
  std::atomic<std::int64_t> notify_at{1};
  std::atomic<bool> sleeping{false};
  std::atomic<bool> cancel{false};
  std::mutex wake_mu;
  std::condition_variable wake;  // coordinator: enough events, or cancel

  Shared() = default;
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared() override {
    std::vector<Event> rest;
    TakeEvents(rest);
  }

  /// From any thread: hands an outcome to the coordinator, waking it when a batch is ready.
  void Post(Event&& event) {
    auto node = std::make_unique<EventNode>();
    node->event = std::move(event);
    EventNode* raw = node.release();  // owned by the stack until TakeEvents
    raw->next = event_head.load(std::memory_order_relaxed);
    while (!event_head.compare_exchange_weak(raw->next, raw, std::memory_order_release,
                                             std::memory_order_relaxed)) {
    }
    Arrived(1);
  }

  /// `count` outcomes are ready (posted, or published by the transport): wake the
  /// coordinator if a batch is now waiting.
  void Arrived(std::int64_t count) {
    // seq_cst with the coordinator's store to `sleeping` and load of `event_count` (Dekker):
    // either this sees it sleeping, or it sees these events before it sleeps.
    // Only the post that finds it asleep wakes it: the ones after it, until the coordinator
    // runs, do not touch the mutex.
    const std::int64_t waiting = event_count.fetch_add(count) + count;
    if (waiting >= notify_at.load(std::memory_order_relaxed) && sleeping.load() &&
        sleeping.exchange(false)) {
      Wake();
    }
  }

  /// Coordinator: appends every posted outcome to `out`, oldest first.
  void TakeEvents(std::vector<Event>& out) {
    EventNode* list = event_head.exchange(nullptr, std::memory_order_acquire);
    EventNode* oldest_first = nullptr;
    std::int64_t taken = 0;
    while (list != nullptr) {
      EventNode* next = list->next;
      list->next = oldest_first;
      oldest_first = list;
      list = next;
      ++taken;
    }
    event_count.fetch_sub(taken);
    while (oldest_first != nullptr) {
      std::unique_ptr<EventNode> node(oldest_first);
      oldest_first = node->next;
      out.push_back(std::move(node->event));
    }
  }

  void Wake() {
    std::lock_guard lock(wake_mu);
    wake.notify_all();
  }

  void OnCreate(std::uint64_t tag, CreateOutcome outcome) override {
    Event event;
    event.id = tag;
    event.create = std::move(outcome);
    Post(std::move(event));
  }

  void OnReady(std::size_t count) override { Arrived(static_cast<std::int64_t>(count)); }

  void OnList(std::uint64_t tag, ListOutcome outcome) override {
    Event event;
    event.id = tag;
    event.is_list = true;
    event.list = std::move(outcome);
    Post(std::move(event));
  }
};

BulkJob::BulkJob(std::shared_ptr<BulkTransport> transport, BulkOptions options,
                 RecipientProducer producer, ResultSink on_results, ProgressSink on_progress)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      producer_(std::move(producer)),
      on_results_(std::move(on_results)),
      on_progress_(std::move(on_progress)),
      shared_(std::make_shared<Shared>()) {
  if (!transport_) throw std::invalid_argument("transport: required");
  if (!producer_) throw std::invalid_argument("recipients: required");
  if (options_.from.empty() && options_.messaging_service_sid.empty()) {
    throw std::invalid_argument("from_: a sender or messaging_service_sid is required");
  }
  if (!options_.messaging_service_sid.empty() &&
      (options_.messaging_service_sid.size() != 34 ||
       options_.messaging_service_sid.rfind("MG", 0) != 0)) {
    throw std::invalid_argument("messaging_service_sid: must be 'MG' followed by 32 hex digits");
  }
  if (options_.window < 1 || options_.window > 10000) {
    throw std::invalid_argument("window: must be between 1 and 10000");
  }
  if (!(options_.mps >= 0) || !std::isfinite(options_.mps)) {
    throw std::invalid_argument("mps: must be a finite number >= 0");
  }
  if (options_.max_attempts < 1) throw std::invalid_argument("max_attempts: must be >= 1");
  if (options_.media_urls.size() > 10) {
    throw std::invalid_argument("media_url: Twilio accepts at most 10 media URLs");
  }
  if (options_.producer_chunk == 0) options_.producer_chunk = 1;
  // Throws "region: ..." for a region libphonenumber lacks; kept upper-cased, as checked, so
  // that each recipient is normalised without checking it again.
  options_.region = CheckRegion(options_.region);
  if (options_.whatsapp && !options_.from.empty() && !ascii::StartsWithIgnoreCase(options_.from, "whatsapp:")) {
    options_.from = "whatsapp:" + options_.from;
  }
  try {
    segments_ = SegmentsOf(options_.body, options_.smart_encoded);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("body: not valid UTF-8");
  }
  rate_ = options_.mps > 0 ? options_.mps
                           : DefaultSenderRate(options_.from, options_.messaging_service_sid);
  estimated_seconds_ = EstimateDuration(options_.expected_recipients, segments_, rate_);
}

BulkJob::~BulkJob() {
  Cancel();
  Join();
}

void BulkJob::Start() {
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->started) return;
    shared_->started = true;
  }
  transport_->Bind(shared_);
  thread_ = std::thread([this] {
    NameCurrentThread("twiliocore-bulk");
    Run();
  });
}

void BulkJob::Cancel() noexcept {
  {
    std::lock_guard lock(shared_->wake_mu);
    shared_->cancel = true;
  }
  shared_->wake.notify_all();
}

bool BulkJob::WaitFor(milliseconds timeout) {
  std::unique_lock lock(shared_->mu);
  return shared_->finished_cv.wait_for(lock, timeout, [&] { return shared_->done; });
}

void BulkJob::Join() {
  std::lock_guard lock(join_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool BulkJob::done() const {
  std::lock_guard lock(shared_->mu);
  return shared_->done;
}

BulkSummary BulkJob::summary() const {
  std::lock_guard lock(shared_->mu);
  return shared_->summary;
}

std::vector<RecipientResult> BulkJob::results() const {
  std::lock_guard lock(shared_->mu);
  return shared_->results;
}

void BulkJob::Run() {
  try {
    RunLoop();
  } catch (const std::exception& e) {
    // Only a bug gets here (every step reports per recipient); end the job rather than hang.
    std::lock_guard lock(shared_->mu);
    shared_->summary.fatal_error = std::string("internal error: ") + e.what();
  }
  transport_->Close();
  {
    std::lock_guard lock(shared_->mu);
    shared_->summary.done = true;
    shared_->done = true;
  }
  shared_->finished_cv.notify_all();
}

void BulkJob::RunLoop() {
  const auto start = Clock::now();
  // A configured rate paces from the start; 50 ms of slack lets a window's worth go out in one
  // pass of the loop at high rates without changing the rate held (at 1 segment/s it is none).
  Pacer pacer(rate_, options_.mps > 0 ? std::chrono::duration<double>(0.05) : options_.max_backlog);
  AdaptiveWindow window(options_.window);
  AddressSet seen;
  std::mt19937_64 rng(options_.seed != 0 ? options_.seed : std::random_device{}());
  std::uniform_real_distribution<double> uniform(0.0, 1.0);

  std::unordered_map<std::uint64_t, Item> items;  // in flight or scheduled
  std::deque<std::uint64_t> fresh;                // ready, never submitted
  using Due = std::pair<Clock::time_point, std::uint64_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> scheduled;  // retries and lookups
  std::uint64_t next_id = 0;
  std::int64_t in_flight = 0;
  bool intake_open = true;
  bool cancelling = false;
  Error fatal;

  BulkSummary local;
  local.window = window.limit();
  std::vector<RecipientResult> batch;
  std::vector<Recipient> chunk;
  auto last_progress = start;
  const std::size_t fresh_cap =
      std::max<std::size_t>(options_.producer_chunk, static_cast<std::size_t>(options_.window) * 2);
  std::shared_ptr<Shared> shared = shared_;
  // The job's body unless the recipient has its own (not copied per recipient).
  auto body_of = [this](const Item& item) -> const std::string& {
    return item.own_body ? item.body : options_.body;
  };

  auto finish = [&](Item&& item, RecipientStatus status, std::string sid, const Error* error) {
    RecipientResult r;
    r.to = std::move(item.to);
    r.status = status;
    r.message_sid = std::move(sid);
    r.attempts = item.attempts;
    if (error != nullptr && *error) {
      r.error_code = error->twilio_code != 0 ? error->twilio_code
                                             : static_cast<int>(error->http_status);
      r.error = error->message;
    }
    switch (status) {
      case RecipientStatus::kSent: ++local.sent; break;
      case RecipientStatus::kFailed: ++local.failed; break;
      case RecipientStatus::kInvalid: ++local.invalid; break;
      case RecipientStatus::kDuplicate: ++local.duplicates; break;
      case RecipientStatus::kUnknown: ++local.unknown; break;
      case RecipientStatus::kCancelled: ++local.cancelled; break;
    }
    batch.push_back(std::move(r));
  };

  auto reject = [&](std::string to, RecipientStatus status, int code, std::string message) {
    RecipientResult r;
    r.to = std::move(to);
    r.status = status;
    r.error_code = code;
    r.error = std::move(message);
    if (status == RecipientStatus::kInvalid) ++local.invalid;
    if (status == RecipientStatus::kDuplicate) ++local.duplicates;
    batch.push_back(std::move(r));
  };

  auto schedule = [&](std::uint64_t id, Clock::time_point due) { scheduled.emplace(due, id); };

  // One message object for every create: the job's fields are set once, `to` and `body`
  // are assigned per recipient into the buffers of the previous one.
  BulkMessage message;
  message.from = options_.from;
  message.messaging_service_sid = options_.messaging_service_sid;
  message.media_urls = options_.media_urls;
  message.status_callback = options_.status_callback;
  message.smart_encoded = options_.smart_encoded;

  auto submit_create = [&](std::uint64_t id, Item& item) {
    ++item.attempts;
    if (item.attempts > 1) ++local.retries;
    item.sequence = window.OnSubmit();
    if (item.first_sent_unix == 0) item.first_sent_unix = UnixNow();
    message.to = item.to;
    message.body = body_of(item);
    ++in_flight;
    transport_->CreateMessage(id, message);
  };

  auto submit_lookup = [&](std::uint64_t id, Item& item) {
    ListQuery query;
    query.to = item.to;
    query.from = options_.from;
    ++in_flight;
    ++local.reconciled;
    transport_->ListMessages(id, query);
  };

  // Resend `item` later (blind retry), or give up when its attempts are spent.
  auto retry_later = [&](std::uint64_t id, Item& item, milliseconds delay, RecipientStatus give_up) {
    if (cancelling || fatal) {
      Error e = fatal ? fatal : item.last_error;
      finish(std::move(item), fatal ? RecipientStatus::kFailed : RecipientStatus::kCancelled, {},
             &e);
      items.erase(id);
      return;
    }
    if (item.attempts >= options_.max_attempts) {
      Error e = item.last_error;
      finish(std::move(item), give_up, {}, &e);
      items.erase(id);
      return;
    }
    item.lookup = false;
    schedule(id, Clock::now() + delay);
  };

  auto on_create = [&](std::uint64_t id, CreateOutcome& outcome) {
    --in_flight;
    auto it = items.find(id);
    if (it == items.end()) return;
    Item& item = it->second;
    const auto now = Clock::now();
    item.last_error = outcome.error;
    switch (ClassifyOutcome(outcome.error)) {
      case OutcomeClass::kSuccess:
        window.OnSuccess();
        finish(std::move(item), RecipientStatus::kSent, std::move(outcome.sid), nullptr);
        items.erase(it);
        return;
      case OutcomeClass::kPermanent:
        pacer.Refund(now, item.segments);
        finish(std::move(item), RecipientStatus::kFailed, {}, &outcome.error);
        items.erase(it);
        return;
      case OutcomeClass::kFatal:
        if (!fatal) {
          fatal = outcome.error;
          intake_open = false;
          std::lock_guard lock(shared->mu);
          shared->summary.fatal_error = outcome.error.message;
        }
        finish(std::move(item), RecipientStatus::kFailed, {}, &outcome.error);
        items.erase(it);
        return;
      case OutcomeClass::kQueueFull:
        pacer.Refund(now, item.segments);
        pacer.MarkFull(now);
        retry_later(id, item, milliseconds(0), RecipientStatus::kFailed);
        return;
      case OutcomeClass::kRetryable: {
        pacer.Refund(now, item.segments);
        milliseconds delay =
            BackoffDelay(item.attempts - 1, options_.backoff_base, options_.backoff_cap, uniform(rng));
        if (outcome.error.http_status == 429) {
          window.OnThrottled(item.sequence);
          if (outcome.retry_after.count() >= 0) delay = outcome.retry_after;
        }
        retry_later(id, item, delay, RecipientStatus::kFailed);
        return;
      }
      case OutcomeClass::kCancelled:
        finish(std::move(item), RecipientStatus::kUnknown, {}, &outcome.error);
        items.erase(it);
        return;
      case OutcomeClass::kAmbiguous:
        break;
    }
    switch (options_.retry_policy) {
      case RetryPolicy::kFail:
        finish(std::move(item), RecipientStatus::kUnknown, {}, &outcome.error);
        items.erase(it);
        return;
      case RetryPolicy::kRetry:
        retry_later(
            id, item,
            BackoffDelay(item.attempts - 1, options_.backoff_base, options_.backoff_cap, uniform(rng)),
            RecipientStatus::kUnknown);
        return;
      case RetryPolicy::kReconcile:
        if (options_.reconcile_delays.empty()) {
          finish(std::move(item), RecipientStatus::kUnknown, {}, &outcome.error);
          items.erase(it);
          return;
        }
        item.lookup = true;
        item.lookups = 0;
        schedule(id, now + options_.reconcile_delays.front());
        return;
    }
  };

  auto on_list = [&](std::uint64_t id, ListOutcome& outcome) {
    --in_flight;
    auto it = items.find(id);
    if (it == items.end()) return;
    Item& item = it->second;
    // A lookup that failed (throttled, 5xx, transport) decided nothing: ask again after the
    // backoff, without spending one of the reconciliation attempts. A list is safe to repeat.
    if (outcome.error && !cancelling && item.lookup_throttles < options_.max_attempts) {
      ++item.lookup_throttles;
      milliseconds delay = BackoffDelay(item.lookup_throttles, options_.backoff_base,
                                        options_.backoff_cap, uniform(rng));
      if (outcome.error.http_status == 429 && outcome.retry_after.count() >= 0) {
        delay = outcome.retry_after;
      }
      schedule(id, Clock::now() + delay);
      return;
    }
    ++item.lookups;
    const bool more = item.lookups < options_.reconcile_delays.size();
    if (outcome.error) {
      if (more && !cancelling) {
        schedule(id, Clock::now() + options_.reconcile_delays[item.lookups]);
        return;
      }
      Error e = item.last_error;
      e.message = "outcome unknown: " + item.last_error.message +
                  "; the lookup failed: " + outcome.error.message;
      finish(std::move(item), RecipientStatus::kUnknown, {}, &e);
      items.erase(it);
      return;
    }
    // Created by us: same To (and From), our body (a Messaging Service may append text), and
    // created no earlier than a minute before our first attempt (clock skew margin).
    for (ListedMessage& m : outcome.messages) {
      if (m.to != item.to) continue;
      if (!options_.from.empty() && m.from != options_.from) continue;
      if (!options_.messaging_service_sid.empty() && !m.messaging_service_sid.empty() &&
          m.messaging_service_sid != options_.messaging_service_sid) {
        continue;
      }
      if (const std::string& body = body_of(item); m.body.compare(0, body.size(), body) != 0) {
        continue;
      }
      if (auto created = ParseRfc2822(m.date_created);
          created && *created < item.first_sent_unix - 60) {
        continue;
      }
      finish(std::move(item), RecipientStatus::kSent, std::move(m.sid), nullptr);
      items.erase(it);
      return;
    }
    if (more && !cancelling) {
      schedule(id, Clock::now() + options_.reconcile_delays[item.lookups]);
      return;
    }
    if (cancelling) {
      Error e = item.last_error;
      e.message = "outcome unknown: " + item.last_error.message +
                  "; cancelled before it could be reconciled";
      finish(std::move(item), RecipientStatus::kUnknown, {}, &e);
      items.erase(it);
      return;
    }
    // Not created: resending cannot duplicate it.
    item.lookup = false;
    retry_later(id, item, milliseconds(0), RecipientStatus::kUnknown);
  };

  auto intake = [&]() {
    while (intake_open && fresh.size() < fresh_cap) {
      chunk.clear();
      bool more = true;
      try {
        more = producer_(chunk, options_.producer_chunk);
      } catch (const std::exception& e) {
        more = false;
        std::lock_guard lock(shared->mu);
        shared->summary.producer_error = e.what();
      }
      for (Recipient& r : chunk) {
        ++local.total;
        if (!r.error.empty()) {
          reject(std::move(r.to), RecipientStatus::kInvalid, 21211, std::move(r.error));
          continue;
        }
        std::string address = r.to;
        if (options_.whatsapp && !ascii::StartsWithIgnoreCase(address, "whatsapp:")) {
          address = "whatsapp:" + address;
        }
        PhoneResult pr;
        try {
          pr = TryNormalizeAddressInCheckedRegion(address, options_.region, PhonePolicy::kStrict);
        } catch (const std::invalid_argument& e) {
          pr.reason = e.what();
        }
        if (!pr.ok()) {
          reject(std::move(r.to), RecipientStatus::kInvalid, 21211,
                 "invalid phone number '" + r.to + "': " + pr.reason);
          continue;
        }
        if (!seen.Insert(pr.e164)) {
          reject(std::move(pr.e164), RecipientStatus::kDuplicate, 0,
                 "duplicate of an earlier recipient");
          continue;
        }
        Item item;
        item.to = std::move(pr.e164);
        if (r.body) {
          item.body = std::move(*r.body);
          try {
            item.segments = SegmentsOf(item.body, options_.smart_encoded);
          } catch (const std::invalid_argument&) {
            reject(std::move(item.to), RecipientStatus::kInvalid, 0, "body: not valid UTF-8");
            continue;
          }
          item.own_body = true;
        } else {
          item.segments = segments_;
        }
        if (body_of(item).empty() && options_.media_urls.empty()) {
          reject(std::move(item.to), RecipientStatus::kInvalid, 21602,
                 "body: required when no media_url is given");
          continue;
        }
        const std::uint64_t id = ++next_id;
        items.emplace(id, std::move(item));
        fresh.push_back(id);
      }
      if (!more) intake_open = false;
      if (chunk.empty()) break;
    }
  };

  auto publish = [&](bool final_call) {
    const auto now = Clock::now();
    local.in_flight = in_flight;
    local.duration_seconds = std::chrono::duration<double>(now - start).count();
    local.rate = local.duration_seconds > 0
                     ? static_cast<double>(local.sent) / local.duration_seconds
                     : 0.0;
    local.backlog_seconds = pacer.BacklogSeconds(now);
    local.window = window.limit();
    local.was_cancelled = cancelling;
    BulkSummary snapshot;
    {
      std::lock_guard lock(shared->mu);
      std::string producer_error = std::move(shared->summary.producer_error);
      std::string fatal_error = std::move(shared->summary.fatal_error);
      shared->summary = local;
      shared->summary.producer_error = std::move(producer_error);
      shared->summary.fatal_error = std::move(fatal_error);
      shared->summary.done = false;
      if (options_.keep_results) {
        shared->results.insert(shared->results.end(), batch.begin(), batch.end());
      }
      snapshot = shared->summary;
    }
    // User callbacks run with no lock held; one that throws never stops the job (the Python
    // bindings report their exceptions themselves, this only guards against C++ ones).
    try {
      if (on_results_ && !batch.empty()) on_results_(batch);
    } catch (const std::exception&) {
    }
    batch.clear();
    if (on_progress_ && (final_call || now - last_progress >= options_.progress_interval)) {
      last_progress = now;
      snapshot.done = final_call;
      try {
        on_progress_(snapshot);
      } catch (const std::exception&) {
      }
    }
  };

  std::vector<Event> events;
  const std::function<void(std::uint64_t, CreateOutcome&)> on_create_handler =
      [&on_create](std::uint64_t id, CreateOutcome& outcome) { on_create(id, outcome); };
  const auto lookahead = static_cast<std::int64_t>(transport_->Lookahead());
  int window_told = 0;
  for (;;) {
    shared->TakeEvents(events);
    if (shared->cancel.load() && !cancelling) cancelling = true;
    for (Event& ev : events) {
      if (ev.is_list) {
        on_list(ev.id, ev.list);
      } else {
        on_create(ev.id, ev.create);
      }
    }
    events.clear();
    const std::size_t drained = transport_->DrainCreates(on_create_handler);
    shared->event_count.fetch_sub(static_cast<std::int64_t>(drained));

    if (cancelling || fatal) {
      intake_open = false;
      const RecipientStatus status = fatal ? RecipientStatus::kFailed : RecipientStatus::kCancelled;
      Error not_sent = fatal;
      if (!fatal) {
        not_sent.category = ErrorCategory::kCancelled;
        not_sent.message = "cancelled before it was sent";
      }
      for (std::uint64_t id : fresh) {
        auto it = items.find(id);
        finish(std::move(it->second), status, {}, &not_sent);
        items.erase(it);
      }
      fresh.clear();
      // Scheduled blind retries were not sent; scheduled lookups stay unknown.
      while (!scheduled.empty()) {
        auto id = scheduled.top().second;
        scheduled.pop();
        auto it = items.find(id);
        if (it == items.end()) continue;
        Error e = it->second.last_error;
        if (it->second.lookup) {
          e.message = "outcome unknown: " + e.message + "; cancelled before it could be reconciled";
          finish(std::move(it->second), RecipientStatus::kUnknown, {}, &e);
        } else if (fatal) {
          finish(std::move(it->second), RecipientStatus::kFailed, {}, &fatal);
        } else {
          e.message = "cancelled before it was resent (last error: " + e.message + ")";
          finish(std::move(it->second), RecipientStatus::kCancelled, {}, &e);
        }
        items.erase(it);
      }
    }

    intake();

    // Fill the window: due retries/lookups first, then fresh recipients, each through the pacer.
    auto now = Clock::now();
    Clock::time_point wake_at = now + options_.progress_interval;
    // A transport with a lookahead holds prepared creates beyond the window and keeps the
    // window itself (it starts the next one as soon as one completes).
    if (window.limit() != window_told) {
      window_told = window.limit();
      transport_->SetWindow(window_told);
    }
    while (in_flight < window.limit() + lookahead) {
      std::uint64_t id = 0;
      bool from_schedule = false;
      if (!scheduled.empty() && scheduled.top().first <= now) {
        id = scheduled.top().second;
        from_schedule = true;
      } else if (!fresh.empty()) {
        id = fresh.front();
      } else {
        break;
      }
      auto found = items.find(id);
      if (found == items.end()) {  // finished while scheduled (cannot happen; be safe)
        if (from_schedule) {
          scheduled.pop();
        } else {
          fresh.pop_front();
        }
        continue;
      }
      Item& item = found->second;
      if (item.lookup) {
        scheduled.pop();
        submit_lookup(id, item);
        continue;
      }
      const auto allowed = pacer.NextAllowed(now, item.segments);
      if (allowed > now) {
        wake_at = std::min(wake_at, allowed);
        break;
      }
      if (from_schedule) {
        scheduled.pop();
      } else {
        fresh.pop_front();
      }
      pacer.Commit(now, item.segments);
      submit_create(id, item);
    }
    transport_->Flush();
    if (!scheduled.empty()) wake_at = std::min(wake_at, scheduled.top().first);

    const bool finished = !intake_open && fresh.empty() && scheduled.empty() && in_flight == 0;
    publish(finished);
    if (finished) break;

    if (shared->cancel.load() && !cancelling) continue;
    // Sleep until enough completions, a cancel, the pacer or a scheduled retry/lookup is due.
    // With requests in flight, wake for a batch of an eighth of the window, or after 1 ms.
    const std::int64_t batch_size = std::max<std::int64_t>(1, window.limit() / 8);
    const std::int64_t notify_at = std::min(batch_size, std::max<std::int64_t>(1, in_flight));
    shared->notify_at.store(notify_at, std::memory_order_relaxed);
    if (in_flight > notify_at) wake_at = std::min(wake_at, Clock::now() + milliseconds(1));
    auto ready = [&] {
      return shared->event_count.load() >= notify_at || (shared->cancel.load() && !cancelling);
    };
    std::unique_lock lock(shared->wake_mu);
    shared->sleeping.store(true);  // seq_cst: see Shared::Post
    if (!ready()) shared->wake.wait_until(lock, wake_at, ready);
    shared->sleeping.store(false);
  }
}

}  // namespace twiliocore
