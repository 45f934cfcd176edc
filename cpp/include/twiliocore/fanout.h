#pragma once

/// @file
/// Bulk fan-out: one message to many recipients, as fast as Twilio allows and never twice.
///
/// A `BulkJob` pulls recipients from a producer (streaming: memory stays bounded however many
/// there are), normalises them to E.164 and drops duplicates, then keeps a bounded window of
/// create requests in flight through a `BulkTransport` (in production the shared HTTP engine,
/// through `TwilioClient`). Sends are paced per sender in message segments per second, the unit
/// Twilio queues and releases in. Retries never send twice: only outcomes Twilio guarantees were
/// not processed are retried blindly (429, failures before the request left); an ambiguous
/// outcome (timeout or reset after sending, 500/502/503/504) is reconciled by looking the
/// message up before anything is resent.
///
/// This header holds what callers use: the job, its options and results, and the transport
/// interface (to send through something other than `TwilioClient`, as tests do). The pieces the
/// job is built from (pacing, retry classification, de-duplication, the engine feed, the event
/// hand-over, the coordinator's loop) are internal, under `cpp/src/fanout/`.
///
/// Threads: each job runs one coordinator thread. Transport outcomes (on the engine thread)
/// only reach it through lock-free hand-overs and wake it once per batch; the producer, the
/// result sink and the progress sink are called on the coordinator thread, never while a lock
/// of the job is held.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "twiliocore/error.h"

namespace twiliocore {

class TwilioClient;

namespace internal {
struct JobState;
}  // namespace internal

// ---------------------------------------------------------------------------------------------
// The two Twilio calls the fan-out makes.

/// One create-message request of a bulk job (form fields of POST Messages.json).
struct BulkMessage {
  std::string to;                     ///< E.164 or `whatsapp:+E164`
  std::string from;                   ///< sender; empty when a Messaging Service picks it
  std::string messaging_service_sid;  ///< `MG...` or empty
  std::string body;                   ///< may be empty when media is given
  std::vector<std::string> media_urls;
  std::string status_callback;
  bool smart_encoded = false;  ///< sends `SmartEncoded=true` (Twilio's Smart Encoding)
};

/// What came back from a create.
struct CreateOutcome {
  Error error;           ///< empty on success
  std::string sid;       ///< `SM...` on success
  std::string status;    ///< Twilio's status on success ("queued", "accepted")
  /// `Retry-After` of a 429 answer; negative when the header was absent.
  std::chrono::milliseconds retry_after{-1};
};

/// A message as listed by GET Messages.json (only what reconciliation needs).
struct ListedMessage {
  std::string sid;
  std::string to;
  std::string from;
  std::string body;
  std::string messaging_service_sid;
  std::string status;
  std::string date_created;  ///< RFC 2822, as Twilio writes it
};

/// What came back from a list.
struct ListOutcome {
  Error error;  ///< empty on success
  std::vector<ListedMessage> messages;
  /// `Retry-After` of a 429 answer; negative when the header was absent.
  std::chrono::milliseconds retry_after{-1};
};

/// Filters of a reconciliation lookup (GET Messages.json?To=&From=&PageSize=).
struct ListQuery {
  std::string to;
  std::string from;  ///< empty when the job sends through a Messaging Service
  int page_size = 50;
};

/// The transport a bulk job sends through. Requests carry the job's tag; outcomes go to the
/// job's `Sink`, exactly once per request, from any thread (possibly synchronously from inside
/// the call). Calls come from one thread at a time (the job's coordinator).
class BulkTransport {
 public:
  /// Receives outcomes.
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void OnCreate(std::uint64_t tag, CreateOutcome outcome) = 0;
    virtual void OnList(std::uint64_t tag, ListOutcome outcome) = 0;
    /// `count` creates' outcomes are ready for `BulkTransport::DrainCreates`.
    virtual void OnReady(std::size_t count) { (void)count; }
  };

