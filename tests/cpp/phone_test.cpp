#include "twiliocore/phone.h"

#include <gtest/gtest.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "phone_internal.h"
#include "phone_libphonenumber.h"
#include "phone_patterns.h"
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

// --- the fast path for "+1" and ten digits agrees with libphonenumber's Parse -------------

namespace twiliocore::phone_fast_path_test {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Every region's example numbers (each type, and the invalid example) in every notation.
std::vector<std::string> ExampleInputs() {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  const PhoneNumberUtil::PhoneNumberType kTypes[] = {
      PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE,        PhoneNumberUtil::TOLL_FREE,
      PhoneNumberUtil::PREMIUM_RATE, PhoneNumberUtil::SHARED_COST, PhoneNumberUtil::VOIP,
      PhoneNumberUtil::PERSONAL_NUMBER, PhoneNumberUtil::PAGER,    PhoneNumberUtil::UAN,
      PhoneNumberUtil::VOICEMAIL};
  std::vector<std::string> inputs;
  auto add_notations = [&](const PhoneNumber& number) {
    for (const auto format : {PhoneNumberUtil::E164, PhoneNumberUtil::INTERNATIONAL,
                              PhoneNumberUtil::NATIONAL, PhoneNumberUtil::RFC3966}) {
      std::string text;
      util.Format(number, format, &text);
      inputs.push_back(text);
    }
    std::string nsn;
    util.GetNationalSignificantNumber(number, &nsn);
    inputs.push_back(nsn);
    inputs.push_back("+" + std::to_string(number.country_code()) + nsn);
    inputs.push_back("00" + std::to_string(number.country_code()) + nsn);
    inputs.push_back("+1" + nsn);  // the NSN under calling code 1 (often 10 digits)
  };
  for (const std::string& region : regions) {
    PhoneNumber number;
    for (const auto type : kTypes) {
      if (util.GetExampleNumberForType(region, type, &number)) add_notations(number);
    }
    if (util.GetInvalidExampleNumber(region, &number)) add_notations(number);
  }
  return inputs;
}

std::vector<std::string> RandomInputs() {
  std::mt19937_64 rng(20261123);
  std::uniform_int_distribution<int> digit(0, 9);
  std::vector<std::string> inputs;
  // "+1" and ten digits, every first digit (the fast path's shape and its near misses).
  for (int i = 0; i < 40000; ++i) {
    std::string s = "+1";
    for (int d = 0; d < 10; ++d) s.push_back(static_cast<char>('0' + digit(rng)));
    inputs.push_back(s);
  }
  // Digit strings of every length 1-20, with and without '+'.
  std::uniform_int_distribution<int> length(1, 20);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = length(rng);
    for (int d = 0; d < n; ++d) s.push_back(static_cast<char>('0' + digit(rng)));
    inputs.push_back(s);
    inputs.push_back("+" + s);
  }
  return inputs;
}

const std::vector<std::string> kEdgeCases = {
    "", "+", "+1", "+12", "+1415555267", "+14155552671", "+141555526712", "+10155552671",
    "+11155552671", "+12015550123", "+19999999999", "+12000000000", "+1415555267a",
    "+1 4155552671", "+1-415-555-2671", "+1(415)5552671", " +14155552671", "+14155552671 ",
    "+14155552671x12", "+14155552671;ext=1", "++14155552671", "+\xEF\xBC\x91" "4155552671",
    "+1415555267\xEF\xBC\x91", "tel:+14155552671", "+1415CALLNOW", "+1415555\xFF" "671",
    "1+4155552671", "+01415555267", "+18005550199", "+18885550100", "+19005550100",
    "+16135550123", "+12425550123", "+18095550123", "+17875550123", "+16715550123",
    "+1441555012", "+14415550123", "+15005550006", "+12345678901", "+13005550123"};

void ExpectSame(const std::string& input, std::string_view region, PhonePolicy policy) {
  const PhoneResult fast = TryToE164(input, region, policy);
  const PhoneResult full = internal::TryToE164WithoutFastPath(input, region, policy);
  EXPECT_EQ(fast.e164, full.e164) << "input '" << input << "' region " << region;
  EXPECT_EQ(fast.reason, full.reason) << "input '" << input << "' region " << region;
}

