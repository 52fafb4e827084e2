// runCommand() with real /bin/sh commands: exit statuses, environment, captured output and its
// cap, the timeout (for the child and what it started), start failures, and no leaked fds.
#include "oomkit/sys/command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "oomkit/core/text.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kGenerous{20000};

Result<CommandResult> shell(const std::string& script,
                            const std::vector<std::pair<std::string, std::string>>& env = {},
                            milliseconds timeout = kGenerous) {
  return runCommand({"/bin/sh", "-c", script}, env, timeout);
}

std::set<int> openFds(const std::string& dir = "/proc/self/fd") {
  std::set<int> fds;
  for (const auto& entry : fs::directory_iterator(dir)) {
    fds.insert(std::stoi(entry.path().filename().string()));
  }
  return fds;
}

// Gone, or a zombie nobody reaped yet: either way it runs no more.
bool stoppedRunning(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return true;
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && text.compare(paren + 2, 1, "Z") == 0;
}

bool stopsRunningWithin(pid_t pid, milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!stoppedRunning(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

TEST(CommandTest, ReportsTheExitCode) {
  for (int code : {0, 1, 2, 3, 42, 255}) {
    auto ran = shell("exit " + std::to_string(code));

    ASSERT_TRUE(ran) << ran.error().message;
    EXPECT_EQ(ran->exit_code, code);
    EXPECT_EQ(ran->signal, std::nullopt);
    EXPECT_FALSE(ran->timed_out);
    EXPECT_EQ(ran->describe(), "exit code " + std::to_string(code));
  }
}

TEST(CommandTest, ReportsTheSignalThatKilledIt) {
  auto ran = shell("kill -TERM $$; sleep 5");

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->exit_code, std::nullopt);
  EXPECT_EQ(ran->signal, SIGTERM);
  EXPECT_FALSE(ran->timed_out);
  EXPECT_EQ(ran->describe(), "killed by signal 15 (Terminated)");
}

TEST(CommandTest, PassesArgumentsWithoutAShell) {
  auto ran = runCommand({"/bin/echo", "a b", "$HOME", "*"}, {}, kGenerous);

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->output, "a b $HOME *\n");
}

TEST(CommandTest, CapturesStdoutButNotStderr) {
  auto ran = shell("echo out; echo err >&2; printf last");

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->output, "out\nlast");
  EXPECT_FALSE(ran->output_truncated);
}

TEST(CommandTest, StdinIsDevNull) {
  auto ran = shell("readlink /proc/$$/fd/0; cat");

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->output, "/dev/null\n");
  EXPECT_EQ(ran->exit_code, 0);
}

TEST(CommandTest, EnvironmentIsOursPlusTheExtraPairsWhichOverride) {
  ASSERT_EQ(::setenv("OOMKIT_CMDTEST_INHERITED", "ours", 1), 0);
  ASSERT_EQ(::setenv("OOMKIT_CMDTEST_OVERRIDDEN", "old", 1), 0);

  auto ran = shell(
      "printf '%s|%s|%s|' \"$OOMKIT_CMDTEST_INHERITED\" \"$OOMKIT_CMDTEST_OVERRIDDEN\" "
      "\"$OOMKIT_CMDTEST_EXTRA\"; env | grep -c '^OOMKIT_CMDTEST_OVERRIDDEN='",
      {{"OOMKIT_CMDTEST_OVERRIDDEN", "new"}, {"OOMKIT_CMDTEST_EXTRA", "with space"}});
  ::unsetenv("OOMKIT_CMDTEST_INHERITED");
  ::unsetenv("OOMKIT_CMDTEST_OVERRIDDEN");

  ASSERT_TRUE(ran) << ran.error().message;
  // Overridden, not added a second time (which getenv() might or might not see).
  EXPECT_EQ(ran->output, "ours|new|with space|1\n");
}

TEST(CommandTest, OutputBeyondTheCapIsDroppedWithoutBlockingTheChild) {
  auto ran = runCommand({"/usr/bin/head", "-c", "1000000", "/dev/zero"}, {}, kGenerous);

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->exit_code, 0);
  EXPECT_FALSE(ran->timed_out);
  EXPECT_EQ(ran->output.size(), kMaxCapturedOutput);
  EXPECT_EQ(ran->output, std::string(kMaxCapturedOutput, '\0'));
  EXPECT_TRUE(ran->output_truncated);
}

TEST(CommandTest, OutputOfExactlyTheCapIsNotTruncated) {
  auto ran = runCommand({"/usr/bin/head", "-c", std::to_string(kMaxCapturedOutput), "/dev/zero"},
                        {}, kGenerous);

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->output.size(), kMaxCapturedOutput);
  EXPECT_FALSE(ran->output_truncated);
}

TEST(CommandTest, TimeoutKillsTheCommandQuickly) {
  auto ran = runCommand({"/bin/sleep", "30"}, {}, milliseconds(200));

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_TRUE(ran->timed_out);
  EXPECT_EQ(ran->signal, SIGKILL);
  EXPECT_EQ(ran->exit_code, std::nullopt);
  EXPECT_GE(ran->elapsed, milliseconds(200));
  EXPECT_LT(ran->elapsed, milliseconds(5000));
  EXPECT_EQ(ran->describe(), "timed out after 200ms");
}

TEST(CommandTest, TimeoutDescribesTheLimitNotTheElapsedTime) {
  auto ran = runCommand({"/bin/sleep", "30"}, {}, milliseconds(1000));

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_EQ(ran->describe(), "timed out after 1s");
}

