#include "oomkit/core/notifier_chain.h"

#include <cerrno>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Every handler appends "name" (or "name:val" when asked) to the trace the walk passes.
struct Trace {
  std::vector<std::string> calls;
  bool with_val = false;
};
using Chain = NotifierChain<Trace*>;
using Block = Chain::Block;

struct Spec {
  std::string name;
  int priority = 0;
  int result = kNotifyOk;
};

Block recordingBlock(const Spec& spec) {
  Block block;
  block.priority = spec.priority;
  block.notifier_call = [name = spec.name, result = spec.result](unsigned long val, Trace* trace) {
    trace->calls.push_back(trace->with_val ? name + ":" + std::to_string(val) : name);
    return result;
  };
  return block;
}

// Blocks in a deque: their addresses (their identity) stay put as more are added.
std::deque<Block> registerAll(Chain& chain, const std::vector<Spec>& specs) {
  std::deque<Block> blocks;
  for (const Spec& spec : specs) {
    blocks.push_back(recordingBlock(spec));
    EXPECT_TRUE(chain.registerBlock(blocks.back())) << spec.name;
  }
  return blocks;
}

TEST(NotifierResultTest, ConstantsHaveTheKernelsBitValues) {
  EXPECT_EQ(kNotifyDone, 0x0000);
  EXPECT_EQ(kNotifyOk, 0x0001);
  EXPECT_EQ(kNotifyStopMask, 0x8000);
  EXPECT_EQ(kNotifyBad, 0x8002);
  EXPECT_EQ(kNotifyStop, 0x8001);
}

TEST(NotifierResultTest, ErrnoConversionsMatchTheKernel) {
  struct Case {
    const char* name;
    int err;
    int notify;  // notifierFromErrno(err)
    int back;    // notifierToErrno(notify)
  };
  const Case cases[] = {
      {"0 is OK", 0, kNotifyOk, 0},
      {"EPERM is NOTIFY_BAD", -EPERM, kNotifyBad, -EPERM},
      {"ENOENT", -ENOENT, 0x8000 | 3, -ENOENT},
      {"ENOMEM", -ENOMEM, 0x8000 | 13, -ENOMEM},
      {"EBUSY", -EBUSY, 0x8000 | 17, -EBUSY},
      {"MAX_ERRNO", -4095, 0x8000 | 4096, -4095},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(notifierFromErrno(c.err), c.notify);
    EXPECT_EQ(notifierToErrno(c.notify), c.back);
  }
}

TEST(NotifierResultTest, ResultsWithoutAnErrnoConvertToZero) {
  EXPECT_EQ(notifierToErrno(kNotifyDone), 0);
  EXPECT_EQ(notifierToErrno(kNotifyOk), 0);
  EXPECT_EQ(notifierToErrno(kNotifyStop), 0);
  EXPECT_EQ(notifierToErrno(kNotifyStopMask), 0);
}

TEST(NotifierResultTest, EveryErrnoRoundTripsAndStops) {
  for (int e = 1; e <= 4095; ++e) {
    const int notify = notifierFromErrno(-e);
    ASSERT_NE(notify & kNotifyStopMask, 0) << e;
    ASSERT_EQ(notifierToErrno(notify), -e) << e;
  }
}

TEST(NotifierResultTest, ConversionsAreConstexpr) {
  static_assert(notifierFromErrno(-EPERM) == kNotifyBad);
  static_assert(notifierToErrno(kNotifyBad) == -EPERM);
}

