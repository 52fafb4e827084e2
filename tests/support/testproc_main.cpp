// oomkit-testproc: a test process that holds exactly the memory a test asks for.
//
// Integration tests start it inside a test memory cgroup to get processes with a known RSS mix
// (anonymous, file-backed, shmem), a known oom_score_adj and a hostile name, or to push a cgroup
// over its limit without growing the process's own RSS. Steps run in a fixed order: join the
// cgroup, set oom_score_adj, set the name, allocate, start the extra threads, report ready,
// then sleep until killed. Any failure prints one line to stderr and exits non-zero:
//   2 usage, 3 --adj failed, 4 --cgroup-procs failed, 5 refused (large allocation outside a
//   memory-limited cgroup), 1 anything else.
//
// Options (sizes in MiB):
//   --anon MIB              anonymous memory, every page touched (RssAnon)
//   --file MIB              a temp file in --file-dir (default /tmp) written, mmapped MAP_SHARED
//                           read-only, every page read, then unlinked (RssFile on a disk fs,
//                           RssShmem on tmpfs)
//   --shmem MIB             memfd mapped MAP_SHARED, every page written (RssShmem)
//   --shmem-unmapped MIB    memfd filled with write(), never mapped: charges the cgroup, adds no
//   RSS
//   --push-step-kib N       write --shmem-unmapped in N KiB steps (default: all at once)
//   --push-delay-ms N       sleep N ms after each step
//   --adj N                 write N to /proc/self/oom_score_adj
//   --name BYTES            prctl(PR_SET_NAME); C escapes \n \t \r \\ \xNN are decoded
//   --cgroup-procs PATH     write "0\n" to PATH (a cgroup.procs file) before anything else
//   --ready-fd N            write "R" to fd N once everything is in place, then close it
//   --threads N             run N threads in total (N-1 extra ones that sleep)
//   --leader-exit           after ready, the main thread exits (pthread_exit); needs --threads 2+
//   --unconfined            allow more than 256 MiB outside a memory-limited cgroup
//   --vm-sibling            before ready, clone(CLONE_VM) a child process (not a thread) that
//                           shares this process's memory and sleeps; print "vm-sibling PID\n"
//                           to stdout (the OOM killer must kill it with this process)
//   --ignore-sigterm        ignore SIGTERM (set first, so the --vm-sibling child ignores it too)
//   --grow-mib MIB          after ready, allocate MIB more anonymous memory in 1 MiB steps at
//                           --grow-rate MiB/s (paced against the clock, not slept per step),
//                           then sleep: a hog heading for its cgroup's limit at a known rate
//   --grow-rate MIB_PER_S   the rate of --grow-mib (default 1024)
//   --grow-huge             madvise(MADV_HUGEPAGE) the --grow-mib region: 2 MiB pages, so that
//                           a machine whose 4 KiB page faults are slow (a VM with shadow
//                           paging) still reaches the rate (THP "madvise" or "always"; with
//                           THP off the hog runs on small pages)
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kMaxCount = 1024 * 1024;           // 1 TiB in MiB: anything larger is a typo
constexpr uint64_t kUnconfinedMaxMib = 256;           // more than this needs a memory limit
constexpr uint64_t kUnlimitedThreshold = 1ULL << 62;  // "no limit" in v1 memory.stat
constexpr size_t kPage = 4096;  // touching every 4 KiB reaches every page of any size

enum ExitCode { kFailure = 1, kUsage = 2, kAdjFailed = 3, kCgroupFailed = 4, kRefused = 5 };

struct Options {
  uint64_t anon_mib = 0;
  uint64_t file_mib = 0;
  uint64_t shmem_mib = 0;
  uint64_t shmem_unmapped_mib = 0;
  uint64_t push_step_kib = 0;  // 0: one step
  uint64_t push_delay_ms = 0;
  uint64_t grow_mib = 0;
  uint64_t grow_rate = 1024;
  bool grow_huge = false;
  std::string file_dir = "/tmp";
  std::optional<int> adj;
  std::optional<std::string> name;
  std::optional<std::string> cgroup_procs;
  std::optional<int> ready_fd;
  uint64_t threads = 1;
  bool unconfined = false;
  bool leader_exit = false;  // the main thread exits after ready; the other threads live on
  bool vm_sibling = false;
  bool ignore_sigterm = false;
};

