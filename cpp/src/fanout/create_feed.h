#pragma once

/// @file
/// The engine feed of a bulk job's creates: two single-producer single-consumer rings between
/// the job's coordinator and the HTTP engine's loop thread, so that neither thread ever waits
/// for the other to hand over a recipient or an outcome.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twiliocore/fanout.h"
#include "twiliocore/http_engine.h"
#include "twiliocore/twilio_client.h"

namespace twiliocore::internal {

/// The coordinator pushes prepared recipients into a ring; the engine thread pops them in
/// `Next` and writes each request into a reused slot from the job's create template, keeping
/// up to `Limit()` in flight. Outcomes go into a second ring the coordinator drains; they are
/// published, and the job told how many, once per engine pass (`Flush`).
///
/// Threads: `Push`, `SetLimit`, `Drain` and `CancelPending` on the coordinator; `Next`,
/// `Done`, `Flush` and `Stopped` on the engine thread.
class CreateFeed final : public http::Feed {
 public:
  /// Both rings hold `capacity` rounded up to a power of two; the job never has more creates
  /// outstanding through the feed than that.
  CreateFeed(MessageCreateTemplate form, std::shared_ptr<BulkTransport::Sink> sink,
             std::size_t capacity);

  /// The job's create template (fixed).
  [[nodiscard]] const MessageCreateTemplate& form() const noexcept { return form_; }

  /// Coordinator: queues a create to `to` (with its own `body`, or the template's); false when
  /// the ring is full. The caller checked the form first (`MessageCreateTemplate::Check`).
  /// Inline: it runs once per message on the coordinator.
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

  /// Most creates in flight, as the engine reads it before each `Next`.
  [[nodiscard]] std::size_t Limit() const override { return limit_.load(std::memory_order_relaxed); }
  /// Coordinator: a new window (poke the engine after raising it).
  void SetLimit(std::size_t limit) { limit_.store(limit, std::memory_order_relaxed); }

  void Stopped() override { stopped_.store(true, std::memory_order_release); }
  /// True once the engine will take nothing more from the ring.
  [[nodiscard]] bool stopped() const { return stopped_.load(std::memory_order_acquire); }

  /// Coordinator, once stopped (the engine no longer reads the ring, so this thread may):
  /// reports what is left in the ring as cancelled before it was sent.
  void CancelPending();

  bool Next(http::Request& request, std::uint64_t& tag) override;
  void Done(std::uint64_t tag, http::Response& response) override;
  void Flush() override;

  /// Coordinator: hands each published outcome to `handle` (a copy: the slot keeps its
  /// buffers for the engine); returns how many.
  std::size_t Drain(const std::function<void(std::uint64_t, CreateOutcome&)>& handle);

 private:
  struct Entry {
    std::uint64_t tag = 0;
    std::string to;
    std::string body;
    bool own_body = false;
  };
  struct Completion {
    std::uint64_t tag = 0;
    CreateOutcome outcome;
  };

  const MessageCreateTemplate form_;
  const std::shared_ptr<BulkTransport::Sink> sink_;
  std::vector<Entry> ring_;
  std::size_t mask_ = 0;
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

}  // namespace twiliocore::internal
