// Tests for the memory cgroup OOM event parsers: v1 memory.oom_control and v2 memory.events
// (Documentation/admin-guide/cgroup-v1/memory.rst "OOM Control", cgroup-v2.rst). Inputs are
// the kernel's own text, from 4.5 (no oom_kill) up to 6.18 (sock_throttled).
#include "oomkit/core/memcg_events.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/result.h"

namespace oomkit::core {
namespace {

struct RejectCase {
  std::string name;
  std::string_view input;
  std::string_view message_part;
};

TEST(MemcgEventsParseOomControlTest, ReadsEveryKernelVersion) {
  struct Case {
    std::string name;
    std::string_view input;
    OomControlV1 expected;
  };
  const std::vector<Case> cases = {
      {"6.18 after a kill", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", {false, false, 3}},
      {"takeover, a task waiting",
       "oom_kill_disable 1\nunder_oom 1\noom_kill 0\n",
       {true, true, 0}},
      {"before 4.13: no oom_kill", "oom_kill_disable 0\nunder_oom 0\n", {false, false, {}}},
      {"no final newline", "oom_kill_disable 1\nunder_oom 0\noom_kill 7", {true, false, 7}},
      {"a newer kernel's extra key",
       "oom_kill_disable 0\nunder_oom 0\noom_kill 1\nfuture 9\n",
       {false, false, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto parsed = parseOomControl(c.input);

    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(MemcgEventsParseOomControlTest, RejectsMalformedText) {
  const std::vector<RejectCase> cases = {
      {"empty", "", "empty"},
      {"no under_oom", "oom_kill_disable 0\noom_kill 1\n", "no under_oom line"},
      {"no oom_kill_disable", "under_oom 0\n", "no oom_kill_disable line"},
      {"flag above 1", "oom_kill_disable 2\nunder_oom 0\n", "oom_kill_disable is not 0 or 1"},
      {"under_oom above 1", "oom_kill_disable 0\nunder_oom 5\n", "under_oom is not 0 or 1"},
      {"negative", "oom_kill_disable 0\nunder_oom 0\noom_kill -1\n", "not a number"},
      {"two spaces", "oom_kill_disable  0\nunder_oom 0\n", "not a number"},
      {"trailing blank", "oom_kill_disable 0 \nunder_oom 0\n", "not a number"},
      {"tab", "oom_kill_disable\t0\nunder_oom 0\n", "not a 'key value' line"},
      {"no value", "oom_kill_disable\nunder_oom 0\n", "not a 'key value' line"},
      {"empty line", "oom_kill_disable 0\n\nunder_oom 0\n", "not a 'key value' line"},
      {"leading space", " oom_kill_disable 0\nunder_oom 0\n", "not a 'key value' line"},
      {"duplicate", "oom_kill_disable 0\nunder_oom 0\nunder_oom 1\n", "appears twice"},
      {"v2 file", "low 0\nhigh 0\nmax 0\noom 0\n", "no oom_kill_disable line"},
      {"a single number", "1\n", "not a 'key value' line"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto parsed = parseOomControl(c.input);

    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, Errc::kParse);
    EXPECT_NE(parsed.error().message.find("memory.oom_control"), std::string::npos)
        << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
        << parsed.error().message;
  }
}

TEST(MemcgEventsParseMemoryEventsTest, ReadsEveryKernelVersion) {
  struct Case {
    std::string name;
    std::string_view input;
    MemoryEventsV2 expected;
  };
  const std::vector<Case> cases = {
      {"5.17+",
       "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
       {0, 0, 12, 1, 1, 0}},
      {"4.5-4.12: no oom_kill", "low 1\nhigh 2\nmax 3\noom 4\n", {1, 2, 3, 4, {}, {}}},
      {"4.13-5.16: no oom_group_kill",
       "low 0\nhigh 5\nmax 9\noom 2\noom_kill 2\n",
       {0, 5, 9, 2, 2, {}}},
      {"6.x sock_throttled",
       "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\nsock_throttled 4\n",
       {0, 0, 0, 0, 0, 0}},
      {"large counters",
       "low 0\nhigh 18446744073709551615\nmax 1\noom 0\n",
       {0, 18446744073709551615u, 1, 0, {}, {}}},
      {"no final newline", "low 0\nhigh 0\nmax 1\noom 1\noom_kill 1", {0, 0, 1, 1, 1, {}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto parsed = parseMemoryEvents(c.input);

    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(MemcgEventsParseMemoryEventsTest, RejectsMalformedText) {
  const std::vector<RejectCase> cases = {
      {"empty", "", "empty"},
      {"no oom", "low 0\nhigh 0\nmax 12\n", "no oom line"},
      {"no low", "high 0\nmax 12\noom 1\n", "no low line"},
      {"v1 file", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "no low line"},
      {"overflow", "low 0\nhigh 0\nmax 18446744073709551616\noom 0\n", "not a number"},
      {"hex", "low 0\nhigh 0\nmax 0x1\noom 0\n", "not a number"},
      {"sign", "low 0\nhigh 0\nmax +1\noom 0\n", "not a number"},
      {"duplicate max", "low 0\nhigh 0\nmax 1\nmax 2\noom 0\n", "appears twice"},
      {"duplicate oom_kill", "low 0\nhigh 0\nmax 1\noom 0\noom_kill 1\noom_kill 1\n",
       "appears twice"},
      {"unknown key without a number", "low 0\nhigh 0\nmax 1\noom 0\nnew x\n", "not a number"},
      {"blank line at the end", "low 0\nhigh 0\nmax 1\noom 0\n\n", "not a 'key value' line"},
      {"CRLF", "low 0\r\nhigh 0\nmax 1\noom 0\n", "not a number"},
      {"NUL in value", std::string_view("low 0\nhigh 0\nmax 1\0\noom 0\n", 26), "not a number"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto parsed = parseMemoryEvents(c.input);

    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, Errc::kParse);
    EXPECT_NE(parsed.error().message.find("memory.events"), std::string::npos)
        << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
        << parsed.error().message;
  }
}

TEST(MemcgEventsParseMemoryEventsTest, ReadsMemoryEventsLocalToo) {
  // memory.events.local (5.2+) has the same keys, counting this cgroup alone.
  const auto parsed = parseMemoryEvents("low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->oom, 2u);
  EXPECT_EQ(parsed->oom_kill, 1u);
}

}  // namespace
}  // namespace oomkit::core
