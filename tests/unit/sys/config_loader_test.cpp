// The config loader: good files become the model; each bad file gives exactly the expected
// "FILE:LINE:COLUMN: KEY: what" lines.
#include "oomkit/sys/config_loader.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

using namespace std::chrono_literals;
using core::MemoryAmount;

constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kGiB = 1ULL << 30;

// The example of the daemon issue, verbatim.
constexpr std::string_view kIssueExample = R"([daemon]
event_log = "/var/log/oomkit/events.jsonl"   # "-" = stdout
dry_run = false

[[scope]]
name = "machine"          # no cgroup key = global scope
[scope.watermarks]
min = "5%"
low = "10%"
high = "15%"
[scope.policy]
panic_on_oom = 0
kill_allocating_task = false
panic_action = "log"

[[scope]]
name = "web"
cgroup = "/system.slice/web.service"
takeover = false
[scope.watermarks]
min = "10%"
low = "20%"
high = "25%"
)";

// Every table and key.
constexpr std::string_view kEveryKey = R"([daemon]
event_log = "-"
dry_run = true

[[scope]]
name = "machine"
[scope.watermarks]
min = "256M"
low = "512M"
high = "1G"
[scope.sampling]
min_interval = "10ms"
max_interval = "1s"
fill_rate = "8G"
[scope.psi]
some_threshold = "150ms"
full_threshold = "100ms"
window = "2s"
[scope.policy]
panic_on_oom = 1
kill_allocating_task = true
panic_action = "exec"
panic_command = ["/usr/local/sbin/drain-node", "--now"]
panic_command_timeout = "30s"
[scope.kill]
sigterm_first = true
sigterm_grace = "500ms"
reap_timeout = "3s"
[[scope.handler]]
type = "exec"
priority = 5
command = ["/usr/local/bin/compact"]
[[scope.handler]]
name = "drop-caches"
type = "exec"
priority = 10
command = ["/usr/local/bin/drop-caches"]
timeout = "1m"

[[scope]]
name = "batch"
cgroup = "/batch.slice"
takeover = true
[[scope.handler]]
type = "grow-limit"
priority = -1
step = "256M"
reserve = "4G"
ceiling = "16G"
[[scope.handler]]
type = "memory-reclaim"
amount = "2%"
)";

TEST(ConfigLoaderTest, LoadsTheDaemonIssuesExample) {
  const auto config = loadConfigText(kIssueExample, "oomkit.toml");

  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->daemon.event_log, "/var/log/oomkit/events.jsonl");
  EXPECT_FALSE(config->daemon.dry_run);
  ASSERT_EQ(config->scopes.size(), 2U);
  const core::ScopeConfig& machine = config->scopes[0];
  EXPECT_EQ(machine.name, "machine");
  EXPECT_TRUE(machine.isGlobal());
  EXPECT_EQ(machine.watermarks.min, MemoryAmount::ofPercent(5));
  EXPECT_EQ(machine.watermarks.high, MemoryAmount::ofPercent(15));
  EXPECT_EQ(machine.policy.panic_on_oom, core::PanicOnOom::kOff);
  EXPECT_EQ(machine.policy.panic_action, core::PanicAction::kLog);
  const core::ScopeConfig& web = config->scopes[1];
  EXPECT_EQ(web.cgroup, "/system.slice/web.service");
  EXPECT_FALSE(web.takeover);
  EXPECT_EQ(web.watermarks.low, MemoryAmount::ofPercent(20));
  EXPECT_FALSE(web.psi);
  EXPECT_TRUE(web.handlers.empty());
  // No [scope.sampling]: the defaults.
  EXPECT_EQ(web.sampling.min_interval, core::kDefaultMinSampleInterval);
  EXPECT_EQ(web.sampling.max_interval, core::kDefaultMaxSampleInterval);
  EXPECT_EQ(web.sampling.fill_rate_bytes, core::kDefaultFillRateBytes);
}

