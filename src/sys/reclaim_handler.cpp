// sys/reclaim_handler.cpp — makeReclaimHandler(): the factory that builds a scope's reclaim
// handlers from their configuration; each type's handler lives in a file of its own.
#include "oomkit/sys/reclaim_handler.h"

#include "cgroup_handlers.h"
#include "exec_handler.h"

namespace oomkit::sys {

Result<std::unique_ptr<ReclaimHandler>> makeReclaimHandler(const core::ScopeConfig& scope,
                                                           const core::HandlerConfig& config,
                                                           const HandlerContext& context) {
  switch (config.type) {
    case core::HandlerType::kExec:
      return makeExecHandler(scope, config, context);
    case core::HandlerType::kGrowLimit:
      return makeGrowLimitHandler(scope, config, context);
    case core::HandlerType::kMemoryReclaim:
      return makeMemoryReclaimHandler(scope, config, context);
  }
  return makeError(Errc::kInvalidArgument, "unknown handler type");
}

}  // namespace oomkit::sys
