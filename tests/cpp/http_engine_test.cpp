// Tests of the libcurl multi engine against the loopback server (tests/cpp/test_server.h).

#include "twiliocore/http_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_server.h"

namespace twiliocore::http {
namespace {

using namespace std::chrono_literals;
using twiliocore::testing::RecordedRequest;
using twiliocore::testing::Reply;
using twiliocore::testing::TestServer;

class HttpEngineTest : public ::testing::Test {
 protected:
  Request Get(const std::string& path) {
    Request r;
    r.url = server_.url() + path;
    return r;
  }

  TestServer server_;
  Engine engine_;
};

TEST_F(HttpEngineTest, GetRoundTrip) {
  server_.SetHandler([](const RecordedRequest& r) {
    Reply reply;
    reply.body = "hello " + r.target;
    reply.headers = {{"Content-Type", "text/plain"}, {"Retry-After", "7"}};
    return reply;
  });
  Response response = engine_.Perform(Get("/a?b=1"));
  ASSERT_FALSE(response.error) << response.error.message;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello /a?b=1");
  EXPECT_EQ(response.Header("Retry-After"), "7");
  EXPECT_EQ(response.Header("content-type"), "text/plain");
  EXPECT_EQ(response.method, "GET");
  EXPECT_EQ(response.http_version, 11);
  ASSERT_EQ(server_.Requests().size(), 1U);
  const std::string agent = server_.Requests()[0].Header("user-agent");
  EXPECT_EQ(agent.rfind("twiliocore/", 0), 0U) << agent;
  EXPECT_NE(agent.find("libcurl/"), std::string::npos) << agent;
}

TEST_F(HttpEngineTest, AnswersLargerThanTheReceiveBufferArriveWhole) {
  // A page of a list is far larger than the 4 KB receive buffer of a handle.
  std::string page;
  for (int i = 0; page.size() < 1'000'000; ++i) page += "{\"sid\": \"SM" + std::to_string(i) + "\"},";
  server_.SetHandler([&page](const RecordedRequest&) {
    Reply reply;
    reply.body = page;
    return reply;
  });
  for (int round = 0; round < 2; ++round) {  // a fresh handle, then a pooled one
    Response response = engine_.Perform(Get("/page"));
    ASSERT_FALSE(response.error) << response.error.message;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, page);
  }
}

TEST_F(HttpEngineTest, PostSendsHeadersFormBodyAndBasicAuth) {
  Request r = Get("/post");
  r.method = "POST";
  r.body = "To=%2B14155552671&Body=hi";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Test", "yes"}};
  r.username = "ACuser";
  r.password = SecureString("s3cret");
  Response response = engine_.Perform(std::move(r));
  ASSERT_FALSE(response.error) << response.error.message;
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].body, "To=%2B14155552671&Body=hi");
  EXPECT_EQ(requests[0].Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].Header("x-test"), "yes");
  EXPECT_EQ(requests[0].Header("expect"), "");
  // base64("ACuser:s3cret")
  EXPECT_EQ(requests[0].Header("authorization"), "Basic QUN1c2VyOnMzY3JldA==");
  EXPECT_EQ(response.url.find("s3cret"), std::string::npos);
}

TEST_F(HttpEngineTest, SendsTheContentTypeOnceWhateverTheMethodAndBody) {
  // The form type is left to libcurl for a body it sends (see Configure): it must still
  // arrive, once, for every method and an empty body, and any other type as given.
  struct Case {
    std::string method;
    std::string body;
    std::string type;
  };
  const std::vector<Case> cases = {
      {"POST", "To=%2B14155552671", "application/x-www-form-urlencoded"},
      {"POST", "", "application/x-www-form-urlencoded"},
      {"PUT", "A=1", "application/x-www-form-urlencoded"},
      {"PATCH", "A=1", "application/x-www-form-urlencoded"},
      {"POST", "{}", "application/json"},
      {"GET", "", "application/x-www-form-urlencoded"},
  };
  for (const Case& c : cases) {
    server_.Clear();
    Request r = Get("/typed");
    r.method = c.method;
    r.body = c.body;
    r.headers = {{"Content-Type", c.type}};
    ASSERT_FALSE(engine_.Perform(std::move(r)).error) << c.method;
    const auto requests = server_.Requests();
    ASSERT_EQ(requests.size(), 1U);
    const auto& headers = requests[0].headers;
    EXPECT_EQ(std::count_if(headers.begin(), headers.end(),
                            [](const auto& h) { return h.first == "content-type"; }),
              1)
        << c.method << " " << c.type;
    EXPECT_EQ(requests[0].Header("content-type"), c.type) << c.method;
    EXPECT_EQ(requests[0].method, c.method);
    EXPECT_EQ(requests[0].body, c.body) << c.method;
  }
}