// A buffer of non-zero bytes for write(); static so it adds only a few pages of RssAnon.
char g_fill[64 * 1024];
// Where page reads are summed, so the compiler cannot drop them.
volatile unsigned g_sink = 0;

[[noreturn]] void die(int code, const std::string& message) {
  std::fprintf(stderr, "oomkit-testproc: %s\n", message.c_str());
  std::exit(code);
}

[[noreturn]] void dieErrno(int code, const std::string& what) {
  die(code, what + ": " + std::strerror(errno));
}

std::optional<uint64_t> parseU64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<int> parseInt(std::string_view s) {
  bool negative = !s.empty() && s[0] == '-';
  auto magnitude = parseU64(negative ? s.substr(1) : s);
  if (!magnitude || *magnitude > 1000000000) return std::nullopt;
  int v = static_cast<int>(*magnitude);
  return negative ? -v : v;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes \n \t \r \\ \xNN (exactly two hex digits); any other escape is a usage error.
std::optional<std::string> decodeEscapes(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    switch (s[i]) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x': {
        int hi = i + 1 < s.size() ? hexDigit(s[i + 1]) : -1;
        int lo = i + 2 < s.size() ? hexDigit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

// A non-negative count (MiB, KiB, ms, threads), at most kMaxCount.
uint64_t needCount(std::string_view flag, const char* value) {
  auto v = parseU64(value);
  if (!v || *v > kMaxCount) die(kUsage, std::string(flag) + ": not a count: " + value);
  return *v;
}

int needInt(std::string_view flag, const char* value) {
  auto v = parseInt(value);
  if (!v) die(kUsage, std::string(flag) + ": not an integer: " + value);
  return *v;
}

struct CountFlag {
  std::string_view name;
  uint64_t Options::*field;
};

constexpr CountFlag kCountFlags[] = {
    {"--anon", &Options::anon_mib},
    {"--file", &Options::file_mib},
    {"--shmem", &Options::shmem_mib},
    {"--shmem-unmapped", &Options::shmem_unmapped_mib},
    {"--push-step-kib", &Options::push_step_kib},
    {"--push-delay-ms", &Options::push_delay_ms},
    {"--grow-mib", &Options::grow_mib},
    {"--grow-rate", &Options::grow_rate},
    {"--threads", &Options::threads},
};

// Applies one "--flag value" pair; returns false if the flag is unknown.
bool applyFlag(Options& o, std::string_view flag, const char* value) {
  for (const CountFlag& f : kCountFlags) {
    if (flag == f.name) {
      o.*f.field = needCount(flag, value);
      return true;
    }
  }
  if (flag == "--file-dir") {
    o.file_dir = value;
  } else if (flag == "--adj") {
    o.adj = needInt(flag, value);
  } else if (flag == "--cgroup-procs") {
    o.cgroup_procs = value;
  } else if (flag == "--ready-fd") {
    o.ready_fd = needInt(flag, value);
  } else if (flag == "--name") {
    o.name = decodeEscapes(value);
    if (!o.name) die(kUsage, std::string("--name: bad escape in: ") + value);
  } else {
    return false;
  }
  return true;
}

// The field of a flag that takes no value, or nullptr.
bool* switchFlag(Options& o, std::string_view flag) {
  if (flag == "--unconfined") return &o.unconfined;
  if (flag == "--leader-exit") return &o.leader_exit;
  if (flag == "--vm-sibling") return &o.vm_sibling;
  if (flag == "--ignore-sigterm") return &o.ignore_sigterm;
  if (flag == "--grow-huge") return &o.grow_huge;
  return nullptr;
}

Options parseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (bool* on = switchFlag(o, flag)) {
      *on = true;
      continue;
    }
    if (i + 1 >= argc) die(kUsage, std::string(flag) + ": missing value (or unknown option)");
    if (!applyFlag(o, flag, argv[i + 1])) die(kUsage, "unknown option: " + std::string(flag));
    ++i;
  }
  if (o.threads == 0 || o.threads > 1000) die(kUsage, "--threads: must be 1..1000");
  if (o.leader_exit && o.threads < 2) die(kUsage, "--leader-exit needs --threads 2 or more");
  return o;
}

