// `oomkit parse [FILE...|-] [--json]`: the kernel's OOM reports in any log text.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <memory>

#include "oomkit/core/oom_report.h"
#include "oomkit/daemon/kernel_oom_json.h"
#include "oomkit/sys/files.h"

#include "commands.h"
#include "report_text.h"

namespace oomkit::cli {
namespace {

struct ParseOptions {
  std::vector<std::string> files;
  bool json = false;
  size_t top_tasks = 5;
};

// Feeds one input to the parser; an error when it cannot be read.
Status feedInput(const std::string& file, core::OomReportParser& parser) {
  const bool is_stdin = file == "-";
  const int fd = is_stdin ? STDIN_FILENO : ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(sys::systemError(file, errno));
  auto status = sys::forEachLineOfFd(fd, is_stdin ? "standard input" : file,
                                     [&parser](std::string_view line) { parser.feed(line); });
  if (!is_stdin) ::close(fd);
  return status;
}

void print(const core::OomReport& report, const ParseOptions& o, bool first) {
  if (o.json) {
    std::cout << daemon::formatOomReportJson(report) << '\n';
  } else {
    std::cout << (first ? "" : "\n") << reportToText(report, o.top_tasks);
  }
}

int runParse(ParseOptions o) {
  if (o.files.empty()) o.files.push_back("-");
  size_t found = 0;
  bool unreadable = false;
  for (const auto& file : o.files) {
    // Each input is its own log: a report never spans two files.
    core::OomReportParser parser;
    if (auto s = feedInput(file, parser); !s) {
      std::cerr << "oomkit parse: " << s.error().message << '\n';
      unreadable = true;
      continue;
    }
    parser.finish();
    for (const auto& report : parser.takeReports())
      print(report, o, found++ == 0);
  }
  if (unreadable) return kExitBadInput;
  if (found == 0) {
    std::cerr << "oomkit parse: no kernel OOM report found\n";
    return kExitCheckFailed;
  }
  return kExitOk;
}

}  // namespace

void addParseCommand(CLI::App& app, CommandRunner& run) {
  auto options = std::make_shared<ParseOptions>();
  CLI::App* cmd = app.add_subcommand(
      "parse", "Kernel OOM reports in log text (kmsg, dmesg, syslog, journal) as text or JSON");
  cmd->add_option("files", options->files, "log files; '-' or none reads standard input");
  cmd->add_flag("--json", options->json, "one JSON object per report, one per line");
  cmd->add_option("--tasks", options->top_tasks,
                  "task-table rows to show per report (text output), largest first");
  cmd->callback([options, &run] { run = [options] { return runParse(*options); }; });
}

}  // namespace oomkit::cli