TEST_F(HttpEngineTest, SendsOneAuthorizationLineAndACallersOwnWins) {
  auto count = [](const RecordedRequest& request) {
    return std::count_if(request.headers.begin(), request.headers.end(),
                         [](const auto& header) { return header.first == "authorization"; });
  };
  Request first = Get("/a");
  first.username = "ACuser";
  first.password = SecureString("s3cret");
  ASSERT_FALSE(engine_.Perform(std::move(first)).error);
  Request own = Get("/a");
  own.username = "ACuser";
  own.password = SecureString("s3cret");
  own.headers = {{"Authorization", "Bearer t0ken"}};
  ASSERT_FALSE(engine_.Perform(std::move(own)).error);
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(count(requests[0]), 1);
  EXPECT_EQ(requests[0].Header("authorization"), "Basic QUN1c2VyOnMzY3JldA==");
  EXPECT_EQ(count(requests[1]), 1);
  EXPECT_EQ(requests[1].Header("authorization"), "Bearer t0ken");
}

// Through a proxy, an https URL is reached with CONNECT: the proxy gets the agent, never the
// account's credentials (they go inside the tunnel only).
TEST(HttpEngineProxyTest, ConnectCarriesTheAgentNeverTheCredentials) {
  TestServer proxy;
  proxy.SetHandler([](const RecordedRequest&) {
    Reply reply;
    reply.status = 403;
    reply.body.clear();
    return reply;
  });
  EngineOptions options;
  options.proxy = proxy.url();
  Engine engine(options);
  Request r;
  r.url = "https://api.twilio.invalid/2010-04-01/Accounts.json";
  r.username = "ACuser";
  r.password = SecureString("s3cret");
  const Response response = engine.Perform(std::move(r));
  EXPECT_TRUE(response.error);
  const auto requests = proxy.Requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "CONNECT");
  EXPECT_EQ(requests[0].Header("user-agent"), engine.options().user_agent);
  EXPECT_EQ(requests[0].Header("authorization"), "");
  EXPECT_EQ(requests[0].Header("proxy-authorization"), "");
}

