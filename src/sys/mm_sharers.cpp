#include "oomkit/sys/mm_sharers.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

// kcmp(2): 0 when both tasks use the same mm, 1 or 2 (an ordering) when not.
Result<bool> sameMm(int32_t a, int32_t b) {
  const long r = ::syscall(SYS_kcmp, static_cast<pid_t>(a), static_cast<pid_t>(b), KCMP_VM, 0, 0);
  if (r == 0) return true;
  if (r > 0) return false;
  const int err = errno;
  Error error = systemError("kcmp(KCMP_VM) " + std::to_string(a) + " " + std::to_string(b), err);
  if (err == ENOSYS) error.code = Errc::kUnavailable;
  return Unexpected(std::move(error));
}

// Whether the task whose status is at `status_path` ("PID/status", "PID/task/TID/status")
// still has an mm.
bool hasMm(ProcReader& proc, const std::string& status_path) {
  auto text = proc.readText(status_path);
  if (!text) return false;
  auto status = core::parseProcStatus(*text);
  return status && status->has_mm;
}

// A task of the victim that still holds its mm. kcmp compares task->mm, and a thread-group
// leader that has exited while other threads run has none (it would then "share" the NULL mm
// of every kernel thread and zombie).
Result<int32_t> mmReferenceTask(ProcReader& proc, int32_t pid) {
  const std::string base = std::to_string(pid);
  if (hasMm(proc, base + "/status")) return pid;
  auto tids = listDirectory(proc.root() + "/" + base + "/task");
  if (tids) {
    for (const std::string& tid : *tids) {
      const auto number = core::parseU64(tid);
      if (!number || *number > INT32_MAX) continue;
      if (hasMm(proc, base + "/task/" + tid + "/status")) return static_cast<int32_t>(*number);
    }
  }
  return makeError(Errc::kNotFound, "pid " + base + " has no mm left (exiting)");
}

SparedProcess spare(const ProcessHandle& victim, const core::Process& sharer,
                    core::KillVerdict verdict) {
  return {sharer.pid, sharer.comm, verdict, core::mmPinnedMessage(victim.process(), sharer)};
}

// Examines one process of the listing; adds it to `out` if it shares the mm.
Status examine(ProcReader& proc, const ProcessHandle& victim, int32_t ref, int32_t pid,
               int32_t self_pid, MmSharers& out) {
  auto same = sameMm(ref, pid);
  if (!same) {
    if (same.error().code == Errc::kPermissionDenied) out.uncompared.push_back(pid);
    if (same.error().code == Errc::kUnavailable) return Unexpected(same.error());
    return Ok{};
  }
  if (!*same) return Ok{};
  auto handle = ProcessHandle::openCurrent(proc, pid, kFieldStat);
  if (!handle) return Ok{};  // exited meanwhile
  // Compare again now that the pidfd pins the process, and check that both are still
  // running: then `pid` named the pidfd's process during this kcmp.
  auto again = sameMm(ref, pid);
  if (!again || !*again || handle->exited() || victim.exited()) return Ok{};
  const core::KillVerdict verdict = core::judgeMmSharer(handle->process(), self_pid);
  if (verdict == core::KillVerdict::kKill) {
    out.to_kill.push_back(std::move(*handle));
  } else {
    out.spared.push_back(spare(victim, handle->process(), verdict));
  }
  return Ok{};
}

}  // namespace

Result<MmSharers> findMmSharers(ProcReader& proc, const ProcessHandle& victim, int32_t self_pid) {
  auto ref = mmReferenceTask(proc, victim.pid());
  if (!ref) return Unexpected(ref.error());
  // Without access to the victim itself every comparison would fail the same way.
  if (auto self = sameMm(*ref, *ref); !self) {
    return Unexpected(self.error().wrap("cannot compare the victim's mm"));
  }
  auto pids = proc.listPids();
  if (!pids) return Unexpected(pids.error().wrap("finding processes that share the mm"));
  MmSharers out;
  for (const int32_t pid : *pids) {
    if (pid == victim.pid()) continue;  // its own threads are not listed; they die with it
    if (auto s = examine(proc, victim, *ref, pid, self_pid, out); !s) {
      return Unexpected(s.error().wrap("finding processes that share the mm"));
    }
  }
  return out;
}

}  // namespace oomkit::sys
