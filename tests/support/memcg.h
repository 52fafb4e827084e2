// support/memcg.h — a throw-away memory cgroup with a hard limit, for live tests.
//
// Every memory-hungry process a test starts must run inside a TestMemcg. create() makes a fresh
// cgroup (v1 memory controller, or v2 where the unified hierarchy has "memory"), nested under
// this process's own memory cgroup when possible, else under the hierarchy root, and sets its
// hard limit with no swap allowed (v1 memory.limit_in_bytes + memory.memsw.limit_in_bytes, v2
// memory.max + memory.swap.max=0). Destruction SIGKILLs only the processes in it that this
// process started (its children, or pids passed to adopt()), waits for the cgroup to empty and
// removes it (and any sub-cgroups a test made in it), also when the test failed. Tests call
// skipReason() first and GTEST_SKIP() when it is not empty.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "oomkit/result.h"

namespace oomkit::test {

enum class CgroupVersion { kV1, kV2 };

// Where the memory controller lives, as seen by this process.
struct MemcgLayout {
  CgroupVersion version = CgroupVersion::kV1;
  std::string mount_point;  // e.g. "/sys/fs/cgroup/memory"
  std::string mount_root;   // the hierarchy path mounted there (mountinfo field 4), "/" usually
  std::string own_path;     // this process's memory cgroup as /proc/self/cgroup shows it
};

// Finds the memory controller from /proc/self/mountinfo and /proc/self/cgroup: a v1 "cgroup"
// mount with the memory option, else a "cgroup2" mount whose cgroup.controllers has "memory".
Result<MemcgLayout> detectMemcgLayout();

class TestMemcg {
 public:
  // Empty when memory cgroups can be created here; otherwise why not ("needs root", ...).
  // Probes once per process by creating and removing a cgroup.
  static const std::string& skipReason();
  // A fresh cgroup "oomkit-test-<pid>-<n>" with a hard limit of `limit_bytes`.
  static Result<TestMemcg> create(uint64_t limit_bytes);

  TestMemcg(TestMemcg&& other) noexcept;
  TestMemcg& operator=(TestMemcg&& other) noexcept;
  TestMemcg(const TestMemcg&) = delete;
  TestMemcg& operator=(const TestMemcg&) = delete;
  // destroy(); a failure is reported with ADD_FAILURE().
  ~TestMemcg();

  CgroupVersion version() const { return version_; }
  // The cgroup as /proc/PID/cgroup shows it, e.g. "/process_api/<id>/oomkit-test-123-0".
  const std::string& path() const { return path_; }
  // The absolute directory, e.g. "/sys/fs/cgroup/memory/process_api/<id>/oomkit-test-123-0".
  const std::string& dir() const { return dir_; }
  std::string procsFile() const { return dir_ + "/cgroup.procs"; }
  // dir() + "/" + name.
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  uint64_t limitBytes() const { return limit_bytes_; }

  // The processes in it now (cgroup.procs).
  Result<std::vector<pid_t>> pids() const;
  // Kernel OOM kills in it: "oom_kill N" of memory.oom_control (v1) or memory.events (v2).
  Result<uint64_t> oomKillCount() const;
  // memory.usage_in_bytes (v1) or memory.current (v2).
  Result<uint64_t> usageBytes() const;
  // v1 memory.oom_control "under_oom": a task waits at the limit (only with oom_kill_disable).
  // Errc::kUnavailable on v2.
  Result<bool> underOom() const;
  // v1 memory.oom_control: with true, tasks at the limit wait instead of being OOM-killed.
  // Errc::kUnavailable on v2.
  Status setOomKillDisable(bool disable);
  // Allows destroy() to kill `pid` although it is not a child of this process.
  void adopt(pid_t pid) { adopted_.insert(pid); }
  // Kills the owned processes in it (and in sub-cgroups), waits up to 5 s for it to empty and
  // removes it. Idempotent. Processes this test did not start are never signalled: if such a
  // process is inside, the cgroup is left in place and an error names it.
  Status destroy();

 private:
  TestMemcg() = default;
  Status setLimit(uint64_t limit_bytes);
  Status removeTree(const std::string& dir);
  void killOwned(const std::string& dir);
  bool owns(pid_t pid) const;

  CgroupVersion version_ = CgroupVersion::kV1;
  std::string path_;
  std::string dir_;
  uint64_t limit_bytes_ = 0;
  std::set<pid_t> adopted_;
};

}  // namespace oomkit::test