// Sets environment variables (nullptr: unset) for a scope, and restores them.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(std::vector<std::pair<std::string, const char*>> values) {
    for (const auto& [name, value] : values) {
      const char* old = std::getenv(name.c_str());
      saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
      if (value != nullptr) {
        setenv(name.c_str(), value, 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  ~ScopedEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Without a configured proxy, the environment's is used, as libcurl reads it, from when the
// engine was made; no_proxy hosts go straight to the server.
TEST(HttpEngineProxyTest, TakesTheEnvironmentsProxyWhenTheEngineIsMade) {
  TestServer server;
  TestServer proxy;
  std::optional<Engine> proxied;
  std::optional<Engine> bypassing;
  {
    ScopedEnvironment env({{"http_proxy", proxy.url().c_str()},
                           {"HTTP_PROXY", nullptr},
                           {"https_proxy", nullptr},
                           {"HTTPS_PROXY", nullptr},
                           {"all_proxy", nullptr},
                           {"ALL_PROXY", nullptr},
                           {"no_proxy", nullptr},
                           {"NO_PROXY", nullptr}});
    proxied.emplace();
    setenv("no_proxy", "127.0.0.1", 1);
    bypassing.emplace();
  }  // the environment restored: the engines keep what they read
  Request via;
  via.url = server.url() + "/via";
  ASSERT_FALSE(proxied->Perform(std::move(via)).error);
  ASSERT_EQ(proxy.Requests().size(), 1U);
  EXPECT_EQ(proxy.Requests()[0].target, server.url() + "/via");  // absolute form: a proxy
  EXPECT_EQ(server.Requests().size(), 0U);
  Request direct;
  direct.url = server.url() + "/direct";
  ASSERT_FALSE(bypassing->Perform(std::move(direct)).error);
  ASSERT_EQ(server.Requests().size(), 1U);
  EXPECT_EQ(server.Requests()[0].target, "/direct");
  EXPECT_EQ(proxy.Requests().size(), 1U);
}

TEST_F(HttpEngineTest, SendsOneAgentAndEncodingLineAndDecodesGzip) {
  // "decoded answer", gzip-compressed.
  static constexpr char kGzip[] =
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x4b\x49\x4d\xce\x4f\x49\x4d\x51\x48\xcc\x2b"
      "\x2e\x4f\x2d\x02\x00\x04\xd0\x0d\xf5\x0e\x00\x00\x00";
  server_.SetHandler([](const RecordedRequest&) {
    Reply reply;
    reply.body.assign(kGzip, sizeof kGzip - 1);
    reply.headers = {{"Content-Type", "text/plain"}, {"Content-Encoding", "gzip"}};
    return reply;
  });
  auto count = [](const RecordedRequest& request, const std::string& name) {
    return std::count_if(request.headers.begin(), request.headers.end(),
                         [&name](const auto& header) { return header.first == name; });
  };
  Response first = engine_.Perform(Get("/gz"));
  ASSERT_FALSE(first.error) << first.error.message;
  EXPECT_EQ(first.body, "decoded answer");
  Request own = Get("/gz");
  own.headers = {{"user-agent", "probe/1"}, {"Accept-Encoding", "gzip"}};
  Response second = engine_.Perform(std::move(own));
  ASSERT_FALSE(second.error) << second.error.message;
  EXPECT_EQ(second.body, "decoded answer");
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(count(requests[0], "user-agent"), 1);
  EXPECT_EQ(count(requests[0], "accept-encoding"), 1);
  EXPECT_EQ(requests[0].Header("user-agent"), engine_.options().user_agent);
  EXPECT_NE(requests[0].Header("accept-encoding").find("gzip"), std::string::npos)
      << requests[0].Header("accept-encoding");
  EXPECT_EQ(count(requests[1], "user-agent"), 1);
  EXPECT_EQ(count(requests[1], "accept-encoding"), 1);
  EXPECT_EQ(requests[1].Header("user-agent"), "probe/1");
  EXPECT_EQ(requests[1].Header("accept-encoding"), "gzip");
}

TEST_F(HttpEngineTest, ResponseHeadersCanBeSkippedForSuccessesOnly) {
  server_.SetHandler([](const RecordedRequest& r) {
    Reply reply;
    reply.status = r.Path() == "/busy" ? 429 : 201;
    reply.headers = {{"Content-Type", "application/json"}, {"Retry-After", "3"}};
    reply.body = "{}";
    return reply;
  });
  Request created = Get("/create");
  created.keep_response_headers = false;
  Response ok = engine_.Perform(std::move(created));
  ASSERT_FALSE(ok.error) << ok.error.message;
  EXPECT_EQ(ok.status, 201);
  EXPECT_TRUE(ok.headers.empty());
  EXPECT_EQ(ok.body, "{}");
  Request busy = Get("/busy");
  busy.keep_response_headers = false;
  Response throttled = engine_.Perform(std::move(busy));
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.Header("retry-after"), "3");  // what a retry needs is kept
  // The same pooled handle, asked for headers again, gives them.
  Response full = engine_.Perform(Get("/create"));
  EXPECT_EQ(full.Header("retry-after"), "3");
}

TEST_F(HttpEngineTest, UncompressedRequestsOfferNoEncoding) {
  Request plain = Get("/plain");
  plain.accept_compressed = false;
  ASSERT_FALSE(engine_.Perform(std::move(plain)).error);
  ASSERT_FALSE(engine_.Perform(Get("/default")).error);
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].Header("accept-encoding"), "");
  EXPECT_NE(requests[1].Header("accept-encoding"), "");
}

TEST_F(HttpEngineTest, NoExpectContinueForSmallOrLargeBodies) {
  // libcurl would add "Expect: 100-continue" to a large HTTP/1.1 POST and wait for the 100
  // (the test server never sends one); the engine suppresses it at every size.
  for (const std::size_t size : {std::size_t{100}, std::size_t{999}, std::size_t{1000},
                                 std::size_t{5000}, std::size_t{2} << 20}) {
    Request r = Get("/post");
    r.method = "POST";
    r.body.assign(size, 'x');
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    Response response = engine_.Perform(std::move(r));
    ASSERT_FALSE(response.error) << response.error.message;
  }
  for (const RecordedRequest& request : server_.Requests()) {
    EXPECT_EQ(request.Header("expect"), "") << request.body.size();
  }
  ASSERT_EQ(server_.Requests().size(), 5U);
  EXPECT_EQ(server_.Requests().back().body.size(), std::size_t{2} << 20);
}

