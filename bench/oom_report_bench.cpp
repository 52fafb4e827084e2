// Throughput of parseOomReports() on a ~200 MB log: a day of a busy server's syslog (kernel
// and daemon lines, deterministic pseudo-random mix) with four kernel OOM reports spread in it.
// Google Benchmark's "bytes_per_second" column is the figure to watch (goal: >= 200 MB/s).
//
//   BM_ParseOomReports/syslog  "Nov 22 01:02:03 web01 kernel: [ 1234.567890] text" lines
//   BM_ParseOomReports/dmesg   "[ 1234.567890] text" lines (kernel only)
//   OomReportParser/syslog     the streaming parser, one feed() per line (the watcher's path)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "oomkit/core/oom_report.h"
#include "oomkit/core/text.h"

namespace {

constexpr size_t kTargetBytes = 200u << 20;
constexpr int kReports = 4;

// Daemon and kernel messages of the kinds a production syslog is made of. Some contain words
// close to the parser's markers ("Killing process", "oom", "OOM") on purpose.
constexpr std::string_view kMessages[] = {
    "systemd[1]: Started Session 4242 of User deploy.",
    "sshd[23117]: Accepted publickey for deploy from 10.20.30.40 port 52344 ssh2: ED25519 "
    "SHA256:q4xQ1w9pY0cXn1Zk2pWl7uYb3Vt8sRr6oN5mM4lK3jI",
    "CRON[30211]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "kernel: [%s] IPv4: martian source 10.0.0.255 from 10.0.0.17, on dev eth0",
    "kernel: [%s] audit: type=1400 audit(1763770923.123:4567): apparmor=\"DENIED\" "
    "operation=\"open\" profile=\"snap.lxd.daemon\" name=\"/proc/1/environ\" pid=1234 "
    "comm=\"lxd\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0",
    "dockerd[987]: time=\"2026-11-22T01:02:03.123456789Z\" level=info msg=\"ignoring event\" "
    "container=4f1c2 module=libcontainerd namespace=moby topic=/tasks/delete",
    "kernel: [%s] EXT4-fs (nvme0n1p2): re-mounted. Opts: errors=remount-ro. Quota mode: none.",
    "systemd[1]: session-c2.scope: Killing process 31337 (sleep) with signal SIGKILL.",
    "postfix/smtpd[3456]: connect from mail-oi1-f170.google.com[209.85.167.170]",
    "kernel: [%s] eth0: renamed from veth4b1c2d3",
    "systemd-oomd[612]: Considered 14 cgroups for killing, top candidates were: none",
    "nginx[2201]: 2026/11/22 01:02:03 [warn] 2201#2201: *1 an upstream response is buffered",
    "kernel: [%s] TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
    "earlyoom[700]: mem avail: 12345 of 31999 MiB (38.58%), swap free: 2047 of 2047 MiB",
};

// Deterministic xorshift, so every run parses the same text.
struct Rng {
  uint64_t state = 0x9e3779b97f4a7c15u;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

std::string uptime(size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5zu.%06zu", 1000 + n / 1000, (n * 7919) % 1000000);
  return buf;
}

std::string expand(std::string_view message, size_t n) {
  std::string out(message);
  const size_t at = out.find("%s");
  if (at != std::string::npos) out.replace(at, 2, uptime(n));
  return out;
}

// A 6.x global OOM report with a 120-row task table, as kernel messages.
std::vector<std::string> reportLines(int k) {
  const std::string pid = std::to_string(40000 + k);
  std::vector<std::string> lines = {
      "java invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), "
      "order=0, oom_score_adj=0",
      "CPU: 3 UID: 1000 PID: " + pid + " Comm: java Not tainted 6.18.44 #1 PREEMPT(none)",
      "Call Trace:",
      " <TASK>",
      " dump_stack_lvl+0x57/0x80",
      " dump_header+0x43/0x1c0",
      " oom_kill_process.cold+0x8/0x8a",
      " out_of_memory+0x214/0x500",
      " </TASK>",
      "Mem-Info:",
      "active_anon:1413442 inactive_anon:1509191 isolated_anon:0",
      "Tasks state (memory values in pages):",
      "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes "
      "swapents oom_score_adj name"};
  for (int row = 0; row < 120; ++row) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "[%7d] %5d %5d %8d %8d %8d %8d %8d %8d %8d %13d %s", 1000 + row,
                  1000, 1000 + row, 50000 + row, 2000 + row, 1500, 400, 100, 90112, 0, 0,
                  row % 3 == 0 ? "php-fpm" : "nginx: worker");
    lines.emplace_back(buf);
  }
  lines.push_back(
      "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
      "task_memcg=/system.slice/app.service,task=java,pid=" +
      pid + ",uid=1000");
  lines.push_back("Out of memory: Killed process " + pid +
                  " (java) total-vm:30290680kB, anon-rss:9234320kB, file-rss:4kB, "
                  "shmem-rss:0kB, UID:1000 pgtables:59264kB oom_score_adj:0");
  lines.push_back("oom_reaper: reaped process " + pid +
                  " (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB");
  return lines;
}