void writeAll(int fd, const char* data, size_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) dieErrno(kFailure, what);
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Writes `bytes` of filler to fd in chunks of the static buffer.
void fill(int fd, uint64_t bytes, const std::string& what) {
  while (bytes > 0) {
    size_t chunk = bytes < sizeof(g_fill) ? static_cast<size_t>(bytes) : sizeof(g_fill);
    writeAll(fd, g_fill, chunk, what);
    bytes -= chunk;
  }
}

void writeSmallFile(const std::string& path, const std::string& text, int code) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) dieErrno(code, "open " + path);
  ssize_t n = write(fd, text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) dieErrno(code, "write " + path);
  close(fd);
}

std::string readSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of "key N" in a memory.stat-style file, if present.
std::optional<uint64_t> statValue(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

// True if this process sits in a memory cgroup with a finite limit (v1 hierarchical limit, or
// any v2 memory.max from its cgroup up to the root).
bool inLimitedMemcg() {
  std::istringstream lines(readSmallFile("/proc/self/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(":memory:") != std::string::npos) {
      std::string path = line.substr(line.find(":memory:") + 8);
      auto stat = readSmallFile("/sys/fs/cgroup/memory" + path + "/memory.stat");
      auto limit = statValue(stat, "hierarchical_memory_limit");
      return limit && *limit < kUnlimitedThreshold;
    }
    if (line.rfind("0::", 0) == 0) {
      for (std::string path = line.substr(3); !path.empty(); path.resize(path.rfind('/'))) {
        auto max = readSmallFile("/sys/fs/cgroup" + path + "/memory.max");
        if (!max.empty() && max.rfind("max", 0) != 0) return true;
      }
    }
  }
  return false;
}

void joinCgroup(const std::string& procs_file) {
  writeSmallFile(procs_file, "0\n", kCgroupFailed);
}

void setAdj(int adj) {
  writeSmallFile("/proc/self/oom_score_adj", std::to_string(adj) + "\n", kAdjFailed);
}

void setName(const std::string& name) {
  if (prctl(PR_SET_NAME, name.c_str(), 0, 0, 0) != 0) dieErrno(kFailure, "prctl(PR_SET_NAME)");
}

char* mapOrDie(size_t bytes, int prot, int flags, int fd, const std::string& what) {
  void* p = mmap(nullptr, bytes, prot, flags, fd, 0);
  if (p == MAP_FAILED) dieErrno(kFailure, "mmap " + what);
  return static_cast<char*>(p);
}

void writeEveryPage(char* p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += kPage)
    p[off] = 1;
}

void readEveryPage(const char* p, size_t bytes) {
  unsigned sum = 0;
  for (size_t off = 0; off < bytes; off += kPage)
    sum += static_cast<unsigned char>(p[off]);
  g_sink = sum;
}

void allocAnon(uint64_t mib) {
  size_t bytes = static_cast<size_t>(mib * kMiB);
  char* p = mapOrDie(bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "anon");
  writeEveryPage(p, bytes);
}

void allocFile(uint64_t mib, const std::string& dir) {
  std::string path = dir + "/oomkit-testproc-XXXXXX";
  int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) dieErrno(kFailure, "mkostemp " + path);
  size_t bytes = static_cast<size_t>(mib * kMiB);
  fill(fd, bytes, "write " + path);
  char* p = mapOrDie(bytes, PROT_READ, MAP_SHARED, fd, path);
  unlink(path.c_str());
  close(fd);
  readEveryPage(p, bytes);
}

int memfdOrDie(const char* name) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) dieErrno(kFailure, "memfd_create");
  return fd;
}

void allocShmem(uint64_t mib) {
  int fd = memfdOrDie("oomkit-testproc-shmem");
  size_t bytes = static_cast<size_t>(mib * kMiB);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) dieErrno(kFailure, "ftruncate memfd");
  char* p = mapOrDie(bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, "memfd");
  close(fd);
  writeEveryPage(p, bytes);
}

