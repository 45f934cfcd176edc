#include "twiliocore/signature.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// Expected values were computed independently with Python's hmac/hashlib/base64
// (the same vectors are recomputed live in tests/python/test_request_validator.py).

namespace twiliocore {
namespace {

constexpr std::string_view kToken = "12345";
constexpr std::string_view kExampleUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";

Params ExampleParams() {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Caller", "+12349013030"},
          {"Digits", "1234"},
          {"From", "+12349013030"},
          {"To", "+18005551212"}};
}

Params UnicodeParams() { return {{"Body", "Grüße 😀 ж"}, {"From", "+4915112345678"}}; }

constexpr std::string_view kJsonBody = R"({"MessageSid": "SM123", "Body": "Grüße"})";
constexpr std::string_view kJsonBodySha =
    "a0809e24d5c4f54486744ab05caa6e68f40490baf0986bcfc1604a2b7cb2096e";

// Twilio's published example (https://www.twilio.com/docs/usage/security).
TEST(SignatureTest, ComputesTwilioDocsExample) {
  const SignatureValidator v(kToken);
  EXPECT_EQ(v.Compute(kExampleUrl, ExampleParams()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  EXPECT_TRUE(v.Validate(kExampleUrl, ExampleParams(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
}

TEST(SignatureTest, HmacSha256ForSharedKeys) {
  const SignatureValidator v(kToken);
  constexpr std::string_view kSha256 = "Rmm4Vzj+Ky7JGoWXMCsZDZuHDszLr9xvdbvitrDr4/M=";
  EXPECT_EQ(v.Compute(kExampleUrl, ExampleParams(), SignatureAlgorithm::kHmacSha256), kSha256);
  EXPECT_TRUE(v.Validate(kExampleUrl, ExampleParams(), kSha256, SignatureAlgorithm::kHmacSha256));
  // Each algorithm's signature is valid only for that algorithm.
  EXPECT_FALSE(v.Validate(kExampleUrl, ExampleParams(), kSha256));
  EXPECT_FALSE(v.Validate(kExampleUrl, ExampleParams(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
                          SignatureAlgorithm::kHmacSha256));
}

TEST(SignatureTest, ParamOrderDoesNotMatter) {
  const SignatureValidator v(kToken);
  Params reversed = ExampleParams();
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(v.Compute(kExampleUrl, reversed), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

TEST(SignatureTest, RepeatedParamsSortedAndDeduplicated) {
  const SignatureValidator v(kToken);
  const Params params = {{"MediaUrl", "b"}, {"MediaUrl", "a"}, {"MediaUrl", "b"}, {"Body", "hi"}};
  // Signed string: https://example.com/smsBodyhiMediaUrlaMediaUrlb
  EXPECT_EQ(v.Compute("https://example.com/sms", params), "legjwigEnDCjs+joNetNs8tRF9k=");
}

TEST(SignatureTest, NamesSortedInByteOrder) {
  const SignatureValidator v(kToken);
  const Params params = {{"a", "1"}, {"Z", "2"}, {"É", "3"}, {"B", ""}};
  // Signed string: https://example.com/hook?x=1BZ2a1É3
  EXPECT_EQ(v.Compute("https://example.com/hook?x=1", params), "ELw0V/ue+KOMbMNf/t/LYco1dIQ=");
}

TEST(SignatureTest, UnicodeValues) {
  const SignatureValidator v(kToken);
  EXPECT_EQ(v.Compute("https://example.com/sms", UnicodeParams()), "tq+yZXGGNJYnKgej5zSzhdnz7KU=");
}

TEST(SignatureTest, AcceptsDefaultPortAddedOrRemoved) {
  const SignatureValidator v(kToken);
  // Twilio signed with :443, the application sees the URL without a port.
  EXPECT_TRUE(v.Validate("https://example.com/sms", UnicodeParams(), "qx4LFm0pAgFuM4YrTNx7C985YlQ="));
  // Twilio signed without a port, the application sees :443.
  EXPECT_TRUE(
      v.Validate("https://example.com:443/sms", UnicodeParams(), "tq+yZXGGNJYnKgej5zSzhdnz7KU="));
  // http uses :80.
  EXPECT_TRUE(v.Validate("http://example.com/sms", UnicodeParams(), "SWb+Qm5X/2Yk56i1uXvtc5q5TGs="));
  // :443 is not the default for http.
  EXPECT_FALSE(v.Validate("http://example.com/sms", UnicodeParams(), "qx4LFm0pAgFuM4YrTNx7C985YlQ="));
}

TEST(SignatureTest, UrlVariants) {
  using internal::UrlVariants;
  EXPECT_EQ(UrlVariants("https://a.com/x?y=1"),
            (std::vector<std::string>{"https://a.com/x?y=1", "https://a.com:443/x?y=1"}));
  EXPECT_EQ(UrlVariants("HTTPS://a.com"), (std::vector<std::string>{"HTTPS://a.com", "HTTPS://a.com:443"}));
  EXPECT_EQ(UrlVariants("http://a.com:80/x"),
            (std::vector<std::string>{"http://a.com:80/x", "http://a.com/x"}));
  // Like Twilio's SDKs, an explicit non-default port is also tried removed.
  EXPECT_EQ(UrlVariants("http://a.com:8080/x"),
            (std::vector<std::string>{"http://a.com:8080/x", "http://a.com/x"}));
  EXPECT_EQ(UrlVariants("https://u:p@a.com/x"),
            (std::vector<std::string>{"https://u:p@a.com/x", "https://u:p@a.com:443/x"}));
  EXPECT_EQ(UrlVariants("https://[::1]:8443/x"),
            (std::vector<std::string>{"https://[::1]:8443/x", "https://[::1]/x"}));
  EXPECT_EQ(UrlVariants("not a url"), (std::vector<std::string>{"not a url"}));
}

TEST(SignatureTest, QueryParam) {
  using internal::QueryParam;
  EXPECT_EQ(QueryParam("https://a.com/x?a=1&bodySHA256=ab%63d&c=3#f", "bodySHA256"),
            (std::pair<bool, std::string>{true, "abcd"}));
  EXPECT_EQ(QueryParam("https://a.com/x?a=1#bodySHA256=1", "bodySHA256").first, false);
  EXPECT_EQ(QueryParam("https://a.com/x", "bodySHA256").first, false);
  EXPECT_EQ(QueryParam("https://a.com/x?bodySHA256=1&bodySHA256=2", "bodySHA256").second, "1");
}

TEST(SignatureTest, RejectsWrongToken) {
  const SignatureValidator wrong("54321");
  EXPECT_FALSE(wrong.Validate(kExampleUrl, ExampleParams(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  EXPECT_EQ(wrong.Compute(kExampleUrl, ExampleParams()), "oUaFiQ42FBvRs15aJJnPFzSc0MY=");
}

TEST(SignatureTest, RejectsTamperedParams) {
  const SignatureValidator v(kToken);
  Params tampered = ExampleParams();
  tampered[2].second = "1235";
  EXPECT_FALSE(v.Validate(kExampleUrl, tampered, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  EXPECT_FALSE(v.Validate("https://mycompany.com/myapp.php?foo=1&bar=3", ExampleParams(),
                          "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
}

TEST(SignatureTest, RejectsEmptyOrMalformedSignature) {
  const SignatureValidator v(kToken);
  EXPECT_FALSE(v.Validate(kExampleUrl, ExampleParams(), ""));
  EXPECT_FALSE(v.Validate(kExampleUrl, ExampleParams(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
  EXPECT_FALSE(v.Validate(kExampleUrl, ExampleParams(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=="));
}

TEST(SignatureTest, Sha256Hex) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(kJsonBody), kJsonBodySha);
}

TEST(SignatureTest, ValidatesJsonBody) {
  const SignatureValidator v(kToken);
  const std::string url = "https://example.com/json?bodySHA256=" + std::string(kJsonBodySha);
  EXPECT_EQ(v.Compute(url, {}), "5Yit76iFZyvfMqHEt8wBp/X8OyE=");
  EXPECT_TRUE(v.ValidateBody(url, kJsonBody, "5Yit76iFZyvfMqHEt8wBp/X8OyE="));
  // Signed with :443.
  EXPECT_TRUE(v.ValidateBody(url, kJsonBody, "zDt6TFc40FTJ8GXKskAlP48Iqj0="));
}

TEST(SignatureTest, RejectsTamperedBody) {
  const SignatureValidator v(kToken);
  const std::string url = "https://example.com/json?bodySHA256=" + std::string(kJsonBodySha);
  const std::string tampered = R"({"MessageSid": "SM124", "Body": "Grüße"})";
  EXPECT_FALSE(v.ValidateBody(url, tampered, "5Yit76iFZyvfMqHEt8wBp/X8OyE="));
}

TEST(SignatureTest, RejectsBodyWithoutBodySha256) {
  const SignatureValidator v(kToken);
  const std::string url = "https://example.com/json";
  EXPECT_FALSE(v.ValidateBody(url, kJsonBody, v.Compute(url, {})));
}

TEST(SignatureTest, RejectsEmptyToken) {
  EXPECT_THROW(SignatureValidator(""), std::invalid_argument);
}

TEST(SignatureTest, MovedValidatorStillWorks) {
  SignatureValidator a(kToken);
  SignatureValidator b(std::move(a));
  EXPECT_EQ(b.Compute(kExampleUrl, ExampleParams()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  SignatureValidator c("other");
  c = std::move(b);
  EXPECT_EQ(c.Compute(kExampleUrl, ExampleParams()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

TEST(SignatureTest, ConcurrentConstCallsAgree) {
  const SignatureValidator v(kToken);
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (std::size_t t = 0; t < ok.size(); ++t) {
    threads.emplace_back([&v, &ok, t] {
      for (int i = 0; i < 500; ++i) {
        ok[t] += v.Validate(kExampleUrl, ExampleParams(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") ? 1 : 0;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const int n : ok) EXPECT_EQ(n, 500);
}

TEST(SecureStringTest, HoldsAndMoves) {
  SecureString s("secret");
  EXPECT_EQ(s.view(), "secret");
  SecureString t(std::move(s));
  EXPECT_EQ(t.view(), "secret");
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  SecureString u;
  u = std::move(t);
  EXPECT_EQ(u.view(), "secret");
  EXPECT_EQ(u.size(), 6u);
}

}  // namespace
}  // namespace twiliocore
