// The exec reclaim handler with real /bin/sh commands: exit status → NOTIFY result, the
// environment it sets, freed bytes reported on stdout or measured on a fake proc root whose
// meminfo the command itself rewrites, timeouts and start failures; and the factory.
#include "sys/exec_handler.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "oomkit/core/notifier_chain.h"
#include "oomkit/sys/reclaim_handler.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr uint64_t kMiB = 1024 * 1024;

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "oomkit-exec-handler-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string meminfo(uint64_t available_kb) {
  return "MemTotal:        4000000 kB\nMemFree:          100000 kB\nMemAvailable:    " +
         std::to_string(available_kb) +
         " kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n";
}

core::ScopeConfig globalScope() {
  core::ScopeConfig scope;
  scope.name = "machine";
  return scope;
}

core::HandlerConfig execConfig(const std::string& script,
                               milliseconds timeout = milliseconds(20000)) {
  core::HandlerConfig config;
  config.type = core::HandlerType::kExec;
  config.name = "drop-caches";
  config.priority = 7;
  config.exec.command = {"/bin/sh", "-c", script};
  config.exec.timeout = timeout;
  return config;
}

OomNotification globalNotification() {
  OomNotification n;
  n.scope_name = "machine";
  n.bytes_needed = 123456789;
  return n;
}

// Builds the handler through the factory and runs it once.
HandlerOutcome runHandler(const core::HandlerConfig& config, const OomNotification& notification,
                          ProcReader* proc = nullptr,
                          const core::ScopeConfig& scope = globalScope()) {
  HandlerContext context;
  context.proc = proc;
  auto handler = makeReclaimHandler(scope, config, context);
  if (!handler) {
    ADD_FAILURE() << handler.error().message;
    return {};
  }
  return (*handler)->reclaim(notification);
}

struct ExitCase {
  std::string script;
  int result;
  std::string note;
};

TEST(ExecHandlerTest, MapsHowTheCommandEndsToANotifyResult) {
  const std::vector<ExitCase> cases = {
      {"exit 0", core::kNotifyOk, "exit code 0"},
      {"exit 1", core::kNotifyDone, "exit code 1"},
      {"exit 2", core::kNotifyStop, "exit code 2"},
      {"exit 3", core::kNotifyDone, "exit code 3"},
      {"exit 255", core::kNotifyDone, "exit code 255"},
      {"kill -KILL $$", core::kNotifyDone, "killed by signal 9 (Killed)"},
      {"kill -TERM $$", core::kNotifyDone, "killed by signal 15 (Terminated)"},
  };
  for (const ExitCase& c : cases) {
    SCOPED_TRACE(c.script);
    const HandlerOutcome outcome = runHandler(execConfig(c.script), globalNotification());

    EXPECT_EQ(outcome.result, c.result);
    EXPECT_EQ(outcome.note.substr(0, c.note.size()), c.note) << outcome.note;
  }
}

TEST(ExecHandlerTest, OutcomeCarriesTheHandlersNameTypeAndPriority) {
  const HandlerOutcome outcome = runHandler(execConfig("exit 0"), globalNotification());

  EXPECT_EQ(outcome.name, "drop-caches");
  EXPECT_EQ(outcome.type, "exec");
  EXPECT_EQ(outcome.priority, 7);
}

TEST(ExecHandlerTest, TheCommandSeesTheOomInItsEnvironment) {
  TempDir dir;
  const std::string out = dir.file("env");
  core::ScopeConfig scope = globalScope();
  scope.name = "web";
  scope.cgroup = "/system.slice/web.service";
  OomNotification notification;
  notification.scope_name = "web";
  notification.cgroup = "/system.slice/web.service";
  notification.bytes_needed = 268435456;

  const HandlerOutcome outcome = runHandler(
      execConfig("printf '%s\\n' \"$OOMKIT_SCOPE\" \"$OOMKIT_CGROUP\" \"$OOMKIT_HANDLER\" "
                 "\"$OOMKIT_BYTES_NEEDED\" > '" +
                 out + "'"),
      notification, nullptr, scope);

  EXPECT_EQ(outcome.result, core::kNotifyOk) << outcome.note;
  EXPECT_EQ(readAll(out), "web\n/system.slice/web.service\ndrop-caches\n268435456\n");
}

