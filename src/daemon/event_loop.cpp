#include "oomkit/daemon/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <iterator>

#include "oomkit/sys/files.h"

namespace oomkit::daemon {
namespace {

constexpr size_t kTimersReserved = 32;  // more than a daemon with a dozen scopes keeps at once
constexpr EventLoop::TimerId kCancelled = 0;  // ids start at 1

Error errnoError(std::string_view what, int err) {
  return sys::systemError(what, err);
}

timespec toTimespec(std::chrono::nanoseconds span) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(span.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(span.count() % 1'000'000'000);
  return ts;
}

// epoll_wait's timeout is in whole milliseconds: round up, so that the loop never wakes
// before a deadline and spins.
int toTimeoutMs(std::chrono::nanoseconds span) {
  const auto ms = (span.count() + 999'999) / 1'000'000;
  return static_cast<int>(std::min<long long>(ms, INT_MAX));
}

}  // namespace

Result<EventLoop> EventLoop::create() {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Unexpected(errnoError("epoll_create1", errno));
  return EventLoop(epoll_fd);
}

EventLoop::EventLoop(int epoll_fd) : epoll_fd_(epoll_fd) {
  timers_.reserve(kTimersReserved);
  due_.reserve(kTimersReserved);
}

EventLoop::EventLoop(EventLoop&& other) noexcept
    : epoll_fd_(std::exchange(other.epoll_fd_, -1)),
      fds_(std::move(other.fds_)),
      timers_(std::move(other.timers_)),
      due_(std::move(other.due_)),
      next_timer_(other.next_timer_),
      stopped_(other.stopped_),
      exit_code_(other.exit_code_) {}

EventLoop::~EventLoop() {
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

EventLoop::TimerId EventLoop::schedule(Time when, TimerCallback callback,
                                       std::chrono::nanoseconds slack) {
  const TimerId id = next_timer_++;
  timers_.push_back(Timer{id, when, when + std::max(slack, std::chrono::nanoseconds::zero()),
                          std::move(callback)});
  return id;
}

void EventLoop::cancel(TimerId id) {
  std::erase_if(timers_, [id](const Timer& timer) { return timer.id == id; });
  for (auto& timer : due_) {
    if (timer.id == id) timer.id = kCancelled;  // in the batch being run: it must not run
  }
}

// Waits for fds until the nearest timer's latest time. epoll_pwait2 (Linux 5.11) takes the
// timeout in nanoseconds; older kernels answer ENOSYS and get epoll_wait's milliseconds.
int EventLoop::waitFor(epoll_event* events, int max_events) {
  if (timers_.empty()) return ::epoll_wait(epoll_fd_, events, max_events, -1);
  const Time latest =
      std::min_element(timers_.begin(), timers_.end(), [](const Timer& a, const Timer& b) {
        return a.latest < b.latest;
      })->latest;
  const auto span = std::max(latest - std::chrono::steady_clock::now(),
                             std::chrono::steady_clock::duration::zero());
  static bool have_pwait2 = true;
  if (have_pwait2) {
    const timespec timeout = toTimespec(span);
    const int n = ::epoll_pwait2(epoll_fd_, events, max_events, &timeout, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    have_pwait2 = false;
  }
  return ::epoll_wait(epoll_fd_, events, max_events, toTimeoutMs(span));
}

// Runs, in deadline order, the timers due when it starts; ones that their callbacks schedule
// wait for the next pass, so a timer rescheduling itself "now" cannot starve the fds.
void EventLoop::runDueTimers() {
  const Time now = std::chrono::steady_clock::now();
  due_.clear();
  for (auto& timer : timers_) {
    if (timer.when <= now) due_.push_back(std::move(timer));
  }
  if (due_.empty()) return;
  std::erase_if(timers_, [now](const Timer& timer) { return timer.when <= now; });
  // Insertion sort, stable and in place: std::stable_sort would allocate a buffer on each
  // wake-up, and there are only a few timers.
  const auto earlier = [](const Timer& a, const Timer& b) { return a.when < b.when; };
  for (auto it = due_.begin(); it != due_.end(); ++it) {
    std::rotate(std::upper_bound(due_.begin(), it, *it, earlier), it, std::next(it));
  }
  for (size_t i = 0; i < due_.size() && !stopped_; ++i) {
    if (due_[i].id == kCancelled) continue;  // by an earlier callback of this batch
    due_[i].id = kCancelled;                 // running: cancelling it now is a no-op
    TimerCallback callback = std::move(due_[i].callback);
    callback();
  }
}

Result<int> EventLoop::run() {
  constexpr int kMaxEvents = 32;
  epoll_event events[kMaxEvents];
  while (!stopped_) {
    const int n = waitFor(events, kMaxEvents);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unexpected(errnoError("epoll_wait", errno));
    }
    for (int i = 0; i < n && !stopped_; ++i) {
      const int fd = events[i].data.fd;
      const auto found = fds_.find(fd);
      if (found == fds_.end()) continue;  // removed by an earlier callback in this batch
      const std::shared_ptr<FdCallback> callback = found->second;  // survives its own removal
      (*callback)(events[i].events);
    }
    if (!stopped_) runDueTimers();
  }
  return exit_code_;
}

void EventLoop::stop(int code) {
  stopped_ = true;
  exit_code_ = code;
}

}  // namespace oomkit::daemon
