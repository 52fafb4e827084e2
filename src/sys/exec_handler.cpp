// sys/exec_handler.cpp — the `exec` reclaim handler: runs the configured command with the OOM's
// facts in its environment, maps its exit status to a NOTIFY result and works out what it freed
// (what it says on its last output line, else what the scope gained while it ran).
#include "exec_handler.h"

#include <string_view>

#include "oomkit/core/config_values.h"
#include "oomkit/core/notifier_chain.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/scope_memory.h"

namespace oomkit::sys {
namespace {

std::string_view lastNonEmptyLine(std::string_view text) {
  std::string_view last;
  core::forEachLine(text, [&](std::string_view line) {
    if (!core::trim(line).empty()) last = core::trim(line);
  });
  return last;
}

// "256 MiB" → "256MiB": people put a blank before the unit, parseByteSize() does not take one.
std::string withoutBlankBeforeUnit(std::string_view text) {
  const size_t unit = text.find_first_not_of("0123456789. \t");
  if (unit == std::string_view::npos) return std::string(text);
  return std::string(core::trim(text.substr(0, unit))) + std::string(text.substr(unit));
}

class ExecHandler final : public ReclaimHandler {
 public:
  ExecHandler(std::string name, int priority, core::ExecHandlerConfig exec,
              const HandlerContext& context)
      : name_(std::move(name)),
        priority_(priority),
        exec_(std::move(exec)),
        proc_(context.proc),
        memory_(context.memory) {}

  const std::string& name() const override { return name_; }
  core::HandlerType type() const override { return core::HandlerType::kExec; }
  int priority() const override { return priority_; }
  HandlerOutcome reclaim(const OomNotification& notification) override;

 private:
  CommandEnvironment environmentFor(const OomNotification& notification) const;
  Result<uint64_t> availableBytes(const OomNotification& notification);
  void addFreed(const CommandResult& ran, const Result<uint64_t>& before,
                const OomNotification& notification, HandlerOutcome& outcome);

  std::string name_;
  int priority_;
  core::ExecHandlerConfig exec_;
  ProcReader* proc_;
  std::optional<MemoryHierarchy> memory_;
};

HandlerOutcome ExecHandler::reclaim(const OomNotification& notification) {
  HandlerOutcome outcome;
  outcome.name = name_;
  outcome.type = std::string(core::handlerTypeName(core::HandlerType::kExec));
  outcome.priority = priority_;
  const Result<uint64_t> before = availableBytes(notification);
  auto ran = runCommand(exec_.command, environmentFor(notification), exec_.timeout);
  if (!ran) {
    outcome.result = core::kNotifyDone;
    outcome.note = ran.error().message;
    return outcome;
  }
  outcome.result = notifyResultOf(*ran);
  outcome.note = ran->describe();
  // A command that was killed did not finish: neither its output nor the memory that its own
  // death gave back says what it freed.
  if (ran->exit_code && !ran->timed_out) addFreed(*ran, before, notification, outcome);
  return outcome;
}

CommandEnvironment ExecHandler::environmentFor(const OomNotification& notification) const {
  CommandEnvironment env = scopeEnvironment(notification.scope_name, notification.cgroup);
  env.emplace_back("OOMKIT_HANDLER", name_);
  env.emplace_back("OOMKIT_BYTES_NEEDED", std::to_string(notification.bytes_needed));
  return env;
}

Result<uint64_t> ExecHandler::availableBytes(const OomNotification& notification) {
  if (proc_ == nullptr) return makeError(Errc::kUnavailable, "no proc reader");
  auto memory = readScopeMemory(*proc_, memory_, notification.cgroup);
  if (!memory) return Unexpected(std::move(memory).error());
  return memory->available_bytes;
}

void ExecHandler::addFreed(const CommandResult& ran, const Result<uint64_t>& before,
                           const OomNotification& notification, HandlerOutcome& outcome) {
  // A truncated output's last line is not the command's last line.
  const auto reported = ran.output_truncated ? std::nullopt : reportedFreedBytes(ran.output);
  if (reported) {
    outcome.freed_bytes = *reported;
    outcome.note += "; freed " + core::formatBytes(*reported) + " (reported)";
    return;
  }
  const Result<uint64_t> after = before ? availableBytes(notification) : before;
  if (!after) {
    outcome.note += "; freed memory not measured: " + after.error().message;
    return;
  }
  outcome.freed_bytes = *after > *before ? *after - *before : 0;
  outcome.note += "; freed " + core::formatBytes(outcome.freed_bytes) + " (measured)";
}

}  // namespace

CommandEnvironment scopeEnvironment(const std::string& scope_name,
                                    const std::optional<std::string>& cgroup) {
  return {{"OOMKIT_SCOPE", scope_name}, {"OOMKIT_CGROUP", cgroup.value_or("")}};
}

std::optional<uint64_t> reportedFreedBytes(std::string_view output) {
  const std::string_view line = lastNonEmptyLine(output);
  if (line.empty()) return std::nullopt;
  if (auto bytes = core::parseByteSize(line)) return *bytes;
  if (auto bytes = core::parseByteSize(withoutBlankBeforeUnit(line))) return *bytes;
  return std::nullopt;
}

int notifyResultOf(const CommandResult& result) {
  if (result.timed_out || !result.exit_code) return core::kNotifyDone;
  switch (*result.exit_code) {
    case 0:
      return core::kNotifyOk;
    case 2:
      return core::kNotifyStop;
    default:  // 1 ("did nothing") and every failure
      return core::kNotifyDone;
  }
}

Result<std::unique_ptr<ReclaimHandler>> makeExecHandler(const core::ScopeConfig& scope,
                                                        const core::HandlerConfig& config,
                                                        const HandlerContext& context) {
  const std::string name =
      config.name.empty() ? std::string(core::handlerTypeName(config.type)) : config.name;
  if (config.type != core::HandlerType::kExec) {
    return makeError(Errc::kInvalidArgument, "handler " + name + " is not an exec handler");
  }
  if (config.exec.command.empty()) {
    return makeError(Errc::kInvalidArgument,
                     "exec handler " + name + " of scope " + scope.name + " has no command");
  }
  return std::unique_ptr<ReclaimHandler>(
      std::make_unique<ExecHandler>(name, config.priority, config.exec, context));
}

}  // namespace oomkit::sys
