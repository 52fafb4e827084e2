#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

struct RejectCase {
  std::string name;
  std::string_view input;
};

TEST(ParseOomScoreAdjTest, AcceptsIntegersFromMinus1000To1000) {
  struct Case {
    std::string name;
    std::string_view input;
    int32_t expected;
  };
  const std::vector<Case> cases = {
      {"zero as the kernel prints it", "0\n", 0},
      {"min", "-1000\n", -1000},
      {"max", "1000\n", 1000},
      {"no newline", "-17", -17},
      {"systemd-oomd style", "200\n", 200},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto adj = parseOomScoreAdj(c.input);

    ASSERT_TRUE(adj) << adj.error().message;
    EXPECT_EQ(*adj, c.expected);
  }
}

TEST(ParseOomScoreAdjTest, RejectsOutOfRangeAndMalformedText) {
  const std::vector<RejectCase> cases = {
      {"empty", ""},
      {"newline only", "\n"},
      {"below min", "-1001\n"},
      {"above max", "1001\n"},
      {"huge", "99999999999999999999\n"},
      {"plus sign", "+5\n"},
      {"leading blank", " 5\n"},
      {"two newlines", "5\n\n"},
      {"trailing garbage", "5x\n"},
      {"two numbers", "5\n6\n"},
      {"binary", "\xff\x00"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto adj = parseOomScoreAdj(c.input);

    ASSERT_FALSE(adj);
    EXPECT_EQ(adj.error().code, Errc::kParse);
  }
}

TEST(ParseOomScoreTest, AcceptsNonNegativeIntegers) {
  struct Case {
    std::string name;
    std::string_view input;
    int64_t expected;
  };
  const std::vector<Case> cases = {
      {"zero", "0\n", 0},
      {"as read on 6.18", "666\n", 666},
      {"5.9+ maximum", "2000\n", 2000},
      {"no newline", "12", 12},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto score = parseOomScore(c.input);

    ASSERT_TRUE(score) << score.error().message;
    EXPECT_EQ(*score, c.expected);
  }
}

TEST(ParseOomScoreTest, RejectsNegativeAndMalformedText) {
  const std::vector<RejectCase> cases = {
      {"empty", ""},
      {"negative", "-1\n"},
      {"minus zero", "-0\n"},
      {"above int64", "9223372036854775808\n"},
      {"trailing garbage", "12 \n"},
      {"word", "abc\n"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto score = parseOomScore(c.input);

    ASSERT_FALSE(score);
    EXPECT_EQ(score.error().code, Errc::kParse);
  }
}

}  // namespace
}  // namespace oomkit::core
