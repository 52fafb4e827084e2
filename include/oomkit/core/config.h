// oomkit/core/config.h — the configuration of `oomkit run` and `oomkit trigger` as plain
// structs, the rules a configuration must follow, and the embedded default configuration.
//
// The structs mirror the TOML file (docs/config.md): [daemon], then one [[scope]] per OOM
// scope with its watermarks, PSI thresholds, OOM policy, kill options and reclaim handlers.
// Reading the file is oomkit/sys/config_loader.h's job; this header only knows the model, so
// that tests and the daemon can build configurations in code. validateConfig() checks the
// rules that relate values to each other and names each problem by its key path
// ("scope[1].watermarks.low"; indices count from 0, in file order). Pure: no I/O. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/config_values.h"
#include "oomkit/core/oom_path.h"

namespace oomkit::core {

inline constexpr Millis kDefaultExecTimeout{10000};
inline constexpr Millis kDefaultPanicCommandTimeout{10000};
inline constexpr Millis kDefaultSigtermGrace{2000};
inline constexpr Millis kDefaultReapTimeout{5000};
inline constexpr Millis kDefaultPsiWindow{1000};
// The kernel's limits on a PSI trigger's window (kernel/sched/psi.c WINDOW_MIN_US and
// WINDOW_MAX_US, Documentation/accounting/psi.rst).
inline constexpr Millis kPsiWindowMin{500};
inline constexpr Millis kPsiWindowMax{10000};
inline constexpr Millis kDefaultMinSampleInterval{5};
inline constexpr Millis kDefaultMaxSampleInterval{2000};
inline constexpr uint64_t kDefaultFillRateBytes = uint64_t{4} << 30;  // per second
inline constexpr Millis kMaxSampleIntervalLimit{60000};
inline constexpr uint64_t kMinFillRateBytes = uint64_t{1} << 20;  // per second

// [daemon]
struct DaemonConfig {
  std::string event_log = "-";  // "-" = standard output, otherwise an absolute path
  bool dry_run = false;
};

// [scope.watermarks]: thresholds on the scope's available memory. Below `min` the scope is
// out of memory (the OOM path runs); `low` is the early-warning level; after reclaim, the
// OOM path stops if available memory is back above `high`. Percentages are of the scope's
// size (MemTotal for the global scope, the memory limit for a cgroup). All three must be of
// the same kind (all percentages or all sizes) and strictly increasing.
struct Watermarks {
  MemoryAmount min = MemoryAmount::ofPercent(5);
  MemoryAmount low = MemoryAmount::ofPercent(10);
  MemoryAmount high = MemoryAmount::ofPercent(15);
};

struct WatermarkBytes {
  uint64_t min_bytes = 0;
  uint64_t low_bytes = 0;
  uint64_t high_bytes = 0;
};
// The watermarks in bytes for a scope of `total_bytes` (resolveAmount() of each).
WatermarkBytes resolveWatermarks(const Watermarks& watermarks, uint64_t total_bytes);

// [scope.psi]: the scope is out of memory when its memory pressure stall ("some" or "full",
// Documentation/accounting/psi.rst) exceeds a threshold within the window. The table's
// presence turns the PSI detector on; at least one threshold is set.
struct PsiConfig {
  std::optional<Millis> some_threshold;
  std::optional<Millis> full_threshold;
  Millis window = kDefaultPsiWindow;
};

// [[scope.handler]] types. NOTE: do not rename; handlerTypeName() is part of the file format.
enum class HandlerType { kExec, kGrowLimit, kMemoryReclaim };
std::string_view handlerTypeName(HandlerType type);  // "exec", "grow-limit", "memory-reclaim"
std::optional<HandlerType> handlerTypeFromName(std::string_view name);
// The inverse of panicActionName(): "log", "reboot", "crash", "exec".
std::optional<PanicAction> panicActionFromName(std::string_view name);

// type = "exec": runs `command` (argv; no shell, no PATH search), killed after `timeout`.
struct ExecHandlerConfig {
  std::vector<std::string> command;
  Millis timeout = kDefaultExecTimeout;
};

// type = "grow-limit": raises the cgroup's memory limit by `step` (default: the bytes the
// scope needs to get back above its high watermark), taking it from a `reserve` of bytes it
// may hand out in total, never beyond `ceiling` (default: no ceiling but the reserve).
struct GrowLimitConfig {
  std::optional<uint64_t> step_bytes;
  uint64_t reserve_bytes = 0;
  std::optional<uint64_t> ceiling_bytes;
};

// type = "memory-reclaim": writes `amount` (default: the bytes the scope needs to get back
// above its high watermark; a percentage is of the scope's size) to cgroup v2 memory.reclaim.
struct MemoryReclaimConfig {
  std::optional<MemoryAmount> amount;
};

// One reclaim handler of the scope's OOM notifier chain. Only the member for `type` is used.
struct HandlerConfig {
  HandlerType type = HandlerType::kExec;
  std::string name;      // unique within its scope; defaults to the type's name
  int32_t priority = 0;  // higher runs first; equal priorities run in file order
  ExecHandlerConfig exec;
  GrowLimitConfig grow_limit;
  MemoryReclaimConfig memory_reclaim;
};

// [scope.sampling]: how often the watermarks are sampled (core/watermark_detector.h). The
// next sample comes when available memory, shrinking at the faster of `fill_rate` and the
// rate it was seen shrinking at, would have used half its headroom above `min`, within
// [min_interval, max_interval]; at or below `low`, every min_interval. So a scope filling at
// up to twice `fill_rate` from just after a sample is seen before it reaches `min`.
struct SamplingConfig {
  Millis min_interval = kDefaultMinSampleInterval;
  Millis max_interval = kDefaultMaxSampleInterval;
  uint64_t fill_rate_bytes = kDefaultFillRateBytes;  // per second, before one is seen
};

// [scope.kill] (its reap_timeout is ScopeConfig::policy.reap_timeout).
struct KillConfig {
  bool sigterm_first = false;  // SIGTERM, then SIGKILL after sigterm_grace if still alive
  Millis sigterm_grace = kDefaultSigtermGrace;
  bool process_mrelease = true;  // free the victim's memory at once, as the oom_reaper does
};

// [[scope]]: one OOM scope, the whole machine (no cgroup) or one memory cgroup.
struct ScopeConfig {
  std::string name;
  std::optional<std::string> cgroup;  // as /proc/PID/cgroup shows it: "/system.slice/x"
  bool takeover = false;              // cgroup scopes only: see docs/config.md
  Watermarks watermarks;
  SamplingConfig sampling;
  std::optional<PsiConfig> psi;
  OomPolicy policy;                        // [scope.policy], plus [scope.kill] reap_timeout
  std::vector<std::string> panic_command;  // panic_action = "exec": argv, as for handlers
  Millis panic_command_timeout = kDefaultPanicCommandTimeout;
  KillConfig kill;
  std::vector<HandlerConfig> handlers;  // in file order

  bool isGlobal() const { return !cgroup.has_value(); }
};

struct Config {
  DaemonConfig daemon;
  std::vector<ScopeConfig> scopes;
};

// One broken rule: where ("scope[1].watermarks.low") and what ("must be above min (10%)").
struct ConfigIssue {
  std::string key;
  std::string message;
  bool operator==(const ConfigIssue&) const = default;
};

// Every broken rule of `config`: [daemon]'s, each scope's own in order, then those across
// scopes (unique names and cgroups, one global scope). Empty iff the config is valid.
// docs/config.md lists the rules.
std::vector<ConfigIssue> validateConfig(const Config& config);

// Key paths, as validateConfig() and the loader name them: "scope[1]", "scope[1].handler[0]".
std::string scopeKey(size_t scope_index);
std::string handlerKey(size_t scope_index, size_t handler_index);

// The configuration `oomkit run` uses without --config, as TOML: one global scope "machine"
// with earlyoom-like watermarks (min 5%, low 10%, high 15% of MemTotal), panic_on_oom 0,
// panic action "log", no handlers.
std::string_view defaultConfigToml();

}  // namespace oomkit::core
