#include "twiliocore/segments.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace twiliocore {
namespace {

std::string Repeat(std::string_view piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}

// The full 3GPP TS 23.038 default alphabet (127 characters, escape excluded) as UTF-8.
constexpr std::string_view kGsmBasic =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
constexpr std::string_view kGsmExtension = "\f^{}\\[~]|€";

TEST(SegmentsTest, EmptyBodyIsOneSegment) {
  const SegmentInfo info = CountSegments("");
  EXPECT_EQ(info.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(info.num_segments, 1u);
  EXPECT_EQ(info.units, 0u);
  EXPECT_EQ(info.characters, 0u);
}

TEST(SegmentsTest, FullBasicAlphabetIsGsm7) {
  const SegmentInfo info = CountSegments(kGsmBasic);
  EXPECT_EQ(info.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(info.characters, 127u);
  EXPECT_EQ(info.units, 127u);
  EXPECT_EQ(info.num_segments, 1u);
}

TEST(SegmentsTest, ExtensionCharactersCostTwoSeptets) {
  const SegmentInfo info = CountSegments(kGsmExtension);
  EXPECT_EQ(info.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(info.characters, 10u);
  EXPECT_EQ(info.units, 20u);
}

TEST(SegmentsTest, Gsm7SingleMessageBoundary) {
  EXPECT_EQ(CountSegments(Repeat("a", 160)).num_segments, 1u);
  const SegmentInfo info = CountSegments(Repeat("a", 161));
  EXPECT_EQ(info.num_segments, 2u);
  EXPECT_EQ(info.units, 161u);
}

TEST(SegmentsTest, Gsm7ConcatenatedBoundaries) {
  EXPECT_EQ(CountSegments(Repeat("a", 306)).num_segments, 2u);
  EXPECT_EQ(CountSegments(Repeat("a", 307)).num_segments, 3u);
  EXPECT_EQ(CountSegments(Repeat("a", 459)).num_segments, 3u);
  EXPECT_EQ(CountSegments(Repeat("a", 460)).num_segments, 4u);
}

TEST(SegmentsTest, ExtensionCharacterIsNotSplitAcrossSegments) {
  // 152 septets then '€' (2): it does not fit in part one's last septet, so it moves to
  // part two; 152 + 2 + 152 = 306 septets would fit two parts if split, but needs three.
  const std::string body = Repeat("a", 152) + "€" + Repeat("a", 152);
  const SegmentInfo info = CountSegments(body);
  EXPECT_EQ(info.units, 306u);
  EXPECT_EQ(info.num_segments, 3u);
  // Exactly 153: the pair sits at the end of part one.
  EXPECT_EQ(CountSegments(Repeat("a", 151) + "€" + Repeat("a", 153)).num_segments, 2u);
}

TEST(SegmentsTest, ExtensionCharactersAtSingleLimit) {
  EXPECT_EQ(CountSegments(Repeat("{", 80)).num_segments, 1u);   // 160 septets
  EXPECT_EQ(CountSegments(Repeat("a", 159) + "^").num_segments, 2u);  // 161 septets
}

TEST(SegmentsTest, NonGsmCharacterSwitchesToUcs2) {
  const SegmentInfo info = CountSegments("Hello ✓");
  EXPECT_EQ(info.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(info.units, 7u);
  EXPECT_EQ(info.characters, 7u);
  EXPECT_EQ(CountSegments("`").encoding, SmsEncoding::kUcs2);  // backtick is not GSM-7
  EXPECT_EQ(CountSegments("ç").encoding, SmsEncoding::kUcs2);  // only capital Ç is GSM-7
}

TEST(SegmentsTest, Ucs2Boundaries) {
  EXPECT_EQ(CountSegments(Repeat("ж", 70)).num_segments, 1u);
  EXPECT_EQ(CountSegments(Repeat("ж", 71)).num_segments, 2u);
  EXPECT_EQ(CountSegments(Repeat("ж", 134)).num_segments, 2u);
  EXPECT_EQ(CountSegments(Repeat("ж", 135)).num_segments, 3u);
}

TEST(SegmentsTest, EmojiCountsTwoUnitsAndIsNotSplit) {
  const SegmentInfo one = CountSegments("😀");
  EXPECT_EQ(one.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(one.units, 2u);
  EXPECT_EQ(one.characters, 1u);
  EXPECT_EQ(CountSegments(Repeat("😀", 35)).num_segments, 1u);  // 70 units
  // 66 units then an emoji: the pair moves to part two (67 + 67 would hold 134).
  const SegmentInfo split = CountSegments(Repeat("ж", 66) + "😀" + Repeat("ж", 66));
  EXPECT_EQ(split.units, 134u);
  EXPECT_EQ(split.characters, 133u);
  EXPECT_EQ(split.num_segments, 3u);
}

TEST(SegmentsTest, EncodingNames) {
  EXPECT_STREQ(EncodingName(SmsEncoding::kGsm7), "GSM-7");
  EXPECT_STREQ(EncodingName(SmsEncoding::kUcs2), "UCS-2");
}

TEST(SegmentsTest, RejectsInvalidUtf8) {
  EXPECT_THROW((void)CountSegments("\xff"), std::invalid_argument);
  EXPECT_THROW((void)CountSegments("abc\xc3"), std::invalid_argument);           // truncated
  EXPECT_THROW((void)CountSegments("\xc0\xaf"), std::invalid_argument);          // overlong
  EXPECT_THROW((void)CountSegments("\xed\xa0\x80"), std::invalid_argument);      // surrogate
  EXPECT_THROW((void)CountSegments("\xf4\x90\x80\x80"), std::invalid_argument);  // > U+10FFFF
  EXPECT_THROW((void)CountSegments("\xe2\x28\xa1"), std::invalid_argument);      // bad continuation
}

// Smart Encoding (Twilio's SmartEncoded=true).

TEST(SmartEncodeTest, ReplacesLookAlikesFromEveryKindOfRow) {
  EXPECT_EQ(SmartEncode("\u201CHi\u201D"), "\"Hi\"");           // double quotation marks
  EXPECT_EQ(SmartEncode("It\u2019s \u2018ok\u2019"), "It's 'ok'");  // single quotation marks
  EXPECT_EQ(SmartEncode("a\u2014b\u2013c"), "a-b-c");            // em and en dash
  EXPECT_EQ(SmartEncode("wait\u2026"), "wait...");               // ellipsis, three characters
  EXPECT_EQ(SmartEncode("\uFF21\uFF11\uFF01"), "A1!");           // fullwidth forms
  EXPECT_EQ(SmartEncode("\u00BD"), "1/2");                       // vulgar fraction
  EXPECT_EQ(SmartEncode("\u2022 item"), "- item");               // bullet
  EXPECT_EQ(SmartEncode("a\u200Bb\uFEFFc"), "abc");              // invisible characters dropped
  EXPECT_EQ(SmartEncode("a\u00A0b"), "a  b");                    // no-break space, as Twilio's table
  EXPECT_EQ(SmartEncode("a\u2028b"), "a b");                     // line separator
  EXPECT_EQ(SmartEncode("`x`"), "'x'");                          // grave accent is not GSM-7
  EXPECT_EQ(SmartEncode("\u2039a\u203A"), "<a>");               // single angle quotation marks
  EXPECT_EQ(SmartEncode("\uFF5B\uFF5D"), "{}");                  // fullwidth braces -> extension
}

TEST(SmartEncodeTest, LeavesGsm7BodiesAndEmptyBodiesAlone) {
  EXPECT_EQ(SmartEncode(""), "");
  EXPECT_EQ(SmartEncode(kGsmBasic), kGsmBasic);
  EXPECT_EQ(SmartEncode(kGsmExtension), kGsmExtension);
}

TEST(SmartEncodeTest, BodyWithACharacterOutsideGsm7IsUnchanged) {
  // An emoji keeps the body UCS-2 whatever is replaced, and Twilio then sends it as written.
  const std::string body = "\u201CHi\u201D \u2014 see you\u2026 \U0001F600";
  EXPECT_EQ(SmartEncode(body), body);
  EXPECT_EQ(CountSegments(SmartEncode(body)), CountSegments(body));
  EXPECT_EQ(CountSegments(body).encoding, SmsEncoding::kUcs2);
  const std::string cyrillic = "\u2018\u0436\u2019";
  EXPECT_EQ(SmartEncode(cyrillic), cyrillic);
}

TEST(SmartEncodeTest, CutsSegmentsOfABodyWithSmartPunctuation) {
  // 150 characters: two curly quotes and an em dash make it UCS-2 in 3 parts.
  const std::string body = "\u201C" + Repeat("a", 70) + "\u201D \u2014 " + Repeat("b", 75);
  const SegmentInfo before = CountSegments(body);
  EXPECT_EQ(before.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(before.characters, 150u);
  EXPECT_EQ(before.num_segments, 3u);
  const SegmentInfo after = CountSegments(SmartEncode(body));
  EXPECT_EQ(after.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(after.units, 150u);
  EXPECT_EQ(after.num_segments, 1u);
}

TEST(SmartEncodeTest, ReplacementCanGrowTheBodyPastOneSegment) {
  // 158 septets plus an ellipsis: 161 septets once the ellipsis becomes three dots.
  const SegmentInfo info = CountSegments(SmartEncode(Repeat("a", 158) + "\u2026"));
  EXPECT_EQ(info.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(info.units, 161u);
  EXPECT_EQ(info.num_segments, 2u);
}

TEST(SmartEncodeTest, EveryReplacementIsGsm7Ascii) {
  std::size_t entries = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const char* replacement = internal::SmartEncodingReplacement(cp);
    if (replacement == nullptr) continue;
    ++entries;
    const std::string_view text(replacement);
    const auto code = static_cast<std::uint32_t>(cp);
    for (const char c : text) EXPECT_LT(static_cast<unsigned char>(c), 0x80u) << std::hex << code;
    EXPECT_EQ(CountSegments(text).encoding, SmsEncoding::kGsm7) << std::hex << code;
  }
  EXPECT_EQ(entries, 270u);
  EXPECT_EQ(internal::SmartEncodingReplacement(U'a'), nullptr);
  EXPECT_EQ(internal::SmartEncodingReplacement(U'\u00E9'), nullptr);  // GSM-7 already
}

TEST(SmartEncodeTest, RejectsInvalidUtf8) {
  EXPECT_THROW((void)SmartEncode("\xff"), std::invalid_argument);
  EXPECT_THROW((void)SmartEncode("\u201C\xe2\x80"), std::invalid_argument);  // truncated
}

}  // namespace
}  // namespace twiliocore
