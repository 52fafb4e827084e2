// oomkit/core/kill_rules.h — who dies with an OOM victim: the kernel's rules, as pure decisions.
//
// mm/oom_kill.c __oom_kill_process() kills the victim and every other process sharing its mm
// (not init, which pins the mm: "oom killer %d (%s) has mm pinned by %d (%s)", and not kernel
// threads); oom_kill_memcg_member() kills each member of a memory.oom.group cgroup except
// init and oom_score_adj -1000 processes; mm/memcontrol.c mem_cgroup_get_oom_group() picks the
// group. The sys layer (oomkit/sys/killer.h) gathers the facts and carries these decisions out.
// Pure: no I/O. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/badness.h"  // kOomScoreAdjMin
#include "oomkit/core/process.h"

namespace oomkit::core {

// Whether a process may be signalled as part of an OOM kill, and if not, why.
// NOTE: do not rename; verdictName() strings are part of the JSON event format.
enum class KillVerdict {
  kKill,
  kSkipInit,          // pid 1: killing it brings the machine down; it pins a shared mm
  kSkipKernelThread,  // PF_KTHREAD
  kSkipScoreAdjMin,   // oom_score_adj -1000
  kSkipSelf,          // oomkit itself
};

// "kill", "init", "kernel thread", "oom_score_adj -1000", "oomkit itself".
std::string_view verdictName(KillVerdict verdict);

// May `victim` be killed at all? Selection never picks these; the killer checks again so that
// no caller mistake can signal init, a kernel thread, a -1000 process or oomkit (`self_pid`).
KillVerdict judgeVictim(const Process& victim, int32_t self_pid);

// A process that shares the victim's mm. The kernel (4.8+) skips only init and kernel threads
// and kills -1000 sharers too (their adj is kept equal to the victim's, except for vfork
// children); oomkit also spares -1000 sharers, as kernels 4.6-4.7 did, because a user who set
// -1000 was promised the process is never OOM-killed. A spared sharer keeps the mm alive.
KillVerdict judgeMmSharer(const Process& sharer, int32_t self_pid);

// A member of the memory.oom.group cgroup being killed (oom_kill_memcg_member()).
KillVerdict judgeGroupMember(const Process& member, int32_t self_pid);

// The kernel's line for a spared sharer: "oom killer 12 (victim) has mm pinned by 1 (init)".
std::string mmPinnedMessage(const Process& victim, const Process& sharer);

// The cgroups memory.oom.group is looked up in: `victim_cgroup` and its ancestors up to and
// including `oom_domain` ("/" for a global OOM), nearest first. Empty when the victim sits in
// the root cgroup or outside the domain (mem_cgroup_get_oom_group() returns NULL then).
// Paths are as /proc/PID/cgroup shows them.
std::vector<std::string> oomGroupCandidates(std::string_view victim_cgroup,
                                            std::string_view oom_domain);

struct OomGroupFlag {
  std::string path;
  bool oom_group = false;  // memory.oom.group reads 1
};

// The cgroup to kill as a whole: the highest (last) one in `chain` with memory.oom.group set,
// or nullopt if none is. `chain` is oomGroupCandidates() order, nearest first.
std::optional<std::string> selectOomGroup(std::span<const OomGroupFlag> chain);

}  // namespace oomkit::core
