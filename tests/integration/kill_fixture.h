// The fixture of the live kill tests (killer_test.cpp, kill_pending_test.cpp): a /proc reader,
// the machine's memory hierarchy, and oomkit-testproc children inside a TestMemcg. Every process
// these tests signal is one they started, inside a memory cgroup they created.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/killer.h"
#include "oomkit/sys/proc_reader.h"

#include "support/memcg.h"
#include "support/subprocess.h"

namespace oomkit::test {

inline constexpr uint64_t kMiB = 1024 * 1024;

class KillLiveFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestMemcg::skipReason().empty()) GTEST_SKIP() << TestMemcg::skipReason();
    auto proc = sys::ProcReader::open("/proc");
    ASSERT_TRUE(proc) << proc.error().message;
    proc_.emplace(std::move(*proc));
    auto hierarchy = sys::findMemoryHierarchy(*proc_, {});
    ASSERT_TRUE(hierarchy) << hierarchy.error().message;
    hierarchy_ = *hierarchy;
    auto memcg = TestMemcg::create(256 * kMiB);
    ASSERT_TRUE(memcg) << memcg.error().message;
    memcg_.emplace(std::move(*memcg));
  }

  // oomkit-testproc with `args`, inside the test's memory cgroup, ready.
  TestProcess start(std::vector<std::string> args) {
    args.insert(args.end(), {"--cgroup-procs", memcg_->procsFile()});
    auto p = spawnTestProcess(args);
    EXPECT_TRUE(p) << p.error().message;
    if (!p) throw std::runtime_error("oomkit-testproc failed to start");
    return std::move(*p);
  }

  // The process as victim selection would hand it to the killer.
  core::Process identity(int32_t pid) {
    auto p = proc_->readProcess(pid, sys::kFieldsExact | sys::kFieldCgroup);
    EXPECT_TRUE(p) << p.error().message;
    return p ? *p : core::Process{};
  }

  sys::PidfdKiller killer(std::optional<sys::MemoryHierarchy> memory) {
    auto k = sys::PidfdKiller::create(*proc_, {std::move(memory)});
    EXPECT_TRUE(k) << k.error().message;
    if (!k) throw std::runtime_error("no killer");
    return std::move(*k);
  }
  sys::PidfdKiller killer() { return killer(hierarchy_); }

  // A request to kill `pid` in the test cgroup's scope.
  sys::KillRequest request(int32_t pid) {
    sys::KillRequest r;
    r.victim = identity(pid);
    r.scope_cgroup = memcg_->path();
    return r;
  }

  std::optional<sys::ProcReader> proc_;
  sys::MemoryHierarchy hierarchy_;
  std::optional<TestMemcg> memcg_;
};

}  // namespace oomkit::test
