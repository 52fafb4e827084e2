// `oomkit check-config FILE`: validates a configuration file (docs/config.md) and prints a
// one-line summary, or every problem (FILE:LINE:COLUMN: KEY: what) and exits 2.
#include <iostream>
#include <memory>
#include <string>

#include "oomkit/core/config.h"
#include "oomkit/sys/config_loader.h"

#include "commands.h"

namespace oomkit::cli {
namespace {

// "2 scopes: machine (global), web (/system.slice/web.service)"
std::string describeScopes(const core::Config& config) {
  const size_t n = config.scopes.size();
  std::string out = std::to_string(n) + (n == 1 ? " scope: " : " scopes: ");
  for (size_t i = 0; i < n; ++i) {
    const core::ScopeConfig& scope = config.scopes[i];
    if (i != 0) out += ", ";
    out += scope.name + " (" + scope.cgroup.value_or("global") + ")";
  }
  return out;
}

int runCheckConfig(const std::string& file) {
  const auto config = sys::loadConfigFile(file);
  if (!config) {
    std::cerr << config.error().message << '\n';
    return kExitBadInput;
  }
  std::cout << file << ": ok, " << describeScopes(*config) << '\n';
  return kExitOk;
}

}  // namespace

void addCheckConfigCommand(CLI::App& app, CommandRunner& run) {
  auto file = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "check-config", "Validate a configuration file; print every error with its line and key");
  cmd->add_option("file", *file, "the TOML configuration file (docs/config.md)")->required();
  cmd->callback([file, &run] { run = [file] { return runCheckConfig(*file); }; });
}

}  // namespace oomkit::cli
