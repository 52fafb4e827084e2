#include "oomkit/core/kill_rules.h"

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

constexpr int32_t kSelf = 4242;

Process process(int32_t pid, const char* comm, int32_t adj = 0, uint64_t flags = 0) {
  Process p;
  p.pid = pid;
  p.comm = comm;
  p.oom_score_adj = adj;
  p.flags = flags;
  p.has_mm = (flags & kPfKthread) == 0;
  return p;
}

TEST(KillRulesTest, MmSharerVerdictsFollowTheKernelAndSpareMinusThousand) {
  struct Case {
    const char* name;
    Process sharer;
    KillVerdict expected;
  };
  const Case cases[] = {
      {"ordinary sharer", process(200, "worker"), KillVerdict::kKill},
      {"positive adj", process(201, "worker", 500), KillVerdict::kKill},
      {"adj -999 is still killable", process(202, "worker", -999), KillVerdict::kKill},
      {"init pins the mm", process(1, "init"), KillVerdict::kSkipInit},
      {"kernel thread", process(2, "kthreadd", 0, kPfKthread), KillVerdict::kSkipKernelThread},
      {"oom_score_adj -1000", process(203, "vforked", kOomScoreAdjMin),
       KillVerdict::kSkipScoreAdjMin},
      {"oomkit itself", process(kSelf, "oomkit"), KillVerdict::kSkipSelf},
      {"init with adj -1000 is reported as init", process(1, "init", kOomScoreAdjMin),
       KillVerdict::kSkipInit},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(judgeMmSharer(c.sharer, kSelf), c.expected);
  }
}

TEST(KillRulesTest, GroupMembersWithMinusThousandOrInitAreSpared) {
  EXPECT_EQ(judgeGroupMember(process(300, "svc"), kSelf), KillVerdict::kKill);
  EXPECT_EQ(judgeGroupMember(process(301, "svc", kOomScoreAdjMin), kSelf),
            KillVerdict::kSkipScoreAdjMin);
  EXPECT_EQ(judgeGroupMember(process(1, "init"), kSelf), KillVerdict::kSkipInit);
}

TEST(KillRulesTest, VictimThatMustNeverDieIsRefused) {
  EXPECT_EQ(judgeVictim(process(100, "hog"), kSelf), KillVerdict::kKill);
  EXPECT_EQ(judgeVictim(process(1, "init"), kSelf), KillVerdict::kSkipInit);
  EXPECT_EQ(judgeVictim(process(2, "kthreadd", 0, kPfKthread), kSelf),
            KillVerdict::kSkipKernelThread);
  EXPECT_EQ(judgeVictim(process(100, "hog", kOomScoreAdjMin), kSelf),
            KillVerdict::kSkipScoreAdjMin);
  EXPECT_EQ(judgeVictim(process(kSelf, "oomkit"), kSelf), KillVerdict::kSkipSelf);
}

TEST(KillRulesTest, PinnedMessageIsTheKernels) {
  EXPECT_EQ(mmPinnedMessage(process(1234, "hog"), process(1, "init")),
            "oom killer 1234 (hog) has mm pinned by 1 (init)");
}

TEST(KillRulesTest, VerdictNamesAreStable) {
  EXPECT_EQ(verdictName(KillVerdict::kKill), "kill");
  EXPECT_EQ(verdictName(KillVerdict::kSkipInit), "init");
  EXPECT_EQ(verdictName(KillVerdict::kSkipKernelThread), "kernel thread");
  EXPECT_EQ(verdictName(KillVerdict::kSkipScoreAdjMin), "oom_score_adj -1000");
  EXPECT_EQ(verdictName(KillVerdict::kSkipSelf), "oomkit itself");
}

TEST(KillRulesTest, GroupCandidatesRunFromTheVictimUpToTheDomain) {
  using V = std::vector<std::string>;
  EXPECT_EQ(oomGroupCandidates("/a/b/c", "/a"), (V{"/a/b/c", "/a/b", "/a"}));
  EXPECT_EQ(oomGroupCandidates("/a/b/c", "/"), (V{"/a/b/c", "/a/b", "/a", "/"}));
  EXPECT_EQ(oomGroupCandidates("/a/b/c", ""), (V{"/a/b/c", "/a/b", "/a", "/"}));
  EXPECT_EQ(oomGroupCandidates("/a/b", "/a/b"), (V{"/a/b"}));
}

TEST(KillRulesTest, NoGroupForARootVictimOrOneOutsideTheDomain) {
  EXPECT_TRUE(oomGroupCandidates("/", "/").empty());
  EXPECT_TRUE(oomGroupCandidates("", "/").empty());
  EXPECT_TRUE(oomGroupCandidates("/x/y", "/a").empty());
  EXPECT_TRUE(oomGroupCandidates("/ab/c", "/a").empty());  // a prefix is not an ancestor
}

TEST(KillRulesTest, TheHighestGroupOnTheChainWins) {
  const std::vector<OomGroupFlag> chain = {
      {"/a/b/c", true}, {"/a/b", false}, {"/a", true}, {"/", false}};

  EXPECT_EQ(selectOomGroup(chain), "/a");
}

TEST(KillRulesTest, TheVictimsOwnCgroupIsAGroupWhenNothingAboveIs) {
  const std::vector<OomGroupFlag> chain = {{"/a/b", true}, {"/a", false}};

  EXPECT_EQ(selectOomGroup(chain), "/a/b");
}

TEST(KillRulesTest, NoGroupWhenNoCgroupOnTheChainIsSet) {
  const std::vector<OomGroupFlag> chain = {{"/a/b", false}, {"/a", false}};

  EXPECT_EQ(selectOomGroup(chain), std::nullopt);
  EXPECT_EQ(selectOomGroup({}), std::nullopt);
}

}  // namespace
}  // namespace oomkit::core
