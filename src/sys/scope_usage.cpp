#include "oomkit/sys/scope_usage.h"

#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

constexpr uint64_t kKiB = 1024;

Result<uint64_t> readCounter(const std::string& file) {
  auto text = readFile(file);
  if (!text) return Unexpected(text.error());
  const auto value = core::parseU64(core::trim(*text));
  if (!value) return makeError(Errc::kParse, file + ": not a byte count");
  return *value;
}

Result<uint64_t> cgroupUsage(const std::string& dir) {
  const std::string v2 = dir + "/memory.current";
  if (pathExists(v2)) return readCounter(v2);
  return readCounter(dir + "/memory.usage_in_bytes");
}

Result<uint64_t> machineUsage(ProcReader& proc) {
  auto meminfo = proc.readMemInfo();
  if (!meminfo) return Unexpected(meminfo.error());
  const uint64_t available_kb = meminfo->mem_available_kb.value_or(meminfo->mem_free_kb);
  const uint64_t total_kb = meminfo->mem_total_kb;
  return (total_kb > available_kb ? total_kb - available_kb : 0) * kKiB;
}

}  // namespace

Result<uint64_t> readScopeUsage(ProcReader& proc, const std::optional<std::string>& cgroup_dir) {
  if (cgroup_dir) return cgroupUsage(*cgroup_dir);
  return machineUsage(proc);
}

}  // namespace oomkit::sys
