#include "oomkit/sys/proc_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

constexpr size_t kMaxProblems = 32;

// An fd that closes itself.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

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

Status ProcReader::readInto(int dirfd, const char* name, std::string_view display) {
  return readFileAt(dirfd, name, buffer_, display);
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

Result<core::Process> ProcReader::readProcess(int32_t pid, unsigned fields) {
  const std::string pid_name = std::to_string(pid);
  const Fd pid_dir(::openat(dirfd_, pid_name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  display_ = root_ + "/" + pid_name + "/";
  if (pid_dir.get() < 0) return Unexpected(systemError(display_, errno));

  std::optional<core::ProcStat> stat;
  if (fields & kFieldStat) {
    if (auto s = readInto(pid_dir.get(), "stat", display_ + "stat"); !s)
      return Unexpected(s.error());
    auto parsed = core::parseProcStat(buffer_);
    if (!parsed) return Unexpected(parsed.error().wrap(display_ + "stat"));
    stat = std::move(*parsed);
  }
  if (auto s = readInto(pid_dir.get(), "status", display_ + "status"); !s) {
    return Unexpected(s.error());
  }
  auto status = core::parseProcStatus(buffer_);
  if (!status) return Unexpected(status.error().wrap(display_ + "status"));
  if (auto s = readInto(pid_dir.get(), "oom_score_adj", display_ + "oom_score_adj"); !s) {
    return Unexpected(s.error());
  }
  auto adj = core::parseOomScoreAdj(buffer_);
  if (!adj) return Unexpected(adj.error().wrap(display_ + "oom_score_adj"));

  core::Process process = stat ? core::buildProcess(*stat, *status, *adj)
                               : core::buildProcess(core::ProcStat{}, *status, *adj);
  if (!stat) fillFromStatus(pid, *status, process);
  if (!process.has_mm && status->threads > 1) {
    if (auto s = fillFromLiveThread(pid_dir.get(), process); !s) return Unexpected(s.error());
  }
  readOptionalFields(pid_dir.get(), fields, process);
  return process;
}

// A thread group whose leader has exited still has an mm in its other threads, and the
// kernel's find_lock_task_mm() finds it there; /proc/PID/status of the zombie leader shows
// no memory. Read the first live thread's status, as the kernel would.
Status ProcReader::fillFromLiveThread(int pid_dirfd, core::Process& process) {
  const Fd task_dir(::openat(pid_dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (task_dir.get() < 0) return Ok{};  // gone or unreadable: keep "no memory"
  DIR* dir = ::fdopendir(::dup(task_dir.get()));
  if (dir == nullptr) return Ok{};
  std::vector<int32_t> tids;
  while (const dirent* entry = ::readdir(dir)) {
    if (auto tid = pidFromName(entry->d_name); tid && *tid != process.pid) tids.push_back(*tid);
  }
  ::closedir(dir);
  for (const int32_t tid : tids) {
    const std::string name = std::to_string(tid) + "/status";
    if (!readInto(task_dir.get(), name.c_str(), display_ + "task/" + name)) continue;
    auto status = core::parseProcStatus(buffer_);
    if (!status || !status->has_mm) continue;
    const core::Process thread = core::buildProcess(core::ProcStat{}, *status, 0);
    process.has_mm = true;
    process.memory = thread.memory;
    return Ok{};
  }
  return Ok{};
}

void ProcReader::readOptionalFields(int pid_dirfd, unsigned fields, core::Process& process) {
  if ((fields & kFieldKernelScore) && readInto(pid_dirfd, "oom_score", display_ + "oom_score")) {
    if (auto score = core::parseOomScore(buffer_)) process.kernel_oom_score = *score;
  }
  if ((fields & kFieldCmdline) && readInto(pid_dirfd, "cmdline", display_ + "cmdline")) {
    process.cmdline = core::cmdlineFromProc(buffer_);
  }
  if ((fields & kFieldCgroup) && readInto(pid_dirfd, "cgroup", display_ + "cgroup")) {
    if (auto lines = core::parseProcCgroup(buffer_)) {
      auto path = core::v1MemoryCgroupPath(*lines);
      if (!path) path = core::v2CgroupPath(*lines);
      if (path) process.memcg_path = std::move(*path);
    }
  }
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
