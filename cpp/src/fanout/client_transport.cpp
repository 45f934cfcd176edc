#include "fanout/client_transport.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "fanout/reply_scanner.h"

namespace twiliocore {

namespace internal {

namespace {

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

CreateOutcome RefusedBeforeSending(const std::invalid_argument& e) {
  CreateOutcome out;
  out.error.category = ErrorCategory::kInvalidArgument;
  out.error.message = e.what();
  return out;
}

}  // namespace

ClientTransport::ClientTransport(std::shared_ptr<const TwilioClient> client, std::size_t capacity)
    : client_(std::move(client)), capacity_(std::max<std::size_t>(1, capacity)) {}

ClientTransport::~ClientTransport() { Close(); }

void ClientTransport::CreateMessage(std::uint64_t tag, const BulkMessage& message) {
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
        message.body == fields.body ? std::nullopt : std::optional<std::string_view>(message.body);
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

std::size_t ClientTransport::DrainCreates(
    const std::function<void(std::uint64_t, CreateOutcome&)>& handle) {
  return feed_ ? feed_->Drain(handle) : 0;
}

void ClientTransport::SetWindow(int window) {
  window_ = static_cast<std::size_t>(std::max(1, window));
  if (feed_) {
    feed_->SetLimit(window_);
    pushed_ = true;  // a larger window may start waiting requests: poke at the flush
  }
}

void ClientTransport::Flush() {
  if (pushed_) {
    pushed_ = false;
    client_->engine()->Poke();
  }
  // The engine shut down: what it did not take (pushed before or after it stopped) will not
  // be sent; each is reported, or the job would wait for it forever.
  if (feed_ && feed_->stopped()) feed_->CancelPending();
}

void ClientTransport::Close() {
  if (feed_) {
    client_->engine()->Detach(feed_);
    feed_.reset();
  }
}

void ClientTransport::ListMessages(std::uint64_t tag, const ListQuery& query) {
  MessageListQuery q;
  q.to = query.to;
  q.from = query.from;
  q.page_size = query.page_size;
  try {
    client_->ListMessagesPageAsync(q, [sink = sink_, tag](ApiResult&& result) {
      sink->OnList(tag, ListOutcomeOf(std::move(result)));
    });
  } catch (const std::invalid_argument& e) {
    ListOutcome out;
    out.error.category = ErrorCategory::kInvalidArgument;
    out.error.message = e.what();
    sink_->OnList(tag, std::move(out));
  }
}

}  // namespace internal

std::shared_ptr<BulkTransport> MakeClientTransport(std::shared_ptr<const TwilioClient> client,
                                                   std::size_t max_in_flight) {
  if (!client) throw std::invalid_argument("client: required");
  return std::make_shared<internal::ClientTransport>(std::move(client), max_in_flight);
}

}  // namespace twiliocore
