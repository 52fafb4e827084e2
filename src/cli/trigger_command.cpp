// `oomkit trigger`: runs the OOM path once on one scope now, the SysRq-f analogue, and prints
// the OomEvent (docs/events.md), as text or as one JSON line. The path is the daemon's
// (daemon/oom_runner.h): the scope's reclaim handlers, policy and kill options come from
// --config; without one, the scope has no handlers, panic_on_oom 0 and panic action "log".
// Exit: 0 the path ran and its decision was carried out; 1 it could not be (a failed kill or
// panic action); 2 bad usage (unknown scope, missing cgroup, invalid config).
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "oomkit/core/config.h"
#include "oomkit/core/text.h"
#include "oomkit/daemon/oom_event_json.h"
#include "oomkit/daemon/oom_runner.h"
#include "oomkit/sys/config_loader.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/killer.h"
#include "oomkit/sys/oom_state.h"
#include "oomkit/sys/panic_port.h"

#include "commands.h"

namespace oomkit::cli {
namespace {

struct TriggerOptions {
  RootOptions roots;
  std::optional<std::string> cgroup;
  std::optional<std::string> scope;
  std::optional<std::string> config_file;
  std::string state_dir{sys::kDefaultStateDir};
  bool dry_run = false;
  bool json = false;
  bool force = false;
  bool no_wait = false;
};

// The scope to run: from the config file (by --scope, or by --cgroup), or built from --cgroup.
Result<core::ScopeConfig> chooseScope(const TriggerOptions& o) {
  if (!o.config_file) {
    if (o.scope) return makeError(Errc::kInvalidArgument, "--scope needs --config");
    core::ScopeConfig scope;
    scope.cgroup = o.cgroup;
    scope.name = o.cgroup.value_or("machine");
    return scope;
  }
  auto config = sys::loadConfigFile(*o.config_file);
  if (!config) return Unexpected(config.error());
  std::string names;
  for (const auto& scope : config->scopes) {
    if (o.scope ? scope.name == *o.scope : scope.cgroup == o.cgroup) return scope;
    names += (names.empty() ? "" : ", ") + scope.name;
  }
  if (!o.scope && !o.cgroup && config->scopes.size() == 1) return config->scopes.front();
  const std::string wanted =
      o.scope ? "scope '" + *o.scope + "'"
              : (o.cgroup ? "a scope with cgroup " + *o.cgroup : std::string("a global scope"));
  return makeError(Errc::kInvalidArgument,
                   *o.config_file + " has no " + wanted + " (its scopes: " + names + ")");
}

std::string mib(uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / 1048576.0);
}

std::string sinceTrigger(const daemon::OomEvent& event, daemon::SteadyTime time) {
  const auto ms = std::chrono::duration<double, std::milli>(time - event.timestamps.trigger);
  return fmt::format("+{:.1f} ms", ms.count());
}

void printText(const daemon::OomEvent& event) {
  std::cout << "scope " << core::escapeBytes(event.scope) << " ("
            << core::escapeBytes(event.cgroup.value_or("global")) << ")"
            << (event.dry_run ? ", dry run" : "") << ": " << core::actionName(event.action) << '\n';
  for (const auto& step : event.steps) {
    std::cout << fmt::format("  {:<16} {:<9} {}\n", core::stepName(step.step), step.outcome,
                             core::escapeBytes(step.reason));
  }
  for (const auto& h : event.handlers) {
    std::cout << fmt::format("  handler {} ({}, priority {}): result {:#x}, freed {}; {}\n",
                             core::escapeBytes(h.name), h.type, h.priority, h.result,
                             mib(h.freed_bytes), core::escapeBytes(h.note));
  }
  if (event.pending) {
    std::cout << fmt::format("  waiting for pid {} ({}), signalled {:.2f} s ago\n",
                             event.pending->pid, core::escapeBytes(event.pending->comm),
                             event.pending->waited_seconds);
  }
  if (event.victim) {
    const auto& v = *event.victim;
    std::cout << fmt::format("  victim: pid {} ({}), badness {} pages, oom_score {}, rss {}\n",
                             v.pid, core::escapeBytes(v.comm), v.badness, v.oom_score,
                             mib(v.memory.rssKb() * 1024));
  }
  if (event.kill) {
    for (const auto& t : event.kill->targets) {
      std::cout << fmt::format("  {} {} ({}): {}\n", sys::killRoleName(t.role), t.pid,
                               core::escapeBytes(t.comm), sys::killOutcomeName(t.outcome));
    }
    for (const auto& s : event.kill->spared) {
      std::cout << "  spared " << s.pid << ": " << core::escapeBytes(s.message) << '\n';
    }
  }
  if (event.panic) {
    std::cout << "  panic action " << core::panicActionName(event.panic_action) << ": "
              << core::escapeBytes(event.panic->note) << '\n';
  }
  const auto& t = event.timestamps;
  std::cout << "  decided " << sinceTrigger(event, t.decided);
  if (t.signalled) std::cout << ", signalled " << sinceTrigger(event, *t.signalled);
  if (t.released) std::cout << ", released " << sinceTrigger(event, *t.released);
  if (t.exited) std::cout << ", exited " << sinceTrigger(event, *t.exited);
  std::cout << '\n';
  if (event.recovered_bytes) std::cout << "  recovered " << mib(*event.recovered_bytes) << '\n';
  for (const auto& note : event.notes)
    std::cout << "  note: " << core::escapeBytes(note) << '\n';
}

int runTrigger(const TriggerOptions& o) {
  auto scope = chooseScope(o);
  if (!scope) {
    std::cerr << "oomkit trigger: " << scope.error().message << '\n';
    return kExitBadInput;
  }
  auto proc = sys::ProcReader::open(o.roots.proc_root);
  if (!proc) {
    std::cerr << "oomkit trigger: " << proc.error().message << '\n';
    return kExitBadInput;
  }
  std::optional<sys::MemoryHierarchy> memory;
  if (auto found = sys::findMemoryHierarchy(*proc, o.roots.cgroup_roots)) {
    memory = std::move(*found);
  } else if (scope->cgroup) {
    std::cerr << "oomkit trigger: " << found.error().message << '\n';
    return kExitBadInput;
  }
  if (scope->cgroup) {
    const auto dir = memory->dirOf(*scope->cgroup);
    if (!dir || !sys::pathExists(*dir)) {
      std::cerr << "oomkit trigger: cgroup " << core::escapeBytes(*scope->cgroup)
                << " does not exist in the memory hierarchy at " << memory->mount_dir << '\n';
      return kExitBadInput;
    }
  }
  auto killer = sys::PidfdKiller::create(*proc, sys::KillerOptions{memory});
  if (!killer) {
    std::cerr << "oomkit trigger: " << killer.error().message << '\n';
    return kExitBadInput;
  }
  sys::SystemPanic panic(o.roots.proc_root);
  std::optional<sys::OomState> state;
  std::string state_note;
  if (auto opened = sys::OomState::open(o.state_dir)) {
    state.emplace(std::move(*opened));
  } else {
    state_note = "no shared state (" + opened.error().message +
                 "): this run neither sees nor blocks other oomkit runs";
  }

  daemon::RunnerPorts ports;
  ports.proc = &*proc;
  ports.memory = memory;
  ports.cgroup_roots = o.roots.cgroup_roots;
  ports.killer = &*killer;
  ports.panic = &panic;
  ports.state = state ? &*state : nullptr;
  auto runner = daemon::OomRunner::create(std::move(*scope), std::move(ports));
  if (!runner) {
    std::cerr << "oomkit trigger: " << runner.error().message << '\n';
    return kExitBadInput;
  }

  daemon::RunRequest request;
  request.dry_run = o.dry_run;
  request.sysrq = o.force;
  daemon::OomEvent event = (*runner)->run(request);
  if (!state_note.empty()) event.notes.push_back(state_note);
  if (!o.no_wait) (*runner)->awaitExit(event);

  if (o.json) {
    std::cout << daemon::formatOomEventJson(event, daemon::wallClockOffset()) << '\n';
  } else {
    printText(event);
  }
  return event.failed ? kExitCheckFailed : kExitOk;
}

}  // namespace

