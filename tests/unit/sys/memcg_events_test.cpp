// Tests for sys::MemcgOomEvents on fake cgroup trees in a temp dir. The v2 path is inotify
// IN_MODIFY on memory.events (Documentation/admin-guide/cgroup-v2.rst: "a value change in this
// file generates a file modified event"), and inotify works the same on a regular file, so
// rewriting a fake memory.events in place stands in for the kernel. The v1 eventfd needs a real
// memcg: tests/integration/memcg_events_live_test.cpp.
#include "oomkit/sys/memcg_events.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "oomkit/core/scope.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;

constexpr int kEventTimeoutMs = 2000;
constexpr int kNoEventTimeoutMs = 50;
constexpr std::string_view kStart = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

class MemcgEventsFakeTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "oomkit-memcg-events-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    fs::create_directory(root_ / "app");
    hierarchy_.version = core::CgroupVersion::kV2;
    hierarchy_.mount_dir = root_.string();
    hierarchy_.mount_root = "/";
    writeEvents(kStart);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Rewrites memory.events in place (the watch is on the inode: no rename).
  void writeEvents(std::string_view text) const {
    const std::string path = eventsPath();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
  }
  std::string eventsPath() const { return (root_ / "app" / "memory.events").string(); }

  Result<MemcgOomEvents> open() const { return MemcgOomEvents::open(hierarchy_, "/app"); }

  fs::path root_;
  MemoryHierarchy hierarchy_;
};

TEST_F(MemcgEventsFakeTreeTest, V2ReportsTheDeltasOfMaxOomAndOomKill) {
  auto events = open();
  ASSERT_TRUE(events) << events.error().message;
  EXPECT_EQ(events->version(), core::CgroupVersion::kV2);
  EXPECT_EQ(events->cgroup(), "/app");
  EXPECT_FALSE(readable(events->fd(), kNoEventTimeoutMs));

  writeEvents("low 0\nhigh 0\nmax 15\noom 3\noom_kill 2\noom_group_kill 0\n");
  ASSERT_TRUE(readable(events->fd(), kEventTimeoutMs));
  auto delta = events->onReadable();

  ASSERT_TRUE(delta) << delta.error().message;
  EXPECT_EQ(delta->version, core::CgroupVersion::kV2);
  EXPECT_GE(delta->notifications, 1u);
  EXPECT_FALSE(delta->under_oom);
  EXPECT_EQ(delta->max, 3u);
  EXPECT_EQ(delta->oom, 2u);
  EXPECT_EQ(delta->oom_kill, 1u);
  EXPECT_TRUE(delta->outOfMemory());
  EXPECT_FALSE(readable(events->fd(), kNoEventTimeoutMs)) << "onReadable drains the fd";
}

TEST_F(MemcgEventsFakeTreeTest, V2ChangesOfOtherCountersAreNotAnOom) {
  auto events = open();
  ASSERT_TRUE(events) << events.error().message;

  writeEvents("low 4\nhigh 9\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
  ASSERT_TRUE(readable(events->fd(), kEventTimeoutMs));
  auto delta = events->onReadable();

  ASSERT_TRUE(delta) << delta.error().message;
  EXPECT_GE(delta->notifications, 1u);
  EXPECT_EQ(delta->max, 0u);
  EXPECT_EQ(delta->oom, 0u);
  EXPECT_EQ(delta->oom_kill, 0u);
  EXPECT_FALSE(delta->outOfMemory());
}

TEST_F(MemcgEventsFakeTreeTest, V2DeltasCountFromThePreviousRead) {
  auto events = open();
  ASSERT_TRUE(events) << events.error().message;
  writeEvents("low 0\nhigh 0\nmax 20\noom 5\noom_kill 4\n");
  ASSERT_TRUE(readable(events->fd(), kEventTimeoutMs));
  ASSERT_TRUE(events->onReadable());

  writeEvents("low 0\nhigh 0\nmax 21\noom 5\noom_kill 6\n");
  ASSERT_TRUE(readable(events->fd(), kEventTimeoutMs));
  auto second = events->onReadable();
  auto idle = events->onReadable();  // nothing new: no event, no growth

  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->max, 1u);
  EXPECT_EQ(second->oom, 0u);
  EXPECT_EQ(second->oom_kill, 2u);
  ASSERT_TRUE(idle) << idle.error().message;
  EXPECT_EQ(*idle, (MemcgEventDelta{core::CgroupVersion::kV2, 0, false, 0, 0, 0}));
}

