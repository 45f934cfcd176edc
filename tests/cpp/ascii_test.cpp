#include "twiliocore/ascii.h"

#include <gtest/gtest.h>

#include <string>

namespace twiliocore::ascii {
namespace {

TEST(Ascii, OnlyLettersChangeCase) {
  EXPECT_EQ(ToLower("Content-Type: A-Z [@`{]"), "content-type: a-z [@`{]");
  EXPECT_EQ(ToUpper("post us-ca a-z [@`{]"), "POST US-CA A-Z [@`{]");
  // Bytes outside ASCII (here UTF-8 "É" and "é") pass through untouched.
  EXPECT_EQ(ToLower("\xC3\x89"), "\xC3\x89");
  EXPECT_EQ(ToUpper("\xC3\xA9"), "\xC3\xA9");
  static_assert(Lower('Q') == 'q' && Lower('q') == 'q' && Lower('@') == '@' && Lower('[') == '[');
  static_assert(Upper('q') == 'Q' && Upper('Q') == 'Q' && Upper('`') == '`' && Upper('{') == '{');
}

TEST(Ascii, ComparesIgnoringCase) {
  EXPECT_TRUE(EqualsIgnoreCase("HTTPS", "https"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("https", "http"));
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));  // 0x40 and 0x60 differ by the case bit only
  EXPECT_TRUE(StartsWithIgnoreCase("WhatsApp:+14155552671", "whatsapp:"));
  EXPECT_TRUE(StartsWithIgnoreCase("whatsapp:", "WHATSAPP:"));
  EXPECT_FALSE(StartsWithIgnoreCase("whatsapp", "whatsapp:"));
  EXPECT_FALSE(StartsWithIgnoreCase("+14155552671", "whatsapp:"));
  EXPECT_TRUE(StartsWithIgnoreCase("anything", ""));
}

TEST(Ascii, AllDigitsIsOnlyZeroToNine) {
  static_assert(AllDigits("0123456789"));
  EXPECT_TRUE(AllDigits("12345"));
  EXPECT_FALSE(AllDigits(""));
  EXPECT_FALSE(AllDigits("+14155552671"));
  EXPECT_FALSE(AllDigits("12 34"));
  EXPECT_FALSE(AllDigits("\xD9\xA1"));  // ARABIC-INDIC DIGIT ONE: a digit, but not ASCII
  EXPECT_FALSE(AllDigits("/:"));  // the bytes either side of 0-9
}

}  // namespace
}  // namespace twiliocore::ascii
