// Takeover mode (cgroup v1): oom_kill_disable=1 in memory.oom_control hands the cgroup's OOMs
// to oomkit (Documentation/admin-guide/cgroup-v1/memory.rst, "OOM Control"; the kernel's
// mem_cgroup_oom_control_write() refuses the root cgroup and values other than 0 and 1), with
// a record in the state directory so that a crashed daemon's setting is repaired at the next
// start. See oomkit/sys/takeover.h for the record's format and the risk it covers.
#include "oomkit/sys/takeover.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "oomkit/core/memcg_events.h"
#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

constexpr std::string_view kRecordSuffix = ".takeover";
constexpr const char* kOomControl = "/memory.oom_control";
constexpr int kEngageAttempts = 2;  // a stale record is repaired once, then the cgroup is ours

// Who holds a takeover, and what to restore.
struct Record {
  int32_t pid = 0;
  uint64_t start_time_ticks = 0;
  bool original = false;  // oom_kill_disable before takeover
  std::string cgroup;
};

// '\\' and '\n' escaped, so the cgroup fits on its line; core::unescapeKernelString() undoes it.
std::string escapeLine(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatRecord(const Record& record) {
  return "pid " + std::to_string(record.pid) + "\nstart_time " +
         std::to_string(record.start_time_ticks) + "\noom_kill_disable " +
         (record.original ? "1" : "0") + "\ncgroup " + escapeLine(record.cgroup) + "\n";
}

std::optional<std::string> findCgroupLine(std::string_view text) {
  static constexpr std::string_view kKey = "cgroup ";
  std::optional<std::string> cgroup;
  core::forEachLine(text, [&](std::string_view line) {
    if (!cgroup && line.substr(0, kKey.size()) == kKey) {
      cgroup = core::unescapeKernelString(line.substr(kKey.size()));
    }
  });
  return cgroup;
}

std::optional<Record> parseRecord(std::string_view text) {
  const auto pid = core::findKeyedValue(text, "pid");
  const auto start_time = core::findKeyedValue(text, "start_time");
  const auto original = core::findKeyedValue(text, "oom_kill_disable");
  auto cgroup = findCgroupLine(text);
  if (!pid || !start_time || !original || !cgroup || *pid == 0 || *pid > INT32_MAX ||
      *original > 1 || cgroup->empty()) {
    return std::nullopt;
  }
  return Record{static_cast<int32_t>(*pid), *start_time, *original == 1, std::move(*cgroup)};
}

Result<core::ProcStat> readStat(const std::string& path) {
  auto text = readFile(path);
  if (!text) return Unexpected(text.error());
  auto stat = core::parseProcStat(*text);
  if (!stat) return Unexpected(stat.error().wrap(path));
  return stat;
}

// True unless the owner is known to be gone: its pid is free, names a process with another
// start time, or a zombie. When in doubt (unreadable stat) the owner counts as alive.
bool ownerAlive(const Record& record) {
  auto stat = readStat("/proc/" + std::to_string(record.pid) + "/stat");
  if (!stat) return stat.error().code != Errc::kNotFound;
  return stat->start_time_ticks == record.start_time_ticks && stat->state != 'Z' &&
         stat->state != 'X';
}

bool isRootCgroup(std::string_view cgroup) {
  return cgroup.find_first_not_of('/') == std::string_view::npos;
}

Result<std::string> takeoverDir(const MemoryHierarchy& hierarchy, const std::string& cgroup) {
  if (hierarchy.version != core::CgroupVersion::kV1) {
    return makeError(Errc::kUnavailable,
                     "cgroup v2 has no oom_kill_disable; takeover needs cgroup v1");
  }
  if (isRootCgroup(cgroup)) {
    return makeError(Errc::kInvalidArgument,
                     "the root cgroup has no oom_kill_disable; takeover needs a cgroup below it");
  }
  return cgroupDirOf(hierarchy, cgroup);
}

Result<bool> readOomKillDisable(const std::string& dir) {
  auto control = readParsedFile(dir + kOomControl, core::parseOomControl);
  if (!control) return Unexpected(control.error());
  return control->oom_kill_disable;
}

// Writes oom_kill_disable. Returns false if the cgroup is gone (nothing left to restore).
Result<bool> writeOomKillDisable(const std::string& dir, bool disable) {
  const Status written = writeFile(dir + kOomControl, disable ? "1" : "0");
  if (written) return true;
  if (written.error().code == Errc::kNotFound && !pathExists(dir)) return false;
  return Unexpected(written.error());
}

Status removeRecord(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Unexpected(systemError(path, errno));
  return Ok{};
}

Status writeAll(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(systemError(path, errno));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = errno;
  ::close(fd);
  if (n < 0) return Unexpected(systemError(path, err));
  if (static_cast<size_t>(n) != text.size()) return makeError(Errc::kIo, path + ": short write");
  return Ok{};
}

// Creates `path` with `text`, complete, only if it does not exist yet: written to a temporary
// file, then link(2)ed to its name (which fails with EEXIST when taken). False if it existed.
Result<bool> createExclusively(const std::string& path, std::string_view text) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(temp.c_str());  // a leftover of an earlier process with our pid
  if (auto s = writeAll(temp, text); !s) {
    ::unlink(temp.c_str());
    return Unexpected(s.error());
  }
  const int linked = ::link(temp.c_str(), path.c_str());
  const int err = errno;
  ::unlink(temp.c_str());
  if (linked == 0) return true;
  if (err == EEXIST) return false;
  return Unexpected(systemError(path, err));
}

