// Fan-out: the pure units (pacer, classification, backoff, window, address set, estimate) and
// the job's logic over an in-memory transport that records what Twilio would have created.

#include "twiliocore/fanout.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_server.h"
#include "twiliocore/http_engine.h"
#include "twiliocore/twilio_client.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace twiliocore {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Pacer

TEST(PacerTest, UnpacedAlwaysAllowsNow) {
  Pacer pacer(0, 0s);
  const auto now = Clock::now();
  for (int i = 0; i < 100; ++i) pacer.Commit(now, 3);
  EXPECT_EQ(pacer.NextAllowed(now, 3), now);
  EXPECT_FALSE(pacer.paced());
  EXPECT_EQ(pacer.BacklogSeconds(now), 0.0);
}

TEST(PacerTest, ConfiguredRateSpacesMessagesBySegments) {
  Pacer pacer(2.0, 0s);  // 2 segments/s, paced from the start
  const auto t0 = Clock::now();
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0);
  pacer.Commit(t0, 1);
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0 + 500ms);
  pacer.Commit(t0 + 500ms, 3);  // a 3-segment message holds the sender 1.5 s
  EXPECT_EQ(pacer.NextAllowed(t0 + 500ms, 1), t0 + 2s);
  EXPECT_NEAR(pacer.BacklogSeconds(t0 + 500ms), 1.5, 1e-6);
}

TEST(PacerTest, DefaultModeBurstsUntilBacklogCapThenPacesToRate) {
  Pacer pacer(1.0, 10s);  // a 1-MPS long code, allow 10 s of queue at Twilio
  const auto t0 = Clock::now();
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(pacer.NextAllowed(t0, 1), t0) << i;
    pacer.Commit(t0, 1);
  }
  EXPECT_NEAR(pacer.BacklogSeconds(t0), 10.0, 1e-6);
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0 + 1s);  // the 11th waits for one to drain
  EXPECT_EQ(pacer.NextAllowed(t0 + 3s, 1), t0 + 3s);
}

TEST(PacerTest, RefundGivesBackRejectedSegments) {
  Pacer pacer(1.0, 0s);
  const auto t0 = Clock::now();
  pacer.Commit(t0, 2);
  pacer.Refund(t0, 2);
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0);
}

TEST(PacerTest, QueueFullAssumesBacklogAtCap) {
  Pacer pacer(1.0, 100s);
  const auto t0 = Clock::now();
  pacer.MarkFull(t0);
  EXPECT_NEAR(pacer.BacklogSeconds(t0), 100.0, 1e-6);
  EXPECT_EQ(pacer.NextAllowed(t0, 1), t0 + 1s);
}

TEST(PacerTest, MessageCostlierThanToleranceWaitsForEmptyQueue) {
  Pacer pacer(1.0, 0s);
  const auto t0 = Clock::now();
  pacer.Commit(t0, 5);
  EXPECT_EQ(pacer.NextAllowed(t0, 5), t0 + 5s);
}

TEST(DefaultSenderRateTest, FollowsTwiliosPerSenderDefaults) {
  EXPECT_EQ(DefaultSenderRate("+14155552671", ""), 1.0);   // US long code
  EXPECT_EQ(DefaultSenderRate("+18005550100", ""), 3.0);   // toll-free
  EXPECT_EQ(DefaultSenderRate("+18885550100", ""), 3.0);
  EXPECT_EQ(DefaultSenderRate("12345", ""), 100.0);        // short code
  EXPECT_EQ(DefaultSenderRate("+442079460958", ""), 10.0);
  EXPECT_EQ(DefaultSenderRate("", "MG0123456789abcdef0123456789abcdef"), 0.0);
}

// ---------------------------------------------------------------------------------------------
// Classification, backoff, window

Error ApiErr(long status, int code) {
  Error e;
  e.category = ErrorCategory::kApi;
  e.http_status = status;
  e.twilio_code = code;
  e.message = "api error";
  return e;
}

Error TransportErr(TransportStage stage, ErrorCategory category = ErrorCategory::kTransport) {
  Error e;
  e.category = category;
  e.stage = stage;
  e.message = "transport error";
  return e;
}