TEST(CommandTest, TimeoutAlsoKillsWhatTheCommandStarted) {
  auto ran = shell("/bin/sleep 30 & echo $!; wait", {}, milliseconds(300));

  ASSERT_TRUE(ran) << ran.error().message;
  EXPECT_TRUE(ran->timed_out);
  const auto sleeper = core::parseU64(core::trim(ran->output));
  ASSERT_TRUE(sleeper) << ran->output;
  EXPECT_TRUE(stopsRunningWithin(static_cast<pid_t>(*sleeper), milliseconds(3000)));
}

TEST(CommandTest, ReturnsWhenTheCommandExitsEvenIfADescendantHoldsItsStdout) {
  // The background sleep keeps the pipe's write end open: waiting for end of file would hang.
  auto ran = shell("/bin/sleep 10 & echo $!", {}, milliseconds(5000));

  ASSERT_TRUE(ran) << ran.error().message;
  const auto sleeper = core::parseU64(core::trim(ran->output));
  if (sleeper) ::kill(static_cast<pid_t>(*sleeper), SIGKILL);
  EXPECT_EQ(ran->exit_code, 0);
  EXPECT_FALSE(ran->timed_out);
  EXPECT_TRUE(sleeper.has_value()) << ran->output;
  EXPECT_LT(ran->elapsed, milliseconds(3000));
}

TEST(CommandTest, SignalsTheParentIgnoresOrBlocksAreDefaultInTheChild) {
  struct sigaction ignore {};
  struct sigaction saved {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGUSR1, &ignore, &saved), 0);
  sigset_t block;
  sigset_t saved_mask;
  ::sigemptyset(&block);
  ::sigaddset(&block, SIGUSR2);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &saved_mask), 0);

  auto ignored = shell("kill -USR1 $$; exit 0");
  auto blocked = shell("kill -USR2 $$; exit 0");
  ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
  ::sigaction(SIGUSR1, &saved, nullptr);

  ASSERT_TRUE(ignored && blocked);
  EXPECT_EQ(ignored->signal, SIGUSR1);
  EXPECT_EQ(blocked->signal, SIGUSR2);
}

TEST(CommandTest, AProgramThatDoesNotExistIsAnErrorNamingIt) {
  auto ran = runCommand({"/nonexistent/oomkit-handler", "--x"}, {}, kGenerous);

  ASSERT_FALSE(ran);
  EXPECT_EQ(ran.error().code, Errc::kIo);
  EXPECT_EQ(ran.error().sys_errno, ENOENT);
  EXPECT_NE(ran.error().message.find("/nonexistent/oomkit-handler"), std::string::npos)
      << ran.error().message;
  EXPECT_NE(ran.error().message.find("No such file or directory"), std::string::npos)
      << ran.error().message;
}

TEST(CommandTest, AProgramThatIsNotExecutableIsAnErrorNamingIt) {
  std::string templ = (fs::temp_directory_path() / "oomkit-command-XXXXXX").string();
  const int fd = ::mkstemp(templ.data());
  ASSERT_GE(fd, 0);
  ::close(fd);
  ::chmod(templ.c_str(), 0644);

  auto ran = runCommand({templ}, {}, kGenerous);
  fs::remove(templ);

  ASSERT_FALSE(ran);
  EXPECT_EQ(ran.error().code, Errc::kIo);
  // root may execute a file without x bits only if some x bit is set: EACCES for everyone.
  EXPECT_EQ(ran.error().sys_errno, EACCES);
  EXPECT_NE(ran.error().message.find(templ), std::string::npos) << ran.error().message;
}

TEST(CommandTest, EmptyArgvAndRelativeProgramsAreRejected) {
  auto empty = runCommand({}, {}, kGenerous);
  auto relative = runCommand({"sh", "-c", "exit 0"}, {}, kGenerous);

  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::kInvalidArgument);
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().code, Errc::kInvalidArgument);
}

TEST(CommandTest, LeaksNoDescriptors) {
  const std::set<int> before = openFds();

  ASSERT_TRUE(shell("echo hi"));
  ASSERT_TRUE(runCommand({"/bin/sleep", "30"}, {}, milliseconds(50)));
  ASSERT_TRUE(runCommand({"/usr/bin/head", "-c", "200000", "/dev/zero"}, {}, kGenerous));
  ASSERT_FALSE(runCommand({"/nonexistent/x"}, {}, kGenerous));

  EXPECT_EQ(openFds(), before);
}

TEST(CommandTest, TheChildInheritsNoneOfOurPipesOrPidfds) {
  // What it may have: 0, 1, 2 and whatever the test runner gave us without CLOEXEC.
  std::set<int> allowed = {0, 1, 2};
  for (int fd : openFds()) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) allowed.insert(fd);
  }

  // ls lists the shell's descriptors from a process of its own, so its directory fd is not
  // among them.
  auto ran = shell("/bin/ls /proc/$$/fd");

  ASSERT_TRUE(ran) << ran.error().message;
  std::set<int> seen;
  core::forEachLine(ran->output, [&](std::string_view line) {
    if (auto fd = core::parseU64(line)) seen.insert(static_cast<int>(*fd));
  });
  for (int fd : seen)
    EXPECT_TRUE(allowed.count(fd)) << "the child has fd " << fd;
  EXPECT_TRUE(seen.count(1)) << ran->output;
}

TEST(CommandTest, LeavesNoZombies) {
  auto ran = shell("echo $$");
  ASSERT_TRUE(ran) << ran.error().message;
  const auto pid = core::parseU64(core::trim(ran->output));
  ASSERT_TRUE(pid);

  // Reaped before runCommand returned: no longer a child of ours to wait for.
  errno = 0;
  EXPECT_EQ(::waitpid(static_cast<pid_t>(*pid), nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace oomkit::sys
