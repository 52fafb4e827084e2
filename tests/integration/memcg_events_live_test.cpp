// Live tests of memcg OOM events and takeover on a real cgroup v1 memory cgroup (TestMemcg,
// 64 MiB, no swap): the eventfd registered through cgroup.event_control fires when a process
// in the cgroup hits the limit (Documentation/admin-guide/cgroup-v1/memory.rst "OOM Control");
// with oom_kill_disable=1 the process waits at the limit (under_oom 1) until this test kills
// it; Takeover sets and restores oom_kill_disable and repairs a dead owner's setting. Only
// processes this test started are signalled, and every cgroup ends with oom_kill_disable=0
// (Takeover restores it, TestMemcg writes 0 before removing the cgroup).
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/memcg_events.h"
#include "oomkit/core/procfs.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/memcg_events.h"
#include "oomkit/sys/oom_state.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/takeover.h"

#include "support/file_io.h"
#include "support/memcg.h"
#include "support/subprocess.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr uint64_t kLimit = 64ULL << 20;
constexpr int kOomTimeoutMs = 10000;
constexpr milliseconds kExitTimeout{10000};

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

class MemcgEventsLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::TestMemcg::skipReason().empty()) GTEST_SKIP() << test::TestMemcg::skipReason();
    auto memcg = test::TestMemcg::create(kLimit);
    ASSERT_TRUE(memcg) << memcg.error().message;
    memcg_.emplace(std::move(*memcg));
    if (memcg_->version() != test::CgroupVersion::kV1) {
      GTEST_SKIP() << "needs the cgroup v1 memory controller (oom_control, event_control)";
    }
    auto proc = ProcReader::open("/proc");
    ASSERT_TRUE(proc) << proc.error().message;
    auto hierarchy = findMemoryHierarchy(*proc, {});
    ASSERT_TRUE(hierarchy) << hierarchy.error().message;
    hierarchy_ = *hierarchy;
    std::string templ = (fs::temp_directory_path() / "oomkit-takeover-live-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    state_dir_ = templ;
    auto state = OomState::open(state_dir_);
    ASSERT_TRUE(state) << state.error().message;
    state_.emplace(std::move(*state));
  }
  void TearDown() override {
    memcg_.reset();  // kills our processes, writes oom_kill_disable 0, removes the cgroup
    if (!state_dir_.empty()) fs::remove_all(state_dir_);
  }

  // oomkit-testproc in the cgroup touching 100 MiB: it reaches the 64 MiB limit. No ready
  // wait: the ready byte comes only after the allocation, which never completes.
  test::TestProcess spawnHog() {
    test::SpawnOptions options;
    options.wait_ready = false;
    auto hog = test::TestProcess::spawn(
        {OOMKIT_TESTPROC, "--cgroup-procs", memcg_->procsFile(), "--anon", "100"}, options);
    EXPECT_TRUE(hog) << hog.error().message;
    return std::move(*hog);
  }
  core::OomControlV1 oomControl() const {
    auto text = test::readFile(memcg_->file("memory.oom_control"));
    EXPECT_TRUE(text) << text.error().message;
    auto control = core::parseOomControl(text ? *text : "");
    EXPECT_TRUE(control) << control.error().message;
    return control ? *control : core::OomControlV1{};
  }
  std::string recordPath() const {
    return state_dir_ + "/" + OomState::scopeKey(memcg_->path()) + ".takeover";
  }
  // Takes the cgroup over in a child process that then exits without releasing: a daemon that
  // crashed while holding it. Returns the child's (now free) pid.
  pid_t engageAndDie() {
    const pid_t child = ::fork();
    if (child == 0) {
      auto takeover = Takeover::engage(*state_, hierarchy_, memcg_->path());
      ::_exit(takeover ? 0 : 1);  // no destructor runs: the record and the 1 stay
    }
    int status = 0;
    EXPECT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    return child;
  }

  std::optional<test::TestMemcg> memcg_;
  MemoryHierarchy hierarchy_;
  std::string state_dir_;
  std::optional<OomState> state_;
};

