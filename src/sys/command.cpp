// sys/command.cpp — runCommand(): starts a configured command with posix_spawn, captures its
// standard output through a pipe and waits for it on a pidfd until it exits or times out.
//
// posix_spawn rather than fork: glibc spawns with CLONE_VM | CLONE_VFORK, so starting a command
// copies no page tables and commits no memory — it runs precisely when memory is short — and
// it reports the exec errno itself. The price is no PR_SET_PDEATHSIG in the child: a command
// outlives a daemon that crashes while it runs, until it ends by itself.
#include "oomkit/sys/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "oomkit/core/config_values.h"
#include "oomkit/sys/files.h"

extern char** environ;  // NOLINT: POSIX declares it nowhere

namespace oomkit::sys {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using Environment = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kReadChunk = 16 * 1024;
// After the child exited, what is still in the pipe is read without waiting; a descendant that
// keeps writing must not keep us there, so that read stops after the largest pipe buffer
// (/proc/sys/fs/pipe-max-size's default).
constexpr size_t kFinalDrainLimit = 1024 * 1024;

// One file descriptor, closed when it goes out of scope.
class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void adopt(int fd) {
    reset();
    fd_ = fd;
  }

 private:
  int fd_;
};

// glibc 2.36's <sys/pidfd.h> is not C++-safe (no extern "C"): call the system calls directly.
int pidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0u));
}

void pidfdSignal(int pidfd, int sig) {
  (void)::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0u);
}

// The pipe for the child's stdout, both ends CLOEXEC and above 2: the child's dup2 onto 0 and
// 1 must not clobber an end that happens to be a standard descriptor (a daemon without them).
Status makeOutputPipe(OwnedFd& read_end, OwnedFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return Unexpected(systemError("pipe2", errno));
  read_end.adopt(fds[0]);
  write_end.adopt(fds[1]);
  for (OwnedFd* end : {&read_end, &write_end}) {
    if (end->get() > 2) continue;
    const int moved = ::fcntl(end->get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) return Unexpected(systemError("fcntl(F_DUPFD_CLOEXEC)", errno));
    end->adopt(moved);
  }
  // Only our end is non-blocking: the child gets an ordinary blocking stdout.
  const int flags = ::fcntl(write_end.get(), F_GETFL);
  if (flags < 0 || ::fcntl(write_end.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Unexpected(systemError("fcntl(F_SETFL)", errno));
  }
  return Ok{};
}

bool overridden(std::string_view entry, const Environment& extra) {
  const std::string_view name = entry.substr(0, entry.find('='));
  for (const auto& [extra_name, value] : extra) {
    if (extra_name == name) return true;
  }
  return false;
}

// "NAME=value" strings: our environment without the names `extra` sets, then `extra`.
std::vector<std::string> buildEnvironment(const Environment& extra) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    if (!overridden(*entry, extra)) entries.emplace_back(*entry);
  }
  for (const auto& [name, value] : extra)
    entries.push_back(name + "=" + value);
  return entries;
}

// The null-terminated pointer array exec wants; valid while `strings` is.
std::vector<char*> pointersTo(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// posix_spawn's file actions and attributes, destroyed when done.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }

  // stdin /dev/null, stdout the pipe, stderr ours. Default signal dispositions and an empty
  // mask: the daemon's blocked or ignored signals (a signalfd's, SIGPIPE) are not the
  // command's business. A process group of its own, so that a timeout reaches its children.
  // Returns 0 or an errno.
  int prepare(int stdout_fd) {
    sigset_t none;
    sigset_t all;
    ::sigemptyset(&none);
    ::sigfillset(&all);
    const auto flags =
        static_cast<short>(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    int err = ::posix_spawn_file_actions_adddup2(&actions_, stdout_fd, STDOUT_FILENO);
    if (err == 0) {
      err = ::posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    if (err == 0) err = ::posix_spawnattr_setsigmask(&attr_, &none);
    if (err == 0) err = ::posix_spawnattr_setsigdefault(&attr_, &all);
    if (err == 0) err = ::posix_spawnattr_setpgroup(&attr_, 0);
    if (err == 0) err = ::posix_spawnattr_setflags(&attr_, flags);
    return err;
  }

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

Error startError(const std::string& program, int err) {
  return Error{Errc::kIo, "cannot start " + program + ": " + std::strerror(err), err};
}

Result<pid_t> spawnChild(const std::vector<std::string>& argv, const Environment& env,
                         int stdout_fd) {
  SpawnSetup setup;
  if (const int err = setup.prepare(stdout_fd); err != 0)
    return Unexpected(startError(argv[0], err));
  std::vector<std::string> args = argv;
  std::vector<std::string> environment = buildEnvironment(env);
  std::vector<char*> arg_pointers = pointersTo(args);
  std::vector<char*> env_pointers = pointersTo(environment);
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, argv[0].c_str(), setup.actions(), setup.attr(),
                                arg_pointers.data(), env_pointers.data());
  if (err != 0) return Unexpected(startError(argv[0], err));
  return pid;
}

// The child's standard output as it arrives: the first kMaxCapturedOutput bytes are kept.
struct OutputSink {
  std::string text;
  bool truncated = false;

  void append(const char* data, size_t size) {
    const size_t room = kMaxCapturedOutput - text.size();
    if (size > room) truncated = true;
    text.append(data, std::min(size, room));
  }
};

// Reads what is available from the non-blocking `fd`, at most `limit` bytes; closes it at end
// of file or on an error.
void readAvailable(OwnedFd& fd, OutputSink& sink, size_t limit) {
  std::array<char, kReadChunk> buffer;
  size_t total = 0;
  while (fd.valid() && total < limit) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n > 0) {
      sink.append(buffer.data(), static_cast<size_t>(n));
      total += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      fd.reset();
    }
  }
}

