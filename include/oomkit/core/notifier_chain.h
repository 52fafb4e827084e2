// oomkit/core/notifier_chain.h — the kernel's notifier chain (kernel/notifier.c,
// include/linux/notifier.h) as a reusable type: prioritised handlers, NOTIFY_* results, a
// robust call that rolls back on a veto.
//
// The flavour is the kernel's *blocking* chain: many walks may run at once (a shared lock,
// down_read(&nh->rwsem)), and registerBlock()/unregisterBlock() wait until no walk runs (an
// exclusive lock, down_write()). Unlike the kernel, where a blocking chain's handler that
// (un)registers on its own chain deadlocks, a change made on the thread that is walking the
// chain (by a handler, at any nesting depth) is *deferred*, never refused:
//   - it returns at once, with the Status it will have (duplicates and unknown blocks are
//     errors exactly as outside a walk);
//   - an unregistered block gets no new call from any walk from then on (a handler may
//     unregister itself, as the kernel allows on its raw chains);
//   - a registered block is not called by walks already running, and is called by every walk
//     that starts after the change is applied: at the end of the walking thread's outermost
//     walk if no other walk runs then, else at the first start or end of a walk that finds
//     none running, or at the next registerBlock()/unregisterBlock() from outside a walk.
// docs/notifier-chain.md has the full rule and the lifetime of a block unregistered this way.
//
// Thread-safe: any member may be called from any thread, concurrently. Pure: no I/O, no
// clock, no threads of its own; it synchronises with <mutex> and <condition_variable> only.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <type_traits>
#include <vector>

#include "oomkit/result.h"

namespace oomkit::core {

// Handler results, with the kernel's bit values (include/linux/notifier.h). Plain ints, not an
// enum: a result may carry an errno (notifierFromErrno), and callers test bits, like the kernel.
inline constexpr int kNotifyDone = 0x0000;                       // don't care
inline constexpr int kNotifyOk = 0x0001;                         // suits me
inline constexpr int kNotifyStopMask = 0x8000;                   // don't call further
inline constexpr int kNotifyBad = kNotifyStopMask | 0x0002;      // bad/veto action
inline constexpr int kNotifyStop = kNotifyOk | kNotifyStopMask;  // clean way to return from
                                                                 // the notifier and stop

// notifier_from_errno(): a negative errno as a stopping result; 0 is kNotifyOk.
// notifierFromErrno(-EPERM) == kNotifyBad. The subtraction wraps, as in the kernel (which builds
// with -fno-strict-overflow), so no argument is undefined behaviour.
constexpr int notifierFromErrno(int err) {
  if (err == 0) return kNotifyOk;
  return kNotifyStopMask |
         static_cast<int>(static_cast<unsigned>(kNotifyOk) - static_cast<unsigned>(err));
}

// notifier_to_errno(): the negative errno a result carries, 0 when it carries none
// (kNotifyDone, kNotifyOk, kNotifyStop). notifierToErrno(kNotifyBad) == -EPERM.
constexpr int notifierToErrno(int ret) {
  ret &= ~kNotifyStopMask;
  return ret > kNotifyOk ? kNotifyOk - ret : 0;
}

// struct notifier_block. The caller owns it; its address is its identity, as in the kernel.
// REQUIRES: while registered, the block is neither moved, destroyed nor modified (priority is
// read once, by registerBlock()). After unregisterBlock() returns Ok from outside any walk of the
// chain, no call to it is running and it may be destroyed. One unregistered from inside a walk
// may be destroyed once every walk running at that moment has ended (the kernel's
// synchronize_rcu() rule): later walks skip it by address and never dereference it.
template <class Arg>
struct NotifierBlock {
  std::function<int(unsigned long val, Arg arg)> notifier_call;
  int priority = 0;  // higher runs first
};

// What call() returns: the last handler's result (kNotifyDone when none ran) and how many
// handlers ran (the kernel's *nr_calls).
struct NotifierCallResult {
  int result = kNotifyDone;
  int nr_calls = 0;
};

namespace detail {

// The read-write lock of one chain (the kernel's rw_semaphore nh->rwsem), plus which chains the
// calling thread is walking right now (a thread-local stack of walks), so that a handler's call
// back into its own chain neither locks twice nor waits for itself. Fair in both directions, as
// the kernel's rwsem hands over in queue order: once a registration waits, new walks queue
// behind it, and the walks that waited during a registration go before the next one. (glibc's
// std::shared_mutex prefers readers: overlapping walks could starve a registration forever.)
// Independent of Arg; defined in src/core/notifier_chain.cpp.
class ChainLock {
 public:
  // One walk of the chain by this thread, for its lifetime: holds the lock shared unless this
  // thread already walks the chain (a nested walk from a handler).
  class [[nodiscard]] Walk {
   public:
    explicit Walk(const ChainLock& lock);
    ~Walk();
    Walk(const Walk&) = delete;
    Walk& operator=(const Walk&) = delete;

