// Tests for sys::PolledFile on real files: each read sees the file as it is now, through the
// one descriptor; a file longer than promised is an error, not a silently cut read; and the
// real /proc files the daemon polls fit the sizes it gives them.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;

class PolledFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "oomkit-polled-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = (dir_ / "counter").string();
    writeNew("100\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void writeNew(const std::string& text) const {
    FILE* f = std::fopen(path_.c_str(), "w");  // truncates in place: same inode
    ASSERT_NE(f, nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(PolledFileTest, EachReadSeesTheFileAsItIsNow) {
  writeNew("100\n");
  auto file = PolledFile::open(path_, 64);
  ASSERT_TRUE(file) << file.error().message;
  auto first = file->read();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "100\n");
  writeNew("7\n");  // shorter: a read must not show the old tail
  auto second = file->read();
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, "7\n");
  EXPECT_EQ(file->path(), path_);
}

TEST_F(PolledFileTest, AFileLongerThanPromisedIsAnErrorNamingIt) {
  writeNew(std::string(100, 'x'));
  auto file = PolledFile::open(path_, 64);
  ASSERT_TRUE(file);
  auto read = file->read();
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Errc::kIo);
  EXPECT_NE(read.error().message.find(path_), std::string::npos) << read.error().message;
  writeNew(std::string(64, 'x'));  // exactly the promised size is fine
  auto exact = file->read();
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_EQ(exact->size(), 64u);
}

TEST_F(PolledFileTest, AMissingFileIsNotFound) {
  auto file = PolledFile::open((dir_ / "absent").string(), 64);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, Errc::kNotFound);
}

TEST_F(PolledFileTest, AMovedFromFileLeavesTheDescriptorToItsNewOwner) {
  writeNew("42\n");
  auto file = PolledFile::open(path_, 64);
  ASSERT_TRUE(file);
  PolledFile moved = std::move(*file);
  auto read = moved.read();
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, "42\n");
}

TEST(PolledProcFileTest, ProcMeminfoAndVmstatReadWholeAndAgain) {
  for (const char* path : {"/proc/meminfo", "/proc/vmstat"}) {
    auto file = PolledFile::open(path, 64 * 1024);
    ASSERT_TRUE(file) << file.error().message;
    for (int i = 0; i < 2; ++i) {
      auto text = file->read();
      ASSERT_TRUE(text) << text.error().message;
      EXPECT_GT(text->size(), 500u) << path;
      EXPECT_EQ(text->back(), '\n') << path << ": cut short";
    }
  }
}

}  // namespace
}  // namespace oomkit::sys
