// SystemPanic's actions that are safe to carry out in a test: log, crash through a fake proc
// root's sysrq-trigger (a regular file), exec of a real command; and dry runs doing nothing.
// reboot is never exercised, not even as a dry run: a mistake there would reboot the machine.
#include "oomkit/sys/panic_port.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class PanicPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "oomkit-panic-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    std::ofstream(file("sysrq-trigger"));  // empty, as a regular file stands in for procfs's
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string file(const std::string& name) const { return (root_ / name).string(); }
  std::string read(const std::string& name) const {
    std::ifstream in(file(name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  PanicRequest request(core::PanicAction action) const {
    PanicRequest r;
    r.action = action;
    r.scope_name = "web";
    r.cgroup = "/system.slice/web.service";
    r.reason = "out of memory and no killable processes";
    r.timeout = milliseconds(20000);
    return r;
  }
  PanicRequest execRequest(const std::string& script) const {
    PanicRequest r = request(core::PanicAction::kExec);
    r.command = {"/bin/sh", "-c", script};
    return r;
  }
  SystemPanic port() const { return SystemPanic(root_.string()); }

  fs::path root_;
};

TEST_F(PanicPortTest, LogIsCarriedOutAndTouchesNothing) {
  const PanicOutcome outcome = port().panic(request(core::PanicAction::kLog));

  EXPECT_TRUE(outcome.carried_out);
  EXPECT_EQ(outcome.note, "logged");
  EXPECT_EQ(outcome.exit_code, std::nullopt);
  EXPECT_EQ(read("sysrq-trigger"), "");
}

TEST_F(PanicPortTest, CrashWritesCToSysrqTrigger) {
  const PanicOutcome outcome = port().panic(request(core::PanicAction::kCrash));

  EXPECT_TRUE(outcome.carried_out);
  EXPECT_EQ(read("sysrq-trigger"), "c");
  EXPECT_NE(outcome.note.find(file("sysrq-trigger")), std::string::npos) << outcome.note;
}

TEST_F(PanicPortTest, CrashWithoutSysrqTriggerFailsAndSaysWhy) {
  fs::remove(file("sysrq-trigger"));

  const PanicOutcome outcome = port().panic(request(core::PanicAction::kCrash));

  EXPECT_FALSE(outcome.carried_out);
  EXPECT_NE(outcome.note.find("crash failed"), std::string::npos) << outcome.note;
  EXPECT_FALSE(fs::exists(file("sysrq-trigger")));  // not created: it is procfs's file
}

TEST_F(PanicPortTest, ExecRunsTheCommandWithTheScopeAndTheReason) {
  const PanicOutcome outcome = port().panic(
      execRequest("printf '%s|%s|%s' \"$OOMKIT_SCOPE\" \"$OOMKIT_CGROUP\" \"$OOMKIT_REASON\" > '" +
                  file("ran") + "'"));

  EXPECT_TRUE(outcome.carried_out);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.note, "exit code 0");
  EXPECT_EQ(read("ran"), "web|/system.slice/web.service|out of memory and no killable processes");
}

TEST_F(PanicPortTest, ExecThatFailsIsNotCarriedOut) {
  const PanicOutcome outcome = port().panic(execRequest("exit 3"));

  EXPECT_FALSE(outcome.carried_out);
  EXPECT_EQ(outcome.exit_code, 3);
  EXPECT_EQ(outcome.note, "exit code 3");
}

TEST_F(PanicPortTest, ExecIsKilledAfterItsTimeout) {
  PanicRequest r = execRequest("exec /bin/sleep 30");
  r.timeout = milliseconds(200);

  const auto start = std::chrono::steady_clock::now();
  const PanicOutcome outcome = port().panic(r);

  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
  EXPECT_FALSE(outcome.carried_out);
  EXPECT_EQ(outcome.exit_code, std::nullopt);
  EXPECT_EQ(outcome.note, "timed out after 200ms");
}

TEST_F(PanicPortTest, ExecOfAMissingProgramSaysWhich) {
  PanicRequest r = request(core::PanicAction::kExec);
  r.command = {"/nonexistent/drain-node"};

  const PanicOutcome outcome = port().panic(r);

  EXPECT_FALSE(outcome.carried_out);
  EXPECT_NE(outcome.note.find("/nonexistent/drain-node"), std::string::npos) << outcome.note;
}

TEST_F(PanicPortTest, DryRunExecRunsNothing) {
  PanicRequest r = execRequest("touch '" + file("marker") + "'");
  r.dry_run = true;

  const PanicOutcome outcome = port().panic(r);

  EXPECT_FALSE(outcome.carried_out);
  EXPECT_EQ(outcome.exit_code, std::nullopt);
  EXPECT_EQ(outcome.note.rfind("dry run: would run /bin/sh -c touch", 0), 0u) << outcome.note;
  EXPECT_FALSE(fs::exists(file("marker")));
}

TEST_F(PanicPortTest, DryRunCrashWritesNothing) {
  PanicRequest r = request(core::PanicAction::kCrash);
  r.dry_run = true;

  const PanicOutcome outcome = port().panic(r);

  EXPECT_FALSE(outcome.carried_out);
  EXPECT_EQ(outcome.note, "dry run: would crash the kernel through " + file("sysrq-trigger"));
  EXPECT_EQ(read("sysrq-trigger"), "");
}

TEST_F(PanicPortTest, DryRunLogIsNotCarriedOut) {
  PanicRequest r = request(core::PanicAction::kLog);
  r.dry_run = true;

  const PanicOutcome outcome = port().panic(r);

  EXPECT_FALSE(outcome.carried_out);
  EXPECT_EQ(outcome.note, "dry run: would log");
}

}  // namespace
}  // namespace oomkit::sys
