// validateConfig(): each rule of docs/config.md "Validation", one mutation of a valid
// configuration at a time, with the exact key and message.
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/config.h"

namespace oomkit::core {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kGiB = 1ULL << 30;

HandlerConfig execHandler(std::string name) {
  HandlerConfig h;
  h.type = HandlerType::kExec;
  h.name = std::move(name);
  h.exec.command = {"/usr/local/bin/free-caches", "--now"};
  return h;
}

HandlerConfig growLimitHandler() {
  HandlerConfig h;
  h.type = HandlerType::kGrowLimit;
  h.name = "grow-limit";
  h.grow_limit.step_bytes = kGiB / 2;
  h.grow_limit.reserve_bytes = 2 * kGiB;
  h.grow_limit.ceiling_bytes = 8 * kGiB;
  return h;
}

// scope[0] "machine" (global), scope[1] "web" (a cgroup, with handlers).
Config validConfig() {
  Config config;
  ScopeConfig machine;
  machine.name = "machine";
  ScopeConfig web;
  web.name = "web";
  web.cgroup = "/system.slice/web.service";
  web.watermarks = {MemoryAmount::ofBytes(kGiB), MemoryAmount::ofBytes(2 * kGiB),
                    MemoryAmount::ofBytes(3 * kGiB)};
  web.psi = PsiConfig{.some_threshold = 150ms, .full_threshold = 100ms, .window = 1s};
  web.handlers = {execHandler("free-caches"), growLimitHandler()};
  config.scopes = {machine, web};
  return config;
}

TEST(ValidateConfigTest, AcceptsAValidConfiguration) {
  EXPECT_TRUE(validateConfig(validConfig()).empty());
}

TEST(ValidateConfigTest, AcceptsEveryPanicActionAndHandlerType) {
  Config config = validConfig();
  config.scopes[0].policy.panic_action = PanicAction::kExec;
  config.scopes[0].panic_command = {"/usr/local/sbin/drain-node"};
  HandlerConfig reclaim;
  reclaim.type = HandlerType::kMemoryReclaim;
  reclaim.name = "reclaim";
  reclaim.memory_reclaim.amount = MemoryAmount::ofPercent(5);
  config.scopes[0].handlers = {reclaim};
  config.scopes[0].cgroup = "/reclaimable";  // memory-reclaim is for cgroup scopes

  EXPECT_TRUE(validateConfig(config).empty());
  config.scopes[0].cgroup.reset();
  ASSERT_EQ(validateConfig(config).size(), 1U);
  EXPECT_EQ(validateConfig(config)[0].key, "scope[0].handler[0].type");
}

struct Case {
  std::string name;
  std::function<void(Config&)> mutate;
  std::vector<ConfigIssue> expected;
};

void expectIssues(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Config config = validConfig();
    c.mutate(config);

    const auto issues = validateConfig(config);

    EXPECT_EQ(issues, c.expected);
  }
}

TEST(ValidateConfigTest, DaemonAndScopeIdentities) {
  expectIssues({
      {"relative event log",
       [](Config& c) { c.daemon.event_log = "events.jsonl"; },
       {{"daemon.event_log",
         "must be \"-\" (standard output) or an absolute path, not 'events.jsonl'"}}},
      {"no scopes",
       [](Config& c) { c.scopes.clear(); },
       {{"scope", "at least one [[scope]] is required"}}},
      {"bad scope name",
       [](Config& c) { c.scopes[1].name = "web server"; },
       {{"scope[1].name",
         "'web server' is not a valid name (1 to 64 letters, digits, '-', '_' or '.')"}}},
      {"empty scope name",
       [](Config& c) { c.scopes[1].name = ""; },
       {{"scope[1].name", "'' is not a valid name (1 to 64 letters, digits, '-', '_' or '.')"}}},
      {"duplicate scope name",
       [](Config& c) { c.scopes[1].name = "machine"; },
       {{"scope[1].name", "duplicate scope name 'machine' (scope[0] has it too)"}}},
      {"two global scopes",
       [](Config& c) { c.scopes[1].cgroup.reset(); },
       {{"scope[1].handler[1].type",
         "grow-limit is only for cgroup scopes (it raises the cgroup's memory limit)"},
        {"scope[1]",
         "a second global scope (scope[0] 'machine' has no cgroup either); give one "
         "of them a cgroup"}}},
      {"same cgroup twice",
       [](Config& c) {
         c.scopes.push_back(c.scopes[1]);
         c.scopes[2].name = "web2";
       },
       {{"scope[2].cgroup",
         "cgroup '/system.slice/web.service' is already the scope 'web' (scope[1])"}}},
  });
}

