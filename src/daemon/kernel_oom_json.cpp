// Kernel OOM reports and kills as JSON (oomkit/daemon/kernel_oom_json.h; docs/json.md).
#include "oomkit/daemon/kernel_oom_json.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "oomkit/core/text.h"

namespace oomkit::daemon {
namespace {

using nlohmann::json;

std::string logText(std::string_view s) {
  return core::escapeBytes(s, core::BackslashEscape::kKeep);
}

template <typename T>
json orNull(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json textOrNull(const std::optional<std::string>& value) {
  return value ? json(logText(*value)) : json(nullptr);
}

json triggerJson(const core::OomTrigger& t) {
  json flags = json::array();
  for (const auto& flag : t.gfp_flags)
    flags.push_back(logText(flag));
  return {{"comm", logText(t.comm)},
          {"pid", orNull(t.pid)},
          {"gfp_mask", logText(t.gfp_mask)},
          {"gfp_flags", flags},
          {"order", t.order},
          {"oom_score_adj", orNull(t.oom_score_adj)},
          {"oom_adj", orNull(t.oom_adj)},
          {"oomkilladj", orNull(t.oomkilladj)}};
}

json victimJson(const core::OomVictim& v) {
  return {{"pid", v.pid},
          {"comm", logText(v.comm)},
          {"total_vm_kb", orNull(v.total_vm_kb)},
          {"anon_rss_kb", orNull(v.anon_rss_kb)},
          {"file_rss_kb", orNull(v.file_rss_kb)},
          {"shmem_rss_kb", orNull(v.shmem_rss_kb)},
          {"uid", orNull(v.uid)},
          {"pgtables_kb", orNull(v.pgtables_kb)},
          {"oom_score_adj", orNull(v.oom_score_adj)},
          {"score", orNull(v.score)}};
}

json taskJson(const core::OomTask& t) {
  return {{"pid", t.pid},
          {"uid", t.uid},
          {"tgid", orNull(t.tgid)},
          {"total_vm_pages", t.total_vm_pages},
          {"rss_pages", t.rss_pages},
          {"rss_anon_pages", orNull(t.rss_anon_pages)},
          {"rss_file_pages", orNull(t.rss_file_pages)},
          {"rss_shmem_pages", orNull(t.rss_shmem_pages)},
          {"pgtables_bytes", orNull(t.pgtables_bytes)},
          {"nr_ptes", orNull(t.nr_ptes)},
          {"nr_pmds", orNull(t.nr_pmds)},
          {"nr_puds", orNull(t.nr_puds)},
          {"cpu", orNull(t.cpu)},
          {"oom_adj", orNull(t.oom_adj)},
          {"swapents", orNull(t.swapents)},
          {"oom_score_adj", t.oom_score_adj},
          {"name", logText(t.name)}};
}

json reapedJson(const core::OomReaped& r) {
  return {{"pid", r.pid},
          {"comm", logText(r.comm)},
          {"anon_rss_kb", orNull(r.anon_rss_kb)},
          {"file_rss_kb", orNull(r.file_rss_kb)},
          {"shmem_rss_kb", orNull(r.shmem_rss_kb)}};
}

// NOTE: field names are part of the external format (docs/json.md); do not rename.
json reportJson(const core::OomReport& r) {
  json tasks = json::array();
  for (const auto& t : r.tasks)
    tasks.push_back(taskJson(t));
  json group_killed = json::array();
  for (const auto& v : r.group_killed)
    group_killed.push_back(victimJson(v));
  // A kill whose header was rate-limited has no trigger line at all: null, not zeros.
  const bool has_trigger = !r.trigger.comm.empty() || !r.trigger.gfp_mask.empty();
  return {{"kernel_version", textOrNull(r.kernel_version)},
          {"timestamp", textOrNull(r.timestamp)},
          {"host", textOrNull(r.host)},
          {"trigger", has_trigger ? triggerJson(r.trigger) : json(nullptr)},
          {"task_memcg", textOrNull(r.task_memcg)},
          {"nodemask", textOrNull(r.nodemask)},
          {"cpuset", textOrNull(r.cpuset)},
          {"mems_allowed", textOrNull(r.mems_allowed)},
          {"oom_group", textOrNull(r.oom_group)},
          {"group_killed", group_killed},
          {"no_killable", r.no_killable},
          {"panic", textOrNull(r.panic)},
          {"scope", r.memcg ? "memcg" : "global"},
          {"manual", r.manual},
          {"constraint", textOrNull(r.constraint)},
          {"memcg", textOrNull(r.memcg_path)},
          {"memcg_usage_kb", orNull(r.memcg_usage_kb)},
          {"memcg_limit_kb", orNull(r.memcg_limit_kb)},
          {"victim", r.victim ? victimJson(*r.victim) : json(nullptr)},
          {"tasks", tasks},
          {"reaped", r.reaped ? reapedJson(*r.reaped) : json(nullptr)},
          {"complete", r.complete},
          {"lines", {r.first_line, r.last_line}}};
}

json counterJson(const KernelOomKill& kill) {
  const auto& memcg = kill.memcg;
  return {{"source", "counter"},
          {"scope", memcg ? "memcg" : "global"},
          {"memcg", memcg ? json(core::escapeBytes(*memcg)) : json(nullptr)},
          {"kills", kill.kills},
          {"victim", nullptr},
          {"complete", false}};
}

json watchJson(const KernelOomKill& kill) {
  if (kill.source == KernelOomSource::kCounter || !kill.report) return counterJson(kill);
  json out = reportJson(*kill.report);
  out["source"] = "kmsg";
  return out;
}

double epochSeconds(SteadyTime time, std::chrono::nanoseconds wall_offset) {
  return std::chrono::duration<double>(time.time_since_epoch() + wall_offset).count();
}

}  // namespace

std::string formatOomReportJson(const core::OomReport& report) {
  return reportJson(report).dump();
}

std::string formatWatchKillJson(const KernelOomKill& kill) {
  return watchJson(kill).dump();
}

std::string formatKernelOomKillJson(const KernelOomKill& kill,
                                    std::chrono::nanoseconds wall_offset) {
  json out = watchJson(kill);
  out["type"] = "kernel_oom_kill";
  out["seen"] = epochSeconds(kill.seen, wall_offset);
  return out.dump();
}

}  // namespace oomkit::daemon
