#pragma once

/// @file
/// A bulk job's coordinator: the one thread that takes recipients from the producer, keeps the
/// window of requests full through the pacer, handles every outcome (resend, reconcile,
/// report) and publishes results and progress. Everything it owns is touched by it alone; what
/// other threads see goes through `JobState`.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fanout/address_set.h"
#include "fanout/event_stack.h"
#include "fanout/pacing.h"
#include "twiliocore/fanout.h"

namespace twiliocore::internal {

/// What a job shares between its coordinator, the transport's threads (outcomes) and the
/// callers of `BulkJob` (summary, results, cancel).
struct JobState final : BulkTransport::Sink {
  std::mutex mu;                        ///< guards the members below up to `results`
  std::condition_variable finished_cv;  ///< waiters: done
  bool done = false;
  bool started = false;
  BulkSummary summary;
  std::vector<RecipientResult> results;

  /// Outcomes on their way to the coordinator, and its sleep.
  EventStack events;
  /// Set (through `events.Interrupt`, so a sleeping coordinator wakes) to cancel the job.
  std::atomic<bool> cancel{false};

  void OnCreate(std::uint64_t tag, CreateOutcome outcome) override;
  void OnList(std::uint64_t tag, ListOutcome outcome) override;
  void OnReady(std::size_t count) override { events.Arrived(static_cast<std::int64_t>(count)); }
};

/// Runs one job on the calling thread, in passes of named steps: take the outcomes that
/// arrived (`TakeCompletions`, which reconciles ambiguous ones through `Reconcile`), stop
/// sending on a cancel or a fatal error (`StopSending`), take recipients from the producer
/// (`Intake`), keep the window full (`FillWindow`), report (`Publish`), then sleep until a
/// batch of outcomes, a cancel or a deadline (`Sleep`).
///
/// Not thread-safe: made and run by the job's thread; it outlives none of its arguments.
class Coordinator {
 public:
  /// @param rate      segments per second to pace to (0: not paced), as the job computed it.
  /// @param segments  segments of the job's default body.
  Coordinator(BulkTransport& transport, const BulkOptions& options,
              const RecipientProducer& producer, const ResultSink& on_results,
              const ProgressSink& on_progress, double rate, std::size_t segments,
              JobState& state);
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  /// Runs the job until every recipient taken has its result and the last progress is out.
  void Run();

 private:
  using Clock = std::chrono::steady_clock;

  /// A recipient taken and not finished: waiting to be sent, in flight, or scheduled.
  struct Item {
    std::string to;
    std::string body;  // the recipient's own body; empty when it has none (`own_body`)
    bool own_body = false;
    std::size_t segments = 1;
    int attempts = 0;
    std::uint64_t sequence = 0;
    bool lookup = false;       // next step is a reconciliation lookup, not a create
    std::size_t lookups = 0;   // lookups done
    int lookup_throttles = 0;  // failed lookups asked again (not counted in `lookups`)
    std::int64_t first_sent_unix = 0;
    Error last_error;
  };
  using Items = std::unordered_map<std::uint64_t, Item>;
  using Due = std::pair<Clock::time_point, std::uint64_t>;

  // The steps of a pass.
  void TakeCompletions();
  void StopSending();
  void Intake();
  Clock::time_point FillWindow();
  void Publish(bool final_call);
  void Sleep(Clock::time_point wake_at);

  // Completion and reconciliation.
  void OnCreated(std::uint64_t id, CreateOutcome& outcome);
  void Reconcile(std::uint64_t id, ListOutcome& outcome);
  [[nodiscard]] bool IsOurs(const Item& item, const ListedMessage& message) const;
  void RetryLater(Items::iterator it, std::chrono::milliseconds delay, RecipientStatus give_up);

  // Intake, submission, results.
  void Admit(Recipient& recipient);
  void SubmitCreate(std::uint64_t id, Item& item);
  void SubmitLookup(std::uint64_t id, const Item& item);
  void Schedule(std::uint64_t id, Clock::time_point due) { scheduled_.emplace(due, id); }
  void Finish(Items::iterator it, RecipientStatus status, std::string sid, const Error* error);
  void Reject(std::string to, RecipientStatus status, int code, std::string message);
  /// The job's body unless the recipient has its own (not copied per recipient).
  [[nodiscard]] const std::string& BodyOf(const Item& item) const {
    return item.own_body ? item.body : options_.body;
  }
  /// A backoff of `attempt` with the job's base, cap and jitter.
  [[nodiscard]] std::chrono::milliseconds Backoff(int attempt);

  BulkTransport& transport_;
  const BulkOptions& options_;
  const RecipientProducer& producer_;
  const ResultSink& on_results_;
  const ProgressSink& on_progress_;
  const std::size_t segments_;
  JobState& state_;

  const Clock::time_point start_;
  Pacer pacer_;
  AdaptiveWindow window_;
  AddressSet seen_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};

  Items items_;                      // in flight or scheduled
  std::deque<std::uint64_t> fresh_;  // ready, never submitted
  std::priority_queue<Due, std::vector<Due>, std::greater<>> scheduled_;  // retries and lookups
  std::uint64_t next_id_ = 0;
  std::int64_t in_flight_ = 0;
  bool intake_open_ = true;
  bool cancelling_ = false;
  Error fatal_;

  BulkSummary local_;                   // the counters, published to `state_` by `Publish`
  std::vector<RecipientResult> batch_;  // results since the last `Publish`
  std::vector<Recipient> chunk_;        // the producer's last chunk (buffers reused)
  std::vector<Event> events_;           // the outcomes taken (buffers reused)
  Clock::time_point last_progress_;
  const std::size_t fresh_cap_;
  /// One message object for every create: the job's fields are set once, `to` and `body`
  /// are assigned per recipient into the buffers of the previous one.
  BulkMessage message_;
  const std::int64_t lookahead_;
  int window_told_ = 0;
  /// `OnCreated` for `BulkTransport::DrainCreates`, made once (not per pass).
  const std::function<void(std::uint64_t, CreateOutcome&)> on_created_;
};

}  // namespace twiliocore::internal
