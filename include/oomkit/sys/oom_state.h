// oomkit/sys/oom_state.h — the OOM path's state shared between processes: `oomkit run` and any
// number of `oomkit trigger` runs on one machine, through a directory (default /run/oomkit).
//
// - One run per scope at a time (the kernel's oom_lock): lockScope() takes an exclusive flock
//   on <dir>/<scope key>.lock; a second run of the same scope blocks until the first has
//   decided and signalled, then sees its victim as pending.
// - Pending victims (the kernel's tsk_is_oom_victim()): after a kill, the victim's identity
//   (pid, start time) and when it was signalled are written to <dir>/<scope key>.victims; a
//   later run reads them back and checks each through a pidfd, so a record of a process that
//   has exited (or whose pid now names another process) is dropped, never mistaken for one
//   still dying.
// - grow-limit's reserve: the bytes a handler has handed out, in <dir>/<scope key>.granted.
// Scope keys are the scope's cgroup ("/" for the global scope), escaped to a file name.
// Records are written to a temporary file and renamed, so a reader never sees half a record.
// Monotonic times (CLOCK_MONOTONIC, shared by every process on the machine) are stored.
// Not thread-safe; each process opens its own OomState.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/result.h"

namespace oomkit::sys {

inline constexpr std::string_view kDefaultStateDir = "/run/oomkit";

// A victim signalled by some run, not yet seen to exit.
struct VictimRecord {
  int32_t pid = 0;
  uint64_t start_time_ticks = 0;
  std::string comm;
  std::chrono::steady_clock::time_point signalled_at;
  std::chrono::steady_clock::time_point deadline;  // signalled_at + the reap timeout
  bool operator==(const VictimRecord&) const = default;
};

// The exclusive right to run the OOM path on one scope; released on destruction.
class ScopeLock {
 public:
  ScopeLock(ScopeLock&& other) noexcept;
  ScopeLock& operator=(ScopeLock&& other) noexcept;
  ScopeLock(const ScopeLock&) = delete;
  ScopeLock& operator=(const ScopeLock&) = delete;
  ~ScopeLock();

 private:
  friend class OomState;
  explicit ScopeLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

class OomState {
 public:
  // Creates `dir` (mode 0700) if it does not exist. Errc::kPermissionDenied / kIo otherwise.
  static Result<OomState> open(std::string dir);

  const std::string& dir() const { return dir_; }

  // "/" -> "root", "/a/b c" -> "a%2Fb%20c": a file name that names the cgroup unambiguously.
  static std::string scopeKey(std::string_view cgroup);

  // Blocks until no other run holds the scope.
  Result<ScopeLock> lockScope(std::string_view cgroup);

  // The victims recorded for the scope (unreadable or malformed lines are skipped).
  std::vector<VictimRecord> victims(std::string_view cgroup) const;
  // Replaces the scope's victim list.
  Status storeVictims(std::string_view cgroup, const std::vector<VictimRecord>& records);
  Status addVictim(std::string_view cgroup, const VictimRecord& record);

  // grow-limit: bytes handed out so far by `handler` of the scope (0 when none).
  uint64_t grantedBytes(std::string_view cgroup, std::string_view handler) const;
  Status addGrantedBytes(std::string_view cgroup, std::string_view handler, uint64_t bytes);

 private:
  explicit OomState(std::string dir) : dir_(std::move(dir)) {}
  std::string path(std::string_view cgroup, std::string_view suffix) const;

  std::string dir_;
};

}  // namespace oomkit::sys
