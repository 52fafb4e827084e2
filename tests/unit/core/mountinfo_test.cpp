#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// Lines of `cat /proc/self/mountinfo` on this 6.18 machine (cgroup v1 + unified).
constexpr std::string_view kHybridCgroups =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(ParseMountInfoTest, ReadsRealCgroupMounts) {
  const auto mounts = parseMountInfo(kHybridCgroups);

  ASSERT_TRUE(mounts) << mounts.error().message;
  ASSERT_EQ(mounts->size(), 6u);
  EXPECT_EQ((*mounts)[0].mount_point, "/proc");
  EXPECT_EQ((*mounts)[0].fs_type, "proc");
  EXPECT_EQ((*mounts)[3].root, "/");
  EXPECT_EQ((*mounts)[3].mount_point, "/sys/fs/cgroup/memory");
  EXPECT_EQ((*mounts)[3].fs_type, "cgroup");
  EXPECT_EQ((*mounts)[3].super_options, "rw,memory");
  EXPECT_EQ((*mounts)[5].mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ((*mounts)[5].fs_type, "cgroup2");
  EXPECT_EQ((*mounts)[5].super_options, "rw");
}

TEST(ParseMountInfoTest, SkipsAnyNumberOfOptionalFields) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"none", "36 35 98:0 /mnt1 /mnt2 rw,noatime - ext3 /dev/root rw,errors=continue"},
      {"proc.rst example",
       "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root "
       "rw,errors=continue"},
      {"three",
       "36 35 98:0 /mnt1 /mnt2 rw,noatime shared:4 master:1 propagate_from:2 - ext3 "
       "/dev/root rw,errors=continue"},
      {"unbindable",
       "36 35 98:0 /mnt1 /mnt2 rw,noatime unbindable - ext3 /dev/root "
       "rw,errors=continue"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto mounts = parseMountInfo(c.input);

    ASSERT_TRUE(mounts) << mounts.error().message;
    ASSERT_EQ(mounts->size(), 1u);
    EXPECT_EQ((*mounts)[0].root, "/mnt1");
    EXPECT_EQ((*mounts)[0].mount_point, "/mnt2");
    EXPECT_EQ((*mounts)[0].fs_type, "ext3");
    EXPECT_EQ((*mounts)[0].super_options, "rw,errors=continue");
  }
}

TEST(ParseMountInfoTest, DecodesOctalEscapesInRootAndMountPoint) {
  struct Case {
    std::string name;
    std::string_view input;
    std::string root;
    std::string mount_point;
  };
  const std::vector<Case> cases = {
      {"space", "1 0 8:1 /a\\040b /mnt/my\\040disk rw - ext4 /dev/sda1 rw", "/a b", "/mnt/my disk"},
      {"tab and newline", "1 0 8:1 / /m\\011x\\012y rw - ext4 /dev/sda1 rw", "/", "/m\tx\ny"},
      {"backslash", "1 0 8:1 /\\134 /back\\134slash rw - ext4 /dev/sda1 rw", "/\\", "/back\\slash"},
      {"nested cgroup root", "50 31 0:32 /process_api /sys/fs/cgroup/memory rw - cgroup cgroup rw",
       "/process_api", "/sys/fs/cgroup/memory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto mounts = parseMountInfo(c.input);

    ASSERT_TRUE(mounts) << mounts.error().message;
    ASSERT_EQ(mounts->size(), 1u);
    EXPECT_EQ((*mounts)[0].root, c.root);
    EXPECT_EQ((*mounts)[0].mount_point, c.mount_point);
  }
}

TEST(ParseMountInfoTest, KeepsFieldsAfterTheSeparatorExact) {
  struct Case {
    std::string name;
    std::string_view input;
    std::string fs_type;
    std::string super_options;
  };
  const std::vector<Case> cases = {
      {"empty mount source", "1 0 0:5 / /mnt rw - tmpfs  rw,size=4k", "tmpfs", "rw,size=4k"},
      {"fuse subtype", "1 0 0:5 / /mnt rw - fuse.sshfs host:/ rw,user_id=0", "fuse.sshfs",
       "rw,user_id=0"},
      {"super options with a space", "1 0 0:5 / /mnt rw - weirdfs src rw,label=a b", "weirdfs",
       "rw,label=a b"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto mounts = parseMountInfo(c.input);

    ASSERT_TRUE(mounts) << mounts.error().message;
    ASSERT_EQ(mounts->size(), 1u);
    EXPECT_EQ((*mounts)[0].fs_type, c.fs_type);
    EXPECT_EQ((*mounts)[0].super_options, c.super_options);
  }
}

TEST(ParseMountInfoTest, AcceptsEmptyTextAndSkipsEmptyLines) {
  const auto empty = parseMountInfo("");
  const auto blank_lines = parseMountInfo("\n1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\n");

  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(blank_lines) << blank_lines.error().message;
  EXPECT_EQ(blank_lines->size(), 1u);
}

TEST(ParseMountInfoTest, RejectsMalformedLines) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"garbage", "garbage\n"},
      {"five fields", "1 0 8:1 / /mnt\n"},
      {"no separator", "1 0 8:1 / /mnt rw shared:1 ext4 /dev/sda1 rw\n"},
      {"separator at end", "1 0 8:1 / /mnt rw -\n"},
      {"only fs type after separator", "1 0 8:1 / /mnt rw - ext4\n"},
      {"no super options", "1 0 8:1 / /mnt rw - ext4 /dev/sda1\n"},
      {"empty super options", "1 0 8:1 / /mnt rw - ext4 /dev/sda1 \n"},
      {"empty fs type", "1 0 8:1 / /mnt rw -  /dev/sda1 rw\n"},
      {"mount id not a number", "x 0 8:1 / /mnt rw - ext4 /dev/sda1 rw\n"},
      {"parent id not a number", "1 y 8:1 / /mnt rw - ext4 /dev/sda1 rw\n"},
      {"double space before root", "1 0 8:1  / /mnt rw - ext4 /dev/sda1 rw\n"},
      {"second line bad", "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1\n"},
      {"binary", "\xff\x00\x01 - \xfe"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto mounts = parseMountInfo(c.input);

    ASSERT_FALSE(mounts);
    EXPECT_EQ(mounts.error().code, Errc::kParse);
  }
}

TEST(ParseMountInfoTest, ErrorNamesTheLineNumber) {
  const auto mounts = parseMountInfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / /x rw\n");

  ASSERT_FALSE(mounts);
  EXPECT_EQ(mounts.error().message, "mountinfo: line 2: no ' - ' separator: '2 1 8:2 / /x rw'");
}

}  // namespace
}  // namespace oomkit::core
