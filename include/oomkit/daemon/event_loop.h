// oomkit/daemon/event_loop.h — the daemon's single-threaded loop: epoll over file
// descriptors (detectors, victims' pidfds, /dev/kmsg, signals) and the timers (sampling, reap
// deadlines, counter polls), which need no fd of their own: the wait's timeout is the nearest
// deadline (epoll_pwait2, nanoseconds).
//
// Why no timerfd: at idle the daemon wakes about once a second to sample, and each wake-up
// through a timerfd costs two more system calls (read the expiry count, re-arm) than a timed
// epoll_pwait2 — a third of the idle cost beside earlyoom (docs/benchmarks.md).
//
// A timer may carry slack, as the kernel's hrtimer_start_range_ns() does: it may run up to
// `slack` after its time, so that a periodic chore (the kernel OOM counters) rides on a
// wake-up that happens anyway instead of waking the daemon by itself.
//
// Callbacks run on the loop's thread, one at a time; a callback may add or remove fds and
// timers, including its own. Times are on the monotonic clock (steady_clock on Linux is
// CLOCK_MONOTONIC). Scheduling, cancelling and running timers allocate nothing once the
// loop has seen its largest number of timers (the table keeps its capacity), and neither
// does a wake-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "oomkit/result.h"

struct epoll_event;  // <sys/epoll.h>

namespace oomkit::daemon {

class EventLoop {
 public:
  using Time = std::chrono::steady_clock::time_point;
  using FdCallback = std::function<void(uint32_t events)>;
  using TimerCallback = std::function<void()>;
  using TimerId = uint64_t;

  static Result<EventLoop> create();
  EventLoop(EventLoop&& other) noexcept;
  EventLoop& operator=(EventLoop&&) = delete;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  // `events`: EPOLLIN, EPOLLPRI, ... The fd stays owned by the caller; remove it before
  // closing it.
  Status addFd(int fd, uint32_t events, FdCallback callback);
  void removeFd(int fd);

  // Runs `callback` once, at `when` or up to `slack` later (at the first wake-up in that
  // range). Lambdas that capture no more than two pointers are stored without allocating.
  TimerId schedule(Time when, TimerCallback callback,
                   std::chrono::nanoseconds slack = std::chrono::nanoseconds::zero());
  void cancel(TimerId id);

  // Runs until stop(); returns stop()'s code. Errors of epoll_wait other than EINTR end it
  // with an error.
  Result<int> run();
  void stop(int code);

 private:
  struct Timer {
    TimerId id;
    Time when;
    Time latest;  // when + slack: the wait never sleeps past it
    TimerCallback callback;
  };

  explicit EventLoop(int epoll_fd);
  int waitFor(epoll_event* events, int max_events);
  void runDueTimers();

  int epoll_fd_ = -1;
  std::unordered_map<int, std::shared_ptr<FdCallback>> fds_;
  // Few timers live at once (one or two per scope, one per victim awaited): a flat table
  // scanned in full beats a tree, and keeps its capacity between wake-ups.
  std::vector<Timer> timers_;
  std::vector<Timer> due_;  // runDueTimers' scratch: taken out of timers_ before they run
  TimerId next_timer_ = 1;
  bool stopped_ = false;
  int exit_code_ = 0;
};

}  // namespace oomkit::daemon