TEST(ValidateConfigTest, CgroupPathsAreAbsoluteAndCanonical) {
  const std::string absolute =
      " is not an absolute cgroup path such as \"/system.slice/web.service\"";
  expectIssues({
      {"root",
       [](Config& c) { c.scopes[1].cgroup = "/"; },
       {{"scope[1].cgroup", "'/' is the root cgroup; leave cgroup out for the global scope"}}},
      {"relative",
       [](Config& c) { c.scopes[1].cgroup = "system.slice"; },
       {{"scope[1].cgroup", "'system.slice'" + absolute}}},
      {"empty", [](Config& c) { c.scopes[1].cgroup = ""; }, {{"scope[1].cgroup", "''" + absolute}}},
      {"trailing slash",
       [](Config& c) { c.scopes[1].cgroup = "/a/"; },
       {{"scope[1].cgroup", "'/a/'" + absolute}}},
      {"double slash",
       [](Config& c) { c.scopes[1].cgroup = "/a//b"; },
       {{"scope[1].cgroup", "'/a//b'" + absolute}}},
      {"dot dot",
       [](Config& c) { c.scopes[1].cgroup = "/a/../b"; },
       {{"scope[1].cgroup", "'/a/../b'" + absolute}}},
      {"takeover of the global scope",
       [](Config& c) { c.scopes[0].takeover = true; },
       {{"scope[0].takeover", "takeover is only for cgroup scopes"}}},
  });
}

TEST(ValidateConfigTest, WatermarksAreOfOneKindAndStrictlyIncreasing) {
  expectIssues({
      {"min equals low",
       [](Config& c) { c.scopes[0].watermarks.min = MemoryAmount::ofPercent(10); },
       {{"scope[0].watermarks.low", "low (10%) must be above min (10%)"}}},
      {"high below low",
       [](Config& c) { c.scopes[1].watermarks.high = MemoryAmount::ofBytes(kGiB); },
       {{"scope[1].watermarks.high", "high (1G) must be above low (2G)"}}},
      {"all reversed",
       [](Config& c) {
         c.scopes[0].watermarks = {MemoryAmount::ofPercent(15), MemoryAmount::ofPercent(10),
                                   MemoryAmount::ofPercent(5)};
       },
       {{"scope[0].watermarks.low", "low (10%) must be above min (15%)"},
        {"scope[0].watermarks.high", "high (5%) must be above low (10%)"}}},
      {"mixed kinds",
       [](Config& c) { c.scopes[0].watermarks.high = MemoryAmount::ofBytes(kGiB); },
       {{"scope[0].watermarks", "min, low and high must all be percentages or all sizes"}}},
  });
}

TEST(ValidateConfigTest, SamplingIntervalsAreOrderedAndBoundedAndTheRateIsReal) {
  expectIssues({
      {"zero min_interval",
       [](Config& c) { c.scopes[0].sampling.min_interval = 0ms; },
       {{"scope[0].sampling.min_interval", "must be above 0"}}},
      {"max below min",
       [](Config& c) {
         c.scopes[1].sampling.min_interval = 500ms;
         c.scopes[1].sampling.max_interval = 100ms;
       },
       {{"scope[1].sampling.max_interval",
         "must be at least min_interval (500ms) and at most 1m, not 100ms"}}},
      {"max above a minute",
       [](Config& c) { c.scopes[0].sampling.max_interval = 61s; },
       {{"scope[0].sampling.max_interval",
         "must be at least min_interval (5ms) and at most 1m, not 61s"}}},
      {"fill rate below 1M",
       [](Config& c) { c.scopes[0].sampling.fill_rate_bytes = 1000; },
       {{"scope[0].sampling.fill_rate", "must be at least 1M (per second), not 1000"}}},
  });
}

TEST(ValidateConfigTest, PsiThresholdsFitTheKernelsTriggerLimits) {
  expectIssues({
      {"no threshold",
       [](Config& c) { c.scopes[1].psi = PsiConfig{}; },
       {{"scope[1].psi", "needs some_threshold, full_threshold or both"}}},
      {"window too short",
       [](Config& c) { c.scopes[1].psi->window = 100ms; },
       {{"scope[1].psi.window",
         "must be between 500ms and 10s (the kernel's limits for a PSI "
         "trigger), not 100ms"}}},
      {"window too long",
       [](Config& c) { c.scopes[1].psi->window = 11s; },
       {{"scope[1].psi.window",
         "must be between 500ms and 10s (the kernel's limits for a PSI "
         "trigger), not 11s"}}},
      {"threshold above the window",
       [](Config& c) { c.scopes[1].psi->some_threshold = 2s; },
       {{"scope[1].psi.some_threshold", "must be above 0 and at most the window (1s), not 2s"}}},
      {"zero threshold",
       [](Config& c) { c.scopes[1].psi->full_threshold = 0ms; },
       {{"scope[1].psi.full_threshold", "must be above 0 and at most the window (1s), not 0ms"}}},
  });
}

