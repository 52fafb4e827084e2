#include "oomkit/daemon/oom_event_json.h"

#include <nlohmann/json.hpp>

#include "oomkit/core/kill_rules.h"
#include "oomkit/core/text.h"

namespace oomkit::daemon {
namespace {

using nlohmann::json;

double epochSeconds(SteadyTime time, std::chrono::nanoseconds wall_offset) {
  const auto wall = time.time_since_epoch() + wall_offset;
  return std::chrono::duration<double>(wall).count();
}

json optionalTime(const std::optional<SteadyTime>& time, std::chrono::nanoseconds offset) {
  return time ? json(epochSeconds(*time, offset)) : json(nullptr);
}

template <class T>
json optionalValue(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json escapedOrNull(const std::optional<std::string>& text) {
  return text ? json(core::escapeBytes(*text)) : json(nullptr);
}

json stepsJson(const std::vector<core::StepRecord>& steps) {
  json out = json::array();
  for (const auto& step : steps) {
    out.push_back({{"step", core::stepName(step.step)},
                   {"outcome", step.outcome},
                   {"reason", core::escapeBytes(step.reason)}});
  }
  return out;
}

json handlersJson(const std::vector<sys::HandlerOutcome>& handlers) {
  json out = json::array();
  for (const auto& h : handlers) {
    out.push_back({{"name", core::escapeBytes(h.name)},
                   {"type", h.type},
                   {"priority", h.priority},
                   {"result", h.result},
                   {"stop", (h.result & core::kNotifyStopMask) != 0},
                   {"freed_bytes", h.freed_bytes},
                   {"note", core::escapeBytes(h.note)}});
  }
  return out;
}

json victimJson(const std::optional<EventVictim>& victim) {
  if (!victim) return nullptr;
  const EventVictim& v = *victim;
  json out = {{"pid", v.pid},
              {"start_time_ticks", v.start_time_ticks},
              {"comm", core::escapeBytes(v.comm)},
              {"cgroup", v.cgroup.empty() ? json(nullptr) : json(core::escapeBytes(v.cgroup))},
              {"uid", v.uid},
              {"chosen_by", v.chosen_by},
              {"oom_score_adj", v.oom_score_adj},
              {"badness", v.badness},
              {"oom_score", v.oom_score},
              {"rss_kb", v.memory.rssKb()},
              {"anon_rss_kb", v.memory.rss_anon_kb},
              {"file_rss_kb", v.memory.rss_file_kb},
              {"shmem_rss_kb", v.memory.rss_shmem_kb},
              {"swap_kb", v.memory.swap_kb},
              {"pgtables_kb", v.memory.pgtables_kb}};
  if (v.chosen_by == "allocating_task") out["grew_bytes"] = v.grew_bytes;
  return out;
}

json killJson(const std::optional<sys::KillReport>& kill) {
  if (!kill) return nullptr;
  json targets = json::array();
  for (const auto& t : kill->targets) {
    targets.push_back({{"pid", t.pid},
                       {"comm", core::escapeBytes(t.comm)},
                       {"role", sys::killRoleName(t.role)},
                       {"outcome", sys::killOutcomeName(t.outcome)},
                       {"release", sys::releaseOutcomeName(t.release)}});
  }
  json spared = json::array();
  for (const auto& s : kill->spared) {
    spared.push_back({{"pid", s.pid},
                      {"comm", core::escapeBytes(s.comm)},
                      {"verdict", core::verdictName(s.reason)},
                      {"message", core::escapeBytes(s.message)}});
  }
  json notes = json::array();
  for (const auto& note : kill->notes)
    notes.push_back(core::escapeBytes(note));
  return {{"targets", targets},
          {"spared", spared},
          {"uncompared_pids", kill->uncompared},
          {"oom_group", escapedOrNull(kill->oom_group)},
          {"group_method", sys::groupMethodName(kill->group_method)},
          {"usage_before_bytes", optionalValue(kill->usage_before_bytes)},
          {"notes", notes}};
}

json panicJson(const std::optional<sys::PanicOutcome>& panic, core::PanicAction action) {
  if (!panic) return nullptr;
  return {{"action", core::panicActionName(action)},
          {"carried_out", panic->carried_out},
          {"exit_code", optionalValue(panic->exit_code)},
          {"note", core::escapeBytes(panic->note)}};
}

json pendingJson(const std::optional<EventPending>& pending) {
  if (!pending) return nullptr;
  return {{"pid", pending->pid},
          {"comm", core::escapeBytes(pending->comm)},
          {"waited_seconds", pending->waited_seconds},
          {"remaining_seconds", pending->remaining_seconds}};
}

}  // namespace

std::chrono::nanoseconds wallClockOffset() {
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  const auto mono = std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(wall - mono);
}

std::string formatOomEventJson(const OomEvent& event, std::chrono::nanoseconds wall_offset) {
  const EventTimestamps& t = event.timestamps;
  json notes = json::array();
  for (const auto& note : event.notes)
    notes.push_back(core::escapeBytes(note));
  json out = {{"type", "oom"},
              {"scope", core::escapeBytes(event.scope)},
              {"cgroup", escapedOrNull(event.cgroup)},
              {"trigger", event.trigger},
              {"dry_run", event.dry_run},
              {"sysrq", event.sysrq},
              {"action", core::actionName(event.action)},
              {"reason", core::escapeBytes(event.reason)},
              {"steps", stepsJson(event.steps)},
              {"memory",
               {{"total_bytes", optionalValue(event.total_bytes)},
                {"available_bytes", optionalValue(event.available_bytes)},
                {"high_watermark_bytes", event.high_watermark_bytes},
                {"available_after_handlers_bytes", optionalValue(event.available_after_handlers)}}},
              {"handlers", handlersJson(event.handlers)},
              {"freed_bytes", event.freed_bytes},
              {"pending", pendingJson(event.pending)},
              {"victim", victimJson(event.victim)},
              {"killed_pids", event.killedPids()},
              {"kill", killJson(event.kill)},
              {"panic", panicJson(event.panic, event.panic_action)},
              {"recovered_bytes", optionalValue(event.recovered_bytes)},
              {"timed_out", event.timed_out},
              {"failed", event.failed},
              {"timestamps",
               {{"trigger", epochSeconds(t.trigger, wall_offset)},
                {"decided", epochSeconds(t.decided, wall_offset)},
                {"signalled", optionalTime(t.signalled, wall_offset)},
                {"released", optionalTime(t.released, wall_offset)},
                {"exited", optionalTime(t.exited, wall_offset)}}},
              {"cost",
               {{"heap_grew_bytes", event.cost.heap_grew_bytes},
                {"minor_faults", event.cost.minor_faults},
                {"major_faults", event.cost.major_faults}}},
              {"notes", notes}};
  return out.dump();
}

}  // namespace oomkit::daemon
