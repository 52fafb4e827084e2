// oomkit/daemon/event_loop.h — the daemon's single-threaded loop: epoll over file
// descriptors (detectors, victims' pidfds, /dev/kmsg, signals) and one timerfd that serves
// every timer (sampling, reap deadlines, counter polls).
//
// Callbacks run on the loop's thread, one at a time; a callback may add or remove fds and
// timers, including its own. Timers use the monotonic clock (steady_clock on Linux is
// CLOCK_MONOTONIC), armed as absolute times so that a late wake-up never drifts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "oomkit/result.h"

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

  TimerId schedule(Time when, TimerCallback callback);
  void cancel(TimerId id);

  // Runs until stop(); returns stop()'s code. Errors of epoll_wait other than EINTR end it
  // with an error.
  Result<int> run();
  void stop(int code);

 private:
  EventLoop(int epoll_fd, int timer_fd) : epoll_fd_(epoll_fd), timer_fd_(timer_fd) {}
  void armTimer();
  void runDueTimers();

  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  std::unordered_map<int, std::shared_ptr<FdCallback>> fds_;
  std::multimap<Time, TimerId> timers_by_time_;
  std::unordered_map<TimerId, std::pair<Time, TimerCallback>> timers_;
  std::optional<Time> armed_for_;  // the deadline the timerfd is set to
  TimerId next_timer_ = 1;
  bool stopped_ = false;
  int exit_code_ = 0;
};

}  // namespace oomkit::daemon
