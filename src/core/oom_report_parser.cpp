// OomReportParser (streaming, for the watcher) and parseOomReports() (a whole log), both over
// OomReportMachine. When a report is handed out: see oom_report_machine.h — at the next
// report, at its reaper line, OomReportMachine::kReaperWindow lines after its kill line, at
// flush() (complete reports) or at finish() (all). A whole log also gets the reaper lines that
// came later still, matched by the victim's pid.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "oomkit/core/oom_report.h"
#include "oomkit/core/text.h"

#include "oom_report_machine.h"

namespace oomkit::core {
namespace {

// Gives each late reaper line to the last complete report of its pid that started before it,
// unless that report already has one (then the line belongs to no report we have).
void attachLateReapers(std::vector<OomReport>& reports, const std::vector<LateReaper>& late) {
  if (late.empty()) return;
  std::unordered_map<int32_t, std::vector<size_t>> by_victim;  // indices, in input order
  for (size_t i = 0; i < reports.size(); ++i) {
    if (reports[i].complete && reports[i].victim) by_victim[reports[i].victim->pid].push_back(i);
  }
  for (const LateReaper& reaper : late) {
    const auto found = by_victim.find(reaper.reaped.pid);
    if (found == by_victim.end()) continue;
    const std::vector<size_t>& indices = found->second;
    const auto after = std::partition_point(indices.begin(), indices.end(), [&](size_t i) {
      return reports[i].first_line < reaper.line;
    });
    if (after == indices.begin()) continue;
    OomReport& report = reports[*(after - 1)];
    if (report.reaped) continue;
    report.reaped = reaper.reaped;
    report.last_line = std::max(report.last_line, reaper.line);
  }
}

}  // namespace

struct OomReportParser::State {
  OomReportMachine machine{/*keep_late_reapers=*/false};
};

OomReportParser::OomReportParser() : state_(std::make_unique<State>()) {}
OomReportParser::~OomReportParser() = default;
OomReportParser::OomReportParser(OomReportParser&&) noexcept = default;
OomReportParser& OomReportParser::operator=(OomReportParser&&) noexcept = default;

void OomReportParser::feed(std::string_view line) {
  state_->machine.feed(line);
}

void OomReportParser::finish() {
  state_->machine.finish();
}

std::vector<OomReport> OomReportParser::takeReports() {
  return state_->machine.takeReports();
}

void OomReportParser::flush() {
  state_->machine.flush();
}

std::vector<OomReport> parseOomReports(std::string_view text) {
  OomReportMachine machine(/*keep_late_reapers=*/true);
  forEachLine(text, [&](std::string_view line) { machine.feed(line); });
  machine.finish();
  std::vector<OomReport> reports = machine.takeReports();
  attachLateReapers(reports, machine.takeLateReapers());
  return reports;
}

}  // namespace oomkit::core
