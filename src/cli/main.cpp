// oomkit — entry point: parses the command line and runs the chosen subcommand.
#include <exception>
#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  namespace cli = oomkit::cli;
  CLI::App app{"oomkit: the Linux kernel's OOM killer, in user space and ahead of time"};
  app.require_subcommand(1);
  cli::CommandRunner run;
  cli::addRankCommand(app, run);
  cli::addExplainCommand(app, run);
  cli::addParseCommand(app, run);
  cli::addWatchCommand(app, run);
  cli::addCheckConfigCommand(app, run);
  cli::addTriggerCommand(app, run);
  cli::addRunCommand(app, run);
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