int msUntil(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, INT32_MAX));
}

// Reads the output until the child exits (true) or the deadline passes (false).
bool waitForExit(int pidfd, OwnedFd& output, OutputSink& sink, Clock::time_point deadline) {
  for (;;) {
    const int wait_ms = msUntil(deadline);
    std::array<pollfd, 2> fds = {{{pidfd, POLLIN, 0}, {output.get(), POLLIN, 0}}};
    const int n = ::poll(fds.data(), fds.size(), wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;  // cannot wait (EINVAL, ENOMEM): give up as on a timeout
    if (fds[1].revents != 0) readAvailable(output, sink, kReadChunk);
    if (fds[0].revents != 0) return true;
    if (wait_ms == 0) return false;
  }
}

// SIGKILL to the child's process group (what it started and kept in its group) and to the
// child itself (in case it left the group). Both are safe: the child is not reaped yet, so its
// pid, which is also its group's id, cannot have been reused.
void killChild(int pidfd, pid_t pid) {
  (void)::kill(-pid, SIGKILL);
  pidfdSignal(pidfd, SIGKILL);
}

// Waits for the child to be gone and records how it ended.
void reap(pid_t pid, CommandResult& result) {
  int status = 0;
  pid_t got = -1;
  do {
    got = ::waitpid(pid, &status, 0);
  } while (got < 0 && errno == EINTR);
  if (got != pid) return;  // ECHILD: SIGCHLD is ignored and the kernel reaped it
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
}

// Without a pidfd the child cannot be waited for with a timeout: it is killed and reaped.
Error noPidfd(const std::string& program, pid_t pid) {
  const int err = errno;
  (void)::kill(-pid, SIGKILL);
  (void)::kill(pid, SIGKILL);
  CommandResult ignored;
  reap(pid, ignored);
  Error error = systemError("pidfd_open for " + program, err);
  if (err == ENOSYS) error.code = Errc::kUnavailable;
  return error;
}

}  // namespace

std::string CommandResult::describe() const {
  if (timed_out) return "timed out after " + core::formatDuration(timeout);
  if (exit_code) return "exit code " + std::to_string(*exit_code);
  if (signal) {
    const char* name = ::sigdescr_np(*signal);
    return "killed by signal " + std::to_string(*signal) + " (" +
           (name != nullptr ? name : "unknown signal") + ")";
  }
  return "no exit status";
}

Result<CommandResult> runCommand(const std::vector<std::string>& argv, const Environment& env,
                                 milliseconds timeout) {
  if (argv.empty()) return makeError(Errc::kInvalidArgument, "run command: empty argv");
  if (argv[0].empty() || argv[0].front() != '/') {
    return makeError(
        Errc::kInvalidArgument,
        "run command: " + argv[0] + " is not an absolute path (there is no PATH search)");
  }
  const auto start = Clock::now();
  OwnedFd output;
  OwnedFd child_output;
  if (auto made = makeOutputPipe(output, child_output); !made) {
    return Unexpected(made.error().wrap("cannot start " + argv[0]));
  }
  auto pid = spawnChild(argv, env, child_output.get());
  if (!pid) return Unexpected(std::move(pid).error());
  child_output.reset();  // the child holds the only write end: end of file when it is done
  OwnedFd pidfd(pidfdOpen(*pid));
  if (!pidfd.valid()) return Unexpected(noPidfd(argv[0], *pid));

  CommandResult result;
  result.timeout = timeout;
  OutputSink sink;
  if (!waitForExit(pidfd.get(), output, sink, start + timeout)) {
    killChild(pidfd.get(), *pid);
    result.timed_out = true;
  }
  readAvailable(output, sink, kFinalDrainLimit);
  reap(*pid, result);
  result.output = std::move(sink.text);
  result.output_truncated = sink.truncated;
  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  return result;
}

}  // namespace oomkit::sys
