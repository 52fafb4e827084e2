// The task table of mm/oom_kill.c dump_tasks(), read through its header's column names, so that
// every layout from 2.6.2x to 6.18 is one code path (reference/kernel-oom-facts.md §2.8):
//   2.6.2x      "[ pid ]   uid  tgid total_vm      rss cpu oom_adj name"
//   2.6.36–3.6  "[ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name"
//   3.7–4.x     "[ pid ]   uid  tgid total_vm      rss nr_ptes [nr_pmds] swapents oom_score_adj
//   name" 4.15–4.18   "[ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj
//   name" 4.19–6.7    "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents
//   oom_score_adj name" 6.8–6.18    "... rss rss_anon rss_file rss_shmem pgtables_bytes ..."
// Rows are "[%5d]" or "[%7d]" and then the numbers, and "%s" the comm after one blank.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "oomkit/core/oom_report.h"
#include "oomkit/core/text.h"

#include "oom_report_lines.h"

namespace oomkit::core::oom_lines {
namespace {

using std::string_view;
constexpr size_t npos = string_view::npos;

// No kernel printed more than 13 numeric columns; the cap bounds a hostile header.
constexpr size_t kMaxColumns = 32;

constexpr std::array<std::pair<string_view, TaskColumn>, 15> kColumnNames = {{
    {"uid", TaskColumn::kUid},
    {"tgid", TaskColumn::kTgid},
    {"total_vm", TaskColumn::kTotalVm},
    {"rss", TaskColumn::kRss},
    {"rss_anon", TaskColumn::kRssAnon},
    {"rss_file", TaskColumn::kRssFile},
    {"rss_shmem", TaskColumn::kRssShmem},
    {"pgtables_bytes", TaskColumn::kPgtablesBytes},
    {"nr_ptes", TaskColumn::kNrPtes},
    {"nr_pmds", TaskColumn::kNrPmds},
    {"nr_puds", TaskColumn::kNrPuds},
    {"swapents", TaskColumn::kSwapents},
    {"cpu", TaskColumn::kCpu},
    {"oom_adj", TaskColumn::kOomAdj},
    {"oom_score_adj", TaskColumn::kOomScoreAdj},
}};

TaskColumn columnNamed(string_view name) {
  for (const auto& [known, column] : kColumnNames) {
    if (known == name) return column;
  }
  return TaskColumn::kUnknown;  // a column we do not know still holds a number; skip it
}

bool fitsInt32(int64_t v) {
  return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
}

// Stores `value` into the field of `column`; false when it is out of that field's range.
bool setUnsigned(TaskColumn column, uint64_t value, OomTask& task) {
  switch (column) {
    case TaskColumn::kTotalVm:
      task.total_vm_pages = value;
      return true;
    case TaskColumn::kRss:
      task.rss_pages = value;
      return true;
    case TaskColumn::kRssAnon:
      task.rss_anon_pages = value;
      return true;
    case TaskColumn::kRssFile:
      task.rss_file_pages = value;
      return true;
    case TaskColumn::kRssShmem:
      task.rss_shmem_pages = value;
      return true;
    case TaskColumn::kPgtablesBytes:
      task.pgtables_bytes = value;
      return true;
    case TaskColumn::kNrPtes:
      task.nr_ptes = value;
      return true;
    case TaskColumn::kNrPmds:
      task.nr_pmds = value;
      return true;
    case TaskColumn::kNrPuds:
      task.nr_puds = value;
      return true;
    case TaskColumn::kSwapents:
      task.swapents = value;
      return true;
    default:
      return false;
  }
}

bool setColumn(TaskColumn column, int64_t value, OomTask& task) {
  switch (column) {
    case TaskColumn::kUnknown:
      return true;
    case TaskColumn::kUid:  // "%5d" of a uid_t: (uid_t)-1 reads "-1"
      if (value < std::numeric_limits<int32_t>::min() ||
          value > std::numeric_limits<uint32_t>::max()) {
        return false;
      }
      task.uid = static_cast<uint32_t>(value);
      return true;
    case TaskColumn::kTgid:
    case TaskColumn::kCpu:
    case TaskColumn::kOomAdj:
    case TaskColumn::kOomScoreAdj:
      break;
    default:
      return value >= 0 && setUnsigned(column, static_cast<uint64_t>(value), task);
  }
  if (!fitsInt32(value)) return false;
  const auto v32 = static_cast<int32_t>(value);
  if (column == TaskColumn::kTgid) task.tgid = v32;
  if (column == TaskColumn::kCpu) task.cpu = v32;
  if (column == TaskColumn::kOomAdj) task.oom_adj = v32;
  if (column == TaskColumn::kOomScoreAdj) task.oom_score_adj = v32;
  return true;
}

}  // namespace

std::optional<TaskTableLayout> parseTaskTableHeader(string_view text) {
  const size_t close = text.find(']');
  if (!text.starts_with("[") || close == npos || trim(text.substr(1, close - 1)) != "pid") {
    return std::nullopt;
  }
  string_view rest = text.substr(close + 1);
  TaskTableLayout layout;
  while (true) {
    const string_view name = nextToken(rest);
    if (name.empty()) return std::nullopt;  // the last column must be "name"
    if (name == "name") break;
    if (layout.columns.size() == kMaxColumns) return std::nullopt;
    const TaskColumn column = columnNamed(name);
    layout.has_oom_score_adj = layout.has_oom_score_adj || column == TaskColumn::kOomScoreAdj;
    layout.columns.push_back(column);
  }
  if (!trim(rest).empty()) return std::nullopt;
  return layout;
}

std::optional<OomTask> parseTaskTableRow(string_view text, const TaskTableLayout& layout) {
  const size_t close = text.find(']');
  if (!text.starts_with("[") || close == npos) return std::nullopt;
  OomTask task;
  const auto pid = toInt32(trim(text.substr(1, close - 1)));
  if (!pid || *pid < 0) return std::nullopt;
  task.pid = *pid;
  string_view rest = text.substr(close + 1);
  for (const TaskColumn column : layout.columns) {
    const auto value = parseI64(nextToken(rest));
    if (!value || !setColumn(column, *value, task)) return std::nullopt;
  }
  // "%5hd %s": exactly one blank before the comm, which may begin with or contain blanks.
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  task.name = bounded(rest, kMaxNameBytes);
  // 2.6.2x has no oom_score_adj column: its "oom_adj" is oomkilladj, the adj of that era.
  if (!layout.has_oom_score_adj && task.oom_adj) task.oom_score_adj = *task.oom_adj;
  return task;
}

}  // namespace oomkit::core::oom_lines