// The walk: kernel/notifier.c notifier_call_chain() and notifier_chain_register() ordering.
TEST(NotifierChainTest, WalkFollowsTheKernelsSemantics) {
  struct Case {
    const char* name;
    std::vector<Spec> blocks;  // in registration order
    int nr_to_call;
    std::vector<std::string> calls;
    int result;
    int nr_calls;
  };
  const int enomem = notifierFromErrno(-ENOMEM);
  const std::vector<Case> cases = {
      {"empty chain returns DONE", {}, -1, {}, kNotifyDone, 0},
      {"one handler", {{"a", 0, kNotifyOk}}, -1, {"a"}, kNotifyOk, 1},
      {"higher priority runs first",
       {{"low", 0}, {"high", 10}, {"mid", 5}},
       -1,
       {"high", "mid", "low"},
       kNotifyOk,
       3},
      {"equal priorities run in registration order",
       {{"a", 0}, {"b", 0}, {"top", 1}, {"c", 0}},
       -1,
       {"top", "a", "b", "c"},
       kNotifyOk,
       4},
      {"negative priorities run last",
       {{"neg", -5}, {"zero", 0}, {"min", INT32_MIN}, {"max", INT32_MAX}},
       -1,
       {"max", "zero", "neg", "min"},
       kNotifyOk,
       4},
      {"result is the last handler's",
       {{"ok", 2, kNotifyOk}, {"done", 1, kNotifyDone}},
       -1,
       {"ok", "done"},
       kNotifyDone,
       2},
      {"any non-stop value is passed through",
       {{"a", 2, kNotifyDone}, {"b", 1, 0x0042}},
       -1,
       {"a", "b"},
       0x0042,
       2},
      {"STOP ends the walk",
       {{"a", 3}, {"stop", 2, kNotifyStop}, {"never", 1}},
       -1,
       {"a", "stop"},
       kNotifyStop,
       2},
      {"BAD ends the walk", {{"bad", 3, kNotifyBad}, {"never", 1}}, -1, {"bad"}, kNotifyBad, 1},
      {"an errno result ends the walk",
       {{"a", 3}, {"enomem", 2, enomem}, {"never", 1}},
       -1,
       {"a", "enomem"},
       enomem,
       2},
      {"the stop bit alone ends the walk",
       {{"mask", 1, kNotifyStopMask}, {"never", 0}},
       -1,
       {"mask"},
       kNotifyStopMask,
       1},
      {"nr_to_call 0 calls none", {{"a", 0}, {"b", 0}}, 0, {}, kNotifyDone, 0},
      {"nr_to_call limits the walk",
       {{"a", 0, kNotifyOk}, {"b", 0, kNotifyDone}, {"c", 0}},
       2,
       {"a", "b"},
       kNotifyDone,
       2},
      {"nr_to_call above the length calls all", {{"a", 0}, {"b", 0}}, 7, {"a", "b"}, kNotifyOk, 2},
      {"STOP before nr_to_call is reached",
       {{"a", 0}, {"stop", 0, kNotifyStop}, {"c", 0}},
       3,
       {"a", "stop"},
       kNotifyStop,
       2},
      {"any negative nr_to_call means all", {{"a", 0}, {"b", 0}}, -100, {"a", "b"}, kNotifyOk, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Chain chain;
    const std::deque<Block> blocks = registerAll(chain, c.blocks);
    Trace trace;

    const NotifierCallResult got = chain.call(0, &trace, c.nr_to_call);

    EXPECT_EQ(trace.calls, c.calls);
    EXPECT_EQ(got.result, c.result);
    EXPECT_EQ(got.nr_calls, c.nr_calls);
  }
}

TEST(NotifierChainTest, PassesValAndArgToEveryHandler) {
  NotifierChain<uint64_t*> chain;
  std::vector<unsigned long> vals;
  NotifierBlock<uint64_t*> a{[&](unsigned long val, uint64_t* freed) {
                               vals.push_back(val);
                               *freed += 4096;
                               return kNotifyOk;
                             },
                             1};
  NotifierBlock<uint64_t*> b{[&](unsigned long val, uint64_t* freed) {
                               vals.push_back(val);
                               *freed += 100;
                               return kNotifyDone;
                             },
                             0};
  ASSERT_TRUE(chain.registerBlock(a));
  ASSERT_TRUE(chain.registerBlock(b));
  uint64_t freed = 0;

  const NotifierCallResult got = chain.call(7, &freed);

  EXPECT_EQ(freed, 4196u);
  EXPECT_THAT(vals, ElementsAre(7u, 7u));
  EXPECT_EQ(got.result, kNotifyDone);
}

TEST(NotifierChainTest, RegisteringTheSameBlockTwiceIsAnError) {
  Chain chain;
  Block block = recordingBlock({"a", 0});
  ASSERT_TRUE(chain.registerBlock(block));

  const Status again = chain.registerBlock(block);

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(chain.blocks(), ElementsAre(&block));
}

// The kernel scans only up to the insertion point, so raising a registered block's priority
// and registering it again would link it twice. oomkit checks the whole chain.
TEST(NotifierChainTest, DuplicateIsFoundBeyondTheInsertionPoint) {
  Chain chain;
  Block first = recordingBlock({"first", 5});
  Block dup = recordingBlock({"dup", 0});
  ASSERT_TRUE(chain.registerBlock(first));
  ASSERT_TRUE(chain.registerBlock(dup));
  dup.priority = 10;

  const Status again = chain.registerBlock(dup);

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(chain.blocks(), ElementsAre(&first, &dup));
}

TEST(NotifierChainTest, BlockWithoutHandlerIsRejected) {
  Chain chain;
  Block empty;

  const Status got = chain.registerBlock(empty);

  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(chain.blocks(), IsEmpty());
}

TEST(NotifierChainTest, UnregisteringAnUnknownBlockIsNotFound) {
  Chain chain;
  Block known = recordingBlock({"known", 0});
  Block unknown = recordingBlock({"unknown", 0});
  ASSERT_TRUE(chain.registerBlock(known));

  const Status got = chain.unregisterBlock(unknown);

  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kNotFound);
  EXPECT_THAT(chain.blocks(), ElementsAre(&known));
}

