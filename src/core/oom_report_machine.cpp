// Which line starts, extends, completes or ends a report; see oom_report_machine.h for the
// phases. The kernel prints one report per kill (mm/oom_kill.c): dump_header() (trigger, stack,
// memory state, task table, summary) unless __ratelimit() suppresses it, then the kill line,
// then, about 2 s later from the oom_reaper thread, the reaper line.
#include "oom_report_machine.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oomkit/core/log_line.h"
#include "oomkit/core/oom_report.h"

#include "oom_report_lines.h"

namespace oomkit::core {
namespace {

using oom_lines::LineKind;

std::optional<std::string> nonEmpty(std::string_view s) {
  if (s.empty()) return std::nullopt;
  return oom_lines::bounded(s, oom_lines::kMaxNameBytes);
}

// The kill line is the authority on the victim; an earlier line about the same pid (the
// summary, the "Kill process ... score" decision) adds what the kill line lacks.
void mergeVictim(OomVictim killed, std::optional<OomVictim>& victim) {
  if (victim && victim->pid == killed.pid) {
    if (!killed.uid) killed.uid = victim->uid;
    killed.score = victim->score;
  }
  victim = std::move(killed);
}

}  // namespace

void OomReportMachine::feed(std::string_view line) {
  ++line_number_;
  if (phase_ == Phase::kIdle && !oom_lines::mayStartReport(line)) return;
  const LogLine log = parseLogLine(line);
  if (log.from_kernel) {
    forEachRsyslogLine(log.text, [&](std::string_view text) { handle(text, log); });
  }
  expireByLineCount();
}

void OomReportMachine::finish() {
  finishCurrent();
  sysrq_.reset();
}

void OomReportMachine::flush() {
  if (phase_ == Phase::kPending) finishCurrent();
}

std::vector<OomReport> OomReportMachine::takeReports() {
  return std::exchange(done_, {});
}

std::vector<LateReaper> OomReportMachine::takeLateReapers() {
  return std::exchange(late_reapers_, {});
}

void OomReportMachine::handle(std::string_view text, const LogLine& log) {
  const LineKind kind = oom_lines::classifyLine(text);
  switch (kind) {
    case LineKind::kOther:
      return;
    case LineKind::kTrigger:
      return onTrigger(text, log);
    case LineKind::kSysrq:
      return onSysrq(log);
    case LineKind::kKillDecision:
      return onKillDecision(text, log);
    case LineKind::kKilled:
      return onKilled(text, log);
    case LineKind::kReaper:
      return onReaper(text);
    default:
      break;
  }
  if (phase_ == Phase::kIdle) return;
  // A syslog server may interleave several machines' kernels; a report takes only its own.
  if (!log.host.empty() && current_.host && *current_.host != log.host) return;
  if (kind == LineKind::kNoKillable || kind == LineKind::kPanic || kind == LineKind::kOomGroup) {
    onEnding(kind, text);
  } else if (phase_ == Phase::kOpen) {
    onBody(kind, text);
  }
}

void OomReportMachine::onTrigger(std::string_view text, const LogLine& log) {
  auto parsed = oom_lines::parseTriggerLine(text);
  if (!parsed) return;
  const std::optional<SysrqMark> sysrq = std::exchange(sysrq_, std::nullopt);
  start(log);
  current_.trigger = std::move(parsed->trigger);
  current_.nodemask = std::move(parsed->nodemask);
  if (sysrq && line_number_ - sysrq->line <= kSysrqWindow) {
    current_.manual = true;
    current_.first_line = sysrq->line;
    current_.timestamp = nonEmpty(sysrq->timestamp);
    current_.host = nonEmpty(sysrq->host);
  }
  // drivers/tty/sysrq.c moom_callback() runs the OOM killer with .order = -1 (is_sysrq_oom()).
  if (current_.trigger.order == -1) current_.manual = true;
}

void OomReportMachine::onSysrq(const LogLine& log) {
  finishCurrent();
  sysrq_ = SysrqMark{line_number_, timestampText(log).substr(0, oom_lines::kMaxNameBytes),
                     std::string(log.host.substr(0, oom_lines::kMaxNameBytes))};
}

// Before 5.1 oom_kill_process() names the chosen task with its score before killing it (or,
// instead, a child of it). Without a header before it (__ratelimit() skipped dump_header()),
// it starts a report of its own.
void OomReportMachine::onKillDecision(std::string_view text, const LogLine& log) {
  auto parsed = oom_lines::parseKillDecisionLine(text);
  if (!parsed) return;
  if (phase_ != Phase::kOpen || decided_) start(log);
  decided_ = true;
  current_.memcg = current_.memcg || parsed->memcg;
  if (current_.victim && current_.victim->pid == parsed->victim.pid) {
    current_.victim->score = parsed->victim.score;
  } else {
    current_.victim = std::move(parsed->victim);
  }
  markLine();
}

// "Killed process" completes the open report. A pending report of a memory.oom.group kill
// collects the group's other kills; otherwise the line is a kill whose header __ratelimit()
// suppressed, and it is a report of its own.
void OomReportMachine::onKilled(std::string_view text, const LogLine& log) {
  auto parsed = oom_lines::parseKilledLine(text);
  if (!parsed) return;
  // Only a report that already has its victim collects group kills: the kernel prints the
  // victim's own "Killed process" line before the oom.group line (oom_kill_process()).
  if (phase_ == Phase::kPending && current_.oom_group && current_.victim) {
    if (current_.group_killed.size() < oom_lines::kMaxTasks) {
      current_.group_killed.push_back(std::move(parsed->victim));
    }
    markLine();
    return;
  }
  if (phase_ != Phase::kOpen) start(log);
  current_.memcg = current_.memcg || parsed->memcg;
  mergeVictim(std::move(parsed->victim), current_.victim);
  current_.complete = true;
  phase_ = Phase::kPending;
  pending_since_ = line_number_;
  markLine();
}

void OomReportMachine::onReaper(std::string_view text) {
  auto reaped = oom_lines::parseReaperLine(text);
  if (!reaped) return;
  if (phase_ == Phase::kPending && current_.victim && current_.victim->pid == reaped->pid &&
      !current_.reaped) {
    current_.reaped = std::move(*reaped);
    markLine();
    finishCurrent();
    return;
  }
  if (keep_late_reapers_) late_reapers_.push_back(LateReaper{line_number_, std::move(*reaped)});
}

// Lines that may follow the end of a report: "no killable processes" ends an open report
// without a victim (out_of_memory()), a panic ends any report, and memory.oom.group announces
// more kills (mem_cgroup_print_oom_group(), printed after the victim's kill line).
void OomReportMachine::onEnding(LineKind kind, std::string_view text) {
  if (kind == LineKind::kNoKillable) {
    if (phase_ != Phase::kOpen) return;
    current_.no_killable = true;
    phase_ = Phase::kPending;
    pending_since_ = line_number_;
  } else if (kind == LineKind::kOomGroup) {
    auto group = oom_lines::parseOomGroupLine(text);
    if (!group) return;
    current_.oom_group = std::move(group);
  } else {
    auto panic = oom_lines::parsePanicLine(text);
    if (!panic) return;
    // 3.10 out_of_memory() panics with the "no killable processes" text itself.
    if (!current_.complete && panic->starts_with("Out of memory and no killable processes")) {
      current_.no_killable = true;
    }
    current_.panic = std::move(panic);
    markLine();
    finishCurrent();
    return;
  }
  markLine();
}

void OomReportMachine::onBody(LineKind kind, std::string_view text) {
  if (applyBody(kind, text)) markLine();
}

bool OomReportMachine::applyBody(LineKind kind, std::string_view text) {
  switch (kind) {
    case LineKind::kCpu: {
      if (current_.trigger.pid || current_.kernel_version) return false;
      auto cpu = oom_lines::parseCpuLine(text);
      if (!cpu) return false;
      current_.trigger.pid = cpu->pid;
      current_.kernel_version = std::move(cpu->kernel_version);
      return true;
    }
    case LineKind::kTableHeader:
      layout_ = oom_lines::parseTaskTableHeader(text);
      return layout_.has_value();
    case LineKind::kTableRow: {
      if (!layout_ || current_.tasks.size() >= oom_lines::kMaxTasks) return false;
      auto task = oom_lines::parseTaskTableRow(text, *layout_);
      if (task) current_.tasks.push_back(std::move(*task));
      return task.has_value();
    }
    case LineKind::kSummary:
      return oom_lines::applySummaryLine(text, current_);
    case LineKind::kCpuset:
      return oom_lines::applyCpusetLine(text, current_);
    default:
      return oom_lines::applyMemcgLine(kind, text, current_);
  }
}

// A SysRq line belongs only to the report right after it; any other report in between ends it.
void OomReportMachine::start(const LogLine& log) {
  finishCurrent();
  sysrq_.reset();
  phase_ = Phase::kOpen;
  current_.first_line = line_number_;
  current_.timestamp = nonEmpty(timestampText(log));
  current_.host = nonEmpty(log.host);
  markLine();
}

void OomReportMachine::finishCurrent() {
  if (phase_ == Phase::kIdle) return;
  done_.push_back(std::exchange(current_, OomReport{}));
  phase_ = Phase::kIdle;
  layout_.reset();
  decided_ = false;
}

void OomReportMachine::markLine() {
  current_.last_line = line_number_;
  last_marked_line_ = line_number_;
}

void OomReportMachine::expireByLineCount() {
  if (phase_ == Phase::kPending && line_number_ - pending_since_ >= kReaperWindow) {
    finishCurrent();
  } else if (phase_ == Phase::kOpen && line_number_ - last_marked_line_ >= kMaxQuietLines) {
    finishCurrent();
  }
}

}  // namespace oomkit::core