TEST(ValidateConfigTest, PolicyAndKillOptions) {
  expectIssues({
      {"panic_on_oom 3",
       [](Config& c) { c.scopes[0].policy.panic_on_oom = PanicOnOom{3}; },
       {{"scope[0].policy.panic_on_oom", "must be 0, 1 or 2 (as vm.panic_on_oom), not 3"}}},
      {"exec without command",
       [](Config& c) { c.scopes[0].policy.panic_action = PanicAction::kExec; },
       {{"scope[0].policy.panic_action", "\"exec\" needs a panic_command"}}},
      {"command without exec",
       [](Config& c) { c.scopes[0].panic_command = {"/sbin/drain"}; },
       {{"scope[0].policy.panic_command", "is only used with panic_action = \"exec\""}}},
      {"relative panic command",
       [](Config& c) {
         c.scopes[0].policy.panic_action = PanicAction::kExec;
         c.scopes[0].panic_command = {"drain"};
       },
       {{"scope[0].policy.panic_command",
         "the program must be an absolute path (no PATH search), not 'drain'"}}},
      {"zero panic command timeout",
       [](Config& c) { c.scopes[0].panic_command_timeout = 0ms; },
       {{"scope[0].policy.panic_command_timeout", "must be above 0"}}},
      {"zero grace",
       [](Config& c) { c.scopes[0].kill.sigterm_grace = 0ms; },
       {{"scope[0].kill.sigterm_grace", "must be above 0"}}},
      {"zero reap timeout",
       [](Config& c) { c.scopes[0].policy.reap_timeout = Seconds(0); },
       {{"scope[0].kill.reap_timeout", "must be above 0"}}},
  });
}

TEST(ValidateConfigTest, Handlers) {
  expectIssues({
      {"duplicate handler name",
       [](Config& c) { c.scopes[1].handlers[1].name = "free-caches"; },
       {{"scope[1].handler[1].name",
         "duplicate handler name 'free-caches' (scope[1].handler[0] has it too)"}}},
      {"bad handler name",
       [](Config& c) { c.scopes[1].handlers[0].name = "a/b"; },
       {{"scope[1].handler[0].name",
         "'a/b' is not a valid name (1 to 64 letters, digits, '-', '_' or '.')"}}},
      {"exec without command",
       [](Config& c) { c.scopes[1].handlers[0].exec.command.clear(); },
       {{"scope[1].handler[0].command", "must not be empty"}}},
      {"exec of a relative program",
       [](Config& c) { c.scopes[1].handlers[0].exec.command = {"free-caches"}; },
       {{"scope[1].handler[0].command",
         "the program must be an absolute path (no PATH search), not 'free-caches'"}}},
      {"exec with zero timeout",
       [](Config& c) { c.scopes[1].handlers[0].exec.timeout = 0ms; },
       {{"scope[1].handler[0].timeout", "must be above 0"}}},
      {"grow-limit in the global scope",
       [](Config& c) { c.scopes[0].handlers = {growLimitHandler()}; },
       {{"scope[0].handler[0].type",
         "grow-limit is only for cgroup scopes (it raises the cgroup's memory limit)"}}},
      {"grow-limit step above reserve",
       [](Config& c) { c.scopes[1].handlers[1].grow_limit.step_bytes = 4 * kGiB; },
       {{"scope[1].handler[1].step", "step (4G) must not exceed reserve (2G)"}}},
      {"grow-limit zero sizes",
       [](Config& c) {
         c.scopes[1].handlers[1].grow_limit = {
             .step_bytes = 0, .reserve_bytes = 0, .ceiling_bytes = 0};
       },
       {{"scope[1].handler[1].step", "must be above 0"},
        {"scope[1].handler[1].reserve", "must be above 0"},
        {"scope[1].handler[1].ceiling", "must be above 0"}}},
      {"memory-reclaim of nothing",
       [](Config& c) {
         c.scopes[1].handlers[1].type = HandlerType::kMemoryReclaim;
         c.scopes[1].handlers[1].memory_reclaim.amount = MemoryAmount::ofPercent(0);
       },
       {{"scope[1].handler[1].amount", "must be above 0"}}},
  });
}

}  // namespace
}  // namespace oomkit::core