TEST_F(MemcgEventsLiveTest, EventfdFiresWhenTheKernelOomKillsInTheCgroup) {
  auto events = MemcgOomEvents::open(hierarchy_, memcg_->path());
  ASSERT_TRUE(events) << events.error().message;
  EXPECT_FALSE(readable(events->fd(), 0));

  test::TestProcess hog = spawnHog();
  ASSERT_TRUE(readable(events->fd(), kOomTimeoutMs)) << "no OOM event within 10 s";
  auto first = events->onReadable();
  auto exit = hog.waitExit(kExitTimeout);
  auto after = events->onReadable();

  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->version, core::CgroupVersion::kV1);
  EXPECT_GE(first->notifications, 1u);
  EXPECT_TRUE(first->outOfMemory());
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_TRUE(exit->killedBy(SIGKILL)) << exit->describe();
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_FALSE(after->under_oom);
  auto kills = memcg_->oomKillCount();
  ASSERT_TRUE(kills) << kills.error().message;
  EXPECT_GE(*kills, 1u);
  EXPECT_EQ(first->oom_kill + after->oom_kill, *kills);
}

TEST_F(MemcgEventsLiveTest, WithOomKillDisabledTheTaskWaitsUnderOom) {
  ASSERT_TRUE(memcg_->setOomKillDisable(true));
  auto events = MemcgOomEvents::open(hierarchy_, memcg_->path());
  ASSERT_TRUE(events) << events.error().message;

  test::TestProcess hog = spawnHog();
  ASSERT_TRUE(readable(events->fd(), kOomTimeoutMs)) << "no OOM event within 10 s";
  auto waiting = events->onReadable();
  auto still_running = hog.waitExit(milliseconds(200));
  ASSERT_TRUE(hog.kill(SIGKILL));
  auto exit = hog.waitExit(kExitTimeout);
  ASSERT_TRUE(memcg_->setOomKillDisable(false));
  auto resolved = events->onReadable();

  ASSERT_TRUE(waiting) << waiting.error().message;
  EXPECT_GE(waiting->notifications, 1u);
  EXPECT_TRUE(waiting->under_oom);
  EXPECT_EQ(waiting->oom_kill, 0u);
  ASSERT_FALSE(still_running) << "the kernel must not kill with oom_kill_disable=1";
  EXPECT_EQ(still_running.error().code, Errc::kUnavailable);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_TRUE(exit->killedBy(SIGKILL)) << exit->describe();
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_FALSE(resolved->under_oom);
  EXPECT_EQ(resolved->oom_kill, 0u);
  EXPECT_EQ(memcg_->oomKillCount().value_or(99), 0u);
}

TEST_F(MemcgEventsLiveTest, EventfdSeesAnAncestorsLimitButNotADescendantsOwn) {
  // mem_cgroup_oom_notify() signals the subtree of the cgroup whose limit was hit.
  const std::string child_dir = memcg_->file("child");
  ASSERT_EQ(::mkdir(child_dir.c_str(), 0755), 0) << child_dir;
  ASSERT_TRUE(test::writeFile(child_dir + "/memory.limit_in_bytes", std::to_string(kLimit / 2)));
  auto parent = MemcgOomEvents::open(hierarchy_, memcg_->path());
  auto child = MemcgOomEvents::open(hierarchy_, memcg_->path() + "/child");
  ASSERT_TRUE(parent) << parent.error().message;
  ASSERT_TRUE(child) << child.error().message;
  test::SpawnOptions options;
  options.wait_ready = false;
  const std::vector<std::string> hog = {OOMKIT_TESTPROC, "--cgroup-procs",
                                        child_dir + "/cgroup.procs", "--anon", "100"};

  // The child's own 32 MiB limit: only the child's listener hears it.
  auto first = test::TestProcess::spawn(hog, options);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(readable(child->fd(), kOomTimeoutMs));
  ASSERT_TRUE(first->waitExit(kExitTimeout));
  EXPECT_FALSE(readable(parent->fd(), 100)) << "a descendant's own limit is not the parent's OOM";
  ASSERT_TRUE(child->onReadable());

  // Without the child's limit the parent's 64 MiB is hit: both hear it.
  ASSERT_TRUE(test::writeFile(child_dir + "/memory.limit_in_bytes", "-1"));
  auto second = test::TestProcess::spawn(hog, options);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(readable(parent->fd(), kOomTimeoutMs));
  EXPECT_TRUE(readable(child->fd(), kOomTimeoutMs)) << "an ancestor's OOM reaches the child";
  ASSERT_TRUE(second->waitExit(kExitTimeout));
}

