// oomkit/sys/command.h — runs a configured command (an exec handler, an exec panic action) to
// completion, with a timeout, extra environment and its standard output captured.
//
// No shell and no PATH search: argv[0] is an absolute path (validateConfig() requires it). The
// child gets /dev/null as stdin, a pipe as stdout (the first kMaxCapturedOutput bytes are kept,
// the rest is read and dropped so the child never blocks on a full pipe) and inherits stderr.
// The child is tracked by a pidfd; on timeout it is SIGKILLed through that pidfd (it is our own
// child: nothing else can be signalled) and reaped. The child leads a process group of its own,
// and the timeout kills that group too, so that what a script started does not outlive it. The
// wait ends when the child exits: output that descendants still write after that is not waited
// for. Thread-safe (no shared state; the environment is read, never changed).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oomkit/result.h"

namespace oomkit::sys {

inline constexpr size_t kMaxCapturedOutput = 64 * 1024;

struct CommandResult {
  std::optional<int> exit_code;  // it exited with this code
  std::optional<int> signal;     // a signal killed it (SIGKILL after a timeout)
  bool timed_out = false;
  std::string output;             // standard output, at most kMaxCapturedOutput bytes
  bool output_truncated = false;  // more was written and dropped: `output` lacks its end
  std::chrono::milliseconds elapsed{0};
  std::chrono::milliseconds timeout{0};  // the limit it ran under, for describe()

  // "exit code 0", "killed by signal 9 (Killed)", "timed out after 10s".
  std::string describe() const;
};

// Runs argv (argv[0] an absolute path) with our environment plus `env` (a pair overrides a
// variable of the same name) until it exits or `timeout` passes. Errc::kInvalidArgument for an
// empty argv or a relative program; kIo when the command cannot be started (the message names the
// program and the errno, Error::sys_errno holds it), e.g. it does not exist or is not executable;
// kUnavailable without pidfd_open (Linux before 5.3; the child is then killed and reaped).
Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                 const std::vector<std::pair<std::string, std::string>>& env,
                                 std::chrono::milliseconds timeout);

}  // namespace oomkit::sys
