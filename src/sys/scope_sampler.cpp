#include "oomkit/sys/scope_sampler.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

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
  sampler.buffer_.resize(kBufferBytes);
  if (auto resolved = sampler.resolve(std::chrono::steady_clock::now()); !resolved) {
    return Unexpected(resolved.error());
  }
  return sampler;
}

ScopeSampler::ScopeSampler(ScopeSampler&& other) noexcept
    : proc_(other.proc_),
      memory_(std::move(other.memory_)),
      cgroup_(std::move(other.cgroup_)),
      refresh_(other.refresh_),
      resolved_at_(other.resolved_at_),
      resolved_(other.resolved_),
      binding_(std::move(other.binding_)),
      counter_path_(std::move(other.counter_path_)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)) {}

ScopeSampler& ScopeSampler::operator=(ScopeSampler&& other) noexcept {
  if (this != &other) {
    closeFd();
    proc_ = other.proc_;
    memory_ = std::move(other.memory_);
    cgroup_ = std::move(other.cgroup_);
    refresh_ = other.refresh_;
    resolved_at_ = other.resolved_at_;
    resolved_ = other.resolved_;
    binding_ = std::move(other.binding_);
    counter_path_ = std::move(other.counter_path_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

ScopeSampler::~ScopeSampler() {
  closeFd();
}

void ScopeSampler::closeFd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status ScopeSampler::resolve(Time now) {
  resolved_ = false;
  closeFd();
  if (!cgroup_) {
    counter_path_ = proc_->root() + "/meminfo";
  } else {
    auto memory = readScopeMemory(*proc_, memory_, cgroup_);
    if (!memory) return Unexpected(memory.error());
    binding_ = *memory;
    const auto dir = memory_->dirOf(binding_.binding_cgroup);
    if (!dir) return makeError(Errc::kNotFound, "cgroup " + binding_.binding_cgroup + " is gone");
    counter_path_ = pathExists(*dir + "/memory.current") ? *dir + "/memory.current"
                                                         : *dir + "/memory.usage_in_bytes";
  }
  fd_ = ::open(counter_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return Unexpected(systemError(counter_path_, errno));
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

namespace {

Result<std::string_view> preadAll(int fd, std::string& buffer, const std::string& path) {
  const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), 0);
  if (n < 0) return Unexpected(systemError(path, errno));
  return std::string_view(buffer.data(), static_cast<size_t>(n));
}

}  // namespace

Result<ScopeMemory> ScopeSampler::readGlobal() {
  auto text = preadAll(fd_, buffer_, counter_path_);
  if (!text) return Unexpected(text.error());
  auto meminfo = core::parseMemInfo(*text);
  if (!meminfo) return Unexpected(meminfo.error().wrap(counter_path_));
  return machineScopeMemory(*meminfo);
}

Result<ScopeMemory> ScopeSampler::readCgroup() {
  auto text = preadAll(fd_, buffer_, counter_path_);
  if (!text) return Unexpected(text.error());
  auto usage = core::parseBytes(core::trim(*text));
  if (!usage) return Unexpected(usage.error().wrap(counter_path_));
  ScopeMemory memory = binding_;
  memory.usage_bytes = std::min(*usage, memory.total_bytes);
  memory.available_bytes = memory.total_bytes - memory.usage_bytes;
  return memory;
}

}  // namespace oomkit::sys