   private:
    friend class ChainLock;  // isWalkingOnThisThread() follows the chain of walks
    const ChainLock& lock_;
    const Walk* outer_;  // this thread's enclosing walk, of any chain
    bool owns_shared_;
  };

  // Exclusive access for changes, for its lifetime. kWait waits for running walks
  // (REQUIRES: !isWalkingOnThisThread()); kTry gives up at once if the lock is taken.
  class [[nodiscard]] Exclusive {
   public:
    enum class Mode { kWait, kTry };
    explicit Exclusive(const ChainLock& lock, Mode mode = Mode::kWait);
    ~Exclusive();
    Exclusive(const Exclusive&) = delete;
    Exclusive& operator=(const Exclusive&) = delete;

    bool owns() const { return owns_; }

   private:
    const ChainLock& lock_;
    bool owns_;
  };

  // True iff the calling thread is inside a walk of this chain (at any depth).
  bool isWalkingOnThisThread() const;

 private:
  void lockShared() const;
  void unlockShared() const;
  void lock() const;
  bool tryLock() const;
  void unlock() const;
  bool canWrite() const;  // REQUIRES: mu_ held

  // All guarded by mu_.
  mutable std::mutex mu_;
  mutable std::condition_variable readers_cv_;
  mutable std::condition_variable writers_cv_;
  mutable int readers_ = 0;          // walks holding the lock
  mutable int readers_waiting_ = 0;  // walks queued behind a writer
  mutable int readers_passing_ = 0;  // queued walks let in by the last writer, not yet in
  mutable int writers_waiting_ = 0;
  mutable bool writer_ = false;
  mutable uint64_t writes_done_ = 0;  // writer unlocks so far
};

}  // namespace detail

// A blocking notifier chain over handlers int(unsigned long val, Arg arg). The OOM chain is
// NotifierChain<uint64_t*>, walked as call(0, &freed_bytes), like the kernel's
// blocking_notifier_call_chain(&oom_notify_list, 0, &freed).
template <class Arg>
class NotifierChain {
  static_assert(!std::is_rvalue_reference_v<Arg>, "Arg is passed to every handler in turn");

 public:
  using Block = NotifierBlock<Arg>;

  NotifierChain() = default;
  NotifierChain(const NotifierChain&) = delete;
  NotifierChain& operator=(const NotifierChain&) = delete;

  // notifier_chain_register(): adds `block` after every block of higher or equal priority
  // (FIFO among equals). Errc::kInvalidArgument when `block` is already registered (the
  // kernel's -EEXIST; detected anywhere in the chain, whereas the kernel scans only up to the
  // insertion point) or has no notifier_call. Waits for running walks, except from inside a
  // walk of this chain on this thread, where the change is deferred (header comment).
  Status registerBlock(Block& block) {
    if (!block.notifier_call) {
      return makeError(Errc::kInvalidArgument, "notifier block has no notifier_call");
    }
    if (lock_.isWalkingOnThisThread()) return deferRegister(block);
    const detail::ChainLock::Exclusive exclusive(lock_);
    applyPending();
    if (isListed(block)) return alreadyRegistered();
    insertSorted(Entry{&block, block.priority});
    return Ok{};
  }

