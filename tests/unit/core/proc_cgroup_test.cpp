#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

using Strings = std::vector<std::string>;

// `cat /proc/self/cgroup` on this 6.18 machine: v1 hierarchies plus the unified one.
constexpr std::string_view kHybrid =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "4:memory:/process_api/ea22d5925b4d17f1e6b7586677c33b1a\n"
    "1:cpu,cpuacct:/\n"
    "0::/\n";

TEST(ParseProcCgroupTest, ReadsHybridHierarchies) {
  const auto lines = parseProcCgroup(kHybrid);

  ASSERT_TRUE(lines) << lines.error().message;
  ASSERT_EQ(lines->size(), 5u);
  EXPECT_EQ((*lines)[0].hierarchy_id, 9);
  EXPECT_EQ((*lines)[0].controllers, Strings{"name=systemd"});
  EXPECT_EQ((*lines)[0].path, "/");
  EXPECT_EQ((*lines)[2].hierarchy_id, 4);
  EXPECT_EQ((*lines)[2].controllers, Strings{"memory"});
  EXPECT_EQ((*lines)[2].path, "/process_api/ea22d5925b4d17f1e6b7586677c33b1a");
  EXPECT_EQ((*lines)[3].controllers, (Strings{"cpu", "cpuacct"}));
  EXPECT_EQ((*lines)[4].hierarchy_id, 0);
  EXPECT_TRUE((*lines)[4].controllers.empty());
  EXPECT_EQ((*lines)[4].path, "/");
}

TEST(ParseProcCgroupTest, SplitsOnlyOnTheFirstTwoColons) {
  struct Case {
    std::string name;
    std::string_view input;
    std::string expected_path;
  };
  const std::vector<Case> cases = {
      {"v2 path with colons", "0::/system.slice/a:b:c.service\n", "/system.slice/a:b:c.service"},
      {"v1 path with colon", "4:memory:/k8s/pod:x\n", "/k8s/pod:x"},
      {"path with spaces", "0::/my dir/x\n", "/my dir/x"},
      {"deleted v2 cgroup", "0::/gone (deleted)\n", "/gone (deleted)"},
      {"no trailing newline", "0::/user.slice", "/user.slice"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto lines = parseProcCgroup(c.input);

    ASSERT_TRUE(lines) << lines.error().message;
    ASSERT_EQ(lines->size(), 1u);
    EXPECT_EQ((*lines)[0].path, c.expected_path);
  }
}

TEST(ParseProcCgroupTest, AcceptsEmptyTextAsNoHierarchies) {
  const auto lines = parseProcCgroup("");

  ASSERT_TRUE(lines) << lines.error().message;
  EXPECT_TRUE(lines->empty());
}

TEST(ParseProcCgroupTest, RejectsMalformedLines) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"no colon", "garbage\n"},
      {"one colon", "4:memory\n"},
      {"id not a number", "x:memory:/\n"},
      {"id negative", "-1:memory:/\n"},
      {"id empty", ":memory:/\n"},
      {"id above int32", "2147483648:memory:/\n"},
      {"empty path", "4:memory:\n"},
      {"bad second line", "0::/\nnonsense\n"},
      {"binary", "\xff\x01\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto lines = parseProcCgroup(c.input);

    ASSERT_FALSE(lines);
    EXPECT_EQ(lines.error().code, Errc::kParse);
  }
}

TEST(ParseProcCgroupTest, ErrorNamesTheLineNumber) {
  const auto lines = parseProcCgroup("0::/\nnonsense\n");

  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().message,
            "cgroup: line 2: has fewer than 3 ':'-separated fields: 'nonsense'");
}

TEST(V1MemoryCgroupPathTest, FindsTheHierarchyWithTheMemoryController) {
  struct Case {
    std::string name;
    std::string_view input;
    std::optional<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"hybrid", kHybrid, "/process_api/ea22d5925b4d17f1e6b7586677c33b1a"},
      {"co-mounted controllers", "3:cpu,memory,pids:/a\n0::/b\n", "/a"},
      {"v2 only", "0::/user.slice\n", std::nullopt},
      {"no memory hierarchy", "2:cpu:/x\n1:name=systemd:/y\n", std::nullopt},
      {"name= hierarchy called memory is not the controller", "5:name=memory:/n\n", std::nullopt},
      {"prefix of memory is not memory", "5:mem:/m\n6:memoryx:/n\n", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto lines = parseProcCgroup(c.input);
    ASSERT_TRUE(lines) << lines.error().message;

    const std::optional<std::string> path = v1MemoryCgroupPath(*lines);

    EXPECT_EQ(path, c.expected);
  }
}

TEST(V2CgroupPathTest, FindsTheUnifiedHierarchyLine) {
  struct Case {
    std::string name;
    std::string_view input;
    std::optional<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"hybrid", kHybrid, "/"},
      {"v2 only", "0::/user.slice/user-1000.slice/session-2.scope\n",
       "/user.slice/user-1000.slice/session-2.scope"},
      {"v1 only", "4:memory:/a\n1:cpu:/b\n", std::nullopt},
      {"empty", "", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto lines = parseProcCgroup(c.input);
    ASSERT_TRUE(lines) << lines.error().message;

    const std::optional<std::string> path = v2CgroupPath(*lines);

    EXPECT_EQ(path, c.expected);
  }
}

}  // namespace
}  // namespace oomkit::core
