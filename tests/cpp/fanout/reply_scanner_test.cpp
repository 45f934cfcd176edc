// The reply scanner: a created Message's sid and status read without parsing its JSON.

#include "fanout/reply_scanner.h"

#include <gtest/gtest.h>

#include <string_view>

namespace twiliocore::internal {
namespace {

TEST(ScanSidAndStatusTest, ReadsTopLevelStringsInAnyOrderAndRefusesTheRest) {
  std::string_view sid;
  std::string_view status;
  ASSERT_TRUE(ScanSidAndStatus(
      R"({"account_sid": "AC1", "body": "x", "sid": "SM1", "status": "queued", "to": "+1"})", sid,
      status));
  EXPECT_EQ(sid, "SM1");
  EXPECT_EQ(status, "queued");
  ASSERT_TRUE(ScanSidAndStatus(R"({"status":"accepted","sid":"SM2","x":{"y":1}})", sid, status));
  EXPECT_EQ(sid, "SM2");
  EXPECT_EQ(status, "accepted");
  // A body quoting the keys is escaped: never read as them.
  ASSERT_TRUE(ScanSidAndStatus(
      R"({"body": "\"sid\": \"SMfake\", \"status\": \"sent\"", "sid": "SM3", "status": "queued"})",
      sid, status));
  EXPECT_EQ(sid, "SM3");
  EXPECT_EQ(status, "queued");
  // Missing, not a string, or escaped: left to the full parse.
  EXPECT_FALSE(ScanSidAndStatus(R"({"sid": "SM4"})", sid, status));
  EXPECT_FALSE(ScanSidAndStatus(R"({"sid": "SM5", "status": null})", sid, status));
  EXPECT_FALSE(  // a JSON escape in the value
      ScanSidAndStatus("{\"sid\": \"SM\\u0036\", \"status\": \"queued\"}", sid, status));
  EXPECT_FALSE(ScanSidAndStatus(R"({"name": "sid", "status": "queued"})", sid, status));
  EXPECT_FALSE(ScanSidAndStatus("", sid, status));
  EXPECT_FALSE(ScanSidAndStatus(R"("sid")", sid, status));
}

}  // namespace
}  // namespace twiliocore::internal