enum class Style { kSyslog, kDmesg };

void appendLine(std::string& out, Style style, std::string_view message, size_t n) {
  if (style == Style::kSyslog) {
    out += "Nov 22 01:02:03 web01 ";
    out += message;
  } else {
    if (message.starts_with("kernel: ")) message.remove_prefix(8);
    out += '[';
    out += uptime(n);
    out += "] ";
    out += message;
  }
  out += '\n';
}

std::string makeLog(Style style) {
  std::string out;
  out.reserve(kTargetBytes + (1u << 20));
  Rng rng;
  size_t n = 0;
  int reports_done = 0;
  while (out.size() < kTargetBytes) {
    if (reports_done < kReports && out.size() > (reports_done + 1) * kTargetBytes / 5) {
      for (const std::string& line : reportLines(reports_done)) {
        appendLine(out, style, style == Style::kSyslog ? "kernel: " + line : line, n++);
      }
      ++reports_done;
      continue;
    }
    const std::string_view message = kMessages[rng.next() % std::size(kMessages)];
    if (style == Style::kDmesg && !message.starts_with("kernel: ")) continue;
    appendLine(out, style, expand(message, n), n);
    ++n;
  }
  return out;
}

const std::string& logText(Style style) {
  static const std::string syslog = makeLog(Style::kSyslog);
  static const std::string dmesg = makeLog(Style::kDmesg);
  return style == Style::kSyslog ? syslog : dmesg;
}

void checkReports(benchmark::State& state, size_t count) {
  if (count != static_cast<size_t>(kReports)) {
    state.SkipWithError("wrong number of reports");
  }
}

void BM_ParseOomReports(benchmark::State& state, Style style) {
  const std::string& text = logText(style);
  size_t count = 0;
  for (auto _ : state) {
    const auto reports = oomkit::core::parseOomReports(text);
    count = reports.size();
    benchmark::DoNotOptimize(reports.data());
  }
  checkReports(state, count);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_StreamingParser(benchmark::State& state) {
  const std::string& text = logText(Style::kSyslog);
  size_t count = 0;
  for (auto _ : state) {
    oomkit::core::OomReportParser parser;
    count = 0;
    oomkit::core::forEachLine(text, [&](std::string_view line) {
      parser.feed(line);
      count += parser.takeReports().size();
    });
    parser.finish();
    count += parser.takeReports().size();
  }
  checkReports(state, count);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

BENCHMARK_CAPTURE(BM_ParseOomReports, syslog, Style::kSyslog)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ParseOomReports, dmesg, Style::kDmesg)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StreamingParser)->Name("OomReportParser/syslog")->Unit(benchmark::kMillisecond);

}  // namespace
