// oomkit_scan_cost — repeats one scan of the live /proc and prints what it cost, on one line
// of key=value pairs that bench/run_benchmarks.sh parses and compares with earlyoom's scan.
//
//   oomkit_scan_cost --mode MODE [--iterations N] [--seconds S] [--proc-root /proc]
//   oomkit_scan_cost --mode check [--iterations ROUNDS] [--proc-root /proc]
//
// MODE is one of bench/scan_pipelines.h: victim, victim-prefilter, victim-plain, rank-exact,
// rank, rank-json. One untimed warm-up scan runs first (it also counts the stat reads of the
// ranking modes). Then at least N scans (rounded up to even) run, and more until S seconds have
// passed. Each scan's CPU time is the growth of CLOCK_THREAD_CPUTIME_ID, the same clock as the
// first field of /proc/PID/schedstat, which is how the script measures earlyoom.
// cpu_us_median is the median over pairs of consecutive scans: robust against a scan slowed by
// other work on the machine, and it averages the adaptive finder's scan-to-scan alternation.
//
// `--mode check` runs ROUNDS rounds of: rank-exact, then each other mode with a rank-exact
// after it, and compares each mode's victim (and a ranking's kill order) with the rank-exact
// scans on both sides of it (scan_pipelines.h compareWithExact()); a mismatch is tried again,
// up to 3 times. Exit status 3 when a mode disagreed all 3 times while the machine did not
// change between its bracketing scans.
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/text.h"

#include "scan_pipelines.h"

namespace {

using oomkit::bench::Mode;
using oomkit::bench::ScanResult;

constexpr int kExitUsage = 2;
constexpr int kExitMismatch = 3;

struct Options {
  std::optional<Mode> mode;  // none = check
  uint64_t iterations = 10;
  double seconds = 0;
  std::string proc_root = "/proc";
};

void usage(const char* why) {
  std::fprintf(stderr,
               "oomkit_scan_cost: %s\n"
               "usage: oomkit_scan_cost --mode victim|victim-prefilter|victim-plain|rank-exact|"
               "rank|rank-json|check [--iterations N] [--seconds S] [--proc-root DIR]\n",
               why);
}

std::optional<Options> parseArgs(int argc, char** argv) {
  Options o;
  bool have_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage("repeats a /proc scan and prints its cost");
      std::exit(0);
    }
    if (i + 1 >= argc) {
      usage("every option takes a value");
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    if (arg == "--mode") {
      have_mode = true;
      o.mode = oomkit::bench::parseMode(value);
      if (!o.mode && value != "check") {
        usage("unknown --mode");
        return std::nullopt;
      }
    } else if (arg == "--iterations") {
      const auto n = oomkit::core::parseU64(value);
      if (!n || *n == 0) {
        usage("--iterations wants a positive integer");
        return std::nullopt;
      }
      o.iterations = *n;
    } else if (arg == "--seconds") {
      const std::string text(value);
      char* end = nullptr;
      o.seconds = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !(o.seconds >= 0)) {
        usage("--seconds wants a number of seconds, e.g. 2.5");
        return std::nullopt;
      }
    } else if (arg == "--proc-root") {
      o.proc_root = value;
    } else {
      usage(("unknown option " + std::string(arg)).c_str());
      return std::nullopt;
    }
  }
  if (!have_mode) {
    usage("--mode is required");
    return std::nullopt;
  }
  return o;
}

