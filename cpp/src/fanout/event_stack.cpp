#include "fanout/event_stack.h"

#include <memory>
#include <utility>

namespace twiliocore::internal {

EventStack::~EventStack() {
  std::vector<Event> rest;
  TakeAll(rest);
}

void EventStack::Post(Event&& event) {
  auto node = std::make_unique<Node>();
  node->event = std::move(event);
  Node* raw = node.release();  // owned by the stack until TakeAll
  raw->next = head_.load(std::memory_order_relaxed);
  while (!head_.compare_exchange_weak(raw->next, raw, std::memory_order_release,
                                      std::memory_order_relaxed)) {
  }
  Arrived(1);
}

void EventStack::Arrived(std::int64_t count) {
  // seq_cst with the coordinator's store to `sleeping_` and load of `count_` (Dekker):
  // either this sees it sleeping, or it sees these events before it sleeps.
  // Only the post that finds it asleep wakes it: the ones after it, until the coordinator
  // runs, do not touch the mutex.
  const std::int64_t waiting = count_.fetch_add(count) + count;
  if (waiting >= notify_at_.load(std::memory_order_relaxed) && sleeping_.load() &&
      sleeping_.exchange(false)) {
    Wake();
  }
}

void EventStack::TakeAll(std::vector<Event>& out) {
  Node* list = head_.exchange(nullptr, std::memory_order_acquire);
  Node* oldest_first = nullptr;
  std::int64_t taken = 0;
  while (list != nullptr) {
    Node* next = list->next;
    list->next = oldest_first;
    oldest_first = list;
    list = next;
    ++taken;
  }
  count_.fetch_sub(taken);
  while (oldest_first != nullptr) {
    std::unique_ptr<Node> node(oldest_first);
    oldest_first = node->next;
    out.push_back(std::move(node->event));
  }
}

void EventStack::Wake() {
  std::lock_guard lock(wake_mu_);
  wake_.notify_all();
}

}  // namespace twiliocore::internal
