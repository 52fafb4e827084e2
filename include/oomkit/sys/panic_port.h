// oomkit/sys/panic_port.h — the OOM path's panic actions (docs/config.md "Panic actions"):
// what "panic" means for a scope when panic_on_oom applies or nothing is left to kill.
//
// Everything that reboots or crashes the machine goes through the PanicPort, so that tests
// substitute a recording fake and never do it for real. SystemPanic is the real port:
//   log    — nothing beyond the event and a log line;
//   reboot — sync(), then reboot(RB_AUTOBOOT), as a kernel panic with kernel.panic set does;
//   crash  — writes "c" to <proc-root>/sysrq-trigger, so that kdump takes a dump;
//   exec   — runs the panic command (argv, no shell) with the exec handlers' environment and
//            kills it after its timeout.
// A dry run carries out nothing and says what it would have done.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oomkit/core/config_values.h"
#include "oomkit/core/oom_path.h"
#include "oomkit/result.h"

namespace oomkit::sys {

struct PanicRequest {
  core::PanicAction action = core::PanicAction::kLog;
  std::string scope_name;
  std::optional<std::string> cgroup;  // none = global scope
  std::vector<std::string> command;   // for kExec
  core::Millis timeout{10000};        // for kExec
  std::string reason;                 // why the path panicked, for the log and the command
  bool dry_run = false;
};

struct PanicOutcome {
  bool carried_out = false;      // false in a dry run or when the action failed
  std::string note;              // "logged", "exit code 0", "timed out after 10s", "would reboot"
  std::optional<int> exit_code;  // kExec: the command's exit code, when it exited
};

class PanicPort {
 public:
  virtual ~PanicPort() = default;
  // Carries out the action. Returns (a reboot or crash does not return when it works).
  virtual PanicOutcome panic(const PanicRequest& request) = 0;
};

class SystemPanic final : public PanicPort {
 public:
  explicit SystemPanic(std::string proc_root = "/proc") : proc_root_(std::move(proc_root)) {}
  PanicOutcome panic(const PanicRequest& request) override;

 private:
  std::string proc_root_;
};

}  // namespace oomkit::sys
