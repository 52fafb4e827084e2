#include "oomkit/sys/background_releaser.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "oomkit/sys/files.h"
#include "oomkit/sys/process_handle.h"

namespace oomkit::sys {
namespace {

constexpr size_t kStackBytes = 64 * 1024;

}  // namespace

Result<std::unique_ptr<BackgroundReleaser>> BackgroundReleaser::start() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Unexpected(systemError("pipe2", errno));
  // The loop must never block on a full pipe: it falls back to releasing itself.
  if (::fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Unexpected(systemError("fcntl(O_NONBLOCK) on the release pipe", err));
  }
  std::unique_ptr<BackgroundReleaser> releaser(new BackgroundReleaser(fds[0], fds[1]));
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setstacksize(&attr, kStackBytes);
  // The thread inherits the signal mask: it blocks everything, so that SIGTERM and SIGHUP
  // go to the thread that reads the daemon's signalfd, whenever that starts blocking them.
  sigset_t all;
  sigset_t previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const int err = ::pthread_create(&releaser->thread_, &attr, &threadMain, releaser.get());
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::pthread_attr_destroy(&attr);
  if (err != 0) return Unexpected(systemError("starting the process_mrelease thread", err));
  releaser->started_ = true;
  releaser->running_.wait(false, std::memory_order_acquire);
  return releaser;
}

BackgroundReleaser::~BackgroundReleaser() {
  ::close(write_fd_);  // the thread reads end-of-file once the queue is drained, and returns
  if (started_) ::pthread_join(thread_, nullptr);
  ::close(read_fd_);
}

Status BackgroundReleaser::submit(int pidfd) {
  const int fd = ::fcntl(pidfd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Unexpected(systemError("dup of a pidfd for process_mrelease", errno));
  if (::write(write_fd_, &fd, sizeof fd) != static_cast<ssize_t>(sizeof fd)) {
    const int err = errno;
    ::close(fd);
    return Unexpected(systemError("queueing process_mrelease", err));
  }
  return Ok{};
}

uint64_t BackgroundReleaser::completed() const {
  return completed_.load(std::memory_order_acquire);
}

void* BackgroundReleaser::threadMain(void* self) {
  auto* releaser = static_cast<BackgroundReleaser*>(self);
  releaser->running_.store(true, std::memory_order_release);
  releaser->running_.notify_one();
  int fd = -1;
  for (;;) {
    const ssize_t n = ::read(releaser->read_fd_, &fd, sizeof fd);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof fd)) break;  // end of file: the daemon is stopping
    (void)releaseMemoryOf(fd);
    ::close(fd);
    releaser->completed_.fetch_add(1, std::memory_order_release);
  }
  return nullptr;
}

}  // namespace oomkit::sys