TEST(ExecHandlerTest, TheGlobalScopesCgroupIsSetAndEmpty) {
  TempDir dir;
  const std::string out = dir.file("env");

  runHandler(execConfig("printf '[%s]' \"${OOMKIT_CGROUP-unset}\" > '" + out + "'"),
             globalNotification());

  EXPECT_EQ(readAll(out), "[]");
}

TEST(ExecHandlerTest, FreedBytesComeFromTheLastLineOfOutput) {
  const HandlerOutcome outcome =
      runHandler(execConfig("echo 'dropping caches'; echo 1G; echo 256M; echo; echo '  '"),
                 globalNotification());

  EXPECT_EQ(outcome.result, core::kNotifyOk);
  EXPECT_EQ(outcome.freed_bytes, 256 * kMiB);
  EXPECT_EQ(outcome.note, "exit code 0; freed 256M (reported)");
}

TEST(ExecHandlerTest, ReportedSizesInEverySpelling) {
  const std::vector<std::pair<std::string, std::optional<uint64_t>>> cases = {
      {"268435456", 268435456},
      {"256M", 256 * kMiB},
      {"256MiB", 256 * kMiB},
      {"256 MiB", 256 * kMiB},
      {"  1.5G \t", 1536 * kMiB},
      {"first\n64K\n\n", 65536},
      {"0", 0},
      {"", std::nullopt},
      {"done", std::nullopt},
      {"256M\ndone", std::nullopt},
      {"-5", std::nullopt},
      {"5MB", std::nullopt},
      {"1 2", std::nullopt},
      {"10%", std::nullopt},
  };
  for (const auto& [output, bytes] : cases) {
    EXPECT_EQ(reportedFreedBytes(output), bytes) << "output: " << output;
  }
}

class ExecHandlerMeasuredTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writeMeminfo(1000000);
    auto proc = ProcReader::open(dir_.path());
    ASSERT_TRUE(proc) << proc.error().message;
    proc_.emplace(std::move(*proc));
  }
  void writeMeminfo(uint64_t available_kb) {
    std::ofstream(dir_.file("meminfo")) << meminfo(available_kb);
  }
  // A script that sets MemAvailable to `available_kb` in the fake meminfo, then runs `rest`.
  std::string rewriteThen(uint64_t available_kb, const std::string& rest) {
    return "printf '%s' '" + meminfo(available_kb) + "' > '" + dir_.file("meminfo") + "'; " + rest;
  }
  HandlerOutcome run(const std::string& script, milliseconds timeout = milliseconds(20000)) {
    return runHandler(execConfig(script, timeout), globalNotification(), &*proc_);
  }

  TempDir dir_;
  std::optional<ProcReader> proc_;
};

TEST_F(ExecHandlerMeasuredTest, WithoutAReportFreedIsTheGrowthOfAvailableMemory) {
  const HandlerOutcome outcome = run(rewriteThen(1000000 + 262144, "echo done"));

  EXPECT_EQ(outcome.result, core::kNotifyOk);
  EXPECT_EQ(outcome.freed_bytes, 256 * kMiB);
  EXPECT_EQ(outcome.note, "exit code 0; freed 256M (measured)");
}

TEST_F(ExecHandlerMeasuredTest, AReportWinsOverTheMeasurement) {
  const HandlerOutcome outcome = run(rewriteThen(1000000 + 262144, "echo 4K"));

  EXPECT_EQ(outcome.freed_bytes, 4096u);
  EXPECT_EQ(outcome.note, "exit code 0; freed 4K (reported)");
}

