// Micro-benchmarks of the process snapshot against the live /proc, and of ranking on
// synthetic process tables (pure CPU). Every benchmark reports items_processed = processes,
// so Google Benchmark's "items_per_second" column is processes per second and the per-process
// cost is 1 / items_per_second (run_benchmarks.sh prints it in µs per process).
//
//   File/<name>        openat("PID/<name>") from the proc root + one read() + close for every
//                      listed pid, as ProcReader reads a file: what one file type costs per
//                      process (kernel text generation + system calls).
//   Raw/status+adj     the system calls of snapshot(status|adj) alone, without parsing.
//   Snapshot/<set>     ProcReader::snapshot() with a field set, parsing and allocation included.
//   Scan/<mode>        the library scans of scan_pipelines.h (VictimFinder's three strategies,
//                      gatherScope() + rankProcesses() with rank-exact, rank and rank-json's
//                      fields), one Scanner per benchmark so the adaptive finder is in its
//                      steady state.
//   Parse/*            the parsers alone on this process's own files (user-space CPU per read).
//   Rank/sort+rank/N, Select/top+select/N, Ties/N   sortInWalkOrder()+rankProcesses(),
//                      topCandidates()+selectVictim(), and tiedProcesses(), on N synthetic
//                      processes (pure CPU).
//
// OOMKIT_BENCH_PROC_ROOT overrides /proc.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "oomkit/core/badness.h"
#include "oomkit/core/process.h"
#include "oomkit/core/procfs.h"
#include "oomkit/core/ranking.h"
#include "oomkit/sys/proc_reader.h"

#include "scan_pipelines.h"

namespace {

using oomkit::core::Process;
using oomkit::core::RankParams;
using oomkit::sys::ProcReader;

const char* procRoot() {
  const char* root = std::getenv("OOMKIT_BENCH_PROC_ROOT");
  return root != nullptr && *root != '\0' ? root : "/proc";
}

// The reader, or nullopt after marking the benchmark as failed.
std::optional<ProcReader> openReader(benchmark::State& state) {
  auto reader = ProcReader::open(procRoot());
  if (!reader) {
    state.SkipWithError(reader.error().message.c_str());
    return std::nullopt;
  }
  return std::move(*reader);
}

std::vector<int32_t> livePids() {
  auto reader = ProcReader::open(procRoot());
  if (!reader) return {};
  auto pids = reader->listPids();
  return pids ? std::move(*pids) : std::vector<int32_t>{};
}

// Reads fd to EOF into buf (reused); returns bytes read or -1.
ssize_t readAll(int fd, std::string& buf) {
  size_t used = 0;
  for (;;) {
    if (buf.size() < used + 4096) buf.resize(used + 4096);
    const ssize_t n = ::read(fd, buf.data() + used, buf.size() - used);
    if (n < 0) return -1;
    if (n == 0) return static_cast<ssize_t>(used);
    used += static_cast<size_t>(n);
  }
}

// --- one file type per process ---------------------------------------------------------

// One /proc/PID file for every listed pid, read as ProcReader reads it: openat() relative to the
// proc root, one read() into a 16 KiB buffer (procfs generates these files whole), close().
void BM_File(benchmark::State& state, const char* name) {
  const int root = ::open(procRoot(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    state.SkipWithError("cannot open the proc root");
    return;
  }
  std::vector<std::string> paths;
  for (const int32_t pid : livePids())
    paths.push_back(std::to_string(pid) + "/" + name);
  std::string buf(16384, '\0');
  size_t bytes = 0;
  size_t failed = 0;
  for (auto _ : state) {
    for (const auto& path : paths) {
      const int fd = ::openat(root, path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        ++failed;
        continue;
      }
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n > 0) bytes += static_cast<size_t>(n);
      ::close(fd);
    }
  }
  ::close(root);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * paths.size()));
  state.counters["processes"] = static_cast<double>(paths.size());
  state.counters["bytes_per_file"] = benchmark::Counter(
      static_cast<double>(bytes) / static_cast<double>(paths.size() ? paths.size() : 1),
      benchmark::Counter::kAvgIterations);
  state.counters["failed"] =
      benchmark::Counter(static_cast<double>(failed), benchmark::Counter::kAvgIterations);
}
BENCHMARK_CAPTURE(BM_File, oom_score_adj, "oom_score_adj")
    ->Name("File/oom_score_adj")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_File, oom_score, "oom_score")
    ->Name("File/oom_score")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_File, statm, "statm")->Name("File/statm")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_File, cmdline, "cmdline")->Name("File/cmdline")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_File, cgroup, "cgroup")->Name("File/cgroup")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_File, stat, "stat")->Name("File/stat")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_File, status, "status")->Name("File/status")->Unit(benchmark::kMicrosecond);

