// Live tests of sys::StandIn, the process the daemon's rehearsal kills: a real fork of this
// test, signalled only by the test or by the StandIn itself (it is our own child).
#include "oomkit/sys/stand_in.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/process_handle.h"

#include "support/file_io.h"

namespace oomkit::test {
namespace {

using std::chrono::milliseconds;

class StandInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto proc = sys::ProcReader::open("/proc");
    ASSERT_TRUE(proc) << proc.error().message;
    proc_.emplace(std::move(*proc));
  }

  sys::StandIn start() {
    auto stand_in = sys::StandIn::start(*proc_);
    EXPECT_TRUE(stand_in) << stand_in.error().message;
    if (!stand_in) throw std::runtime_error("no stand-in");
    return std::move(*stand_in);
  }

  std::optional<sys::ProcReader> proc_;
};

// /proc/PID/stat's fourth field (after the parenthesised comm).
int32_t parentOf(int32_t pid) {
  const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat").value_or("");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  return std::stoi(stat.substr(close + 4));
}

// True once the stand-in has run its set-up, which ends with the rename.
bool renamed(int32_t pid) {
  for (int i = 0; i < 200; ++i) {
    if (readFile("/proc/" + std::to_string(pid) + "/comm").value_or("") == "oomkit-stand-in\n") {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

TEST_F(StandInTest, IsAChildOfOursScoredToBeKilledThatWaits) {
  sys::StandIn stand_in = start();
  const core::Process& p = stand_in.process();

  EXPECT_GT(p.pid, 0);
  EXPECT_NE(p.pid, ::getpid());
  EXPECT_EQ(p.oom_score_adj, 1000);  // the daemon's -1000 would make the killer refuse it
  EXPECT_GT(p.start_time_ticks, 0u);
  EXPECT_EQ(parentOf(p.pid), ::getpid());
  EXPECT_TRUE(renamed(p.pid));
  // It waits: still there a moment later.
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(::waitpid(p.pid, nullptr, WNOHANG), 0);
}

TEST_F(StandInTest, OutlivesEverySignalButSigkill) {
  sys::StandIn stand_in = start();
  auto handle =
      sys::ProcessHandle::open(*proc_, stand_in.pid(), stand_in.process().start_time_ticks);
  ASSERT_TRUE(handle) << handle.error().message;

  for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGALRM})
    ASSERT_TRUE(handle->kill(sig));
  EXPECT_FALSE(handle->waitExit(milliseconds(100)));
  ASSERT_TRUE(handle->kill(SIGKILL));
  EXPECT_TRUE(handle->waitExit(milliseconds(5000)));

  int status = 0;
  ASSERT_EQ(::waitpid(stand_in.pid(), &status, 0), stand_in.pid());
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST_F(StandInTest, HoldsNoneOfOurFiles) {
  const int ours = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);  // a fork keeps every fd
  ASSERT_GE(ours, 3);
  sys::StandIn stand_in = start();
  ::close(ours);
  ASSERT_TRUE(renamed(stand_in.pid()));  // its files are dropped before

  std::vector<int> fds;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(stand_in.pid()) + "/fd")) {
    fds.push_back(std::stoi(entry.path().filename().string()));
  }
  for (const int fd : fds)
    EXPECT_LT(fd, 3) << "the stand-in holds fd " << fd;
}

TEST_F(StandInTest, GoingOutOfScopeKillsAndReapsIt) {
  int32_t pid = 0;
  {
    sys::StandIn stand_in = start();
    pid = stand_in.pid();
    sys::StandIn moved = std::move(stand_in);  // the moved-from one must not reap it twice
    EXPECT_EQ(moved.pid(), pid);
    EXPECT_EQ(stand_in.pid(), 0);  // NOLINT(bugprone-use-after-move): the state after a move
  }
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD) << "still a child of ours: not reaped";
}

}  // namespace
}  // namespace oomkit::test
