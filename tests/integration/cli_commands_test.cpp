// The `oomkit` command line as a user meets it: main registers only the subcommand argv[1]
// names (src/cli/main.cpp), so help and errors must still know every command, and a named
// command must still get all of its own flags.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/cli.h"

namespace oomkit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kCommandNames[] = {"rank",         "explain", "parse", "watch",
                                         "check-config", "trigger", "run"};

TEST(CliCommandsTest, HelpListsEveryCommand) {
  const CommandResult r = runOomkit({"--help"});
  EXPECT_TRUE(r.status.exitedWith(0)) << r.status.describe() << "\n" << r.err;
  for (const char* name : kCommandNames)
    EXPECT_THAT(r.out, HasSubstr(name)) << r.out;
}

TEST(CliCommandsTest, NoCommandIsBadUsageAndSaysACommandIsNeeded) {
  const CommandResult r = runOomkit({});
  EXPECT_TRUE(r.status.exitedWith(2)) << r.status.describe();
  EXPECT_THAT(r.err, HasSubstr("subcommand")) << r.err;
}

TEST(CliCommandsTest, AnUnknownCommandIsBadUsageAndNamesIt) {
  const CommandResult r = runOomkit({"rnu"});
  EXPECT_TRUE(r.status.exitedWith(2)) << r.status.describe();
  EXPECT_THAT(r.err, HasSubstr("unknown command 'rnu'")) << r.err;
  for (const char* name : kCommandNames)
    EXPECT_THAT(r.err, HasSubstr(name)) << r.err;
}

TEST(CliCommandsTest, ACommandsHelpShowsItsOwnFlagsOnly) {
  const CommandResult r = runOomkit({"run", "--help"});
  EXPECT_TRUE(r.status.exitedWith(0)) << r.status.describe() << "\n" << r.err;
  EXPECT_THAT(r.out, HasSubstr("--config"));
  EXPECT_THAT(r.out, HasSubstr("--dry-run"));
  EXPECT_THAT(r.out, Not(HasSubstr("--formula")));  // rank's and explain's
  EXPECT_THAT(r.out, Not(HasSubstr("--top")));      // rank's
}

TEST(CliCommandsTest, AnotherCommandsFlagAfterACommandIsBadUsage) {
  // Only check-config is registered for this command line; a flag that other commands take
  // must still be refused.
  const CommandResult r = runOomkit({"check-config", "--proc-root", "/proc"});
  EXPECT_TRUE(r.status.exitedWith(2)) << r.status.describe();
  EXPECT_THAT(r.err, HasSubstr("--proc-root")) << r.err;
}

}  // namespace
}  // namespace oomkit::test
