// Tests for sys::Takeover on fake cgroup trees in a temp dir: the refusals that need no kernel
// (cgroup v2, the root cgroup, a missing cgroup) and repairStale()'s handling of records
// (Documentation/admin-guide/cgroup-v1/memory.rst "OOM Control"). A fake memory.oom_control
// is an empty regular file, so the value written back reads as the whole file. engage() on a
// real memcg: tests/integration/memcg_events_live_test.cpp.
#include "oomkit/sys/takeover.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"
#include "oomkit/core/scope.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/oom_state.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void spit(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

uint64_t ownStartTime() {
  auto text = readFile("/proc/self/stat");
  EXPECT_TRUE(text);
  auto stat = core::parseProcStat(text ? *text : "");
  EXPECT_TRUE(stat);
  return stat ? stat->start_time_ticks : 0;
}

// A pid that named a process of ours which has exited and been reaped.
pid_t deadPid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

std::string record(pid_t pid, uint64_t start_time, int original, const std::string& cgroup) {
  return "pid " + std::to_string(pid) + "\nstart_time " + std::to_string(start_time) +
         "\noom_kill_disable " + std::to_string(original) + "\ncgroup " + cgroup + "\n";
}

class TakeoverFakeTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "oomkit-takeover-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    fs::create_directories(root_ / "cgroups");
    hierarchy_.version = core::CgroupVersion::kV1;
    hierarchy_.mount_dir = (root_ / "cgroups").string();
    auto state = OomState::open((root_ / "state").string());
    ASSERT_TRUE(state) << state.error().message;
    state_.emplace(std::move(*state));
  }
  void TearDown() override { fs::remove_all(root_); }

  // A fake cgroup whose memory.oom_control is empty; returns that file.
  fs::path makeCgroup(const std::string& name) const {
    fs::create_directories(root_ / "cgroups" / name);
    const fs::path control = root_ / "cgroups" / name / "memory.oom_control";
    spit(control, "");
    return control;
  }
  fs::path recordPath(const std::string& cgroup) const {
    return root_ / "state" / (OomState::scopeKey(cgroup) + ".takeover");
  }

  fs::path root_;
  MemoryHierarchy hierarchy_;
  std::optional<OomState> state_;
};

TEST_F(TakeoverFakeTreeTest, CgroupV2IsUnavailable) {
  hierarchy_.version = core::CgroupVersion::kV2;
  makeCgroup("app");
  auto takeover = Takeover::engage(*state_, hierarchy_, "/app");
  ASSERT_FALSE(takeover);
  EXPECT_EQ(takeover.error().code, Errc::kUnavailable);
  EXPECT_EQ(takeover.error().message,
            "cgroup v2 has no oom_kill_disable; takeover needs cgroup v1");
  EXPECT_FALSE(fs::exists(recordPath("/app")));
}

TEST_F(TakeoverFakeTreeTest, TheRootCgroupIsRefusedBeforeAnyWrite) {
  auto takeover = Takeover::engage(*state_, hierarchy_, "/");
  ASSERT_FALSE(takeover);
  EXPECT_EQ(takeover.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(root_ / "state"));
}

TEST_F(TakeoverFakeTreeTest, AMissingCgroupIsNotFoundAndLeavesNoRecord) {
  auto takeover = Takeover::engage(*state_, hierarchy_, "/gone");
  ASSERT_FALSE(takeover);
  EXPECT_EQ(takeover.error().code, Errc::kNotFound);
  EXPECT_NE(takeover.error().message.find("memory.oom_control"), std::string::npos)
      << takeover.error().message;
  EXPECT_TRUE(fs::is_empty(root_ / "state"));
}

TEST_F(TakeoverFakeTreeTest, RepairStaleRestoresADeadOwnersValue) {
  const fs::path control = makeCgroup("app");
  spit(recordPath("/app"), record(deadPid(), 1, 0, "/app"));

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("restored oom_kill_disable=0 on /app"), std::string::npos)
      << messages[0];
  EXPECT_EQ(slurp(control), "0");
  EXPECT_FALSE(fs::exists(recordPath("/app")));
}

TEST_F(TakeoverFakeTreeTest, RepairStaleTreatsAnotherStartTimeAsAnotherProcess) {
  const fs::path control = makeCgroup("app");
  spit(recordPath("/app"), record(::getpid(), ownStartTime() + 1, 1, "/app"));

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(slurp(control), "1");  // the original value was 1
  EXPECT_FALSE(fs::exists(recordPath("/app")));
}

TEST_F(TakeoverFakeTreeTest, RepairStaleLeavesALiveOwnerAlone) {
  const fs::path control = makeCgroup("app");
  const std::string text = record(::getpid(), ownStartTime(), 0, "/app");
  spit(recordPath("/app"), text);

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  EXPECT_TRUE(messages.empty());
  EXPECT_EQ(slurp(control), "");
  EXPECT_EQ(slurp(recordPath("/app")), text);
}

TEST_F(TakeoverFakeTreeTest, RepairStaleFindsHostileCgroupNames) {
  const std::string name = "a b\\n\nc";  // a space, a backslash and a real newline
  const fs::path control = makeCgroup(name);
  spit(recordPath("/" + name), record(deadPid(), 1, 0, "/a b\\\\n\\nc"));

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  ASSERT_EQ(messages.size(), 1u) << messages[0];
  EXPECT_EQ(slurp(control), "0");
  EXPECT_FALSE(fs::exists(recordPath("/" + name)));
}

TEST_F(TakeoverFakeTreeTest, RepairStaleDeletesTheRecordOfARemovedCgroup) {
  spit(recordPath("/removed"), record(deadPid(), 1, 0, "/removed"));

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("removed cgroup /removed"), std::string::npos) << messages[0];
  EXPECT_FALSE(fs::exists(recordPath("/removed")));
  EXPECT_FALSE(fs::exists(root_ / "cgroups" / "removed"));
}

TEST_F(TakeoverFakeTreeTest, RepairStaleKeepsWhatItCannotRestore) {
  fs::create_directories(root_ / "cgroups" / "v2-like");  // exists, but has no oom_control
  spit(recordPath("/v2-like"), record(deadPid(), 1, 0, "/v2-like"));
  spit(root_ / "state" / "cg-bad.takeover", "pid x\n");
  spit(root_ / "state" / "cg-app.victims", "not a takeover record\n");

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(fs::exists(recordPath("/v2-like")));
  EXPECT_TRUE(fs::exists(root_ / "state" / "cg-bad.takeover"));
  EXPECT_TRUE(fs::exists(root_ / "state" / "cg-app.victims"));
  bool kept = false;
  bool malformed = false;
  for (const auto& message : messages) {
    kept = kept || message.find("record kept") != std::string::npos;
    malformed = malformed || message.find("not a takeover record") != std::string::npos;
  }
  EXPECT_TRUE(kept);
  EXPECT_TRUE(malformed);
}

}  // namespace
}  // namespace oomkit::sys
