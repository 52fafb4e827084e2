// `oomkit check-config FILE` as a user runs it: exit 0 and a summary for a good file, exit 2
// and every error (FILE:LINE:COLUMN: KEY: what) on stderr for a bad one.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/subprocess.h"

namespace oomkit::test {
namespace {

namespace fs = std::filesystem;

// A temporary directory for config files, removed with everything in it.
class CheckConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (fs::temp_directory_path() / "oomkit-check-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string writeConfig(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path);
    out << text;
    EXPECT_TRUE(out.good()) << path;
    return path;
  }

  static CommandResult checkConfig(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {OOMKIT_BINARY, "check-config"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = runCommand(argv, std::chrono::seconds(30));
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : CommandResult{};
  }

  fs::path dir_;
};

TEST_F(CheckConfigTest, AGoodFileExitsZeroWithASummary) {
  const std::string path = writeConfig("good.toml", R"([daemon]
event_log = "/var/log/oomkit/events.jsonl"

[[scope]]
name = "machine"

[[scope]]
name = "web"
cgroup = "/system.slice/web.service"
[scope.watermarks]
min = "10%"
low = "20%"
high = "25%"
)");

  const CommandResult r = checkConfig({path});

  EXPECT_TRUE(r.status.exitedWith(0)) << r.status.describe() << "\n" << r.err;
  EXPECT_EQ(r.out, path + ": ok, 2 scopes: machine (global), web (/system.slice/web.service)\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CheckConfigTest, ABadFileExitsTwoWithEveryError) {
  const std::string path = writeConfig("bad.toml", R"([[scope]]
name = "machine"
[scope.watermarks]
min = "10%"
low = "5%"
high = "15%"

[[scope]]
name = "other"
takeover = "yes"
)");

  const CommandResult r = checkConfig({path});

  EXPECT_TRUE(r.status.exitedWith(2)) << r.status.describe();
  EXPECT_EQ(r.err, path + ":5:7: scope[0].watermarks.low: low (5%) must be above min (10%)\n" +
                       path + ":10:12: scope[1].takeover: expected a boolean, got a string\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(CheckConfigTest, ASyntaxErrorExitsTwoWithItsLineAndColumn) {
  const std::string path = writeConfig("syntax.toml", "[[scope]]\nname = \"m\nx = 1\n");

  const CommandResult r = checkConfig({path});

  EXPECT_TRUE(r.status.exitedWith(2)) << r.status.describe();
  EXPECT_EQ(r.err.rfind(path + ":2:", 0), 0U) << r.err;
  EXPECT_NE(r.err.find("syntax error: "), std::string::npos) << r.err;
}

TEST_F(CheckConfigTest, AMissingFileExitsTwo) {
  const std::string path = (dir_ / "absent.toml").string();

  const CommandResult r = checkConfig({path});

  EXPECT_TRUE(r.status.exitedWith(2)) << r.status.describe();
  EXPECT_EQ(r.err, path + ": No such file or directory\n");
}

TEST_F(CheckConfigTest, NoFileIsBadUsage) {
  const CommandResult r = checkConfig({});

  EXPECT_TRUE(r.status.exitedWith(2)) << r.status.describe();
  EXPECT_NE(r.err.find("file is required"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace oomkit::test
