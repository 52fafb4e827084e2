// `oomkit explain PID`: the badness formula with one process's numbers, its rank, who goes
// before it, and which oom_score_adj would protect it.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "oomkit/core/text.h"

#include "commands.h"
#include "rank_json.h"
#include "ranking_view.h"

namespace oomkit::cli {
namespace {

constexpr size_t kShownAhead = 10;

struct ExplainOptions {
  RootOptions roots;
  int32_t pid = 0;
  std::string cgroup;
  std::string formula;
  bool json = false;
};

const core::RankedProcess* findPid(const RankingView& view, int32_t pid) {
  for (const auto& entry : view.ranked) {
    if (view.processOf(entry).pid == pid) return &entry;
  }
  return nullptr;
}

std::string formulaLines(const RankingView& view, const core::RankedProcess& entry) {
  const core::Process& p = view.processOf(entry);
  const core::BadnessTerms& t = entry.badness.terms;
  const auto formula = view.scope.params.formula;
  std::string out =
      fmt::format("badness = rss + swap + page tables{} + oom_score_adj x (totalpages / 1000)\n",
                  formula == core::Formula::kV3_14 ? " - 3% root bonus" : "");
  out += fmt::format("        = {} + {} + {}{} + {} x ({} / 1000)\n", t.rss_pages, t.swap_pages,
                     t.pgtables_pages,
                     t.root_bonus_pages ? fmt::format(" - {}", t.root_bonus_pages) : "", t.adj,
                     view.scope.params.scale.totalpages);
  out += fmt::format("        = {} pages", entry.badness.points);
  if (formula == core::Formula::kV3_10 && t.adj != p.oom_score_adj) {
    out += " (oom_score_adj lowered by 30 for CAP_SYS_ADMIN)";
  }
  out += fmt::format("\n  rss {} = anon {} kB + file {} kB + shmem {} kB, in {} kB pages\n",
                     t.rss_pages, p.memory.rss_anon_kb, p.memory.rss_file_kb, p.memory.rss_shmem_kb,
                     view.scope.machine.page_size_kb);
  return out;
}

std::string oomScoreLine(const RankingView& view, const core::RankedProcess& entry) {
  const core::Process& p = view.processOf(entry);
  const auto kernel = p.kernel_oom_score ? std::to_string(*p.kernel_oom_score) : "unreadable";
  const char* how = view.scope.params.formula == core::Formula::kCurrent
                        ? "(1000 + badness x 1000 / global totalpages) x 2 / 3"
                        : "badness x 1000 / global totalpages";
  return fmt::format("oom_score = {} = {} (the kernel says {})\n", how, entry.oom_score, kernel);
}

std::string aheadLines(const RankingView& view, const core::RankedProcess& entry) {
  if (entry.rank <= 1) return "it is the next victim: an OOM in this scope now would kill it\n";
  std::string out = fmt::format("{} processes would be killed before it:\n", entry.rank - 1);
  for (const auto& other : view.ranked) {
    if (other.rank == 0 || other.rank >= entry.rank || other.rank > kShownAhead) continue;
    const core::Process& o = view.processOf(other);
    out += fmt::format("  {:>3}. pid {} ({}) badness {}\n", other.rank, o.pid,
                       core::escapeBytes(o.comm), other.badness.points);
  }
  if (entry.rank - 1 > kShownAhead) out += "  ...\n";
  return out;
}

// Whether `entry` wins a tie against `rival`: the later one in the walk, on kernels where
// the later one wins.
bool winsTie(const RankingView& view, const core::RankedProcess& entry,
             const core::RankedProcess& rival) {
  const bool later = entry.index > rival.index;
  return core::laterWinsTies(view.scope.params.formula) ? later : !later;
}

std::string protectionLines(const RankingView& view, const core::RankedProcess& entry) {
  const core::Process& p = view.processOf(entry);
  // Lowering oom_score_adj below its floor needs CAP_SYS_RESOURCE (fs/proc/base.c).
  std::string out =
      "oom_score_adj -1000 makes it never chosen (values below 0 need CAP_SYS_RESOURCE)\n";
  const core::RankedProcess* rival = nullptr;
  for (const auto& other : view.ranked) {
    if (other.rank == 1 && &other != &entry) rival = &other;
    if (other.rank == 2 && entry.rank == 1) rival = &other;
  }
  if (rival == nullptr) return out + "it is the only eligible process in this scope\n";
  const core::Process& r = view.processOf(*rival);
  const auto adj = core::highestAdjBelow(p, rival->badness.points, winsTie(view, entry, *rival),
                                         view.scope.params);
  const std::string target = fmt::format("pid {} ({}, badness {})", r.pid,
                                         core::escapeBytes(r.comm), rival->badness.points);
  if (!adj) return out + "no oom_score_adj above -1000 puts it behind " + target + "\n";
  return out + fmt::format("oom_score_adj {} or lower puts it behind {}{}\n", *adj, target,
                           entry.rank == 1 ? "" : ", the next victim");
}

void printHuman(const RankingView& view, const core::RankedProcess& entry) {
  const core::Process& p = view.processOf(entry);
  sys::UserNames users;
  std::cout << fmt::format("pid {} ({}), user {}, oom_score_adj {}\n", p.pid,
                           core::escapeBytes(p.comm), users.nameOf(p.uid), p.oom_score_adj);
  std::cout << describeScope(view) << '\n';
  if (!entry.badness.eligible()) {
    std::cout << "never chosen by the OOM killer: "
              << core::eligibilityName(entry.badness.eligibility) << '\n';
    return;
  }
  std::cout << formulaLines(view, entry) << oomScoreLine(view, entry) << '\n'
            << fmt::format("rank {} of {} eligible\n", entry.rank, view.eligibleCount())
            << aheadLines(view, entry) << '\n'
            << protectionLines(view, entry);
}

int runExplain(const ExplainOptions& o) {
  auto proc = sys::ProcReader::open(o.roots.proc_root);
  if (!proc) {
    std::cerr << "oomkit explain: " << proc.error().message << '\n';
    return kExitBadInput;
  }
  const std::optional<std::string> cgroup =
      o.cgroup.empty() ? std::nullopt : std::optional(o.cgroup);
  auto view = buildRankingView(*proc, o.roots, cgroup, o.formula, sys::kFieldsAll);
  if (!view) {
    std::cerr << "oomkit explain: " << view.error().message << '\n';
    return kExitBadInput;
  }
  const core::RankedProcess* entry = findPid(*view, o.pid);
  if (entry == nullptr) {
    std::cerr << fmt::format(
        "oomkit explain: pid {} is not {}\n", o.pid,
        view->scope.is_memcg ? "in cgroup " + view->scope.path : "running (or could not be read)");
    return kExitBadInput;
  }
  if (o.json) {
    sys::UserNames users;
    nlohmann::json out = {{"scope", scopeToJson(*view)},
                          {"process", processToJson(*view, *entry, users)}};
    std::cout << out.dump() << '\n';
  } else {
    printHuman(*view, *entry);
  }
  return kExitOk;
}

}  // namespace

void addExplainCommand(CLI::App& app, CommandRunner& run) {
  auto options = std::make_shared<ExplainOptions>();
  CLI::App* cmd =
      app.add_subcommand("explain", "Why a process ranks where it does for the OOM killer");
  addRootOptions(*cmd, options->roots);
  cmd->add_option("pid", options->pid, "the process")->required();
  cmd->add_option("--cgroup", options->cgroup, "explain inside this memory cgroup's OOM");
  cmd->add_option("--formula", options->formula, "badness formula (default: the kernel's)");
  cmd->add_flag("--json", options->json, "the process as `rank --json` shows it");
  cmd->callback([options, &run] { run = [options] { return runExplain(*options); }; });
}

}  // namespace oomkit::cli
