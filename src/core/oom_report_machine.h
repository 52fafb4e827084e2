// The state machine behind OomReportParser and parseOomReports() (internal to oomkit_core).
//
// Phases: idle (between reports: a line is looked at only if mayStartReport() finds one of the
// few words that start a report), open (inside a report: every line is classified), and
// pending (the report has its "Killed process" line, or its "no killable processes" line, and
// waits a while for the lines that may follow it: its oom_reaper line, memory.oom.group kills,
// a panic). Pure: no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/log_line.h"
#include "oomkit/core/oom_report.h"

#include "oom_report_lines.h"

namespace oomkit::core {

// An oom_reaper line that found no open report for its pid (it came after the next report
// started, or after the pending window): parseOomReports() attaches it afterwards.
struct LateReaper {
  size_t line = 0;
  OomReaped reaped;
};

class OomReportMachine {
 public:
  // A pending report is handed out after this many further lines without its reaper line. The
  // reaper runs OOM_REAPER_DELAY (2 s) after the kill (mm/oom_kill.c queue_oom_reaper()), and
  // a busy log may carry a few hundred lines in that time.
  static constexpr size_t kReaperWindow = 256;
  // An open report without a line we recognise for this many lines was cut off (a report's
  // longest unrecognised stretch is its call trace and Mem-Info, well under 1000 lines).
  static constexpr size_t kMaxQuietLines = 4096;
  // "sysrq: Manual OOM execution" belongs to a report that starts within this many lines:
  // moom_callback() runs from a workqueue right after the SysRq handler.
  static constexpr size_t kSysrqWindow = 16;

  explicit OomReportMachine(bool keep_late_reapers) : keep_late_reapers_(keep_late_reapers) {}

  void feed(std::string_view line);
  void finish();
  void flush();
  std::vector<OomReport> takeReports();
  std::vector<LateReaper> takeLateReapers();

 private:
  enum class Phase { kIdle, kOpen, kPending };
  struct SysrqMark {
    size_t line = 0;
    std::string timestamp;
    std::string host;
  };

  void handle(std::string_view text, const LogLine& log);
  void onTrigger(std::string_view text, const LogLine& log);
  void onSysrq(const LogLine& log);
  void onKillDecision(std::string_view text, const LogLine& log);
  void onKilled(std::string_view text, const LogLine& log);
  void onReaper(std::string_view text);
  void onEnding(oom_lines::LineKind kind, std::string_view text);
  void onBody(oom_lines::LineKind kind, std::string_view text);
  bool applyBody(oom_lines::LineKind kind, std::string_view text);
  void start(const LogLine& log);
  void finishCurrent();
  void markLine();
  void expireByLineCount();

  bool keep_late_reapers_;
  Phase phase_ = Phase::kIdle;
  size_t line_number_ = 0;
  size_t last_marked_line_ = 0;
  size_t pending_since_ = 0;
  bool decided_ = false;  // the current report has its "Kill process ... score" line
  OomReport current_;
  std::optional<oom_lines::TaskTableLayout> layout_;
  std::optional<SysrqMark> sysrq_;
  std::vector<OomReport> done_;
  std::vector<LateReaper> late_reapers_;
};

}  // namespace oomkit::core