  // notifier_chain_unregister(): removes `block`. Errc::kNotFound when it is not registered
  // (the kernel's -ENOENT). Waits for running walks, except from inside a walk of this chain
  // on this thread (deferred; a handler may unregister itself).
  Status unregisterBlock(Block& block) {
    if (lock_.isWalkingOnThisThread()) return deferUnregister(block);
    const detail::ChainLock::Exclusive exclusive(lock_);
    applyPending();
    if (!isListed(block)) return notRegistered();
    eraseListed(&block);
    return Ok{};
  }

  // blocking_notifier_call_chain() / notifier_call_chain(): calls the handlers in order with
  // (val, arg) until one returns a result with kNotifyStopMask set or `nr_to_call` have run
  // (negative: all). Returns the last handler's result (kNotifyDone if none ran) and the count.
  NotifierCallResult call(unsigned long val, Arg arg, int nr_to_call = -1) {
    applyPendingIfQuiet();
    Walked walked;
    {
      const detail::ChainLock::Walk walk(lock_);
      walked = walkLocked(val, arg, nr_to_call, entries_.size());
    }
    applyPendingIfQuiet();
    return NotifierCallResult{walked.result, walked.nr_calls};
  }

  // blocking_notifier_call_chain_robust(): calls every handler with `val_up`; if one returns a
  // kNotifyStopMask result, calls the handlers that ran before it again with `val_down`, in the
  // same (forward) order, all under one walk. Returns the `val_up` walk's result.
  int callRobust(unsigned long val_up, unsigned long val_down, Arg arg) {
    applyPendingIfQuiet();
    Walked up;
    {
      const detail::ChainLock::Walk walk(lock_);
      up = walkLocked(val_up, arg, -1, entries_.size());
      // The kernel calls the first nr - 1 handlers again; the entries before the failing one
      // are the same handlers, unless one was unregistered during the walk: it is skipped.
      if (up.result & kNotifyStopMask) walkLocked(val_down, arg, -1, up.last);
    }
    applyPendingIfQuiet();
    return up.result;
  }

  // The registered blocks in call order, deferred changes included.
  std::vector<Block*> blocks() const {
    const detail::ChainLock::Walk walk(lock_);  // no handler runs; this only reads
    return effectiveBlocks();
  }

 private:
  struct Entry {
    Block* block;
    int priority;  // copied at registration: the order never depends on later writes
  };

  // Changes made from inside walks, not yet applied to entries_. Guarded by pending_mu_.
  struct Pending {
    std::vector<Block*> removals;  // still in entries_; walks skip them
    std::vector<Entry> additions;  // in registration order
  };

  struct Walked {
    int result = kNotifyDone;
    int nr_calls = 0;
    size_t last = 0;  // index in entries_ of the last handler called
  };

  // notifier_call_chain() over entries_[0, end). REQUIRES: this thread walks the chain, so
  // entries_ cannot change.
  Walked walkLocked(unsigned long val, Arg arg, int nr_to_call, size_t end) {
    Walked out;
    for (size_t i = 0; i < end && nr_to_call != 0; ++i) {
      Block* block = entries_[i].block;
      // Unregistered from inside a walk: no call starts after unregisterBlock() returned.
      if (isPendingRemoval(block)) continue;
      out.result = block->notifier_call(val, arg);
      out.last = i;
      ++out.nr_calls;
      if (out.result & kNotifyStopMask) break;
      --nr_to_call;
    }
    return out;
  }

