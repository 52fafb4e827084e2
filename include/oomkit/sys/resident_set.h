// oomkit/sys/resident_set.h — sheds the pages of code and read-only data that the daemon
// touched while starting (argument and TOML parsing, config validation, the dynamic linker's
// symbol lookups) and will not touch again, so that what stays resident — and locked by
// mlockall — is what the event loop and the OOM path run. docs/daemon.md, "Memory of its own".
//
// Only clean pages of private, read-only file mappings are dropped (MADV_DONTNEED): they are
// the file's own bytes, so a later access maps them again from the page cache (or the disk)
// and nothing is lost. Pages of those mappings that were written before they became read-only
// (the relocated GOT and .data.rel.ro under RELRO) are private copies: /proc/self/pagemap tells
// them apart (bit 61 clear), and they are kept. Nothing writable or anonymous is touched.
#pragma once

#include <cstddef>
#include <cstdint>

#include "oomkit/result.h"

namespace oomkit::sys {

struct DroppedPages {
  uint64_t bytes = 0;         // clean file pages unmapped from this process
  size_t mappings = 0;        // read-only file mappings looked at
  uint64_t kept_private = 0;  // bytes of private copies inside them, kept
};

// Must run while this process's memory is not locked (madvise refuses VM_LOCKED ranges):
// munlockall() first, mlockall() after the code that must stay resident has run again.
Result<DroppedPages> dropCleanFilePages();

}  // namespace oomkit::sys
