// support/subprocess.h — start real child processes from tests, and clean them up.
//
// TestProcess is an RAII handle on one child started with fork+execv (no shell, no PATH
// search): it holds the child's pidfd, optionally captures its stdout/stderr, can wait for a
// one-byte "ready" report on a pipe, and on destruction SIGKILLs the child through its pidfd and
// reaps it. Only children this process started are ever signalled. runCommand() runs a command
// to completion with a timeout and returns its exit status and output (for the `oomkit` CLI);
// spawnTestProcess() starts `oomkit-testproc` and waits until it has allocated its memory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/result.h"

namespace oomkit::test {

// How a child ended: exactly one of exit_code and signal is set.
struct ExitStatus {
  std::optional<int> exit_code;  // it called exit(code)
  std::optional<int> signal;     // a signal killed it

  bool exitedWith(int code) const { return exit_code == code; }
  bool killedBy(int sig) const { return signal == sig; }
  // "exit code 3" or "killed by signal 9 (Killed)".
  std::string describe() const;
};

struct SpawnOptions {
  // Capture stdout and stderr into pipes (read with out()/err()); otherwise they are inherited.
  bool capture_output = true;
  // Append "--ready-fd N" to argv and wait until the child writes a byte to fd N.
  bool wait_ready = false;
  std::chrono::milliseconds ready_timeout{10000};
  // PR_SET_PDEATHSIG(SIGKILL): the child dies if the thread that spawned it exits, so a crashed
  // test run leaves no children behind. Spawn from a thread that outlives the child.
  bool kill_with_parent = true;
};

class TestProcess {
 public:
  // Starts argv[0] (a path: no PATH search) with argv. If options.wait_ready, returns only after
  // the ready byte arrived; an error (with the child's exit status and stderr) if it exited
  // first or did not report within ready_timeout (it is then killed).
  static Result<TestProcess> spawn(const std::vector<std::string>& argv,
                                   const SpawnOptions& options = {});

  TestProcess(TestProcess&& other) noexcept;
  TestProcess& operator=(TestProcess&& other) noexcept;
  TestProcess(const TestProcess&) = delete;
  TestProcess& operator=(const TestProcess&) = delete;
  // SIGKILLs the child if it was not reaped yet, then reaps it (bounded: 10 s).
  ~TestProcess();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_; }
  // True once waitExit() has reaped the child.
  bool reaped() const { return status_.has_value(); }

  // Sends `sig` through the pidfd. kNotFound if the child already exited.
  Status kill(int sig);
  // Waits up to `timeout` for the child to exit and reaps it, reading its output meanwhile.
  // Errc::kUnavailable if it is still running at the deadline. Returns the same status again
  // once reaped.
  Result<ExitStatus> waitExit(std::chrono::milliseconds timeout);
  // Reads whatever output is available now without blocking (a long-running child must not
  // fill its pipes); out()/err() return everything read so far.
  void drainOutput();
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  enum class Ready { kYes, kEof, kTimeout };

  TestProcess() = default;
  void release();
  Ready readReady(int fd, std::chrono::milliseconds timeout);
  Error notReady(Ready ready, std::string_view what);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::optional<ExitStatus> status_;
};

struct CommandResult {
  ExitStatus status;
  bool timed_out = false;  // killed with SIGKILL at the deadline
  std::string out;
  std::string err;
};

// Runs argv to completion (killing it after `timeout`) and returns its status and output.
// An error only if it could not be started.
Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Starts `binary` with `args` plus "--ready-fd N" and waits for its ready byte.
Result<TestProcess> spawnTestProcessAt(const std::string& binary,
                                       const std::vector<std::string>& args,
                                       std::chrono::milliseconds ready_timeout);

#ifdef OOMKIT_TESTPROC
// Starts oomkit-testproc (built alongside the tests) with `args` and waits until it is ready:
// joined its cgroup, set its adj and name, and allocated everything.
inline Result<TestProcess> spawnTestProcess(
    const std::vector<std::string>& args,
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(10)) {
  return spawnTestProcessAt(OOMKIT_TESTPROC, args, ready_timeout);
}
#endif

}  // namespace oomkit::test