TEST_F(HttpEngineTest, DeleteUsesMethod) {
  server_.SetHandler([](const RecordedRequest&) {
    Reply reply;
    reply.status = 204;
    reply.body.clear();
    return reply;
  });
  Request r = Get("/thing");
  r.method = "DELETE";
  Response response = engine_.Perform(std::move(r));
  ASSERT_FALSE(response.error) << response.error.message;
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(server_.Requests().at(0).method, "DELETE");
}

TEST_F(HttpEngineTest, PooledHandlesCarryNothingIntoARequestWithOtherSettings) {
  // While "/hold" keeps the engine busy, pooled handles stay configured between requests:
  // a request with the same settings reuses one as it is, any other must reset it. Each
  // request below must reach the server exactly as described, whatever came before it.
  server_.SetHandler([](const RecordedRequest& r) {
    Reply reply;
    if (r.Path() == "/hold") reply.delay = 1500ms;
    return reply;
  });
  Pending hold = engine_.Start(Get("/hold"));
  struct Kind {
    std::string method;
    std::string user;
    std::string password;
    std::string body;
    std::string header;  // value of X-Kind; empty: no such header
    std::string authorization;
  };
  const Kind a{"POST", "ACa", "pa", "To=1", "a", "Basic QUNhOnBh"};     // base64("ACa:pa")
  const Kind b{"POST", "ACb", "pb", "To=2", "b", "Basic QUNiOnBi"};     // base64("ACb:pb")
  const Kind get{"GET", "", "", "", "", ""};
  const Kind del{"DELETE", "ACa", "pa", "", "d", "Basic QUNhOnBh"};
  const Kind put{"PUT", "", "", "x=1", "", ""};
  const std::vector<Kind> sequence = {a, a, b, get, a, del, put, a, a, get, b, b, put, get};
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    const Kind& k = sequence[i];
    Request r = Get("/k" + std::to_string(i));
    r.method = k.method;
    r.body = k.body;
    r.username = k.user;
    r.password = SecureString(k.password);
    if (!k.header.empty()) r.headers = {{"X-Kind", k.header}};
    Response response = engine_.Perform(std::move(r));
    ASSERT_FALSE(response.error) << i << ": " << response.error.message;
    EXPECT_EQ(response.status, 200) << i;
    EXPECT_EQ(response.method, k.method) << i;
  }
  EXPECT_FALSE(hold.Ready());  // everything above ran while the engine was busy
  const auto requests = server_.Requests();
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    const Kind& k = sequence[i];
    const RecordedRequest* found = nullptr;
    for (const RecordedRequest& rec : requests) {
      if (rec.Path() == "/k" + std::to_string(i)) found = &rec;
    }
    ASSERT_NE(found, nullptr) << i;
    EXPECT_EQ(found->method, k.method) << i;
    EXPECT_EQ(found->body, k.body) << i;
    EXPECT_EQ(found->Header("authorization"), k.authorization) << i;
    EXPECT_EQ(found->Header("x-kind"), k.header) << i;
    EXPECT_EQ(found->Header("expect"), "") << i;
  }
  Response held = hold.Take();
  EXPECT_FALSE(held.error) << held.error.message;
}

TEST_F(HttpEngineTest, SequentialRequestsReuseOneConnection) {
  for (int i = 0; i < 5; ++i) {
    Response response = engine_.Perform(Get("/seq"));
    ASSERT_FALSE(response.error) << response.error.message;
  }
  EXPECT_EQ(server_.Connections(), 1);
  EXPECT_EQ(engine_.Stats().connections_opened, 1U);
  EXPECT_EQ(engine_.Stats().completed, 5U);
}

