// sys/memory_reclaim_handler.cpp — the memory-reclaim reclaim handler (docs/config.md
// "memory-reclaim"): asks the kernel to reclaim memory from the scope's cgroup before anything
// is killed, by writing a byte count to cgroup v2 memory.reclaim
// (Documentation/admin-guide/cgroup-v2.rst, "memory.reclaim", Linux 5.19+).
//
// The kernel answers the write with success when it reclaimed the whole amount, and with
// EAGAIN when it gave up short of it (after MAX_RECLAIM_RETRIES); then what it did reclaim is
// measured as the drop of memory.current across the write. cgroup v1 has no such file
// (Documentation/admin-guide/cgroup-v1/memory.rst; memory.force_empty empties a cgroup
// rather than trimming it), so there the handler only says NOTIFY_DONE and why.
//
// The amount is rounded up to whole pages: the kernel converts it to pages by rounding down
// (page_counter_memparse()), so a request below a page would "succeed" reclaiming nothing.
#include <cerrno>
#include <optional>
#include <string>
#include <utility>

#include "oomkit/core/cgroup_memory.h"
#include "oomkit/core/config_values.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/scope_usage.h"

#include "cgroup_handlers.h"

namespace oomkit::sys {
namespace {

constexpr std::string_view kNoReclaimFileNote =
    "memory.reclaim is not available (cgroup v1 or kernel before 5.19)";

// Errors after which the kernel may have reclaimed part of the amount: it gave up (EAGAIN) or
// a signal interrupted it (EINTR).
bool reclaimedPart(const Error& error) {
  return error.sys_errno == EAGAIN || error.sys_errno == EINTR;
}

class MemoryReclaimHandler final : public ReclaimHandler {
 public:
  MemoryReclaimHandler(std::string name, int priority, std::string dir, core::CgroupVersion version,
                       core::MemoryReclaimConfig config)
      : name_(std::move(name)),
        priority_(priority),
        dir_(std::move(dir)),
        version_(version),
        config_(config) {}

  const std::string& name() const override { return name_; }
  core::HandlerType type() const override { return core::HandlerType::kMemoryReclaim; }
  int priority() const override { return priority_; }
  HandlerOutcome reclaim(const OomNotification& notification) override;

 private:
  std::string reclaimFile() const { return dir_ + "/memory.reclaim"; }
  uint64_t amountFor(const OomNotification& notification) const;
  Result<uint64_t> readUsage() const;
  HandlerOutcome measuredOutcome(uint64_t amount, const Result<uint64_t>& before,
                                 const Error& error) const;
  HandlerOutcome outcome(int result, uint64_t freed, std::string note) const;

  std::string name_;
  int priority_;
  std::string dir_;
  core::CgroupVersion version_;
  core::MemoryReclaimConfig config_;
};

HandlerOutcome MemoryReclaimHandler::reclaim(const OomNotification& notification) {
  if (version_ != core::CgroupVersion::kV2 || !pathExists(reclaimFile())) {
    return outcome(core::kNotifyDone, 0, std::string(kNoReclaimFileNote));
  }
  const uint64_t amount = amountFor(notification);
  if (amount == 0) return outcome(core::kNotifyDone, 0, "nothing to reclaim (0 bytes asked)");

  const auto before = readUsage();  // only needed if the kernel reclaims less than asked
  auto written = writeFile(reclaimFile(), std::to_string(amount));
  if (written) {
    return outcome(core::kNotifyOk, amount, "reclaimed " + std::to_string(amount) + " bytes");
  }
  if (reclaimedPart(written.error())) return measuredOutcome(amount, before, written.error());
  return outcome(core::kNotifyDone, 0,
                 "asking for " + std::to_string(amount) + " bytes: " + written.error().message);
}

// The configured amount (a percentage is of the scope's size), else the bytes needed.
uint64_t MemoryReclaimHandler::amountFor(const OomNotification& notification) const {
  const uint64_t bytes = config_.amount
                             ? core::resolveAmount(*config_.amount, notification.total_bytes)
                             : notification.bytes_needed;
  return detail::roundUpToPage(bytes);
}

Result<uint64_t> MemoryReclaimHandler::readUsage() const {
  const std::string file = dir_ + "/memory.current";
  auto text = readFile(file);
  if (!text) return Unexpected(text.error());
  auto bytes = core::parseBytes(*text);
  if (!bytes) return Unexpected(bytes.error().wrap(file));
  return *bytes;
}

// The kernel stopped short: count what memory.current says left the cgroup. Other tasks may
// have charged memory meanwhile, so this can undercount, never overcount.
HandlerOutcome MemoryReclaimHandler::measuredOutcome(uint64_t amount,
                                                     const Result<uint64_t>& before,
                                                     const Error& error) const {
  std::string note = "the kernel reclaimed less than the " + std::to_string(amount) +
                     " bytes asked (" + error.message + ")";
  const auto after = readUsage();
  if (!before || !after) {
    const Error& failed = !before ? before.error() : after.error();
    return outcome(core::kNotifyDone, 0, note + "; usage unknown: " + failed.message);
  }
  const uint64_t freed = recoveredBytes(*before, *after);
  note += "; usage fell by " + std::to_string(freed) + " bytes";
  return outcome(freed > 0 ? core::kNotifyOk : core::kNotifyDone, freed, std::move(note));
}

HandlerOutcome MemoryReclaimHandler::outcome(int result, uint64_t freed, std::string note) const {
  return detail::handlerOutcome(*this, result, freed, std::move(note));
}

}  // namespace

Result<std::unique_ptr<ReclaimHandler>> makeMemoryReclaimHandler(const core::ScopeConfig& scope,
                                                                 const core::HandlerConfig& config,
                                                                 const HandlerContext& context) {
  auto dir = detail::cgroupHandlerDir(scope, config, core::HandlerType::kMemoryReclaim, context);
  if (!dir) return Unexpected(dir.error());
  return std::unique_ptr<ReclaimHandler>(std::make_unique<MemoryReclaimHandler>(
      detail::cgroupHandlerName(config), config.priority, std::move(*dir), context.memory->version,
      config.memory_reclaim));
}

}  // namespace oomkit::sys
