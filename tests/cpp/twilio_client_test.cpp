// Tests of the Twilio REST client against the loopback server: exact form encoding, auth,
// paths, paging and error mapping.

#include "twiliocore/twilio_client.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "test_server.h"

namespace twiliocore {
namespace {

using namespace std::chrono_literals;
using twiliocore::testing::RecordedRequest;
using twiliocore::testing::Reply;
using twiliocore::testing::TestServer;

constexpr char kSid[] = "AC00000000000000000000000000000001";
constexpr char kToken[] = "tok_secret_0123";

MessageCreate Simple(std::string to, std::string body) {
  MessageCreate c;
  c.to = std::move(to);
  c.from = "+15005550006";
  c.body = std::move(body);
  return c;
}

Reply Json(int status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.headers = {{"Content-Type", "application/json"}};
  reply.body = std::move(body);
  return reply;
}

class TwilioClientTest : public ::testing::Test {
 protected:
  TwilioClientTest()
      : engine_(std::make_shared<http::Engine>()),
        client_(engine_, Credentials{kSid, "", SecureString(kToken)}, server_.url()) {}

  RecordedRequest Only() {
    const auto requests = server_.Requests();
    EXPECT_EQ(requests.size(), 1U);
    return requests.empty() ? RecordedRequest{} : requests.back();
  }

  TestServer server_;
  std::shared_ptr<http::Engine> engine_;
  TwilioClient client_;
};

TEST(FormEncodeTest, EncodesLikeTwilioExpects) {
  EXPECT_EQ(FormEncode({{"Body", "a b+c&d=e"}}), "Body=a+b%2Bc%26d%3De");
  EXPECT_EQ(FormEncode({{"Body", "héllo ✓"}}), "Body=h%C3%A9llo+%E2%9C%93");
  EXPECT_EQ(FormEncode({{"MediaUrl", "https://x/a.png"}, {"MediaUrl", "https://x/b.png"}}),
            "MediaUrl=https%3A%2F%2Fx%2Fa.png&MediaUrl=https%3A%2F%2Fx%2Fb.png");
  EXPECT_EQ(FormEncode({{"DateSent<", "2024-01-01"}}), "DateSent%3C=2024-01-01");
  EXPECT_EQ(PercentEncode("a b"), "a%20b");
}

TEST(MessageCreateFormTest, RejectsMissingFieldsNamingThem) {
  MessageCreate c;
  EXPECT_THROW((void)MessageCreateForm(c), std::invalid_argument);
  c.to = "+14155552671";
  try {
    (void)MessageCreateForm(c);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("From"), std::string::npos);
  }
  c.from = "+15005550006";
  EXPECT_THROW((void)MessageCreateForm(c), std::invalid_argument);  // no body/media
  c.body = "x";
  c.validity_period = 0;
  EXPECT_THROW((void)MessageCreateForm(c), std::invalid_argument);
  c.validity_period = 60;
  c.media_urls.assign(11, "https://x/y.png");
  EXPECT_THROW((void)MessageCreateForm(c), std::invalid_argument);
  c.media_urls.resize(2);
  EXPECT_EQ(MessageCreateForm(c).size(), 6U);
}

TEST_F(TwilioClientTest, CreateSendsExactFormAndAuth) {
  server_.SetHandler([](const RecordedRequest&) {
    return Json(201, R"({"sid":"SM00000000000000000000000000000001","status":"queued","num_segments":"1"})");
  });
  MessageCreate c;
  c.to = "+14155552671";
  c.from = "+15005550006";
  c.body = "Grüße & 1+1=2 ✓";
  c.media_urls = {"https://example.com/a.png?x=1&y=2", "https://example.com/b.png"};
  c.status_callback = "https://hooks.example.com/status";
  c.validity_period = 600;
  c.extra = {{"ContentRetention", "discard"}, {"SendAsMms", "true"}};
  const nlohmann::json message = client_.CreateMessage(c);
  EXPECT_EQ(message["sid"], "SM00000000000000000000000000000001");
  const RecordedRequest r = Only();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, std::string("/2010-04-01/Accounts/") + kSid + "/Messages.json");
  EXPECT_EQ(r.body,
            "To=%2B14155552671&From=%2B15005550006&Body=Gr%C3%BC%C3%9Fe+%26+1%2B1%3D2+%E2%9C%93"
            "&MediaUrl=https%3A%2F%2Fexample.com%2Fa.png%3Fx%3D1%26y%3D2"
            "&MediaUrl=https%3A%2F%2Fexample.com%2Fb.png"
            "&StatusCallback=https%3A%2F%2Fhooks.example.com%2Fstatus&ValidityPeriod=600"
            "&ContentRetention=discard&SendAsMms=true");
  EXPECT_EQ(r.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.Header("accept"), "application/json");
  EXPECT_EQ(r.Header("accept-charset"), "");  // Twilio answers UTF-8 JSON without it
  // base64("AC00000000000000000000000000000001:tok_secret_0123")
  EXPECT_EQ(r.Header("authorization"),
            "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTp0b2tfc2VjcmV0XzAxMjM=");
}

