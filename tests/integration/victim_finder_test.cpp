// The global victim finder against the full ranking, on this machine's real processes.
#include "oomkit/sys/victim_finder.h"

#include <gtest/gtest.h>

#include "oomkit/sys/scope_reader.h"

#include "support/memcg.h"
#include "support/subprocess.h"

namespace oomkit::test {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

class VictimFinderLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestMemcg::skipReason().empty()) GTEST_SKIP() << TestMemcg::skipReason();
  }
};

core::RankParams kernelParams(sys::ProcReader& proc) {
  auto machine = sys::readMachineMemory(proc);
  EXPECT_TRUE(machine) << machine.error().message;
  core::RankParams params;
  params.formula =
      core::formulaForRelease(machine->kernel_release).value_or(core::Formula::kCurrent);
  params.scale = {machine->global_totalpages, machine->page_size_kb};
  params.global_totalpages = machine->global_totalpages;
  return params;
}

TEST_F(VictimFinderLiveTest, PrefilterReadsFewProcessesAndFindsTheRankingsFirst) {
  auto memcg = TestMemcg::create(256 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  // adj 1000 puts it above everything the machine runs at lower adj.
  auto top = spawnTestProcess({"--anon", "30", "--adj", "1000", "--name", "finder-top",
                               "--cgroup-procs", memcg->procsFile()});
  ASSERT_TRUE(top) << top.error().message;
  auto proc = sys::ProcReader::open("/proc");
  ASSERT_TRUE(proc);
  sys::VictimFinder finder(*proc);

  auto choice = finder.findGlobal(kernelParams(*proc));
  auto view = sys::gatherScope(*proc, sys::ScopeRequest{});
  ASSERT_TRUE(choice) << choice.error().message;
  ASSERT_TRUE(view) << view.error().message;
  const auto ranked = core::rankProcesses(view->processes, view->params);

  ASSERT_TRUE(choice->victim.has_value());
  EXPECT_EQ(choice->victim->pid, top->pid());
  EXPECT_EQ(view->processes[ranked.front().index].pid, top->pid());
  EXPECT_TRUE(choice->prefiltered);
  EXPECT_LT(choice->status_reads, choice->listed / 2) << "the pre-filter read status widely";
  EXPECT_GT(choice->victim->start_time_ticks, 0u);  // identity was read for the victim
}

TEST_F(VictimFinderLiveTest, PlainAndPrefilteredScansChooseTheSameProcess) {
  auto memcg = TestMemcg::create(256 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  auto top = spawnTestProcess({"--anon", "10", "--adj", "1000", "--name", "finder-top",
                               "--cgroup-procs", memcg->procsFile()});
  ASSERT_TRUE(top) << top.error().message;
  auto proc = sys::ProcReader::open("/proc");
  ASSERT_TRUE(proc);
  const auto params = kernelParams(*proc);
  sys::VictimFinder prefilter(*proc, sys::VictimFinder::Strategy::kPrefilter);
  sys::VictimFinder plain(*proc, sys::VictimFinder::Strategy::kPlain);

  auto a = prefilter.findGlobal(params);
  auto b = plain.findGlobal(params);

  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->victim && b->victim);
  EXPECT_EQ(a->victim->pid, top->pid());
  EXPECT_EQ(b->victim->pid, top->pid());
  EXPECT_FALSE(b->prefiltered);
  EXPECT_GT(b->status_reads, a->status_reads);
}

}  // namespace
}  // namespace oomkit::test
