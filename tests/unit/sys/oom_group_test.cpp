// memory.oom.group selection over a fake cgroup v2 tree in a temp dir (this machine's cgroup2
// has no memory controller, so no real memory.oom.group file exists).
#include "oomkit/sys/oom_group.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;

class KillOomGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "oomkit-oom-group-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    // /a/b/c with the memory controller's files; "/" (the root cgroup) has no oom.group.
    for (const char* dir : {"a", "a/b", "a/b/c"}) {
      fs::create_directories(root_ / dir);
      setOomGroup(std::string("/") + dir, "0\n");
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  void setOomGroup(const std::string& path, const std::string& text) {
    std::ofstream(root_.string() + path + "/memory.oom.group") << text;
  }
  void writeProcs(const std::string& path, const std::string& text) {
    std::ofstream(root_.string() + path + "/cgroup.procs") << text;
  }
  MemoryHierarchy v2() const { return {core::CgroupVersion::kV2, root_.string(), "/"}; }

  fs::path root_;
};

TEST_F(KillOomGroupTest, NoGroupWhenNothingIsSet) {
  auto group = findOomGroup(v2(), "/a/b/c", "/");

  ASSERT_TRUE(group) << group.error().message;
  EXPECT_EQ(*group, std::nullopt);
}

TEST_F(KillOomGroupTest, HighestSetAncestorInsideTheDomainWins) {
  setOomGroup("/a/b/c", "1\n");
  setOomGroup("/a", "1\n");

  auto global = findOomGroup(v2(), "/a/b/c", "/");
  auto memcg = findOomGroup(v2(), "/a/b/c", "/a/b");

  ASSERT_TRUE(global) << global.error().message;
  EXPECT_EQ(*global, "/a");
  ASSERT_TRUE(memcg) << memcg.error().message;
  EXPECT_EQ(*memcg, "/a/b/c");  // /a lies above the OOM domain
}

TEST_F(KillOomGroupTest, VictimOutsideTheDomainOrInTheRootHasNoGroup) {
  setOomGroup("/a", "1\n");
  fs::create_directories(root_ / "x");

  auto outside = findOomGroup(v2(), "/a/b", "/x");
  auto in_root = findOomGroup(v2(), "/", "/");

  ASSERT_TRUE(outside && in_root);
  EXPECT_EQ(*outside, std::nullopt);
  EXPECT_EQ(*in_root, std::nullopt);
}

TEST_F(KillOomGroupTest, CgroupV1NeverHasAGroup) {
  setOomGroup("/a", "1\n");
  const MemoryHierarchy v1{core::CgroupVersion::kV1, root_.string(), "/"};

  auto group = findOomGroup(v1, "/a/b", "/");

  ASSERT_TRUE(group);
  EXPECT_EQ(*group, std::nullopt);
}

TEST_F(KillOomGroupTest, MissingFileCountsAsZeroAndGarbageIsAParseError) {
  fs::remove(root_ / "a/b/memory.oom.group");
  setOomGroup("/a/b/c", "1\n");
  auto group = findOomGroup(v2(), "/a/b/c", "/");
  ASSERT_TRUE(group) << group.error().message;
  EXPECT_EQ(*group, "/a/b/c");

  setOomGroup("/a", "yes\n");
  auto bad = findOomGroup(v2(), "/a/b/c", "/");

  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kParse);
  EXPECT_NE(bad.error().message.find("a/memory.oom.group"), std::string::npos);
}

TEST_F(KillOomGroupTest, MountRootLimitsTheWalk) {
  // A cgroup namespace or container: the mount shows "/ns" at its top, so cgroups above it
  // cannot be looked at (and could not be killed from here).
  setOomGroup("/a", "1\n");
  const MemoryHierarchy nested{core::CgroupVersion::kV2, (root_ / "a").string(), "/a"};

  auto group = findOomGroup(nested, "/a/b/c", "/");

  ASSERT_TRUE(group) << group.error().message;
  EXPECT_EQ(*group, "/a");
}

TEST_F(KillOomGroupTest, TreePidsIncludeEverySubCgroup) {
  writeProcs("/a", "10\n11\n");
  writeProcs("/a/b", "");
  writeProcs("/a/b/c", "12\n");

  auto pids = listCgroupTreePids((root_ / "a").string());

  ASSERT_TRUE(pids) << pids.error().message;
  std::sort(pids->begin(), pids->end());
  EXPECT_EQ(*pids, (std::vector<int32_t>{10, 11, 12}));
}

TEST_F(KillOomGroupTest, TreePidsOfAMissingCgroupIsNotFound) {
  auto pids = listCgroupTreePids((root_ / "gone").string());

  ASSERT_FALSE(pids);
  EXPECT_EQ(pids.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace oomkit::sys
