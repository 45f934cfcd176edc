// Fan-out: the job's logic over an in-memory transport that records what Twilio would have
// created. The pieces it is built from are tested in fanout/, the transport over the real
// engine in fanout/client_transport_test.cpp.

#include "twiliocore/fanout.h"

#include <gtest/gtest.h>

#include "fanout/job_helpers.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace twiliocore {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::FastOptions;
using testing::FromList;
using testing::Numbers;

// ---------------------------------------------------------------------------------------------
// The job over a fake Twilio.

// What the fake does with one create request.
enum class Fault {
  kNone,                 // 201
  kThrottle,             // 429 (not processed)
  kConnectFail,          // never left
  kCreateThenDrop,       // processed, then the connection died (ambiguous)
  kServerErrorNoCreate,  // 502 without creating (ambiguous)
  kInvalidTo,            // 400 21211
  kAuth,                 // 401
};

class FakeTwilio : public BulkTransport {
 public:
  // `fault(to, attempt)` decides each create; attempt counts from 1 per recipient.
  explicit FakeTwilio(std::function<Fault(const std::string&, int)> fault, bool async = false)
      : fault_(std::move(fault)), async_(async) {}
  ~FakeTwilio() override {
    for (auto& t : threads_) t.join();
  }

  void Bind(std::shared_ptr<Sink> sink) override { sink_ = std::move(sink); }

  void CreateMessage(std::uint64_t tag, const BulkMessage& m) override {
    CreateOutcome out;
    {
      std::lock_guard lock(mu_);
      const int attempt = ++attempts_[m.to];
      submit_times_.push_back(Clock::now());
      bodies_[m.to] = m.body;
      switch (fault_(m.to, attempt)) {
        case Fault::kNone:
          out.sid = Create(m);
          out.status = "queued";
          break;
        case Fault::kThrottle:
          out.error.category = ErrorCategory::kApi;
          out.error.http_status = 429;
          out.error.twilio_code = 20429;
          out.retry_after = std::chrono::milliseconds(1);
          break;
        case Fault::kConnectFail:
          out.error.category = ErrorCategory::kTransport;
          out.error.stage = TransportStage::kConnect;
          out.error.message = "connection refused";
          break;
        case Fault::kCreateThenDrop:
          Create(m);
          out.error.category = ErrorCategory::kTransport;
          out.error.stage = TransportStage::kReceive;
          out.error.message = "connection reset after send";
          break;
        case Fault::kServerErrorNoCreate:
          out.error.category = ErrorCategory::kApi;
          out.error.http_status = 502;
          out.error.message = "bad gateway";
          break;
        case Fault::kInvalidTo:
          out.error.category = ErrorCategory::kApi;
          out.error.http_status = 400;
          out.error.twilio_code = 21211;
          out.error.message = "The 'To' number is not a valid phone number.";
          break;
        case Fault::kAuth:
          out.error.category = ErrorCategory::kApi;
          out.error.http_status = 401;
          out.error.twilio_code = 20003;
          out.error.message = "Authenticate";
          break;
      }
    }
    Deliver([sink = sink_, tag, out = std::move(out)]() mutable {
      sink->OnCreate(tag, std::move(out));
    });
  }

  void ListMessages(std::uint64_t tag, const ListQuery& q) override {
    ListOutcome out;
    {
      std::lock_guard lock(mu_);
      ++lists_;
      for (const auto& m : created_) {
        if (m.to == q.to && (q.from.empty() || m.from == q.from)) out.messages.push_back(m);
      }
    }
    Deliver([sink = sink_, tag, out = std::move(out)]() mutable {
      sink->OnList(tag, std::move(out));
    });
  }

  std::map<std::string, int> CreatedPerRecipient() {
    std::lock_guard lock(mu_);
    std::map<std::string, int> n;
    for (const auto& m : created_) ++n[m.to];
    return n;
  }
  int lists() {
    std::lock_guard lock(mu_);
    return lists_;
  }
  std::vector<Clock::time_point> submit_times() {
    std::lock_guard lock(mu_);
    return submit_times_;
  }
  std::string body_of(const std::string& to) {
    std::lock_guard lock(mu_);
    return bodies_[to];
  }

