// oomkit/sys/reclaim_handler.h — the reclaim handlers of a scope's OOM notifier chain (the
// kernel's oom_notify_list): the port every handler implements, the argument of a walk, and
// the factory that builds the built-in handlers (exec, grow-limit, memory-reclaim) from the
// configuration (docs/config.md "[[scope.handler]]").
//
// The kernel passes each oom_notify_list handler `unsigned long *freed`; here the argument
// also says which scope is out of memory and by how much, so a handler can size its effort.
// A handler returns what it did as a HandlerOutcome; the OOM runner's chain adapter adds the
// freed bytes to the walk's total, records the outcome and returns its NOTIFY_* result to the
// chain (core/notifier_chain.h). Handlers run on the runner's thread, one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "oomkit/core/cgroup_memory.h"
#include "oomkit/core/config.h"
#include "oomkit/core/notifier_chain.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

class OomState;

// What one handler did in one walk, for the OomEvent.
struct HandlerOutcome {
  std::string name;
  std::string type;  // handlerTypeName(): "exec", "grow-limit", "memory-reclaim"
  int priority = 0;
  int result = core::kNotifyDone;  // NOTIFY_* as returned to the chain
  uint64_t freed_bytes = 0;
  std::string note;  // what happened: "exit code 0", "timed out after 10s", "reserve used up"
};

// The argument of one walk of a scope's OOM chain.
struct OomNotification {
  std::string scope_name;
  std::optional<std::string> cgroup;      // as /proc/PID/cgroup shows it; none = global scope
  std::optional<std::string> cgroup_dir;  // its directory in the memory hierarchy
  std::optional<core::CgroupVersion> cgroup_version;  // of that hierarchy
  uint64_t total_bytes = 0;      // the scope's size (its binding limit, or the machine's)
  uint64_t available_bytes = 0;  // at the start of the walk
  uint64_t bytes_needed = 0;     // how far available memory is below the high watermark
  uint64_t high_watermark_bytes = 0;
};

// One reclaim handler. name(), type() and priority() are fixed at construction.
class ReclaimHandler {
 public:
  virtual ~ReclaimHandler() = default;
  virtual const std::string& name() const = 0;
  virtual core::HandlerType type() const = 0;
  virtual int priority() const = 0;
  // Tries to free memory for the scope; never throws. The outcome's name, type and priority are
  // the handler's own.
  virtual HandlerOutcome reclaim(const OomNotification& notification) = 0;
};

// What the built-in handlers need from the machine. Pointers must outlive the handlers.
struct HandlerContext {
  ProcReader* proc = nullptr;
  std::optional<MemoryHierarchy> memory;  // none: no memory controller (cgroup handlers fail)
  OomState* state = nullptr;              // grow-limit's reserve across runs; may be null
};

// Builds the handler `config` describes for `scope` (exec, grow-limit, memory-reclaim).
// Errc::kInvalidArgument for a configuration the handler cannot serve (grow-limit or
// memory-reclaim on the global scope, where they make no sense).
Result<std::unique_ptr<ReclaimHandler>> makeReclaimHandler(const core::ScopeConfig& scope,
                                                           const core::HandlerConfig& config,
                                                           const HandlerContext& context);

}  // namespace oomkit::sys
