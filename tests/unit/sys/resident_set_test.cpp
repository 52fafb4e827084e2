// Tests for sys/resident_set.h on real mappings of this test process: clean pages of a
// read-only private file mapping are unmapped (and read back unchanged), a page that was
// written before the mapping became read-only (what RELRO does to the GOT) keeps its contents,
// and writable memory is never touched.
#include "oomkit/sys/resident_set.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace oomkit::sys {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kPages = 8;

// Whether each page of [address, address + pages * kPage) is mapped in this process.
std::vector<bool> residentPages(const void* address, size_t pages) {
  // pagemap, not mincore(): mincore() reports the page cache, not this process's page table.
  std::vector<bool> mapped(pages);
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  for (size_t i = 0; i < pages; ++i) {
    uint64_t entry = 0;
    const auto offset = (reinterpret_cast<uintptr_t>(address) / kPage + i) * sizeof entry;
    EXPECT_EQ(::pread(fd, &entry, sizeof entry, static_cast<off_t>(offset)),
              static_cast<ssize_t>(sizeof entry));
    mapped[i] = (entry >> 63) != 0;
  }
  ::close(fd);
  return mapped;
}

class ResidentSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[] = "/tmp/oomkit-resident-XXXXXX";
    fd_ = ::mkstemp(path);
    ASSERT_GE(fd_, 0);
    path_ = path;
    std::string contents(kPages * kPage, '\0');
    for (size_t i = 0; i < contents.size(); ++i)
      contents[i] = static_cast<char>('a' + i / kPage);
    ASSERT_EQ(::write(fd_, contents.data(), contents.size()),
              static_cast<ssize_t>(contents.size()));
  }
  void TearDown() override {
    if (map_) ::munmap(map_, kPages * kPage);
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  // Maps the file privately, optionally writing page 1 before making the mapping read-only.
  char* mapFile(bool write_page_1) {
    void* map = ::mmap(nullptr, kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd_, 0);
    EXPECT_NE(map, MAP_FAILED);
    map_ = map;
    auto* bytes = static_cast<char*>(map);
    if (write_page_1) std::memset(bytes + kPage, 'X', kPage);
    EXPECT_EQ(::mprotect(map, kPages * kPage, PROT_READ), 0);
    volatile char sum = 0;
    for (size_t i = 0; i < kPages; ++i)
      sum = static_cast<char>(sum + bytes[i * kPage]);
    (void)sum;
    return bytes;
  }

  int fd_ = -1;
  std::string path_;
  void* map_ = nullptr;
};

TEST_F(ResidentSetTest, UnmapsCleanPagesOfAReadOnlyFileMappingAndTheyReadBackUnchanged) {
  char* bytes = mapFile(/*write_page_1=*/false);
  for (bool mapped : residentPages(bytes, kPages))
    ASSERT_TRUE(mapped);

  const auto dropped = dropCleanFilePages();
  ASSERT_TRUE(dropped) << dropped.error().message;

  const auto mapped = residentPages(bytes, kPages);
  for (size_t i = 0; i < kPages; ++i)
    EXPECT_FALSE(mapped[i]) << "page " << i << " still mapped";
  EXPECT_GE(dropped->bytes, kPages * kPage);
  for (size_t i = 0; i < kPages; ++i)
    EXPECT_EQ(bytes[i * kPage + 7], static_cast<char>('a' + i)) << "page " << i;
}

TEST_F(ResidentSetTest, KeepsAPageWrittenBeforeTheMappingBecameReadOnly) {
  char* bytes = mapFile(/*write_page_1=*/true);

  const auto dropped = dropCleanFilePages();
  ASSERT_TRUE(dropped) << dropped.error().message;

  const auto mapped = residentPages(bytes, kPages);
  EXPECT_FALSE(mapped[0]);
  EXPECT_TRUE(mapped[1]) << "the private copy was unmapped: its contents would be lost";
  EXPECT_FALSE(mapped[2]);
  EXPECT_GE(dropped->kept_private, kPage);
  EXPECT_EQ(bytes[kPage], 'X');
  EXPECT_EQ(bytes[2 * kPage - 1], 'X');
  EXPECT_EQ(bytes[2 * kPage], 'c');
}

TEST_F(ResidentSetTest, LeavesWritableMemoryAlone) {
  std::vector<char> heap(kPages * kPage, 'h');
  void* anon =
      ::mmap(nullptr, kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(anon, MAP_FAILED);
  std::memset(anon, 'z', kPages * kPage);

  const auto dropped = dropCleanFilePages();
  ASSERT_TRUE(dropped) << dropped.error().message;

  for (bool mapped : residentPages(anon, kPages))
    EXPECT_TRUE(mapped);
  EXPECT_EQ(static_cast<char*>(anon)[kPages * kPage - 1], 'z');
  EXPECT_EQ(heap.back(), 'h');
  ::munmap(anon, kPages * kPage);
}

}  // namespace
}  // namespace oomkit::sys
