// `oomkit run`: the daemon (daemon/daemon.h, docs/daemon.md). Flags only; the work is in
// oomkit_daemon.
#include <memory>

#include "oomkit/daemon/daemon.h"

#include "commands.h"

namespace oomkit::cli {

void addRunCommand(CLI::App& app, CommandRunner& run) {
  auto o = std::make_shared<daemon::DaemonOptions>();
  auto roots = std::make_shared<RootOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "The daemon: watch every configured scope and run the OOM path before the kernel");
  cmd->add_option("--config", o->config_path,
                  "TOML configuration (docs/config.md); default: the embedded one");
  cmd->add_flag("--dry-run", o->dry_run, "take every step, kill nothing, log what would happen");
  cmd->add_option("--state-dir", o->state_dir,
                  "state shared with `oomkit trigger` (default /run/oomkit)");
  cmd->add_option("--event-log", o->event_log, "overrides [daemon] event_log (\"-\" = stdout)");
  cmd->add_option("--kmsg", o->kmsg, "kernel log to follow for kernel OOM kills (\"\" = off)");
  addRootOptions(*cmd, *roots);
  cmd->callback([o, roots, &run] {
    run = [o, roots] {
      o->proc_root = roots->proc_root;
      o->cgroup_roots = roots->cgroup_roots;
      return daemon::runDaemon(*o);
    };
  });
}

}  // namespace oomkit::cli