TEST(ConfigLoaderTest, LoadsEveryKeyOfAScope) {
  const auto config = loadConfigText(kEveryKey, "oomkit.toml");

  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->daemon.dry_run);
  const core::ScopeConfig& machine = config->scopes.at(0);
  EXPECT_EQ(machine.watermarks.min, MemoryAmount::ofBytes(256 * kMiB));
  EXPECT_EQ(machine.sampling.min_interval, 10ms);
  EXPECT_EQ(machine.sampling.max_interval, 1s);
  EXPECT_EQ(machine.sampling.fill_rate_bytes, 8 * 1024 * kMiB);
  ASSERT_TRUE(machine.psi);
  EXPECT_EQ(machine.psi->some_threshold, 150ms);
  EXPECT_EQ(machine.psi->full_threshold, 100ms);
  EXPECT_EQ(machine.psi->window, 2s);
  EXPECT_EQ(machine.policy.panic_on_oom, core::PanicOnOom::kGlobalOnly);
  EXPECT_TRUE(machine.policy.kill_allocating_task);
  EXPECT_EQ(machine.policy.panic_action, core::PanicAction::kExec);
  EXPECT_EQ(machine.panic_command,
            (std::vector<std::string>{"/usr/local/sbin/drain-node", "--now"}));
  EXPECT_EQ(machine.panic_command_timeout, 30s);
  EXPECT_TRUE(machine.kill.sigterm_first);
  EXPECT_EQ(machine.kill.sigterm_grace, 500ms);
  EXPECT_EQ(machine.policy.reap_timeout, core::Seconds(3.0));
  ASSERT_EQ(machine.handlers.size(), 2U);
  EXPECT_EQ(machine.handlers[0].type, core::HandlerType::kExec);
  EXPECT_EQ(machine.handlers[0].name, "exec");  // the type's name by default
  EXPECT_EQ(machine.handlers[0].priority, 5);
  EXPECT_EQ(machine.handlers[0].exec.command, std::vector<std::string>{"/usr/local/bin/compact"});
  EXPECT_EQ(machine.handlers[1].name, "drop-caches");
  EXPECT_EQ(machine.handlers[1].exec.command,
            (std::vector<std::string>{"/usr/local/bin/drop-caches"}));
  EXPECT_EQ(machine.handlers[1].exec.timeout, 1min);
  const core::ScopeConfig& batch = config->scopes.at(1);
  EXPECT_TRUE(batch.takeover);
  EXPECT_EQ(batch.watermarks.min, MemoryAmount::ofPercent(5));  // the defaults
  const core::GrowLimitConfig& grow = batch.handlers.at(0).grow_limit;
  EXPECT_EQ(batch.handlers[0].priority, -1);
  EXPECT_EQ(grow.step_bytes, 256 * kMiB);
  EXPECT_EQ(grow.reserve_bytes, 4 * kGiB);
  EXPECT_EQ(grow.ceiling_bytes, 16 * kGiB);
  EXPECT_EQ(batch.handlers.at(1).memory_reclaim.amount, MemoryAmount::ofPercent(2));
}

TEST(ConfigLoaderTest, TheEmbeddedDefaultIsOneGlobalEarlyoomLikeScope) {
  const auto config = loadDefaultConfig();

  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->daemon.event_log, "-");
  EXPECT_FALSE(config->daemon.dry_run);
  ASSERT_EQ(config->scopes.size(), 1U);
  const core::ScopeConfig& machine = config->scopes[0];
  EXPECT_EQ(machine.name, "machine");
  EXPECT_TRUE(machine.isGlobal());
  EXPECT_EQ(machine.watermarks.min, MemoryAmount::ofPercent(5));
  EXPECT_EQ(machine.watermarks.low, MemoryAmount::ofPercent(10));
  EXPECT_EQ(machine.watermarks.high, MemoryAmount::ofPercent(15));
  EXPECT_FALSE(machine.psi);
  EXPECT_EQ(machine.policy.panic_on_oom, core::PanicOnOom::kOff);
  EXPECT_FALSE(machine.policy.kill_allocating_task);
  EXPECT_EQ(machine.policy.panic_action, core::PanicAction::kLog);
  EXPECT_FALSE(machine.kill.sigterm_first);
  EXPECT_EQ(machine.policy.reap_timeout, core::Seconds(5.0));
  EXPECT_TRUE(machine.handlers.empty());
}