// The system calls of snapshot(status|adj), without parsing or allocation.
void BM_RawStatusAdj(benchmark::State& state) {
  const int root = ::open(procRoot(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    state.SkipWithError("cannot open the proc root");
    return;
  }
  std::vector<std::pair<std::string, std::string>> paths;
  for (const int32_t pid : livePids()) {
    paths.emplace_back(std::to_string(pid) + "/status", std::to_string(pid) + "/oom_score_adj");
  }
  std::string buf(16384, '\0');
  const auto readOnce = [&buf, root](const std::string& path) {
    const int fd = ::openat(root, path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    benchmark::DoNotOptimize(::read(fd, buf.data(), buf.size()));
    ::close(fd);
  };
  for (auto _ : state) {
    for (const auto& [status, adj] : paths) {
      readOnce(status);
      readOnce(adj);
    }
  }
  ::close(root);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * paths.size()));
  state.counters["processes"] = static_cast<double>(paths.size());
}
BENCHMARK(BM_RawStatusAdj)->Name("Raw/status+adj")->Unit(benchmark::kMicrosecond);

// --- the snapshot with each field set -------------------------------------------------

void BM_Snapshot(benchmark::State& state, unsigned fields) {
  auto opened = openReader(state);
  if (!opened) return;
  ProcReader& reader = *opened;
  size_t listed = 0;
  size_t captured = 0;
  for (auto _ : state) {
    auto snap = reader.snapshot(fields);
    if (!snap) {
      state.SkipWithError(snap.error().message.c_str());
      break;
    }
    listed += snap->counters.listed;
    captured += snap->counters.captured;
    benchmark::DoNotOptimize(snap->processes.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(listed));
  state.counters["processes"] =
      benchmark::Counter(static_cast<double>(listed), benchmark::Counter::kAvgIterations);
  state.counters["captured"] =
      benchmark::Counter(static_cast<double>(captured), benchmark::Counter::kAvgIterations);
}
BENCHMARK_CAPTURE(BM_Snapshot, status_adj, oomkit::sys::kFieldStatus | oomkit::sys::kFieldAdj)
    ->Name("Snapshot/status_adj")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Snapshot, status_adj_kscore,
                  oomkit::sys::kFieldStatus | oomkit::sys::kFieldAdj |
                      oomkit::sys::kFieldKernelScore)
    ->Name("Snapshot/status_adj_kscore")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Snapshot, exact, oomkit::sys::kFieldsExact)
    ->Name("Snapshot/exact")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Snapshot, all, oomkit::sys::kFieldsAll)
    ->Name("Snapshot/all")
    ->Unit(benchmark::kMicrosecond);

// --- the library's scans (scan_pipelines.h) --------------------------------------------

void BM_Scan(benchmark::State& state, oomkit::bench::Mode mode) {
  auto opened = openReader(state);
  if (!opened) return;
  oomkit::bench::Scanner scanner(*opened);  // one finder for all iterations: its steady state
  size_t listed = 0;
  size_t status_reads = 0;
  for (auto _ : state) {
    const oomkit::bench::ScanResult result = scanner.scan(mode);
    if (!result.ok) {
      state.SkipWithError(result.error.c_str());
      break;
    }
    listed += result.processes;
    status_reads += result.status_reads;
    benchmark::DoNotOptimize(result.victim_pid);
  }
  state.SetItemsProcessed(static_cast<int64_t>(listed));
  state.counters["processes"] =
      benchmark::Counter(static_cast<double>(listed), benchmark::Counter::kAvgIterations);
  if (oomkit::bench::isVictimMode(mode)) {
    state.counters["status_reads"] =
        benchmark::Counter(static_cast<double>(status_reads), benchmark::Counter::kAvgIterations);
  }
}
BENCHMARK_CAPTURE(BM_Scan, victim, oomkit::bench::Mode::kVictim)
    ->Name("Scan/victim")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Scan, victim_prefilter, oomkit::bench::Mode::kVictimPrefilter)
    ->Name("Scan/victim-prefilter")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Scan, victim_plain, oomkit::bench::Mode::kVictimPlain)
    ->Name("Scan/victim-plain")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Scan, rank_exact, oomkit::bench::Mode::kRankExact)
    ->Name("Scan/rank-exact")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Scan, rank, oomkit::bench::Mode::kRank)
    ->Name("Scan/rank")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Scan, rank_json, oomkit::bench::Mode::kRankJson)
    ->Name("Scan/rank-json")
    ->Unit(benchmark::kMicrosecond);

// --- parsers alone (user-space CPU of one read) ------------------------------------------

