#pragma once

/// @file
/// The two halves of the phone code (internal).
///
/// libphonenumber, with protobuf and ICU, adds about 5 MB to a process that loads it. The
/// core does not link it: what most sends need, a `+1` number in E.164 valid for the US and
/// the check of the default region, runs on tables read from libphonenumber's metadata when
/// twiliocore is built (phone.cpp). Everything else goes to the backend
/// (phone_libphonenumber.cpp), built as its own library, `libtwiliocore_phonenumber.so`, that
/// sits next to the module holding the core and is loaded on first need.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "phone_patterns.h"
#include "twiliocore/phone.h"

namespace twiliocore::internal {

/// The national number of a North American number already in E.164: "+1" and ten ASCII
/// digits, the first of them 2-9; nullopt for anything else. For such an input, whatever the
/// default region, libphonenumber's Parse reads calling code 1 after the '+', takes the
/// metadata of its main region (US) for the national number, whose national prefix "1"
/// cannot match a number starting with 2-9 (nothing stripped), and a national number not
/// starting with 0 carries no Italian leading zero: it builds {country_code 1,
/// national_number the ten digits}. phone_test.cpp checks that both agree over every
/// region's example numbers in every notation, random digit strings and edge cases.
[[nodiscard]] constexpr std::optional<std::uint64_t> NanpE164National(
    std::string_view input) noexcept {
  constexpr std::size_t kLength = 12;  // "+1" and ten digits
  if (input.size() != kLength || input[0] != '+' || input[1] != '1') return std::nullopt;
  if (input[2] < '2' || input[2] > '9') return std::nullopt;
  std::uint64_t national = 0;
  for (std::size_t i = 2; i < kLength; ++i) {
    const char c = input[i];
    if (c < '0' || c > '9') return std::nullopt;
    national = national * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return national;
}

/// The backend's entry points. Inputs are valid UTF-8 (the core checks first) and regions
/// already checked and upper-cased. Nothing throws across the library boundary but
/// std::bad_alloc: rejections come back as reasons.
struct PhoneBackend {
  /// TryToE164 through libphonenumber; `fast` lets a `+1` E.164 input skip Parse.
  PhoneResult (*convert)(std::string_view input, const std::string& region, PhonePolicy policy,
                         bool fast);
  /// GetNumberInfo: fills `info` and returns "", or returns the reason it was rejected.
  std::string_view (*number_info)(std::string_view input, const std::string& region,
                                  PhonePolicy policy, NumberInfo& info);
  /// Whether libphonenumber knows `upper` as a region (GetCountryCodeForRegion != 0).
  bool (*is_region)(const std::string& upper);
};

/// The symbol the backend library exports: `const PhoneBackend* twiliocore_phone_backend()`.
inline constexpr const char* kPhoneBackendSymbol = "twiliocore_phone_backend";
/// Its file name, looked up in the directory of the binary holding the core.
inline constexpr const char* kPhoneBackendLibrary = "libtwiliocore_phonenumber.so";

/// The backend, loaded on first call (thread-safe) and kept until exit.
/// @throws std::runtime_error naming the library when it cannot be loaded.
const PhoneBackend& LoadPhoneBackend();

/// Whether the backend library is loaded in this process (tests).
[[nodiscard]] bool PhoneBackendLoaded() noexcept;

/// The tables compiled into the core at build time, from libphonenumber's metadata: every
/// region code it knows (sorted), and the US patterns. Empty / nullptr when the build could
/// not read the metadata (the backend then answers).
[[nodiscard]] std::span<const std::string_view> BuiltInRegions() noexcept;
[[nodiscard]] const RegionSource* BuiltInUsSource();

}  // namespace twiliocore::internal
