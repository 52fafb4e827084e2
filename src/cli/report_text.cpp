// The human rendering of a kernel OOM report (`oomkit parse`, `oomkit watch`).
#include "report_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "oomkit/core/text.h"

namespace oomkit::cli {
namespace {

std::string logText(std::string_view s) {
  return core::escapeBytes(s, core::BackslashEscape::kKeep);
}

// The kernel's badness of a task-table row (pages), as selection saw it at the time:
// rss + swap + page tables (bytes, or nr_ptes pages on kernels that printed those).
uint64_t rowPoints(const core::OomTask& t) {
  const uint64_t tables =
      t.pgtables_bytes ? *t.pgtables_bytes / 4096 : t.nr_ptes.value_or(0) + t.nr_pmds.value_or(0);
  return t.rss_pages + t.swapents.value_or(0) + tables;
}

std::string scopeText(const core::OomReport& r) {
  if (r.manual) return "manual (SysRq f)";
  if (r.memcg) return "memory cgroup " + (r.memcg_path ? logText(*r.memcg_path) : "?");
  return "global";
}

std::string victimText(const core::OomReport& r) {
  if (!r.victim) return r.complete ? "victim: unknown\n" : "victim: none (report incomplete)\n";
  const auto& v = *r.victim;
  const auto kb = [](const std::optional<uint64_t>& x) {
    return x ? fmt::format("{} kB", *x) : std::string("?");
  };
  std::string out = fmt::format("victim: pid {} ({}), anon {}, file {}, shmem {}, total-vm {}",
                                v.pid, logText(v.comm), kb(v.anon_rss_kb), kb(v.file_rss_kb),
                                kb(v.shmem_rss_kb), kb(v.total_vm_kb));
  if (v.oom_score_adj) out += fmt::format(", oom_score_adj {}", *v.oom_score_adj);
  if (v.uid) out += fmt::format(", uid {}", *v.uid);
  out += "\n";
  if (r.reaped) {
    out += fmt::format("reaped: yes, now anon {}, file {}, shmem {}\n", kb(r.reaped->anon_rss_kb),
                       kb(r.reaped->file_rss_kb), kb(r.reaped->shmem_rss_kb));
  } else {
    out += "reaped: no oom_reaper line\n";
  }
  return out;
}

// The task table's top rows. With the memcg limit known (a memcg report), by the kernel's
// badness at that scale, adj included; otherwise (a global report states no totalpages) by
// memory alone. Pages are taken as 4 KiB, as on the architectures the reports come from.
std::string tasksText(const core::OomReport& r, size_t top) {
  if (r.tasks.empty() || top == 0) return "";
  const int64_t adj_unit =
      r.memcg_limit_kb ? static_cast<int64_t>(*r.memcg_limit_kb / 4 / 1000) : 0;
  const auto points = [adj_unit](const core::OomTask& t) {
    return static_cast<int64_t>(rowPoints(t)) + adj_unit * t.oom_score_adj;
  };
  std::vector<const core::OomTask*> rows;
  for (const auto& t : r.tasks)
    rows.push_back(&t);
  std::stable_sort(rows.begin(), rows.end(),
                   [&points](const core::OomTask* a, const core::OomTask* b) {
                     return points(*a) > points(*b);
                   });
  std::string out =
      fmt::format("tasks: {} in the table; first by {}:\n", r.tasks.size(),
                  adj_unit ? "badness at the cgroup's limit" : "rss+swap+page tables");
  for (size_t i = 0; i < rows.size() && i < top; ++i) {
    out += fmt::format("  pid {:>7}  rss {:>9} pages  adj {:>5}  badness {:>9}  {}\n", rows[i]->pid,
                       rows[i]->rss_pages, rows[i]->oom_score_adj, points(*rows[i]),
                       logText(rows[i]->name));
  }
  return out;
}

}  // namespace

std::string reportToText(const core::OomReport& r, size_t top_tasks) {
  const auto& t = r.trigger;
  std::string out = fmt::format("OOM kill at {}{}{}\n", r.timestamp ? logText(*r.timestamp) : "?",
                                r.host ? " on " + logText(*r.host) : "",
                                r.kernel_version ? ", kernel " + logText(*r.kernel_version) : "");
  if (!t.comm.empty()) {
    out += fmt::format(
        "invoked by: {}{}, gfp_mask={}{}, order={}\n", logText(t.comm),
        t.pid ? fmt::format(" (pid {})", *t.pid) : "", logText(t.gfp_mask),
        t.gfp_flags.empty() ? "" : "(" + fmt::format("{}", fmt::join(t.gfp_flags, "|")) + ")",
        t.order);
  }
  out += "scope: " + scopeText(r);
  if (r.constraint) out += ", constraint " + logText(*r.constraint);
  if (r.memcg_limit_kb) out += fmt::format(", limit {} kB", *r.memcg_limit_kb);
  out += "\n" + victimText(r) + tasksText(r, top_tasks);
  return out;
}

}  // namespace oomkit::cli