 private:
  std::string Create(const BulkMessage& m) {
    ListedMessage lm;
    lm.sid = "SM" + std::to_string(100000 + created_.size());
    lm.to = m.to;
    lm.from = m.from;
    lm.body = m.body;
    lm.status = "queued";
    lm.date_created = "Thu, 24 Aug 2099 05:01:45 +0000";
    created_.push_back(lm);
    return lm.sid;
  }
  template <class F>
  void Deliver(F&& f) {
    if (!async_) {
      f();
      return;
    }
    std::lock_guard lock(mu_);
    threads_.emplace_back(std::forward<F>(f));
  }

  std::function<Fault(const std::string&, int)> fault_;
  std::shared_ptr<Sink> sink_;
  bool async_;
  std::mutex mu_;
  std::map<std::string, int> attempts_;
  std::map<std::string, std::string> bodies_;
  std::vector<ListedMessage> created_;
  std::vector<Clock::time_point> submit_times_;
  std::vector<std::thread> threads_;
  int lists_ = 0;
};

BulkSummary RunJob(std::shared_ptr<FakeTwilio> fake, BulkOptions options, RecipientProducer p,
                   std::vector<RecipientResult>* results = nullptr) {
  BulkJob job(fake, std::move(options), std::move(p));
  job.Start();
  EXPECT_TRUE(job.WaitFor(60s));
  job.Join();
  if (results != nullptr) *results = job.results();
  return job.summary();
}

TEST(BulkJobTest, SendsEachValidRecipientOnceAndReportsInvalidAndDuplicates) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  std::vector<std::string> input = {"(415) 200-0001", "+14152000001", "not a number",
                                    "+1 415 200 0002", "123"};
  std::vector<RecipientResult> results;
  auto s = RunJob(fake, FastOptions(), FromList(input), &results);
  EXPECT_EQ(s.total, 5);
  EXPECT_EQ(s.sent, 2);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(s.invalid, 2);
  EXPECT_EQ(s.failed, 0);
  EXPECT_TRUE(s.done);
  ASSERT_EQ(results.size(), 5u);
  auto created = fake->CreatedPerRecipient();
  EXPECT_EQ(created.size(), 2u);
  EXPECT_EQ(created["+14152000001"], 1);
  EXPECT_EQ(created["+14152000002"], 1);
  for (const auto& r : results) {
    if (r.status == RecipientStatus::kSent) {
      EXPECT_EQ(r.message_sid.rfind("SM", 0), 0u);
    }
    if (r.status == RecipientStatus::kInvalid) {
      EXPECT_EQ(r.error_code, 21211);
      EXPECT_NE(r.error.find("invalid phone number"), std::string::npos);
    }
  }
}

TEST(BulkJobTest, EveryFaultStillSendsEachRecipientExactlyOnce) {
  // Each recipient meets a different fault on its first attempts, then succeeds.
  auto fake = std::make_shared<FakeTwilio>(
      [](const std::string& to, int attempt) {
        const int kind = (to.back() - '0') % 5;
        if (attempt > 2) return Fault::kNone;
        switch (kind) {
          case 0: return Fault::kThrottle;
          case 1: return Fault::kConnectFail;
          case 2: return attempt == 1 ? Fault::kCreateThenDrop : Fault::kNone;
          case 3: return Fault::kServerErrorNoCreate;
          default: return Fault::kNone;
        }
      },
      /*async=*/true);
  auto s = RunJob(fake, FastOptions(), FromList(Numbers(200)));
  EXPECT_EQ(s.sent, 200);
  EXPECT_EQ(s.failed + s.unknown + s.invalid, 0);
  EXPECT_GT(s.retries, 0);
  EXPECT_GT(s.reconciled, 0);
  auto created = fake->CreatedPerRecipient();
  ASSERT_EQ(created.size(), 200u);
  for (const auto& [to, n] : created) EXPECT_EQ(n, 1) << to;
}

