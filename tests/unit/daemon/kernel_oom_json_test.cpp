// The JSON of kernel OOM kills: `oomkit watch --json`'s objects (the report plus "source", or
// the counter-only object) and the daemon's "kernel_oom_kill" event line built from them.
#include "oomkit/daemon/kernel_oom_json.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace oomkit::daemon {
namespace {

using nlohmann::json;

core::OomReport memcgReport() {
  auto reports = core::parseOomReports(
      "hog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
      "oom_memcg=/test,task_memcg=/test,task=hog,pid=4242,uid=0\n"
      "Memory cgroup out of memory: Killed process 4242 (hog) total-vm:80000kB, "
      "anon-rss:64000kB, file-rss:1600kB, shmem-rss:0kB, UID:0 pgtables:196kB "
      "oom_score_adj:0\n");
  EXPECT_EQ(reports.size(), 1u);
  return reports.at(0);
}

json parsed(const std::string& line) {
  EXPECT_EQ(line.find('\n'), std::string::npos);
  return json::parse(line);
}

TEST(KernelOomJsonTest, TheWatchObjectIsTheReportWithItsSource) {
  KernelOomKill kill;
  kill.report = memcgReport();

  json report = parsed(formatOomReportJson(*kill.report));
  json watch = parsed(formatWatchKillJson(kill));

  EXPECT_EQ(watch["source"], "kmsg");
  watch.erase("source");
  EXPECT_EQ(watch, report);
  EXPECT_EQ(report["victim"]["pid"], 4242);
  EXPECT_EQ(report["scope"], "memcg");
  EXPECT_EQ(report["memcg"], "/test");
  EXPECT_EQ(report["trigger"]["comm"], "hog");
  EXPECT_TRUE(report["complete"].get<bool>());
}

TEST(KernelOomJsonTest, TheEventLineAddsTypeAndTime) {
  KernelOomKill kill;
  kill.report = memcgReport();
  kill.seen = SteadyTime() + std::chrono::seconds(100);

  json event = parsed(formatKernelOomKillJson(kill, std::chrono::seconds(1'700'000'000)));
  json watch = parsed(formatWatchKillJson(kill));

  EXPECT_EQ(event["type"], "kernel_oom_kill");
  EXPECT_DOUBLE_EQ(event["seen"].get<double>(), 1'700'000'100.0);
  event.erase("type");
  event.erase("seen");
  EXPECT_EQ(event, watch);
}

TEST(KernelOomJsonTest, ACounterKillHasNoVictim) {
  KernelOomKill kill;
  kill.source = KernelOomSource::kCounter;
  kill.memcg = "/a/b";
  kill.kills = 2;
  KernelOomKill global = kill;
  global.memcg.reset();

  json watch = parsed(formatWatchKillJson(kill));
  json event = parsed(formatKernelOomKillJson(global, std::chrono::nanoseconds(0)));

  EXPECT_EQ(watch, json({{"source", "counter"},
                         {"scope", "memcg"},
                         {"memcg", "/a/b"},
                         {"kills", 2},
                         {"victim", nullptr},
                         {"complete", false}}));
  EXPECT_EQ(event["type"], "kernel_oom_kill");
  EXPECT_EQ(event["source"], "counter");
  EXPECT_EQ(event["scope"], "global");
  EXPECT_TRUE(event["memcg"].is_null());
}

}  // namespace
}  // namespace oomkit::daemon
