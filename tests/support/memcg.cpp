#include "support/memcg.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include "support/file_io.h"

namespace oomkit::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kEmptyTimeout{5000};
constexpr milliseconds kRmdirTimeout{2000};
constexpr milliseconds kPollInterval{10};
constexpr uint64_t kProbeLimit = 16ULL << 20;

struct Mount {
  std::string root;
  std::string point;
  std::string fstype;
  std::string super_options;
};

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  for (;;) {
    size_t end = text.find(sep);
    parts.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) return parts;
    text.remove_prefix(end + 1);
  }
}

bool hasToken(std::string_view list, char sep, std::string_view token) {
  for (const std::string& t : split(list, sep)) {
    if (t == token) return true;
  }
  return false;
}

bool isOctal(char c) {
  return c >= '0' && c <= '7';
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeOctal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && isOctal(s[i + 1]) && isOctal(s[i + 2]) &&
        isOctal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<pid_t> toPid(std::string_view s) {
  auto v = parseUint(s);
  if (!v || *v > 0x7fffffff) return std::nullopt;
  return static_cast<pid_t>(*v);
}

std::optional<Mount> parseMountLine(std::string_view line) {
  std::vector<std::string> f = split(line, ' ');
  size_t sep = 6;
  while (sep < f.size() && f[sep] != "-")
    ++sep;
  if (sep + 3 >= f.size()) return std::nullopt;
  return Mount{unescapeOctal(f[3]), unescapeOctal(f[4]), f[sep + 1], f[sep + 3]};
}

bool isMemoryMount(const Mount& m, CgroupVersion& version) {
  if (m.fstype == "cgroup" && hasToken(m.super_options, ',', "memory")) {
    version = CgroupVersion::kV1;
    return true;
  }
  if (m.fstype != "cgroup2") return false;
  auto controllers = readFile(m.point + "/cgroup.controllers");
  if (!controllers) return false;
  version = CgroupVersion::kV2;
  std::string first_line = controllers->substr(0, controllers->find('\n'));
  return hasToken(first_line, ' ', "memory");
}

// This process's cgroup in the hierarchy of `version` from /proc/self/cgroup.
Result<std::string> ownCgroupPath(CgroupVersion version) {
  auto text = readFile("/proc/self/cgroup");
  if (!text) return Unexpected(text.error());
  for (const std::string& line : splitLines(*text)) {
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string_view controllers = std::string_view(line).substr(first + 1, second - first - 1);
    bool v1_memory = version == CgroupVersion::kV1 && hasToken(controllers, ',', "memory");
    bool v2 = version == CgroupVersion::kV2 && line.rfind("0::", 0) == 0;
    if (v1_memory || v2) return line.substr(second + 1);
  }
  return makeError(Errc::kNotFound, "no memory cgroup line in /proc/self/cgroup");
}

std::string joinPath(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

bool isUnder(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || path.rfind(root + "/", 0) == 0;
}

// The filesystem directory of a cgroup path (as /proc/PID/cgroup shows it).
std::string fsDir(const MemcgLayout& layout, const std::string& path) {
  std::string rel = layout.mount_root == "/" ? path : path.substr(layout.mount_root.size());
  return rel.empty() || rel == "/" ? layout.mount_point : layout.mount_point + rel;
}

// Nested under our own cgroup first, then the hierarchy root.
std::vector<std::string> candidateParents(const MemcgLayout& layout) {
  std::vector<std::string> parents;
  if (layout.own_path != layout.mount_root && isUnder(layout.own_path, layout.mount_root)) {
    parents.push_back(layout.own_path);
  }
  parents.push_back(layout.mount_root);
  return parents;
}

// v2 only shows memory.* files in a child once the parent delegates the controller.
Status ensureV2Memory(const std::string& parent_dir, const std::string& dir) {
  if (fileExists(dir + "/memory.max")) return Ok{};
  (void)writeFile(parent_dir + "/cgroup.subtree_control", "+memory");
  if (fileExists(dir + "/memory.max")) return Ok{};
  return makeError(Errc::kUnavailable, "memory controller not enabled in " + parent_dir);
}

Result<std::string> makeCgroupDir(const MemcgLayout& layout, const std::string& parent,
                                  const std::string& name) {
  std::string parent_dir = fsDir(layout, parent);
  std::string dir = fsDir(layout, joinPath(parent, name));
  if (mkdir(dir.c_str(), 0755) != 0) return Unexpected(sysError("mkdir", dir, errno));
  if (layout.version == CgroupVersion::kV1) return dir;
  if (auto s = ensureV2Memory(parent_dir, dir); !s) {
    rmdir(dir.c_str());
    return Unexpected(s.error());
  }
  return dir;
}

std::optional<pid_t> parentOf(pid_t pid) {
  auto stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::vector<std::string> f = split(std::string_view(*stat).substr(paren + 2), ' ');
  if (f.size() < 2) return std::nullopt;
  return toPid(f[1]);
}

Result<std::vector<pid_t>> readPids(const std::string& dir) {
  auto text = readFile(dir + "/cgroup.procs");
  if (!text) return Unexpected(text.error());
  std::vector<pid_t> pids;
  for (const std::string& line : splitLines(*text)) {
    if (auto pid = toPid(line)) pids.push_back(*pid);
  }
  return pids;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> dirs;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return dirs;
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (e->d_type == DT_DIR && name != "." && name != "..") dirs.push_back(dir + "/" + e->d_name);
  }
  closedir(d);
  return dirs;
}

std::string pidList(const std::vector<pid_t>& pids) {
  std::string list;
  for (pid_t pid : pids)
    list += (list.empty() ? "" : " ") + std::to_string(pid);
  return list;
}

// Waits until `dir` has no processes, killing owned ones as they show up.
template <typename KillFn>
Status waitEmpty(const std::string& dir, KillFn kill_owned) {
  auto deadline = Clock::now() + kEmptyTimeout;
  for (;;) {
    kill_owned(dir);
    auto pids = readPids(dir);
    if (!pids)
      return pids.error().code == Errc::kNotFound ? Status(Ok{}) : Unexpected(pids.error());
    if (pids->empty()) return Ok{};
    if (Clock::now() >= deadline) {
      return makeError(Errc::kIo, dir + " still holds pids " + pidList(*pids) +
                                      " (not started by this test, or not dying)");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// rmdir, retried while the kernel still reports EBUSY just after the last task left.
Status rmdirPatiently(const std::string& dir) {
  auto deadline = Clock::now() + kRmdirTimeout;
  for (;;) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok{};
    if (errno != EBUSY || Clock::now() >= deadline)
      return Unexpected(sysError("rmdir", dir, errno));
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

Result<MemcgLayout> detectMemcgLayout() {
  auto mountinfo = readFile("/proc/self/mountinfo");
  if (!mountinfo) return Unexpected(mountinfo.error());
  for (const std::string& line : splitLines(*mountinfo)) {
    auto mount = parseMountLine(line);
    MemcgLayout layout;
    if (!mount || !isMemoryMount(*mount, layout.version)) continue;
    layout.mount_point = mount->point;
    layout.mount_root = mount->root;
    auto own = ownCgroupPath(layout.version);
    if (!own) return Unexpected(own.error());
    layout.own_path = *own;
    return layout;
  }
  return makeError(Errc::kUnavailable,
                   "no cgroup v1 memory controller mounted (expected /sys/fs/cgroup/memory) "
                   "and no cgroup v2 hierarchy with the memory controller");
}

const std::string& TestMemcg::skipReason() {
  static const std::string reason = []() -> std::string {
    if (geteuid() != 0) return "needs root to create memory cgroups";
    auto layout = detectMemcgLayout();
    if (!layout) return layout.error().message;
    auto probe = create(kProbeLimit);
    if (!probe) return "cannot create a test memory cgroup: " + probe.error().message;
    if (auto s = probe->destroy(); !s)
      return "cannot remove a test memory cgroup: " + s.error().message;
    return "";
  }();
  return reason;
}

Result<TestMemcg> TestMemcg::create(uint64_t limit_bytes) {
  auto layout = detectMemcgLayout();
  if (!layout) return Unexpected(layout.error());
  static std::atomic<unsigned> counter{0};
  std::string name = "oomkit-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  TestMemcg memcg;
  memcg.version_ = layout->version;
  Error last;
  for (const std::string& parent : candidateParents(*layout)) {
    auto dir = makeCgroupDir(*layout, parent, name);
    if (!dir) {
      last = dir.error();
      continue;
    }
    memcg.path_ = joinPath(parent, name);
    memcg.dir_ = *dir;
    break;
  }
  if (memcg.dir_.empty()) return Unexpected(last.wrap("creating memory cgroup " + name));
  if (auto s = memcg.setLimit(limit_bytes); !s) return Unexpected(s.error());
  return memcg;
}

TestMemcg::TestMemcg(TestMemcg&& other) noexcept {
  *this = std::move(other);
}

TestMemcg& TestMemcg::operator=(TestMemcg&& other) noexcept {
  if (this == &other) return *this;
  if (auto s = destroy(); !s) ADD_FAILURE() << s.error().message;
  version_ = other.version_;
  path_ = std::exchange(other.path_, "");
  dir_ = std::exchange(other.dir_, "");
  limit_bytes_ = other.limit_bytes_;
  adopted_ = std::move(other.adopted_);
  return *this;
}

TestMemcg::~TestMemcg() {
  if (auto s = destroy(); !s) ADD_FAILURE() << "TestMemcg cleanup: " << s.error().message;
}

Status TestMemcg::setLimit(uint64_t limit_bytes) {
  limit_bytes_ = limit_bytes;
  std::string bytes = std::to_string(limit_bytes);
  if (version_ == CgroupVersion::kV2) {
    if (auto s = writeFile(file("memory.max"), bytes); !s) return s;
    return fileExists(file("memory.swap.max")) ? writeFile(file("memory.swap.max"), "0")
                                               : Status(Ok{});
  }
  // memsw (memory+swap) must stay >= the memory limit: set the memory limit first.
  if (auto s = writeFile(file("memory.limit_in_bytes"), bytes); !s) return s;
  return fileExists(file("memory.memsw.limit_in_bytes"))
             ? writeFile(file("memory.memsw.limit_in_bytes"), bytes)
             : Status(Ok{});
}

Result<std::vector<pid_t>> TestMemcg::pids() const {
  return readPids(dir_);
}

Result<uint64_t> TestMemcg::oomKillCount() const {
  std::string name = version_ == CgroupVersion::kV1 ? "memory.oom_control" : "memory.events";
  auto text = readFile(file(name));
  if (!text) return Unexpected(text.error());
  auto count = findKeyedValue(*text, "oom_kill");
  if (!count) return makeError(Errc::kParse, "no oom_kill line in " + file(name));
  return *count;
}

Result<uint64_t> TestMemcg::usageBytes() const {
  std::string name = version_ == CgroupVersion::kV1 ? "memory.usage_in_bytes" : "memory.current";
  auto text = readFile(file(name));
  if (!text) return Unexpected(text.error());
  auto bytes = parseUint(*text);
  if (!bytes) return makeError(Errc::kParse, "not a byte count in " + file(name));
  return *bytes;
}

Result<bool> TestMemcg::underOom() const {
  if (version_ != CgroupVersion::kV1) {
    return makeError(Errc::kUnavailable, "under_oom exists only in cgroup v1");
  }
  auto text = readFile(file("memory.oom_control"));
  if (!text) return Unexpected(text.error());
  auto under = findKeyedValue(*text, "under_oom");
  if (!under) return makeError(Errc::kParse, "no under_oom line in " + file("memory.oom_control"));
  return *under != 0;
}

Status TestMemcg::setOomKillDisable(bool disable) {
  if (version_ != CgroupVersion::kV1) {
    return makeError(Errc::kUnavailable, "oom_kill_disable exists only in cgroup v1");
  }
  return writeFile(file("memory.oom_control"), disable ? "1" : "0");
}

Status TestMemcg::destroy() {
  if (dir_.empty()) return Ok{};
  Status s = removeTree(dir_);
  if (s) {
    dir_.clear();
    path_.clear();
  }
  return s;
}

Status TestMemcg::removeTree(const std::string& dir) {
  for (const std::string& sub : subdirs(dir)) {
    if (auto s = removeTree(sub); !s) return s;
  }
  // Tasks frozen at the limit by oom_kill_disable must be able to run to die.
  if (version_ == CgroupVersion::kV1) (void)writeFile(dir + "/memory.oom_control", "0");
  if (auto s = waitEmpty(dir, [this](const std::string& d) { killOwned(d); }); !s) return s;
  return rmdirPatiently(dir);
}

// SIGKILLs, through a pidfd, each process in `dir` that this process started or adopted.
void TestMemcg::killOwned(const std::string& dir) {
  auto pids = readPids(dir);
  if (!pids) return;
  for (pid_t pid : *pids) {
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) continue;
    // Checked after pidfd_open, so the pidfd refers to the process that was checked.
    if (owns(pid)) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    close(pidfd);
  }
}

bool TestMemcg::owns(pid_t pid) const {
  return adopted_.count(pid) != 0 || parentOf(pid) == getpid();
}

}  // namespace oomkit::test
