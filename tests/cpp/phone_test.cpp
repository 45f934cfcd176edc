#include "twiliocore/phone.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "twiliocore/error.h"

namespace twiliocore {
namespace {

std::string ReasonOf(std::string_view number, std::string_view region = "US",
                     PhonePolicy policy = PhonePolicy::kStrict) {
  return TryToE164(number, region, policy).reason;
}

TEST(PhoneTest, ParsesNationalNotations) {
  EXPECT_EQ(ToE164("(415) 555-2671"), "+14155552671");
  EXPECT_EQ(ToE164("415.555.2671"), "+14155552671");
  EXPECT_EQ(ToE164("415 555 2671", "us"), "+14155552671");  // region case-insensitive
  EXPECT_EQ(ToE164("1-415-555-2671"), "+14155552671");
  EXPECT_EQ(ToE164("020 7946 0958", "GB"), "+442079460958");
}

TEST(PhoneTest, ParsesInternationalNotations) {
  EXPECT_EQ(ToE164("+44 20 7946 0958"), "+442079460958");
  EXPECT_EQ(ToE164("00 44 20 7946 0958", "DE"), "+442079460958");  // 00 is DE's IDD
  EXPECT_EQ(ToE164("00 44 20 7946 0958", "FR"), "+442079460958");
  EXPECT_EQ(ToE164("011 44 20 7946 0958", "US"), "+442079460958");  // 011 is the NANP IDD
  EXPECT_EQ(ToE164("+44 20 7946 0958", ""), "+442079460958");      // no default region
}

TEST(PhoneTest, ParsesTelUri) {
  EXPECT_EQ(ToE164("tel:+1-415-555-2671"), "+14155552671");
  EXPECT_EQ(ToE164("tel:415-555-2671;phone-context=+1"), "+14155552671");
}

TEST(PhoneTest, ParsesUnicodeDigits) {
  EXPECT_EQ(ToE164("＋１ ４１５ ５５５ ２６７１"), "+14155552671");  // full-width
  EXPECT_EQ(ToE164("+٩٧١٥٠١٢٣٤٥٦٧"), "+971501234567");              // Arabic-Indic
}

TEST(PhoneTest, ParsesVanityNumbers) {
  EXPECT_EQ(ToE164("1-800-FLOWERS"), "+18003569377");
}

TEST(PhoneTest, RejectsWithReasons) {
  EXPECT_EQ(ReasonOf("hello"), kReasonNotANumber);
  EXPECT_EQ(ReasonOf(""), kReasonNotANumber);
  EXPECT_EQ(ReasonOf("\xff\xfe"), kReasonNotANumber);  // not UTF-8
  EXPECT_EQ(ReasonOf("+999 1234 5678"), kReasonInvalidCountryCode);
  EXPECT_EQ(ReasonOf("12345", "ZZ"), kReasonInvalidCountryCode);  // national, no region
  EXPECT_EQ(ReasonOf("+1 415 55"), kReasonTooShort);
  EXPECT_EQ(ReasonOf("555-2671"), kReasonTooShort);  // local only: no area code
  EXPECT_EQ(ReasonOf("+1 415 555 2671 1234 5678 9"), kReasonTooLong);
  EXPECT_EQ(ReasonOf("+1 415 555 26711"), kReasonTooLong);
  EXPECT_EQ(ReasonOf("+1 123 555 2671"), kReasonNotValidForRegion);  // area code 123
  EXPECT_EQ(ReasonOf("+44 20 7946 095", "US"), kReasonNotValidForRegion);
}

TEST(PhoneTest, LenientPolicyAcceptsPossibleNumbers) {
  // Area code 123 does not exist, but the length is right.
  EXPECT_EQ(ToE164("+1 123 555 2671", "US", PhonePolicy::kLenient), "+11235552671");
  EXPECT_EQ(ReasonOf("+1 415 55", "US", PhonePolicy::kLenient), kReasonTooShort);
  EXPECT_EQ(ReasonOf("555-2671", "US", PhonePolicy::kLenient), kReasonTooShort);
}

TEST(PhoneTest, ThrowsInvalidPhoneNumber) {
  try {
    (void)ToE164("+1 415 55");
    FAIL() << "expected InvalidPhoneNumber";
  } catch (const InvalidPhoneNumber& e) {
    EXPECT_EQ(e.number(), "+1 415 55");
    EXPECT_EQ(e.reason(), kReasonTooShort);
  }
  EXPECT_THROW((void)ToE164("nope"), std::invalid_argument);
}

TEST(PhoneTest, RejectsUnknownRegion) {
  EXPECT_THROW((void)ToE164("4155552671", "XX"), std::invalid_argument);
  EXPECT_THROW((void)ToE164Many({"4155552671"}, "USA"), std::invalid_argument);
  try {
    (void)ToE164("4155552671", "XX");
  } catch (const InvalidPhoneNumber&) {
    FAIL() << "a bad region is the caller's error, not the number's";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("region"), std::string::npos);
  }
}

TEST(PhoneTest, BatchKeepsOrderAndReasons) {
  const std::vector<std::string> inputs = {"(415) 555-2671", "bogus", "+442079460958", "+1 415 55"};
  const std::vector<PhoneResult> results = ToE164Many(inputs, "US", PhonePolicy::kStrict);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[0].e164, "+14155552671");
  EXPECT_EQ(results[0].input, "(415) 555-2671");
  EXPECT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].reason, kReasonNotANumber);
  EXPECT_TRUE(results[1].e164.empty());
  EXPECT_EQ(results[2].e164, "+442079460958");
  EXPECT_EQ(results[3].reason, kReasonTooShort);
  EXPECT_TRUE(ToE164Many({}, "US").empty());
}

