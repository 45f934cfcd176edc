#include "twiliocore/phone.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <utility>
#include <stdexcept>
#include <string>

#include "twiliocore/error.h"
#include "twiliocore/segments.h"

#ifndef TWILIOCORE_LIBPHONENUMBER_VERSION
#define TWILIOCORE_LIBPHONENUMBER_VERSION "unknown"
#endif

namespace twiliocore {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr std::string_view kWhatsAppPrefix = "whatsapp:";

// libphonenumber's singleton: built once (thread-safe), immutable afterwards, so
// concurrent const calls are safe.
const PhoneNumberUtil& Util() { return *PhoneNumberUtil::GetInstance(); }

// Uppercases and checks the default region once per call (not per number of a batch).
std::string CheckedRegion(std::string_view region) {
  std::string upper(region);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper.empty()) return "ZZ";
  if (upper == "ZZ") return upper;
  if (Util().GetCountryCodeForRegion(upper) == 0) {
    throw std::invalid_argument("region: '" + std::string(region) +
                                "' is not an ISO 3166 region code libphonenumber knows");
  }
  return upper;
}

std::string_view ParseErrorReason(PhoneNumberUtil::ErrorType error) noexcept {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return kReasonInvalidCountryCode;
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return kReasonTooShort;
    case PhoneNumberUtil::TOO_LONG_NSN:
      return kReasonTooLong;
    case PhoneNumberUtil::NOT_A_NUMBER:
    case PhoneNumberUtil::NO_PARSING_ERROR:
      break;
  }
  return kReasonNotANumber;
}

// Why a parsed number is not acceptable, from its length check. A number possible only
// for local dialling (no area code) cannot be written in E.164: "too short".
std::string_view ValidationReason(PhoneNumberUtil::ValidationResult result) noexcept {
  switch (result) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
      return kReasonInvalidCountryCode;
    case PhoneNumberUtil::TOO_SHORT:
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
      return kReasonTooShort;
    case PhoneNumberUtil::TOO_LONG:
      return kReasonTooLong;
    case PhoneNumberUtil::IS_POSSIBLE:
    case PhoneNumberUtil::INVALID_LENGTH:
      break;
  }
  return kReasonNotValidForRegion;
}

// The PhoneNumber that PhoneNumberUtil::Parse builds for a North American number already
// written in E.164: "+1" and ten ASCII digits, the first of them 2-9. For such an input,
// whatever the default region, Parse reads calling code 1 after the '+', takes the metadata
// of its main region (US) for the national number, whose national prefix "1" cannot match a
// number starting with 2-9 (nothing stripped), and a national number not starting with 0
// carries no Italian leading zero: the result is {country_code 1, national_number the ten
// digits}. Built directly, it skips Parse's generic extraction (ICU regular expressions).
// Anything else returns false and goes through Parse; phone_test.cpp checks that both paths
// agree (parsed number, e164 or reason) over every region's example numbers in every
// notation, random digit strings and edge cases.
bool ParseNanpE164(std::string_view input, PhoneNumber& parsed) noexcept {
  constexpr std::size_t kLength = 12;  // "+1" and ten digits
  if (input.size() != kLength || input[0] != '+' || input[1] != '1') return false;
  if (input[2] < '2' || input[2] > '9') return false;
  std::uint64_t national = 0;
  for (std::size_t i = 2; i < kLength; ++i) {
    const char c = input[i];
    if (c < '0' || c > '9') return false;
    national = national * 10 + static_cast<std::uint64_t>(c - '0');
  }
  parsed.set_country_code(1);
  parsed.set_national_number(national);
  return true;
}

// Parses and checks one number; on success fills `parsed` and returns an empty reason.
// `fast` allows ParseNanpE164 in place of Parse (tests compare both ways).
std::string_view Evaluate(std::string_view input, const std::string& region, PhonePolicy policy,
                          PhoneNumber& parsed, bool fast = true) {
  // libphonenumber assumes valid UTF-8; check first rather than hand it garbage.
  if (!internal::IsValidUtf8(input)) return kReasonNotANumber;
  const PhoneNumberUtil& util = Util();
  const bool nanp = fast && ParseNanpE164(input, parsed);
  if (!nanp) {
    const auto error = util.Parse(std::string(input), region, &parsed);
    if (error != PhoneNumberUtil::NO_PARSING_ERROR) return ParseErrorReason(error);
  }
  if (policy == PhonePolicy::kStrict) {
    // IsValidNumber first finds the number's region: for calling code 1 it tries the US
    // first (the code's main region, without a leading-digits pattern) by the same type
    // check IsValidNumberForRegion(US) makes, then checks the number for that region. A
    // number valid for the US is therefore valid, found with one check instead of two;
    // any other +1 number (Canada, the Caribbean, invalid ones) takes the full test.
    static const std::string kUs = "US";
    if (nanp && util.IsValidNumberForRegion(parsed, kUs)) return {};
    if (util.IsValidNumber(parsed)) return {};
  }
  // The length check only runs when needed: it names the reason for a rejected number
  // (strict) or is the test itself (lenient).
  const auto possible = util.IsPossibleNumberWithReason(parsed);
  if (policy == PhonePolicy::kLenient && possible == PhoneNumberUtil::IS_POSSIBLE) return {};
  return ValidationReason(possible);
}

