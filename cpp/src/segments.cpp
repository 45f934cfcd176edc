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

// Twilio's Smart Encoding table: look-alike -> GSM-7 replacement, sorted by code point for
// binary search. Character data from Twilio's segment calculator,
// github.com/TwilioDevEd/message-segment-calculator, src/libs/SmartEncodingMap.ts (the list
// Twilio publishes at twilio.com/docs/messaging/services/smart-encoding-char-list), with the
// single angle quotation marks mapped to the matching sign (U+2039 '<', U+203A '>') where
// that file swaps them. Empty replacements drop invisible characters.
struct SmartReplacement {
  char32_t code_point;
  const char* replacement;
};

constexpr std::array<SmartReplacement, 270> kSmartEncoding = {{
    {0x0000, ""}, {0x0003, ""}, {0x0004, ""}, {0x0009, "       "},
    {0x0010, ""}, {0x0011, ""}, {0x0012, ""}, {0x0013, ""},
    {0x0014, ""}, {0x0017, ""}, {0x0019, ""}, {0x0060, "'"},
    {0x0080, "  "}, {0x008D, "  "}, {0x0090, "  "}, {0x009B, "  "},
    {0x009F, "  "}, {0x00A0, "  "}, {0x00AB, "\""}, {0x00B4, "'"},
    {0x00BB, "\""}, {0x00BC, "1/4"}, {0x00BD, "1/2"}, {0x00BE, "3/4"},
    {0x00F7, "/"}, {0x01C3, "!"}, {0x0262, "G"}, {0x026A, "I"},
    {0x0274, "N"}, {0x0280, "R"}, {0x028F, "Y"}, {0x0299, "B"},
    {0x029C, "H"}, {0x029F, "L"}, {0x02B9, "'"}, {0x02BA, "\""},
    {0x02BB, "'"}, {0x02BC, "'"}, {0x02BD, "'"}, {0x02C6, "^"},
    {0x02C8, "'"}, {0x02CA, "'"}, {0x02CB, "'"}, {0x02D0, ":"},
    {0x02D6, "+"}, {0x02DC, "~"}, {0x02EE, "\""}, {0x02F7, "~"},
    {0x02F8, ":"}, {0x0302, "^"}, {0x0303, "~"}, {0x0313, "'"},
    {0x0314, "'"}, {0x0326, ","}, {0x0330, "~"}, {0x0332, "_"},
    {0x0334, "~"}, {0x0337, "/"}, {0x0338, "/"}, {0x0347, "="},
    {0x1D00, "A"}, {0x1D04, "C"}, {0x1D05, "D"}, {0x1D07, "E"},
    {0x1D0A, "J"}, {0x1D0B, "K"}, {0x1D0D, "M"}, {0x1D0F, "O"},
    {0x1D18, "P"}, {0x1D1B, "T"}, {0x1D1C, "U"}, {0x1D20, "V"},
    {0x1D21, "W"}, {0x1D22, "Z"}, {0x1DCD, "^"}, {0x2000, "  "},
    {0x2001, " "}, {0x2002, "  "}, {0x2003, "  "}, {0x2004, "  "},
    {0x2005, "  "}, {0x2006, "  "}, {0x2007, "  "}, {0x2008, "  "},
    {0x2009, "  "}, {0x200A, "  "}, {0x200B, ""}, {0x2010, "-"},
    {0x2013, "-"}, {0x2014, "-"}, {0x2015, "-"}, {0x2017, "'"},
    {0x2018, "'"}, {0x2019, "'"}, {0x201A, ","}, {0x201B, "'"},
    {0x201C, "\""}, {0x201D, "\""}, {0x201E, "\""}, {0x201F, "\""},
    {0x2022, "-"}, {0x2026, "..."}, {0x2028, " "}, {0x2029, " "},
    {0x202F, "  "}, {0x2039, "<"}, {0x203A, ">"}, {0x203C, "!!"},
    {0x2043, "-"}, {0x2044, "/"}, {0x204E, "*"}, {0x204F, ";"},
    {0x205F, "  "}, {0x2060, ""}, {0x20D2, "|"}, {0x20D3, "|"},
    {0x20E5, "\\"}, {0x2215, "/"}, {0x2217, "*"}, {0x2223, "|"},
    {0x223C, "~"}, {0x229B, "*"}, {0x239C, "|"}, {0x239F, "|"},
    {0x23B8, "|"}, {0x23B9, "|"}, {0x23BC, "-"}, {0x23BD, "-"},
    {0x23D0, "|"}, {0x2722, "*"}, {0x2723, "*"}, {0x2724, "*"},
    {0x2725, "*"}, {0x2731, "*"}, {0x2732, "*"}, {0x2733, "*"},
    {0x273A, "*"}, {0x273B, "*"}, {0x273C, "*"}, {0x273D, "*"},
    {0x2743, "*"}, {0x2749, "*"}, {0x274A, "*"}, {0x274B, "*"},
    {0x275B, "'"}, {0x275C, "'"}, {0x275D, "\""}, {0x275E, "\""},
    {0x2768, "("}, {0x2769, ")"}, {0x276A, "("}, {0x276B, ")"},
    {0x2774, "{"}, {0x2775, "}"}, {0x27EE, "("}, {0x27EF, ")"},
    {0x2982, ":"}, {0x2985, "("}, {0x2986, ")"}, {0x29C6, "*"},
    {0x29F5, "\\"}, {0x29F8, "/"}, {0x29F9, "\\"}, {0x3000, "  "},
    {0x3001, ","}, {0x3002, "."}, {0x301D, "\""}, {0x301E, "\""},
    {0xA730, "F"}, {0xA731, "S"}, {0xA789, ":"}, {0xA78A, "="},
    {0xFE10, "'"}, {0xFE11, "'"}, {0xFE13, ":"}, {0xFE14, ";"},
    {0xFE15, "!"}, {0xFE16, "?"}, {0xFE50, ","}, {0xFE51, ","},
    {0xFE52, "."}, {0xFE54, ";"}, {0xFE56, "?"}, {0xFE57, "!"},
    {0xFE59, "("}, {0xFE5A, ")"}, {0xFE5B, "{"}, {0xFE5C, "}"},
    {0xFE5F, "#"}, {0xFE60, "&"}, {0xFE61, "*"}, {0xFE62, "+"},
    {0xFE63, "-"}, {0xFE64, "<"}, {0xFE65, ">"}, {0xFE66, "="},
    {0xFE68, "\\"}, {0xFE69, "$"}, {0xFE6A, "%"}, {0xFE6B, "@"},
    {0xFEFF, ""}, {0xFF01, "!"}, {0xFF02, "\""}, {0xFF03, "#"},
    {0xFF04, "$"}, {0xFF05, "%"}, {0xFF06, "&"}, {0xFF07, "'"},
    {0xFF08, "("}, {0xFF09, ")"}, {0xFF0A, "*"}, {0xFF0B, "+"},
    {0xFF0C, ","}, {0xFF0D, "-"}, {0xFF0E, "."}, {0xFF0F, "/"},
    {0xFF10, "0"}, {0xFF11, "1"}, {0xFF12, "2"}, {0xFF13, "3"},
    {0xFF14, "4"}, {0xFF15, "5"}, {0xFF16, "6"}, {0xFF17, "7"},
    {0xFF18, "8"}, {0xFF19, "9"}, {0xFF1A, ":"}, {0xFF1B, ";"},
    {0xFF1C, "<"}, {0xFF1D, "="}, {0xFF1E, ">"}, {0xFF1F, "?"},
    {0xFF20, "@"}, {0xFF21, "A"}, {0xFF22, "B"}, {0xFF23, "C"},
    {0xFF24, "D"}, {0xFF25, "E"}, {0xFF26, "F"}, {0xFF27, "G"},
    {0xFF28, "H"}, {0xFF29, "I"}, {0xFF2A, "J"}, {0xFF2B, "K"},
    {0xFF2C, "L"}, {0xFF2D, "M"}, {0xFF2E, "N"}, {0xFF2F, "O"},
    {0xFF30, "P"}, {0xFF31, "Q"}, {0xFF32, "R"}, {0xFF33, "S"},
    {0xFF34, "T"}, {0xFF35, "U"}, {0xFF36, "V"}, {0xFF37, "W"},
    {0xFF38, "X"}, {0xFF39, "Y"}, {0xFF3A, "Z"}, {0xFF3B, "["},
    {0xFF3C, "\\"}, {0xFF3D, "]"}, {0xFF3E, "^"}, {0xFF3F, "_"},
    {0xFF5B, "{"}, {0xFF5C, "|"}, {0xFF5D, "}"}, {0xFF5E, "~"},
    {0xFF61, "."}, {0xFF64, ","},
}};

