#include "phone_libphonenumber.h"

#include <google/protobuf/io/coded_stream.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#if TWILIOCORE_HAVE_PHONE_METADATA
namespace i18n::phonenumbers {
// libphonenumber's compiled-in metadata, the bytes PhoneNumberUtil itself parses
// (src/phonenumbers/metadata.h): exported by the library, not installed as a header. CMake
// checks that they link.
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers
#endif

namespace twiliocore::internal::libphonenumber {
namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

// libphonenumber's singleton: built once (thread-safe), immutable afterwards, so
// concurrent const calls are safe.
const PhoneNumberUtil& Util() { return *PhoneNumberUtil::GetInstance(); }

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

// Parses and checks one number; on success fills `parsed` and returns an empty reason.
// `fast` lets a `+1` E.164 input skip Parse (NanpE164National; tests compare both ways).
std::string_view Evaluate(std::string_view input, const std::string& region, PhonePolicy policy,
                          PhoneNumber& parsed, bool fast, bool& nanp) {
  const std::optional<std::uint64_t> national = fast ? NanpE164National(input) : std::nullopt;
  nanp = national.has_value();
  if (nanp) {
    parsed.set_country_code(1);
    parsed.set_national_number(*national);
  } else {
    const auto error = Util().Parse(std::string(input), region, &parsed);
    if (error != PhoneNumberUtil::NO_PARSING_ERROR) return ParseErrorReason(error);
  }
  if (policy == PhonePolicy::kStrict) {
    // IsValidNumber first finds the number's region: for calling code 1 it tries the US
    // first (the code's main region, without a leading-digits pattern) by the same type
    // check IsValidNumberForRegion(US) makes, then checks the number for that region. A
    // number valid for the US is therefore valid, found with one check instead of two.
    static const std::string kUs = "US";
    if (nanp && Util().IsValidNumberForRegion(parsed, kUs)) return {};
    if (Util().IsValidNumber(parsed)) return {};
  }
  // The length check only runs when needed: it names the reason for a rejected number
  // (strict) or is the test itself (lenient).
  const auto possible = Util().IsPossibleNumberWithReason(parsed);
  if (policy == PhonePolicy::kLenient && possible == PhoneNumberUtil::IS_POSSIBLE) return {};
  return ValidationReason(possible);
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

// Calls `visit` with each region's metadata in turn, parsed from the bytes libphonenumber
// itself parses, one region at a time (the whole collection, megabytes once parsed, is never
// held), until `visit` returns true. False when the metadata is not reachable or malformed.
template <typename Visit>
bool ForEachRegionMetadata(Visit&& visit) {
#if TWILIOCORE_HAVE_PHONE_METADATA
  // message PhoneMetadataCollection { repeated PhoneMetadata metadata = 1; }
  constexpr std::uint32_t kMetadataTag = (1U << 3) | 2U;  // field 1, length-delimited
  google::protobuf::io::CodedInputStream in(
      static_cast<const std::uint8_t*>(i18n::phonenumbers::metadata_get()),
      i18n::phonenumbers::metadata_size());
  PhoneMetadata metadata;
  std::string bytes;
  for (;;) {
    const std::uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    std::uint32_t length = 0;
    if (tag != kMetadataTag || !in.ReadVarint32(&length) ||
        !in.ReadString(&bytes, static_cast<int>(length)) || !metadata.ParseFromString(bytes)) {
      return false;
    }
    if (visit(metadata)) return true;
  }
#else
  (void)visit;
  return false;
#endif
}

DescSource SourceOf(const PhoneNumberDesc& desc) {
  return {desc.national_number_pattern(),
          std::vector<int>(desc.possible_length().begin(), desc.possible_length().end())};
}

}  // namespace

PhoneResult Convert(std::string_view input, const std::string& region, PhonePolicy policy,
                    bool fast) {
  PhoneResult result;
  result.input = std::string(input);
  PhoneNumber parsed;
  bool nanp = false;
  const std::string_view reason = Evaluate(input, region, policy, parsed, fast, nanp);
  if (!reason.empty()) {
    result.reason = std::string(reason);
  } else if (nanp) {
    result.e164 = std::string(input);  // "+1" and ten digits: already its E.164 form
  } else {
    Util().Format(parsed, PhoneNumberUtil::E164, &result.e164);
  }
  return result;
}

std::string_view GetInfo(std::string_view input, const std::string& region, PhonePolicy policy,
                         NumberInfo& info) {
  PhoneNumber parsed;
  bool nanp = false;
  const std::string_view reason = Evaluate(input, region, policy, parsed, true, nanp);
  if (!reason.empty()) return reason;
  const PhoneNumberUtil& util = Util();
  util.Format(parsed, PhoneNumberUtil::E164, &info.e164);
  info.type = ToNumberType(util.GetNumberType(parsed));
  util.GetRegionCodeForNumber(parsed, &info.region);
  info.country_code = parsed.country_code();
  return {};
}

bool IsRegion(const std::string& upper) { return Util().GetCountryCodeForRegion(upper) != 0; }

const PhoneBackend& Backend() noexcept {
  static constexpr PhoneBackend kBackend{&Convert, &GetInfo, &IsRegion};
  return kBackend;
}

std::optional<std::vector<std::string>> MetadataRegions() {
  std::vector<std::string> ids;
  const bool read = ForEachRegionMetadata([&ids](const PhoneMetadata& metadata) {
    if (metadata.id() != "001") ids.push_back(metadata.id());
    return false;  // every region
  });
  if (!read || ids.empty()) return std::nullopt;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::optional<RegionSource> MetadataRegionSource(std::string_view region) {
  std::optional<RegionSource> source;
  ForEachRegionMetadata([&](const PhoneMetadata& metadata) {
    if (metadata.id() != region) return false;
    source.emplace();
    source->general = SourceOf(metadata.general_desc());
    // The order of PhoneNumberUtil::GetNumberTypeHelper; mobile only when it has its own
    // pattern.
    for (const PhoneNumberDesc* desc :
         {&metadata.premium_rate(), &metadata.toll_free(), &metadata.shared_cost(),
          &metadata.voip(), &metadata.personal_number(), &metadata.pager(), &metadata.uan(),
          &metadata.voicemail(), &metadata.fixed_line()}) {
      source->types.push_back(SourceOf(*desc));
    }
    if (!metadata.same_mobile_and_fixed_line_pattern()) {
      source->types.push_back(SourceOf(metadata.mobile()));
    }
    return true;
  });
  return source;
}

}  // namespace twiliocore::internal::libphonenumber
