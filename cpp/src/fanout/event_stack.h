#pragma once

/// @file
/// How transport outcomes reach a bulk job's coordinator: a lock-free stack that any thread
/// posts to, and the sleep/wake protocol that lets the coordinator sleep until a batch of
/// outcomes waits, so that it pays one thread switch per batch, not per message.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "twiliocore/fanout.h"

namespace twiliocore::internal {

/// One transport outcome on its way to the coordinator: a create's or a lookup's.
struct Event {
  std::uint64_t id = 0;  ///< the request's tag (the recipient's id in the job)
  bool is_list = false;  ///< `list` holds the outcome, else `create`
  CreateOutcome create;
  ListOutcome list;
};

/// The engine thread never waits for the coordinator (nor the coordinator for it) to hand over
/// an outcome: posts go onto a lock-free stack. The coordinator sleeps in `WaitUntil` and is
/// woken only once `notify_at` outcomes are waiting: the post that finds it asleep wakes it;
/// the ones after it, until it runs, do not touch the mutex.
///
/// Threads: `Post`, `Arrived` and `Interrupt` from any thread; `TakeAll`, `Taken` and
/// `WaitUntil` from the one coordinator.
class EventStack {
 public:
  using Clock = std::chrono::steady_clock;

  EventStack() = default;
  EventStack(const EventStack&) = delete;
  EventStack& operator=(const EventStack&) = delete;
  /// Frees the outcomes never taken (a job that ended with requests outstanding).
  ~EventStack();

  /// Any thread: hands an outcome to the coordinator, waking it when a batch is ready.
  void Post(Event&& event);

  /// Any thread: `count` outcomes are ready (posted, or published by the transport in a ring
  /// of its own); wakes the coordinator if a batch is now waiting.
  void Arrived(std::int64_t count);

  /// Coordinator: appends every posted outcome to `out`, oldest first.
  void TakeAll(std::vector<Event>& out);

  /// Coordinator: `count` outcomes announced with `Arrived` were taken from the transport.
  void Taken(std::int64_t count) { count_.fetch_sub(count); }

  /// Coordinator: sleeps until `notify_at` outcomes are waiting, `interrupted()` holds, or
  /// `deadline`. `interrupted` is checked under the wake mutex, so a change made through
  /// `Interrupt` is never missed.
  template <typename Interrupted>
  void WaitUntil(std::int64_t notify_at, Clock::time_point deadline, Interrupted interrupted) {
    notify_at_.store(notify_at, std::memory_order_relaxed);
    auto ready = [&] { return count_.load() >= notify_at || interrupted(); };
    std::unique_lock lock(wake_mu_);
    sleeping_.store(true);  // seq_cst: see Arrived
    if (!ready()) wake_.wait_until(lock, deadline, ready);
    sleeping_.store(false);
  }

  /// Any thread: runs `change` (which makes the coordinator's `interrupted` true) under the
  /// wake mutex, then wakes the coordinator.
  template <typename Change>
  void Interrupt(Change change) {
    {
      std::lock_guard lock(wake_mu_);
      change();
    }
    wake_.notify_all();
  }

 private:
  struct Node {
    Event event;
    Node* next = nullptr;
  };

  void Wake();

  std::atomic<Node*> head_{nullptr};     // owns the nodes (see ~EventStack)
  std::atomic<std::int64_t> count_{0};   // arrived and not yet taken (may dip below 0)
  std::atomic<std::int64_t> notify_at_{1};
  std::atomic<bool> sleeping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;  // coordinator: enough events, or interrupted
};

}  // namespace twiliocore::internal
