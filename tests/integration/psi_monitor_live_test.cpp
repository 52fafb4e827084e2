// sys::PsiMonitor on this machine's real pressure files (kernel/sched/psi.c,
// Documentation/accounting/psi.rst): which mode each window gets, that the user-namespace
// helper works and leaves nothing behind, that every mode fires under real memory pressure,
// and that a removed cgroup's triggers report POLLERR.
//
// Real pressure without swap: a process in a 64 MiB memory cgroup reads a large sparse file.
// Reading a hole fills the page cache with zeroed pages without disk I/O, charged to the
// reader's memcg; at the limit every charge reclaims (try_charge_memcg() runs the reclaim
// inside psi_memstall_enter()), which here gives ~100-250 ms of "some" stall per second, far
// above the thresholds used. The reader also joins a fresh cgroup2 group (PSI is accounted per
// cgroup2 group even where cgroup2 has no memory controller), whose memory.pressure then shows
// its stall alone: the quiet-then-fires test uses it, free of other processes' pressure.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/psi.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/psi_monitor.h"

#include "support/memcg.h"
#include "support/subprocess.h"

namespace oomkit::sys {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kMemcgLimit = 64 * kMiB;
constexpr uintmax_t kSparseFileBytes = uintmax_t{1} << 40;  // 1 TiB of holes: never read to the end
constexpr milliseconds kFireTimeout{30000};
constexpr char kUnifiedRoot[] = "/sys/fs/cgroup/unified";

PsiSpec someSpec(const std::string& file, int threshold_ms, int window_ms) {
  PsiSpec spec;
  spec.pressure_file = file;
  spec.some_threshold = milliseconds(threshold_ms);
  spec.window = milliseconds(window_ms);
  return spec;
}

bool isTriggerMode(PsiMode mode) {
  return mode == PsiMode::kKernelTrigger || mode == PsiMode::kUserNamespaceTrigger;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Whether this process may make user namespaces (the helper's requirement), tried in a child.
bool canUnshareUserNamespace() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
  int status = 0;
  return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

class PsiLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pathExists(kSystemMemoryPressure)) {
      GTEST_SKIP() << "no " << kSystemMemoryPressure << " (kernel without PSI, or psi=0)";
    }
  }
};

// Unprivileged windows (2 s multiples) are always the kernel's own.
TEST_F(PsiLiveTest, TwoSecondWindowIsAKernelTrigger) {
  auto monitor = PsiMonitor::open(someSpec(kSystemMemoryPressure, 100, 2000));
  ASSERT_TRUE(monitor) << monitor.error().message;
  EXPECT_EQ(monitor->mode(), PsiMode::kKernelTrigger) << monitor->describe();
  EXPECT_EQ(monitor->describe(), "/proc/pressure/memory: some 100ms per 2s: kernel trigger");
  ASSERT_EQ(monitor->fds().size(), 1u);
  EXPECT_EQ(monitor->kindOf(monitor->fds()[0]), core::PsiKind::kSome);
}

// Without CAP_SYS_RESOURCE the kernel refuses 1 s (EINVAL) and the helper's trigger is used;
// with it, the kernel takes the window itself. Either way a trigger, and describe() says which.
TEST_F(PsiLiveTest, OneSecondWindowGetsATriggerAndSaysWhich) {
  auto monitor = PsiMonitor::open(someSpec(kSystemMemoryPressure, 100, 1000));
  ASSERT_TRUE(monitor) << monitor.error().message;
  const std::string line = monitor->describe();
  std::cout << "1s window: " << line << "\n";
  if (!canUnshareUserNamespace() && monitor->mode() == PsiMode::kSampling) {
    GTEST_SKIP() << "the kernel refused 1 s and user namespaces are not allowed: " << line;
  }
  ASSERT_TRUE(isTriggerMode(monitor->mode())) << line;
  EXPECT_EQ(monitor->fds().size(), 1u);
  if (monitor->mode() == PsiMode::kKernelTrigger) {
    EXPECT_EQ(line, "/proc/pressure/memory: some 100ms per 1s: kernel trigger");
  } else {
    EXPECT_EQ(line,
              "/proc/pressure/memory: some 100ms per 1s: user-namespace trigger (the kernel "
              "refused a 1s window (EINVAL: only 2 s multiples without CAP_SYS_RESOURCE))");
  }
}