static_assert(std::is_sorted(kSmartEncoding.begin(), kSmartEncoding.end(),
                             [](const SmartReplacement& a, const SmartReplacement& b) {
                               return a.code_point < b.code_point;
                             }),
              "kSmartEncoding must be sorted by code point for binary search");

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
const char* SmartEncodingReplacement(char32_t code_point) noexcept {
  const auto it = std::lower_bound(
      kSmartEncoding.begin(), kSmartEncoding.end(), code_point,
      [](const SmartReplacement& entry, char32_t cp) { return entry.code_point < cp; });
  return it != kSmartEncoding.end() && it->code_point == code_point ? it->replacement : nullptr;
}

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

std::string SmartEncode(std::string_view utf8_body) {
  std::string out;
  out.reserve(utf8_body.size());
  for (std::size_t pos = 0; pos < utf8_body.size();) {
    const std::size_t start = pos;
    const char32_t cp = DecodeOne(utf8_body, pos);
    if (const char* replacement = internal::SmartEncodingReplacement(cp)) {
      out.append(replacement);  // ASCII GSM-7 characters only (checked by the tests)
    } else if (GsmSeptets(cp) != 0) {
      out.append(utf8_body.substr(start, pos - start));
    } else {
      // A character without a GSM-7 equivalent: the body goes UCS-2 anyway, and Twilio
      // sends it as written.
      return std::string(utf8_body);
    }
  }
  return out;
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