// Fills a memfd that is never mapped; the fd stays open (leaked on purpose) so the pages stay
// charged to the cgroup for the life of the process.
void pushUnmappedShmem(uint64_t mib, uint64_t step_kib, uint64_t delay_ms) {
  int fd = memfdOrDie("oomkit-testproc-unmapped");
  uint64_t left = mib * kMiB;
  uint64_t step = step_kib == 0 ? left : step_kib * 1024;
  while (left > 0) {
    uint64_t chunk = step < left ? step : left;
    fill(fd, chunk, "write memfd");
    left -= chunk;
    if (delay_ms > 0 && left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
}

[[noreturn]] void sleepForever() {
  for (;;)
    pause();
}

void startThreads(uint64_t total) {
  for (uint64_t i = 1; i < total; ++i)
    std::thread([] { sleepForever(); }).detach();
}

int vmSiblingMain(void*) {
  sleepForever();
}

// A process of its own (CLONE_VM without CLONE_THREAD) using this process's mm. It only ever
// sleeps in pause(): sharing the memory (and TLS) of a running process, it must not touch libc
// state. Not reaped by us: it outlives this process only if killed separately.
void startVmSibling() {
  constexpr size_t kStackBytes = 64 * 1024;
  char* stack = mapOrDie(kStackBytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, "vm-sibling stack");
  const pid_t pid = clone(vmSiblingMain, stack + kStackBytes, CLONE_VM | SIGCHLD, nullptr);
  if (pid < 0) dieErrno(kFailure, "clone(CLONE_VM)");
  std::printf("vm-sibling %d\n", static_cast<int>(pid));
  std::fflush(stdout);
}

// Touches `mib` MiB of fresh anonymous memory, 1 MiB at a time, at `rate` MiB/s: each step is
// due at start + i / rate, so slow steps are caught up rather than accumulated.
void growAnon(uint64_t mib, uint64_t rate, bool huge) {
  const size_t bytes = static_cast<size_t>(mib * kMiB);
  char* p = mapOrDie(bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "grow");
  // Without THP in the kernel the hog still runs, on small pages: say so, do not fail.
  if (huge && madvise(p, bytes, MADV_HUGEPAGE) != 0) {
    std::fprintf(stderr, "oomkit-testproc: madvise(MADV_HUGEPAGE): %s; small pages\n",
                 std::strerror(errno));
  }
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < mib; ++i) {
    const auto due = start + std::chrono::microseconds(i * 1'000'000 / (rate == 0 ? 1 : rate));
    std::this_thread::sleep_until(due);
    writeEveryPage(p + i * kMiB, kMiB);
  }
}

void reportReady(int fd) {
  writeAll(fd, "R", 1, "write --ready-fd " + std::to_string(fd));
  close(fd);
}

void checkConfined(const Options& o) {
  uint64_t total = o.anon_mib + o.file_mib + o.shmem_mib + o.shmem_unmapped_mib + o.grow_mib;
  if (total <= kUnconfinedMaxMib || o.unconfined || inLimitedMemcg()) return;
  die(kRefused, "refusing to allocate " + std::to_string(total) +
                    " MiB outside a memory cgroup with a limit (pass --unconfined to force)");
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parseArgs(argc, argv);
  if (o.ignore_sigterm) signal(SIGTERM, SIG_IGN);
  if (o.cgroup_procs) joinCgroup(*o.cgroup_procs);
  if (o.adj) setAdj(*o.adj);
  if (o.name) setName(*o.name);
  checkConfined(o);
  std::memset(g_fill, 'x', sizeof(g_fill));
  if (o.anon_mib > 0) allocAnon(o.anon_mib);
  if (o.file_mib > 0) allocFile(o.file_mib, o.file_dir);
  if (o.shmem_mib > 0) allocShmem(o.shmem_mib);
  if (o.shmem_unmapped_mib > 0) {
    pushUnmappedShmem(o.shmem_unmapped_mib, o.push_step_kib, o.push_delay_ms);
  }
  startThreads(o.threads);
  if (o.vm_sibling) startVmSibling();
  if (o.ready_fd) reportReady(*o.ready_fd);
  // A zombie leader with live threads: /proc/PID/status shows no memory for it, but the
  // kernel's find_lock_task_mm() finds the mm through the other threads.
  if (o.leader_exit) pthread_exit(nullptr);
  if (o.grow_mib > 0) growAnon(o.grow_mib, o.grow_rate, o.grow_huge);
  sleepForever();
}