  // REQUIRES for the *Listed/insertSorted helpers: the lock, held exclusive or (reads) shared.
  bool isListed(const Block& block) const {
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const Entry& e) { return e.block == &block; });
  }

  // Before the first entry of strictly lower priority: after all equals, as
  // notifier_chain_register() does.
  void insertSorted(const Entry& entry) { insertSortedInto(entries_, entry); }

  static void insertSortedInto(std::vector<Entry>& entries, const Entry& entry) {
    const auto pos = std::find_if(entries.begin(), entries.end(),
                                  [&](const Entry& e) { return e.priority < entry.priority; });
    entries.insert(pos, entry);
  }

  void eraseListed(const Block* block) {
    std::erase_if(entries_, [block](const Entry& e) { return e.block == block; });
  }

  // A change from inside a walk of this chain on this thread: validated against the chain as
  // it will be once every deferred change is applied, then queued.
  Status deferRegister(Block& block) {
    const std::lock_guard guard(pending_mu_);
    if (isRegisteredWithPending(block)) return alreadyRegistered();
    pending_.additions.push_back(Entry{&block, block.priority});
    has_pending_.store(true, std::memory_order_release);
    return Ok{};
  }

  Status deferUnregister(Block& block) {
    const std::lock_guard guard(pending_mu_);
    const auto added = std::find_if(pending_.additions.begin(), pending_.additions.end(),
                                    [&](const Entry& e) { return e.block == &block; });
    if (added != pending_.additions.end()) {
      pending_.additions.erase(added);  // registered and unregistered within walks: no-op
      return Ok{};
    }
    if (!isListed(block) || isIn(pending_.removals, &block)) return notRegistered();
    pending_.removals.push_back(&block);
    pending_removals_.store(pending_.removals.size(), std::memory_order_release);
    has_pending_.store(true, std::memory_order_release);
    return Ok{};
  }

  // REQUIRES: pending_mu_ held.
  bool isRegisteredWithPending(const Block& block) const {
    const bool added = std::any_of(pending_.additions.begin(), pending_.additions.end(),
                                   [&](const Entry& e) { return e.block == &block; });
    return added || (isListed(block) && !isIn(pending_.removals, &block));
  }

  bool isPendingRemoval(const Block* block) const {
    if (pending_removals_.load(std::memory_order_acquire) == 0) return false;
    const std::lock_guard guard(pending_mu_);
    return isIn(pending_.removals, block);
  }

  // Applies deferred changes if no walk runs and this thread is in none of this chain's walks.
  // Never waits: a walk that ends while another runs leaves them to the last one, to the next
  // walk, or to the next registerBlock()/unregisterBlock().
  void applyPendingIfQuiet() {
    if (!has_pending_.load(std::memory_order_acquire)) return;
    if (lock_.isWalkingOnThisThread()) return;
    const detail::ChainLock::Exclusive exclusive(lock_, detail::ChainLock::Exclusive::Mode::kTry);
    if (exclusive.owns()) applyPending();
  }

  // REQUIRES: the lock held exclusive.
  void applyPending() {
    if (!has_pending_.load(std::memory_order_acquire)) return;
    const std::lock_guard guard(pending_mu_);
    for (const Block* block : pending_.removals) {
      eraseListed(block);
    }
    for (const Entry& entry : pending_.additions) {
      insertSorted(entry);
    }
    pending_ = Pending{};
    pending_removals_.store(0, std::memory_order_release);
    has_pending_.store(false, std::memory_order_release);
  }

  // REQUIRES: this thread walks the chain.
  std::vector<Block*> effectiveBlocks() const {
    const std::lock_guard guard(pending_mu_);
    std::vector<Entry> entries;
    for (const Entry& e : entries_) {
      if (!isIn(pending_.removals, e.block)) entries.push_back(e);
    }
    for (const Entry& e : pending_.additions) {
      insertSortedInto(entries, e);
    }
    std::vector<Block*> out;
    out.reserve(entries.size());
    for (const Entry& e : entries) {
      out.push_back(e.block);
    }
    return out;
  }

  static bool isIn(const std::vector<Block*>& blocks, const Block* block) {
    return std::find(blocks.begin(), blocks.end(), block) != blocks.end();
  }

  static Unexpected alreadyRegistered() {
    return makeError(Errc::kInvalidArgument, "notifier block already registered");
  }
  static Unexpected notRegistered() {
    return makeError(Errc::kNotFound, "notifier block not registered");
  }

  detail::ChainLock lock_;
  std::vector<Entry> entries_;  // by priority, descending; changes only under the exclusive lock
  mutable std::mutex pending_mu_;
  Pending pending_;
  std::atomic<bool> has_pending_{false};
  std::atomic<size_t> pending_removals_{0};  // pending_.removals.size(), for walks' fast path
};

}  // namespace oomkit::core
