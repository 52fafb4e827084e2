// oomkit/sys/background_releaser.h — process_mrelease() off the daemon's event loop, on one
// thread started with the daemon, so that a kill neither blocks the loop while the kernel
// unmaps a large victim (tens of milliseconds per GiB, docs/benchmarks.md) nor has to start a
// thread — map a stack, take fresh pages — at the moment memory has run out.
//
// The loop hands over a duplicate of the victim's pidfd through a pipe (a 4-byte write: no
// allocation, no lock shared with the thread); the thread calls process_mrelease() and closes
// it. Its outcome is not reported back: the victim's exit is watched through its own pidfd.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "oomkit/result.h"

namespace oomkit::sys {

class BackgroundReleaser {
 public:
  // Starts the thread (a 64 KiB stack: it only makes system calls) and returns once it is
  // running: the C library's thread start-up code then runs now, before the daemon sheds its
  // start-up pages, and not at some later moment that would fault it back in for good.
  static Result<std::unique_ptr<BackgroundReleaser>> start();
  BackgroundReleaser(const BackgroundReleaser&) = delete;
  BackgroundReleaser& operator=(const BackgroundReleaser&) = delete;
  // Lets the thread finish what was handed over, then joins it.
  ~BackgroundReleaser();

  // Queues process_mrelease() of the process behind `pidfd` (the caller keeps its fd).
  // Errc::kIo when the pidfd cannot be duplicated or the queue (a pipe: thousands of
  // entries) is full; the caller then releases synchronously.
  Status submit(int pidfd);

  // How many releases the thread has finished (process_mrelease returned, whatever it said).
  // For tests: the thread's progress is otherwise invisible.
  uint64_t completed() const;

 private:
  BackgroundReleaser(int read_fd, int write_fd) : read_fd_(read_fd), write_fd_(write_fd) {}
  static void* threadMain(void* self);

  int read_fd_ = -1;
  int write_fd_ = -1;
  pthread_t thread_{};
  bool started_ = false;
  std::atomic<uint64_t> completed_{0};
  std::atomic<bool> running_{false};
};

}  // namespace oomkit::sys
