#include "fanout/create_feed.h"

#include <utility>

#include "fanout/reply_scanner.h"

namespace twiliocore::internal {

CreateFeed::CreateFeed(MessageCreateTemplate form, std::shared_ptr<BulkTransport::Sink> sink,
                       std::size_t capacity)
    : form_(std::move(form)), sink_(std::move(sink)) {
  std::size_t size = 1;
  while (size < capacity) size <<= 1;
  ring_.resize(size);
  done_.resize(size);
  mask_ = size - 1;
}

void CreateFeed::CancelPending() {
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

bool CreateFeed::Next(http::Request& request, std::uint64_t& tag) {
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

void CreateFeed::Done(std::uint64_t tag, http::Response& response) {
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

void CreateFeed::Flush() {
  const std::size_t published = done_published_.load(std::memory_order_relaxed);
  if (done_tail_ == published) return;
  done_published_.store(done_tail_, std::memory_order_release);
  sink_->OnReady(done_tail_ - published);
}

std::size_t CreateFeed::Drain(const std::function<void(std::uint64_t, CreateOutcome&)>& handle) {
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

}  // namespace twiliocore::internal
