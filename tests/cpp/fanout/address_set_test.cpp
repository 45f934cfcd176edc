// The de-duplication set: exact keys per address and channel, and its memory.

#include "fanout/address_set.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace twiliocore::internal {
namespace {

TEST(AddressSetTest, DeduplicatesExactlyAndKeepsChannelsApart) {
  AddressSet set;
  EXPECT_TRUE(set.Insert("+14155552671"));
  EXPECT_FALSE(set.Insert("+14155552671"));
  EXPECT_TRUE(set.Insert("whatsapp:+14155552671"));
  EXPECT_FALSE(set.Insert("WhatsApp:+14155552671"));
  EXPECT_TRUE(set.Insert("+14155552672"));
  EXPECT_NE(AddressSet::Key("+1415"), AddressSet::Key("+14150"));
  EXPECT_EQ(set.size(), 3u);
}

TEST(AddressSetTest, AMillionNumbersFitInSixteenMebibytes) {
  AddressSet set;
  for (std::uint64_t i = 0; i < 1'000'000; ++i) {
    ASSERT_TRUE(set.Insert("+1415" + std::to_string(2'000'000 + i)));
  }
  EXPECT_FALSE(set.Insert("+14152000000"));
  EXPECT_EQ(set.size(), 1'000'000u);
  EXPECT_LE(set.memory_bytes(), 16u << 20);
}

}  // namespace
}  // namespace twiliocore::internal