PhoneResult Convert(std::string_view input, const std::string& region, PhonePolicy policy,
                    bool fast = true) {
  PhoneResult result;
  result.input = std::string(input);
  PhoneNumber parsed;
  const std::string_view reason = Evaluate(input, region, policy, parsed, fast);
  if (!reason.empty()) {
    result.reason = std::string(reason);
  } else {
    Util().Format(parsed, PhoneNumberUtil::E164, &result.e164);
  }
  return result;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

[[noreturn]] void ThrowRejected(PhoneResult&& result) {
  throw InvalidPhoneNumber(std::move(result.input), std::move(result.reason));
}

NumberType ToNumberType(PhoneNumberUtil::PhoneNumberType type) noexcept {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE: return NumberType::kFixedLine;
    case PhoneNumberUtil::MOBILE: return NumberType::kMobile;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return NumberType::kFixedLineOrMobile;
    case PhoneNumberUtil::TOLL_FREE: return NumberType::kTollFree;
    case PhoneNumberUtil::PREMIUM_RATE: return NumberType::kPremiumRate;
    case PhoneNumberUtil::SHARED_COST: return NumberType::kSharedCost;
    case PhoneNumberUtil::VOIP: return NumberType::kVoip;
    case PhoneNumberUtil::PERSONAL_NUMBER: return NumberType::kPersonalNumber;
    case PhoneNumberUtil::PAGER: return NumberType::kPager;
    case PhoneNumberUtil::UAN: return NumberType::kUan;
    case PhoneNumberUtil::VOICEMAIL: return NumberType::kVoicemail;
    case PhoneNumberUtil::UNKNOWN: break;
  }
  return NumberType::kUnknown;
}

}  // namespace

const char* NumberTypeName(NumberType type) noexcept {
  switch (type) {
    case NumberType::kFixedLine: return "fixed_line";
    case NumberType::kMobile: return "mobile";
    case NumberType::kFixedLineOrMobile: return "fixed_line_or_mobile";
    case NumberType::kTollFree: return "toll_free";
    case NumberType::kPremiumRate: return "premium_rate";
    case NumberType::kSharedCost: return "shared_cost";
    case NumberType::kVoip: return "voip";
    case NumberType::kPersonalNumber: return "personal_number";
    case NumberType::kPager: return "pager";
    case NumberType::kUan: return "uan";
    case NumberType::kVoicemail: return "voicemail";
    case NumberType::kUnknown: break;
  }
  return "unknown";
}

PhoneResult TryToE164(std::string_view number, std::string_view region, PhonePolicy policy) {
  return Convert(number, CheckedRegion(region), policy);
}

std::string ToE164(std::string_view number, std::string_view region, PhonePolicy policy) {
  PhoneResult result = TryToE164(number, region, policy);
  if (!result.ok()) ThrowRejected(std::move(result));
  return std::move(result.e164);
}

std::vector<PhoneResult> ToE164Many(const std::vector<std::string>& numbers,
                                    std::string_view region, PhonePolicy policy) {
  const std::string checked = CheckedRegion(region);
  std::vector<PhoneResult> results;
  results.reserve(numbers.size());
  for (const std::string& number : numbers) results.push_back(Convert(number, checked, policy));
  return results;
}

PhoneResult TryNormalizeAddress(std::string_view address, std::string_view region,
                                PhonePolicy policy) {
  const std::string checked = CheckedRegion(region);
  if (!StartsWithIgnoreCase(address, kWhatsAppPrefix)) return Convert(address, checked, policy);
  PhoneResult result = Convert(address.substr(kWhatsAppPrefix.size()), checked, policy);
  result.input = std::string(address);
  if (result.ok()) result.e164.insert(0, kWhatsAppPrefix);
  return result;
}

std::string NormalizeAddress(std::string_view address, std::string_view region,
                             PhonePolicy policy) {
  PhoneResult result = TryNormalizeAddress(address, region, policy);
  if (!result.ok()) ThrowRejected(std::move(result));
  return std::move(result.e164);
}

NumberInfo GetNumberInfo(std::string_view number, std::string_view region, PhonePolicy policy) {
  const std::string checked = CheckedRegion(region);
  PhoneNumber parsed;
  const std::string_view reason = Evaluate(number, checked, policy, parsed);
  if (!reason.empty()) throw InvalidPhoneNumber(std::string(number), std::string(reason));
  const PhoneNumberUtil& util = Util();
  NumberInfo info;
  util.Format(parsed, PhoneNumberUtil::E164, &info.e164);
  info.type = ToNumberType(util.GetNumberType(parsed));
  util.GetRegionCodeForNumber(parsed, &info.region);
  info.country_code = parsed.country_code();
  return info;
}

namespace internal {

PhoneResult TryToE164WithoutFastPath(std::string_view number, std::string_view region,
                                     PhonePolicy policy) {
  return Convert(number, CheckedRegion(region), policy, /*fast=*/false);
}

std::optional<std::pair<int, std::uint64_t>> FastPathNumber(std::string_view number) {
  PhoneNumber parsed;
  if (!ParseNanpE164(number, parsed)) return std::nullopt;
  return std::pair<int, std::uint64_t>(parsed.country_code(), parsed.national_number());
}

}  // namespace internal

const char* PhoneMetadataVersion() noexcept { return TWILIOCORE_LIBPHONENUMBER_VERSION; }

}  // namespace twiliocore