TEST(ClassifyOutcomeTest, RetriesBlindlyOnlyWhatWasNeverProcessed) {
  EXPECT_EQ(ClassifyOutcome(Error{}), OutcomeClass::kSuccess);
  EXPECT_EQ(ClassifyOutcome(ApiErr(429, 20429)), OutcomeClass::kRetryable);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kResolve)), OutcomeClass::kRetryable);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kConnect)), OutcomeClass::kRetryable);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kTls, ErrorCategory::kTls)),
            OutcomeClass::kRetryable);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kConnect, ErrorCategory::kTimeout)),
            OutcomeClass::kRetryable);
}

TEST(ClassifyOutcomeTest, AmbiguousOutcomesAreNotBlindlyRetried) {
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kReceive)), OutcomeClass::kAmbiguous);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kSend)), OutcomeClass::kAmbiguous);
  EXPECT_EQ(ClassifyOutcome(TransportErr(TransportStage::kReceive, ErrorCategory::kTimeout)),
            OutcomeClass::kAmbiguous);
  for (long status : {500L, 502L, 503L, 504L}) {
    EXPECT_EQ(ClassifyOutcome(ApiErr(status, 0)), OutcomeClass::kAmbiguous) << status;
  }
}

TEST(ClassifyOutcomeTest, PermanentAndFatalErrorsAreNeverRetried) {
  EXPECT_EQ(ClassifyOutcome(ApiErr(400, 21211)), OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyOutcome(ApiErr(400, 21610)), OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyOutcome(ApiErr(404, 20404)), OutcomeClass::kPermanent);
  EXPECT_EQ(ClassifyOutcome(ApiErr(400, 21611)), OutcomeClass::kQueueFull);
  EXPECT_EQ(ClassifyOutcome(ApiErr(401, 20003)), OutcomeClass::kFatal);
  EXPECT_EQ(ClassifyOutcome(ApiErr(403, 20003)), OutcomeClass::kFatal);
}

TEST(BackoffDelayTest, FullJitterWithinExponentialCeilingAndCap) {
  using std::chrono::milliseconds;
  EXPECT_EQ(BackoffDelay(0, 100ms, 10s, 0.0), 0ms);
  EXPECT_EQ(BackoffDelay(0, 100ms, 10s, 0.5), 50ms);
  EXPECT_EQ(BackoffDelay(3, 100ms, 10s, 0.5), 400ms);
  EXPECT_EQ(BackoffDelay(20, 100ms, 10s, 0.5), 5000ms);  // capped
  EXPECT_LT(BackoffDelay(20, 100ms, 10s, 0.999999), 10000ms);
  EXPECT_EQ(BackoffDelay(-5, 100ms, 10s, 1.0), 100ms);
}

TEST(AdaptiveWindowTest, HalvesOncePerBurstAndGrowsBack) {
  AdaptiveWindow w(64);
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < 64; ++i) seqs.push_back(w.OnSubmit());
  for (auto s : seqs) w.OnThrottled(s);  // 64 429s from one window: one cut
  EXPECT_EQ(w.limit(), 32);
  auto s = w.OnSubmit();
  w.OnThrottled(s);  // a 429 for a request sent after the cut: cut again
  EXPECT_EQ(w.limit(), 16);
  for (int i = 0; i < 16; ++i) w.OnSuccess();
  EXPECT_EQ(w.limit(), 17);
  for (int i = 0; i < 10000; ++i) w.OnSuccess();
  EXPECT_EQ(w.limit(), 64);
}

TEST(AdaptiveWindowTest, NeverBelowOne) {
  AdaptiveWindow w(2);
  for (int i = 0; i < 5; ++i) w.OnThrottled(w.OnSubmit());
  EXPECT_EQ(w.limit(), 1);
}

