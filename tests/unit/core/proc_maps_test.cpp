// Tests for parseMapsLine(): the /proc/PID/maps lines the daemon's page shedder reads.
#include <string_view>

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"

namespace oomkit::core {
namespace {

TEST(ParseMapsLineTest, ReadsAFileMapping) {
  const auto entry = parseMapsLine(
      "7f3a1c028000-7f3a1c1bd000 r-xp 00028000 fe:00 1311032                    "
      "/usr/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->start, 0x7f3a1c028000u);
  EXPECT_EQ(entry->end, 0x7f3a1c1bd000u);
  EXPECT_TRUE(entry->readable);
  EXPECT_FALSE(entry->writable);
  EXPECT_TRUE(entry->executable);
  EXPECT_FALSE(entry->shared);
  EXPECT_EQ(entry->inode, 1311032u);
  EXPECT_EQ(entry->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
}

TEST(ParseMapsLineTest, AnonymousMemoryHasNoPathAndNoInode) {
  const auto entry = parseMapsLine("7ffd4c1d0000-7ffd4c1f2000 rw-p 00000000 00:00 0 ");
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_TRUE(entry->writable);
  EXPECT_EQ(entry->inode, 0u);
  EXPECT_EQ(entry->path, "");
}

TEST(ParseMapsLineTest, KeepsSpacesInsideThePathAndSharedFlag) {
  const auto entry = parseMapsLine("7f00-8f00 r--s 00001000 08:01 42    /tmp/a dir/file (deleted)");
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_TRUE(entry->shared);
  EXPECT_EQ(entry->path, "/tmp/a dir/file (deleted)");
  EXPECT_EQ(entry->start, 0x7f00u);
}

TEST(ParseMapsLineTest, SpecialMappingsKeepTheirBracketedName) {
  const auto entry =
      parseMapsLine("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]");
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_FALSE(entry->readable);
  EXPECT_EQ(entry->path, "[vsyscall]");
}

TEST(ParseMapsLineTest, RejectsMalformedLinesNamingWhatIsWrong) {
  struct Case {
    std::string_view line;
    std::string_view message;
  };
  const Case cases[] = {
      {"7f00-8f00 r-xp 0 fe:00", "fewer than five fields"},
      {"7f00 r-xp 0 fe:00 1 /x", "address range"},
      {"8f00-7f00 r-xp 0 fe:00 1 /x", "address range"},
      {"7f00-8f00 rwxq 0 fe:00 1 /x", "permissions"},
      {"7f00-8f00 r-x 0 fe:00 1 /x", "permissions"},
      {"7f00-8f00 r-xp zz fe:00 1 /x", "offset or device"},
      {"7f00-8f00 r-xp 0 fe00 1 /x", "offset or device"},
      {"7f00-8f00 r-xp 0 fe:00 -1 /x", "inode"},
  };
  for (const auto& c : cases) {
    const auto entry = parseMapsLine(c.line);
    ASSERT_FALSE(entry) << c.line;
    EXPECT_NE(entry.error().message.find(c.message), std::string::npos)
        << c.line << " -> " << entry.error().message;
  }
}

}  // namespace
}  // namespace oomkit::core
