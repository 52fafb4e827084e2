// support/cli.h — running the `oomkit` binary from live tests and reading its JSON output.
// Header-only: it needs OOMKIT_BINARY (the test targets define it) and nlohmann-json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/subprocess.h"

namespace oomkit::test {

#ifdef OOMKIT_BINARY
// Runs `oomkit args...` to completion (60 s at most); fails the test if it cannot start.
inline CommandResult runOomkit(std::vector<std::string> args) {
  args.insert(args.begin(), OOMKIT_BINARY);
  auto result = runCommand(args, std::chrono::seconds(60));
  EXPECT_TRUE(result) << result.error().message;
  return result ? *result : CommandResult{};
}
#endif

// The command's standard output as one JSON document; fails the test (with the output and
// stderr) if it is not one.
inline nlohmann::json parseJsonOutput(const CommandResult& r) {
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(out.is_discarded()) << "not JSON: " << r.out.substr(0, 500) << "\n" << r.err;
  return out;
}

// True while the child runs (it is not reaped by asking).
inline bool stillRunning(TestProcess& p) {
  return !p.waitExit(std::chrono::milliseconds(0)).has_value();
}

}  // namespace oomkit::test
