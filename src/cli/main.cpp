// oomkit — entry point: parses the command line and runs the chosen subcommand.
#include <array>
#include <exception>
#include <iostream>
#include <string_view>

#include "oomkit/daemon/daemon.h"

#include "commands.h"

namespace {

struct Command {
  std::string_view name;
  void (*add)(CLI::App&, oomkit::cli::CommandRunner&);
  void (*prepare)() = nullptr;  // runs before the command line is parsed
};

// In the order `oomkit --help` lists them.
constexpr std::array<Command, 7> kCommands{{
    {"rank", oomkit::cli::addRankCommand},
    {"explain", oomkit::cli::addExplainCommand},
    {"parse", oomkit::cli::addParseCommand},
    {"watch", oomkit::cli::addWatchCommand},
    {"check-config", oomkit::cli::addCheckConfigCommand},
    {"trigger", oomkit::cli::addTriggerCommand},
    {"run", oomkit::cli::addRunCommand, oomkit::daemon::prepareStartUp},
}};

const Command* findCommand(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

// Registers only the subcommand argv[1] names (`named`), when it names one: building every
// command's options costs the daemon's start-up a third of a millisecond and a few dozen page
// faults (docs/benchmarks.md). Anything else (no argument, --help) gets them all, so that help
// and error messages list every command.
void addCommands(CLI::App& app, oomkit::cli::CommandRunner& run, const Command* named) {
  if (named) {
    named->add(app, run);
    return;
  }
  for (const Command& command : kCommands)
    command.add(app, run);
}

int reportUnknownCommand(std::string_view name) {
  std::cerr << "oomkit: unknown command '" << name << "'; the commands are:";
  for (const Command& command : kCommands)
    std::cerr << ' ' << command.name;
  std::cerr << "\nRun with --help for more information.\n";
  return oomkit::cli::kExitBadInput;
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = oomkit::cli;
  const Command* named = argc > 1 ? findCommand(argv[1]) : nullptr;
  // Neither a flag nor a command: CLI11 would only say that a command is required.
  if (argc > 1 && !named && argv[1][0] != '-') return reportUnknownCommand(argv[1]);
  if (named && named->prepare) named->prepare();
  CLI::App app{"oomkit: the Linux kernel's OOM killer, in user space and ahead of time"};
  app.require_subcommand(1);
  cli::CommandRunner run;
  addCommands(app, run, named);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? cli::kExitOk : cli::kExitBadInput;
  }
  try {
    return run ? run() : cli::kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "oomkit: internal error: " << e.what() << '\n';
    return cli::kExitBadInput;
  }
}