// Restores a dead owner's value and deletes its record. Returns false if the cgroup is gone.
Result<bool> repairRecord(const Record& record, const std::string& record_path,
                          const MemoryHierarchy& hierarchy) {
  auto dir = hierarchy.dirOf(record.cgroup);
  if (!dir) {
    return makeError(Errc::kInvalidArgument, "cgroup " + record.cgroup +
                                                 " lies outside the memory hierarchy mounted at " +
                                                 hierarchy.mount_dir);
  }
  auto restored = writeOomKillDisable(*dir, record.original);
  if (!restored) return Unexpected(restored.error());
  if (auto s = removeRecord(record_path); !s) return Unexpected(s.error());
  return *restored;
}

Result<Record> readRecord(const std::string& path) {
  auto text = readFile(path);
  if (!text) return Unexpected(text.error());
  auto record = parseRecord(*text);
  if (!record) return makeError(Errc::kParse, path + ": not a takeover record");
  return std::move(*record);
}

// An existing record at `path`: repaired if its owner is dead, an error if it is alive.
Status clearStaleRecord(const std::string& path, const MemoryHierarchy& hierarchy) {
  auto record = readRecord(path);
  if (!record) {
    if (record.error().code == Errc::kNotFound) return Ok{};  // released meanwhile
    return Unexpected(record.error().wrap("remove it if no oomkit process uses it"));
  }
  if (ownerAlive(*record)) {
    return makeError(Errc::kInvalidArgument, "cgroup " + record->cgroup +
                                                 " is already taken over by pid " +
                                                 std::to_string(record->pid) + " (" + path + ")");
  }
  auto repaired = repairRecord(*record, path, hierarchy);
  if (!repaired) return Unexpected(repaired.error().wrap("repairing " + path));
  return Ok{};
}

Result<Record> ourRecord(const std::string& cgroup, bool original) {
  auto self = readStat("/proc/self/stat");
  if (!self) return Unexpected(self.error());
  return Record{self->pid, self->start_time_ticks, original, cgroup};
}