TEST(PhoneTest, NormalizesAddresses) {
  EXPECT_EQ(NormalizeAddress("whatsapp:(415) 555-2671"), "whatsapp:+14155552671");
  EXPECT_EQ(NormalizeAddress("WhatsApp:+44 20 7946 0958"), "whatsapp:+442079460958");
  EXPECT_EQ(NormalizeAddress("415-555-2671"), "+14155552671");
  const PhoneResult bad = TryNormalizeAddress("whatsapp:+1 415 55");
  EXPECT_EQ(bad.input, "whatsapp:+1 415 55");
  EXPECT_EQ(bad.reason, kReasonTooShort);
  EXPECT_THROW((void)NormalizeAddress("whatsapp:"), InvalidPhoneNumber);
}

TEST(PhoneTest, NumberInfo) {
  const NumberInfo gb = GetNumberInfo("+44 7400 123456");
  EXPECT_EQ(gb.e164, "+447400123456");
  EXPECT_EQ(gb.type, NumberType::kMobile);
  EXPECT_EQ(gb.region, "GB");
  EXPECT_EQ(gb.country_code, 44);
  EXPECT_EQ(GetNumberInfo("020 7946 0958", "GB").type, NumberType::kFixedLine);
  const NumberInfo us = GetNumberInfo("(415) 555-2671");
  EXPECT_EQ(us.type, NumberType::kFixedLineOrMobile);
  EXPECT_EQ(us.region, "US");
  EXPECT_EQ(GetNumberInfo("1-800-555-0199").type, NumberType::kTollFree);
  const NumberInfo lenient = GetNumberInfo("+1 123 555 2671", "US", PhonePolicy::kLenient);
  EXPECT_EQ(lenient.type, NumberType::kUnknown);
  EXPECT_EQ(lenient.country_code, 1);
  EXPECT_THROW((void)GetNumberInfo("+1 123 555 2671"), InvalidPhoneNumber);
}

TEST(PhoneTest, NumberTypeNames) {
  EXPECT_STREQ(NumberTypeName(NumberType::kFixedLineOrMobile), "fixed_line_or_mobile");
  EXPECT_STREQ(NumberTypeName(NumberType::kVoicemail), "voicemail");
  EXPECT_STREQ(NumberTypeName(NumberType::kUnknown), "unknown");
}

TEST(PhoneTest, MetadataVersion) {
  EXPECT_STRNE(PhoneMetadataVersion(), "");
  EXPECT_STRNE(PhoneMetadataVersion(), "unknown");
}

TEST(PhoneTest, ConcurrentCallsAgree) {
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (std::size_t t = 0; t < ok.size(); ++t) {
    threads.emplace_back([&ok, t] {
      for (int i = 0; i < 200; ++i) {
        ok[t] += ToE164("(415) 555-2671") == "+14155552671" ? 1 : 0;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const int n : ok) EXPECT_EQ(n, 200);
}

}  // namespace
}  // namespace twiliocore
