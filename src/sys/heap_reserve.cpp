#include "oomkit/sys/heap_reserve.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdlib>

namespace oomkit::sys {
namespace {

// Larger than any block the OOM path asks for (a process table of a few hundred thousand
// entries): everything below comes from the heap, which the reserve keeps resident.
constexpr int kMmapThreshold = 64 * 1024 * 1024;

size_t pageSize() {
  const long page_size = ::sysconf(_SC_PAGESIZE);
  return static_cast<size_t>(page_size > 0 ? page_size : 4096);
}

// Every page of [block, block + bytes) resident before anything needs it. One
// madvise(MADV_POPULATE_WRITE) (5.14+) faults the whole range in the kernel; a page fault
// per 4 KiB taken from user space costs several times more (on this machine's PVM guests
// about 10 µs each: 0.7 ms for the default 280 KiB). Older kernels answer EINVAL: touch.
void makeResident(unsigned char* block, size_t bytes) {
  const uintptr_t page = pageSize();
  const auto start = reinterpret_cast<uintptr_t>(block) & ~(page - 1);
  const auto end = (reinterpret_cast<uintptr_t>(block) + bytes + page - 1) & ~(page - 1);
  if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE) == 0) return;
  // volatile keeps the compiler from eliding stores to memory that is freed next.
  for (size_t i = 0; i < bytes; i += page)
    static_cast<volatile unsigned char*>(block)[i] = 0;
}

}  // namespace

void keepHeap() {
  ::mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  ::mallopt(M_TRIM_THRESHOLD, INT_MAX);  // INT_MAX: effectively never trim
  ::mallopt(M_TOP_PAD, 0);               // grow by what is asked; reserveHeap() says how much
  ::mallopt(M_ARENA_MAX, 1);             // the release thread allocates nothing, but be sure
}

void releaseFreeHeap() {
  ::malloc_trim(0);
}

uint64_t heapBytes() {
  return ::mallinfo2().arena;
}

void reserveHeap(size_t bytes) {
  if (bytes == 0) return;
  auto* block = static_cast<unsigned char*>(std::malloc(bytes));
  if (!block) return;  // no memory now: the run will take it when it can
  makeResident(block, bytes);
  std::free(block);  // back to the heap's top, never to the kernel (M_TRIM_THRESHOLD)
}

// noinline: the block must lie below the caller's frame, not inside it.
[[gnu::noinline]] void reserveStack(size_t bytes) {
  const size_t page = pageSize();
  // volatile: stores to a block nobody reads are otherwise elided.
  auto* block = static_cast<volatile unsigned char*>(__builtin_alloca(bytes));
  for (size_t i = page; i <= bytes; i += page)
    block[bytes - i] = 0;  // downwards, as the stack grows
}

PageFaults threadPageFaults() {
  rusage usage{};
  if (::getrusage(RUSAGE_THREAD, &usage) != 0) return {};
  return {static_cast<uint64_t>(usage.ru_minflt), static_cast<uint64_t>(usage.ru_majflt)};
}

}  // namespace oomkit::sys