TEST(BulkJobTest, ReconcileFindsMessageCreatedBeforeTheConnectionDropped) {
  auto fake = std::make_shared<FakeTwilio>(
      [](const std::string&, int) { return Fault::kCreateThenDrop; });
  std::vector<RecipientResult> results;
  auto s = RunJob(fake, FastOptions(), FromList(Numbers(3)), &results);
  EXPECT_EQ(s.sent, 3);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(s.reconciled, 3);
  for (const auto& r : results) {
    EXPECT_EQ(r.attempts, 1);
    EXPECT_FALSE(r.message_sid.empty());
  }
}

TEST(BulkJobTest, ReconcileResendsOnlyWhenNotCreated) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int attempt) {
    return attempt == 1 ? Fault::kServerErrorNoCreate : Fault::kNone;
  });
  std::vector<RecipientResult> results;
  auto s = RunJob(fake, FastOptions(), FromList(Numbers(4)), &results);
  EXPECT_EQ(s.sent, 4);
  EXPECT_EQ(s.retries, 4);
  // Every lookup delay was waited out before resending.
  EXPECT_EQ(fake->lists(), 4 * 3);
  for (const auto& [to, n] : fake->CreatedPerRecipient()) EXPECT_EQ(n, 1) << to;
}

TEST(BulkJobTest, FailPolicyReportsAmbiguousAsUnknownWithoutLookingUp) {
  auto fake = std::make_shared<FakeTwilio>(
      [](const std::string&, int) { return Fault::kServerErrorNoCreate; });
  auto options = FastOptions();
  options.retry_policy = RetryPolicy::kFail;
  std::vector<RecipientResult> results;
  auto s = RunJob(fake, options, FromList(Numbers(2)), &results);
  EXPECT_EQ(s.unknown, 2);
  EXPECT_EQ(fake->lists(), 0);
  for (const auto& r : results) {
    EXPECT_EQ(r.status, RecipientStatus::kUnknown);
    EXPECT_EQ(r.error_code, 502);
  }
}

TEST(BulkJobTest, RetryPolicyResendsAmbiguousBlindly) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int attempt) {
    return attempt == 1 ? Fault::kCreateThenDrop : Fault::kNone;
  });
  auto options = FastOptions();
  options.retry_policy = RetryPolicy::kRetry;
  auto s = RunJob(fake, options, FromList(Numbers(2)));
  EXPECT_EQ(s.sent, 2);
  EXPECT_EQ(fake->lists(), 0);
  // The documented cost of `retry`: a message created before the drop is sent twice.
  for (const auto& [to, n] : fake->CreatedPerRecipient()) EXPECT_EQ(n, 2) << to;
}

TEST(BulkJobTest, PermanentErrorsAreReportedAndNeverRetried) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string& to, int) {
    return to == "+14152000001" ? Fault::kInvalidTo : Fault::kNone;
  });
  std::vector<RecipientResult> results;
  auto s = RunJob(fake, FastOptions(), FromList(Numbers(3)), &results);
  EXPECT_EQ(s.sent, 2);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.retries, 0);
  for (const auto& r : results) {
    if (r.to == "+14152000001") {
      EXPECT_EQ(r.status, RecipientStatus::kFailed);
      EXPECT_EQ(r.error_code, 21211);
      EXPECT_EQ(r.attempts, 1);
    }
  }
}

TEST(BulkJobTest, ThrottlingRetriesUntilAttemptsAreSpent) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kThrottle; });
  auto options = FastOptions();
  options.max_attempts = 3;
  std::vector<RecipientResult> results;
  auto s = RunJob(fake, options, FromList(Numbers(2)), &results);
  EXPECT_EQ(s.failed, 2);
  EXPECT_EQ(s.retries, 4);
  EXPECT_LE(s.window, 16);  // halved at each new round of 429s
  for (const auto& r : results) {
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(r.error_code, 20429);
  }
}