TEST_F(MemcgEventsFakeTreeTest, V2MovedObjectKeepsWatching) {
  auto opened = open();
  ASSERT_TRUE(opened) << opened.error().message;
  MemcgOomEvents first = std::move(*opened);
  const int fd = first.fd();
  MemcgOomEvents moved(std::move(first));
  EXPECT_EQ(first.fd(), -1);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(moved.fd(), fd);

  writeEvents("low 0\nhigh 0\nmax 13\noom 2\noom_kill 1\n");
  ASSERT_TRUE(readable(moved.fd(), kEventTimeoutMs));
  auto delta = moved.onReadable();

  ASSERT_TRUE(delta) << delta.error().message;
  EXPECT_EQ(delta->oom, 1u);
}

TEST_F(MemcgEventsFakeTreeTest, V2MalformedFileIsAParseErrorNamingIt) {
  auto events = open();
  ASSERT_TRUE(events) << events.error().message;

  writeEvents("low 0\nhigh 0\nmax twelve\noom 1\n");
  ASSERT_TRUE(readable(events->fd(), kEventTimeoutMs));
  auto delta = events->onReadable();

  ASSERT_FALSE(delta);
  EXPECT_EQ(delta.error().code, Errc::kParse);
  EXPECT_NE(delta.error().message.find(eventsPath()), std::string::npos) << delta.error().message;
}

TEST_F(MemcgEventsFakeTreeTest, V2MalformedFileAtOpenIsAnError) {
  writeEvents("not memory.events\n");
  auto events = open();
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, Errc::kParse);
  EXPECT_NE(events.error().message.find(eventsPath()), std::string::npos);
}

TEST_F(MemcgEventsFakeTreeTest, MissingCgroupIsNotFoundNamingTheFile) {
  auto v2 = MemcgOomEvents::open(hierarchy_, "/gone");
  hierarchy_.version = core::CgroupVersion::kV1;
  auto v1 = MemcgOomEvents::open(hierarchy_, "/gone");

  ASSERT_FALSE(v2);
  EXPECT_EQ(v2.error().code, Errc::kNotFound);
  EXPECT_NE(v2.error().message.find((root_ / "gone" / "memory.events").string()), std::string::npos)
      << v2.error().message;
  ASSERT_FALSE(v1);
  EXPECT_EQ(v1.error().code, Errc::kNotFound);
  EXPECT_NE(v1.error().message.find((root_ / "gone" / "memory.oom_control").string()),
            std::string::npos)
      << v1.error().message;
}

TEST_F(MemcgEventsFakeTreeTest, CgroupOutsideTheMountIsInvalid) {
  hierarchy_.mount_root = "/machine";
  auto events = MemcgOomEvents::open(hierarchy_, "/other");
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code, Errc::kInvalidArgument);
}

TEST(MemcgEventDeltaTest, OutOfMemoryMeansAnOomNotJustAnEvent) {
  using core::CgroupVersion;
  EXPECT_TRUE((MemcgEventDelta{CgroupVersion::kV1, 1, false, 0, 0, 0}.outOfMemory()));
  EXPECT_TRUE((MemcgEventDelta{CgroupVersion::kV1, 0, true, 0, 0, 0}.outOfMemory()));
  EXPECT_FALSE((MemcgEventDelta{CgroupVersion::kV1, 0, false, 1, 0, 0}.outOfMemory()));
  EXPECT_TRUE((MemcgEventDelta{CgroupVersion::kV2, 1, false, 0, 0, 1}.outOfMemory()));
  EXPECT_FALSE((MemcgEventDelta{CgroupVersion::kV2, 3, false, 0, 2, 0}.outOfMemory()));
}

}  // namespace
}  // namespace oomkit::sys