  virtual ~BulkTransport() = default;
  /// Called once, before the first request; the transport keeps `sink` alive while any of
  /// its requests is outstanding.
  virtual void Bind(std::shared_ptr<Sink> sink) = 0;
  /// Starts POST /Accounts/{sid}/Messages.json.
  virtual void CreateMessage(std::uint64_t tag, const BulkMessage& message) = 0;
  /// Starts GET /Accounts/{sid}/Messages.json with the query's filters.
  virtual void ListMessages(std::uint64_t tag, const ListQuery& query) = 0;
  /// Called after each round of requests: a transport that holds requests back sends them.
  virtual void Flush() {}
  /// On the job's thread: hands over the creates' outcomes the transport announced with
  /// `Sink::OnReady` (a transport that keeps them in a ring of its own); returns how many.
  virtual std::size_t DrainCreates(
      const std::function<void(std::uint64_t, CreateOutcome&)>& handle) {
    (void)handle;
    return 0;
  }
  /// Creates the transport can hold ready beyond the window: it keeps at most the window
  /// (`SetWindow`) in flight itself and starts the next one the moment one completes, without
  /// waiting for the job. 0: the job keeps the window.
  [[nodiscard]] virtual std::size_t Lookahead() const { return 0; }
  /// The job's current window (most creates in flight), for a transport with a lookahead.
  virtual void SetWindow(int window) { (void)window; }
  /// The job made its last request and every outcome arrived.
  virtual void Close() {}
};

/// A transport over `client` and its shared HTTP engine (the client is kept alive). Creates
/// go through an engine `Feed`: prepared recipients wait in a lock-free ring (a lookahead of
/// `max_in_flight` beyond the window) that the engine thread turns into requests on reused
/// slots, keeping the window full; lookups go through the client.
[[nodiscard]] std::shared_ptr<BulkTransport> MakeClientTransport(
    std::shared_ptr<const TwilioClient> client, std::size_t max_in_flight = 64);

// ---------------------------------------------------------------------------------------------
// The job.

/// One recipient as the producer yields it.
struct Recipient {
  std::string to;                   ///< any notation `ToE164` accepts, or `whatsapp:...`
  std::optional<std::string> body;  ///< per-recipient body; the job's body when absent
  std::string error;                ///< set by the producer for an unusable item (reported invalid)
};

/// Fills `out` with up to `max` recipients; returns false once exhausted (after filling any
/// last ones). Called on the coordinator thread. An exception ends the intake (as if exhausted)
/// and is reported through `BulkSummary::producer_error`.
using RecipientProducer = std::function<bool(std::vector<Recipient>& out, std::size_t max)>;

/// Final state of one recipient.
enum class RecipientStatus { kSent, kFailed, kInvalid, kDuplicate, kUnknown, kCancelled };

/// "sent", "failed", "invalid", "duplicate", "unknown", "cancelled".
[[nodiscard]] const char* RecipientStatusName(RecipientStatus status) noexcept;

/// The outcome for one recipient.
struct RecipientResult {
  std::string to;           ///< normalised address (the input as given when invalid)
  RecipientStatus status = RecipientStatus::kFailed;
  std::string message_sid;  ///< when sent (or found by reconciliation)
  int error_code = 0;       ///< Twilio's code (or HTTP status) when not sent
  std::string error;        ///< message when not sent
  int attempts = 0;         ///< create requests made for this recipient
};

/// Counters of a job; a snapshot can be taken at any time.
struct BulkSummary {
  std::int64_t total = 0;       ///< recipients taken from the producer
  std::int64_t sent = 0;
  std::int64_t failed = 0;
  std::int64_t invalid = 0;
  std::int64_t duplicates = 0;
  std::int64_t unknown = 0;
  std::int64_t cancelled = 0;
  std::int64_t retries = 0;     ///< resends (blind retries and resends after reconciliation)
  std::int64_t reconciled = 0;  ///< ambiguous outcomes looked up
  std::int64_t in_flight = 0;
  double duration_seconds = 0;
  double rate = 0;              ///< sent per second so far
  double backlog_seconds = 0;   ///< estimated queue of the sender at Twilio
  int window = 0;               ///< current in-flight limit
  bool done = false;
  bool was_cancelled = false;
  std::string producer_error;   ///< what the producer threw, if it did
  std::string fatal_error;      ///< why the job stopped early (e.g. authentication), if it did

  [[nodiscard]] std::int64_t finished() const noexcept {
    return sent + failed + invalid + duplicates + unknown + cancelled;
  }
};

/// How an ambiguous outcome is handled.
enum class RetryPolicy {
  kReconcile,  ///< look the message up; resend only if it was not created (default)
  kRetry,      ///< resend blindly (may send twice)
  kFail,       ///< neither: report the recipient as `unknown`
};

