#pragma once

/// @file
/// The phone backend on libphonenumber (internal): what `libtwiliocore_phonenumber.so`
/// exports through `PhoneBackend`, and the reading of libphonenumber's metadata that the
/// build (cpp/tools/phone_tables.cpp) and the tests use.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phone_internal.h"
#include "phone_patterns.h"
#include "twiliocore/phone.h"

namespace twiliocore::internal::libphonenumber {

/// PhoneBackend::convert.
PhoneResult Convert(std::string_view input, const std::string& region, PhonePolicy policy,
                    bool fast);
/// PhoneBackend::number_info.
std::string_view GetInfo(std::string_view input, const std::string& region, PhonePolicy policy,
                         NumberInfo& info);
/// PhoneBackend::is_region.
bool IsRegion(const std::string& upper);

/// The entry points above, as the backend library exports them.
const PhoneBackend& Backend() noexcept;

/// Every region code of the metadata (PhoneNumberUtil::IsValidRegionCode: the geographic
/// entries; "001" holds the non-geographic ones), sorted; nullopt when the metadata bytes are
/// not reachable (libphonenumber exports them, but not in an installed header).
std::optional<std::vector<std::string>> MetadataRegions();

/// `region`'s patterns as a validity check reads them; nullopt when the metadata is not
/// reachable or has no such region.
std::optional<RegionSource> MetadataRegionSource(std::string_view region);

}  // namespace twiliocore::internal::libphonenumber
