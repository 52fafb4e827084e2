#include "oomkit/sys/proc_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <utility>

#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

constexpr size_t kMaxProblems = 32;
constexpr size_t kInitialBuffer = 16384;  // status is ~1.5 KiB; cmdline may be longer

std::optional<int32_t> pidFromName(std::string_view name) {
  const auto value = core::parseU64(name);
  if (!value || *value == 0 || *value > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(*value);
}

// Without stat (the cheapest scan), identity and state come from status. Kernel threads
// then show as "no memory" rather than "kernel thread": either way they are never chosen.
void fillFromStatus(int32_t pid, const core::ProcStatus& status, core::Process& p) {
  p.pid = pid;
  p.comm = status.name;
  p.state = status.state;
  if (status.kthread.value_or(false)) p.flags |= core::kPfKthread;
}

// A pid reused between two reads of one process: the process that was listed has exited.
Unexpected reusedMidRead(int32_t pid) {
  return makeError(Errc::kNotFound, "pid " + std::to_string(pid) + " was reused mid-read");
}

void countFailure(ScanCounters& counters, int32_t pid, const Error& error) {
  switch (error.code) {
    case Errc::kNotFound:
      ++counters.vanished;
      return;
    case Errc::kPermissionDenied:
      ++counters.permission_denied;
      break;
    default:
      ++counters.malformed;
      break;
  }
  if (counters.problems.size() < kMaxProblems) {
    counters.problems.push_back("pid " + std::to_string(pid) + ": " + error.message);
  }
}

}  // namespace

Result<ProcReader> ProcReader::open(std::string proc_root) {
  const int fd = ::open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected(systemError(proc_root, errno));
  return ProcReader(std::move(proc_root), fd);
}

ProcReader::ProcReader(ProcReader&& other) noexcept
    : root_(std::move(other.root_)), dirfd_(std::exchange(other.dirfd_, -1)) {}

ProcReader& ProcReader::operator=(ProcReader&& other) noexcept {
  if (this != &other) {
    if (dirfd_ >= 0) ::close(dirfd_);
    root_ = std::move(other.root_);
    dirfd_ = std::exchange(other.dirfd_, -1);
  }
  return *this;
}

ProcReader::~ProcReader() {
  if (dirfd_ >= 0) ::close(dirfd_);
}

Result<std::vector<int32_t>> ProcReader::listPids() {
  const int fd = ::openat(dirfd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected(systemError(root_, errno));
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(fd);
    return Unexpected(systemError(root_, err));
  }
  std::vector<int32_t> pids;
  while (const dirent* entry = ::readdir(dir)) {
    if (auto pid = pidFromName(entry->d_name)) pids.push_back(*pid);
  }
  ::closedir(dir);
  return pids;
}

// Reads <root>/<pid>/<name> into buffer_ and returns a view of it. One openat() with a path
// relative to the proc root (cheaper than a directory fd per process), and one read() in the
// usual case: procfs files are generated whole into the seq_file buffer, so a read that
// returns less than asked for has returned everything.
Result<std::string_view> ProcReader::readPidFile(int32_t pid, std::string_view name) {
  char path[96];
  const auto [end, ec] = std::to_chars(path, path + 16, pid);
  if (ec != std::errc{} || name.size() + 2 > sizeof(path) - 16) {
    return makeError(Errc::kInvalidArgument, "bad pid file name");
  }
  char* p = end;
  *p++ = '/';
  p = std::copy(name.begin(), name.end(), p);
  *p = '\0';
  const int fd = ::openat(dirfd_, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(systemError(root_ + "/" + path, errno));
  if (buffer_.size() < kInitialBuffer) buffer_.resize(kInitialBuffer);
  size_t used = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer_.data() + used, buffer_.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Unexpected(systemError(root_ + "/" + path, err));
    }
    used += static_cast<size_t>(n);
    if (n == 0 || used < buffer_.size()) break;
    buffer_.resize(buffer_.size() * 2);  // a long cmdline: grow and read on
  }
  ::close(fd);
  return std::string_view(buffer_.data(), used);
}

template <typename Parse>
auto ProcReader::readParsed(int32_t pid, std::string_view name, Parse parse)
    -> decltype(parse(std::string_view{})) {
  auto text = readPidFile(pid, name);
  if (!text) return Unexpected(text.error());
  auto parsed = parse(*text);
  if (!parsed) {
    return Unexpected(
        parsed.error().wrap(root_ + "/" + std::to_string(pid) + "/" + std::string(name)));
  }
  return parsed;
}

