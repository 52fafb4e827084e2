#include "oomkit/core/config.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace oomkit::core {
namespace {

// NOTE: part of the external format (docs/config.md "Embedded default"); the daemon runs
// this when started without --config, and tests load it.
constexpr std::string_view kDefaultConfigToml =
    R"(# oomkit's embedded default configuration: what `oomkit run` does without --config.
# Like earlyoom's defaults: act when available memory falls below 5% of MemTotal.

[daemon]
event_log = "-"
dry_run = false

[[scope]]
name = "machine"

[scope.watermarks]
min = "5%"
low = "10%"
high = "15%"

[scope.policy]
panic_on_oom = 0
kill_allocating_task = false
panic_action = "log"

[scope.kill]
sigterm_first = false
reap_timeout = "5s"
)";

constexpr std::array<HandlerType, 3> kHandlerTypes = {HandlerType::kExec, HandlerType::kGrowLimit,
                                                      HandlerType::kMemoryReclaim};
constexpr std::array<PanicAction, 4> kPanicActions = {PanicAction::kLog, PanicAction::kReboot,
                                                      PanicAction::kCrash, PanicAction::kExec};

}  // namespace

std::string_view handlerTypeName(HandlerType type) {
  switch (type) {
    case HandlerType::kExec:
      return "exec";
    case HandlerType::kGrowLimit:
      return "grow-limit";
    case HandlerType::kMemoryReclaim:
      return "memory-reclaim";
  }
  return "exec";
}

std::optional<HandlerType> handlerTypeFromName(std::string_view name) {
  for (const HandlerType type : kHandlerTypes) {
    if (handlerTypeName(type) == name) return type;
  }
  return std::nullopt;
}

std::optional<PanicAction> panicActionFromName(std::string_view name) {
  for (const PanicAction action : kPanicActions) {
    if (panicActionName(action) == name) return action;
  }
  return std::nullopt;
}

WatermarkBytes resolveWatermarks(const Watermarks& watermarks, uint64_t total_bytes) {
  return {resolveAmount(watermarks.min, total_bytes), resolveAmount(watermarks.low, total_bytes),
          resolveAmount(watermarks.high, total_bytes)};
}

std::string scopeKey(size_t scope_index) {
  return "scope[" + std::to_string(scope_index) + "]";
}

std::string handlerKey(size_t scope_index, size_t handler_index) {
  return scopeKey(scope_index) + ".handler[" + std::to_string(handler_index) + "]";
}

std::string_view defaultConfigToml() {
  return kDefaultConfigToml;
}

}  // namespace oomkit::core
