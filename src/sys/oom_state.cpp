#include "oomkit/sys/oom_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>

#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

int64_t toNanos(SteadyTime time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

SteadyTime fromNanos(int64_t nanos) {
  return SteadyTime(std::chrono::nanoseconds(nanos));
}

// One victim per line: "pid start_time signalled_ns deadline_ns comm" (comm escaped, so it
// holds no space or newline).
std::string formatVictim(const VictimRecord& record) {
  return std::to_string(record.pid) + ' ' + std::to_string(record.start_time_ticks) + ' ' +
         std::to_string(toNanos(record.signalled_at)) + ' ' +
         std::to_string(toNanos(record.deadline)) + ' ' +
         core::escapeBytes(record.comm, core::BackslashEscape::kEscape) + '\n';
}

std::optional<VictimRecord> parseVictim(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (fields.size() < 4) {
    const size_t space = line.find(' ', start);
    if (space == std::string_view::npos) return std::nullopt;
    fields.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  const auto pid = core::parseI64(fields[0]);
  const auto start_time = core::parseU64(fields[1]);
  const auto signalled = core::parseI64(fields[2]);
  const auto deadline = core::parseI64(fields[3]);
  if (!pid || !start_time || !signalled || !deadline || *pid <= 0 || *pid > INT32_MAX) {
    return std::nullopt;
  }
  auto comm = core::unescapeBytes(line.substr(start));
  return VictimRecord{static_cast<int32_t>(*pid), *start_time, std::move(comm),
                      fromNanos(*signalled), fromNanos(*deadline)};
}

// Write-then-rename, so a concurrent reader sees the old or the new content, never a mix.
Status replaceFile(const std::string& path, std::string_view text) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(systemError(temp, errno));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = n < 0 ? errno : 0;
  ::close(fd);
  if (n < 0 || static_cast<size_t>(n) != text.size()) {
    ::unlink(temp.c_str());
    return n < 0 ? Unexpected(systemError(temp, err))
                 : makeError(Errc::kIo, temp + ": short write");
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_err = errno;
    ::unlink(temp.c_str());
    return Unexpected(systemError(path, rename_err));
  }
  return Ok{};
}

// A .granted file: one "handler bytes" line per handler, the name escaped (escapeBytes keeps
// blanks, so the count is after the last one). Unreadable lines are skipped.
std::map<std::string, uint64_t> readGranted(const std::string& file) {
  std::map<std::string, uint64_t> granted;
  auto text = readFile(file);
  if (!text) return granted;
  core::forEachLine(*text, [&](std::string_view line) {
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos) return;
    if (const auto bytes = core::parseU64(line.substr(space + 1))) {
      granted[core::unescapeBytes(line.substr(0, space))] = *bytes;
    }
  });
  return granted;
}

}  // namespace

ScopeLock::ScopeLock(ScopeLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

ScopeLock& ScopeLock::operator=(ScopeLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ScopeLock::~ScopeLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last fd of the open file releases the flock
}

Result<OomState> OomState::open(std::string dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Unexpected(systemError(dir, errno));
  }
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) return Unexpected(systemError(dir, errno));
  if (!S_ISDIR(info.st_mode)) return makeError(Errc::kInvalidArgument, dir + ": not a directory");
  if (::access(dir.c_str(), W_OK) != 0) return Unexpected(systemError(dir, errno));
  return OomState(std::move(dir));
}

std::string OomState::scopeKey(std::string_view cgroup) {
  while (!cgroup.empty() && cgroup.front() == '/')
    cgroup.remove_prefix(1);
  if (cgroup.empty()) return "root";
  std::string key;
  for (const char c : cgroup) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                       (byte >= '0' && byte <= '9') || byte == '-' || byte == '_' || byte == '.';
    if (plain) {
      key += c;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      key += '%';
      key += kHex[byte >> 4];
      key += kHex[byte & 0xF];
    }
  }
  return "cg-" + key;  // never "root", never starts with '.'
}

std::string OomState::path(std::string_view cgroup, std::string_view suffix) const {
  return dir_ + "/" + scopeKey(cgroup) + std::string(suffix);
}

Result<ScopeLock> OomState::lockScope(std::string_view cgroup) {
  const std::string file = path(cgroup, ".lock");
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(systemError(file, errno));
  ScopeLock lock(fd);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return Unexpected(systemError(file, errno));
  }
  return lock;
}

std::vector<VictimRecord> OomState::victims(std::string_view cgroup) const {
  std::vector<VictimRecord> records;
  auto text = readFile(path(cgroup, ".victims"));
  if (!text) return records;
  core::forEachLine(*text, [&](std::string_view line) {
    if (auto record = parseVictim(line)) records.push_back(std::move(*record));
  });
  return records;
}

Status OomState::storeVictims(std::string_view cgroup, const std::vector<VictimRecord>& records) {
  const std::string file = path(cgroup, ".victims");
  if (records.empty()) {
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) return Unexpected(systemError(file, errno));
    return Ok{};
  }
  std::string text;
  for (const auto& record : records)
    text += formatVictim(record);
  return replaceFile(file, text);
}

Status OomState::addVictim(std::string_view cgroup, const VictimRecord& record) {
  auto records = victims(cgroup);
  records.push_back(record);
  return storeVictims(cgroup, records);
}

uint64_t OomState::grantedBytes(std::string_view cgroup, std::string_view handler) const {
  const auto granted = readGranted(path(cgroup, ".granted"));
  const auto found = granted.find(std::string(handler));
  return found == granted.end() ? 0 : found->second;
}

Status OomState::addGrantedBytes(std::string_view cgroup, std::string_view handler,
                                 uint64_t bytes) {
  const std::string file = path(cgroup, ".granted");
  auto granted = readGranted(file);
  granted[std::string(handler)] += bytes;
  std::string text;
  for (const auto& [name, total] : granted) {
    text += core::escapeBytes(name, core::BackslashEscape::kEscape) + ' ' + std::to_string(total) +
            '\n';
  }
  return replaceFile(file, text);
}

}  // namespace oomkit::sys
