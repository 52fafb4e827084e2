// oomkit/sys/takeover.h — takeover mode (cgroup v1): the kernel hands a memory cgroup's OOMs to
// oomkit instead of running its own OOM killer there.
//
// Documentation/admin-guide/cgroup-v1/memory.rst, "OOM Control": writing 1 to
// memory.oom_control sets oom_kill_disable; a task of the cgroup that hits the limit then
// "will hang/sleep in memory cgroup's OOM-waitqueue" (under_oom reads 1) until memory is freed
// or the limit raised, and the OOM eventfd (MemcgOomEvents) tells oomkit to resolve it.
// The kernel reads oom_kill_disable of the cgroup whose limit was hit, so takeover covers OOMs
// at this cgroup's own limit: a descendant that hits a lower limit of its own keeps the
// kernel's OOM killer unless it is taken over too, and an ancestor's OOM follows the
// ancestor's setting. cgroup v2 has no such switch: engage() there is Errc::kUnavailable.
//
// RISK: while a daemon holds a cgroup in takeover and dies without release() (SIGKILL, crash,
// OOM-killed itself), oom_kill_disable stays 1 and every task of the cgroup that reaches the
// limit stays paused there: the kernel will not kill anything in it, until someone writes the
// original value back ("echo 0 > memory.oom_control") or raises the limit. So before writing 1,
// engage() leaves a record in the state directory naming its owner (pid and start time) and the
// original value, and repairStale(), run when a daemon starts, restores the value of every
// record whose owner is no longer alive. The gap until the next start is the remaining risk:
// supervise the daemon so that it restarts. For the same reason the daemon must not run inside
// a cgroup it takes over: paused at that limit, it could not resolve the OOM.
//
// The record, <state dir>/<OomState::scopeKey(cgroup)>.takeover, is text, one "key value" per
// line: "pid N", "start_time TICKS" (/proc/PID/stat field 22), "oom_kill_disable 0|1" (the
// value before takeover) and "cgroup PATH" (in PATH a backslash is written as two backslashes
// and a newline as backslash-n). It is created complete and exclusively (written to a temporary
// file, then link(2)ed to its name), so two daemons cannot take over one cgroup, and a reader never
// sees half a record. An owner is alive iff /proc/PID/stat exists in our pid namespace with that
// start time and the process is not a zombie; when its stat cannot be read for another reason, it
// counts as alive (a record is never repaired on a guess). A crash between writing the
// temporary file and linking it leaves "<record>.tmp.<pid>" behind, with nothing changed in
// the cgroup; such files are not records and are ignored. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/oom_state.h"

namespace oomkit::sys {

class Takeover {
 public:
  // Reads the cgroup's oom_kill_disable, writes the record, then sets oom_kill_disable=1.
  // A record left by a dead owner is repaired first (its original value is the true one); a
  // live owner's record is Errc::kInvalidArgument (two daemons on one cgroup). kUnavailable on
  // cgroup v2; kNotFound if the cgroup does not exist; kInvalidArgument for the root cgroup
  // (the kernel refuses oom_kill_disable there). Errors name the file.
  static Result<Takeover> engage(OomState& state, const MemoryHierarchy& hierarchy,
                                 const std::string& cgroup);

  // Restores every record whose owner is not alive, deletes those records, and returns one
  // message per record handled, for the start-up log. A record whose value cannot be written
  // back (other than because its cgroup is gone) is kept, and its message says why.
  static std::vector<std::string> repairStale(OomState& state, const MemoryHierarchy& hierarchy);

  Takeover(Takeover&& other) noexcept;
  Takeover& operator=(Takeover&& other) noexcept;
  Takeover(const Takeover&) = delete;
  Takeover& operator=(const Takeover&) = delete;
  ~Takeover();  // release(); a failure leaves the record for repairStale()

  // Writes the original oom_kill_disable back and deletes the record. Idempotent. A cgroup
  // that is gone counts as released. On failure the record stays and release() may be retried.
  Status release();

  const std::string& cgroup() const { return cgroup_; }
  bool originalOomKillDisable() const { return original_; }
  bool engaged() const { return engaged_; }

 private:
  Takeover(std::string cgroup, std::string dir, std::string record_path, bool original)
      : cgroup_(std::move(cgroup)),
        dir_(std::move(dir)),
        record_path_(std::move(record_path)),
        original_(original),
        engaged_(true) {}

  std::string cgroup_;
  std::string dir_;  // the cgroup's directory
  std::string record_path_;
  bool original_ = false;
  bool engaged_ = false;
};

}  // namespace oomkit::sys
