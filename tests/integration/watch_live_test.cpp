// Live tests of `oomkit watch`: a real memory cgroup, a hog pushed over its limit, and the
// kernel's OOM kill seen from /dev/kmsg — or, when the report is lost, from the counters.
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include <gtest/gtest.h>

#include "support/memcg.h"
#include "support/subprocess.h"

namespace oomkit::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kMiB = 1024 * 1024;

class WatchLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestMemcg::skipReason().empty()) GTEST_SKIP() << TestMemcg::skipReason();
  }

  // Starts `oomkit watch` and waits until it follows the log (its first stderr line).
  TestProcess startWatch(std::vector<std::string> args) {
    args.insert(args.begin(), {OOMKIT_BINARY, "watch"});
    auto watch = TestProcess::spawn(args);
    EXPECT_TRUE(watch) << watch.error().message;
    if (!watch) throw std::runtime_error("oomkit watch did not start");
    for (int i = 0; i < 500 && watch->err().find("following") == std::string::npos; ++i) {
      watch->drainOutput();
      std::this_thread::sleep_for(milliseconds(10));
    }
    EXPECT_NE(watch->err().find("following"), std::string::npos) << watch->err();
    return std::move(*watch);
  }

  // A process that allocates past the memcg's limit and is OOM-killed by the kernel.
  TestProcess startHog(const TestMemcg& memcg) {
    auto hog = TestProcess::spawn({OOMKIT_TESTPROC, "--anon", "128", "--name", "watch-hog",
                                   "--cgroup-procs", memcg.procsFile()});
    EXPECT_TRUE(hog) << hog.error().message;
    if (!hog) throw std::runtime_error("hog did not start");
    return std::move(*hog);
  }

  json onlyEvent(const TestProcess& watch) {
    const std::string& out = watch.out();
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    json event = json::parse(out.substr(0, out.find('\n')), nullptr, false);
    EXPECT_FALSE(event.is_discarded()) << out;
    return event;
  }
};

TEST_F(WatchLiveTest, ReportsAKernelMemcgOomKillWithinASecond) {
  auto memcg = TestMemcg::create(64 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  TestProcess watch = startWatch({"--json", "--count", "1"});
  TestProcess hog = startHog(*memcg);

  auto hog_end = hog.waitExit(seconds(20));
  ASSERT_TRUE(hog_end) << hog_end.error().message;
  ASSERT_TRUE(hog_end->killedBy(SIGKILL)) << hog_end->describe();
  // The requirement: the kill is reported within a second of happening.
  auto watch_end = watch.waitExit(seconds(1));

  ASSERT_TRUE(watch_end) << "no report within a second: " << watch.out() << watch.err();
  EXPECT_TRUE(watch_end->exitedWith(0)) << watch_end->describe() << watch.err();
  const json event = onlyEvent(watch);
  EXPECT_EQ(event["source"], "kmsg");
  EXPECT_EQ(event["scope"], "memcg");
  EXPECT_EQ(event["memcg"], memcg->path());
  EXPECT_EQ(event["victim"]["pid"], hog.pid());
  EXPECT_EQ(event["victim"]["comm"], "watch-hog");
  EXPECT_TRUE(event["complete"].get<bool>());
  EXPECT_EQ(event["trigger"]["comm"], "watch-hog");
}

TEST_F(WatchLiveTest, CountsAKillWhoseReportNeverArrives) {
  auto memcg = TestMemcg::create(64 * kMiB);
  ASSERT_TRUE(memcg) << memcg.error().message;
  // /dev/null as the kernel log: the report is "lost", only the counters see the kill.
  TestProcess watch = startWatch({"--json", "--count", "1", "--kmsg", "/dev/null"});
  TestProcess hog = startHog(*memcg);

  auto hog_end = hog.waitExit(seconds(20));
  ASSERT_TRUE(hog_end && hog_end->killedBy(SIGKILL));
  auto watch_end = watch.waitExit(seconds(5));

  ASSERT_TRUE(watch_end) << watch.out() << watch.err();
  const json event = onlyEvent(watch);
  EXPECT_EQ(event["source"], "counter");
  EXPECT_EQ(event["scope"], "memcg");
  EXPECT_EQ(event["memcg"], memcg->path());
  EXPECT_EQ(event["kills"], 1);
  EXPECT_TRUE(event["victim"].is_null());
}

}  // namespace
}  // namespace oomkit::test
