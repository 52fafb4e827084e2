// sys/psi_monitor.cpp — PSI triggers on a memory pressure file, in three modes: the kernel's
// trigger, the same trigger opened by a helper in a new user namespace, and sampling.
//
// Kernel side (kernel/sched/psi.c, Documentation/accounting/psi.rst): psi_write() copies at
// most 31 bytes and overwrites the last byte written with NUL, so the trigger text is written
// with its NUL. psi_trigger_create() decides privilege from the opener's credentials,
// cap_raised(file->f_cred->cap_effective, CAP_SYS_RESOURCE), and refuses an unprivileged
// window that is not a multiple of 2 s with EINVAL (before ~6.5, psi_open() refused opening for
// write without the capability: EPERM). One trigger per open file; closing it removes the
// trigger; poll() reports POLLPRI when it fired, POLLERR once the file is gone.
//
// The user-namespace helper: fork, and in the child only async-signal-safe system calls
// (unshare, open, write, sendmsg, _exit) on data prepared before the fork — the daemon may be
// multithreaded. All signals stay blocked in the child. The parent waits for the child's one
// message for at most kHelperTimeout, then reaps it (SIGKILL first if it did not answer).
#include "oomkit/sys/psi_monitor.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>

#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

using Clock = std::chrono::steady_clock;
using core::PsiKind;
using core::PsiMicros;
using std::chrono::milliseconds;

// How long the helper child may take to answer, and to exit after answering.
constexpr milliseconds kHelperTimeout{2000};
constexpr milliseconds kHelperExitWait{1000};
// core::PsiWindow's readings per window, as the kernel's UPDATES_PER_WINDOW.
constexpr int kUpdatesPerWindow = 10;
constexpr core::Millis kMinSamplingInterval{50};
constexpr size_t kMaxTriggers = 2;  // some and full
// The kernel's unprivileged windows are multiples of this (psi.c psi_trigger_create()).
constexpr core::Millis kUnprivilegedWindowStep{2000};