// Reads the current value and writes the record; repairs a dead owner's record first.
Result<bool> recordOriginal(const std::string& dir, const std::string& record_path,
                            const std::string& cgroup, const MemoryHierarchy& hierarchy) {
  for (int attempt = 0; attempt < kEngageAttempts; ++attempt) {
    auto original = readOomKillDisable(dir);
    if (!original) return Unexpected(original.error());
    auto record = ourRecord(cgroup, *original);
    if (!record) return Unexpected(record.error());
    auto created = createExclusively(record_path, formatRecord(*record));
    if (!created) return Unexpected(created.error());
    if (*created) return *original;
    if (auto s = clearStaleRecord(record_path, hierarchy); !s) return Unexpected(s.error());
  }
  return makeError(Errc::kIo, record_path + ": recreated by another process while engaging");
}

std::string describeOwner(const Record& record) {
  return "oom_kill_disable=" + std::string(record.original ? "1" : "0") + " on " + record.cgroup +
         " (left by pid " + std::to_string(record.pid) + ", which is gone)";
}

// What repairStale() says about one record file; nullopt if there is nothing to say.
std::optional<std::string> repairFile(const std::string& path, const MemoryHierarchy& hierarchy) {
  auto record = readRecord(path);
  if (!record) {
    if (record.error().code == Errc::kNotFound) return std::nullopt;
    return "takeover record left in place: " + record.error().message;
  }
  if (ownerAlive(*record)) return std::nullopt;
  auto repaired = repairRecord(*record, path, hierarchy);
  if (!repaired) {
    return "could not restore " + describeOwner(*record) + ": " + repaired.error().message +
           "; record kept";
  }
  if (!*repaired) return "takeover record of removed cgroup " + record->cgroup + " deleted";
  return "restored " + describeOwner(*record);
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<Takeover> Takeover::engage(OomState& state, const MemoryHierarchy& hierarchy,
                                  const std::string& cgroup) {
  auto dir = takeoverDir(hierarchy, cgroup);
  if (!dir) return Unexpected(dir.error());
  const std::string record_path =
      state.dir() + "/" + OomState::scopeKey(cgroup) + std::string(kRecordSuffix);
  auto original = recordOriginal(*dir, record_path, cgroup, hierarchy);
  if (!original) return Unexpected(original.error().wrap("taking over " + cgroup));
  const Status disabled = writeFile(*dir + kOomControl, "1");
  if (!disabled) {
    (void)removeRecord(record_path);
    return Unexpected(disabled.error().wrap("taking over " + cgroup));
  }
  return Takeover(cgroup, std::move(*dir), record_path, *original);
}

std::vector<std::string> Takeover::repairStale(OomState& state, const MemoryHierarchy& hierarchy) {
  std::vector<std::string> messages;
  auto names = listDirectory(state.dir());
  if (!names) {
    messages.push_back("cannot look for takeover records: " + names.error().message);
    return messages;
  }
  for (const std::string& name : *names) {
    if (!endsWith(name, kRecordSuffix)) continue;
    if (auto message = repairFile(state.dir() + "/" + name, hierarchy)) {
      messages.push_back(std::move(*message));
    }
  }
  return messages;
}

Takeover::Takeover(Takeover&& other) noexcept
    : cgroup_(std::move(other.cgroup_)),
      dir_(std::move(other.dir_)),
      record_path_(std::move(other.record_path_)),
      original_(other.original_),
      engaged_(std::exchange(other.engaged_, false)) {}

Takeover& Takeover::operator=(Takeover&& other) noexcept {
  if (this != &other) {
    (void)release();
    cgroup_ = std::move(other.cgroup_);
    dir_ = std::move(other.dir_);
    record_path_ = std::move(other.record_path_);
    original_ = other.original_;
    engaged_ = std::exchange(other.engaged_, false);
  }
  return *this;
}

Takeover::~Takeover() {
  (void)release();
}

Status Takeover::release() {
  if (!engaged_) return Ok{};
  auto restored = writeOomKillDisable(dir_, original_);
  if (!restored) return Unexpected(restored.error().wrap("releasing takeover of " + cgroup_));
  if (auto s = removeRecord(record_path_); !s) {
    return Unexpected(s.error().wrap("releasing takeover of " + cgroup_));
  }
  engaged_ = false;
  return Ok{};
}

}  // namespace oomkit::sys
