#include "util/text.h"

#include <gtest/gtest.h>

#include "util/clock.h"

namespace pipeline {

TEST(TextTest, NormalizeLabelMatchesTheSeed) {
  EXPECT_EQ(NormalizeLabel("In-Progress"), "inprogress");
  EXPECT_EQ(NormalizeLabel(" OPEN "), "open");
  EXPECT_EQ(NormalizeLabel("in_progress"), "inprogress");
  EXPECT_EQ(NormalizeLabel(""), "");
}

TEST(TextTest, SlugKeepsIdsAscii) {
  EXPECT_EQ(Slug("Omni/A.hs"), "omni-a-hs");
  EXPECT_EQ(Slug("t-1"), "t-1");
  EXPECT_EQ(Slug("--x--"), "x");
  // Non-ASCII bytes become '-' (the seed kept them in run ids).
  EXPECT_EQ(Slug("Omni/Caf\xc3\xa9.hs"), "omni-caf---hs");
  EXPECT_EQ(Slug("$(rm -rf /)"), "rm--rf");
}

TEST(TextTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("caf\xc3"));           // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
}

TEST(TextTest, TruncateAndTailRespectCharacters) {
  std::string s = "a\xc3\xa9z";  // a é z
  EXPECT_EQ(TruncateUtf8(s, 2), "a");
  EXPECT_EQ(TruncateUtf8(s, 3), "a\xc3\xa9");
  EXPECT_EQ(TailUtf8(s, 2), "z");
  EXPECT_EQ(TailUtf8(s, 3), "\xc3\xa9z");
}

TEST(TextTest, ParseInt64IsStrict) {
  EXPECT_EQ(ParseInt64("300"), 300);
  EXPECT_EQ(ParseInt64("-5"), -5);
  EXPECT_FALSE(ParseInt64(""));
  EXPECT_FALSE(ParseInt64("12.5"));
  EXPECT_FALSE(ParseInt64("1e3"));
  EXPECT_FALSE(ParseInt64("+3"));
  EXPECT_FALSE(ParseInt64(" 3"));
  EXPECT_FALSE(ParseInt64("99999999999999999999"));
}

TEST(TextTest, SingleLineAndSplit) {
  EXPECT_EQ(SingleLine("a\r\nb"), "a  b");
  EXPECT_EQ(SplitWhitespace("  make   test \n"), (std::vector<std::string>{"make", "test"}));
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(Join({"make", "test"}, " "), "make test");
  EXPECT_EQ(Join({"a", "", "b"}, ", "), "a, , b");
  EXPECT_EQ(Join({}, ", "), "");
}

TEST(ClockTest, Iso8601RoundTrip) {
  Micros t = 1'795'480'637'252'885;
  std::string s = FormatIso8601(t);
  EXPECT_EQ(s, "2026-11-24T00:37:17.252885Z");
  Micros back = 0;
  ASSERT_TRUE(ParseIso8601(s, &back));
  EXPECT_EQ(back, t);
  ASSERT_TRUE(ParseIso8601("2026-11-24 00:34:40.14 UTC", &back));
  EXPECT_EQ(FormatIso8601(back), "2026-11-24T00:34:40.140000Z");
  EXPECT_FALSE(ParseIso8601("yesterday", &back));
  EXPECT_FALSE(ParseIso8601("2026-13-01T00:00:00Z", &back));
}

TEST(ClockTest, FakeClockAdvances) {
  FakeClock c(1000);
  c.Advance(500);
  EXPECT_EQ(c.Now(), 1500);
  EXPECT_EQ(c.MonotonicNow(), 1500);
}

}  // namespace pipeline