std::string captureOwn(const char* name) {
  std::string path = std::string(procRoot()) + "/self/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string buf;
  if (fd < 0) return buf;
  const ssize_t n = readAll(fd, buf);
  ::close(fd);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

void BM_ParseStatus(benchmark::State& state) {
  const std::string text = captureOwn("status");
  for (auto _ : state)
    benchmark::DoNotOptimize(oomkit::core::parseProcStatus(text));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseStatus)->Name("Parse/status");

void BM_ParseStat(benchmark::State& state) {
  const std::string text = captureOwn("stat");
  for (auto _ : state)
    benchmark::DoNotOptimize(oomkit::core::parseProcStat(text));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseStat)->Name("Parse/stat");

void BM_ParseCgroup(benchmark::State& state) {
  const std::string text = captureOwn("cgroup");
  for (auto _ : state) {
    auto lines = oomkit::core::parseProcCgroup(text);
    if (lines) benchmark::DoNotOptimize(oomkit::core::v1MemoryCgroupPath(*lines));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseCgroup)->Name("Parse/cgroup");

void BM_BuildProcess(benchmark::State& state) {
  const auto stat = oomkit::core::parseProcStat(captureOwn("stat"));
  const auto status = oomkit::core::parseProcStatus(captureOwn("status"));
  if (!stat || !status) {
    state.SkipWithError("cannot parse /proc/self");
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(oomkit::core::buildProcess(*stat, *status, 0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_BuildProcess)->Name("Parse/buildProcess");

// --- ranking on synthetic tables (pure CPU) ------------------------------------------

std::vector<Process> syntheticProcesses(size_t n) {
  std::vector<Process> processes(n);
  uint64_t x = 0x9E3779B97F4A7C15ull;  // xorshift: deterministic, no <random> state
  const auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (size_t i = 0; i < n; ++i) {
    Process& p = processes[i];
    p.pid = static_cast<int32_t>(100 + i);
    p.start_time_ticks = 1000 + i / 4;  // several forks per clock tick, as under load
    p.comm = "sleeper";
    p.state = 'S';
    p.has_mm = i % 50 != 0;  // some kernel threads / zombies
    p.memory.rss_anon_kb = 100 + next() % 200000;
    p.memory.rss_file_kb = 1000 + next() % 50000;
    p.memory.rss_shmem_kb = next() % 4 == 0 ? next() % 10000 : 0;
    p.memory.pgtables_kb = 40 + next() % 400;
    p.oom_score_adj = next() % 10 == 0 ? static_cast<int32_t>(next() % 1001) : 0;
    if (i % 97 == 0) p.oom_score_adj = oomkit::core::kOomScoreAdjMin;
  }
  // The snapshot gives them in /proc listing order, not walk order: shuffle a little.
  for (size_t i = 0; i + 1 < n; i += 2) {
    if (next() % 3 == 0) std::swap(processes[i], processes[i + 1]);
  }
  return processes;
}

RankParams syntheticParams() {
  RankParams params;
  params.scale.totalpages = 6171023;  // this machine: 24684092 kB RAM, no swap
  params.global_totalpages = 6171023;
  return params;
}

void BM_Rank(benchmark::State& state) {
  const auto input = syntheticProcesses(static_cast<size_t>(state.range(0)));
  const RankParams params = syntheticParams();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Process> processes = input;
    state.ResumeTiming();
    oomkit::core::sortInWalkOrder(processes);
    benchmark::DoNotOptimize(oomkit::core::rankProcesses(processes, params).data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * state.range(0)));
}
BENCHMARK(BM_Rank)
    ->Name("Rank/sort+rank")
    ->Arg(1000)
    ->Arg(5000)
    ->Arg(30000)
    ->Unit(benchmark::kMicrosecond);

void BM_Select(benchmark::State& state) {
  const auto processes = syntheticProcesses(static_cast<size_t>(state.range(0)));
  const RankParams params = syntheticParams();
  for (auto _ : state) {
    benchmark::DoNotOptimize(oomkit::core::topCandidates(processes, params).data());
    benchmark::DoNotOptimize(oomkit::core::selectVictim(processes, params));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * state.range(0)));
}
BENCHMARK(BM_Select)
    ->Name("Select/top+select")
    ->Arg(1000)
    ->Arg(5000)
    ->Arg(30000)
    ->Unit(benchmark::kMicrosecond);

void BM_Ties(benchmark::State& state) {
  const auto processes = syntheticProcesses(static_cast<size_t>(state.range(0)));
  const RankParams params = syntheticParams();
  for (auto _ : state)
    benchmark::DoNotOptimize(oomkit::core::tiedProcesses(processes, params).data());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * state.range(0)));
}
BENCHMARK(BM_Ties)->Name("Ties")->Arg(1000)->Arg(5000)->Arg(30000)->Unit(benchmark::kMicrosecond);

}  // namespace
