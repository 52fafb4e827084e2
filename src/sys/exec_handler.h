// sys/exec_handler.h — the `exec` reclaim handler (docs/config.md "exec") for the factory in
// reclaim_handler.cpp, and the environment it gives its command, which the exec panic action
// (panic_port.cpp) shares.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oomkit/core/config.h"
#include "oomkit/result.h"
#include "oomkit/sys/command.h"
#include "oomkit/sys/reclaim_handler.h"

namespace oomkit::sys {

using CommandEnvironment = std::vector<std::pair<std::string, std::string>>;

// OOMKIT_SCOPE (the scope's name) and OOMKIT_CGROUP (its cgroup, empty for the global scope):
// what every command oomkit runs for a scope is told.
CommandEnvironment scopeEnvironment(const std::string& scope_name,
                                    const std::optional<std::string>& cgroup);

// The bytes a command reports freed: a size on the last non-empty line of its output
// ("268435456", "256M", "256 MiB": parseByteSize() syntax, blanks allowed around the number and
// before the unit); nullopt when that line is not a size.
std::optional<uint64_t> reportedFreedBytes(std::string_view output);

// The NOTIFY result for how the command ended: exit 0 → kNotifyOk, 1 → kNotifyDone, 2 →
// kNotifyStop; anything else (another code, a signal, the timeout) → kNotifyDone.
int notifyResultOf(const CommandResult& result);

// Errc::kInvalidArgument for another handler type or an empty command. context.proc may be
// null: freed bytes are then only what the command reports.
Result<std::unique_ptr<ReclaimHandler>> makeExecHandler(const core::ScopeConfig& scope,
                                                        const core::HandlerConfig& config,
                                                        const HandlerContext& context);

}  // namespace oomkit::sys