// The region check reads the metadata directly; it agrees with libphonenumber's instance.
TEST(CheckRegionTest, AcceptsExactlyTheRegionsLibphonenumberKnows) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::vector<std::string> codes = {"001", "ZZ", "", "usa", "U", "XK", "AC", "TA", "UN", "EU"};
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) codes.push_back(std::string{a, b});
  }
  std::size_t known = 0;
  for (const std::string& code : codes) {
    const bool expected = code.empty() || code == "ZZ" || util.GetCountryCodeForRegion(code) != 0;
    bool accepted = true;
    try {
      (void)CheckRegion(code);
    } catch (const std::invalid_argument& e) {
      accepted = false;
      EXPECT_NE(std::string(e.what()).find("region"), std::string::npos);
    }
    EXPECT_EQ(accepted, expected) << "'" << code << "'";
    known += accepted ? 1 : 0;
  }
  EXPECT_GT(known, 200U);
  EXPECT_EQ(CheckRegion("us"), "US");
}

// Full match of `digits` against `pattern`, or nullopt when the pattern does not compile.
std::optional<bool> DigitPatternFullMatch(std::string_view pattern, std::string_view digits) {
  const auto compiled = internal::DigitPattern::Compile(pattern);
  if (!compiled) return std::nullopt;
  return compiled->FullMatch(digits);
}

TEST(DigitPatternTest, MatchesTheWholeNumberOnly) {
  EXPECT_EQ(DigitPatternFullMatch("[2-9]\\d{9}", "4155552671"), true);
  EXPECT_EQ(DigitPatternFullMatch("[2-9]\\d{9}", "1155552671"), false);
  EXPECT_EQ(DigitPatternFullMatch("[2-9]\\d{9}", "415555267"), false);    // too short
  EXPECT_EQ(DigitPatternFullMatch("[2-9]\\d{9}", "41555526710"), false);  // not a prefix match
  EXPECT_EQ(DigitPatternFullMatch("8(?:00|33|44)[2-9]\\d{6}", "8335550123"), true);
  EXPECT_EQ(DigitPatternFullMatch("8(?:00|33|44)[2-9]\\d{6}", "8345550123"), false);
  EXPECT_EQ(DigitPatternFullMatch("1(?:2|34)?5", "15"), true);
  EXPECT_EQ(DigitPatternFullMatch("1(?:2|34)?5", "1345"), true);
  EXPECT_EQ(DigitPatternFullMatch("1(?:2|34)?5", "12345"), false);
  EXPECT_EQ(DigitPatternFullMatch("(?:12|1)(?:23|3)", "123"), true);  // needs both splits
  EXPECT_EQ(DigitPatternFullMatch("\\d{2,4}", "1"), false);
  EXPECT_EQ(DigitPatternFullMatch("\\d{2,4}", "1234"), true);
  EXPECT_EQ(DigitPatternFullMatch("\\d{2,4}", "12345"), false);
  EXPECT_EQ(DigitPatternFullMatch("\\d{3,}", "1234567"), true);
  EXPECT_EQ(DigitPatternFullMatch("(?:1|)+2", "1112"), true);  // an empty branch repeated
  EXPECT_EQ(DigitPatternFullMatch("[13-5]+", "3145"), true);
  EXPECT_EQ(DigitPatternFullMatch("[13-5]+", "3125"), false);
  EXPECT_EQ(DigitPatternFullMatch("(?:\\d\\d)*", ""), true);
  EXPECT_EQ(DigitPatternFullMatch("(?:\\d\\d)*", "123"), false);
  // Outside the subset: refused, never guessed.
  for (const char* unsupported : {"[^1]\\d", "\\w+", "a", "(?=1)1", "1{2", "1{3,2}", "(1",
                                  "1)", "[]", "1*?", "\\1"}) {
    EXPECT_EQ(DigitPatternFullMatch(unsupported, "11"), std::nullopt) << unsupported;
  }
}

// The automaton and the position-set matcher agree on every pattern of the metadata, for
// random digit strings of every length up to 17; every pattern gets an automaton.
TEST(DigitPatternTest, AutomatonAgreesWithThePositionMatcherOnEveryPattern) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> digit(0, 9);
  std::size_t patterns = 0;
  std::size_t automata = 0;
  std::size_t matches = 0;
  for (const std::string& region : regions) {
    const auto source = internal::libphonenumber::MetadataRegionSource(region);
    ASSERT_TRUE(source.has_value()) << region;
    std::vector<internal::DescSource> descs = source->types;
    descs.push_back(source->general);
    for (const internal::DescSource& desc : descs) {
      if (desc.pattern.empty()) continue;
      const auto pattern = internal::DigitPattern::Compile(desc.pattern);
      ASSERT_TRUE(pattern.has_value()) << desc.pattern;
      ++patterns;
      automata += pattern->HasAutomaton() ? 1U : 0U;
      for (int i = 0; i < 200; ++i) {
        std::string number;
        const int length = 1 + i % 17;
        for (int d = 0; d < length; ++d) number.push_back(static_cast<char>('0' + digit(rng)));
        const auto input = internal::DigitPattern::Read(number);
        ASSERT_TRUE(input.has_value());
        const bool by_positions = pattern->MatchByPositions(*input);
        EXPECT_EQ(pattern->FullMatch(*input), by_positions) << desc.pattern << " " << number;
        matches += by_positions ? 1U : 0U;
      }
    }
  }
  EXPECT_GT(patterns, 1000U);
  EXPECT_EQ(automata, patterns);
  EXPECT_GT(matches, 1000U);
}