// Every request of a template is byte for byte the request CreateMessageRequest builds.
TEST_F(TwilioClientTest, TemplateRequestsEqualCreateRequests) {
  auto same = [](const http::Request& a, const http::Request& b) {
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.url, b.url);
    EXPECT_EQ(a.headers, b.headers);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(a.username, b.username);
    EXPECT_EQ(a.password.view(), b.password.view());
  };
  std::vector<MessageCreate> cases;
  cases.push_back(Simple("", "Your code is 123456"));
  MessageCreate service;
  service.messaging_service_sid = "MG00000000000000000000000000000001";
  service.body = "Grüße & 1+1=2 ✓ %41";
  cases.push_back(service);
  MessageCreate everything = Simple("", "body");
  everything.messaging_service_sid = "MG00000000000000000000000000000002";
  everything.media_urls = {"https://example.com/a.png?x=1&y=2", "https://example.com/b.png"};
  everything.status_callback = "https://hooks.example.com/status?a=1&b=2";
  everything.validity_period = 600;
  everything.extra = {{"ContentRetention", "discard"}, {"Body", "&Body=%01"}};
  cases.push_back(everything);
  MessageCreate media_only = Simple("", "");
  media_only.media_urls = {"https://example.com/a.png"};
  cases.push_back(media_only);
  MessageCreate content = Simple("whatsapp:+14155552671", "");
  content.from = "whatsapp:+15005550006";
  content.extra = {{"ContentSid", "HX00000000000000000000000000000001"}};
  cases.push_back(content);

  for (const MessageCreate& fields : cases) {
    const MessageCreateTemplate t = client_.CreateMessageTemplate(fields);
    for (const std::string to : {"+14155552671", "whatsapp:+447700900123", "a b&c=d"}) {
      MessageCreate expected = fields;
      expected.to = to;
      same(t.Request(to), client_.CreateMessageRequest(expected));
      for (const std::string body : {"other body", "ünïcödé + & = %", ""}) {
        expected.body = body;
        if (body.empty() && fields.media_urls.empty() && fields.extra.empty()) {
          EXPECT_THROW((void)t.Request(to, body), std::invalid_argument);
          continue;
        }
        same(t.Request(to, body), client_.CreateMessageRequest(expected));
      }
    }
  }
}

TEST_F(TwilioClientTest, TemplateRefusesWhatACreateRefuses) {
  MessageCreate none;
  none.body = "x";
  EXPECT_THROW((void)client_.CreateMessageTemplate(none), std::invalid_argument);  // no From
  MessageCreate many = Simple("", "x");
  many.media_urls.assign(11, "https://x/y.png");
  EXPECT_THROW((void)client_.CreateMessageTemplate(many), std::invalid_argument);
  const MessageCreateTemplate t = client_.CreateMessageTemplate(Simple("", "x"));
  EXPECT_THROW((void)t.Request(""), std::invalid_argument);
  // A template without a body needs one per request.
  const MessageCreateTemplate bodiless = client_.CreateMessageTemplate(Simple("", ""));
  EXPECT_THROW((void)bodiless.Request("+14155552671"), std::invalid_argument);
  EXPECT_EQ(bodiless.Request("+14155552671", "hi").body, "To=%2B14155552671&From=%2B15005550006&Body=hi");
}

TEST_F(TwilioClientTest, FetchUpdateDeleteAndAccount) {
  server_.SetHandler([](const RecordedRequest& r) {
    if (r.method == "DELETE") {
      Reply reply;
      reply.status = 204;
      reply.body.clear();
      return reply;
    }
    return Json(200, R"({"sid":"SMabc","body":""})");
  });
  EXPECT_EQ(client_.FetchMessage("SMabc")["sid"], "SMabc");
  EXPECT_EQ(client_.UpdateMessage("SMabc", {{"Body", ""}})["body"], "");
  client_.DeleteMessage("SMabc");
  (void)client_.FetchAccount(kSid);
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 4U);
  const std::string base = std::string("/2010-04-01/Accounts/") + kSid;
  EXPECT_EQ(requests[0].target, base + "/Messages/SMabc.json");
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].body, "Body=");
  EXPECT_EQ(requests[2].method, "DELETE");
  EXPECT_NE(requests[2].Header("accept"), "application/json");
  EXPECT_EQ(requests[3].target, base + ".json");
  EXPECT_THROW((void)client_.FetchMessage("SM/../x"), std::invalid_argument);
}