TEST(ConfigLoaderTest, AMissingFileIsNotFound) {
  const auto config = loadConfigFile("/nonexistent/oomkit.toml");

  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, Errc::kNotFound);
  EXPECT_EQ(config.error().message, "/nonexistent/oomkit.toml: No such file or directory");
}

TEST(ConfigLoaderTest, ASyntaxErrorIsAParseErrorWithItsPosition) {
  const auto config = loadConfigText("a = 1\nb = = 2\n", "bad.toml");

  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, Errc::kParse);
  EXPECT_EQ(config.error().message,
            "bad.toml:2:5: syntax error: error while parsing value: could not determine value "
            "type");
}

// Every ```toml block of docs/config.md is a valid configuration.
TEST(ConfigLoaderTest, TheDocumentationsExamplesAreValid) {
  const std::string docs = std::string(OOMKIT_FIXTURES_DIR) + "/../../docs/config.md";
  const auto text = readFile(docs);
  ASSERT_TRUE(text) << text.error().message;
  constexpr std::string_view kOpen = "```toml\n";
  size_t blocks = 0;

  for (size_t at = text->find(kOpen); at != std::string::npos; at = text->find(kOpen, at)) {
    at += kOpen.size();
    const size_t end = text->find("```", at);
    ASSERT_NE(end, std::string::npos);
    const auto config = loadConfigText(text->substr(at, end - at), "config.md");
    EXPECT_TRUE(config) << config.error().message;
    ++blocks;
  }

  EXPECT_GE(blocks, 2U);
}

TEST(ConfigLoaderTest, ASyntaxErrorStaysOnOneLine) {
  const auto config = loadConfigText("a = fal\n", "bad.toml");

  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "bad.toml:1:8: syntax error: error while parsing boolean: expected 'false', saw "
            "'fal\\x0a'");
}

struct BadFile {
  std::string name;
  std::string_view text;
  std::string expected;  // every line, in file order
};

void expectErrors(const std::vector<BadFile>& cases) {
  for (const BadFile& c : cases) {
    SCOPED_TRACE(c.name);

    const auto config = loadConfigText(c.text, "t.toml");

    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().message, c.expected);
  }
}

TEST(ConfigLoaderTest, ReportsTheSchemasErrors) {
  expectErrors({
      {"unknown top-level key", "colour = 1\n[[scope]]\nname = \"m\"\n",
       "t.toml:1:1: colour: unknown key (known keys: daemon, scope)"},
      {"unknown scope key", "[[scope]]\nname = \"m\"\nwatermark = 1\n",
       "t.toml:3:1: scope[0].watermark: unknown key (known keys: name, cgroup, takeover, "
       "watermarks, sampling, psi, policy, kill, handler)"},
      {"unknown table", "[[scope]]\nname = \"m\"\n[scope.limits]\nx = 1\n",
       "t.toml:3:8: scope[0].limits: unknown key (known keys: name, cgroup, takeover, watermarks, "
       "sampling, psi, policy, kill, handler)"},
      {"unknown sampling key", "[[scope]]\nname = \"m\"\n[scope.sampling]\ninterval = \"1s\"\n",
       "t.toml:4:1: scope[0].sampling.interval: unknown key (known keys: min_interval, "
       "max_interval, fill_rate)"},
      {"fill rate as a number", "[[scope]]\nname = \"m\"\n[scope.sampling]\nfill_rate = 4\n",
       "t.toml:4:13: scope[0].sampling.fill_rate: expected a string such as \"512M\", got an "
       "integer"},
      {"wrong type", "[daemon]\ndry_run = \"no\"\n[[scope]]\nname = \"m\"\n",
       "t.toml:2:11: daemon.dry_run: expected a boolean, got a string"},
      {"integer as a string", "[[scope]]\nname = \"m\"\n[scope.policy]\npanic_on_oom = \"1\"\n",
       "t.toml:4:16: scope[0].policy.panic_on_oom: expected an integer, got a string"},
      {"float priority",
       "[[scope]]\nname = \"m\"\n[[scope.handler]]\ntype = \"memory-reclaim\"\npriority = 1.5\n",
       "t.toml:5:12: scope[0].handler[0].priority: expected an integer, got a float"},
      {"priority out of range",
       "[[scope]]\nname = \"m\"\n[[scope.handler]]\ntype = \"memory-reclaim\"\n"
       "priority = 3000000000\n",
       "t.toml:5:12: scope[0].handler[0].priority: must be between -2147483648 and 2147483647"},
      {"watermark as a number",
       "[[scope]]\nname = \"m\"\n[scope.watermarks]\nmin = 5\nlow = \"10%\"\nhigh = \"15%\"\n",
       "t.toml:4:7: scope[0].watermarks.min: expected a string such as \"5%\" or \"512M\", got an "
       "integer"},
      {"scope as a table", "[scope]\nname = \"m\"\n",
       "t.toml:1:1: scope: expected an array of tables ([[scope]]), got a table"},
      {"handler as a table", "[[scope]]\nname = \"m\"\n[scope.handler]\ntype = \"exec\"\n",
       "t.toml:3:1: scope[0].handler: expected an array of tables ([[scope.handler]]), got a "
       "table"},
      {"missing scope name", "[[scope]]\ncgroup = \"/a\"\n",
       "t.toml:1:1: scope[0].name: required key is missing"},
      {"missing watermark", "[[scope]]\nname = \"m\"\n[scope.watermarks]\nmin = \"5%\"\n",
       "t.toml:3:1: scope[0].watermarks.low: required key is missing\n"
       "t.toml:3:1: scope[0].watermarks.high: required key is missing"},
      {"empty file", "", "t.toml:1:1: scope: at least one [[scope]] is required"},
      {"command element not a string",
       "[[scope]]\nname = \"m\"\n[[scope.handler]]\ntype = \"exec\"\ncommand = [\"/bin/x\", 1]\n",
       "t.toml:5:22: scope[0].handler[0].command[1]: expected a string, got an integer"},
  });
}