TEST(AddressSetTest, DeduplicatesExactlyAndKeepsChannelsApart) {
  AddressSet set;
  EXPECT_TRUE(set.Insert("+14155552671"));
  EXPECT_FALSE(set.Insert("+14155552671"));
  EXPECT_TRUE(set.Insert("whatsapp:+14155552671"));
  EXPECT_FALSE(set.Insert("WhatsApp:+14155552671"));
  EXPECT_TRUE(set.Insert("+14155552672"));
  EXPECT_NE(AddressSet::Key("+1415"), AddressSet::Key("+14150"));
  EXPECT_EQ(set.size(), 3u);
}

TEST(AddressSetTest, AMillionNumbersFitInSixteenMebibytes) {
  AddressSet set;
  for (std::uint64_t i = 0; i < 1'000'000; ++i) {
    ASSERT_TRUE(set.Insert("+1415" + std::to_string(2'000'000 + i)));
  }
  EXPECT_FALSE(set.Insert("+14152000000"));
  EXPECT_EQ(set.size(), 1'000'000u);
  EXPECT_LE(set.memory_bytes(), 16u << 20);
}

TEST(EstimateDurationTest, TenThousandTwoSegmentMessagesFromOneLongCodeTakeOverFiveHours) {
  EXPECT_GT(EstimateDuration(10'000, 2, DefaultSenderRate("+14155552671", "")), 5 * 3600.0);
  EXPECT_EQ(EstimateDuration(10'000, 2, 0), 0.0);
}

TEST(ScanSidAndStatusTest, ReadsTopLevelStringsInAnyOrderAndRefusesTheRest) {
  std::string_view sid;
  std::string_view status;
  ASSERT_TRUE(internal::ScanSidAndStatus(
      R"({"account_sid": "AC1", "body": "x", "sid": "SM1", "status": "queued", "to": "+1"})", sid,
      status));
  EXPECT_EQ(sid, "SM1");
  EXPECT_EQ(status, "queued");
  ASSERT_TRUE(internal::ScanSidAndStatus(R"({"status":"accepted","sid":"SM2","x":{"y":1}})", sid,
                                         status));
  EXPECT_EQ(sid, "SM2");
  EXPECT_EQ(status, "accepted");
  // A body quoting the keys is escaped: never read as them.
  ASSERT_TRUE(internal::ScanSidAndStatus(
      R"({"body": "\"sid\": \"SMfake\", \"status\": \"sent\"", "sid": "SM3", "status": "queued"})",
      sid, status));
  EXPECT_EQ(sid, "SM3");
  EXPECT_EQ(status, "queued");
  // Missing, not a string, or escaped: left to the full parse.
  EXPECT_FALSE(internal::ScanSidAndStatus(R"({"sid": "SM4"})", sid, status));
  EXPECT_FALSE(internal::ScanSidAndStatus(R"({"sid": "SM5", "status": null})", sid, status));
  EXPECT_FALSE(  // a JSON escape in the value
      internal::ScanSidAndStatus("{\"sid\": \"SM\\u0036\", \"status\": \"queued\"}", sid, status));
  EXPECT_FALSE(internal::ScanSidAndStatus(R"({"name": "sid", "status": "queued"})", sid, status));
  EXPECT_FALSE(internal::ScanSidAndStatus("", sid, status));
  EXPECT_FALSE(internal::ScanSidAndStatus(R"("sid")", sid, status));
}

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

RecipientProducer FromList(std::vector<std::string> numbers) {
  auto index = std::make_shared<std::size_t>(0);
  auto list = std::make_shared<std::vector<std::string>>(std::move(numbers));
  return [index, list](std::vector<Recipient>& out, std::size_t max) {
    while (*index < list->size() && out.size() < max) {
      out.push_back(Recipient{(*list)[(*index)++], std::nullopt, {}});
    }
    return *index < list->size();
  };
}

std::vector<std::string> Numbers(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("+1415" + std::to_string(2000000 + i));
  return v;
}

BulkOptions FastOptions() {
  BulkOptions o;
  o.from = "+15005550006";
  o.body = "Hello from the fan-out";
  o.backoff_base = 1ms;
  o.backoff_cap = 5ms;
  o.reconcile_delays = {1ms, 2ms, 3ms};
  o.seed = 42;
  o.producer_chunk = 7;
  return o;
}

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

// ---------------------------------------------------------------------------------------------
// Over the real engine and client against a loopback server playing Twilio.

// A REST client of a test account on `engine`, talking to `server`.
std::shared_ptr<TwilioClient> ClientOf(std::shared_ptr<http::Engine> engine,
                                       const testing::TestServer& server) {
  return std::make_shared<TwilioClient>(
      std::move(engine),
      Credentials{"AC0123456789abcdef0123456789abcdef", "", SecureString("token")}, server.url());
}

TEST(ClientTransportTest, ReconcilesDroppedConnectionsAndRetriesThrottlingOverTheEngine) {
  testing::TestServer server;
  std::mutex mu;
  std::map<std::string, int> posts;            // creates per To
  std::vector<nlohmann::json> created;         // what "Twilio" created
  server.SetHandler([&](const testing::RecordedRequest& req) {
    testing::Reply reply;
    reply.headers = {{"Content-Type", "application/json"}};
    std::lock_guard lock(mu);
    if (req.method == "POST") {
      std::string to;
      auto pos = req.body.find("To=");
      if (pos != std::string::npos) to = req.body.substr(pos + 3, req.body.find('&', pos) - pos - 3);
      const int n = ++posts[to];
      if (to == "%2B14152000000" && n == 1) {  // throttled: never processed
        reply.status = 429;
        reply.headers.emplace_back("Retry-After", "0");
        reply.body = R"({"code":20429,"message":"Too Many Requests","status":429})";
        return reply;
      }
      nlohmann::json m = {{"sid", "SM" + std::to_string(1000 + created.size())},
                          {"to", to == "%2B14152000001" ? "+14152000001" : "+14152000000"},
                          {"from", "+15005550006"},
                          {"body", "hi"},
                          {"status", "queued"},
                          {"date_created", "Thu, 24 Aug 2099 05:01:45 +0000"}};
      created.push_back(m);
      if (to == "%2B14152000001" && n == 1) {  // processed, then the connection dies
        reply.close_without_answer = true;
        return reply;
      }
      reply.status = 201;
      reply.body = m.dump();
      return reply;
    }
    nlohmann::json page = {{"messages", nlohmann::json::array()}};
    for (const auto& m : created) {
      if (req.target.find("To=%2B" + m["to"].get<std::string>().substr(1)) != std::string::npos) {
        page["messages"].push_back(m);
      }
    }
    reply.status = 200;
    reply.body = page.dump();
    return reply;
  });
  auto engine = std::make_shared<http::Engine>();
  auto client = ClientOf(engine, server);
  auto options = FastOptions();
  options.body = "hi";
  BulkJob job(MakeClientTransport(client), options, FromList({"+14152000000", "+14152000001"}));
  job.Start();
  ASSERT_TRUE(job.WaitFor(30s));
  auto s = job.summary();
  EXPECT_EQ(s.sent, 2);
  EXPECT_EQ(s.retries, 1);      // the 429 only
  EXPECT_EQ(s.reconciled, 1);   // the dropped connection
  std::lock_guard lock(mu);
  EXPECT_EQ(created.size(), 2u);  // each recipient created exactly once
  engine->Shutdown();
}

// The engine-feed path end to end: every recipient's create is sent once, byte for byte the
// form a single create would send (job body or its own), and never more than the window is
// in flight although the transport holds prepared creates beyond it.
TEST(ClientTransportTest, FeedSendsEachRecipientOnceWithItsFormWithinTheWindow) {
  testing::TestServer server;
  testing::ConcurrencyGauge gauge;
  std::atomic<int> next_sid{0};
  server.SetHandler([&](const testing::RecordedRequest&) {
    auto serving = gauge.Enter();
    std::this_thread::sleep_for(2ms);
    testing::Reply reply;
    reply.status = 201;
    reply.headers = {{"Content-Type", "application/json"}};
    char sid[40];
    std::snprintf(sid, sizeof sid, "SM%032d", ++next_sid);
    reply.body = std::string(R"({"account_sid": "AC0123456789abcdef0123456789abcdef", "sid": ")") +
                 sid + R"(", "status": "queued"})";
    return reply;
  });
  auto engine = std::make_shared<http::Engine>();
  auto client = ClientOf(engine, server);
  auto options = FastOptions();
  options.window = 6;
  options.status_callback = "https://hooks.example.com/status?x=1&y=2";
  const int n = 150;
  auto index = std::make_shared<int>(0);
  RecipientProducer producer = [index](std::vector<Recipient>& out, std::size_t max) {
    while (*index < n && out.size() < max) {
      const int i = (*index)++;
      std::optional<std::string> body;
      if (i % 3 == 0) body = "Own body #" + std::to_string(i) + " ✓ & more";
      out.push_back(Recipient{"+1415" + std::to_string(2000000 + i), body, {}});
    }
    return *index < n;
  };
  std::vector<RecipientResult> results;
  BulkJob job(MakeClientTransport(client, 6), options, producer,
              [&results](const std::vector<RecipientResult>& batch) {
                results.insert(results.end(), batch.begin(), batch.end());
              });
  job.Start();
  ASSERT_TRUE(job.WaitFor(60s));
  const BulkSummary s = job.summary();
  EXPECT_EQ(s.sent, n);
  EXPECT_EQ(s.retries, 0);
  EXPECT_LE(gauge.most(), 6);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(n));
  std::set<std::string> sids;
  for (const RecipientResult& r : results) {
    EXPECT_EQ(r.status, RecipientStatus::kSent);
    EXPECT_EQ(r.message_sid.size(), 34U);
    sids.insert(r.message_sid);
  }
  EXPECT_EQ(sids.size(), static_cast<std::size_t>(n));
  std::map<std::string, std::string> sent;  // form per To
  for (const testing::RecordedRequest& req : server.Requests()) {
    ASSERT_EQ(req.method, "POST");
    EXPECT_EQ(req.Header("authorization"),
              "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2tlbg==");
    const std::string to = req.body.substr(3, req.body.find('&') - 3);
    EXPECT_TRUE(sent.emplace(to, req.body).second) << to << " sent twice";
  }
  ASSERT_EQ(sent.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    MessageCreate expected;
    expected.to = "+1415" + std::to_string(2000000 + i);
    expected.from = options.from;
    expected.body = i % 3 == 0 ? "Own body #" + std::to_string(i) + " ✓ & more" : options.body;
    expected.status_callback = options.status_callback;
    EXPECT_EQ(sent["%2B1415" + std::to_string(2000000 + i)],
              client->CreateMessageRequest(expected).body);
  }
  engine->Shutdown();
}