void addTriggerCommand(CLI::App& app, CommandRunner& run) {
  auto o = std::make_shared<TriggerOptions>();
  CLI::App* cmd = app.add_subcommand(
      "trigger", "Run the OOM path once on one scope now (the SysRq-f analogue)");
  auto* cgroup = cmd->add_option("--cgroup", o->cgroup,
                                 "the memory cgroup scope, as /proc/PID/cgroup shows it "
                                 "(default: the whole machine)");
  auto* scope = cmd->add_option("--scope", o->scope, "a [[scope]] of --config, by name");
  cmd->add_option("--config", o->config_file,
                  "the daemon's TOML configuration: the scope's handlers and policy");
  scope->excludes(cgroup);
  cmd->add_flag("--dry-run", o->dry_run,
                "take every step but call no handler, send no signal, carry out no panic");
  cmd->add_flag("--json", o->json, "print the event as one JSON line (docs/events.md)");
  cmd->add_flag("--force", o->force,
                "SysRq-f rules: ignore freed memory, victims still exiting and panic_on_oom");
  cmd->add_flag("--no-wait", o->no_wait, "do not wait for the victim to exit");
  cmd->add_option("--state-dir", o->state_dir,
                  "where runs share the scope lock and pending victims (default /run/oomkit)");
  addRootOptions(*cmd, o->roots);
  cmd->callback([o, &run] { run = [o] { return runTrigger(*o); }; });
}

}  // namespace oomkit::cli
