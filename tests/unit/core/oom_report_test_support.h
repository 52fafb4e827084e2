// Helpers shared by the OOM report tests: fixture text, building logs from kernel messages in
// each prefix style, and field-by-field comparisons that name the field that differs.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/oom_report.h"

namespace oomkit::core::test {

inline std::string readFixture(std::string_view name) {
  const std::string path = std::string(OOMKIT_FIXTURES_DIR) + "/oom-logs/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Each message with `prefix(i)` before it, one per line.
inline std::string renderLog(const std::vector<std::string>& messages,
                             const std::function<std::string(size_t)>& prefix) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    out += prefix(i) + messages[i] + "\n";
  }
  return out;
}

inline std::string rawLog(const std::vector<std::string>& messages) {
  return renderLog(messages, [](size_t) { return std::string(); });
}

// Feeds `text` line by line into a streaming parser, then finish().
inline std::vector<OomReport> parseStreaming(std::string_view text) {
  OomReportParser parser;
  std::vector<OomReport> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    parser.feed(text.substr(0, nl));
    for (OomReport& r : parser.takeReports())
      out.push_back(std::move(r));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  parser.finish();
  for (OomReport& r : parser.takeReports())
    out.push_back(std::move(r));
  return out;
}

inline void expectVictim(const std::optional<OomVictim>& actual, const OomVictim& expected) {
  ASSERT_TRUE(actual.has_value());
  EXPECT_EQ(actual->pid, expected.pid);
  EXPECT_EQ(actual->comm, expected.comm);
  EXPECT_EQ(actual->total_vm_kb, expected.total_vm_kb);
  EXPECT_EQ(actual->anon_rss_kb, expected.anon_rss_kb);
  EXPECT_EQ(actual->file_rss_kb, expected.file_rss_kb);
  EXPECT_EQ(actual->shmem_rss_kb, expected.shmem_rss_kb);
  EXPECT_EQ(actual->uid, expected.uid);
  EXPECT_EQ(actual->pgtables_kb, expected.pgtables_kb);
  EXPECT_EQ(actual->oom_score_adj, expected.oom_score_adj);
  EXPECT_EQ(actual->score, expected.score);
}

inline void expectTask(const OomTask& actual, const OomTask& expected) {
  SCOPED_TRACE("task " + std::to_string(expected.pid));
  EXPECT_EQ(actual.pid, expected.pid);
  EXPECT_EQ(actual.uid, expected.uid);
  EXPECT_EQ(actual.tgid, expected.tgid);
  EXPECT_EQ(actual.total_vm_pages, expected.total_vm_pages);
  EXPECT_EQ(actual.rss_pages, expected.rss_pages);
  EXPECT_EQ(actual.rss_anon_pages, expected.rss_anon_pages);
  EXPECT_EQ(actual.rss_file_pages, expected.rss_file_pages);
  EXPECT_EQ(actual.rss_shmem_pages, expected.rss_shmem_pages);
  EXPECT_EQ(actual.pgtables_bytes, expected.pgtables_bytes);
  EXPECT_EQ(actual.nr_ptes, expected.nr_ptes);
  EXPECT_EQ(actual.nr_pmds, expected.nr_pmds);
  EXPECT_EQ(actual.nr_puds, expected.nr_puds);
  EXPECT_EQ(actual.swapents, expected.swapents);
  EXPECT_EQ(actual.cpu, expected.cpu);
  EXPECT_EQ(actual.oom_adj, expected.oom_adj);
  EXPECT_EQ(actual.oom_score_adj, expected.oom_score_adj);
  EXPECT_EQ(actual.name, expected.name);
}

// The task with this pid, or nullptr.
inline const OomTask* findTask(const OomReport& report, int32_t pid) {
  for (const OomTask& task : report.tasks) {
    if (task.pid == pid) return &task;
  }
  return nullptr;
}

}  // namespace oomkit::core::test