TEST_F(PsiLiveTest, SomeAndFullGetATriggerEach) {
  PsiSpec spec = someSpec(kSystemMemoryPressure, 150, 1000);
  spec.full_threshold = milliseconds(50);
  auto monitor = PsiMonitor::open(spec);
  ASSERT_TRUE(monitor) << monitor.error().message;
  if (!isTriggerMode(monitor->mode())) GTEST_SKIP() << monitor->describe();
  const std::vector<int> fds = monitor->fds();
  ASSERT_EQ(fds.size(), 2u);
  EXPECT_EQ(monitor->kindOf(fds[0]), core::PsiKind::kSome);
  EXPECT_EQ(monitor->kindOf(fds[1]), core::PsiKind::kFull);
  EXPECT_TRUE(contains(monitor->describe(), "some 150ms, full 50ms per 1s"));
}

// A helper-made trigger with any window the helper is asked for, including one the kernel
// would also take directly; and the helper is reaped (no zombie child is left).
TEST_F(PsiLiveTest, ForcedUserNamespaceTriggerLeavesNoChildBehind) {
  if (!canUnshareUserNamespace()) GTEST_SKIP() << "unshare(CLONE_NEWUSER) is not permitted";
  for (int window_ms : {500, 1000, 2000, 10000}) {
    auto monitor = PsiMonitor::open(someSpec(kSystemMemoryPressure, 50, window_ms),
                                    PsiMode::kUserNamespaceTrigger);
    ASSERT_TRUE(monitor) << window_ms << ": " << monitor.error().message;
    EXPECT_EQ(monitor->mode(), PsiMode::kUserNamespaceTrigger);
    ASSERT_EQ(monitor->fds().size(), 1u);
    EXPECT_GE(::fcntl(monitor->fds()[0], F_GETFD) & FD_CLOEXEC, 1) << "the fd is close-on-exec";
  }
  siginfo_t info{};
  const int r = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  EXPECT_TRUE((r == 0 && info.si_pid == 0) || (r < 0 && errno == ECHILD))
      << "an exited child is waiting to be reaped: pid " << info.si_pid;
}

TEST_F(PsiLiveTest, ClosingTheMonitorClosesItsTriggers) {
  std::vector<int> fds;
  {
    auto monitor = PsiMonitor::open(someSpec(kSystemMemoryPressure, 100, 2000));
    ASSERT_TRUE(monitor) << monitor.error().message;
    PsiMonitor moved = std::move(*monitor);
    EXPECT_TRUE(monitor->fds().empty());
    fds = moved.fds();
    ASSERT_EQ(fds.size(), 1u);
    EXPECT_EQ(::fcntl(fds[0], F_GETFD) >= 0, true);
  }
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST_F(PsiLiveTest, TriggerModesDoNotSampleAndSamplingReadsTheRealFile) {
  auto trigger = PsiMonitor::open(someSpec(kSystemMemoryPressure, 100, 2000));
  ASSERT_TRUE(trigger) << trigger.error().message;
  auto wrong = trigger->sample(Clock::now());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::kInvalidArgument);

  auto sampling = PsiMonitor::open(someSpec(kSystemMemoryPressure, 100, 1000), PsiMode::kSampling);
  ASSERT_TRUE(sampling) << sampling.error().message;
  auto sampled = sampling->sample(Clock::now());
  ASSERT_TRUE(sampled) << sampled.error().message;
  EXPECT_TRUE(sampling->lastStall(core::PsiKind::kSome));
}