TEST_F(ExecHandlerMeasuredTest, ShrinkingAvailableMemoryFreedNothing) {
  const HandlerOutcome outcome = run(rewriteThen(500000, "exit 1"));

  EXPECT_EQ(outcome.result, core::kNotifyDone);
  EXPECT_EQ(outcome.freed_bytes, 0u);
  EXPECT_EQ(outcome.note, "exit code 1; freed 0 (measured)");
}

TEST_F(ExecHandlerMeasuredTest, AKilledCommandFreedNothingWhateverItSaidOrDid) {
  const HandlerOutcome outcome = run(rewriteThen(2000000, "echo 1G; kill -KILL $$"));

  EXPECT_EQ(outcome.result, core::kNotifyDone);
  EXPECT_EQ(outcome.freed_bytes, 0u);
  EXPECT_EQ(outcome.note, "killed by signal 9 (Killed)");
}

TEST_F(ExecHandlerMeasuredTest, TimeoutIsDoneAndSaysSo) {
  const HandlerOutcome outcome =
      run(rewriteThen(2000000, "echo 1G; exec /bin/sleep 30"), milliseconds(300));

  EXPECT_EQ(outcome.result, core::kNotifyDone);
  EXPECT_EQ(outcome.freed_bytes, 0u);
  EXPECT_EQ(outcome.note, "timed out after 300ms");
}

TEST_F(ExecHandlerMeasuredTest, AnUnreadableMeminfoIsNotedNotFatal) {
  const HandlerOutcome outcome = run("rm '" + dir_.file("meminfo") + "'; exit 0");

  EXPECT_EQ(outcome.result, core::kNotifyOk);
  EXPECT_EQ(outcome.freed_bytes, 0u);
  EXPECT_NE(outcome.note.find("not measured"), std::string::npos) << outcome.note;
}

TEST(ExecHandlerTest, ACommandThatCannotStartIsDoneWithTheReason) {
  core::HandlerConfig config = execConfig("");
  config.exec.command = {"/nonexistent/oomkit-reclaim"};

  const HandlerOutcome outcome = runHandler(config, globalNotification());

  EXPECT_EQ(outcome.result, core::kNotifyDone);
  EXPECT_EQ(outcome.freed_bytes, 0u);
  EXPECT_NE(outcome.note.find("/nonexistent/oomkit-reclaim"), std::string::npos) << outcome.note;
  EXPECT_NE(outcome.note.find("No such file"), std::string::npos) << outcome.note;
}

TEST(ExecHandlerTest, FactoryNamesAnUnnamedHandlerAfterItsType) {
  core::HandlerConfig config = execConfig("exit 0");
  config.name.clear();

  auto handler = makeReclaimHandler(globalScope(), config, HandlerContext{});

  ASSERT_TRUE(handler) << handler.error().message;
  EXPECT_EQ((*handler)->name(), "exec");
  EXPECT_EQ((*handler)->type(), core::HandlerType::kExec);
  EXPECT_EQ((*handler)->priority(), 7);
}

TEST(ExecHandlerTest, FactoryRejectsAnEmptyCommand) {
  core::HandlerConfig config = execConfig("exit 0");
  config.exec.command.clear();

  auto handler = makeReclaimHandler(globalScope(), config, HandlerContext{});

  ASSERT_FALSE(handler);
  EXPECT_EQ(handler.error().code, Errc::kInvalidArgument);
}

TEST(ExecHandlerTest, FactoryBuildsTheCgroupHandlersThroughTheirOwnFactories) {
  core::HandlerConfig config;
  config.type = core::HandlerType::kGrowLimit;
  config.grow_limit.reserve_bytes = 64 * kMiB;

  // grow-limit makes no sense for the global scope: its own factory says so.
  auto handler = makeReclaimHandler(globalScope(), config, HandlerContext{});

  ASSERT_FALSE(handler);
  EXPECT_EQ(handler.error().code, Errc::kInvalidArgument);
  EXPECT_NE(handler.error().message.find("grow-limit"), std::string::npos)
      << handler.error().message;
}

}  // namespace
}  // namespace oomkit::sys
