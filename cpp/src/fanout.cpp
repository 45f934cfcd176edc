// The public face of the fan-out: a job's options checked, its thread started and joined, its
// state read. The work itself is in fanout/: the coordinator's loop (coordinator.h), the
// transport over the engine (client_transport.h) and the pieces they are built from.

#include "twiliocore/fanout.h"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "fanout/coordinator.h"
#include "fanout/pacing.h"
#include "twiliocore/ascii.h"
#include "twiliocore/phone.h"
#include "twiliocore/thread_name.h"

namespace twiliocore {

const char* RecipientStatusName(RecipientStatus status) noexcept {
  switch (status) {
    case RecipientStatus::kSent:
      return "sent";
    case RecipientStatus::kFailed:
      return "failed";
    case RecipientStatus::kInvalid:
      return "invalid";
    case RecipientStatus::kDuplicate:
      return "duplicate";
    case RecipientStatus::kUnknown:
      return "unknown";
    case RecipientStatus::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

BulkJob::BulkJob(std::shared_ptr<BulkTransport> transport, BulkOptions options,
                 RecipientProducer producer, ResultSink on_results, ProgressSink on_progress)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      producer_(std::move(producer)),
      on_results_(std::move(on_results)),
      on_progress_(std::move(on_progress)),
      state_(std::make_shared<internal::JobState>()) {
  if (!transport_) throw std::invalid_argument("transport: required");
  if (!producer_) throw std::invalid_argument("recipients: required");
  if (options_.from.empty() && options_.messaging_service_sid.empty()) {
    throw std::invalid_argument("from_: a sender or messaging_service_sid is required");
  }
  if (!options_.messaging_service_sid.empty() &&
      (options_.messaging_service_sid.size() != 34 ||
       options_.messaging_service_sid.rfind("MG", 0) != 0)) {
    throw std::invalid_argument("messaging_service_sid: must be 'MG' followed by 32 hex digits");
  }
  if (options_.window < 1 || options_.window > 10000) {
    throw std::invalid_argument("window: must be between 1 and 10000");
  }
  if (!(options_.mps >= 0) || !std::isfinite(options_.mps)) {
    throw std::invalid_argument("mps: must be a finite number >= 0");
  }
  if (options_.max_attempts < 1) throw std::invalid_argument("max_attempts: must be >= 1");
  if (options_.media_urls.size() > 10) {
    throw std::invalid_argument("media_url: Twilio accepts at most 10 media URLs");
  }
  if (options_.producer_chunk == 0) options_.producer_chunk = 1;
  // Throws "region: ..." for a region libphonenumber lacks; kept upper-cased, as checked, so
  // that each recipient is normalised without checking it again.
  options_.region = CheckRegion(options_.region);
  if (options_.whatsapp && !options_.from.empty() && !ascii::StartsWithIgnoreCase(options_.from, "whatsapp:")) {
    options_.from = "whatsapp:" + options_.from;
  }
  try {
    segments_ = internal::SegmentsOf(options_.body, options_.smart_encoded);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("body: not valid UTF-8");
  }
  rate_ = options_.mps > 0 ? options_.mps
                           : internal::DefaultSenderRate(options_.from, options_.messaging_service_sid);
  estimated_seconds_ = internal::EstimateDuration(options_.expected_recipients, segments_, rate_);
}

BulkJob::~BulkJob() {
  Cancel();
  Join();
}

void BulkJob::Start() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->started) return;
    state_->started = true;
  }
  transport_->Bind(state_);
  thread_ = std::thread([this] {
    NameCurrentThread("twiliocore-bulk");
    Run();
  });
}

void BulkJob::Cancel() noexcept {
  state_->events.Interrupt([this] { state_->cancel = true; });
}

bool BulkJob::WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->finished_cv.wait_for(lock, timeout, [&] { return state_->done; });
}

void BulkJob::Join() {
  std::lock_guard lock(join_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool BulkJob::done() const {
  std::lock_guard lock(state_->mu);
  return state_->done;
}

BulkSummary BulkJob::summary() const {
  std::lock_guard lock(state_->mu);
  return state_->summary;
}

std::vector<RecipientResult> BulkJob::results() const {
  std::lock_guard lock(state_->mu);
  return state_->results;
}

void BulkJob::Run() {
  try {
    internal::Coordinator coordinator(*transport_, options_, producer_, on_results_, on_progress_,
                                      rate_, segments_, *state_);
    coordinator.Run();
  } catch (const std::exception& e) {
    // Only a bug gets here (every step reports per recipient); end the job rather than hang.
    BulkSummary last;
    {
      std::lock_guard lock(state_->mu);
      state_->summary.fatal_error = std::string("internal error: ") + e.what();
      last = state_->summary;
    }
    // The coordinator's final progress call never came: make it, since waiters may rest on
    // it alone (the asyncio bridge resolves its future there, as fanout.h promises).
    last.done = true;
    if (on_progress_) {
      try {
        on_progress_(last);
      } catch (const std::exception&) {
      }
    }
  }
  transport_->Close();
  {
    std::lock_guard lock(state_->mu);
    state_->summary.done = true;
    state_->done = true;
  }
  state_->finished_cv.notify_all();
}

}  // namespace twiliocore