TEST(ConfigLoaderTest, ReportsBadValues) {
  expectErrors({
      {"bad percent",
       "[[scope]]\nname = \"m\"\n[scope.watermarks]\nmin = \"105%\"\nlow = \"10%\"\n"
       "high = \"15%\"\n",
       "t.toml:4:7: scope[0].watermarks.min: '105%' is not between 0% and 100%"},
      {"bad size",
       "[[scope]]\nname = \"m\"\n[[scope.handler]]\ntype = \"memory-reclaim\"\n"
       "amount = \"1GB\"\n",
       "t.toml:5:10: scope[0].handler[0].amount: '1GB' has an unknown unit 'GB' (use K, M, G or "
       "T, or KiB, MiB, GiB or TiB)"},
      {"bad duration", "[[scope]]\nname = \"m\"\n[scope.kill]\nreap_timeout = \"5\"\n",
       "t.toml:4:16: scope[0].kill.reap_timeout: '5' has no unit (use ms, s, m or h)"},
      {"unknown panic action", "[[scope]]\nname = \"m\"\n[scope.policy]\npanic_action = \"halt\"\n",
       "t.toml:4:16: scope[0].policy.panic_action: 'halt' is not a panic action (use log, reboot, "
       "crash or exec)"},
      {"unknown handler type", "[[scope]]\nname = \"m\"\n[[scope.handler]]\ntype = \"kill\"\n",
       "t.toml:4:8: scope[0].handler[0].type: 'kill' is not a handler type (use exec, grow-limit "
       "or memory-reclaim)"},
      {"exec handler without command",
       "[[scope]]\nname = \"m\"\n[[scope.handler]]\n"
       "type = \"exec\"\n",
       "t.toml:3:1: scope[0].handler[0].command: required key is missing"},
      {"a key of another handler type",
       "[[scope]]\nname = \"m\"\ncgroup = \"/a\"\n[[scope.handler]]\ntype = \"grow-limit\"\n"
       "reserve = \"1G\"\ncommand = [\"/bin/x\"]\n",
       "t.toml:7:1: scope[0].handler[0].command: unknown key (known keys: type, name, priority, "
       "step, reserve, ceiling)"},
  });
}

