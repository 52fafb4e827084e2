#include "oomkit/sys/resident_set.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

constexpr uint64_t kPageSize = 4096;
// /proc/PID/pagemap: one 64-bit entry per page (Documentation/admin-guide/mm/pagemap.rst).
constexpr uint64_t kPagePresent = 1ULL << 63;
constexpr uint64_t kPageFileOrSharedAnon = 1ULL << 61;
constexpr size_t kEntriesPerRead = 512;

// A page that madvise(MADV_DONTNEED) would lose: present, and not the file's page (a private
// copy made by a write, e.g. a relocation before RELRO's mprotect).
bool isPrivateCopy(uint64_t entry) {
  return (entry & kPagePresent) != 0 && (entry & kPageFileOrSharedAnon) == 0;
}

bool isReadOnlyPrivateFileMapping(const core::MapsEntry& entry) {
  return !entry.writable && !entry.shared && entry.inode != 0 && !entry.path.empty() &&
         entry.path[0] == '/';
}

Status dropRange(uint64_t start, uint64_t end) {
  if (end <= start) return Ok{};
  if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) != 0) {
    return Unexpected(systemError("madvise(MADV_DONTNEED)", errno));
  }
  return Ok{};
}

// Drops the mapping's clean file pages, keeping each run of private copies.
Status dropMapping(int pagemap_fd, const core::MapsEntry& mapping, DroppedPages& out) {
  std::array<uint64_t, kEntriesPerRead> entries{};
  uint64_t run_start = mapping.start;  // first page of the range still to drop
  for (uint64_t page = mapping.start; page < mapping.end;) {
    const uint64_t count = std::min<uint64_t>(kEntriesPerRead, (mapping.end - page) / kPageSize);
    const auto want = static_cast<size_t>(count * sizeof(uint64_t));
    const ssize_t got = ::pread(pagemap_fd, entries.data(), want,
                                static_cast<off_t>(page / kPageSize * sizeof(uint64_t)));
    if (got != static_cast<ssize_t>(want)) {
      return Unexpected(systemError("/proc/self/pagemap", got < 0 ? errno : EIO));
    }
    for (uint64_t i = 0; i < count; ++i, page += kPageSize) {
      if (isPrivateCopy(entries[i])) {
        if (auto dropped = dropRange(run_start, page); !dropped) return dropped;
        run_start = page + kPageSize;
        out.kept_private += kPageSize;
      } else if ((entries[i] & kPagePresent) != 0) {
        out.bytes += kPageSize;
      }
    }
  }
  return dropRange(run_start, mapping.end);
}

}  // namespace

Result<DroppedPages> dropCleanFilePages() {
  auto maps = readFile("/proc/self/maps");
  if (!maps) return Unexpected(maps.error());
  const int pagemap_fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap_fd < 0) return Unexpected(systemError("/proc/self/pagemap", errno));
  DroppedPages out;
  Status status = Ok{};
  core::forEachLine(*maps, [&](std::string_view line) {
    if (!status || line.empty()) return;
    auto entry = core::parseMapsLine(line);
    if (!entry) {
      status = Unexpected(entry.error().wrap("/proc/self/maps"));
      return;
    }
    if (!isReadOnlyPrivateFileMapping(*entry)) return;
    ++out.mappings;
    status = dropMapping(pagemap_fd, *entry, out);
  });
  ::close(pagemap_fd);
  if (!status) return Unexpected(status.error());
  return out;
}

}  // namespace oomkit::sys