// One file descriptor, closed when it goes out of scope unless released.
class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() { reset(); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

using Fds = std::vector<OwnedFd>;

std::string_view errnoName(int err) {
  switch (err) {
    case EINVAL:
      return "EINVAL";
    case EPERM:
      return "EPERM";
    case EACCES:
      return "EACCES";
    case EBUSY:
      return "EBUSY";
    case ENOENT:
      return "ENOENT";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case ENOSPC:
      return "ENOSPC";
    default:
      return "error";
  }
}

// "EINVAL (Invalid argument)".
std::string errnoText(int err) {
  return std::string(errnoName(err)) + " (" + std::strerror(err) + ")";
}

// An Error for system call `call` failing with `err` on `what`.
Error callError(std::string_view call, std::string_view what, int err) {
  return Error{errcFromErrno(err),
               std::string(call) + " " + std::string(what) + ": " + errnoText(err), err};
}

// ---- kernel trigger ------------------------------------------------------------------------

// Triggers exist only on procfs (/proc/pressure/*) and cgroup2 (*.pressure) files: writing a
// trigger to any other file would "succeed" and never fire. Errc::kInvalidArgument, no errno.
Status checkPressureFilesystem(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return Unexpected(callError("statfs", path, errno));
  if (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC) return Ok{};
  return makeError(Errc::kInvalidArgument, path + " is on neither procfs nor cgroup2");
}

// Opens `path` and writes `text` with its NUL: one trigger, or the failing call's errno.
Result<OwnedFd> openTrigger(const std::string& path, const std::string& text) {
  OwnedFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return Unexpected(callError("open", path, errno));
  const ssize_t n = ::write(fd.get(), text.c_str(), text.size() + 1);
  if (n < 0) return Unexpected(callError("write", "'" + text + "' to " + path, errno));
  return fd;
}

Result<Fds> openKernelTriggers(const std::string& path, const std::vector<std::string>& texts) {
  Fds fds;
  for (const std::string& text : texts) {
    auto fd = openTrigger(path, text);
    if (!fd) return Unexpected(fd.error());
    fds.push_back(std::move(fd).value());
  }
  return fds;
}

// ---- user-namespace helper -----------------------------------------------------------------

// What the helper child does, prepared before fork: the child only reads this.
struct HelperPlan {
  const char* path = nullptr;
  std::array<const char*, kMaxTriggers> texts{};
  std::array<size_t, kMaxTriggers> sizes{};  // with the NUL
  size_t count = 0;
};

enum HelperStep : int32_t { kStepDone = 0, kStepUnshare, kStepOpen, kStepWrite };

// The child's one message; on success the fds ride along (SCM_RIGHTS).
struct HelperReport {
  int32_t step = kStepDone;
  int32_t err = 0;
};

union FdControl {
  char buffer[CMSG_SPACE(sizeof(int) * kMaxTriggers)];
  cmsghdr align;
};

// In the child: async-signal-safe calls only.
void sendReport(int sock, const HelperReport& report, const int* fds, size_t count) {
  iovec iov{const_cast<HelperReport*>(&report), sizeof(report)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  FdControl control{};
  if (count > 0) {
    msg.msg_control = control.buffer;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
  }
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// The helper child's whole life. In the child: async-signal-safe calls only, no allocation.
[[noreturn]] void runHelperChild(int sock, const HelperPlan& plan) {
  HelperReport report;
  std::array<int, kMaxTriggers> fds{};
  size_t opened = 0;
  if (::unshare(CLONE_NEWUSER) != 0) report = {kStepUnshare, errno};
  for (size_t i = 0; report.step == kStepDone && i < plan.count; ++i) {
    const int fd = ::open(plan.path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      report = {kStepOpen, errno};
      break;
    }
    fds[opened++] = fd;
    if (::write(fd, plan.texts[i], plan.sizes[i]) < 0) report = {kStepWrite, errno};
  }
  const bool done = report.step == kStepDone;
  sendReport(sock, report, fds.data(), done ? opened : 0);
  ::_exit(done ? 0 : 1);
}

// Waits up to `timeout` for `sock` to be readable; false on timeout.
Result<bool> waitReadable(int sock, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{sock, POLLIN, 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR)
      return Unexpected(systemError("poll on the helper's socket", errno));
  }
}

// The fds of an SCM_RIGHTS message, owned.
Fds takeFds(msghdr& msg) {
  Fds fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  return fds;
}

struct HelperReply {
  HelperReport report;
  Fds fds;
};

Result<HelperReply> receiveReply(int sock) {
  auto readable = waitReadable(sock, kHelperTimeout);
  if (!readable) return Unexpected(readable.error());
  if (!*readable) {
    return makeError(Errc::kIo,
                     "the helper did not answer within " + core::formatDuration(kHelperTimeout));
  }
  HelperReply reply;
  iovec iov{&reply.report, sizeof(reply.report)};
  FdControl control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buffer;
  msg.msg_controllen = sizeof(control.buffer);
  ssize_t n;
  while ((n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) < 0 && errno == EINTR) {
  }
  if (n < 0) return Unexpected(systemError("recvmsg from the helper", errno));
  reply.fds = takeFds(msg);
  if (n == 0) return makeError(Errc::kIo, "the helper exited without answering");
  if (static_cast<size_t>(n) != sizeof(reply.report) || (msg.msg_flags & MSG_CTRUNC) != 0) {
    return makeError(Errc::kIo, "the helper's answer was truncated");
  }
  return reply;
}

// Reaps the helper: waits up to kHelperExitWait for it to exit, then SIGKILLs it (it is our
// unreaped child, so the pid is still its own) and waits for that.
void reapHelper(pid_t pid, bool kill_now) {
  if (kill_now) ::kill(pid, SIGKILL);
  const auto deadline = Clock::now() + kHelperExitWait;
  for (;;) {
    const pid_t r = ::waitpid(pid, nullptr, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return;  // ECHILD: SIGCHLD is ignored
    if (r < 0 && errno == EINTR) continue;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// Forks the helper with every signal blocked (the child keeps them blocked: a handler of the
// daemon's must not run in it) and returns its pid.
Result<pid_t> forkHelper(int child_sock, const HelperPlan& plan) {
  sigset_t all;
  sigset_t old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  if (pid == 0) runHelperChild(child_sock, plan);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return Unexpected(systemError("fork", fork_errno));
  return pid;
}

Error helperFailure(const HelperReport& report, const std::string& path) {
  switch (report.step) {
    case kStepUnshare:
      return callError("unshare(CLONE_NEWUSER)", "in the helper", report.err);
    case kStepOpen:
      return callError("open", path, report.err);
    default:
      return callError("write", "the trigger to " + path, report.err);
  }
}

Result<Fds> openUserNamespaceTriggers(const std::string& path,
                                      const std::vector<std::string>& texts) {
  HelperPlan plan;
  plan.path = path.c_str();
  plan.count = std::min(texts.size(), kMaxTriggers);
  for (size_t i = 0; i < plan.count; ++i) {
    plan.texts[i] = texts[i].c_str();
    plan.sizes[i] = texts[i].size() + 1;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return Unexpected(systemError("socketpair", errno));
  }
  OwnedFd ours(pair[0]);
  OwnedFd theirs(pair[1]);
  auto pid = forkHelper(theirs.get(), plan);
  if (!pid) return Unexpected(pid.error());
  theirs.reset();  // now only the child holds it: its exit ends our read with EOF
  auto reply = receiveReply(ours.get());
  reapHelper(*pid, !reply);
  if (!reply) return Unexpected(reply.error());
  if (reply->report.step != kStepDone) return Unexpected(helperFailure(reply->report, path));
  if (reply->fds.size() != texts.size()) {
    return makeError(Errc::kIo, "the helper sent " + std::to_string(reply->fds.size()) +
                                    " fds for " + std::to_string(texts.size()) + " triggers");
  }
  return std::move(reply->fds);
}

// ---- choosing a mode -----------------------------------------------------------------------

// Whether the kernel's refusal is about privilege, which the helper can get around.
bool refusedForPrivilege(const Error& error) {
  return error.sys_errno == EINVAL || error.sys_errno == EPERM || error.sys_errno == EACCES;
}

// Why the kernel trigger was not used, for describe().
std::string kernelRefusal(const Error& error, core::Millis window) {
  const std::string name(errnoName(error.sys_errno));
  if (error.sys_errno == EINVAL && window % kUnprivilegedWindowStep != core::Millis{0}) {
    return "the kernel refused a " + core::formatDuration(window) + " window (" + name +
           ": only 2 s multiples without CAP_SYS_RESOURCE)";
  }
  if (error.sys_errno == EPERM) {
    return "the kernel refused a trigger (" + name + ": no CAP_SYS_RESOURCE)";
  }
  if (error.sys_errno == 0) return "no trigger: " + error.message;
  return "the kernel refused a trigger: " + error.message;
}

Status validateSpec(const PsiSpec& spec) {
  if (spec.pressure_file.empty()) return makeError(Errc::kInvalidArgument, "no pressure file");
  if (!spec.some_threshold && !spec.full_threshold) {
    return makeError(Errc::kInvalidArgument, spec.pressure_file + ": no PSI threshold");
  }
  for (const auto& threshold : {spec.some_threshold, spec.full_threshold}) {
    if (!threshold) continue;
    auto status = core::validatePsiTrigger(*threshold, spec.window);
    if (!status) return Unexpected(status.error().wrap(spec.pressure_file));
  }
  return Ok{};
}

std::string thresholdsText(const PsiSpec& spec) {
  std::string text;
  if (spec.some_threshold) text += "some " + core::formatDuration(*spec.some_threshold);
  if (spec.full_threshold) {
    if (!text.empty()) text += ", ";
    text += "full " + core::formatDuration(*spec.full_threshold);
  }
  return text;
}

}  // namespace

std::string_view psiModeName(PsiMode mode) {
  switch (mode) {
    case PsiMode::kKernelTrigger:
      return "kernel trigger";
    case PsiMode::kUserNamespaceTrigger:
      return "user-namespace trigger";
    case PsiMode::kSampling:
      return "sampling";
  }
  return "sampling";
}

// Opening in one mode. A class so that it may fill PsiMonitor's private members.
class PsiMonitorOpener {
 public:
  explicit PsiMonitorOpener(const PsiSpec& spec) {
    monitor_.spec_ = spec;
    if (spec.some_threshold) addTrigger(PsiKind::kSome, *spec.some_threshold);
    if (spec.full_threshold) addTrigger(PsiKind::kFull, *spec.full_threshold);
  }

  Status openIn(PsiMode mode) {
    if (mode == PsiMode::kSampling) return openSampling();
    const std::string& path = monitor_.spec_.pressure_file;
    if (auto status = checkPressureFilesystem(path); !status) return status;
    auto fds = mode == PsiMode::kKernelTrigger ? openKernelTriggers(path, texts_)
                                               : openUserNamespaceTriggers(path, texts_);
    if (!fds) return Unexpected(fds.error());
    for (size_t i = 0; i < fds->size(); ++i)
      monitor_.triggers_[i].fd = (*fds)[i].release();
    monitor_.mode_ = mode;
    return Ok{};
  }

  PsiMonitor take(std::string reason) {
    monitor_.reason_ = std::move(reason);
    return std::move(monitor_);
  }

 private:
  void addTrigger(PsiKind kind, core::Millis threshold) {
    monitor_.triggers_.push_back(PsiMonitor::Trigger{kind, threshold, -1, std::nullopt});
    texts_.push_back(core::psiTriggerText(kind, threshold, monitor_.spec_.window));
  }

  // The first reading, which later samples are judged from.
  Status openSampling() {
    const std::string& path = monitor_.spec_.pressure_file;
    auto text = readFile(path);
    if (!text) return Unexpected(text.error());
    auto stats = core::parsePressure(*text);
    if (!stats) return Unexpected(stats.error().wrap(path));
    const auto now = Clock::now();
    for (PsiMonitor::Trigger& trigger : monitor_.triggers_) {
      if (trigger.kind == PsiKind::kFull && !stats->full) {
        return makeError(Errc::kUnavailable, path + ": has no 'full' line");
      }
      const core::PsiLine& line = trigger.kind == PsiKind::kSome ? stats->some : *stats->full;
      trigger.window.emplace(trigger.threshold, monitor_.spec_.window);
      (void)trigger.window->observe(now, line.total_us);  // the first reading cannot fail
    }
    monitor_.mode_ = PsiMode::kSampling;
    return Ok{};
  }

  PsiMonitor monitor_;
  std::vector<std::string> texts_;
};

Result<PsiMonitor> PsiMonitor::open(const PsiSpec& spec, std::optional<PsiMode> forced_mode) {
  if (auto status = validateSpec(spec); !status) return Unexpected(status.error());
  if (!pathExists(spec.pressure_file)) {
    return makeError(Errc::kUnavailable,
                     spec.pressure_file +
                         ": no such file (a kernel without PSI, booted with psi=0, or no such "
                         "cgroup)");
  }
  PsiMonitorOpener opener(spec);
  if (forced_mode) {
    auto status = opener.openIn(*forced_mode);
    if (!status) return Unexpected(status.error().wrap(std::string(psiModeName(*forced_mode))));
    return opener.take("forced");
  }
  auto kernel = opener.openIn(PsiMode::kKernelTrigger);
  if (kernel) return opener.take("");
  std::string reason = kernelRefusal(kernel.error(), spec.window);
  if (refusedForPrivilege(kernel.error())) {
    auto userns = opener.openIn(PsiMode::kUserNamespaceTrigger);
    if (userns) return opener.take(reason);
    reason += "; the user-namespace helper failed: " + userns.error().message;
  }
  auto sampling = opener.openIn(PsiMode::kSampling);
  if (!sampling) return Unexpected(sampling.error().wrap(reason));
  return opener.take(reason);
}

PsiMonitor::PsiMonitor(PsiMonitor&& other) noexcept
    : spec_(std::move(other.spec_)),
      mode_(other.mode_),
      reason_(std::move(other.reason_)),
      triggers_(std::move(other.triggers_)) {
  other.triggers_.clear();
}

PsiMonitor& PsiMonitor::operator=(PsiMonitor&& other) noexcept {
  if (this != &other) {
    closeAll();
    spec_ = std::move(other.spec_);
    mode_ = other.mode_;
    reason_ = std::move(other.reason_);
    triggers_ = std::move(other.triggers_);
    other.triggers_.clear();
  }
  return *this;
}

PsiMonitor::~PsiMonitor() {
  closeAll();
}

void PsiMonitor::closeAll() {
  for (Trigger& trigger : triggers_) {
    if (trigger.fd >= 0) ::close(trigger.fd);
    trigger.fd = -1;
  }
  triggers_.clear();
}

std::string PsiMonitor::describe() const {
  std::string line = spec_.pressure_file + ": " + thresholdsText(spec_) + " per " +
                     core::formatDuration(spec_.window) + ": " + std::string(psiModeName(mode_));
  if (mode_ == PsiMode::kSampling) line += " every " + core::formatDuration(samplingInterval());
  if (!reason_.empty()) line += " (" + reason_ + ")";
  return line;
}

std::vector<int> PsiMonitor::fds() const {
  std::vector<int> fds;
  for (const Trigger& trigger : triggers_) {
    if (trigger.fd >= 0) fds.push_back(trigger.fd);
  }
  return fds;
}

std::optional<core::PsiKind> PsiMonitor::kindOf(int fd) const {
  for (const Trigger& trigger : triggers_) {
    if (fd >= 0 && trigger.fd == fd) return trigger.kind;
  }
  return std::nullopt;
}

PsiMonitor::Trigger* PsiMonitor::findTrigger(int fd) {
  for (Trigger& trigger : triggers_) {
    if (fd >= 0 && trigger.fd == fd) return &trigger;
  }
  return nullptr;
}

const PsiMonitor::Trigger* PsiMonitor::findTrigger(core::PsiKind kind) const {
  for (const Trigger& trigger : triggers_) {
    if (trigger.kind == kind) return &trigger;
  }
  return nullptr;
}

Result<bool> PsiMonitor::onEvent(int fd, short revents) {
  const Trigger* trigger = findTrigger(fd);
  if (trigger == nullptr) {
    return makeError(Errc::kInvalidArgument,
                     spec_.pressure_file + ": fd " + std::to_string(fd) + " is not a trigger");
  }
  if ((revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
    return makeError(Errc::kNotFound, spec_.pressure_file + ": the " +
                                          std::string(core::psiKindName(trigger->kind)) +
                                          " trigger reports an error: the file went away");
  }
  return (revents & POLLPRI) != 0;
}

Result<bool> PsiMonitor::sample(std::chrono::steady_clock::time_point now) {
  if (mode_ != PsiMode::kSampling) {
    return makeError(Errc::kInvalidArgument,
                     spec_.pressure_file + ": sample() in " + std::string(psiModeName(mode_)));
  }
  auto text = readFile(spec_.pressure_file);
  if (!text) return Unexpected(text.error());
  auto stats = core::parsePressure(*text);
  if (!stats) return Unexpected(stats.error().wrap(spec_.pressure_file));
  bool exceeded = false;
  std::optional<Error> failure;
  for (Trigger& trigger : triggers_) {
    const bool full = trigger.kind == PsiKind::kFull;
    if (full && !stats->full) {
      failure = Error{Errc::kParse, spec_.pressure_file + ": no 'full' line"};
      continue;
    }
    auto fired = trigger.window->observe(now, full ? stats->full->total_us : stats->some.total_us);
    if (!fired && !failure) failure = fired.error().wrap(spec_.pressure_file);
    exceeded = exceeded || fired.value_or(false);
  }
  if (failure) return Unexpected(*failure);
  return exceeded;
}

std::optional<core::PsiMicros> PsiMonitor::lastStall(core::PsiKind kind) const {
  const Trigger* trigger = findTrigger(kind);
  if (trigger == nullptr || !trigger->window) return std::nullopt;
  return trigger->window->stall();
}

core::Millis PsiMonitor::samplingInterval() const {
  return std::max(spec_.window / kUpdatesPerWindow, kMinSamplingInterval);
}

}  // namespace oomkit::sys
