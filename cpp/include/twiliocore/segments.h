#pragma once

/// @file
/// SMS segment counting as Twilio (and the GSM network) counts it: GSM-7 when every
/// character is in the 3GPP TS 23.038 default alphabet or its extension table,
/// otherwise UCS-2. The fan-out paces senders in segments per second with this.

#include <cstddef>
#include <string>
#include <string_view>

namespace twiliocore {

/// The character encoding a message body travels in.
enum class SmsEncoding {
  kGsm7,  ///< 3GPP TS 23.038 default alphabet (7-bit septets)
  kUcs2,  ///< UTF-16 code units (any character outside GSM-7)
};

/// Septets per single GSM-7 message, and per part of a concatenated one (6-byte UDH).
inline constexpr std::size_t kGsm7SingleLimit = 160;
inline constexpr std::size_t kGsm7SegmentLimit = 153;
/// UTF-16 units per single UCS-2 message, and per part of a concatenated one.
inline constexpr std::size_t kUcs2SingleLimit = 70;
inline constexpr std::size_t kUcs2SegmentLimit = 67;

/// Result of counting a body's segments.
struct SegmentInfo {
  SmsEncoding encoding = SmsEncoding::kGsm7;  ///< encoding the body is sent in
  std::size_t num_segments = 0;  ///< SMS parts Twilio bills and paces (1 for an empty body)
  std::size_t units = 0;         ///< septets (GSM-7) or UTF-16 code units (UCS-2)
  std::size_t characters = 0;    ///< Unicode code points in the body

  friend bool operator==(const SegmentInfo&, const SegmentInfo&) = default;
};

/// Name of an encoding as Twilio writes it: "GSM-7" or "UCS-2".
[[nodiscard]] const char* EncodingName(SmsEncoding encoding) noexcept;

/// Counts the SMS segments of a UTF-8 body.
///
/// Rules: a GSM-7 body of at most 160 septets is one segment, a longer one is split
/// in parts of 153 septets, and an extension character (`^{}\[~]|€` and form feed,
/// two septets each) is never split across parts. A body with any other character
/// is UCS-2: at most 70 UTF-16 units is one segment, a longer one is split in parts
/// of 67 units, and a surrogate pair (e.g. an emoji) is never split across parts.
/// An empty body counts as 1 segment (Twilio bills a media-only message as one).
///
/// Pure function; safe to call from any thread.
/// @throws std::invalid_argument if `utf8_body` is not valid UTF-8.
[[nodiscard]] SegmentInfo CountSegments(std::string_view utf8_body);

/// Twilio's Smart Encoding (`SmartEncoded=true` on a message create): every Unicode
/// look-alike of a GSM-7 character (curly quotes, dashes, the ellipsis, fullwidth forms,
/// Unicode spaces, invisible controls, ...) is replaced by its GSM-7 equivalent, provided that
/// the whole result is then GSM-7. When any character remains outside GSM-7 (an emoji, Cyrillic
/// text) the body is returned unchanged: it goes UCS-2 either way, as Twilio sends it.
///
/// The table is Twilio's published one (see segments.cpp for its source).
///
/// Pure function; safe to call from any thread.
/// @throws std::invalid_argument if `utf8_body` is not valid UTF-8.
[[nodiscard]] std::string SmartEncode(std::string_view utf8_body);

namespace internal {
/// The replacement of one code point under Smart Encoding (ASCII, possibly empty: invisible
/// characters are dropped), or nullptr when the code point is not in Twilio's table.
[[nodiscard]] const char* SmartEncodingReplacement(char32_t code_point) noexcept;

/// True when `text` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
/// values above U+10FFFF).
[[nodiscard]] bool IsValidUtf8(std::string_view text) noexcept;
}  // namespace internal

}  // namespace twiliocore