// The compiled check agrees with libphonenumber's IsValidNumberForRegion for every region
// whose patterns compile (all of them, today), on the region's example numbers and on random
// national numbers of every possible length.
TEST(CompiledValidityTest, AgreesWithLibphonenumberForEveryRegion) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> digit(0, 9);
  std::size_t compiled = 0;
  std::size_t valid = 0;
  std::size_t checked = 0;
  for (const std::string& region : regions) {
    const auto source = internal::libphonenumber::MetadataRegionSource(region);
    ASSERT_TRUE(source.has_value()) << region;
    const auto validity = internal::RegionValidity::Build(*source);
    if (!validity) continue;
    ++compiled;
    const int cc = util.GetCountryCodeForRegion(region);
    std::vector<std::string> nationals;
    PhoneNumber example;
    for (int type = 0; type <= PhoneNumberUtil::VOICEMAIL; ++type) {
      if (util.GetExampleNumberForType(region, static_cast<PhoneNumberUtil::PhoneNumberType>(type),
                                       &example)) {
        std::string nsn;
        util.GetNationalSignificantNumber(example, &nsn);
        nationals.push_back(nsn);
      }
    }
    for (int i = 0; i < 600; ++i) {
      std::string n;
      const int length = 4 + i % 12;
      for (int d = 0; d < length; ++d) n.push_back(static_cast<char>('0' + digit(rng)));
      nationals.push_back(n);
      // Random digits after a real example's leading digits, where valid numbers are dense.
      if (!nationals.empty() && nationals[0].size() > 4) {
        std::string near = nationals[0].substr(0, static_cast<std::size_t>(1 + i % 4));
        while (near.size() < nationals[0].size()) near.push_back(static_cast<char>('0' + digit(rng)));
        nationals.push_back(near);
      }
    }
    for (const std::string& national : nationals) {
      PhoneNumber number;
      if (util.Parse("+" + std::to_string(cc) + national, "ZZ", &number) !=
              PhoneNumberUtil::NO_PARSING_ERROR ||
          number.country_code() != cc) {
        continue;
      }
      std::string nsn;
      util.GetNationalSignificantNumber(number, &nsn);
      const bool expected = util.IsValidNumberForRegion(number, region);
      EXPECT_EQ(validity->IsValid(nsn), expected) << region << " " << nsn;
      ++checked;
      valid += expected ? 1 : 0;
    }
  }
  EXPECT_EQ(compiled, regions.size());  // every region's patterns are in the subset
  EXPECT_GT(checked, 100000U);
  EXPECT_GT(valid, 5000U);
}

// The tables compiled into the core are libphonenumber's metadata as the tests read it.
TEST(BuiltInTablesTest, AreTheMetadataOfTheLibraryInUse) {
  const auto regions = internal::libphonenumber::MetadataRegions();
  ASSERT_TRUE(regions.has_value());
  const auto built_in = internal::BuiltInRegions();
  EXPECT_EQ(std::vector<std::string>(built_in.begin(), built_in.end()), *regions);
  EXPECT_GT(regions->size(), 200U);
  const auto us = internal::libphonenumber::MetadataRegionSource("US");
  ASSERT_TRUE(us.has_value());
  ASSERT_NE(internal::BuiltInUsSource(), nullptr);
  EXPECT_EQ(*internal::BuiltInUsSource(), *us);
  EXPECT_FALSE(us->general.pattern.empty());
}

