#pragma once

/// @file
/// How fast a bulk job sends: the per-sender pacer (segments per second, as Twilio queues
/// them), the adaptive in-flight window, and the sender rates and durations they start from.
/// Pure and single-threaded: each job's coordinator owns its pacer and window.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace twiliocore::internal {

/// Paces one sender in message segments per second, modelling the sender's queue at Twilio.
///
/// Generic cell rate algorithm: `tat` is the time at which the queue Twilio holds for the sender
/// would be empty if it drains at `rate`; a message of `s` segments may be submitted when the
/// backlog after it, `tat - now + s/rate`, stays within `max_backlog`. With `max_backlog` near
/// Twilio's 10-hour cap requests go as fast as they can until the queue nears the cap and are
/// paced to the rate from then on; with `max_backlog` = 0 they are paced from the start.
/// Not thread-safe (owned by one coordinator).
class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  /// @param segments_per_second  the sender's rate; <= 0 disables pacing altogether.
  /// @param max_backlog          largest estimated queue at Twilio to allow.
  Pacer(double segments_per_second, std::chrono::duration<double> max_backlog);

  /// Earliest time a message of `segments` may be submitted (`now` when it may go at once).
  [[nodiscard]] Clock::time_point NextAllowed(Clock::time_point now, std::size_t segments) const;
  /// Records a submission of `segments` at `now`.
  void Commit(Clock::time_point now, std::size_t segments);
  /// Gives back the segments of a message Twilio did not queue (rejected or never sent).
  void Refund(Clock::time_point now, std::size_t segments);
  /// Twilio said the queue is full (21611): assume the backlog is at `max_backlog`.
  void MarkFull(Clock::time_point now);
  /// Estimated backlog at Twilio, in seconds.
  [[nodiscard]] double BacklogSeconds(Clock::time_point now) const;
  /// The rate paced to, in segments per second (0 when not paced).
  [[nodiscard]] double rate() const noexcept { return rate_; }
  /// False when the rate is unknown: every message may go at once.
  [[nodiscard]] bool paced() const noexcept { return rate_ > 0; }

 private:
  double rate_;
  Clock::duration tolerance_;
  Clock::time_point tat_{};
};

/// The in-flight window: halves on a 429 (at most once per window's worth of requests, so a
/// burst of 429s from one window counts once) and grows back by one per window of successes.
/// Not thread-safe.
class AdaptiveWindow {
 public:
  /// Starts at `max_window` (at least 1), the most it grows back to.
  explicit AdaptiveWindow(int max_window);
  /// The current limit on requests in flight.
  [[nodiscard]] int limit() const noexcept { return limit_; }
  /// The limit it started at and never exceeds.
  [[nodiscard]] int max() const noexcept { return max_; }
  /// Call at each submission; returns the request's sequence number.
  std::uint64_t OnSubmit() noexcept { return ++submitted_; }
  /// A request submitted as `sequence` was throttled (429).
  void OnThrottled(std::uint64_t sequence) noexcept;
  /// A request succeeded.
  void OnSuccess() noexcept;

 private:
  int max_;
  int limit_;
  int successes_ = 0;
  std::uint64_t submitted_ = 0;
  std::uint64_t last_cut_ = 0;
};

/// Twilio's default rate for a sender, in segments per second: 1 for a US/CA long code,
/// 3 for US toll-free, 100 for a short code, 80 for WhatsApp, 10 for other senders; 0 (unknown,
/// not paced) for a Messaging Service, whose sender pool the client cannot see.
[[nodiscard]] double DefaultSenderRate(std::string_view from, std::string_view messaging_service_sid);

/// Estimated time to send `recipients` messages of `segments` each at `rate` segments/s
/// (0 when the rate is unknown). Pure.
[[nodiscard]] double EstimateDuration(std::int64_t recipients, std::size_t segments, double rate) noexcept;

/// Segments `body` costs as Twilio sends it: after Smart Encoding when the job asks for it.
/// @throws std::invalid_argument when `body` is not UTF-8.
[[nodiscard]] std::size_t SegmentsOf(std::string_view body, bool smart_encoded);

}  // namespace twiliocore::internal
