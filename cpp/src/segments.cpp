#include "twiliocore/segments.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace twiliocore {
namespace {

// Septets one code point costs in GSM-7: 1 (default alphabet), 2 (escape + extension
// table), or 0 meaning "not representable, the body must go UCS-2".
// Tables: 3GPP TS 23.038 §6.2.1 (default alphabet) and §6.2.1.1 (extension table).

// The 39 non-ASCII characters of the default alphabet, sorted for binary search.
constexpr std::array<char32_t, 39> kGsmBasicNonAscii = {
    U'\u00A1', U'\u00A3', U'\u00A4', U'\u00A5', U'\u00A7', U'\u00BF', U'\u00C4', U'\u00C5',
    U'\u00C6', U'\u00C7', U'\u00C9', U'\u00D1', U'\u00D6', U'\u00D8', U'\u00DC', U'\u00DF',
    U'\u00E0', U'\u00E4', U'\u00E5', U'\u00E6', U'\u00E8', U'\u00E9', U'\u00EC', U'\u00F1',
    U'\u00F2', U'\u00F6', U'\u00F8', U'\u00F9', U'\u00FC', U'\u0393', U'\u0394', U'\u0398',
    U'\u039B', U'\u039E', U'\u03A0', U'\u03A3', U'\u03A6', U'\u03A8', U'\u03A9',
};

int GsmSeptets(char32_t cp) noexcept {
  if (cp < 0x80) {
    switch (cp) {
      case U'\n':
      case U'\r':
        return 1;
      case U'\f':
      case U'^':
      case U'{':
      case U'}':
      case U'\\':
      case U'[':
      case U'~':
      case U']':
      case U'|':
        return 2;
      case U'`':
        return 0;
      default:
        // Printable ASCII is in the default alphabet (at other code positions for
        // '@', '$' and '_'), except '`' and the extension characters above.
        return (cp >= 0x20 && cp < 0x7F) ? 1 : 0;
    }
  }
  if (cp == U'\u20AC') return 2;  // euro sign, extension table
  return std::binary_search(kGsmBasicNonAscii.begin(), kGsmBasicNonAscii.end(), cp) ? 1 : 0;
}

// Strict UTF-8 decoder (RFC 3629): rejects overlong forms, surrogates, values above
// U+10FFFF and truncated sequences. On success stores the code point, advances `pos`
// and returns nullptr; on failure returns what is wrong and leaves `pos` at the offset.
const char* TryDecodeOne(std::string_view s, std::size_t& pos, char32_t& out) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  const std::uint8_t b0 = byte(pos);
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    ++pos;
    out = b0;
    return nullptr;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return "bad lead byte";
  }
  if (s.size() - pos < len) return "truncated sequence";
  for (std::size_t i = 1; i < len; ++i) {
    const std::uint8_t b = byte(pos + i);
    if ((b & 0xC0) != 0x80) return "bad continuation byte";
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min) return "overlong form";
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return "surrogate or out-of-range code point";
  pos += len;
  out = cp;
  return nullptr;
}

char32_t DecodeOne(std::string_view s, std::size_t& pos) {
  char32_t cp = 0;
  if (const char* error = TryDecodeOne(s, pos, cp)) {
    throw std::invalid_argument(std::string("body: invalid UTF-8 (") + error + " at offset " +
                                std::to_string(pos) + ")");
  }
  return cp;
}

// Packs items of `cost` units (1 or 2) into parts of `limit` units without splitting an
// item: returns the number of parts. Called only for bodies above the single limit.
class PartPacker {
 public:
  explicit PartPacker(std::size_t limit) : limit_(limit) {}
  void Add(std::size_t cost) {
    if (used_ + cost > limit_) {
      ++parts_;
      used_ = 0;
    }
    used_ += cost;
  }
  [[nodiscard]] std::size_t parts() const { return used_ == 0 ? parts_ : parts_ + 1; }

 private:
  std::size_t limit_;
  std::size_t used_ = 0;
  std::size_t parts_ = 0;
};

}  // namespace

namespace internal {
bool IsValidUtf8(std::string_view text) noexcept {
  char32_t cp = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    if (TryDecodeOne(text, pos, cp) != nullptr) return false;
  }
  return true;
}
}  // namespace internal

const char* EncodingName(SmsEncoding encoding) noexcept {
  return encoding == SmsEncoding::kGsm7 ? "GSM-7" : "UCS-2";
}

SegmentInfo CountSegments(std::string_view utf8_body) {
  // Pass 1: validate, count characters, septets and UTF-16 units, decide the encoding.
  SegmentInfo info;
  std::size_t septets = 0;
  std::size_t utf16_units = 0;
  bool gsm = true;
  for (std::size_t pos = 0; pos < utf8_body.size();) {
    const char32_t cp = DecodeOne(utf8_body, pos);
    ++info.characters;
    utf16_units += cp > 0xFFFF ? 2 : 1;
    const int cost = GsmSeptets(cp);
    if (cost == 0) gsm = false;
    septets += static_cast<std::size_t>(cost);
  }
  info.encoding = gsm ? SmsEncoding::kGsm7 : SmsEncoding::kUcs2;
  info.units = gsm ? septets : utf16_units;
  const std::size_t single = gsm ? kGsm7SingleLimit : kUcs2SingleLimit;
  if (info.units <= single) {
    info.num_segments = 1;  // includes the empty body (media-only message)
    return info;
  }
  // Pass 2: pack into concatenated parts without splitting an escape pair or a
  // surrogate pair (the input is known valid now).
  PartPacker packer(gsm ? kGsm7SegmentLimit : kUcs2SegmentLimit);
  for (std::size_t pos = 0; pos < utf8_body.size();) {
    const char32_t cp = DecodeOne(utf8_body, pos);
    packer.Add(gsm ? static_cast<std::size_t>(GsmSeptets(cp)) : (cp > 0xFFFF ? 2u : 1u));
  }
  info.num_segments = packer.parts();
  return info;
}

}  // namespace twiliocore
