// validateConfig(): the rules of docs/config.md "Validation" that relate values to each other.
// Types, required keys and value syntax are the loader's; this sees only the typed model.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/config.h"
#include "oomkit/core/text.h"

namespace oomkit::core {
namespace {

constexpr size_t kMaxNameLength = 64;

class Issues {
 public:
  explicit Issues(std::vector<ConfigIssue>& out) : out_(out) {}
  void add(std::string key, std::string message) {
    out_.push_back({std::move(key), std::move(message)});
  }

 private:
  std::vector<ConfigIssue>& out_;
};

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// Names end up in event logs, metrics labels and the exec handlers' environment.
void checkName(std::string_view name, const std::string& key, Issues& issues) {
  bool ok = !name.empty() && name.size() <= kMaxNameLength;
  for (const char c : name) {
    ok = ok && isNameChar(c);
  }
  if (!ok) {
    issues.add(
        key, quoteBytes(name) + " is not a valid name (1 to 64 letters, digits, '-', '_' or '.')");
  }
}

// An absolute path without empty, "." or ".." components and without a trailing slash: the
// form /proc/PID/cgroup shows, so that scopes compare equal to what the kernel reports.
bool isCanonicalCgroupPath(std::string_view path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

void checkCgroup(std::string_view cgroup, const std::string& key, Issues& issues) {
  if (cgroup == "/") {
    issues.add(key, "'/' is the root cgroup; leave cgroup out for the global scope");
  } else if (!isCanonicalCgroupPath(cgroup)) {
    issues.add(key, quoteBytes(cgroup) +
                        " is not an absolute cgroup path such as \"/system.slice/web.service\"");
  }
}

void checkCommand(const std::vector<std::string>& command, const std::string& key, Issues& issues) {
  if (command.empty()) {
    issues.add(key, "must not be empty");
  } else if (command.front().empty() || command.front().front() != '/') {
    issues.add(key, "the program must be an absolute path (no PATH search), not " +
                        quoteBytes(command.front()));
  }
}

void checkPositive(Millis duration, const std::string& key, Issues& issues) {
  if (duration.count() <= 0) issues.add(key, "must be above 0");
}

void checkDaemon(const DaemonConfig& daemon, Issues& issues) {
  const std::string& log = daemon.event_log;
  if (log != "-" && (log.empty() || log.front() != '/')) {
    issues.add("daemon.event_log",
               "must be \"-\" (standard output) or an absolute path, not " + quoteBytes(log));
  }
}

// Scope names and cgroups are unique; at most one scope is global.
void checkScopeIdentities(const std::vector<ScopeConfig>& scopes, Issues& issues) {
  std::map<std::string, size_t> names;
  std::map<std::string, size_t> cgroups;
  std::optional<size_t> global;
  for (size_t i = 0; i < scopes.size(); ++i) {
    const ScopeConfig& scope = scopes[i];
    if (const auto [it, fresh] = names.emplace(scope.name, i); !fresh) {
      issues.add(scopeKey(i) + ".name", "duplicate scope name " + quoteBytes(scope.name) + " (" +
                                            scopeKey(it->second) + " has it too)");
    }
    if (scope.cgroup) {
      if (const auto [it, fresh] = cgroups.emplace(*scope.cgroup, i); !fresh) {
        issues.add(scopeKey(i) + ".cgroup",
                   "cgroup " + quoteBytes(*scope.cgroup) + " is already the scope " +
                       quoteBytes(scopes[it->second].name) + " (" + scopeKey(it->second) + ")");
      }
    } else if (global) {
      issues.add(scopeKey(i), "a second global scope (" + scopeKey(*global) + " " +
                                  quoteBytes(scopes[*global].name) +
                                  " has no cgroup either); give one of them a cgroup");
    } else {
      global = i;
    }
  }
}

// Compares two amounts of the same kind.
bool below(const MemoryAmount& a, const MemoryAmount& b) {
  return a.isPercent() ? a.percent < b.percent : a.bytes < b.bytes;
}

void checkWatermarks(const Watermarks& w, const std::string& key, Issues& issues) {
  if (w.min.kind != w.low.kind || w.low.kind != w.high.kind) {
    issues.add(key, "min, low and high must all be percentages or all sizes");
    return;
  }
  if (!below(w.min, w.low)) {
    issues.add(key + ".low", "low (" + formatMemoryAmount(w.low) + ") must be above min (" +
                                 formatMemoryAmount(w.min) + ")");
  }
  if (!below(w.low, w.high)) {
    issues.add(key + ".high", "high (" + formatMemoryAmount(w.high) + ") must be above low (" +
                                  formatMemoryAmount(w.low) + ")");
  }
}

void checkPsiThreshold(const std::optional<Millis>& threshold, Millis window,
                       const std::string& key, Issues& issues) {
  if (!threshold) return;
  if (threshold->count() <= 0 || *threshold > window) {
    issues.add(key, "must be above 0 and at most the window (" + formatDuration(window) +
                        "), not " + formatDuration(*threshold));
  }
}

void checkPsi(const PsiConfig& psi, const std::string& key, Issues& issues) {
  if (!psi.some_threshold && !psi.full_threshold) {
    issues.add(key, "needs some_threshold, full_threshold or both");
  }
  if (psi.window < kPsiWindowMin || psi.window > kPsiWindowMax) {
    issues.add(key + ".window",
               "must be between 500ms and 10s (the kernel's limits for a PSI "
               "trigger), not " +
                   formatDuration(psi.window));
    return;
  }
  checkPsiThreshold(psi.some_threshold, psi.window, key + ".some_threshold", issues);
  checkPsiThreshold(psi.full_threshold, psi.window, key + ".full_threshold", issues);
}

void checkSampling(const SamplingConfig& sampling, const std::string& key, Issues& issues) {
  checkPositive(sampling.min_interval, key + ".min_interval", issues);
  if (sampling.max_interval < sampling.min_interval ||
      sampling.max_interval > kMaxSampleIntervalLimit) {
    issues.add(key + ".max_interval", "must be at least min_interval (" +
                                          formatDuration(sampling.min_interval) + ") and at most " +
                                          formatDuration(kMaxSampleIntervalLimit) + ", not " +
                                          formatDuration(sampling.max_interval));
  }
  if (sampling.fill_rate_bytes < kMinFillRateBytes) {
    issues.add(key + ".fill_rate", "must be at least " + formatBytes(kMinFillRateBytes) +
                                       " (per second), not " +
                                       formatBytes(sampling.fill_rate_bytes));
  }
}

void checkPolicy(const ScopeConfig& scope, const std::string& key, Issues& issues) {
  const int panic_on_oom = static_cast<int>(scope.policy.panic_on_oom);
  if (panic_on_oom < 0 || panic_on_oom > 2) {
    issues.add(key + ".panic_on_oom",
               "must be 0, 1 or 2 (as vm.panic_on_oom), not " + std::to_string(panic_on_oom));
  }
  const std::string command_key = key + ".panic_command";
  if (scope.policy.panic_action == PanicAction::kExec) {
    if (scope.panic_command.empty()) {
      issues.add(key + ".panic_action", "\"exec\" needs a panic_command");
    } else {
      checkCommand(scope.panic_command, command_key, issues);
    }
  } else if (!scope.panic_command.empty()) {
    issues.add(command_key, "is only used with panic_action = \"exec\"");
  }
  checkPositive(scope.panic_command_timeout, key + ".panic_command_timeout", issues);
  checkPositive(std::chrono::duration_cast<Millis>(scope.policy.allocating_window),
                key + ".allocating_window", issues);
}

void checkKill(const ScopeConfig& scope, const std::string& key, Issues& issues) {
  checkPositive(scope.kill.sigterm_grace, key + ".sigterm_grace", issues);
  const auto reap_ms = std::chrono::duration_cast<Millis>(scope.policy.reap_timeout);
  checkPositive(reap_ms, key + ".reap_timeout", issues);
}

void checkGrowLimit(const GrowLimitConfig& g, bool global, const std::string& key, Issues& issues) {
  if (global) {
    issues.add(key + ".type",
               "grow-limit is only for cgroup scopes (it raises the cgroup's "
               "memory limit)");
  }
  if (g.step_bytes && *g.step_bytes == 0) issues.add(key + ".step", "must be above 0");
  if (g.reserve_bytes == 0) issues.add(key + ".reserve", "must be above 0");
  if (g.step_bytes && g.reserve_bytes != 0 && *g.step_bytes > g.reserve_bytes) {
    issues.add(key + ".step", "step (" + formatBytes(*g.step_bytes) +
                                  ") must not exceed reserve (" + formatBytes(g.reserve_bytes) +
                                  ")");
  }
  if (g.ceiling_bytes && *g.ceiling_bytes == 0) issues.add(key + ".ceiling", "must be above 0");
}

void checkHandler(const HandlerConfig& h, bool global, const std::string& key, Issues& issues) {
  checkName(h.name, key + ".name", issues);
  switch (h.type) {
    case HandlerType::kExec:
      checkCommand(h.exec.command, key + ".command", issues);
      checkPositive(h.exec.timeout, key + ".timeout", issues);
      break;
    case HandlerType::kGrowLimit:
      checkGrowLimit(h.grow_limit, global, key, issues);
      break;
    case HandlerType::kMemoryReclaim: {
      if (global) {
        issues.add(key + ".type",
                   "memory-reclaim is only for cgroup scopes (it writes the cgroup's "
                   "memory.reclaim)");
      }
      const auto& amount = h.memory_reclaim.amount;
      if (amount && (amount->isPercent() ? amount->percent <= 0 : amount->bytes == 0)) {
        issues.add(key + ".amount", "must be above 0");
      }
      break;
    }
  }
}

void checkHandlers(const ScopeConfig& scope, size_t scope_index, Issues& issues) {
  std::map<std::string, size_t> names;
  for (size_t j = 0; j < scope.handlers.size(); ++j) {
    const HandlerConfig& handler = scope.handlers[j];
    const std::string key = handlerKey(scope_index, j);
    checkHandler(handler, scope.isGlobal(), key, issues);
    if (const auto [it, fresh] = names.emplace(handler.name, j); !fresh) {
      issues.add(key + ".name", "duplicate handler name " + quoteBytes(handler.name) + " (" +
                                    handlerKey(scope_index, it->second) + " has it too)");
    }
  }
}

void checkScope(const ScopeConfig& scope, size_t index, Issues& issues) {
  const std::string key = scopeKey(index);
  checkName(scope.name, key + ".name", issues);
  if (scope.cgroup) checkCgroup(*scope.cgroup, key + ".cgroup", issues);
  if (scope.takeover && scope.isGlobal()) {
    issues.add(key + ".takeover", "takeover is only for cgroup scopes");
  }
  checkWatermarks(scope.watermarks, key + ".watermarks", issues);
  checkSampling(scope.sampling, key + ".sampling", issues);
  if (scope.psi) checkPsi(*scope.psi, key + ".psi", issues);
  checkPolicy(scope, key + ".policy", issues);
  checkKill(scope, key + ".kill", issues);
  checkHandlers(scope, index, issues);
}

}  // namespace

std::vector<ConfigIssue> validateConfig(const Config& config) {
  std::vector<ConfigIssue> out;
  Issues issues(out);
  checkDaemon(config.daemon, issues);
  if (config.scopes.empty()) issues.add("scope", "at least one [[scope]] is required");
  for (size_t i = 0; i < config.scopes.size(); ++i) {
    checkScope(config.scopes[i], i, issues);
  }
  checkScopeIdentities(config.scopes, issues);
  return out;
}

}  // namespace oomkit::core