TEST(NotifierChainTest, UnregisteringTwiceIsNotFoundTheSecondTime) {
  Chain chain;
  Block block = recordingBlock({"a", 0});
  ASSERT_TRUE(chain.registerBlock(block));
  ASSERT_TRUE(chain.unregisterBlock(block));

  const Status again = chain.unregisterBlock(block);

  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kNotFound);
}

TEST(NotifierChainTest, UnregisterRemovesOnlyThatBlock) {
  Chain chain;
  std::deque<Block> blocks = registerAll(chain, {{"a", 1}, {"b", 1}, {"c", 0}});
  Trace trace;

  ASSERT_TRUE(chain.unregisterBlock(blocks[1]));
  chain.call(0, &trace);

  EXPECT_THAT(trace.calls, ElementsAre("a", "c"));
}

TEST(NotifierChainTest, ReRegisteredBlockGoesAfterItsEquals) {
  Chain chain;
  std::deque<Block> blocks = registerAll(chain, {{"a", 0}, {"b", 0}, {"c", 0}});
  Trace trace;

  ASSERT_TRUE(chain.unregisterBlock(blocks[0]));
  ASSERT_TRUE(chain.registerBlock(blocks[0]));
  chain.call(0, &trace);

  EXPECT_THAT(trace.calls, ElementsAre("b", "c", "a"));
}

TEST(NotifierChainTest, PriorityIsReadAtRegistration) {
  Chain chain;
  std::deque<Block> blocks = registerAll(chain, {{"a", 1}, {"b", 0}});
  Trace trace;

  blocks[1].priority = 100;  // a write the chain must not see until b registers again
  chain.call(0, &trace);

  EXPECT_THAT(trace.calls, ElementsAre("a", "b"));
}

// kernel/notifier.c notifier_call_chain_robust(): on a stop, the nr-1 handlers that ran
// before the failing one get val_down, in the same forward order.
TEST(NotifierChainTest, RobustCallRollsBackInForwardOrder) {
  struct Case {
    const char* name;
    std::vector<Spec> blocks;
    std::vector<std::string> calls;
    int result;
  };
  const std::vector<Case> cases = {
      {"empty chain", {}, {}, kNotifyDone},
      {"no veto, no rollback", {{"a", 2}, {"b", 1, kNotifyDone}}, {"a:1", "b:1"}, kNotifyDone},
      {"BAD rolls back the earlier handlers",
       {{"a", 3}, {"b", 2}, {"bad", 1, kNotifyBad}, {"never", 0}},
       {"a:1", "b:1", "bad:1", "a:2", "b:2"},
       kNotifyBad},
      {"STOP also rolls back",
       {{"a", 1}, {"stop", 0, kNotifyStop}},
       {"a:1", "stop:1", "a:2"},
       kNotifyStop},
      {"a veto by the first handler rolls back nothing",
       {{"bad", 1, kNotifyBad}, {"never", 0}},
       {"bad:1"},
       kNotifyBad},
      {"an errno veto",
       {{"a", 1}, {"b", 1}, {"ebusy", 0, notifierFromErrno(-EBUSY)}},
       {"a:1", "b:1", "ebusy:1", "a:2", "b:2"},
       notifierFromErrno(-EBUSY)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Chain chain;
    const std::deque<Block> blocks = registerAll(chain, c.blocks);
    Trace trace;
    trace.with_val = true;

    const int got = chain.callRobust(1, 2, &trace);

    EXPECT_EQ(trace.calls, c.calls);
    EXPECT_EQ(got, c.result);
  }
}

TEST(NotifierChainTest, HandlerExceptionLeavesTheChainUsable) {
  Chain chain;
  Block thrower{[](unsigned long, Trace*) -> int { throw std::runtime_error("boom"); }, 1};
  ASSERT_TRUE(chain.registerBlock(thrower));
  Trace trace;

  EXPECT_THROW(chain.call(0, &trace), std::runtime_error);

  EXPECT_TRUE(chain.unregisterBlock(thrower));  // would deadlock if the walk still held the lock
  EXPECT_EQ(chain.call(0, &trace).nr_calls, 0);
}

}  // namespace
}  // namespace oomkit::core
