// Handlers that change their own chain during a walk: the kernel's blocking chain deadlocks
// there (down_write under down_read); NotifierChain defers the change (notifier_chain.h).
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oomkit/core/notifier_chain.h"

namespace oomkit::core {
namespace {

using ::testing::ElementsAre;

using Chain = NotifierChain<std::vector<std::string>*>;
using Block = Chain::Block;

// A block that records its name, then runs `also` (if any) with the chain.
Block block(const char* name, int priority, std::function<void()> also = nullptr,
            int result = kNotifyOk) {
  return Block{
      [name, also = std::move(also), result](unsigned long, std::vector<std::string>* calls) {
        calls->push_back(name);
        if (also) also();
        return result;
      },
      priority};
}

std::vector<std::string> walk(Chain& chain) {
  std::vector<std::string> calls;
  chain.call(0, &calls);
  return calls;
}

TEST(NotifierChainReentrancyTest, HandlerMayUnregisterItself) {
  Chain chain;
  Status status = Ok{};
  Block a = block("a", 2, [&] { status = chain.unregisterBlock(a); });
  Block b = block("b", 1);
  ASSERT_TRUE(chain.registerBlock(a));
  ASSERT_TRUE(chain.registerBlock(b));

  const std::vector<std::string> first = walk(chain);

  EXPECT_TRUE(status) << status.error().message;
  EXPECT_THAT(first, ElementsAre("a", "b"));
  EXPECT_THAT(walk(chain), ElementsAre("b"));
  EXPECT_THAT(chain.blocks(), ElementsAre(&b));
  EXPECT_EQ(chain.unregisterBlock(a).error().code, Errc::kNotFound);
}

TEST(NotifierChainReentrancyTest, BlockUnregisteredDuringAWalkIsSkippedByIt) {
  Chain chain;
  Block c = block("c", 0);
  Block a = block("a", 2, [&] { ASSERT_TRUE(chain.unregisterBlock(c)); });
  Block b = block("b", 1);
  ASSERT_TRUE(chain.registerBlock(a));
  ASSERT_TRUE(chain.registerBlock(b));
  ASSERT_TRUE(chain.registerBlock(c));

  EXPECT_THAT(walk(chain), ElementsAre("a", "b"));
}

TEST(NotifierChainReentrancyTest, RollbackSkipsABlockThatUnregisteredItself) {
  Chain chain;
  Block a = block("a", 2, [&] { ASSERT_TRUE(chain.unregisterBlock(a)); });
  Block b = block("b", 1);
  Block bad = block("bad", 0, nullptr, kNotifyBad);
  ASSERT_TRUE(chain.registerBlock(a));
  ASSERT_TRUE(chain.registerBlock(b));
  ASSERT_TRUE(chain.registerBlock(bad));
  std::vector<std::string> calls;

  EXPECT_EQ(chain.callRobust(1, 2, &calls), kNotifyBad);

  // The rollback covers the handlers before the failing one, minus a, which may already be
  // gone. (Counting nr - 1 = 2 calls over the chain as it now is, as a raw kernel chain whose
  // first block unlinked itself would, would call b and then the failing handler itself.)
  EXPECT_THAT(calls, ElementsAre("a", "b", "bad", "b"));
}

TEST(NotifierChainReentrancyTest, BlockRegisteredDuringAWalkRunsFromTheNextWalk) {
  Chain chain;
  Block late = block("late", 10);
  Status status = makeError(Errc::kIo, "not called");
  Block a = block("a", 0, [&] {
    if (status) return;
    status = chain.registerBlock(late);
  });
  ASSERT_TRUE(chain.registerBlock(a));

  const std::vector<std::string> first = walk(chain);

  EXPECT_TRUE(status) << status.error().message;
  EXPECT_THAT(first, ElementsAre("a"));
  EXPECT_THAT(walk(chain), ElementsAre("late", "a"));
  EXPECT_EQ(chain.registerBlock(late).error().code, Errc::kInvalidArgument);
}

TEST(NotifierChainReentrancyTest, ErrorsInsideAWalkAreTheSameAsOutside) {
  Chain chain;
  Block stranger = block("stranger", 0);
  Status duplicate = Ok{};
  Status unknown = Ok{};
  Block a = block("a", 0, [&] {
    duplicate = chain.registerBlock(a);
    unknown = chain.unregisterBlock(stranger);
  });
  ASSERT_TRUE(chain.registerBlock(a));

  walk(chain);

  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Errc::kInvalidArgument);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  EXPECT_THAT(chain.blocks(), ElementsAre(&a));
}

TEST(NotifierChainReentrancyTest, RegisterThenUnregisterInOneWalkChangesNothing) {
  Chain chain;
  Block temp = block("temp", 5);
  Block a = block("a", 0, [&] {
    ASSERT_TRUE(chain.registerBlock(temp));
    ASSERT_TRUE(chain.unregisterBlock(temp));
    EXPECT_EQ(chain.unregisterBlock(temp).error().code, Errc::kNotFound);
  });
  ASSERT_TRUE(chain.registerBlock(a));

  walk(chain);

  EXPECT_THAT(chain.blocks(), ElementsAre(&a));
  EXPECT_EQ(chain.unregisterBlock(temp).error().code, Errc::kNotFound);
}

TEST(NotifierChainReentrancyTest, ReRegisteringItselfMovesABlockBehindItsEquals) {
  Chain chain;
  bool moved = false;
  Block a = block("a", 0, [&] {
    if (moved) return;
    moved = true;
    ASSERT_TRUE(chain.unregisterBlock(a));
    ASSERT_TRUE(chain.registerBlock(a));
  });
  Block b = block("b", 0);
  Block c = block("c", 0);
  ASSERT_TRUE(chain.registerBlock(a));
  ASSERT_TRUE(chain.registerBlock(b));
  ASSERT_TRUE(chain.registerBlock(c));

  EXPECT_THAT(walk(chain), ElementsAre("a", "b", "c"));
  EXPECT_THAT(walk(chain), ElementsAre("b", "c", "a"));
}

TEST(NotifierChainReentrancyTest, BlocksInsideAWalkShowDeferredChanges) {
  Chain chain;
  Block added = block("added", 3);
  Block b = block("b", 1);
  std::vector<Block*> seen;
  Block a = block("a", 2, [&] {
    ASSERT_TRUE(chain.registerBlock(added));
    ASSERT_TRUE(chain.unregisterBlock(b));
    seen = chain.blocks();
  });
  ASSERT_TRUE(chain.registerBlock(a));
  ASSERT_TRUE(chain.registerBlock(b));

  walk(chain);

  EXPECT_THAT(seen, ElementsAre(&added, &a));
  EXPECT_THAT(chain.blocks(), ElementsAre(&added, &a));
}

TEST(NotifierChainReentrancyTest, HandlerMayWalkItsOwnChain) {
  Chain chain;
  int depth = 0;
  std::vector<std::string> inner;
  Block a = block("a", 1, [&] {
    if (depth++ > 0) return;
    chain.call(0, &inner);
  });
  Block b = block("b", 0);
  ASSERT_TRUE(chain.registerBlock(a));
  ASSERT_TRUE(chain.registerBlock(b));

  EXPECT_THAT(walk(chain), ElementsAre("a", "b"));
  EXPECT_THAT(inner, ElementsAre("a", "b"));
}

TEST(NotifierChainReentrancyTest, ChangeFromANestedWalkWaitsForTheOutermost) {
  Chain chain;
  Block late = block("late", 5);
  int depth = 0;
  std::vector<std::string> inner_after;
  Block a = block("a", 1, [&] {
    if (depth++ > 0) return;
    std::vector<std::string> inner;
    chain.call(0, &inner);  // a nested walk that ends before the change below
    ASSERT_TRUE(chain.registerBlock(late));
    chain.call(0, &inner_after, 1);
  });
  ASSERT_TRUE(chain.registerBlock(a));

  walk(chain);

  EXPECT_THAT(inner_after, ElementsAre("a"));  // not yet applied inside the outer walk
  EXPECT_THAT(walk(chain), ElementsAre("late", "a"));
}

TEST(NotifierChainReentrancyTest, HandlerMayChangeAnotherChainAtOnce) {
  Chain chain;
  Chain other;
  Block o = block("o", 0);
  Block a = block("a", 0, [&] {
    ASSERT_TRUE(other.registerBlock(o));
    std::vector<std::string> calls;
    other.call(0, &calls);
    EXPECT_THAT(calls, ElementsAre("o"));
  });
  ASSERT_TRUE(chain.registerBlock(a));

  walk(chain);

  EXPECT_THAT(other.blocks(), ElementsAre(&o));
}

}  // namespace
}  // namespace oomkit::core
