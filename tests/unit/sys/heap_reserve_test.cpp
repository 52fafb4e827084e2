// Tests for sys/heap_reserve.h on the real glibc malloc: a reserve is real heap, a run that
// fits in it does not grow the heap, and freed memory stays (the daemon's kill path relies on
// all three). Sanitizer builds replace malloc, so there is nothing to test there.
#include "oomkit/sys/heap_reserve.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "support/sanitizer.h"

namespace oomkit::sys {
namespace {

constexpr bool kRealMalloc = !test::kSanitizerBuild;

constexpr size_t kMiB = 1024 * 1024;

TEST(HeapReserveTest, AReserveIsHeapThatLaterAllocationsUseWithoutGrowingIt) {
  if (!kRealMalloc) GTEST_SKIP() << "a sanitizer replaces glibc's malloc";
  keepHeap();
  const uint64_t before = heapBytes();
  reserveHeap(4 * kMiB);
  const uint64_t reserved = heapBytes();
  EXPECT_GT(reserved, before) << "the reserve did not come from the heap";
  EXPECT_GE(::mallinfo2().fordblks, 4 * kMiB) << "the reserve is not free in the heap";

  // 2 MiB in blocks of 256 KiB: above glibc's default mmap threshold (128 KiB), so without
  // keepHeap() each would be a fresh mapping; here all come out of the reserve.
  const uint64_t faults_before = threadPageFaults().minor;
  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) {
    void* block = std::malloc(256 * 1024);
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, 256 * 1024);
    blocks.push_back(block);
  }
  EXPECT_EQ(heapBytes(), reserved) << "the heap grew although the reserve had room";
  // Touching 2 MiB of fresh memory would take 512 page faults; the reserve's pages are in.
  EXPECT_LT(threadPageFaults().minor - faults_before, 64u);
  for (void* block : blocks)
    std::free(block);
  EXPECT_EQ(heapBytes(), reserved) << "freed memory went back to the kernel";
}

TEST(HeapReserveTest, PageFaultsCountFreshMemory) {
  if (!kRealMalloc) GTEST_SKIP() << "a sanitizer replaces glibc's malloc";
  const uint64_t before = threadPageFaults().minor;
  // A private anonymous block far above any threshold: its pages are new to this process.
  std::vector<char> fresh(128 * kMiB);
  for (size_t i = 0; i < fresh.size(); i += 4096)
    fresh[i] = 1;
  EXPECT_GE(threadPageFaults().minor - before, 1000u);
}

}  // namespace
}  // namespace oomkit::sys