TEST(ConfigLoaderTest, ReportsTheRulesAtTheirKeys) {
  expectErrors({
      {"min not below low",
       "[[scope]]\nname = \"m\"\n[scope.watermarks]\nmin = \"10%\"\nlow = \"10%\"\n"
       "high = \"15%\"\n",
       "t.toml:5:7: scope[0].watermarks.low: low (10%) must be above min (10%)"},
      {"duplicate scope name",
       "[[scope]]\nname = \"m\"\n[[scope]]\nname = \"m\"\ncgroup = \"/a\"\n",
       "t.toml:4:8: scope[1].name: duplicate scope name 'm' (scope[0] has it too)"},
      {"two global scopes", "[[scope]]\nname = \"a\"\n[[scope]]\nname = \"b\"\n",
       "t.toml:3:1: scope[1]: a second global scope (scope[0] 'a' has no cgroup either); give one "
       "of them a cgroup"},
      {"panic action exec without command",
       "[[scope]]\nname = \"m\"\n[scope.policy]\npanic_action = \"exec\"\n",
       "t.toml:4:16: scope[0].policy.panic_action: \"exec\" needs a panic_command"},
      {"psi window",
       "[[scope]]\nname = \"m\"\n[scope.psi]\nsome_threshold = \"1s\"\n"
       "window = \"20s\"\n",
       "t.toml:5:10: scope[0].psi.window: must be between 500ms and 10s (the kernel's limits for "
       "a PSI trigger), not 20s"},
      {"grow-limit in the global scope",
       "[[scope]]\nname = \"m\"\n[[scope.handler]]\ntype = \"grow-limit\"\nreserve = \"1G\"\n",
       "t.toml:4:8: scope[0].handler[0].type: grow-limit is only for cgroup scopes (it raises the "
       "cgroup's memory limit)"},
      {"duplicate handler names",
       "[[scope]]\nname = \"m\"\ncgroup = \"/m\"\n[[scope.handler]]\ntype = \"memory-reclaim\"\n"
       "[[scope.handler]]\ntype = \"memory-reclaim\"\n",
       "t.toml:6:1: scope[0].handler[1].name: duplicate handler name 'memory-reclaim' "
       "(scope[0].handler[0] has it too)"},
  });
}

TEST(ConfigLoaderTest, ReportsEveryProblemInFileOrder) {
  expectErrors({
      {"several",
       "[[scope]]\nname = \"a\"\nbogus = 1\n[[scope]]\nname = \"b\"\n[daemon]\ndry_run = 1\n",
       "t.toml:3:1: scope[0].bogus: unknown key (known keys: name, cgroup, takeover, watermarks, "
       "sampling, psi, policy, kill, handler)\n"
       "t.toml:4:1: scope[1]: a second global scope (scope[0] 'a' has no cgroup either); give "
       "one of them a cgroup\n"
       "t.toml:7:11: daemon.dry_run: expected a boolean, got an integer"},
  });
}

TEST(ConfigLoaderTest, DoesNotReportRulesOverValuesAlreadyInError) {
  expectErrors({
      {"min of the wrong type: no ordering complaint",
       "[[scope]]\nname = \"m\"\n[scope.watermarks]\nmin = 50\nlow = \"10%\"\nhigh = \"15%\"\n",
       "t.toml:4:7: scope[0].watermarks.min: expected a string such as \"5%\" or \"512M\", got an "
       "integer"},
      {"an unknown key hides nothing",
       "[[scope]]\nname = \"m\"\nwatermark = 1\n[scope.watermarks]\nmin = \"10%\"\n"
       "low = \"5%\"\nhigh = \"15%\"\n",
       "t.toml:3:1: scope[0].watermark: unknown key (known keys: name, cgroup, takeover, "
       "watermarks, sampling, psi, policy, kill, handler)\n"
       "t.toml:6:7: scope[0].watermarks.low: low (5%) must be above min (10%)"},
      {"bad handler type: no complaint about its missing command",
       "[[scope]]\nname = \"m\"\n[[scope.handler]]\ntype = 1\n",
       "t.toml:4:8: scope[0].handler[0].type: expected a string, got an integer"},
  });
}

}  // namespace
}  // namespace oomkit::sys
