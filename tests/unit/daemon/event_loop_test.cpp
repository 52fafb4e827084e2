// Tests for daemon::EventLoop: timers in deadline order, cancellation, fds, stop.
#include "oomkit/daemon/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

// Counts this binary's operator new calls, so that a test can say a stretch of code allocated
// nothing. Every plain (not over-aligned) form is replaced, all on malloc/free, so that a
// sanitizer build sees matching pairs (it intercepts malloc and free).
namespace {
thread_local uint64_t g_allocations = 0;

void* countedAlloc(std::size_t size) noexcept {
  ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* block = countedAlloc(size)) return block;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* block = countedAlloc(size)) return block;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return countedAlloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return countedAlloc(size);
}
void operator delete(void* block) noexcept {
  std::free(block);
}
void operator delete[](void* block) noexcept {
  std::free(block);
}
void operator delete(void* block, std::size_t) noexcept {
  std::free(block);
}
void operator delete[](void* block, std::size_t) noexcept {
  std::free(block);
}
void operator delete(void* block, const std::nothrow_t&) noexcept {
  std::free(block);
}
void operator delete[](void* block, const std::nothrow_t&) noexcept {
  std::free(block);
}

namespace oomkit::daemon {
namespace {

using std::chrono::milliseconds;

EventLoop::Time in(int ms) {
  return std::chrono::steady_clock::now() + milliseconds(ms);
}

TEST(EventLoopTest, TimersRunInDeadlineOrderAndCancelledOnesNever) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop) << loop.error().message;
  std::string order;
  loop->schedule(in(30), [&] { order += "c"; });
  loop->schedule(in(10), [&] { order += "a"; });
  const auto cancelled = loop->schedule(in(15), [&] { order += "x"; });
  loop->schedule(in(20), [&] {
    order += "b";
    // A callback may schedule more; this one is the earliest now, and must still fire.
    loop->schedule(in(1), [&] { order += "d"; });
  });
  loop->schedule(in(60), [&] { loop->stop(7); });
  loop->cancel(cancelled);
  auto code = loop->run();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 7);
  EXPECT_EQ(order, "abdc");
}

TEST(EventLoopTest, FdCallbacksSeeTheirEventsAndMayRemoveThemselves) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  int calls = 0;
  ASSERT_TRUE(loop->addFd(pipefd[0], EPOLLIN, [&](uint32_t events) {
    ++calls;
    EXPECT_TRUE(events & EPOLLIN);
    char c;
    EXPECT_EQ(::read(pipefd[0], &c, 1), 1);
    loop->removeFd(pipefd[0]);
    loop->stop(0);
  }));
  EXPECT_FALSE(loop->addFd(-1, EPOLLIN, [](uint32_t) {}));  // a bad fd is an error, not a crash
  loop->schedule(in(5), [&] { EXPECT_EQ(::write(pipefd[1], "x", 1), 1); });
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(calls, 1);
  ::close(pipefd[0]);
  ::close(pipefd[1]);
}

TEST(EventLoopTest, ATimerWithSlackRidesOnTheNextWakeUpInsteadOfWakingByItself) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  std::string order;
  const EventLoop::Time sample_at = in(40);
  EventLoop::Time chore_ran{};
  // Due first, but it may wait 500 ms: the loop's first wake-up is the sample's, and the chore
  // runs in that pass (before the sample: deadline order), not on a wake-up of its own.
  loop->schedule(
      in(20),
      [&] {
        order += "chore ";
        chore_ran = std::chrono::steady_clock::now();
      },
      milliseconds(500));
  loop->schedule(sample_at, [&] {
    order += "sample";
    loop->stop(0);
  });
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(order, "chore sample");
  EXPECT_GE(chore_ran, sample_at);
}

TEST(EventLoopTest, ATimerWithSlackAloneRunsByItsLatestTime) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  bool ran = false;
  loop->schedule(
      in(5),
      [&] {
        ran = true;
        loop->stop(0);
      },
      milliseconds(20));
  // Without the slack bound the wait would have no timeout and never return.
  ASSERT_TRUE(loop->run());
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, ACallbackCancelsATimerOfTheSameBatch) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  std::string order;
  EventLoop::TimerId second = 0;
  const auto past = std::chrono::steady_clock::now() - milliseconds(10);
  loop->schedule(past, [&] {
    order += "a";
    loop->cancel(second);
  });
  second = loop->schedule(past + milliseconds(1), [&] { order += "x"; });
  loop->schedule(in(20), [&] { loop->stop(0); });
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(order, "a");
}

// A sampler that reschedules itself, as each scope's does once a second at idle.
struct Ticker {
  EventLoop* loop = nullptr;
  int ticks = 0;
  uint64_t allocations_at_warm = 0;
  uint64_t allocations_at_end = 0;

  void next() {
    loop->schedule(in(1), [this] { tick(); });
  }
  void tick() {
    ++ticks;
    if (ticks == 3) allocations_at_warm = g_allocations;  // the tables have their capacity
    if (ticks == 40) {
      allocations_at_end = g_allocations;
      loop->stop(0);
      return;
    }
    next();
  }
};

TEST(EventLoopTest, AWakeUpAndATimerThatReschedulesItselfAllocateNothing) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  Ticker ticker{&*loop};
  Ticker other{&*loop};  // two timers, so that each wake-up has something to order
  ticker.next();
  other.next();
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(ticker.ticks, 40);
  EXPECT_EQ(ticker.allocations_at_end - ticker.allocations_at_warm, 0u)
      << "the loop allocated while idling";
}

TEST(EventLoopTest, ATimerDueInThePastRunsAtOnce) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  bool ran = false;
  loop->schedule(std::chrono::steady_clock::now() - milliseconds(100), [&] {
    ran = true;
    loop->stop(0);
  });
  ASSERT_TRUE(loop->run());
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace oomkit::daemon