// An engine shut down under a running job, or before it starts, ends the job: the requests
// it had ready are reported, none waits forever.
TEST(ClientTransportTest, EngineShutdownEndsTheJob) {
  testing::TestServer server;
  server.SetHandler([](const testing::RecordedRequest&) {
    testing::Reply reply;
    reply.status = 201;
    reply.delay = 20ms;
    reply.headers = {{"Content-Type", "application/json"}};
    reply.body = R"({"sid": "SM00000000000000000000000000000001", "status": "queued"})";
    return reply;
  });
  for (const bool before_start : {false, true}) {
    auto engine = std::make_shared<http::Engine>();
    auto client = ClientOf(engine, server);
    auto options = FastOptions();
    options.window = 8;
    if (before_start) engine->Shutdown();
    BulkJob job(MakeClientTransport(client, 8), options, FromList(Numbers(400)));
    job.Start();
    if (!before_start) {
      std::this_thread::sleep_for(100ms);
      engine->Shutdown();
    }
    ASSERT_TRUE(job.WaitFor(30s)) << "before_start=" << before_start;
    const BulkSummary s = job.summary();
    EXPECT_EQ(s.total, 400);
    EXPECT_EQ(s.finished(), 400);
    EXPECT_EQ(s.in_flight, 0);
    if (before_start) {
      EXPECT_EQ(s.sent, 0);
    }
    EXPECT_GT(s.unknown + s.failed + s.cancelled, 0);
  }
}

}  // namespace
}  // namespace twiliocore
