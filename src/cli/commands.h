// cli/commands.h — the oomkit subcommands: each registers its flags on a CLI11 app and runs
// when chosen. Commands parse flags and print; the work is in oomkit_sys and oomkit_core.
// Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace oomkit::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitBadInput = 2;

// Where the machine's files are; every command that reads the machine takes these.
struct RootOptions {
  std::string proc_root = "/proc";
  std::vector<std::string> cgroup_roots;
};
void addRootOptions(CLI::App& command, RootOptions& roots);

// Registers a subcommand; `run` is set to its entry point when the subcommand is parsed.
using CommandRunner = std::function<int()>;
void addRankCommand(CLI::App& app, CommandRunner& run);
void addExplainCommand(CLI::App& app, CommandRunner& run);
void addParseCommand(CLI::App& app, CommandRunner& run);
void addWatchCommand(CLI::App& app, CommandRunner& run);
void addCheckConfigCommand(CLI::App& app, CommandRunner& run);
void addTriggerCommand(CLI::App& app, CommandRunner& run);
void addRunCommand(CLI::App& app, CommandRunner& run);

}  // namespace oomkit::cli
