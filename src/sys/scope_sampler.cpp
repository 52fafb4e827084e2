#include "oomkit/sys/scope_sampler.h"

#include <algorithm>

#include "oomkit/core/cgroup_memory.h"
#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

constexpr size_t kBufferBytes = 8192;  // /proc/meminfo is ~1.5 KiB; counters a few bytes

}  // namespace

Result<ScopeSampler> ScopeSampler::open(ProcReader& proc, std::optional<MemoryHierarchy> memory,
                                        std::optional<std::string> cgroup,
                                        std::chrono::milliseconds refresh) {
  if (cgroup && *cgroup == "/") cgroup.reset();
  ScopeSampler sampler(proc, std::move(memory), std::move(cgroup), refresh);
  if (auto resolved = sampler.resolve(std::chrono::steady_clock::now()); !resolved) {
    return Unexpected(resolved.error());
  }
  return sampler;
}

Status ScopeSampler::resolve(Time now) {
  resolved_ = false;
  counter_.reset();
  std::string path;
  if (!cgroup_) {
    path = proc_->root() + "/meminfo";
  } else {
    auto memory = readScopeMemory(*proc_, memory_, cgroup_);
    if (!memory) return Unexpected(memory.error());
    binding_ = *memory;
    const auto dir = memory_->dirOf(binding_.binding_cgroup);
    if (!dir) return makeError(Errc::kNotFound, "cgroup " + binding_.binding_cgroup + " is gone");
    path = pathExists(*dir + "/memory.current") ? *dir + "/memory.current"
                                                : *dir + "/memory.usage_in_bytes";
  }
  auto counter = PolledFile::open(std::move(path), kBufferBytes);
  if (!counter) return Unexpected(counter.error());
  counter_.emplace(std::move(*counter));
  resolved_ = true;
  resolved_at_ = now;
  return Ok{};
}

Result<ScopeMemory> ScopeSampler::sample(Time now) {
  // The global scope has nothing to re-resolve: /proc/meminfo stays open for good.
  if (!resolved_ || (cgroup_ && now - resolved_at_ >= refresh_)) {
    if (auto resolved = resolve(now); !resolved) return Unexpected(resolved.error());
  }
  auto memory = cgroup_ ? readCgroup() : readGlobal();
  if (!memory && resolved_) {
    // The binding cgroup may have gone or changed: resolve the chain again, once.
    if (auto resolved = resolve(now); !resolved) return Unexpected(resolved.error());
    memory = cgroup_ ? readCgroup() : readGlobal();
  }
  return memory;
}

Result<ScopeMemory> ScopeSampler::readGlobal() {
  auto text = counter_->read();
  if (!text) return Unexpected(text.error());
  auto meminfo = core::parseMemInfo(*text);
  if (!meminfo) return Unexpected(meminfo.error().wrap(counter_->path()));
  return machineScopeMemory(*meminfo);
}

Result<ScopeMemory> ScopeSampler::readCgroup() {
  auto text = counter_->read();
  if (!text) return Unexpected(text.error());
  auto usage = core::parseBytes(core::trim(*text));
  if (!usage) return Unexpected(usage.error().wrap(counter_->path()));
  ScopeMemory memory = binding_;
  memory.usage_bytes = std::min(*usage, memory.total_bytes);
  memory.available_bytes = memory.total_bytes - memory.usage_bytes;
  return memory;
}

}  // namespace oomkit::sys