// With neither CAP_SYS_RESOURCE nor user namespaces (a child process that limits its own
// namespace to no nested user namespaces and then drops CAP_SYS_RESOURCE), a 1 s window ends
// up sampled, and describe() gives both reasons.
TEST_F(PsiLiveTest, WithoutUserNamespacesOneSecondIsSampled) {
  if (!canUnshareUserNamespace()) GTEST_SKIP() << "unshare(CLONE_NEWUSER) is not permitted";
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(out[0]);
    auto fail = [&](const std::string& what) {
      (void)!::write(out[1], what.data(), what.size());
      ::_exit(1);
    };
    if (::unshare(CLONE_NEWUSER) != 0) fail("unshare");
    if (!writeFile("/proc/sys/user/max_user_namespaces", "0")) fail("max_user_namespaces");
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) fail("capget");
    data[0].effective &= ~(1u << CAP_SYS_RESOURCE);  // capabilities 0-31 are in data[0]
    data[0].permitted &= ~(1u << CAP_SYS_RESOURCE);
    if (::syscall(SYS_capset, &header, data) != 0) fail("capset");
    auto monitor = PsiMonitor::open(someSpec(kSystemMemoryPressure, 100, 1000));
    if (!monitor) fail("open: " + monitor.error().message);
    const std::string line = monitor->describe();
    (void)!::write(out[1], line.data(), line.size());
    ::_exit(monitor->mode() == PsiMode::kSampling ? 0 : 2);
  }
  ::close(out[1]);
  std::string line;
  char buffer[512];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;)
    line.append(buffer, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << line;
  EXPECT_EQ(line,
            "/proc/pressure/memory: some 100ms per 1s: sampling every 100ms (the kernel refused "
            "a 1s window (EINVAL: only 2 s multiples without CAP_SYS_RESOURCE); the "
            "user-namespace helper failed: unshare(CLONE_NEWUSER) in the helper: ENOSPC (No "
            "space left on device))");
}

// ---- under real memory pressure ------------------------------------------------------------

