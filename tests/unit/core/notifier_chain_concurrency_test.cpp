// NotifierChain as a blocking chain: walks run in parallel, registration waits for them, and
// a stress run (walkers, registrars, self-unregistering and nested handlers) keeps every
// walk's view consistent. Run under ThreadSanitizer by `make tsan`. Bounded: well under 2 s.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oomkit/core/notifier_chain.h"

namespace oomkit::core {
namespace {

using ::testing::ElementsAre;
using Clock = std::chrono::steady_clock;

// A safety net, not a timing assumption: a broken lock makes the test fail, not hang.
constexpr auto kDeadline = std::chrono::seconds(10);

template <class Pred>
bool spinUntil(Pred pred) {
  const auto deadline = Clock::now() + kDeadline;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(NotifierChainConcurrencyTest, WalksRunInParallel) {
  constexpr int kWalkers = 3;
  NotifierChain<int> chain;
  std::atomic<int> inside{0};
  NotifierBlock<int> meet{
      [&](unsigned long, int) {
        ++inside;
        // Every walker waits here for all the others: only parallel walks
        // can all get in.
        return spinUntil([&] { return inside.load() == kWalkers; }) ? kNotifyOk : kNotifyBad;
      },
      0};
  ASSERT_TRUE(chain.registerBlock(meet));
  std::vector<int> results(kWalkers);

  std::vector<std::thread> walkers;
  for (int i = 0; i < kWalkers; ++i) {
    walkers.emplace_back([&, i] { results[i] = chain.call(0, 0).result; });
  }
  for (std::thread& t : walkers) {
    t.join();
  }

  EXPECT_THAT(results, ::testing::Each(kNotifyOk));
}

// unregisterBlock() from outside a walk returns only once no call to the block is running:
// the caller may then destroy it, as after the kernel's down_write().
TEST(NotifierChainConcurrencyTest, UnregisterWaitsForTheRunningCall) {
  NotifierChain<int> chain;
  std::atomic<bool> in_handler{false};
  std::atomic<bool> unregistering{false};
  std::atomic<bool> handler_done{false};
  NotifierBlock<int> slow{[&](unsigned long, int) {
                            in_handler = true;
                            spinUntil([&] { return unregistering.load(); });
                            // Give a broken lock time to let unregisterBlock() through.
                            std::this_thread::sleep_for(std::chrono::milliseconds(20));
                            handler_done = true;
                            return kNotifyOk;
                          },
                          0};
  ASSERT_TRUE(chain.registerBlock(slow));
  bool done_when_unregistered = false;
  Status status = Ok{};

  std::thread walker([&] { chain.call(0, 0); });
  std::thread remover([&] {
    spinUntil([&] { return in_handler.load(); });
    unregistering = true;
    status = chain.unregisterBlock(slow);
    done_when_unregistered = handler_done.load();
  });
  walker.join();
  remover.join();

  EXPECT_TRUE(status);
  EXPECT_TRUE(done_when_unregistered);
  EXPECT_EQ(chain.call(0, 0).nr_calls, 0);
}

// ---- stress ----

struct Seen {
  int owner;  // registrar thread, or -1
  int priority;
  int seq;  // the owner's registration counter when the block was registered
  const void* block;
};
using Log = std::vector<Seen>;
using Chain = NotifierChain<Log*>;
using Block = Chain::Block;

struct Tracked {
  Block block;
  int owner = -1;
  std::atomic<int> seq{0};
  bool registered = false;  // only the owner reads or writes it
};

void track(Tracked& t, int owner, int priority, int result = kNotifyOk) {
  t.owner = owner;
  t.block.priority = priority;
  t.block.notifier_call = [&t, result](unsigned long, Log* log) {
    log->push_back({t.owner, t.block.priority, t.seq.load(std::memory_order_relaxed), &t.block});
    return result;
  };
}

class Violations {
 public:
  void add(const std::string& what) {
    const std::lock_guard guard(mu_);
    if (count_++ == 0) first_ = what;
  }
  int count() const { return count_.load(); }
  const std::string& first() const { return first_; }

 private:
  std::mutex mu_;
  std::atomic<int> count_{0};
  std::string first_;  // guarded by mu_; read after the threads joined
};

// The invariants of one walk: sentinels at both ends, priorities non-increasing, no block
// twice, and registration order among one registrar's equal-priority blocks.
void checkWalk(const Log& log, const NotifierCallResult& got, const Block* top, const Block* bottom,
               Violations& violations) {
  if (log.size() < 2 || log.front().block != top || log.back().block != bottom) {
    return violations.add("sentinels missing");
  }
  if (got.result != kNotifyDone || got.nr_calls != static_cast<int>(log.size())) {
    return violations.add("result or nr_calls");
  }
  for (size_t i = 1; i < log.size(); ++i) {
    const Seen& a = log[i - 1];
    const Seen& b = log[i];
    if (a.priority < b.priority) return violations.add("priority order");
    for (size_t j = 0; j < i; ++j) {
      if (log[j].block == b.block) return violations.add("block called twice");
      const bool same_queue =
          log[j].owner >= 0 && log[j].owner == b.owner && log[j].priority == b.priority;
      if (same_queue && log[j].seq >= b.seq) return violations.add("FIFO among equals");
    }
  }
}

TEST(NotifierChainConcurrencyTest, StressKeepsEveryWalkConsistent) {
  constexpr int kWalkers = 3;
  constexpr int kWalksEach = 2000;
  constexpr int kRegistrars = 2;
  constexpr int kBlocksEach = 6;
  constexpr int kChangesEach = kWalkers * kWalksEach / kRegistrars;
  constexpr int kSlack = 8;  // how far walks and changes may run ahead of each other
  Chain chain;
  Violations violations;

  Tracked top;
  Tracked bottom;
  track(top, -1, 100);
  track(bottom, -1, -100, kNotifyDone);
  ASSERT_TRUE(chain.registerBlock(top.block));
  ASSERT_TRUE(chain.registerBlock(bottom.block));

  // Unregisters itself from inside walks; registrar 0 keeps registering it again.
  std::atomic<int> flaps{0};
  Block flapper{[&](unsigned long, Log* log) {
                  log->push_back({-1, 0, 0, &flapper});
                  const Status s = chain.unregisterBlock(flapper);
                  // Two walks may call it at once: the second unregister finds it gone.
                  if (s) ++flaps;
                  if (!s && s.error().code != Errc::kNotFound) violations.add("flapper unregister");
                  return kNotifyOk;
                },
                0};
  // Walks its own chain from inside a walk: one nested call, which must be `top`.
  Block nester{[&](unsigned long, Log* log) {
                 log->push_back({-1, 50, 0, &nester});
                 Log nested;
                 const NotifierCallResult got = chain.call(0, &nested, 1);
                 if (got.nr_calls != 1 || nested.at(0).block != &top.block) {
                   violations.add("nested walk");
                 }
                 return kNotifyOk;
               },
               50};
  ASSERT_TRUE(chain.registerBlock(nester));
  ASSERT_TRUE(chain.registerBlock(flapper));  // so that at least one walk unregisters it

  std::vector<std::vector<Tracked>> owned(kRegistrars);
  for (int r = 0; r < kRegistrars; ++r) {
    owned[r] = std::vector<Tracked>(kBlocksEach);
    for (int i = 0; i < kBlocksEach; ++i) {
      track(owned[r][i], r, i % 3 - 1);
    }
  }

  // Everyone starts together, and walks and changes keep pace with each other, so that they
  // overlap even on two CPUs, where the scheduler would otherwise run them one after another.
  std::atomic<int> ready{0};
  std::atomic<int> walks{0};
  std::atomic<int> changes{0};
  auto startTogether = [&] {
    ++ready;
    spinUntil([&] { return ready.load() == kWalkers + kRegistrars; });
  };
  auto registrar = [&](int r) {
    startTogether();
    std::mt19937 rng(1234 + r);
    int seq = 0;
    for (int n = 0; n < kChangesEach && violations.count() == 0; ++n) {
      if (!spinUntil([&] { return changes.load() <= walks.load() + kSlack; })) break;
      Tracked& t = owned[r][rng() % kBlocksEach];
      if (t.registered) {
        if (!chain.unregisterBlock(t.block)) violations.add("unregister own block");
      } else {
        t.seq.store(++seq, std::memory_order_relaxed);
        if (!chain.registerBlock(t.block)) violations.add("register own block");
      }
      t.registered = !t.registered;
      if (r == 0) {
        const Status s = chain.registerBlock(flapper);
        if (!s && s.error().code != Errc::kInvalidArgument) violations.add("flapper register");
      }
      ++changes;
    }
  };
  auto walker = [&] {
    startTogether();
    for (int n = 0; n < kWalksEach && violations.count() == 0; ++n) {
      if (!spinUntil([&] { return walks.load() <= changes.load() + kSlack; })) break;
      Log log;
      const NotifierCallResult got = chain.call(0, &log);
      checkWalk(log, got, &top.block, &bottom.block, violations);
      ++walks;
    }
  };

  std::vector<std::thread> threads;
  for (int r = 0; r < kRegistrars; ++r) {
    threads.emplace_back(registrar, r);
  }
  for (int w = 0; w < kWalkers; ++w) {
    threads.emplace_back(walker);
  }
  for (std::thread& t : threads) {
    t.join();
  }

  EXPECT_EQ(violations.count(), 0) << violations.first();
  EXPECT_GT(flaps.load(), 0);
  for (auto& blocks : owned) {
    for (Tracked& t : blocks) {
      if (t.registered) {
        EXPECT_TRUE(chain.unregisterBlock(t.block));
      }
    }
  }
  (void)chain.unregisterBlock(flapper);  // Ok or kNotFound: it may have just unregistered
  ASSERT_TRUE(chain.unregisterBlock(nester));
  EXPECT_THAT(chain.blocks(), ElementsAre(&top.block, &bottom.block));
  Log last;
  EXPECT_EQ(chain.call(0, &last).nr_calls, 2);
}

}  // namespace
}  // namespace oomkit::core