TEST(BulkJobTest, AuthenticationFailureStopsTheJob) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kAuth; });
  auto options = FastOptions();
  options.window = 1;
  auto s = RunJob(fake, options, FromList(Numbers(50)));
  EXPECT_FALSE(s.fatal_error.empty());
  EXPECT_EQ(s.sent, 0);
  EXPECT_EQ(fake->CreatedPerRecipient().size(), 0u);
  EXPECT_LT(fake->submit_times().size(), 50u);  // it stopped sending
  EXPECT_EQ(s.failed, s.total);
}

TEST(BulkJobTest, ConfiguredRatePacesFromTheStart) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  auto options = FastOptions();
  options.mps = 40;  // 40 segments/s, 25 ms each; 50 ms of slack lets the first two go at once
  auto s = RunJob(fake, options, FromList(Numbers(11)));
  EXPECT_EQ(s.sent, 11);
  auto times = fake->submit_times();
  ASSERT_EQ(times.size(), 11u);
  for (std::size_t i = 2; i < times.size(); ++i) {
    EXPECT_GE(times[i] - times[0],
              std::chrono::microseconds(25000 * (static_cast<int>(i) - 1) - 1000))
        << i;
  }
}

TEST(BulkJobTest, SegmentsOfPerRecipientBodiesArePaced) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  auto options = FastOptions();
  options.mps = 20;
  std::string long_body(400, 'a');  // 3 GSM-7 segments: 150 ms each at 20/s
  auto produced = std::make_shared<int>(0);
  auto producer = [produced, long_body](std::vector<Recipient>& out, std::size_t) {
    for (; *produced < 3; ++*produced) {
      out.push_back({"+1415200000" + std::to_string(*produced), long_body, {}});
    }
    return false;
  };
  auto s = RunJob(fake, options, producer);
  EXPECT_EQ(s.sent, 3);
  auto times = fake->submit_times();
  ASSERT_EQ(times.size(), 3u);
  EXPECT_GE(times[2] - times[0], 299ms);  // 150 ms per message: the slack lets none through
  EXPECT_EQ(fake->body_of("+14152000001"), long_body);
}

TEST(BulkJobTest, CancelStopsAnEndlessProducerAndFinishesInFlight) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; },
                                           /*async=*/true);
  auto options = FastOptions();
  options.mps = 200;
  auto counter = std::make_shared<std::int64_t>(0);
  auto endless = [counter](std::vector<Recipient>& out, std::size_t max) {
    while (out.size() < max) out.push_back({"+1415" + std::to_string(2000000 + (*counter)++), {}, {}});
    return true;
  };
  BulkJob job(fake, options, endless);
  job.Start();
  std::this_thread::sleep_for(100ms);
  job.Cancel();
  ASSERT_TRUE(job.WaitFor(30s));
  auto s = job.summary();
  EXPECT_TRUE(s.was_cancelled);
  EXPECT_GT(s.cancelled, 0);
  EXPECT_EQ(s.finished(), s.total);
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(static_cast<std::int64_t>(fake->CreatedPerRecipient().size()), s.sent);
}

TEST(BulkJobTest, ProducerExceptionEndsIntakeAndIsReported) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  auto calls = std::make_shared<int>(0);
  auto producer = [calls](std::vector<Recipient>& out, std::size_t) -> bool {
    if ((*calls)++ > 0) throw std::runtime_error("generator failed");
    out.push_back({"+14152000001", {}, {}});
    return true;
  };
  auto s = RunJob(fake, FastOptions(), producer);
  EXPECT_EQ(s.sent, 1);
  EXPECT_EQ(s.producer_error, "generator failed");
}

TEST(BulkJobTest, ResultAndProgressSinksSeeEveryRecipient) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  std::atomic<int> seen{0};
  std::atomic<int> final_progress{0};
  auto options = FastOptions();
  options.keep_results = false;
  BulkJob job(
      fake, options, FromList(Numbers(100)),
      [&](const std::vector<RecipientResult>& batch) { seen += static_cast<int>(batch.size()); },
      [&](const BulkSummary& s) {
        if (s.done) ++final_progress;
      });
  job.Start();
  ASSERT_TRUE(job.WaitFor(30s));
  job.Join();
  EXPECT_EQ(seen.load(), 100);
  EXPECT_EQ(final_progress.load(), 1);
  EXPECT_TRUE(job.results().empty());
}