TEST_F(TwilioClientTest, ListFollowsNextPageUri) {
  const std::string base = std::string("/2010-04-01/Accounts/") + kSid + "/Messages.json";
  server_.SetHandler([base](const RecordedRequest& r) {
    if (r.target.find("Page=1") != std::string::npos) {
      return Json(200, R"({"messages":[{"sid":"SM3"}],"next_page_uri":null,"page":1})");
    }
    return Json(200, R"({"messages":[{"sid":"SM1"},{"sid":"SM2"}],"next_page_uri":")" + base +
                         R"(?To=%2B14155552671&PageSize=2&Page=1&PageToken=PASM2","page":0})");
  });
  MessageListQuery q;
  q.to = "+14155552671";
  q.date_sent = "2024-05-01";
  q.page_size = 2;
  const auto all = client_.ListMessages(q);
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[2]["sid"], "SM3");
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].target, base + "?To=%2B14155552671&DateSent=2024-05-01&PageSize=2");
  EXPECT_NE(requests[1].target.find("PageToken=PASM2"), std::string::npos);
  server_.Clear();
  EXPECT_EQ(client_.ListMessages(q, 1).size(), 1U);
  EXPECT_EQ(server_.Requests().size(), 1U);
}

TEST_F(TwilioClientTest, TwilioErrorJsonBecomesApiError) {
  server_.SetHandler([](const RecordedRequest&) {
    return Json(400, R"({"code":21211,"message":"The 'To' number 123 is not a valid phone number.",)"
                     R"("more_info":"https://www.twilio.com/docs/errors/21211","status":400})");
  });
  const MessageCreate c = Simple("123", "x");
  try {
    (void)client_.CreateMessage(c);
    FAIL() << "no throw";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.error().category, ErrorCategory::kApi);
    EXPECT_EQ(e.error().http_status, 400);
    EXPECT_EQ(e.error().twilio_code, 21211);
    EXPECT_EQ(e.error().message, "The 'To' number 123 is not a valid phone number.");
    EXPECT_EQ(e.error().more_info, "https://www.twilio.com/docs/errors/21211");
    EXPECT_EQ(e.error().method, "POST");
    EXPECT_NE(e.error().url.find("/Messages.json"), std::string::npos);
    EXPECT_NE(e.error().details.find("21211"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos);
  }
}

TEST_F(TwilioClientTest, HtmlAndEmptyErrorBodiesStillExplain) {
  server_.SetHandler([](const RecordedRequest& r) {
    Reply reply;
    if (r.target.find("html") != std::string::npos) {
      reply.status = 502;
      reply.headers = {{"Content-Type", "text/html"}, {"Retry-After", "3"}};
      reply.body = "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>";
    } else {
      reply.status = 503;
      reply.body.clear();
    }
    return reply;
  });
  ApiResult html = TwilioClient::Interpret(engine_->Perform(client_.MakeRequest("GET", "/html")));
  EXPECT_EQ(html.error.category, ErrorCategory::kApi);
  EXPECT_EQ(html.error.http_status, 502);
  EXPECT_EQ(html.error.message, "HTTP 502 from " + server_.url() + "/html: 502 Bad Gateway nginx");
  EXPECT_EQ(html.retry_after, 3000ms);
  ApiResult empty = TwilioClient::Interpret(engine_->Perform(client_.MakeRequest("GET", "/empty")));
  EXPECT_EQ(empty.error.http_status, 503);
  EXPECT_EQ(empty.error.message, "HTTP 503 from " + server_.url() + "/empty: empty answer");
  EXPECT_LT(empty.retry_after.count(), 0);
}

TEST_F(TwilioClientTest, AsyncCreateDeliversResult) {
  server_.SetHandler([](const RecordedRequest&) { return Json(201, R"({"sid":"SMasync"})"); });
  std::promise<ApiResult> done;
  client_.CreateMessageAsync(Simple("+14155552671", "hi"),
                             [&](ApiResult&& r) { done.set_value(std::move(r)); });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  ApiResult r = f.get();
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.http_status, 201);
  EXPECT_EQ(r.json["sid"], "SMasync");
}

TEST(TwilioClientTransport, RefusedConnectionThrowsTransportError) {
  auto engine = std::make_shared<http::Engine>();
  TwilioClient client(engine, Credentials{kSid, "", SecureString(kToken)}, "http://127.0.0.1:1");
  try {
    (void)client.FetchMessage("SM1");
    FAIL();
  } catch (const TransportError& e) {
    EXPECT_EQ(e.error().stage, TransportStage::kConnect);
    EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos);
  }
}

TEST(TwilioClientConstruction, RejectsBadSettings) {
  auto engine = std::make_shared<http::Engine>();
  EXPECT_THROW(TwilioClient(engine, Credentials{"", "", SecureString(kToken)}), std::invalid_argument);
  EXPECT_THROW(TwilioClient(engine, Credentials{kSid, "", SecureString("")}), std::invalid_argument);
  EXPECT_THROW(TwilioClient(engine, Credentials{kSid, "", SecureString(kToken)}, "ftp://x"),
               std::invalid_argument);
}

}  // namespace
}  // namespace twiliocore