Result<core::Process> ProcReader::readProcess(int32_t pid, unsigned fields) {
  std::optional<core::ProcStat> stat;
  if (fields & kFieldStat) {
    auto parsed = readParsed(pid, "stat", core::parseProcStat);
    if (!parsed) return Unexpected(parsed.error());
    stat = std::move(*parsed);
    if (stat->pid != pid) return reusedMidRead(pid);
    // A kernel thread is never a candidate (oom_unkillable_task(): PF_KTHREAD) and has no
    // memory of its own, so stat says all a scan needs: status and oom_score_adj are not read.
    // Kernel threads are half the pids or more on most machines; a global scan reads a
    // third as many files for them.
    if (stat->flags & core::kPfKthread) {
      core::Process process = core::buildProcess(*stat, core::ProcStatus{}, 0);
      readOptionalFields(fields, process);
      return process;
    }
  }
  auto status = readParsed(pid, "status", core::parseProcStatus);
  if (!status) return Unexpected(status.error());
  auto adj = readParsed(pid, "oom_score_adj", core::parseOomScoreAdj);
  if (!adj) return Unexpected(adj.error());
  // A pid reused between two reads would show as another tgid in status.
  if (status->tgid != pid) return reusedMidRead(pid);

  core::Process process = stat ? core::buildProcess(*stat, *status, *adj)
                               : core::buildProcess(core::ProcStat{}, *status, *adj);
  if (!stat) fillFromStatus(pid, *status, process);
  if (!process.has_mm && status->threads > 1) fillFromLiveThread(process);
  readOptionalFields(fields, process);
  return process;
}

// A thread group whose leader has exited still has an mm in its other threads, and the
// kernel's find_lock_task_mm() finds it there; /proc/PID/status of the zombie leader shows
// no memory. Read the first live thread's status, as the kernel would.
void ProcReader::fillFromLiveThread(core::Process& process) {
  auto tids = listTids(process.pid);
  for (const int32_t tid : tids) {
    if (tid == process.pid) continue;
    auto status =
        readParsed(process.pid, "task/" + std::to_string(tid) + "/status", core::parseProcStatus);
    if (!status || !status->has_mm) continue;
    const core::Process thread = core::buildProcess(core::ProcStat{}, *status, 0);
    process.has_mm = true;
    process.memory = thread.memory;
    return;
  }
}

std::vector<int32_t> ProcReader::listTids(int32_t pid) {
  std::vector<int32_t> tids;
  const std::string task_dir = std::to_string(pid) + "/task";
  const int fd = ::openat(dirfd_, task_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return tids;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return tids;
  }
  while (const dirent* entry = ::readdir(dir)) {
    if (auto tid = pidFromName(entry->d_name)) tids.push_back(*tid);
  }
  ::closedir(dir);
  return tids;
}

Result<core::ProcStat> ProcReader::readStat(int32_t pid) {
  return readParsed(pid, "stat", core::parseProcStat);
}

Result<int64_t> ProcReader::readKernelOomScore(int32_t pid) {
  return readParsed(pid, "oom_score", core::parseOomScore);
}

void ProcReader::readOptionalFields(unsigned fields, core::Process& process) {
  const int32_t pid = process.pid;
  if (fields & kFieldKernelScore) {
    if (auto score = readParsed(pid, "oom_score", core::parseOomScore)) {
      process.kernel_oom_score = *score;
    }
  }
  if (fields & kFieldCmdline) {
    if (auto raw = readPidFile(pid, "cmdline")) process.cmdline = core::cmdlineFromProc(*raw);
  }
  if (fields & kFieldCgroup) {
    if (auto path = readMemcgPath(pid)) process.memcg_path = std::move(*path);
  }
}

std::optional<std::string> ProcReader::readMemcgPath(int32_t pid) {
  auto lines = readParsed(pid, "cgroup", core::parseProcCgroup);
  if (!lines) return std::nullopt;
  auto path = core::v1MemoryCgroupPath(*lines);
  if (!path) path = core::v2CgroupPath(*lines);
  return path;
}

Result<ProcessSnapshot> ProcReader::snapshot(unsigned fields) {
  auto pids = listPids();
  if (!pids) return Unexpected(pids.error());
  ProcessSnapshot snap;
  snap.counters.listed = pids->size();
  snap.processes.reserve(pids->size());
  for (const int32_t pid : *pids) {
    auto process = readProcess(pid, fields);
    if (!process) {
      countFailure(snap.counters, pid, process.error());
      continue;
    }
    snap.processes.push_back(std::move(*process));
  }
  snap.counters.captured = snap.processes.size();
  return snap;
}

Result<std::string> ProcReader::readText(const std::string& relative_path) {
  std::string text;
  if (auto s = readFileAt(dirfd_, relative_path.c_str(), text, root_ + "/" + relative_path); !s) {
    return Unexpected(s.error());
  }
  return text;
}

Result<core::MemInfo> ProcReader::readMemInfo() {
  auto text = readText("meminfo");
  if (!text) return Unexpected(text.error());
  auto info = core::parseMemInfo(*text);
  if (!info) return Unexpected(info.error().wrap(root_ + "/meminfo"));
  return info;
}

Result<std::string> ProcReader::readOsRelease() {
  auto text = readText("sys/kernel/osrelease");
  if (!text) return Unexpected(text.error());
  return std::string(core::trim(*text));
}

Result<int32_t> ProcReader::readVmSwappiness() {
  auto text = readText("sys/vm/swappiness");
  if (!text) return Unexpected(text.error());
  auto value = core::parseI64(core::trim(*text));
  if (!value) return makeError(Errc::kParse, root_ + "/sys/vm/swappiness: not a number");
  return static_cast<int32_t>(*value);
}

}  // namespace oomkit::sys
