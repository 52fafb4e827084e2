#include "support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace oomkit::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kReapTimeout{10000};

// glibc 2.36's <sys/pidfd.h> lacks extern "C", so call the syscalls directly.
int pidfdOpen(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

int pidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

void closeFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

Error errnoError(std::string_view what) {
  int err = errno;
  return Error{err == ESRCH ? Errc::kNotFound : Errc::kIo,
               std::string(what) + ": " + std::strerror(err), err};
}

// Moves fd to a number >= 3 so the child's dup2 onto 0/1/2 cannot clobber it.
int aboveStdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

// The descriptors of one spawn: parent ends are handed to the TestProcess, the rest are closed.
struct SpawnFds {
  int dev_null = -1;
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  int ready[2] = {-1, -1};

  SpawnFds() = default;
  SpawnFds(const SpawnFds&) = delete;
  SpawnFds& operator=(const SpawnFds&) = delete;
  ~SpawnFds() {
    for (int* fd : {&dev_null, &out[0], &out[1], &err[0], &err[1], &ready[0], &ready[1]}) {
      closeFd(*fd);
    }
  }
  void closeChildEnds() {
    closeFd(dev_null);
    closeFd(out[1]);
    closeFd(err[1]);
    closeFd(ready[1]);
  }
};

Status makePipe(int (&fds)[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return Unexpected(errnoError("pipe2"));
  fds[0] = aboveStdio(fds[0]);
  fds[1] = aboveStdio(fds[1]);
  if (fds[0] < 0 || fds[1] < 0) return Unexpected(errnoError("fcntl(F_DUPFD_CLOEXEC)"));
  return Ok{};
}

Status openFds(SpawnFds& fds, const SpawnOptions& options) {
  fds.dev_null = aboveStdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (fds.dev_null < 0) return Unexpected(errnoError("open /dev/null"));
  if (options.capture_output) {
    if (auto s = makePipe(fds.out); !s) return s;
    if (auto s = makePipe(fds.err); !s) return s;
  }
  if (options.wait_ready) return makePipe(fds.ready);
  return Ok{};
}

// Everything the child needs, prepared before fork(): between fork and exec the child may call
// only async-signal-safe functions, so it must not allocate.
struct ChildPlan {
  std::vector<std::string> args;
  std::vector<char*> argv;
  std::string exec_failed;
  const SpawnFds* fds = nullptr;
  pid_t parent = 0;
  bool kill_with_parent = true;
};

ChildPlan makePlan(const std::vector<std::string>& argv, const SpawnOptions& options,
                   const SpawnFds& fds) {
  ChildPlan plan;
  plan.args = argv;
  if (options.wait_ready) {
    plan.args.push_back("--ready-fd");
    plan.args.push_back(std::to_string(fds.ready[1]));
  }
  for (std::string& arg : plan.args)
    plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  plan.exec_failed = "test support: cannot execute " + argv[0] + "\n";
  plan.fds = &fds;
  plan.parent = getpid();
  plan.kill_with_parent = options.kill_with_parent;
  return plan;
}

[[noreturn]] void runChild(const ChildPlan& plan) {
  if (plan.kill_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != plan.parent) _exit(126);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const SpawnFds& fds = *plan.fds;
  dup2(fds.dev_null, STDIN_FILENO);
  if (fds.out[1] >= 0) dup2(fds.out[1], STDOUT_FILENO);
  if (fds.err[1] >= 0) dup2(fds.err[1], STDERR_FILENO);
  if (fds.ready[1] >= 0) fcntl(fds.ready[1], F_SETFD, 0);  // keep it across exec
  execv(plan.argv[0], plan.argv.data());
  ssize_t ignored = write(STDERR_FILENO, plan.exec_failed.data(), plan.exec_failed.size());
  (void)ignored;
  _exit(127);
}

ExitStatus fromWaitStatus(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) s.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

int msUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Reads everything available from a non-blocking fd into `sink`; closes it at EOF.
void drainFd(int& fd, std::string& sink) {
  char buf[4096];
  while (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      sink.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      closeFd(fd);
    } else if (errno == EAGAIN) {
      return;
    }
  }
}

void setNonBlocking(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

std::string joinArgs(const std::vector<std::string>& argv) {
  std::string joined;
  for (const std::string& arg : argv)
    joined += (joined.empty() ? "" : " ") + arg;
  return joined;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exit_code) return "exit code " + std::to_string(*exit_code);
  if (signal)
    return "killed by signal " + std::to_string(*signal) + " (" + strsignal(*signal) + ")";
  return "no status";
}

Result<TestProcess> TestProcess::spawn(const std::vector<std::string>& argv,
                                       const SpawnOptions& options) {
  if (argv.empty()) return makeError(Errc::kInvalidArgument, "spawn: empty argv");
  SpawnFds fds;
  if (auto s = openFds(fds, options); !s) return Unexpected(s.error().wrap("spawn " + argv[0]));
  ChildPlan plan = makePlan(argv, options, fds);
  pid_t pid = fork();
  if (pid < 0) return Unexpected(errnoError("fork"));
  if (pid == 0) runChild(plan);
  fds.closeChildEnds();

  TestProcess proc;
  proc.pid_ = pid;
  proc.pidfd_ = pidfdOpen(pid);
  if (proc.pidfd_ < 0) {
    Error e = errnoError("pidfd_open");
    ::kill(pid, SIGKILL);  // our own unreaped child: the pid cannot have been reused
    waitpid(pid, nullptr, 0);
    proc.pid_ = -1;
    return Unexpected(e);
  }
  proc.out_fd_ = std::exchange(fds.out[0], -1);
  proc.err_fd_ = std::exchange(fds.err[0], -1);
  setNonBlocking(proc.out_fd_);
  setNonBlocking(proc.err_fd_);
  if (!options.wait_ready) return proc;
  Ready ready = proc.readReady(fds.ready[0], options.ready_timeout);
  if (ready == Ready::kYes) return proc;
  return Unexpected(proc.notReady(ready, joinArgs(plan.args)));
}

// Waits for one byte on `fd`: kEof if the child closed it (usually: exited) without writing.
TestProcess::Ready TestProcess::readReady(int fd, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    pollfd fds[3] = {{fd, POLLIN, 0}, {out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    int n = poll(fds, 3, msUntil(deadline));
    if (n < 0 && errno != EINTR) return Ready::kEof;
    drainOutput();
    if (n > 0 && fds[0].revents != 0) {
      char byte = 0;
      return read(fd, &byte, 1) == 1 ? Ready::kYes : Ready::kEof;
    }
    if (Clock::now() >= deadline) return Ready::kTimeout;
  }
}

// The error for a child that did not report ready, with its stderr; kills it if it still runs.
Error TestProcess::notReady(Ready ready, std::string_view what) {
  std::string how = "did not report ready within the timeout";
  if (ready == Ready::kEof) {
    auto status = waitExit(milliseconds(2000));
    how = status ? "exited before it was ready (" + status->describe() + ")"
                 : "closed its ready fd without writing";
  }
  if (!status_) {
    (void)kill(SIGKILL);
    (void)waitExit(kReapTimeout);
  }
  return Error{Errc::kIo, std::string(what) + ": " + how + "; stderr: " + err_, 0};
}

TestProcess::TestProcess(TestProcess&& other) noexcept {
  *this = std::move(other);
}

TestProcess& TestProcess::operator=(TestProcess&& other) noexcept {
  if (this == &other) return *this;
  release();
  pid_ = std::exchange(other.pid_, -1);
  pidfd_ = std::exchange(other.pidfd_, -1);
  out_fd_ = std::exchange(other.out_fd_, -1);
  err_fd_ = std::exchange(other.err_fd_, -1);
  out_ = std::move(other.out_);
  err_ = std::move(other.err_);
  status_ = std::exchange(other.status_, std::nullopt);
  return *this;
}

TestProcess::~TestProcess() {
  release();
}

void TestProcess::release() {
  if (pid_ > 0 && !status_) {
    pidfdSendSignal(pidfd_, SIGKILL);
    if (!waitExit(kReapTimeout)) {
      std::fprintf(stderr, "test support: pid %d still running 10 s after SIGKILL\n", pid_);
    }
  }
  closeFd(pidfd_);
  closeFd(out_fd_);
  closeFd(err_fd_);
  pid_ = -1;
}

Status TestProcess::kill(int sig) {
  if (status_) return makeError(Errc::kNotFound, "pid " + std::to_string(pid_) + " was reaped");
  if (pidfdSendSignal(pidfd_, sig) != 0) {
    return Unexpected(errnoError("pidfd_send_signal to pid " + std::to_string(pid_)));
  }
  return Ok{};
}

Result<ExitStatus> TestProcess::waitExit(milliseconds timeout) {
  if (status_) return *status_;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    pollfd fds[3] = {{pidfd_, POLLIN, 0}, {out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    int n = poll(fds, 3, msUntil(deadline));
    if (n < 0 && errno != EINTR) return Unexpected(errnoError("poll"));
    drainOutput();
    if (n > 0 && (fds[0].revents & POLLIN) != 0) break;
    if (Clock::now() >= deadline) {
      return makeError(Errc::kUnavailable, "pid " + std::to_string(pid_) + " still running after " +
                                               std::to_string(timeout.count()) + " ms");
    }
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return Unexpected(errnoError("waitpid " + std::to_string(pid_)));
  }
  status_ = fromWaitStatus(status);
  drainOutput();
  closeFd(out_fd_);
  closeFd(err_fd_);
  return *status_;
}

void TestProcess::drainOutput() {
  drainFd(out_fd_, out_);
  drainFd(err_fd_, err_);
}

Result<CommandResult> runCommand(const std::vector<std::string>& argv, milliseconds timeout) {
  auto proc = TestProcess::spawn(argv);
  if (!proc) return Unexpected(proc.error());
  CommandResult result;
  auto status = proc->waitExit(timeout);
  if (!status) {
    result.timed_out = true;
    (void)proc->kill(SIGKILL);
    status = proc->waitExit(kReapTimeout);
    if (!status) return Unexpected(status.error().wrap(joinArgs(argv)));
  }
  result.status = *status;
  result.out = proc->out();
  result.err = proc->err();
  return result;
}

Result<TestProcess> spawnTestProcessAt(const std::string& binary,
                                       const std::vector<std::string>& args,
                                       milliseconds ready_timeout) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions options;
  options.wait_ready = true;
  options.ready_timeout = ready_timeout;
  return TestProcess::spawn(argv, options);
}

}  // namespace oomkit::test
