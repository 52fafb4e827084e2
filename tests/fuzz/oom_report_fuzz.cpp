// libFuzzer target for the kernel OOM report parser: any bytes as a log, through
// parseOomReports() and through the streaming OomReportParser, with the invariants every
// report must keep. A failed invariant aborts (libFuzzer saves the input).
//
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DOOMKIT_BUILD_BENCH=OFF
//   cmake --build build-fuzz --target oom_report_fuzz
//   build-fuzz/tests/fuzz/oom_report_fuzz -dict=tests/fuzz/oom_report.dict \
//       -max_total_time=300 /tmp/oom-corpus tests/fuzz/corpus/oom_report
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "oomkit/core/log_line.h"
#include "oomkit/core/oom_report.h"
#include "oomkit/core/text.h"

namespace {

using oomkit::core::OomReport;

// The caps of src/core/oom_report_lines.h, restated: a report never holds more.
constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxTasks = 100000;
constexpr size_t kMaxGfpFlags = 64;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant failed: %s\n", what);
  std::abort();
}

template <typename T>
void checkLength(const T& field, size_t max, const char* what) {
  if (field) check(field->size() <= max, what);
}

void checkStrings(const OomReport& r) {
  check(r.trigger.comm.size() <= kMaxNameBytes, "trigger comm length");
  check(r.trigger.gfp_mask.size() <= kMaxNameBytes, "gfp_mask length");
  check(r.trigger.gfp_flags.size() <= kMaxGfpFlags, "gfp flag count");
  for (const auto& flag : r.trigger.gfp_flags)
    check(!flag.empty(), "empty gfp flag");
  checkLength(r.kernel_version, kMaxNameBytes, "kernel_version length");
  checkLength(r.timestamp, kMaxNameBytes, "timestamp length");
  checkLength(r.host, kMaxNameBytes, "host length");
  checkLength(r.memcg_path, kMaxPathBytes, "memcg_path length");
  checkLength(r.task_memcg, kMaxPathBytes, "task_memcg length");
  checkLength(r.panic, kMaxPathBytes, "panic length");
  for (const auto& task : r.tasks)
    check(task.name.size() <= kMaxNameBytes, "task name length");
  if (r.victim) check(r.victim->comm.size() <= kMaxNameBytes, "victim comm length");
}

void checkReport(const OomReport& r, size_t line_count) {
  check(r.first_line >= 1, "first_line >= 1");
  check(r.last_line >= r.first_line, "last_line >= first_line");
  check(r.last_line <= line_count, "last_line within the input");
  check(!r.complete || r.victim.has_value(), "complete implies a victim");
  check(!r.reaped || (r.victim && r.reaped->pid == r.victim->pid), "reaper matches victim");
  check(!r.no_killable || !r.complete, "no killable process but complete");
  check(r.victim || r.group_killed.empty(), "group kills without a victim");
  check(r.tasks.size() <= kMaxTasks, "task count");
  check(r.group_killed.size() <= kMaxTasks, "group kill count");
  if (r.victim) check(r.victim->pid >= 0, "victim pid >= 0");
  for (const auto& task : r.tasks)
    check(task.pid >= 0, "task pid >= 0");
  check(r.trigger.order != -1 || r.manual, "order -1 is SysRq f");
  checkStrings(r);
}

void checkOrder(const std::vector<OomReport>& reports) {
  for (size_t i = 1; i < reports.size(); ++i) {
    check(reports[i].first_line >= reports[i - 1].first_line, "reports in input order");
  }
}

// parseLogLine() returns views into its argument.
void checkLogLine(std::string_view line) {
  const oomkit::core::LogLine log = oomkit::core::parseLogLine(line);
  const auto inside = [&](std::string_view part) {
    return part.empty() ||
           (part.data() >= line.data() && part.data() + part.size() <= line.data() + line.size());
  };
  check(inside(log.text) && inside(log.timestamp) && inside(log.host), "views into the line");
}

// The whole log equals the stream, except for reaper lines attached after the fact.
void checkSameReports(const std::vector<OomReport>& batch, const std::vector<OomReport>& stream) {
  check(batch.size() == stream.size(), "batch and stream report counts");
  for (size_t i = 0; i < batch.size() && i < stream.size(); ++i) {
    check(batch[i].first_line == stream[i].first_line, "same first_line");
    check(batch[i].complete == stream[i].complete, "same complete");
    check(batch[i].tasks.size() == stream[i].tasks.size(), "same task count");
    check(batch[i].victim.has_value() == stream[i].victim.has_value(), "same victim");
    check(!stream[i].reaped || batch[i].reaped, "batch keeps the stream's reaper");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t line_count = 0;
  oomkit::core::OomReportParser stream;
  std::vector<OomReport> streamed;
  oomkit::core::OomReportParser flushing;
  oomkit::core::forEachLine(text, [&](std::string_view line) {
    ++line_count;
    checkLogLine(line);
    stream.feed(line);
    for (auto& r : stream.takeReports())
      streamed.push_back(std::move(r));
    flushing.feed(line);
    flushing.flush();
    for (const auto& r : flushing.takeReports())
      checkReport(r, line_count);
  });
  stream.finish();
  for (auto& r : stream.takeReports())
    streamed.push_back(std::move(r));
  flushing.finish();
  for (const auto& r : flushing.takeReports())
    checkReport(r, line_count);

  const std::vector<OomReport> batch = oomkit::core::parseOomReports(text);
  for (const OomReport& r : batch)
    checkReport(r, line_count);
  for (const OomReport& r : streamed)
    checkReport(r, line_count);
  checkOrder(batch);
  checkSameReports(batch, streamed);
  return 0;
}
