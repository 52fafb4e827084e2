// sys/panic_port.cpp — SystemPanic: carries out a scope's panic action for real (log, reboot,
// crash through SysRq, or the panic command). Tests reach reboot never, crash only with a fake
// proc root.
#include "oomkit/sys/panic_port.h"

#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "oomkit/sys/command.h"
#include "oomkit/sys/files.h"

#include "exec_handler.h"

namespace oomkit::sys {
namespace {

PanicOutcome outcomeOf(bool carried_out, std::string note) {
  PanicOutcome outcome;
  outcome.carried_out = carried_out;
  outcome.note = std::move(note);
  return outcome;
}

std::string commandLine(const std::vector<std::string>& command) {
  std::string line;
  for (const std::string& arg : command)
    line += (line.empty() ? "" : " ") + arg;
  return line;
}

// What the action would do, for a dry run's note.
std::string intention(const PanicRequest& request, const std::string& sysrq_trigger) {
  switch (request.action) {
    case core::PanicAction::kLog:
      return "log";
    case core::PanicAction::kReboot:
      return "reboot";
    case core::PanicAction::kCrash:
      return "crash the kernel through " + sysrq_trigger;
    case core::PanicAction::kExec:
      return "run " + commandLine(request.command);
  }
  return "panic";
}

// As a kernel panic with kernel.panic set: sync() first, so that what is written survives.
PanicOutcome rebootNow() {
  ::sync();
  if (::reboot(RB_AUTOBOOT) != 0) {
    return outcomeOf(false, std::string("reboot failed: ") + std::strerror(errno));
  }
  return outcomeOf(true, "rebooting");
}

// SysRq c panics the kernel, so that kdump takes a dump. No sync(): it can block for long on
// a machine short of memory, and a crash dump is about the state as it is.
PanicOutcome crashNow(const std::string& sysrq_trigger) {
  if (auto written = writeFile(sysrq_trigger, "c"); !written) {
    return outcomeOf(false, "crash failed: " + written.error().message);
  }
  return outcomeOf(true, "wrote c to " + sysrq_trigger);
}

PanicOutcome runPanicCommand(const PanicRequest& request) {
  if (request.command.empty()) return outcomeOf(false, "no panic command configured");
  CommandEnvironment env = scopeEnvironment(request.scope_name, request.cgroup);
  env.emplace_back("OOMKIT_REASON", request.reason);
  auto ran = runCommand(request.command, env, request.timeout);
  if (!ran) return outcomeOf(false, ran.error().message);
  PanicOutcome outcome = outcomeOf(ran->exit_code == 0 && !ran->timed_out, ran->describe());
  outcome.exit_code = ran->exit_code;
  return outcome;
}

}  // namespace

PanicOutcome SystemPanic::panic(const PanicRequest& request) {
  const std::string sysrq_trigger = proc_root_ + "/sysrq-trigger";
  if (request.dry_run)
    return outcomeOf(false, "dry run: would " + intention(request, sysrq_trigger));
  switch (request.action) {
    case core::PanicAction::kLog:
      return outcomeOf(true, "logged");
    case core::PanicAction::kReboot:
      return rebootNow();
    case core::PanicAction::kCrash:
      return crashNow(sysrq_trigger);
    case core::PanicAction::kExec:
      return runPanicCommand(request);
  }
  return outcomeOf(false, "unknown panic action");
}

}  // namespace oomkit::sys
