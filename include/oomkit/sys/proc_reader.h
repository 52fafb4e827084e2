// oomkit/sys/proc_reader.h — the process snapshot: what victim selection needs, read from
// a procfs mounted at any root (--proc-root), fast and race-aware.
//
// Each file is opened relative to the proc root ("1234/status"): the cheapest way the kernel
// offers (docs/benchmarks.md). A pid reused between two reads of one process would show as a
// different Tgid/pid inside the files and is then treated as vanished. Processes that vanish and
// files that cannot be read are normal: they are skipped and counted in ScanCounters, never an
// error for the whole scan. Not thread-safe: one reader per thread (it reuses a buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/process.h"
#include "oomkit/core/procfs.h"
#include "oomkit/result.h"

namespace oomkit::sys {

// Which files to read per process. kFieldsExact is the cheapest set that still gives the
// kernel's exact badness and eligibility plus the (pid, start time) identity.
enum ProcessField : unsigned {
  kFieldStat = 1u << 0,         // identity, comm, state, flags
  kFieldStatus = 1u << 1,       // memory, uid, capabilities
  kFieldAdj = 1u << 2,          // oom_score_adj
  kFieldKernelScore = 1u << 3,  // the kernel's own oom_score
  kFieldCmdline = 1u << 4,
  kFieldCgroup = 1u << 5,  // memory cgroup path
};
inline constexpr unsigned kFieldsExact = kFieldStat | kFieldStatus | kFieldAdj;
inline constexpr unsigned kFieldsAll =
    kFieldsExact | kFieldKernelScore | kFieldCmdline | kFieldCgroup;

struct ScanCounters {
  size_t listed = 0;                  // numeric entries in the proc root
  size_t captured = 0;                // processes in the snapshot
  size_t vanished = 0;                // exited between listing and reading
  size_t permission_denied = 0;       // a required file was unreadable
  size_t malformed = 0;               // a required file did not parse
  std::vector<std::string> problems;  // one message per skipped process (not for vanished)
};

struct ProcessSnapshot {
  std::vector<core::Process> processes;  // in /proc listing order
  ScanCounters counters;
};

class ProcReader {
 public:
  // Opens `proc_root` ("/proc", or a procfs mounted elsewhere).
  static Result<ProcReader> open(std::string proc_root);
  ProcReader(ProcReader&& other) noexcept;
  ProcReader& operator=(ProcReader&& other) noexcept;
  ProcReader(const ProcReader&) = delete;
  ProcReader& operator=(const ProcReader&) = delete;
  ~ProcReader();

  const std::string& root() const { return root_; }

  // The pids listed in the proc root, in directory order.
  Result<std::vector<int32_t>> listPids();
  // One process. Errc::kNotFound when it exited; kPermissionDenied / kParse when a required
  // file could not be read or parsed. Optional fields that fail are left empty. With
  // kFieldStat, a kernel thread's status and oom_score_adj are not read (no memory, adj 0):
  // it is never a candidate.
  Result<core::Process> readProcess(int32_t pid, unsigned fields);
  // /proc/PID/stat alone (identity and walk order for processes already read without it).
  Result<core::ProcStat> readStat(int32_t pid);
  // The memory cgroup path from /proc/PID/cgroup (v1 memory line, else the v2 line);
  // nullopt when the process exited or has neither.
  std::optional<std::string> readMemcgPath(int32_t pid);
  // /proc/PID/oom_score alone (the kernel's own score, for pre-filtering).
  Result<int64_t> readKernelOomScore(int32_t pid);
  // Every process; fails only when the proc root itself cannot be listed.
  Result<ProcessSnapshot> snapshot(unsigned fields);

  // Machine-wide files, relative to the proc root.
  Result<core::MemInfo> readMemInfo();
  Result<std::string> readOsRelease();  // sys/kernel/osrelease
  Result<int32_t> readVmSwappiness();   // sys/vm/swappiness
  // A file under the proc root ("self/mountinfo", "sys/vm/panic_on_oom", ...).
  Result<std::string> readText(const std::string& relative_path);

 private:
  ProcReader(std::string root, int dirfd) : root_(std::move(root)), dirfd_(dirfd) {}
  Result<std::string_view> readPidFile(int32_t pid, std::string_view name);
  template <typename Parse>
  auto readParsed(int32_t pid, std::string_view name, Parse parse)
      -> decltype(parse(std::string_view{}));
  void fillFromLiveThread(core::Process& process);
  std::vector<int32_t> listTids(int32_t pid);
  void readOptionalFields(unsigned fields, core::Process& process);

  std::string root_;
  int dirfd_ = -1;
  std::string buffer_;  // reused for every file: no allocation per read on a scan
};

}  // namespace oomkit::sys
