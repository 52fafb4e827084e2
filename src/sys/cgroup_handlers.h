// sys/cgroup_handlers.h — the two reclaim handlers that act on a scope's memory cgroup
// (docs/config.md "grow-limit", "memory-reclaim"), for the factory in reclaim_handler.cpp.
//
// grow-limit raises the cgroup's own hard limit from a bounded reserve (v2 memory.max, v1
// memory.limit_in_bytes: Documentation/admin-guide/cgroup-v2.rst,
// Documentation/admin-guide/cgroup-v1/memory.rst); memory-reclaim writes to cgroup v2
// memory.reclaim (Linux 5.19+). Both need a cgroup: the global scope is Errc::kInvalidArgument.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "oomkit/core/config.h"
#include "oomkit/result.h"
#include "oomkit/sys/reclaim_handler.h"

namespace oomkit::sys {

// Errc::kInvalidArgument for the global scope, another handler type, or a cgroup outside the
// memory hierarchy; Errc::kUnavailable when the context has no memory hierarchy.
Result<std::unique_ptr<ReclaimHandler>> makeGrowLimitHandler(const core::ScopeConfig& scope,
                                                             const core::HandlerConfig& config,
                                                             const HandlerContext& context);

// The same errors as makeGrowLimitHandler(). A v1 hierarchy or a kernel without
// memory.reclaim is not an error here: the handler then answers NOTIFY_DONE and says why.
Result<std::unique_ptr<ReclaimHandler>> makeMemoryReclaimHandler(const core::ScopeConfig& scope,
                                                                 const core::HandlerConfig& config,
                                                                 const HandlerContext& context);

namespace detail {

// Page size used to round the byte counts the handlers write: the kernel converts limits and
// reclaim requests to whole pages by rounding down (page_counter_memparse()).
inline constexpr uint64_t kCgroupPageBytes = 4096;

inline uint64_t roundDownToPage(uint64_t bytes) {
  return bytes / kCgroupPageBytes * kCgroupPageBytes;
}

inline uint64_t roundUpToPage(uint64_t bytes) {
  const uint64_t down = roundDownToPage(bytes);
  return down == bytes || down > UINT64_MAX - kCgroupPageBytes ? down : down + kCgroupPageBytes;
}

// The handler's name: the configured one, or its type's ("grow-limit") when none was given.
inline std::string cgroupHandlerName(const core::HandlerConfig& config) {
  return config.name.empty() ? std::string(core::handlerTypeName(config.type)) : config.name;
}

// An outcome in `handler`'s name.
inline HandlerOutcome handlerOutcome(const ReclaimHandler& handler, int result, uint64_t freed,
                                     std::string note) {
  HandlerOutcome out;
  out.name = handler.name();
  out.type = std::string(core::handlerTypeName(handler.type()));
  out.priority = handler.priority();
  out.result = result;
  out.freed_bytes = freed;
  out.note = std::move(note);
  return out;
}

// The directory of the scope's cgroup, checking what both factories require.
inline Result<std::string> cgroupHandlerDir(const core::ScopeConfig& scope,
                                            const core::HandlerConfig& config,
                                            core::HandlerType expected,
                                            const HandlerContext& context) {
  const std::string type(core::handlerTypeName(expected));
  if (config.type != expected) {
    return makeError(Errc::kInvalidArgument, "not a " + type + " handler configuration");
  }
  if (scope.isGlobal() || scope.cgroup->empty()) {
    return makeError(Errc::kInvalidArgument,
                     type + " needs a cgroup scope; scope " + scope.name + " is global");
  }
  if (!context.memory) {
    return makeError(Errc::kUnavailable,
                     type + ": no memory cgroup hierarchy for cgroup " + *scope.cgroup);
  }
  auto dir = context.memory->dirOf(*scope.cgroup);
  if (!dir) {
    return makeError(Errc::kInvalidArgument, type + ": cgroup " + *scope.cgroup +
                                                 " is outside the memory hierarchy mounted at " +
                                                 context.memory->mount_dir);
  }
  return *dir;
}

}  // namespace detail
}  // namespace oomkit::sys
