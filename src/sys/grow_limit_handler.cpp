// sys/grow_limit_handler.cpp — the grow-limit reclaim handler (docs/config.md "grow-limit"):
// gives a memory cgroup more room instead of killing, from a bounded reserve.
//
// The user-space cousin of virtio_balloon's OOM notifier (drivers/virtio/virtio_balloon.c,
// virtio_balloon_oom_notify(): deflate the balloon and report the pages freed): here the bytes
// "freed" are the bytes added to the cgroup's own hard limit, v2 memory.max
// (Documentation/admin-guide/cgroup-v2.rst) or v1 memory.limit_in_bytes
// (Documentation/admin-guide/cgroup-v1/memory.rst). Only the scope's own limit is raised,
// even when an ancestor's binds: the reserve was granted for this cgroup, not its parents.
//
// Sizing: the step (the configured one, else the bytes needed, else 1% of the limit and at
// least 1 MiB) is rounded up to whole pages, so a request of a few bytes still adds a page;
// the reserve and the ceiling are hard bounds, so the new limit is rounded down to a page
// below them. The kernel stores limits in pages (page_counter_memparse() rounds down), so the
// page-aligned value written is exactly the value the kernel keeps and shows.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/oom_state.h"

#include "cgroup_handlers.h"

namespace oomkit::sys {
namespace {

using detail::roundDownToPage;
using detail::roundUpToPage;

constexpr uint64_t kMinDefaultStepBytes = uint64_t{1} << 20;
constexpr uint64_t kDefaultStepDivisor = 100;  // 1% of the limit
// readMemcgLimits() wants a swappiness; only the limits are used here.
constexpr int32_t kAnySwappiness = 60;

uint64_t saturatingAdd(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

// The highest page-aligned limit at most `extra` bytes above `limit`.
uint64_t reachable(uint64_t limit, uint64_t extra) {
  return roundDownToPage(saturatingAdd(limit, extra));
}

std::string bytesText(uint64_t bytes) {
  return std::to_string(bytes) + " bytes";
}

class GrowLimitHandler final : public ReclaimHandler {
 public:
  GrowLimitHandler(std::string name, int priority, std::string cgroup, std::string dir,
                   MemoryHierarchy hierarchy, core::GrowLimitConfig config, OomState* state)
      : name_(std::move(name)),
        priority_(priority),
        cgroup_(std::move(cgroup)),
        dir_(std::move(dir)),
        hierarchy_(std::move(hierarchy)),
        config_(config),
        state_(state) {}

  const std::string& name() const override { return name_; }
  core::HandlerType type() const override { return core::HandlerType::kGrowLimit; }
  int priority() const override { return priority_; }
  HandlerOutcome reclaim(const OomNotification& notification) override;

 private:
  bool isV1() const { return hierarchy_.version == core::CgroupVersion::kV1; }
  std::string memoryFile() const {
    return dir_ + (isV1() ? "/memory.limit_in_bytes" : "/memory.max");
  }
  std::string memswFile() const { return dir_ + "/memory.memsw.limit_in_bytes"; }

  uint64_t stepFor(const OomNotification& notification, uint64_t limit) const;
  uint64_t grantedBytes() const;
  std::string recordGrant(uint64_t bytes);
  Status writeLimits(const core::MemcgLimits& limits, uint64_t new_limit);
  HandlerOutcome outcome(int result, uint64_t freed, std::string note) const;

  std::string name_;
  int priority_;
  std::string cgroup_;
  std::string dir_;  // hierarchy_.dirOf(cgroup_)
  MemoryHierarchy hierarchy_;
  core::GrowLimitConfig config_;
  OomState* state_;
  uint64_t granted_here_ = 0;  // by this instance; the floor if the shared record fails
};

HandlerOutcome GrowLimitHandler::reclaim(const OomNotification& notification) {
  auto limits = readMemcgLimits(hierarchy_, cgroup_, kAnySwappiness);
  if (!limits) return outcome(core::kNotifyDone, 0, "reading the limit: " + limits.error().message);
  if (!limits->memory) return outcome(core::kNotifyDone, 0, "cgroup has no limit of its own");
  const uint64_t limit = *limits->memory;

  const uint64_t granted = grantedBytes();
  const uint64_t reserve_left =
      config_.reserve_bytes > granted ? config_.reserve_bytes - granted : 0;
  if (reachable(limit, reserve_left) <= limit) {
    return outcome(core::kNotifyDone, 0,
                   "reserve used up (" + bytesText(granted) + " of " +
                       bytesText(config_.reserve_bytes) + " granted)");
  }
  const uint64_t ceiling = roundDownToPage(config_.ceiling_bytes.value_or(UINT64_MAX));
  if (ceiling <= limit) {
    return outcome(core::kNotifyDone, 0,
                   "limit " + bytesText(limit) + " is already at the ceiling " +
                       bytesText(config_.ceiling_bytes.value_or(0)));
  }

  const uint64_t step = roundUpToPage(stepFor(notification, limit));
  const uint64_t new_limit =
      std::min({reachable(limit, step), reachable(limit, reserve_left), ceiling});
  if (auto written = writeLimits(*limits, new_limit); !written) {
    return outcome(core::kNotifyDone, 0, written.error().message);
  }
  const uint64_t added = new_limit - limit;
  std::string note = "raised " + memoryFile() + " from " + std::to_string(limit) + " to " +
                     std::to_string(new_limit) + " (" + bytesText(reserve_left - added) +
                     " of the reserve left)";
  note += recordGrant(added);
  return outcome(core::kNotifyOk, added, std::move(note));
}

uint64_t GrowLimitHandler::stepFor(const OomNotification& notification, uint64_t limit) const {
  if (config_.step_bytes) return *config_.step_bytes;
  if (notification.bytes_needed > 0) return notification.bytes_needed;
  // Nothing says how much is missing (a trigger with no watermark shortfall): a small step,
  // so that repeated OOMs grow the limit gradually rather than spend the reserve at once.
  return std::max(limit / kDefaultStepDivisor, kMinDefaultStepBytes);
}

// The reserve is shared by every process that runs this scope's OOM path (`oomkit run`,
// `oomkit trigger`), so the shared record counts; our own count is a floor in case writing
// that record failed.
uint64_t GrowLimitHandler::grantedBytes() const {
  const uint64_t shared = state_ != nullptr ? state_->grantedBytes(cgroup_, name_) : 0;
  return std::max(shared, granted_here_);
}

// Returns a note suffix when the grant could not be recorded in the shared state.
std::string GrowLimitHandler::recordGrant(uint64_t bytes) {
  granted_here_ += bytes;
  if (state_ == nullptr) return "";
  if (auto recorded = state_->addGrantedBytes(cgroup_, name_, bytes); !recorded) {
    return "; the grant was not recorded: " + recorded.error().message;
  }
  return "";
}

// v1 with swap accounting: the kernel refuses a memory limit above memory.memsw.limit_in_bytes
// (EINVAL), so memsw goes first. It grows by the same amount, keeping the cgroup's swap
// allowance (memsw - memory) as it was: raising only the memory limit would not help a cgroup
// whose memory+swap limit binds. If the memory limit then cannot be written, memsw is put back.
Status GrowLimitHandler::writeLimits(const core::MemcgLimits& limits, uint64_t new_limit) {
  std::optional<uint64_t> old_memsw;
  if (isV1() && limits.has_swap_file && limits.swap) {
    const uint64_t added = new_limit - *limits.memory;
    const uint64_t memsw = std::max(saturatingAdd(*limits.swap, added), new_limit);
    if (auto raised = writeFile(memswFile(), std::to_string(memsw)); !raised) {
      return Unexpected(
          raised.error().wrap("raising the memory+swap limit to " + std::to_string(memsw)));
    }
    old_memsw = *limits.swap;
  }
  if (auto raised = writeFile(memoryFile(), std::to_string(new_limit)); !raised) {
    if (old_memsw) (void)writeFile(memswFile(), std::to_string(*old_memsw));  // best effort
    return Unexpected(raised.error().wrap("raising the limit to " + std::to_string(new_limit)));
  }
  return Ok{};
}

HandlerOutcome GrowLimitHandler::outcome(int result, uint64_t freed, std::string note) const {
  return detail::handlerOutcome(*this, result, freed, std::move(note));
}

}  // namespace

Result<std::unique_ptr<ReclaimHandler>> makeGrowLimitHandler(const core::ScopeConfig& scope,
                                                             const core::HandlerConfig& config,
                                                             const HandlerContext& context) {
  auto dir = detail::cgroupHandlerDir(scope, config, core::HandlerType::kGrowLimit, context);
  if (!dir) return Unexpected(dir.error());
  return std::unique_ptr<ReclaimHandler>(std::make_unique<GrowLimitHandler>(
      detail::cgroupHandlerName(config), config.priority, *scope.cgroup, std::move(*dir),
      *context.memory, config.grow_limit, context.state));
}

}  // namespace oomkit::sys
