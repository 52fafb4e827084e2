// oomkit/sys/heap_reserve.h — keeps the memory the OOM path allocates in RAM before it is
// needed, so that a run never asks the kernel for a page when the machine has none to give
// (a page fault then means direct reclaim: the daemon would stall exactly when it must act).
//
// The daemon (docs/daemon.md, "Memory of its own"):
//   1. keepHeap() at start: malloc serves every block from the one heap (no fresh mmap for
//      a large vector, no per-thread arena) and never returns freed memory to the kernel;
//   2. rehearses each scope's OOM path once (a dry run: the same reads, selection, kill plan
//      and event), which grows the heap to what a run needs and faults in the code it runs;
//   3. reserveHeap() then adds as much again, free in the heap, its pages resident, and
//      reserveStack() a margin of stack;
//   mlockall(MCL_FUTURE | MCL_ONFAULT) keeps all of it resident.
// Each OOM event reports what its run cost (RunCost): the heap's growth, expected 0, and the
// page faults taken.
#pragma once

#include <cstddef>
#include <cstdint>

namespace oomkit::sys {

// mallopt: M_MMAP_THRESHOLD 64 MiB, M_TRIM_THRESHOLD "never", M_ARENA_MAX 1.
// Call before the allocations it is to govern (first thing in the daemon).
void keepHeap();

// Returns the heap's free pages to the kernel (malloc_trim(0)): what start-up or a reload
// allocated and freed, before the rehearsal grows the heap to what the OOM path needs.
void releaseFreeHeap();

// The bytes of the heap (mallinfo2: `arena`, sbrk'd; with keepHeap() it never shrinks).
uint64_t heapBytes();

// Grows the heap so that `bytes` more are free in it, its pages resident
// (MADV_POPULATE_WRITE, or a touch per page before 5.14).
void reserveHeap(size_t bytes);

// Faults in `bytes` of this thread's stack below the caller's frame: a run called from deeper
// in the event loop than the rehearsal was finds its stack pages resident (and, after
// mlockall, locked) instead of taking a fresh page when there is none to take.
void reserveStack(size_t bytes);

// This thread's page faults so far (getrusage(RUSAGE_THREAD)).
struct PageFaults {
  uint64_t minor = 0;  // served from RAM (a page-cache hit, a fresh zero page)
  uint64_t major = 0;  // waited for I/O
};
PageFaults threadPageFaults();

}  // namespace oomkit::sys