TEST_F(MemcgEventsLiveTest, EventfdReportsTheRemovalOfTheCgroup) {
  auto events = MemcgOomEvents::open(hierarchy_, memcg_->path());
  ASSERT_TRUE(events) << events.error().message;

  ASSERT_TRUE(memcg_->destroy());
  ASSERT_TRUE(readable(events->fd(), kOomTimeoutMs)) << "no event on rmdir";
  auto gone = events->onReadable();

  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::kNotFound) << gone.error().message;
  EXPECT_NE(gone.error().message.find("memory.oom_control"), std::string::npos);
}

TEST_F(MemcgEventsLiveTest, TakeoverEngageSetsOneAndReleaseRestoresZero) {
  auto takeover = Takeover::engage(*state_, hierarchy_, memcg_->path());
  ASSERT_TRUE(takeover) << takeover.error().message;
  EXPECT_TRUE(takeover->engaged());
  EXPECT_FALSE(takeover->originalOomKillDisable());
  EXPECT_TRUE(oomControl().oom_kill_disable);
  auto record = test::readFile(recordPath());
  ASSERT_TRUE(record) << record.error().message;
  EXPECT_EQ(test::findKeyedValue(*record, "pid"), static_cast<uint64_t>(::getpid()));
  EXPECT_EQ(test::findKeyedValue(*record, "oom_kill_disable"), 0u);
  EXPECT_NE(record->find("\ncgroup " + memcg_->path() + "\n"), std::string::npos) << *record;

  ASSERT_TRUE(takeover->release());
  EXPECT_FALSE(takeover->engaged());
  EXPECT_FALSE(oomControl().oom_kill_disable);
  EXPECT_FALSE(fs::exists(recordPath()));
  EXPECT_TRUE(takeover->release()) << "release is idempotent";
}

TEST_F(MemcgEventsLiveTest, TakeoverDestructorReleasesAndKeepsAnOriginalOne) {
  {
    auto takeover = Takeover::engage(*state_, hierarchy_, memcg_->path());
    ASSERT_TRUE(takeover) << takeover.error().message;
    EXPECT_TRUE(oomControl().oom_kill_disable);
  }
  EXPECT_FALSE(oomControl().oom_kill_disable);
  EXPECT_FALSE(fs::exists(recordPath()));

  ASSERT_TRUE(memcg_->setOomKillDisable(true));
  {
    auto takeover = Takeover::engage(*state_, hierarchy_, memcg_->path());
    ASSERT_TRUE(takeover) << takeover.error().message;
    EXPECT_TRUE(takeover->originalOomKillDisable());
  }
  EXPECT_TRUE(oomControl().oom_kill_disable) << "the original 1 is written back";
  ASSERT_TRUE(memcg_->setOomKillDisable(false));
}

TEST_F(MemcgEventsLiveTest, TakeoverRefusesASecondLiveOwner) {
  auto first = Takeover::engage(*state_, hierarchy_, memcg_->path());
  ASSERT_TRUE(first) << first.error().message;

  auto second = Takeover::engage(*state_, hierarchy_, memcg_->path());

  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kInvalidArgument);
  EXPECT_NE(second.error().message.find("already taken over by pid " + std::to_string(::getpid())),
            std::string::npos)
      << second.error().message;
  EXPECT_TRUE(oomControl().oom_kill_disable);
  EXPECT_TRUE(fs::exists(recordPath()));
  ASSERT_TRUE(first->release());
  EXPECT_FALSE(oomControl().oom_kill_disable);
}

