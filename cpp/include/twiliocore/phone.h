#pragma once

/// @file
/// Phone numbers to E.164 with Google's libphonenumber: parse any common notation
/// (national with a default region, international with `+` or the region's IDD prefix,
/// RFC 3966 `tel:` URIs, full-width or Arabic-Indic digits, vanity letters), validate,
/// classify, and keep `whatsapp:` address prefixes.
///
/// Every function here is safe to call from any thread at once: libphonenumber's
/// `PhoneNumberUtil` is an immutable, thread-safe singleton.
///
/// libphonenumber is loaded on first need, from `libtwiliocore_phonenumber.so` next to the
/// binary holding the core: a `+1` number in E.164 valid for the US (strict policy) and the
/// check of the default region are answered from tables built from its metadata when
/// twiliocore is compiled, and never load it. If the library cannot be loaded, the call
/// that needs it throws `std::runtime_error` naming it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twiliocore/error.h"  // InvalidPhoneNumber

namespace twiliocore {

/// How strictly a number is checked.
enum class PhonePolicy {
  kStrict,   ///< the number must be valid for its region (libphonenumber's IsValidNumber)
  kLenient,  ///< the number only needs a possible length (IsPossibleNumber): accepts ranges
             ///< newer than the metadata
};

/// What kind of line a number is (libphonenumber's PhoneNumberType).
enum class NumberType {
  kFixedLine,
  kMobile,
  kFixedLineOrMobile,  ///< regions (e.g. US) where the two cannot be told apart
  kTollFree,
  kPremiumRate,
  kSharedCost,
  kVoip,
  kPersonalNumber,
  kPager,
  kUan,
  kVoicemail,
  kUnknown,
};

/// Snake-case name of a type: "mobile", "fixed_line", "fixed_line_or_mobile", ...
[[nodiscard]] const char* NumberTypeName(NumberType type) noexcept;

/// Reasons a number is rejected (the `reason()` of `InvalidPhoneNumber`).
inline constexpr std::string_view kReasonNotANumber = "not a number";
inline constexpr std::string_view kReasonInvalidCountryCode = "invalid country code";
inline constexpr std::string_view kReasonTooShort = "too short";
inline constexpr std::string_view kReasonTooLong = "too long";
inline constexpr std::string_view kReasonNotValidForRegion = "not valid for its region";

/// Outcome for one input of a batch: `e164` when accepted, else `reason`.
struct PhoneResult {
  std::string input;   ///< the input as given
  std::string e164;    ///< "+14155552671" when accepted, else empty
  std::string reason;  ///< one of the kReason* texts when rejected, else empty

  [[nodiscard]] bool ok() const noexcept { return reason.empty(); }
};

/// What libphonenumber knows about an accepted number.
struct NumberInfo {
  std::string e164;      ///< "+442079460958"
  NumberType type = NumberType::kUnknown;
  std::string region;    ///< ISO 3166 region ("GB"), "001" for non-geographic, "ZZ" if unknown
  int country_code = 0;  ///< calling code (44)
};

/// Parses `number` and formats it as E.164.
///
/// @param number  any common notation; a number without `+` is read as national for
///                `region` (or as international after the region's IDD, e.g. `00`).
/// @param region  ISO 3166 alpha-2 default region, case-insensitive; "" or "ZZ" accepts
///                only international numbers.
/// @throws InvalidPhoneNumber (a std::invalid_argument) with the reason when rejected.
/// @throws std::invalid_argument if `region` is not a region libphonenumber knows.
[[nodiscard]] std::string ToE164(std::string_view number, std::string_view region = "US",
                                 PhonePolicy policy = PhonePolicy::kStrict);

/// Like `ToE164` but returns the reason instead of throwing for a bad number.
/// @throws std::invalid_argument if `region` is not a region libphonenumber knows.
[[nodiscard]] PhoneResult TryToE164(std::string_view number, std::string_view region = "US",
                                    PhonePolicy policy = PhonePolicy::kStrict);

/// `TryToE164` for every input, in order.
/// @throws std::invalid_argument if `region` is not a region libphonenumber knows.
[[nodiscard]] std::vector<PhoneResult> ToE164Many(const std::vector<std::string>& numbers,
                                                  std::string_view region = "US",
                                                  PhonePolicy policy = PhonePolicy::kStrict);

/// Normalises a Twilio address: a bare number becomes E.164, `whatsapp:<number>` becomes
/// `whatsapp:<E.164>` (prefix matched case-insensitively, written in lowercase).
/// @throws InvalidPhoneNumber when the number part is rejected.
[[nodiscard]] PhoneResult TryNormalizeAddress(std::string_view address,
                                              std::string_view region = "US",
                                              PhonePolicy policy = PhonePolicy::kStrict);

/// `TryNormalizeAddress` with `checked_region` as `CheckRegion` returned it: for a batch,
/// which checks its region once rather than with every number.
[[nodiscard]] PhoneResult TryNormalizeAddressInCheckedRegion(
    std::string_view address, const std::string& checked_region,
    PhonePolicy policy = PhonePolicy::kStrict);

/// Throwing form of `TryNormalizeAddress`.
[[nodiscard]] std::string NormalizeAddress(std::string_view address, std::string_view region = "US",
                                           PhonePolicy policy = PhonePolicy::kStrict);

/// Parses `number` (accepted under `policy`) and describes it. A number accepted only
/// leniently has type kUnknown and, where the calling code is shared, region "ZZ".
/// @throws InvalidPhoneNumber when rejected.
[[nodiscard]] NumberInfo GetNumberInfo(std::string_view number, std::string_view region = "US",
                                       PhonePolicy policy = PhonePolicy::kStrict);

/// `region` upper-cased when libphonenumber knows it as a default region ("" means none: the
/// number must carry its calling code, like "ZZ"). Throws `std::invalid_argument` naming the
/// field otherwise.
[[nodiscard]] std::string CheckRegion(std::string_view region);

/// The libphonenumber release whose metadata is compiled in (e.g. "8.12.57"), or
/// "unknown" when the build could not tell.
[[nodiscard]] const char* PhoneMetadataVersion() noexcept;

namespace internal {
/// `TryToE164` with every input through libphonenumber's generic `Parse` (no fast path
/// for North American numbers already in E.164): the reference the fast path is tested
/// against.
[[nodiscard]] PhoneResult TryToE164WithoutFastPath(std::string_view number,
                                                   std::string_view region = "US",
                                                   PhonePolicy policy = PhonePolicy::kStrict);

/// (calling code, national number) the fast path builds for `number`, or nullopt when
/// `number` is not of its shape ("+1" and ten digits, the first 2-9) and goes to `Parse`.
[[nodiscard]] std::optional<std::pair<int, std::uint64_t>> FastPathNumber(
    std::string_view number);

}  // namespace internal

}  // namespace twiliocore
