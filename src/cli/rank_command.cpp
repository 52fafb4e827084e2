// `oomkit rank`: every process in the order the kernel's OOM killer would kill them.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "oomkit/core/text.h"

#include "commands.h"
#include "rank_json.h"
#include "ranking_view.h"
#include "table.h"
#include "verify.h"

namespace oomkit::cli {
namespace {

struct RankOptions {
  RootOptions roots;
  std::string cgroup;
  size_t top = 0;  // 0 = all
  bool all = false;
  bool json = false;
  bool verify = false;
  std::string formula;
};

std::vector<const core::RankedProcess*> selectShown(const RankingView& view, const RankOptions& o) {
  std::vector<const core::RankedProcess*> shown;
  for (const auto& entry : view.ranked) {
    if (!o.all && !entry.badness.eligible()) continue;
    if (o.top != 0 && entry.badness.eligible() && entry.rank > o.top) continue;
    shown.push_back(&entry);
  }
  return shown;
}

std::vector<std::string> humanRow(const RankingView& view, const core::RankedProcess& entry,
                                  sys::UserNames& users) {
  const core::Process& p = view.processOf(entry);
  const bool eligible = entry.badness.eligible();
  return {
      eligible ? std::to_string(entry.rank) : "-",
      std::to_string(p.pid),
      users.nameOf(p.uid),
      humanKb(p.memory.rss_anon_kb),
      humanKb(p.memory.rss_file_kb),
      humanKb(p.memory.rss_shmem_kb),
      humanKb(p.memory.swap_kb),
      humanKb(p.memory.pgtables_kb),
      std::to_string(p.oom_score_adj),
      eligible ? std::to_string(entry.badness.points)
               : std::string(core::eligibilityName(entry.badness.eligibility)),
      std::to_string(entry.oom_score),
      p.kernel_oom_score ? std::to_string(*p.kernel_oom_score) : "?",
      core::escapeBytes(p.comm),
  };
}

void printHuman(const RankingView& view, const RankOptions& o, sys::UserNames& users) {
  std::cout << describeScope(view) << '\n';
  using A = Table::Align;
  Table table({{"RANK"},
               {"PID"},
               {"USER", A::kLeft},
               {"ANON"},
               {"FILE"},
               {"SHMEM"},
               {"SWAP"},
               {"PGTBL"},
               {"ADJ"},
               {"BADNESS"},
               {"SCORE"},
               {"KSCORE"},
               {"NAME", A::kLeft}});
  for (const auto* entry : selectShown(view, o))
    table.addRow(humanRow(view, *entry, users));
  table.print(std::cout);
}

void printVerifyHuman(const VerifyResult& v) {
  std::cout << fmt::format(
      "\nverify: {} processes compared with /proc/PID/oom_score, {} mismatches", v.checked,
      v.mismatches.size());
  if (v.unsettled) std::cout << fmt::format(", {} changed or exited while re-read", v.unsettled);
  if (v.unreadable) std::cout << fmt::format(", {} without a readable oom_score", v.unreadable);
  std::cout << '\n';
  for (const auto& m : v.mismatches) {
    std::cout << fmt::format("  MISMATCH pid {} ({}): ours {}, kernel {} (badness {} pages)\n",
                             m.pid, core::escapeBytes(m.comm), m.ours, m.kernel, m.badness);
  }
}

nlohmann::json verifyJson(const VerifyResult& v) {
  nlohmann::json mismatches = nlohmann::json::array();
  for (const auto& m : v.mismatches) {
    mismatches.push_back({{"pid", m.pid},
                          {"comm", core::escapeBytes(m.comm)},
                          {"oom_score", m.ours},
                          {"kernel_oom_score", m.kernel},
                          {"badness", m.badness}});
  }
  return {{"checked", v.checked},
          {"unsettled", v.unsettled},
          {"unreadable", v.unreadable},
          {"mismatches", mismatches}};
}

int runRank(const RankOptions& o) {
  auto proc = sys::ProcReader::open(o.roots.proc_root);
  if (!proc) {
    std::cerr << "oomkit rank: " << proc.error().message << '\n';
    return kExitBadInput;
  }
  if (o.verify && !o.formula.empty()) {
    std::cerr << "oomkit rank: --verify compares with the running kernel, so it uses the "
                 "kernel's formula; drop --formula\n";
    return kExitBadInput;
  }
  const std::optional<std::string> cgroup =
      o.cgroup.empty() ? std::nullopt : std::optional(o.cgroup);
  // Text output needs no start time, cmdline or cgroup: stat only where ties need it.
  const unsigned fields =
      o.json ? sys::kFieldsAll : sys::kFieldStatus | sys::kFieldAdj | sys::kFieldKernelScore;
  auto view = buildRankingView(*proc, o.roots, cgroup, o.formula, fields);
  if (!view) {
    std::cerr << "oomkit rank: " << view.error().message << '\n';
    return kExitBadInput;
  }
  std::optional<VerifyResult> verified;
  if (o.verify) verified = verifyOomScores(*proc, *view);
  sys::UserNames users;
  if (o.json) {
    nlohmann::json out = {{"scope", scopeToJson(*view)},
                          {"counters", countersToJson(view->scope.counters)}};
    out["processes"] = nlohmann::json::array();
    for (const auto* entry : selectShown(*view, o)) {
      out["processes"].push_back(processToJson(*view, *entry, users));
    }
    if (verified) out["verify"] = verifyJson(*verified);
    std::cout << out.dump() << '\n';
  } else {
    printHuman(*view, o, users);
    if (verified) printVerifyHuman(*verified);
  }
  return verified && !verified->mismatches.empty() ? kExitCheckFailed : kExitOk;
}

}  // namespace

void addRootOptions(CLI::App& command, RootOptions& roots) {
  command.add_option("--proc-root", roots.proc_root, "procfs to read (default /proc)");
  command.add_option("--cgroup-root", roots.cgroup_roots,
                     "cgroup filesystem root(s) to search for the memory controller "
                     "(default: from mountinfo)");
}

void addRankCommand(CLI::App& app, CommandRunner& run) {
  auto options = std::make_shared<RankOptions>();
  CLI::App* cmd =
      app.add_subcommand("rank", "Processes in the order the kernel's OOM killer would kill them");
  addRootOptions(*cmd, options->roots);
  cmd->add_option("--cgroup", options->cgroup,
                  "rank inside this memory cgroup (path as /proc/PID/cgroup shows it), at its "
                  "limit's scale, as the memcg OOM killer does");
  cmd->add_option("--top", options->top, "show only the first N victims");
  cmd->add_flag("--all", options->all, "also list processes the kernel never chooses");
  cmd->add_flag("--json", options->json, "one JSON object (docs/json.md)");
  cmd->add_flag("--verify", options->verify,
                "compare our oom_score with /proc/PID/oom_score; exit 1 on a mismatch");
  cmd->add_option("--formula", options->formula,
                  "badness formula: current (5.9+), 4.17, 3.14, 3.10 (default: the kernel's)");
  cmd->callback([options, &run] { run = [options] { return runRank(*options); }; });
}

}  // namespace oomkit::cli