TEST_F(MemcgEventsLiveTest, TakeoverHandsTheOomToUs) {
  auto takeover = Takeover::engage(*state_, hierarchy_, memcg_->path());
  ASSERT_TRUE(takeover) << takeover.error().message;
  auto events = MemcgOomEvents::open(hierarchy_, memcg_->path());
  ASSERT_TRUE(events) << events.error().message;

  test::TestProcess hog = spawnHog();
  ASSERT_TRUE(readable(events->fd(), kOomTimeoutMs)) << "no OOM event within 10 s";
  auto waiting = events->onReadable();
  ASSERT_TRUE(hog.kill(SIGKILL));  // oomkit's part: here the test's own process
  auto exit = hog.waitExit(kExitTimeout);
  auto released = takeover->release();

  ASSERT_TRUE(waiting) << waiting.error().message;
  EXPECT_TRUE(waiting->under_oom);
  ASSERT_TRUE(exit) << exit.error().message;
  EXPECT_TRUE(exit->killedBy(SIGKILL)) << exit->describe();
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_FALSE(oomControl().oom_kill_disable);
  EXPECT_EQ(memcg_->oomKillCount().value_or(99), 0u) << "the kernel killed nothing";
}

TEST_F(MemcgEventsLiveTest, TakeoverRepairStaleRestoresACrashedOwner) {
  const pid_t dead = engageAndDie();
  ASSERT_TRUE(oomControl().oom_kill_disable);
  ASSERT_TRUE(fs::exists(recordPath()));

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("restored oom_kill_disable=0 on " + memcg_->path()), std::string::npos)
      << messages[0];
  EXPECT_NE(messages[0].find("pid " + std::to_string(dead)), std::string::npos) << messages[0];
  EXPECT_FALSE(oomControl().oom_kill_disable);
  EXPECT_FALSE(fs::exists(recordPath()));
}

TEST_F(MemcgEventsLiveTest, TakeoverRepairStaleRestoresAReusedPid) {
  // Our own pid with another start time: the pid now names another process than the owner.
  auto stat = test::readFile("/proc/self/stat");
  ASSERT_TRUE(stat);
  auto self = core::parseProcStat(*stat);
  ASSERT_TRUE(self);
  ASSERT_TRUE(memcg_->setOomKillDisable(true));
  {
    std::FILE* f = std::fopen(recordPath().c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "pid %d\nstart_time %llu\noom_kill_disable 0\ncgroup %s\n", ::getpid(),
                 static_cast<unsigned long long>(self->start_time_ticks + 1),
                 memcg_->path().c_str());
    std::fclose(f);
  }

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  EXPECT_EQ(messages.size(), 1u);
  EXPECT_FALSE(oomControl().oom_kill_disable);
  EXPECT_FALSE(fs::exists(recordPath()));
}

TEST_F(MemcgEventsLiveTest, TakeoverRepairStaleLeavesALiveOwnerAlone) {
  auto takeover = Takeover::engage(*state_, hierarchy_, memcg_->path());
  ASSERT_TRUE(takeover) << takeover.error().message;

  const auto messages = Takeover::repairStale(*state_, hierarchy_);

  EXPECT_TRUE(messages.empty()) << messages[0];
  EXPECT_TRUE(oomControl().oom_kill_disable);
  EXPECT_TRUE(fs::exists(recordPath()));
  ASSERT_TRUE(takeover->release());
  EXPECT_FALSE(oomControl().oom_kill_disable);
}

TEST_F(MemcgEventsLiveTest, TakeoverEngageRepairsACrashedOwnerFirst) {
  engageAndDie();
  ASSERT_TRUE(oomControl().oom_kill_disable);

  auto takeover = Takeover::engage(*state_, hierarchy_, memcg_->path());

  ASSERT_TRUE(takeover) << takeover.error().message;
  EXPECT_FALSE(takeover->originalOomKillDisable()) << "the dead owner's original, not its 1";
  EXPECT_TRUE(oomControl().oom_kill_disable);
  auto record = test::readFile(recordPath());
  ASSERT_TRUE(record);
  EXPECT_EQ(test::findKeyedValue(*record, "pid"), static_cast<uint64_t>(::getpid()));
  ASSERT_TRUE(takeover->release());
  EXPECT_FALSE(oomControl().oom_kill_disable);
}

}  // namespace
}  // namespace oomkit::sys