/// Settings of a bulk job.
struct BulkOptions {
  std::string from;                   ///< sender (E.164, short code, alphanumeric)
  std::string messaging_service_sid;  ///< `MG...`; either this or `from`
  std::string body;                   ///< default body
  std::vector<std::string> media_urls;
  std::string status_callback;
  std::string region = "US";          ///< default region for national numbers
  bool whatsapp = false;              ///< prefix `whatsapp:` to recipients and sender
  /// Send `SmartEncoded=true`; segments (pacing, duration estimate) are then counted on the
  /// body as Twilio sends it (`SmartEncode`).
  bool smart_encoded = false;
  int window = 64;                    ///< most create requests in flight
  /// Segments per second to pace to from the start (with 50 ms of slack); 0 = the sender's
  /// default rate, applied only once the estimated queue at Twilio nears `max_backlog`.
  double mps = 0;
  std::chrono::duration<double> max_backlog = std::chrono::hours(9) + std::chrono::minutes(30);
  RetryPolicy retry_policy = RetryPolicy::kReconcile;
  int max_attempts = 8;  ///< create requests per recipient, resends included
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_cap{20000};
  /// Waits before each reconciliation lookup (Twilio's list may lag a create briefly).
  std::vector<std::chrono::milliseconds> reconcile_delays{std::chrono::milliseconds(500),
                                                          std::chrono::milliseconds(2000),
                                                          std::chrono::milliseconds(5000)};
  std::chrono::milliseconds progress_interval{250};
  bool keep_results = true;            ///< keep per-recipient results for `results()`
  std::int64_t expected_recipients = -1;  ///< for the duration estimate, when known
  std::uint64_t seed = 0;              ///< jitter seed; 0 = random
  std::size_t producer_chunk = 512;    ///< recipients asked from the producer per call
};

/// Called on the coordinator thread with results in completion order, in batches.
using ResultSink = std::function<void(const std::vector<RecipientResult>&)>;
/// Called on the coordinator thread at most every `progress_interval`, and once at the end.
using ProgressSink = std::function<void(const BulkSummary&)>;

/// A running bulk send. Create, then `Start()`; every other member is safe from any thread.
class BulkJob {
 public:
  /// @throws std::invalid_argument naming the field when `options` are unusable.
  BulkJob(std::shared_ptr<BulkTransport> transport, BulkOptions options,
          RecipientProducer producer, ResultSink on_results = {}, ProgressSink on_progress = {});
  /// Cancels and joins.
  ~BulkJob();
  BulkJob(const BulkJob&) = delete;
  BulkJob& operator=(const BulkJob&) = delete;

  /// Starts the coordinator thread (once).
  void Start();
  /// Stops taking and sending recipients. Requests already handed to the transport (with a
  /// lookahead, at most one window beyond those in flight) are finished and reported
  /// (cancelling them would make their outcome ambiguous); the rest are `cancelled`.
  void Cancel() noexcept;
  /// Waits up to `timeout` for the job to finish; true when it has.
  bool WaitFor(std::chrono::milliseconds timeout);
  /// Waits for the coordinator thread to end.
  void Join();
  [[nodiscard]] bool done() const;
  [[nodiscard]] BulkSummary summary() const;
  /// Per-recipient results so far (empty unless `keep_results`).
  [[nodiscard]] std::vector<RecipientResult> results() const;
  /// Estimated duration in seconds from the sender's rate, body segments and
  /// `expected_recipients` (0 when either is unknown).
  [[nodiscard]] double estimated_seconds() const noexcept { return estimated_seconds_; }
  /// The pacing rate in segments per second (0 = not paced).
  [[nodiscard]] double rate() const noexcept { return rate_; }
  /// Segments of the default body.
  [[nodiscard]] std::size_t segments() const noexcept { return segments_; }

 private:
  void Run();

  std::shared_ptr<BulkTransport> transport_;
  BulkOptions options_;
  RecipientProducer producer_;
  ResultSink on_results_;
  ProgressSink on_progress_;
  double rate_ = 0;
  std::size_t segments_ = 1;
  double estimated_seconds_ = 0;

  // Shared between the coordinator and the transport's threads / callers.
  std::shared_ptr<internal::JobState> state_;
  std::mutex join_mu_;  // Join may be called from several threads at once
  std::thread thread_;
};

}  // namespace twiliocore
