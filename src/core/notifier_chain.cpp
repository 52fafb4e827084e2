// The Arg-independent half of NotifierChain: its writer-preferring read-write lock (the
// kernel's rw_semaphore), and the per-thread stack of walks that lets a handler call back into
// its own chain without locking twice or waiting for itself (the kernel's blocking chain would
// deadlock there).
#include "oomkit/core/notifier_chain.h"

namespace oomkit::core::detail {
namespace {

// The innermost walk the calling thread is in, of any chain; each Walk links to the one it is
// nested in. Frames live on the walking thread's stack and are popped in LIFO order.
thread_local const ChainLock::Walk* t_innermost_walk = nullptr;

}  // namespace

ChainLock::Walk::Walk(const ChainLock& lock)
    : lock_(lock), outer_(t_innermost_walk), owns_shared_(!lock.isWalkingOnThisThread()) {
  // down_read(&nh->rwsem), once per thread: the outermost walk already holds it.
  if (owns_shared_) lock_.lockShared();
  t_innermost_walk = this;
}

ChainLock::Walk::~Walk() {
  t_innermost_walk = outer_;
  if (owns_shared_) lock_.unlockShared();
}

ChainLock::Exclusive::Exclusive(const ChainLock& lock, Mode mode) : lock_(lock), owns_(true) {
  // down_write(&nh->rwsem), or a try that never waits (for deferred changes).
  if (mode == Mode::kTry) {
    owns_ = lock_.tryLock();
  } else {
    lock_.lock();
  }
}

ChainLock::Exclusive::~Exclusive() {
  if (owns_) lock_.unlock();
}

bool ChainLock::isWalkingOnThisThread() const {
  for (const Walk* walk = t_innermost_walk; walk != nullptr; walk = walk->outer_) {
    if (&walk->lock_ == this) return true;
  }
  return false;
}

void ChainLock::lockShared() const {
  std::unique_lock guard(mu_);
  if (!writer_ && writers_waiting_ == 0) {
    ++readers_;
    return;
  }
  // Queue behind the writer(s), as rwsem_down_read_slowpath() does; the next writer unlock
  // lets every walk queued by then in, ahead of any other waiting writer.
  const uint64_t queued_at = writes_done_;
  ++readers_waiting_;
  readers_cv_.wait(
      guard, [&] { return !writer_ && (writers_waiting_ == 0 || writes_done_ != queued_at); });
  --readers_waiting_;
  if (writes_done_ != queued_at && readers_passing_ > 0) --readers_passing_;
  ++readers_;
}

void ChainLock::unlockShared() const {
  const std::lock_guard guard(mu_);
  --readers_;
  if (canWrite() && writers_waiting_ > 0) writers_cv_.notify_one();
}

void ChainLock::lock() const {
  std::unique_lock guard(mu_);
  ++writers_waiting_;
  writers_cv_.wait(guard, [this] { return canWrite(); });
  --writers_waiting_;
  writer_ = true;
}

bool ChainLock::tryLock() const {
  const std::lock_guard guard(mu_);
  if (!canWrite()) return false;
  writer_ = true;
  return true;
}

void ChainLock::unlock() const {
  const std::lock_guard guard(mu_);
  writer_ = false;
  ++writes_done_;
  readers_passing_ = readers_waiting_;
  if (readers_waiting_ > 0) {
    readers_cv_.notify_all();
  } else if (writers_waiting_ > 0) {
    writers_cv_.notify_one();
  }
}

bool ChainLock::canWrite() const {
  return !writer_ && readers_ == 0 && readers_passing_ == 0;
}

}  // namespace oomkit::core::detail