// A transport that fails in a way no step expects: the job still ends, says why, and makes
// the final progress call that waiters (the asyncio bridge) rest on.
class ThrowingTransport : public BulkTransport {
 public:
  void Bind(std::shared_ptr<Sink> sink) override { sink_ = std::move(sink); }
  void CreateMessage(std::uint64_t, const BulkMessage&) override {
    throw std::runtime_error("transport broke");
  }
  void ListMessages(std::uint64_t, const ListQuery&) override {}

 private:
  std::shared_ptr<Sink> sink_;
};

TEST(BulkJobTest, InternalErrorEndsTheJobWithItsFinalProgressCall) {
  std::atomic<int> final_progress{0};
  BulkJob job(std::make_shared<ThrowingTransport>(), FastOptions(), FromList(Numbers(3)), nullptr,
              [&](const BulkSummary& s) {
                if (s.done) ++final_progress;
              });
  job.Start();
  ASSERT_TRUE(job.WaitFor(30s));
  job.Join();
  EXPECT_EQ(final_progress.load(), 1);
  EXPECT_NE(job.summary().fatal_error.find("internal error: transport broke"), std::string::npos)
      << job.summary().fatal_error;
}

TEST(BulkJobTest, WhatsAppPrefixesRecipientsAndSender) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  auto options = FastOptions();
  options.whatsapp = true;
  auto s = RunJob(fake, options, FromList({"+14152000001", "whatsapp:+14152000001"}));
  EXPECT_EQ(s.sent, 1);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_EQ(fake->CreatedPerRecipient().count("whatsapp:+14152000001"), 1u);
}

TEST(BulkJobTest, RejectsUnusableOptionsNamingTheField) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  auto expect_field = [&](BulkOptions o, const std::string& field) {
    try {
      BulkJob job(fake, o, FromList({}));
      FAIL() << "accepted " << field;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(field, 0), 0u) << e.what();
    }
  };
  auto o = FastOptions();
  o.from.clear();
  expect_field(o, "from_");
  o = FastOptions();
  o.window = 0;
  expect_field(o, "window");
  o = FastOptions();
  o.mps = -1;
  expect_field(o, "mps");
  o = FastOptions();
  o.messaging_service_sid = "XX";
  expect_field(o, "messaging_service_sid");
  o = FastOptions();
  o.body = std::string("\xff");
  expect_field(o, "body");
  o = FastOptions();
  o.region = "XX";
  expect_field(o, "region");
}

TEST(BulkJobTest, EstimatesDurationFromSenderRateAndSegments) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  auto options = FastOptions();
  options.from = "+14155552671";
  options.body = std::string(200, 'x');  // 2 segments
  options.expected_recipients = 10'000;
  BulkJob job(fake, options, FromList({}));
  EXPECT_EQ(job.segments(), 2u);
  EXPECT_EQ(job.rate(), 1.0);
  EXPECT_EQ(job.estimated_seconds(), 20'000.0);
}

TEST(BulkJobTest, SmartEncodedJobsCountTheBodyTwilioSends) {
  auto fake = std::make_shared<FakeTwilio>([](const std::string&, int) { return Fault::kNone; });
  auto options = FastOptions();
  options.from = "+14155552671";
  // 150 characters: UCS-2 in 3 parts as written, GSM-7 in 1 once the quotes and dash are replaced.
  options.body = "\u201C" + std::string(70, 'a') + "\u201D \u2014 " + std::string(75, 'b');
  options.expected_recipients = 100;
  BulkJob plain(fake, options, FromList({}));
  EXPECT_EQ(plain.segments(), 3u);
  EXPECT_EQ(plain.estimated_seconds(), 300.0);
  options.smart_encoded = true;
  BulkJob smart(fake, options, FromList({}));
  EXPECT_EQ(smart.segments(), 1u);
  EXPECT_EQ(smart.estimated_seconds(), 100.0);
}

}  // namespace
}  // namespace twiliocore
