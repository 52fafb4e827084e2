#include "oomkit/daemon/event_loop.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "oomkit/sys/files.h"

namespace oomkit::daemon {
namespace {

Error errnoError(std::string_view what, int err) {
  return sys::systemError(what, err);
}

timespec toTimespec(EventLoop::Time time) {
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(nanos / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(nanos % 1'000'000'000);
  if (ts.tv_sec == 0 && ts.tv_nsec == 0) ts.tv_nsec = 1;  // 0 would disarm the timer
  return ts;
}

}  // namespace

Result<EventLoop> EventLoop::create() {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Unexpected(errnoError("epoll_create1", errno));
  const int timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd < 0) {
    const int err = errno;
    ::close(epoll_fd);
    return Unexpected(errnoError("timerfd_create", err));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = timer_fd;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &event) != 0) {
    const int err = errno;
    ::close(timer_fd);
    ::close(epoll_fd);
    return Unexpected(errnoError("epoll_ctl(timerfd)", err));
  }
  return EventLoop(epoll_fd, timer_fd);
}

EventLoop::EventLoop(EventLoop&& other) noexcept
    : epoll_fd_(std::exchange(other.epoll_fd_, -1)),
      timer_fd_(std::exchange(other.timer_fd_, -1)),
      fds_(std::move(other.fds_)),
      timers_by_time_(std::move(other.timers_by_time_)),
      timers_(std::move(other.timers_)),
      armed_for_(other.armed_for_),
      next_timer_(other.next_timer_),
      stopped_(other.stopped_),
      exit_code_(other.exit_code_) {}

EventLoop::~EventLoop() {
  if (timer_fd_ >= 0) ::close(timer_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status EventLoop::addFd(int fd, uint32_t events, FdCallback callback) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return Unexpected(errnoError("epoll_ctl(add fd " + std::to_string(fd) + ")", errno));
  }
  fds_[fd] = std::make_shared<FdCallback>(std::move(callback));
  return Ok{};
}

void EventLoop::removeFd(int fd) {
  if (fds_.erase(fd) == 0) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::schedule(Time when, TimerCallback callback) {
  const TimerId id = next_timer_++;
  timers_.emplace(id, std::make_pair(when, std::move(callback)));
  timers_by_time_.emplace(when, id);
  return id;
}

void EventLoop::cancel(TimerId id) {
  const auto found = timers_.find(id);
  if (found == timers_.end()) return;
  auto [begin, end] = timers_by_time_.equal_range(found->second.first);
  for (auto it = begin; it != end; ++it) {
    if (it->second == id) {
      timers_by_time_.erase(it);
      break;
    }
  }
  timers_.erase(found);
}

// Called once before each wait: the timerfd is set only when the earliest deadline changed,
// so a callback that reschedules itself costs one timerfd_settime, not one per change.
void EventLoop::armTimer() {
  const std::optional<Time> earliest =
      timers_by_time_.empty() ? std::nullopt : std::optional<Time>(timers_by_time_.begin()->first);
  if (earliest == armed_for_) return;
  itimerspec spec{};
  if (earliest) spec.it_value = toTimespec(*earliest);
  ::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_for_ = earliest;
}

void EventLoop::runDueTimers() {
  uint64_t expirations = 0;
  (void)!::read(timer_fd_, &expirations, sizeof expirations);
  armed_for_.reset();  // it fired: disarmed
  const Time now = std::chrono::steady_clock::now();
  std::vector<TimerId> due;
  for (auto it = timers_by_time_.begin(); it != timers_by_time_.end() && it->first <= now; ++it) {
    due.push_back(it->second);
  }
  for (const TimerId id : due) {
    const auto found = timers_.find(id);
    if (found == timers_.end()) continue;  // cancelled by an earlier callback
    TimerCallback callback = std::move(found->second.second);
    cancel(id);
    callback();
    if (stopped_) return;
  }
}

Result<int> EventLoop::run() {
  constexpr int kMaxEvents = 32;
  epoll_event events[kMaxEvents];
  while (!stopped_) {
    armTimer();
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unexpected(errnoError("epoll_wait", errno));
    }
    for (int i = 0; i < n && !stopped_; ++i) {
      const int fd = events[i].data.fd;
      if (fd == timer_fd_) {
        runDueTimers();
        continue;
      }
      const auto found = fds_.find(fd);
      if (found == fds_.end()) continue;  // removed by an earlier callback in this batch
      const std::shared_ptr<FdCallback> callback = found->second;  // survives its own removal
      (*callback)(events[i].events);
    }
  }
  return exit_code_;
}

void EventLoop::stop(int code) {
  stopped_ = true;
  exit_code_ = code;
}

}  // namespace oomkit::daemon
