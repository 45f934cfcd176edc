#pragma once

/// @file
/// The production `BulkTransport` (made by `MakeClientTransport`): creates through an engine
/// `CreateFeed`, lookups through `TwilioClient`.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "fanout/create_feed.h"
#include "twiliocore/fanout.h"
#include "twiliocore/twilio_client.h"

namespace twiliocore::internal {

/// Sends a job's creates through a `CreateFeed` attached to the client's engine on the first
/// create: prepared recipients wait in its ring (a lookahead of `capacity` beyond the window)
/// and the engine thread keeps the window full from them. A create with other fields than the
/// first one's, or beyond the ring, goes as a request of its own. Lookups go through the
/// client. Called from the job's coordinator only, as `BulkTransport` requires.
class ClientTransport final : public BulkTransport {
 public:
  /// @param capacity  creates held ready beyond the window (at least 1).
  ClientTransport(std::shared_ptr<const TwilioClient> client, std::size_t capacity);
  /// Detaches the feed from the engine.
  ~ClientTransport() override;
  ClientTransport(const ClientTransport&) = delete;
  ClientTransport& operator=(const ClientTransport&) = delete;

  void Bind(std::shared_ptr<Sink> sink) override { sink_ = std::move(sink); }
  void CreateMessage(std::uint64_t tag, const BulkMessage& message) override;
  void ListMessages(std::uint64_t tag, const ListQuery& query) override;
  void Flush() override;
  std::size_t DrainCreates(const std::function<void(std::uint64_t, CreateOutcome&)>& handle) override;
  [[nodiscard]] std::size_t Lookahead() const override { return capacity_; }
  void SetWindow(int window) override;
  void Close() override;

 private:
  std::shared_ptr<const TwilioClient> client_;
  std::size_t capacity_;
  std::size_t window_ = 1;
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<CreateFeed> feed_;
  bool pushed_ = false;  // creates pushed (or the window raised) since the last poke
};

}  // namespace twiliocore::internal