// A `+1` number valid for the US and the region check never load the backend; anything else
// loads it once. (CTest runs each case in its own process; run with others, it is skipped
// when an earlier case has loaded the backend already.)
TEST(PhoneBackendTest, LoadsOnlyWhenANumberNeedsLibphonenumber) {
  if (internal::PhoneBackendLoaded()) GTEST_SKIP() << "backend loaded by an earlier case";
  EXPECT_EQ(ToE164("+14155552671"), "+14155552671");
  EXPECT_EQ(NormalizeAddress("WhatsApp:+12125551234", "gb"), "whatsapp:+12125551234");
  EXPECT_EQ(CheckRegion("de"), "DE");
  EXPECT_THROW((void)CheckRegion("XX"), std::invalid_argument);
  EXPECT_FALSE(internal::PhoneBackendLoaded());
  EXPECT_EQ(ToE164("+1 415 555 2671"), "+14155552671");  // another notation
  EXPECT_TRUE(internal::PhoneBackendLoaded());
  EXPECT_EQ(&internal::LoadPhoneBackend(), &internal::LoadPhoneBackend());
}

TEST(PhoneFastPathTest, BuildsTheNumberParseBuilds) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::vector<std::string> inputs = ExampleInputs();
  const std::vector<std::string> random = RandomInputs();
  inputs.insert(inputs.end(), random.begin(), random.end());
  inputs.insert(inputs.end(), kEdgeCases.begin(), kEdgeCases.end());
  std::size_t hits = 0;
  for (const std::string& input : inputs) {
    const auto fast = internal::FastPathNumber(input);
    if (!fast) continue;
    ++hits;
    for (const char* region : {"US", "CA", "GB", "ZZ"}) {
      PhoneNumber parsed;
      ASSERT_EQ(util.Parse(input, region, &parsed), PhoneNumberUtil::NO_PARSING_ERROR) << input;
      // Every field Parse can set: only these two are, with the same values.
      EXPECT_EQ(parsed.country_code(), fast->first) << input << " region " << region;
      EXPECT_EQ(parsed.national_number(), fast->second) << input << " region " << region;
      EXPECT_FALSE(parsed.has_italian_leading_zero()) << input;
      EXPECT_FALSE(parsed.has_number_of_leading_zeros()) << input;
      EXPECT_FALSE(parsed.has_extension()) << input;
      EXPECT_FALSE(parsed.has_raw_input()) << input;
      EXPECT_FALSE(parsed.has_country_code_source()) << input;
      EXPECT_FALSE(parsed.has_preferred_domestic_carrier_code()) << input;
    }
  }
  EXPECT_GT(hits, 30000U);  // the random "+1" inputs with a first digit 2-9, and examples
}

TEST(PhoneFastPathTest, SameResultsAsParseForExampleNumbersInEveryNotation) {
  const std::vector<std::string> inputs = ExampleInputs();
  ASSERT_GT(inputs.size(), 5000U);
  for (const std::string& input : inputs) {
    for (const char* region : {"US", "CA", "GB", "ZZ"}) {
      for (const PhonePolicy policy : {PhonePolicy::kStrict, PhonePolicy::kLenient}) {
        ExpectSame(input, region, policy);
      }
    }
  }
}

TEST(PhoneFastPathTest, SameResultsAsParseForRandomDigitsAndEdgeCases) {
  std::vector<std::string> inputs = RandomInputs();
  inputs.insert(inputs.end(), kEdgeCases.begin(), kEdgeCases.end());
  for (const std::string& input : inputs) {
    for (const char* region : {"US", "DE"}) {
      for (const PhonePolicy policy : {PhonePolicy::kStrict, PhonePolicy::kLenient}) {
        ExpectSame(input, region, policy);
      }
    }
  }
  for (const std::string& input : kEdgeCases) {
    const PhoneResult fast = TryNormalizeAddress("whatsapp:" + input);
    const PhoneResult full = internal::TryToE164WithoutFastPath(input);
    EXPECT_EQ(fast.reason, full.reason) << input;
    EXPECT_EQ(fast.e164, full.ok() ? "whatsapp:" + full.e164 : "") << input;
  }
}

TEST(PhoneFastPathTest, NumberInfoUnchanged) {
  // GetNumberInfo shares the fast path: its type and region come from the built number.
  const NumberInfo us = GetNumberInfo("+14155552671");
  EXPECT_EQ(us.region, "US");
  EXPECT_EQ(us.country_code, 1);
  const NumberInfo ca = GetNumberInfo("+16135550123", "GB");
  EXPECT_EQ(ca.region, "CA");
  EXPECT_EQ(ca.e164, "+16135550123");
  EXPECT_EQ(GetNumberInfo("+18005550199").type, NumberType::kTollFree);
}

}  // namespace twiliocore::phone_fast_path_test
