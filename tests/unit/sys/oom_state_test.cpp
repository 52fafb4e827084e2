// Tests for sys::OomState: the OOM path's state shared between oomkit processes.
#include "oomkit/sys/oom_state.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

namespace oomkit::sys {
namespace {

using std::chrono::seconds;
using SteadyTime = std::chrono::steady_clock::time_point;

class OomStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oomkit-state-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(OomStateTest, ScopeKeysAreDistinctFileNames) {
  EXPECT_EQ(OomState::scopeKey("/"), "root");
  EXPECT_EQ(OomState::scopeKey(""), "root");
  EXPECT_EQ(OomState::scopeKey("/a/b"), "cg-a%2Fb");
  EXPECT_EQ(OomState::scopeKey("/a%2Fb"), "cg-a%252Fb");  // '%' is escaped too: no collision
  EXPECT_EQ(OomState::scopeKey("/web service/.x"), "cg-web%20service%2F.x");
  EXPECT_EQ(OomState::scopeKey("/root"), "cg-root");  // not the global scope's key
}

TEST_F(OomStateTest, CreatesItsDirectoryPrivate) {
  auto state = OomState::open(dir_.string());
  ASSERT_TRUE(state) << state.error().message;
  const auto perms = std::filesystem::status(dir_).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_all);
}

TEST_F(OomStateTest, AFileInTheWayIsAnError) {
  std::filesystem::create_directories(dir_.parent_path());
  {
    std::FILE* f = std::fopen(dir_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  auto state = OomState::open(dir_.string());
  ASSERT_FALSE(state);
  EXPECT_NE(state.error().message.find("not a directory"), std::string::npos);
  std::filesystem::remove(dir_);
}

TEST_F(OomStateTest, VictimsRoundTripPerScope) {
  auto state = OomState::open(dir_.string());
  ASSERT_TRUE(state);
  const SteadyTime t0{seconds(1000)};
  const VictimRecord a{123, 456789, "hog (1)\n\xff\\x", t0, t0 + seconds(5)};
  const VictimRecord b{124, 456790, "other", t0 + seconds(1), t0 + seconds(6)};
  ASSERT_TRUE(state->addVictim("/web", a));
  ASSERT_TRUE(state->addVictim("/web", b));
  ASSERT_TRUE(state->addVictim("/", b));
  EXPECT_EQ(state->victims("/web"), (std::vector<VictimRecord>{a, b}));
  EXPECT_EQ(state->victims("/"), (std::vector<VictimRecord>{b}));
  EXPECT_TRUE(state->victims("/db").empty());
  ASSERT_TRUE(state->storeVictims("/web", {}));
  EXPECT_TRUE(state->victims("/web").empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "cg-web.victims"));
}

TEST_F(OomStateTest, MalformedVictimLinesAreSkipped) {
  auto state = OomState::open(dir_.string());
  ASSERT_TRUE(state);
  const SteadyTime t0{seconds(50)};
  const VictimRecord good{77, 1, "ok", t0, t0 + seconds(3)};
  ASSERT_TRUE(state->addVictim("/x", good));
  {
    std::FILE* f = std::fopen((dir_ / "cg-x.victims").c_str(), "a");
    ASSERT_NE(f, nullptr);
    std::fputs("garbage\n-5 1 2 3 neg\n12 x 2 3 bad\n99999999999 1 2 3 big\n", f);
    std::fclose(f);
  }
  EXPECT_EQ(state->victims("/x"), (std::vector<VictimRecord>{good}));
}

TEST_F(OomStateTest, GrantedBytesAccumulatePerHandler) {
  auto state = OomState::open(dir_.string());
  ASSERT_TRUE(state);
  EXPECT_EQ(state->grantedBytes("/web", "grow"), 0u);
  ASSERT_TRUE(state->addGrantedBytes("/web", "grow", 100));
  ASSERT_TRUE(state->addGrantedBytes("/web", "grow two", 7));
  ASSERT_TRUE(state->addGrantedBytes("/web", "grow", 50));
  EXPECT_EQ(state->grantedBytes("/web", "grow"), 150u);
  EXPECT_EQ(state->grantedBytes("/web", "grow two"), 7u);
  EXPECT_EQ(state->grantedBytes("/db", "grow"), 0u);
}

TEST_F(OomStateTest, TheScopeLockExcludesOtherRuns) {
  auto state = OomState::open(dir_.string());
  ASSERT_TRUE(state);
  auto lock = state->lockScope("/web");
  ASSERT_TRUE(lock);
  // flock() conflicts between open file descriptions, also within one process: another
  // OomState (as in another oomkit process) must wait for ours. (A forked child would inherit
  // our locked descriptor and so hold the lock itself.)
  std::atomic<int> stage{0};
  std::thread other([&] {
    auto other_state = OomState::open(dir_.string());
    auto other_scope = other_state->lockScope("/db");  // another scope: free at once
    stage = other_scope ? 1 : -1;
    auto same = other_state->lockScope("/web");  // blocks until we unlock
    stage = same ? 2 : -2;
  });
  for (int i = 0; i < 1000 && stage == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(stage.load(), 1) << "the other run got /web while we held it, or /db failed";
  { auto released = std::move(*lock); }  // unlock
  other.join();
  EXPECT_EQ(stage.load(), 2);
}

}  // namespace
}  // namespace oomkit::sys
