#include "oomkit/sys/process_handle.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>
#include <utility>

#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

// process_mrelease() returns EAGAIN when it could only partly unmap (the mmap lock was
// contended); the kernel's oom_reaper retries up to MAX_OOM_REAP_RETRIES (10) times.
constexpr int kReleaseAttempts = 3;

std::string pidName(int32_t pid) {
  return "pid " + std::to_string(pid);
}

Error syscallError(std::string_view what, int32_t pid, int err) {
  Error error = systemError(std::string(what) + " " + pidName(pid), err);
  if (err == ENOSYS) error.code = Errc::kUnavailable;
  return error;
}

int pidfdOpen(int32_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0u));
}

bool pollExit(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

}  // namespace

Result<ProcessHandle> ProcessHandle::attach(ProcReader& proc, int32_t pid, unsigned fields) {
  const int fd = pidfdOpen(pid);
  if (fd < 0) return Unexpected(syscallError("pidfd_open", pid, errno));
  // The pidfd is open: whatever happens to the pid from now on, fd names one process.
  auto process = proc.readProcess(pid, fields | kFieldStat);
  if (!process) {
    ::close(fd);
    return Unexpected(process.error());
  }
  ProcessHandle handle(fd, std::move(*process));
  // Still running after the read, so the pid named the pidfd's process while we read it.
  if (handle.exited()) return makeError(Errc::kNotFound, pidName(pid) + " has exited");
  return handle;
}

Result<ProcessHandle> ProcessHandle::open(ProcReader& proc, int32_t pid,
                                          uint64_t expected_start_time, unsigned fields) {
  auto handle = attach(proc, pid, fields);
  if (!handle) return handle;
  const uint64_t start = handle->process().start_time_ticks;
  if (start != expected_start_time) {
    return makeError(Errc::kNotFound, pidName(pid) + " is now another process (start time " +
                                          std::to_string(start) + ", expected " +
                                          std::to_string(expected_start_time) + ")");
  }
  return handle;
}

Result<ProcessHandle> ProcessHandle::openCurrent(ProcReader& proc, int32_t pid, unsigned fields) {
  return attach(proc, pid, fields);
}

ProcessHandle::ProcessHandle(ProcessHandle&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), process_(std::move(other.process_)) {}

ProcessHandle& ProcessHandle::operator=(ProcessHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    process_ = std::move(other.process_);
  }
  return *this;
}

ProcessHandle::~ProcessHandle() {
  if (fd_ >= 0) ::close(fd_);
}

Status ProcessHandle::kill(int sig) {
  if (::syscall(SYS_pidfd_send_signal, fd_, sig, nullptr, 0u) != 0) {
    return Unexpected(syscallError("pidfd_send_signal", pid(), errno));
  }
  return Ok{};
}

int releaseMemoryOf(int pidfd) {
  int err = 0;
  for (int attempt = 0; attempt < kReleaseAttempts; ++attempt) {
    if (::syscall(SYS_process_mrelease, pidfd, 0u) == 0) return 0;
    err = errno;
    if (err != EAGAIN && err != EINTR) break;
  }
  return err;
}

Result<ProcessHandle::Release> ProcessHandle::release() {
  const int err = releaseMemoryOf(fd_);
  if (err == 0) return Release::kReleased;
  if (err == ESRCH) return Release::kAlreadyExiting;  // past exit_mm(): no mm left to reap
  Error error = syscallError("process_mrelease", pid(), err);
  if (err == EINVAL) error.message += " (not dying)";
  return Unexpected(std::move(error));
}

bool ProcessHandle::exited() const {
  return pollExit(fd_, 0);
}

bool ProcessHandle::waitExit(std::chrono::milliseconds timeout) const {
  // poll() takes an int and blocks forever on a negative one: clamp to [0, INT_MAX] ms.
  const auto ms = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, INT_MAX);
  return pollExit(fd_, static_cast<int>(ms));
}

}  // namespace oomkit::sys