double clockUs(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// The median over pairs of consecutive values (each pair's mean).
double pairMedian(const std::vector<double>& values) {
  std::vector<double> pairs;
  for (size_t i = 0; i + 1 < values.size(); i += 2)
    pairs.push_back((values[i] + values[i + 1]) / 2);
  return pairs.empty() ? median(values) : median(pairs);
}

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (const double v : values)
    sum += v;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

int measure(oomkit::bench::Scanner& scanner, Mode mode, const Options& o) {
  const auto warm = scanner.scan(mode, {.stat_reads = true});
  if (!warm.ok) {
    std::fprintf(stderr, "oomkit_scan_cost: %s\n", warm.error.c_str());
    return 1;
  }
  const uint64_t minimum = o.iterations + o.iterations % 2;
  std::vector<double> cpu;
  std::vector<double> wall;
  uint64_t processes = 0;
  uint64_t status_reads = 0;
  uint64_t prefiltered = 0;
  int32_t victim = 0;
  const double start = clockUs(CLOCK_MONOTONIC);
  while (cpu.size() < minimum || cpu.size() % 2 != 0 ||
         clockUs(CLOCK_MONOTONIC) - start < o.seconds * 1e6) {
    const double wall0 = clockUs(CLOCK_MONOTONIC);
    const double cpu0 = clockUs(CLOCK_THREAD_CPUTIME_ID);
    const ScanResult result = scanner.scan(mode);
    cpu.push_back(clockUs(CLOCK_THREAD_CPUTIME_ID) - cpu0);
    wall.push_back(clockUs(CLOCK_MONOTONIC) - wall0);
    if (!result.ok) {
      std::fprintf(stderr, "oomkit_scan_cost: %s\n", result.error.c_str());
      return 1;
    }
    processes += result.processes;
    status_reads += result.status_reads;
    prefiltered += result.prefiltered ? 1 : 0;
    victim = result.victim_pid;
  }
  const auto n = static_cast<double>(cpu.size());
  const double per_scan = static_cast<double>(processes) / n;
  const double cpu_median = pairMedian(cpu);
  std::printf(
      "mode=%s scans=%zu processes_per_scan=%.0f status_reads_per_scan=%.1f "
      "prefiltered_share=%.2f stat_reads=%zu cpu_us_median=%.1f cpu_us_mean=%.1f "
      "cpu_us_min=%.1f cpu_us_per_process=%.3f wall_us_median=%.1f victim_pid=%d\n",
      std::string(oomkit::bench::modeName(mode)).c_str(), cpu.size(), per_scan,
      static_cast<double>(status_reads) / n, static_cast<double>(prefiltered) / n, warm.stat_reads,
      cpu_median, mean(cpu), *std::min_element(cpu.begin(), cpu.end()), cpu_median / per_scan,
      pairMedian(wall), victim);
  return 0;
}

struct Tally {
  size_t agreed = 0;
  size_t unsettled = 0;
  size_t mismatched = 0;
};

constexpr int kCheckAttempts = 3;

// One mode against rank-exact: up to kCheckAttempts bracketed comparisons, because on a busy
// machine the top of the ranking can flip back and forth between two scans. A mismatch counts
// only when every attempt mismatched; one that then agreed (or could not tell) is unsettled.
// `before` is the latest rank-exact scan, updated as new ones are made.
bool checkMode(oomkit::bench::Scanner& scanner, Mode mode, ScanResult& before, Tally& tally) {
  using oomkit::bench::Verdict;
  const oomkit::bench::ScanDetail detail{.kill_order = true};
  const std::string name(oomkit::bench::modeName(mode));
  for (int attempt = 1; attempt <= kCheckAttempts; ++attempt) {
    const ScanResult x = scanner.scan(mode, detail);
    ScanResult after = scanner.scan(Mode::kRankExact, detail);
    for (const ScanResult* r : std::initializer_list<const ScanResult*>{&x, &after}) {
      if (!r->ok) {
        std::fprintf(stderr, "oomkit_scan_cost: %s\n", r->error.c_str());
        return false;
      }
    }
    const Verdict v =
        oomkit::bench::compareWithExact(before, x, after, !oomkit::bench::isVictimMode(mode));
    const int32_t expected = before.victim_pid;
    before = std::move(after);
    if (v == Verdict::kAgreed && attempt == 1) {
      ++tally.agreed;
      return true;
    }
    if (v != Verdict::kMismatched) {
      ++tally.unsettled;
      return true;
    }
    std::fprintf(stderr,
                 "oomkit_scan_cost: %s: %s chose pid %d, rank-exact pid %d before and after "
                 "it%s (attempt %d of %d)\n",
                 attempt == kCheckAttempts ? "MISMATCH" : "differed", name.c_str(), x.victim_pid,
                 expected, x.victim_pid == expected ? " (same victim, kill order differs)" : "",
                 attempt, kCheckAttempts);
  }
  ++tally.mismatched;
  return true;
}

int check(oomkit::bench::Scanner& scanner, uint64_t rounds) {
  std::vector<Tally> tallies(std::size(oomkit::bench::kModes));
  ScanResult before = scanner.scan(Mode::kRankExact, {.kill_order = true});
  if (!before.ok) {
    std::fprintf(stderr, "oomkit_scan_cost: %s\n", before.error.c_str());
    return 1;
  }
  for (uint64_t round = 0; round < rounds; ++round) {
    for (size_t m = 0; m < tallies.size(); ++m) {
      const Mode mode = oomkit::bench::kModes[m].mode;
      if (mode != Mode::kRankExact && !checkMode(scanner, mode, before, tallies[m])) return 1;
    }
  }
  Tally total;
  std::string per_mode;
  for (size_t m = 0; m < tallies.size(); ++m) {
    if (oomkit::bench::kModes[m].mode == Mode::kRankExact) continue;
    const Tally& t = tallies[m];
    total.agreed += t.agreed;
    total.unsettled += t.unsettled;
    total.mismatched += t.mismatched;
    if (!per_mode.empty()) per_mode += ',';
    per_mode += std::string(oomkit::bench::kModes[m].name) + ':' + std::to_string(t.agreed) + '/' +
                std::to_string(t.unsettled) + '/' + std::to_string(t.mismatched);
  }
  std::printf(
      "mode=check rounds=%llu agreed=%zu unsettled=%zu mismatched=%zu "
      "per_mode(agreed/unsettled/mismatched)=%s victim_pid=%d\n",
      static_cast<unsigned long long>(rounds), total.agreed, total.unsettled, total.mismatched,
      per_mode.c_str(), before.victim_pid);
  return total.mismatched == 0 ? 0 : kExitMismatch;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parseArgs(argc, argv);
  if (!options) return kExitUsage;
  auto reader = oomkit::sys::ProcReader::open(options->proc_root);
  if (!reader) {
    std::fprintf(stderr, "oomkit_scan_cost: %s\n", reader.error().message.c_str());
    return kExitUsage;
  }
  oomkit::bench::Scanner scanner(*reader);
  if (!options->mode) return check(scanner, options->iterations);
  return measure(scanner, *options->mode, *options);
}