TEST_F(HttpEngineTest, HundredRequestsFromFourThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::promise<void> all_done;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        engine_.Submit(Get("/c/" + std::to_string(t) + "/" + std::to_string(i)),
                       [&](Response&& response) {
                         if (!response.error && response.status == 200) ++ok;
                         if (++done == kThreads * kPerThread) all_done.set_value();
                       });
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_EQ(all_done.get_future().wait_for(30s), std::future_status::ready);
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(server_.Requests().size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(engine_.Stats().in_flight, 0U);
}

TEST_F(HttpEngineTest, WarmConnectionsSurviveBetweenBursts) {
  // Each burst holds every answer until all its requests arrived, so each burst needs
  // kBurst connections at once; the second one must find them all in the idle cache.
  constexpr int kBurst = 40;
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  server_.SetHandler([&](const RecordedRequest&) {
    std::unique_lock lock(mu);
    const int target = (arrived / kBurst + 1) * kBurst;
    ++arrived;
    cv.notify_all();
    cv.wait_for(lock, 5s, [&] { return arrived >= target; });
    return Reply{};
  });
  auto burst = [this] {
    std::vector<Pending> pendings;
    for (int i = 0; i < kBurst; ++i) pendings.push_back(engine_.Start(Get("/burst")));
    for (Pending& p : pendings) ASSERT_EQ(p.Take().status, 200);
  };
  burst();
  EXPECT_EQ(server_.Connections(), kBurst);
  burst();
  EXPECT_EQ(server_.Connections(), kBurst);
  EXPECT_EQ(engine_.Stats().connections_opened, static_cast<std::uint64_t>(kBurst));
}

TEST(HttpEngineErrors, ConnectionRefusedIsTransportConnect) {
  Engine engine;
  Request r;
  r.url = "http://127.0.0.1:1/2010-04-01/Accounts.json";
  r.username = "ACsecretuser";
  r.password = SecureString("tok3n");
  Response response = engine.Perform(std::move(r));
  ASSERT_TRUE(response.error);
  EXPECT_EQ(response.error.category, ErrorCategory::kTransport);
  EXPECT_EQ(response.error.stage, TransportStage::kConnect);
  EXPECT_TRUE(response.error.NeverSent());
  EXPECT_EQ(response.error.message.rfind("connection refused: http://127.0.0.1:1/", 0), 0U)
      << response.error.message;
  EXPECT_EQ(response.error.message.find("tok3n"), std::string::npos);
}

TEST(HttpEngineErrors, UnresolvableHostIsTransportResolve) {
  // ".invalid" never resolves (RFC 6761); resolvers answer it locally.
  Engine engine;
  Request r;
  r.url = "http://nonexistent.invalid/x";
  r.total_timeout = 5000ms;
  Response response = engine.Perform(std::move(r));
  ASSERT_TRUE(response.error);
  if (response.error.category == ErrorCategory::kTimeout) {
    GTEST_SKIP() << "the resolver did not answer: " << response.error.message;
  }
  EXPECT_EQ(response.error.category, ErrorCategory::kTransport) << response.error.message;
  EXPECT_EQ(response.error.stage, TransportStage::kResolve) << response.error.message;
  EXPECT_NE(response.error.message.find("nonexistent.invalid"), std::string::npos);
}

TEST_F(HttpEngineTest, SlowAnswerIsTimeout) {
  server_.SetHandler([](const RecordedRequest&) {
    Reply reply;
    reply.delay = 3000ms;
    return reply;
  });
  Request r = Get("/slow");
  r.total_timeout = 200ms;
  Response response = engine_.Perform(std::move(r));
  ASSERT_TRUE(response.error);
  EXPECT_EQ(response.error.category, ErrorCategory::kTimeout);
  EXPECT_EQ(response.error.stage, TransportStage::kReceive);
  EXPECT_FALSE(response.error.NeverSent());
}

TEST_F(HttpEngineTest, CloseWithoutAnswerIsReceiveError) {
  server_.SetHandler([](const RecordedRequest&) {
    Reply reply;
    reply.close_without_answer = true;
    return reply;
  });
  Response response = engine_.Perform(Get("/drop"));
  ASSERT_TRUE(response.error);
  EXPECT_EQ(response.error.category, ErrorCategory::kTransport);
  EXPECT_EQ(response.error.stage, TransportStage::kReceive);
  EXPECT_FALSE(response.error.NeverSent());
  EXPECT_GE(server_.Requests().size(), 1U);
}

TEST_F(HttpEngineTest, CancelCompletesWithCancelled) {
  server_.SetHandler([](const RecordedRequest&) {
    Reply reply;
    reply.delay = 5000ms;
    return reply;
  });
  Pending pending = engine_.Start(Get("/cancel-me"));
  // Wait until the server has the request, so the cancel hits an in-flight transfer.
  for (int i = 0; i < 500 && server_.Requests().empty(); ++i) std::this_thread::sleep_for(10ms);
  engine_.Cancel(pending.id());
  ASSERT_TRUE(pending.WaitFor(10s));
  Response response = pending.Take();
  EXPECT_EQ(response.error.category, ErrorCategory::kCancelled);
  engine_.Cancel(pending.id());  // finished ids are ignored
  engine_.Cancel(987654);        // unknown ids too
}

TEST(HttpEngineShutdown, InFlightRequestsCompleteCancelled) {
  TestServer server;
  server.SetHandler([](const RecordedRequest&) {
    Reply reply;
    reply.delay = 10000ms;
    return reply;
  });
  auto engine = std::make_unique<Engine>();
  std::vector<Pending> pendings;
  for (int i = 0; i < 10; ++i) {
    Request r;
    r.url = server.url() + "/hang";
    pendings.push_back(engine->Start(std::move(r)));
  }
  engine->Shutdown();
  engine->Shutdown();  // idempotent
  EXPECT_FALSE(engine->running());
  for (Pending& p : pendings) {
    ASSERT_TRUE(p.Ready());
    EXPECT_EQ(p.Take().error.category, ErrorCategory::kCancelled);
  }
  // Submitting after shutdown completes at once, cancelled.
  Request late;
  late.url = server.url() + "/late";
  bool called = false;
  engine->Submit(std::move(late), [&](Response&& r) {
    called = true;
    EXPECT_EQ(r.error.category, ErrorCategory::kCancelled);
  });
  EXPECT_TRUE(called);
  engine.reset();
}

TEST_F(HttpEngineTest, HttpsToPlainServerIsTls) {
  Request r;
  r.url = "https://127.0.0.1:" + std::to_string(server_.port()) + "/tls";
  r.total_timeout = 5000ms;
  Response response = engine_.Perform(std::move(r));
  ASSERT_TRUE(response.error);
  EXPECT_EQ(response.error.category, ErrorCategory::kTls) << response.error.message;
  EXPECT_EQ(response.error.stage, TransportStage::kTls);
  EXPECT_TRUE(response.error.NeverSent());
}

// A feed of POSTs, each tagged with its index; Limit() in flight at most.
class CountingFeed final : public Feed {
 public:
  CountingFeed(std::string url, int total, std::size_t limit)
      : url_(std::move(url)), total_(total), limit_(limit) {}

  bool Next(Request& request, std::uint64_t& tag) override {
    if (next_ >= total_) return false;
    tag = static_cast<std::uint64_t>(next_);
    request.method = "POST";
    request.url = url_;
    request.body = "n=" + std::to_string(next_++);
    return true;
  }
  void Done(std::uint64_t tag, Response& response) override {
    std::lock_guard lock(mu_);
    statuses_.emplace_back(tag, response.error ? -1 : response.status);
    if (response.error) cancelled_ += response.error.category == ErrorCategory::kCancelled;
    cv_.notify_all();
  }
  void Flush() override { ++flushes_; }
  std::size_t Limit() const override { return limit_; }

  bool WaitForDone(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return statuses_.size() >= n; });
  }
  std::vector<std::pair<std::uint64_t, long>> statuses() {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  int cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  int flushes() const { return flushes_.load(); }

 private:
  std::string url_;
  int total_;
  std::size_t limit_;
  int next_ = 0;  // engine thread only
  std::atomic<int> flushes_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::uint64_t, long>> statuses_;
  int cancelled_ = 0;
};

