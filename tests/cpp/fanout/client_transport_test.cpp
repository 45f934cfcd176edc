// The transport over the real engine and client, against a loopback server playing Twilio.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fanout/job_helpers.h"
#include "test_server.h"
#include "twiliocore/fanout.h"
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
using testing::FastOptions;
using testing::FromList;
using testing::Numbers;

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