// A cgroup2 group of its own, for a pressure file that only the test's reader stalls in.
class PressureGroup {
 public:
  static Result<PressureGroup> create(const std::string& parent, const std::string& name) {
    PressureGroup group;
    group.dir_ = parent + "/" + name;
    if (::mkdir(group.dir_.c_str(), 0755) != 0) return Unexpected(systemError(group.dir_, errno));
    return group;
  }
  PressureGroup(PressureGroup&& other) noexcept : dir_(std::exchange(other.dir_, "")) {}
  PressureGroup& operator=(PressureGroup&&) = delete;
  ~PressureGroup() {
    if (!dir_.empty() && !remove()) ADD_FAILURE() << "could not remove " << dir_;
  }
  const std::string& dir() const { return dir_; }
  // rmdir, retried while the reader that just died is still leaving it.
  bool remove() {
    for (int i = 0; i < 200; ++i) {
      if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) {
        dir_.clear();
        return true;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

 private:
  PressureGroup() = default;
  std::string dir_;
};

// Waits until every monitor has fired (trigger modes: POLLPRI and onEvent(); sampling:
// sample() every samplingInterval()); returns how long each took, nullopt for those that did
// not fire within `timeout`.
std::vector<std::optional<milliseconds>> waitForFirings(std::vector<PsiMonitor*> monitors,
                                                        milliseconds timeout) {
  const auto start = Clock::now();
  std::vector<std::optional<milliseconds>> fired(monitors.size());
  auto pending = [&] {
    for (const auto& f : fired) {
      if (!f) return true;
    }
    return false;
  };
  while (pending() && Clock::now() - start < timeout) {
    std::vector<pollfd> pfds;
    std::map<int, size_t> owner;
    for (size_t i = 0; i < monitors.size(); ++i) {
      for (int fd : monitors[i]->fds()) {
        pfds.push_back(pollfd{fd, POLLPRI, 0});
        owner[fd] = i;
      }
    }
    ::poll(pfds.data(), pfds.size(), 50);
    const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    for (const pollfd& p : pfds) {
      if (p.revents == 0) continue;
      auto event = monitors[owner[p.fd]]->onEvent(p.fd, p.revents);
      EXPECT_TRUE(event) << event.error().message;
      if (event && *event && !fired[owner[p.fd]]) fired[owner[p.fd]] = elapsed;
    }
    for (size_t i = 0; i < monitors.size(); ++i) {
      if (monitors[i]->mode() != PsiMode::kSampling || fired[i]) continue;
      auto sampled = monitors[i]->sample(Clock::now());
      EXPECT_TRUE(sampled) << sampled.error().message;
      if (sampled && *sampled) fired[i] = elapsed;
    }
  }
  return fired;
}

// The `some` line's total (microseconds) of a pressure file; 0 when it cannot be read.
uint64_t someTotalUs(const std::string& path) {
  auto text = readFile(path);
  if (!text) return 0;
  auto stats = core::parsePressure(*text);
  return stats ? stats->some.total_us : 0;
}

class PsiFiringLiveTest : public PsiLiveTest {
 protected:
  void SetUp() override {
    PsiLiveTest::SetUp();
    if (IsSkipped()) return;
    if (!test::TestMemcg::skipReason().empty()) GTEST_SKIP() << test::TestMemcg::skipReason();
    if (!canUnshareUserNamespace()) GTEST_SKIP() << "unshare(CLONE_NEWUSER) is not permitted";
    dir_ = fs::temp_directory_path() / ("oomkit-psi-live-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    struct statfs st {};
    ASSERT_EQ(::statfs(dir_.c_str(), &st), 0);
    if (st.f_type == TMPFS_MAGIC) {
      GTEST_SKIP() << dir_ << " is on tmpfs: reading holes makes no page cache there";
    }
    sparse_ = dir_ / "sparse";
    std::ofstream(sparse_).close();
    fs::resize_file(sparse_, kSparseFileBytes);
    auto memcg = test::TestMemcg::create(kMemcgLimit);
    ASSERT_TRUE(memcg) << memcg.error().message;
    memcg_.emplace(std::move(*memcg));
  }

  void TearDown() override {
    reader_.reset();  // SIGKILLs and reaps it
    if (!dir_.empty()) fs::remove_all(dir_);
    group_.reset();
    memcg_.reset();
  }

  // The cgroup2 group the reader will join: the memcg itself on a v2 memory controller, else
  // a new group in the unified hierarchy (nullopt when there is none).
  std::optional<std::string> pressureGroupDir() {
    if (memcg_->version() == test::CgroupVersion::kV2) return memcg_->dir();
    if (!pathExists(std::string(kUnifiedRoot) + "/cgroup.procs")) return std::nullopt;
    auto group =
        PressureGroup::create(kUnifiedRoot, "oomkit-psi-test-" + std::to_string(::getpid()));
    EXPECT_TRUE(group) << group.error().message;
    if (!group) return std::nullopt;
    group_ = std::make_unique<PressureGroup>(std::move(*group));
    return group_->dir();
  }

  // Starts the reader: joins the memcg (and the pressure group), then reads the sparse file.
  void startReader() {
    std::string script = "echo $$ > " + memcg_->procsFile();
    if (group_) script += " && echo $$ > " + group_->dir() + "/cgroup.procs";
    script += " && exec dd if=" + sparse_.string() + " of=/dev/null bs=1M";
    auto reader = test::TestProcess::spawn({"/bin/sh", "-c", script});
    ASSERT_TRUE(reader) << reader.error().message;
    reader_ = std::make_unique<test::TestProcess>(std::move(*reader));
  }

  void stopReader() {
    ASSERT_TRUE(reader_->kill(SIGKILL));
    ASSERT_TRUE(reader_->waitExit(milliseconds(5000)));
  }

  void expectAllFired(const std::vector<PsiMonitor*>& monitors,
                      const std::vector<std::optional<milliseconds>>& fired);

  static PsiMonitor open(const PsiSpec& spec, PsiMode mode) {
    auto monitor = PsiMonitor::open(spec, mode);
    EXPECT_TRUE(monitor) << psiModeName(mode) << ": " << monitor.error().message;
    return std::move(monitor).value();
  }

  fs::path dir_;
  fs::path sparse_;
  std::optional<test::TestMemcg> memcg_;
  std::unique_ptr<PressureGroup> group_;
  std::unique_ptr<test::TestProcess> reader_;
};

void PsiFiringLiveTest::expectAllFired(const std::vector<PsiMonitor*>& monitors,
                                       const std::vector<std::optional<milliseconds>>& fired) {
  reader_->drainOutput();
  for (size_t i = 0; i < monitors.size(); ++i) {
    if (fired[i]) {
      std::cout << "fired after " << fired[i]->count() << " ms: " << monitors[i]->describe()
                << "\n";
    }
    EXPECT_TRUE(fired[i]) << "did not fire within " << kFireTimeout.count()
                          << " ms: " << monitors[i]->describe()
                          << "; the reader's stderr: " << reader_->err();
  }
}

// The system-wide file counts the stall of tasks in every memcg, v1 included.
TEST_F(PsiFiringLiveTest, SystemFileFiresInEveryMode) {
  PsiMonitor kernel = open(someSpec(kSystemMemoryPressure, 40, 2000), PsiMode::kKernelTrigger);
  PsiMonitor userns =
      open(someSpec(kSystemMemoryPressure, 20, 1000), PsiMode::kUserNamespaceTrigger);
  PsiMonitor sampling = open(someSpec(kSystemMemoryPressure, 20, 1000), PsiMode::kSampling);
  startReader();
  const std::vector<PsiMonitor*> monitors{&kernel, &userns, &sampling};
  expectAllFired(monitors, waitForFirings(monitors, kFireTimeout));
}

// A pressure file only the reader stalls in: quiet before, fires during, and once the group is
// removed the triggers report POLLERR (onEvent: kNotFound) and sampling cannot read it.
TEST_F(PsiFiringLiveTest, CgroupFileIsQuietThenFiresThenReportsRemoval) {
  const auto group = pressureGroupDir();
  if (!group) GTEST_SKIP() << "no cgroup2 hierarchy at " << kUnifiedRoot;
  const std::string file = *group + "/memory.pressure";
  // Thresholds of 10 ms: reading holes through a 64 MiB memcg makes a thin, even stall on
  // some machines — on a PVM guest (2026-12) the group's `some` total grew 0.6–0.75 s in 30 s,
  // 20–25 ms per second, so 50 ms-per-second windows never fired (and at 50 ms the
  // user-namespace trigger had missed in 2 of 4 ASan runs, 2026-11). An empty group stalls 0.
  // The helper opens a root-owned 0644 file from a user namespace without a uid mapping: the
  // permission check uses the real (unchanged) fsuid.
  PsiMonitor userns = open(someSpec(file, 10, 1000), PsiMode::kUserNamespaceTrigger);
  PsiMonitor kernel = open(someSpec(file, 10, 2000), PsiMode::kKernelTrigger);
  PsiMonitor sampling = open(someSpec(file, 10, 1000), PsiMode::kSampling);
  const std::vector<PsiMonitor*> monitors{&userns, &kernel, &sampling};

  const auto quiet = waitForFirings(monitors, milliseconds(300));
  for (size_t i = 0; i < monitors.size(); ++i)
    EXPECT_FALSE(quiet[i]) << "fired in an empty group: " << monitors[i]->describe();

  startReader();
  const uint64_t total_before = someTotalUs(file);
  expectAllFired(monitors, waitForFirings(monitors, kFireTimeout));
  std::cout << "the group's some total grew " << someTotalUs(file) - total_before
            << " us meanwhile\n";

  stopReader();
  if (group_) {
    ASSERT_TRUE(group_->remove());
  } else {
    ASSERT_TRUE(memcg_->destroy());
  }
  for (PsiMonitor* trigger : {&userns, &kernel}) {
    pollfd p{trigger->fds()[0], POLLPRI, 0};
    ASSERT_EQ(::poll(&p, 1, 1000), 1);
    EXPECT_TRUE(p.revents & POLLERR) << p.revents;
    auto event = trigger->onEvent(p.fd, p.revents);
    ASSERT_FALSE(event);
    EXPECT_EQ(event.error().code, Errc::kNotFound);
  }
  auto sampled = sampling.sample(Clock::now());
  ASSERT_FALSE(sampled);
  EXPECT_EQ(sampled.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace oomkit::sys