TEST_F(HttpEngineTest, FeedRequestsAreAnsweredOnceEachWithinItsLimit) {
  twiliocore::testing::ConcurrencyGauge gauge;
  server_.SetHandler([&](const RecordedRequest&) {
    auto serving = gauge.Enter();
    std::this_thread::sleep_for(5ms);
    return Reply{};
  });
  auto feed = std::make_shared<CountingFeed>(server_.url() + "/feed", 60, 4);
  engine_.Attach(feed);
  engine_.Poke();
  ASSERT_TRUE(feed->WaitForDone(60));
  auto statuses = feed->statuses();
  ASSERT_EQ(statuses.size(), 60U);
  std::vector<bool> seen(60, false);
  for (const auto& [tag, status] : statuses) {
    ASSERT_LT(tag, 60U);
    EXPECT_FALSE(seen[tag]) << "tag " << tag << " answered twice";
    seen[tag] = true;
    EXPECT_EQ(status, 200);
  }
  EXPECT_LE(gauge.most(), 4);
  EXPECT_LE(server_.Connections(), 4);  // slots keep their connections
  EXPECT_GT(feed->flushes(), 0);
  std::vector<std::string> bodies;
  for (const RecordedRequest& r : server_.Requests()) bodies.push_back(r.body);
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(std::unique(bodies.begin(), bodies.end()), bodies.end());
  EXPECT_EQ(bodies.size(), 60U);
  engine_.Detach(feed);
  EXPECT_EQ(engine_.Stats().in_flight, 0U);
}

