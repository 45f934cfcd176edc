#include "fanout/coordinator.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "fanout/retry.h"
#include "twiliocore/ascii.h"
#include "twiliocore/phone.h"

namespace twiliocore::internal {

namespace {

using std::chrono::milliseconds;

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
// JobState

void JobState::OnCreate(std::uint64_t tag, CreateOutcome outcome) {
  Event event;
  event.id = tag;
  event.create = std::move(outcome);
  events.Post(std::move(event));
}

void JobState::OnList(std::uint64_t tag, ListOutcome outcome) {
  Event event;
  event.id = tag;
  event.is_list = true;
  event.list = std::move(outcome);
  events.Post(std::move(event));
}

// ---------------------------------------------------------------------------------------------
// Coordinator

Coordinator::Coordinator(BulkTransport& transport, const BulkOptions& options,
                         const RecipientProducer& producer, const ResultSink& on_results,
                         const ProgressSink& on_progress, double rate, std::size_t segments,
                         JobState& state)
    : transport_(transport),
      options_(options),
      producer_(producer),
      on_results_(on_results),
      on_progress_(on_progress),
      segments_(segments),
      state_(state),
      start_(Clock::now()),
      // A configured rate paces from the start; 50 ms of slack lets a window's worth go out in
      // one pass at high rates without changing the rate held (at 1 segment/s it is none).
      pacer_(rate, options.mps > 0 ? std::chrono::duration<double>(0.05) : options.max_backlog),
      window_(options.window),
      rng_(options.seed != 0 ? options.seed : std::random_device{}()),
      last_progress_(start_),
      fresh_cap_(std::max<std::size_t>(options.producer_chunk,
                                       static_cast<std::size_t>(options.window) * 2)),
      lookahead_(static_cast<std::int64_t>(transport.Lookahead())),
      on_created_([this](std::uint64_t id, CreateOutcome& outcome) { OnCreated(id, outcome); }) {
  local_.window = window_.limit();
  message_.from = options.from;
  message_.messaging_service_sid = options.messaging_service_sid;
  message_.media_urls = options.media_urls;
  message_.status_callback = options.status_callback;
  message_.smart_encoded = options.smart_encoded;
}

void Coordinator::Run() {
  for (;;) {
    TakeCompletions();
    if (cancelling_ || fatal_) StopSending();
    Intake();
    const Clock::time_point wake_at = FillWindow();
    const bool finished = !intake_open_ && fresh_.empty() && scheduled_.empty() && in_flight_ == 0;
    Publish(finished);
    if (finished) return;
    if (state_.cancel.load() && !cancelling_) continue;  // handle the cancel before sleeping
    Sleep(wake_at);
  }
}

// ---------------------------------------------------------------------------------------------
// Completion

void Coordinator::TakeCompletions() {
  state_.events.TakeAll(events_);
  // Read after taking the outcomes and before handling them: a cancel that came first stops
  // their resends and lookups.
  if (state_.cancel.load() && !cancelling_) cancelling_ = true;
  for (Event& ev : events_) {
    if (ev.is_list) {
      Reconcile(ev.id, ev.list);
    } else {
      OnCreated(ev.id, ev.create);
    }
  }
  events_.clear();
  const std::size_t drained = transport_.DrainCreates(on_created_);
  state_.events.Taken(static_cast<std::int64_t>(drained));
}

void Coordinator::OnCreated(std::uint64_t id, CreateOutcome& outcome) {
  --in_flight_;
  auto it = items_.find(id);
  if (it == items_.end()) return;
  Item& item = it->second;
  const auto now = Clock::now();
  item.last_error = outcome.error;
  switch (ClassifyOutcome(outcome.error)) {
    case OutcomeClass::kSuccess:
      window_.OnSuccess();
      Finish(it, RecipientStatus::kSent, std::move(outcome.sid), nullptr);
      return;
    case OutcomeClass::kPermanent:
      pacer_.Refund(now, item.segments);
      Finish(it, RecipientStatus::kFailed, {}, &outcome.error);
      return;
    case OutcomeClass::kFatal:
      if (!fatal_) {
        fatal_ = outcome.error;
        intake_open_ = false;
        std::lock_guard lock(state_.mu);
        state_.summary.fatal_error = outcome.error.message;
      }
      Finish(it, RecipientStatus::kFailed, {}, &outcome.error);
      return;
    case OutcomeClass::kQueueFull:
      pacer_.Refund(now, item.segments);
      pacer_.MarkFull(now);
      RetryLater(it, milliseconds(0), RecipientStatus::kFailed);
      return;
    case OutcomeClass::kRetryable: {
      pacer_.Refund(now, item.segments);
      milliseconds delay = Backoff(item.attempts - 1);
      if (outcome.error.http_status == 429) {
        window_.OnThrottled(item.sequence);
        if (outcome.retry_after.count() >= 0) delay = outcome.retry_after;
      }
      RetryLater(it, delay, RecipientStatus::kFailed);
      return;
    }
    case OutcomeClass::kCancelled:
      Finish(it, RecipientStatus::kUnknown, {}, &outcome.error);
      return;
    case OutcomeClass::kAmbiguous:
      break;
  }
  switch (options_.retry_policy) {
    case RetryPolicy::kFail:
      Finish(it, RecipientStatus::kUnknown, {}, &outcome.error);
      return;
    case RetryPolicy::kRetry:
      RetryLater(it, Backoff(item.attempts - 1), RecipientStatus::kUnknown);
      return;
    case RetryPolicy::kReconcile:
      if (options_.reconcile_delays.empty()) {
        Finish(it, RecipientStatus::kUnknown, {}, &outcome.error);
        return;
      }
      item.lookup = true;
      item.lookups = 0;
      Schedule(id, now + options_.reconcile_delays.front());
      return;
  }
}

// Resends the item later (blind retry), or gives up when its attempts are spent.
void Coordinator::RetryLater(Items::iterator it, milliseconds delay, RecipientStatus give_up) {
  Item& item = it->second;
  if (cancelling_ || fatal_) {
    Error e = fatal_ ? fatal_ : item.last_error;
    Finish(it, fatal_ ? RecipientStatus::kFailed : RecipientStatus::kCancelled, {}, &e);
    return;
  }
  if (item.attempts >= options_.max_attempts) {
    Error e = item.last_error;
    Finish(it, give_up, {}, &e);
    return;
  }
  item.lookup = false;
  Schedule(it->first, Clock::now() + delay);
}

// ---------------------------------------------------------------------------------------------
// Reconciliation

void Coordinator::Reconcile(std::uint64_t id, ListOutcome& outcome) {
  --in_flight_;
  auto it = items_.find(id);
  if (it == items_.end()) return;
  Item& item = it->second;
  // A lookup that failed (throttled, 5xx, transport) decided nothing: ask again after the
  // backoff, without spending one of the reconciliation attempts. A list is safe to repeat.
  if (outcome.error && !cancelling_ && item.lookup_throttles < options_.max_attempts) {
    ++item.lookup_throttles;
    milliseconds delay = Backoff(item.lookup_throttles);
    if (outcome.error.http_status == 429 && outcome.retry_after.count() >= 0) {
      delay = outcome.retry_after;
    }
    Schedule(id, Clock::now() + delay);
    return;
  }
  ++item.lookups;
  const bool more = item.lookups < options_.reconcile_delays.size();
  if (outcome.error) {
    if (more && !cancelling_) {
      Schedule(id, Clock::now() + options_.reconcile_delays[item.lookups]);
      return;
    }
    Error e = item.last_error;
    e.message = "outcome unknown: " + item.last_error.message +
                "; the lookup failed: " + outcome.error.message;
    Finish(it, RecipientStatus::kUnknown, {}, &e);
    return;
  }
  for (ListedMessage& m : outcome.messages) {
    if (IsOurs(item, m)) {
      Finish(it, RecipientStatus::kSent, std::move(m.sid), nullptr);
      return;
    }
  }
  if (more && !cancelling_) {
    Schedule(id, Clock::now() + options_.reconcile_delays[item.lookups]);
    return;
  }
  if (cancelling_) {
    Error e = item.last_error;
    e.message = "outcome unknown: " + item.last_error.message +
                "; cancelled before it could be reconciled";
    Finish(it, RecipientStatus::kUnknown, {}, &e);
    return;
  }
  // Not created: resending cannot duplicate it.
  item.lookup = false;
  RetryLater(it, milliseconds(0), RecipientStatus::kUnknown);
}

// Created by us: same To (and From), our body (a Messaging Service may append text), and
// created no earlier than a minute before our first attempt (clock skew margin).
bool Coordinator::IsOurs(const Item& item, const ListedMessage& m) const {
  if (m.to != item.to) return false;
  if (!options_.from.empty() && m.from != options_.from) return false;
  if (!options_.messaging_service_sid.empty() && !m.messaging_service_sid.empty() &&
      m.messaging_service_sid != options_.messaging_service_sid) {
    return false;
  }
  if (const std::string& body = BodyOf(item); m.body.compare(0, body.size(), body) != 0) {
    return false;
  }
  if (auto created = ParseRfc2822(m.date_created);
      created && *created < item.first_sent_unix - 60) {
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Cancel or fatal error

// Nothing more is sent: recipients never sent are finished as cancelled (failed after a fatal
// error), scheduled blind retries likewise, and scheduled lookups as unknown.
void Coordinator::StopSending() {
  intake_open_ = false;
  const RecipientStatus status = fatal_ ? RecipientStatus::kFailed : RecipientStatus::kCancelled;
  Error not_sent = fatal_;
  if (!fatal_) {
    not_sent.category = ErrorCategory::kCancelled;
    not_sent.message = "cancelled before it was sent";
  }
  for (std::uint64_t id : fresh_) Finish(items_.find(id), status, {}, &not_sent);
  fresh_.clear();
  while (!scheduled_.empty()) {
    auto id = scheduled_.top().second;
    scheduled_.pop();
    auto it = items_.find(id);
    if (it == items_.end()) continue;
    Error e = it->second.last_error;
    if (it->second.lookup) {
      e.message = "outcome unknown: " + e.message + "; cancelled before it could be reconciled";
      Finish(it, RecipientStatus::kUnknown, {}, &e);
    } else if (fatal_) {
      Finish(it, RecipientStatus::kFailed, {}, &fatal_);
    } else {
      e.message = "cancelled before it was resent (last error: " + e.message + ")";
      Finish(it, RecipientStatus::kCancelled, {}, &e);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Intake

// Takes recipients from the producer until the fresh queue holds enough to keep the window
// full (or the producer is done): memory stays bounded however many recipients there are.
void Coordinator::Intake() {
  while (intake_open_ && fresh_.size() < fresh_cap_) {
    chunk_.clear();
    bool more = true;
    try {
      more = producer_(chunk_, options_.producer_chunk);
    } catch (const std::exception& e) {
      more = false;
      std::lock_guard lock(state_.mu);
      state_.summary.producer_error = e.what();
    }
    for (Recipient& r : chunk_) Admit(r);
    if (!more) intake_open_ = false;
    if (chunk_.empty()) break;
  }
}

// Normalises one recipient and queues it, or reports it invalid or a duplicate.
void Coordinator::Admit(Recipient& r) {
  ++local_.total;
  if (!r.error.empty()) {
    Reject(std::move(r.to), RecipientStatus::kInvalid, 21211, std::move(r.error));
    return;
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
    Reject(std::move(r.to), RecipientStatus::kInvalid, 21211,
           "invalid phone number '" + r.to + "': " + pr.reason);
    return;
  }
  if (!seen_.Insert(pr.e164)) {
    Reject(std::move(pr.e164), RecipientStatus::kDuplicate, 0, "duplicate of an earlier recipient");
    return;
  }
  Item item;
  item.to = std::move(pr.e164);
  if (r.body) {
    item.body = std::move(*r.body);
    try {
      item.segments = SegmentsOf(item.body, options_.smart_encoded);
    } catch (const std::invalid_argument&) {
      Reject(std::move(item.to), RecipientStatus::kInvalid, 0, "body: not valid UTF-8");
      return;
    }
    item.own_body = true;
  } else {
    item.segments = segments_;
  }
  if (BodyOf(item).empty() && options_.media_urls.empty()) {
    Reject(std::move(item.to), RecipientStatus::kInvalid, 21602,
           "body: required when no media_url is given");
    return;
  }
  const std::uint64_t id = ++next_id_;
  items_.emplace(id, std::move(item));
  fresh_.push_back(id);
}

// ---------------------------------------------------------------------------------------------
// Filling the window

// Submits due retries and lookups first, then fresh recipients, each through the pacer, while
// the window (plus the transport's lookahead) has room. Returns when the loop should wake
// next if nothing arrives: the progress interval, the pacer's next slot, or the next
// scheduled retry or lookup.
Coordinator::Clock::time_point Coordinator::FillWindow() {
  const auto now = Clock::now();
  Clock::time_point wake_at = now + options_.progress_interval;
  // A transport with a lookahead holds prepared creates beyond the window and keeps the
  // window itself (it starts the next one as soon as one completes).
  if (window_.limit() != window_told_) {
    window_told_ = window_.limit();
    transport_.SetWindow(window_told_);
  }
  while (in_flight_ < window_.limit() + lookahead_) {
    std::uint64_t id = 0;
    bool from_schedule = false;
    if (!scheduled_.empty() && scheduled_.top().first <= now) {
      id = scheduled_.top().second;
      from_schedule = true;
    } else if (!fresh_.empty()) {
      id = fresh_.front();
    } else {
      break;
    }
    auto found = items_.find(id);
    if (found == items_.end()) {  // finished while scheduled (cannot happen; be safe)
      if (from_schedule) {
        scheduled_.pop();
      } else {
        fresh_.pop_front();
      }
      continue;
    }
    Item& item = found->second;
    if (item.lookup) {
      scheduled_.pop();
      SubmitLookup(id, item);
      continue;
    }
    const auto allowed = pacer_.NextAllowed(now, item.segments);
    if (allowed > now) {
      wake_at = std::min(wake_at, allowed);
      break;
    }
    if (from_schedule) {
      scheduled_.pop();
    } else {
      fresh_.pop_front();
    }
    pacer_.Commit(now, item.segments);
    SubmitCreate(id, item);
  }
  transport_.Flush();
  if (!scheduled_.empty()) wake_at = std::min(wake_at, scheduled_.top().first);
  return wake_at;
}

void Coordinator::SubmitCreate(std::uint64_t id, Item& item) {
  ++item.attempts;
  if (item.attempts > 1) ++local_.retries;
  item.sequence = window_.OnSubmit();
  if (item.first_sent_unix == 0) item.first_sent_unix = UnixNow();
  message_.to = item.to;
  message_.body = BodyOf(item);
  ++in_flight_;
  transport_.CreateMessage(id, message_);
}

void Coordinator::SubmitLookup(std::uint64_t id, const Item& item) {
  ListQuery query;
  query.to = item.to;
  query.from = options_.from;
  ++in_flight_;
  ++local_.reconciled;
  transport_.ListMessages(id, query);
}

// ---------------------------------------------------------------------------------------------
// Results and progress

void Coordinator::Finish(Items::iterator it, RecipientStatus status, std::string sid,
                         const Error* error) {
  Item& item = it->second;
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
    case RecipientStatus::kSent: ++local_.sent; break;
    case RecipientStatus::kFailed: ++local_.failed; break;
    case RecipientStatus::kInvalid: ++local_.invalid; break;
    case RecipientStatus::kDuplicate: ++local_.duplicates; break;
    case RecipientStatus::kUnknown: ++local_.unknown; break;
    case RecipientStatus::kCancelled: ++local_.cancelled; break;
  }
  batch_.push_back(std::move(r));
  items_.erase(it);
}

// A recipient refused at intake (never an item).
void Coordinator::Reject(std::string to, RecipientStatus status, int code, std::string message) {
  RecipientResult r;
  r.to = std::move(to);
  r.status = status;
  r.error_code = code;
  r.error = std::move(message);
  if (status == RecipientStatus::kInvalid) ++local_.invalid;
  if (status == RecipientStatus::kDuplicate) ++local_.duplicates;
  batch_.push_back(std::move(r));
}

// Publishes the counters and the results since the last call to `state_`, then hands the
// results to the result sink and, at most every progress interval (and at the end), the
// summary to the progress sink.
void Coordinator::Publish(bool final_call) {
  const auto now = Clock::now();
  local_.in_flight = in_flight_;
  local_.duration_seconds = std::chrono::duration<double>(now - start_).count();
  local_.rate = local_.duration_seconds > 0
                    ? static_cast<double>(local_.sent) / local_.duration_seconds
                    : 0.0;
  local_.backlog_seconds = pacer_.BacklogSeconds(now);
  local_.window = window_.limit();
  local_.was_cancelled = cancelling_;
  BulkSummary snapshot;
  {
    std::lock_guard lock(state_.mu);
    std::string producer_error = std::move(state_.summary.producer_error);
    std::string fatal_error = std::move(state_.summary.fatal_error);
    state_.summary = local_;
    state_.summary.producer_error = std::move(producer_error);
    state_.summary.fatal_error = std::move(fatal_error);
    state_.summary.done = false;
    if (options_.keep_results) {
      state_.results.insert(state_.results.end(), batch_.begin(), batch_.end());
    }
    snapshot = state_.summary;
  }
  // User callbacks run with no lock held; one that throws never stops the job (the Python
  // bindings report their exceptions themselves, this only guards against C++ ones).
  try {
    if (on_results_ && !batch_.empty()) on_results_(batch_);
  } catch (const std::exception&) {
  }
  batch_.clear();
  if (on_progress_ && (final_call || now - last_progress_ >= options_.progress_interval)) {
    last_progress_ = now;
    snapshot.done = final_call;
    try {
      on_progress_(snapshot);
    } catch (const std::exception&) {
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sleeping

// Sleeps until enough completions, a cancel, the pacer or a scheduled retry/lookup is due.
// With requests in flight, wakes for a batch of an eighth of the window, or after 1 ms.
void Coordinator::Sleep(Clock::time_point wake_at) {
  const std::int64_t batch_size = std::max<std::int64_t>(1, window_.limit() / 8);
  const std::int64_t notify_at = std::min(batch_size, std::max<std::int64_t>(1, in_flight_));
  if (in_flight_ > notify_at) wake_at = std::min(wake_at, Clock::now() + milliseconds(1));
  state_.events.WaitUntil(notify_at, wake_at,
                          [this] { return state_.cancel.load() && !cancelling_; });
}

milliseconds Coordinator::Backoff(int attempt) {
  return BackoffDelay(attempt, options_.backoff_base, options_.backoff_cap, uniform_(rng_));
}

}  // namespace twiliocore::internal