TEST(HttpEngineFeeds, InFlightRequestsCompleteCancelledAtShutdown) {
  TestServer server;
  server.SetHandler([](const RecordedRequest&) {
    Reply reply;
    reply.delay = 2s;
    return reply;
  });
  auto engine = std::make_unique<Engine>();
  auto feed = std::make_shared<CountingFeed>(server.url() + "/slow", 3, 3);
  engine->Attach(feed);
  engine->Poke();
  for (int i = 0; i < 200 && server.Requests().size() < 3; ++i) std::this_thread::sleep_for(10ms);
  engine->Shutdown();
  ASSERT_TRUE(feed->WaitForDone(3));
  EXPECT_EQ(feed->cancelled(), 3);
}

TEST_F(HttpEngineTest, CallbackMaySubmitFromEngineThread) {
  std::promise<long> second;
  std::atomic<bool> on_engine_thread{false};
  engine_.Submit(Get("/first"), [&](Response&&) {
    on_engine_thread = engine_.OnEngineThread();
    engine_.Submit(Get("/second"), [&](Response&& r) { second.set_value(r.status); });
  });
  auto f = second.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), 200);
  EXPECT_TRUE(on_engine_thread.load());
  EXPECT_FALSE(engine_.OnEngineThread());
}

TEST(HttpEngineHelpers, StripCredentials) {
  EXPECT_EQ(StripCredentials("https://AC1:tok@api.twilio.com/x@y"), "https://api.twilio.com/x@y");
  EXPECT_EQ(StripCredentials("http://host/p"), "http://host/p");
}

TEST(HttpEngineHelpers, UserAgentNamesVersionAndCurl) {
  const std::string ua = DefaultUserAgent();
  EXPECT_EQ(ua.rfind("twiliocore/", 0), 0U);
  EXPECT_NE(ua.find(") libcurl/"), std::string::npos);
}

TEST_F(HttpEngineTest, EveryRequestGoesToItsOwnUrlOnReusedHandles) {
  // Handles keep their URL, parsed (CURLOPT_CURLU), between requests: each request must still
  // reach its own target, normalised as libcurl normalises a URL given as text.
  server_.SetHandler([](const RecordedRequest& r) {
    Reply reply;
    reply.body = r.target;
    return reply;
  });
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/a?x=1", "/a?x=1"}, {"/b", "/b"},         {"/a?x=1", "/a?x=1"},
      {"/c/../d", "/d"},    {"/e%20f", "/e%20f"}, {"/b", "/b"},
  };
  for (const auto& [path, target] : cases) {
    Response response = engine_.Perform(Get(path));
    ASSERT_FALSE(response.error) << path << ": " << response.error.message;
    EXPECT_EQ(response.body, target) << path;
    EXPECT_EQ(response.url, server_.url() + path);  // the request's URL, as given
  }
}

TEST(HttpEngineErrors, UrlTheParserRefusesIsInvalidArgument) {
  Engine engine;
  for (const std::string url : {"http://exa mple.com/x", "http://[::1/x", "http://h:99999/x"}) {
    Request r;
    r.url = url;
    Response response = engine.Perform(std::move(r));
    EXPECT_EQ(response.error.category, ErrorCategory::kInvalidArgument) << url;
    EXPECT_FALSE(response.error.message.empty()) << url;
  }
}

TEST(HttpEngineErrors, BadSchemeIsInvalidArgument) {
  Engine engine;
  Request r;
  r.url = "ftp://127.0.0.1/x";
  Response response = engine.Perform(std::move(r));
  EXPECT_EQ(response.error.category, ErrorCategory::kInvalidArgument);
}

}  // namespace
}  // namespace twiliocore::http
