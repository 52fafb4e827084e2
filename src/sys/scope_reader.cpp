#include "oomkit/sys/scope_reader.h"

#include <unistd.h>

#include "oomkit/core/scope.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

constexpr int32_t kDefaultSwappiness = 60;  // mm/vmscan.c vm_swappiness

Result<core::Formula> chooseFormula(const ScopeRequest& request, const MachineMemory& machine) {
  if (request.formula) return *request.formula;
  if (auto formula = core::formulaForRelease(machine.kernel_release)) return *formula;
  return makeError(Errc::kInvalidArgument,
                   "cannot tell the badness formula of kernel '" + machine.kernel_release +
                       "'; choose one with --formula (current, 4.17, 3.14, 3.10)");
}

// The pids of one cgroup, from its cgroup.procs.
std::vector<int32_t> pidsOf(const std::string& dir) {
  std::vector<int32_t> pids;
  auto text = readFile(dir + "/cgroup.procs");
  if (!text) return pids;  // removed meanwhile: no processes
  core::forEachLine(*text, [&pids](std::string_view line) {
    if (auto pid = core::parseU64(core::trim(line)); pid && *pid <= INT32_MAX) {
      pids.push_back(static_cast<int32_t>(*pid));
    }
  });
  return pids;
}

void readMembers(ProcReader& proc, const MemoryHierarchy& h, const std::vector<std::string>& paths,
                 unsigned fields, ScopeView& view) {
  for (const auto& path : paths) {
    const auto dir = h.dirOf(path);
    if (!dir) continue;
    for (const int32_t pid : pidsOf(*dir)) {
      ++view.counters.listed;
      auto process = proc.readProcess(pid, fields & ~kFieldCgroup);
      if (!process) {
        if (process.error().code == Errc::kNotFound) {
          ++view.counters.vanished;
        } else {
          ++view.counters.malformed;
          view.counters.problems.push_back(process.error().message);
        }
        continue;
      }
      process->memcg_path = path;  // the kernel's membership, not a re-read
      view.processes.push_back(std::move(*process));
    }
  }
  view.counters.captured = view.processes.size();
}

// Without stat for everyone, the walk order (start time) is read only where it matters: for
// processes whose badness ties with another's. Identity fields come from stat there.
void readWalkOrderOfTies(ProcReader& proc, ScopeView& view) {
  for (const size_t i : core::tiedProcesses(view.processes, view.params)) {
    core::Process& p = view.processes[i];
    auto stat = proc.readStat(p.pid);
    if (!stat || stat->pid != p.pid) continue;  // exited: its place no longer matters
    p.start_time_ticks = stat->start_time_ticks;
    p.flags = stat->flags;
    p.comm = std::move(stat->comm);
  }
}

Status gatherMemcg(ProcReader& proc, const ScopeRequest& request, ScopeView& view,
                   int32_t swappiness) {
  auto hierarchy = findMemoryHierarchy(proc, request.cgroup_roots);
  if (!hierarchy) return Unexpected(hierarchy.error());
  auto chain = readMemcgChain(*hierarchy, *request.cgroup, swappiness);
  if (!chain) return Unexpected(chain.error());
  const uint64_t swap_pages = view.machine.meminfo.swap_total_kb / view.machine.page_size_kb;
  auto scope =
      core::resolveMemcgScope(*chain, hierarchy->version, swap_pages, view.machine.page_size_kb);
  view.requested_path = *request.cgroup;
  if (!scope) {
    if (scope.error().code != Errc::kNotFound) return Unexpected(scope.error());
    view.note = scope.error().message + "; showing the global ranking";
    return Ok{};  // caller falls back to the global scope
  }
  view.is_memcg = true;
  view.hierarchy = hierarchy->version == core::CgroupVersion::kV1 ? "v1" : "v2";
  view.path = scope->oom_path;
  view.note = scope->note;
  view.limit_bytes = scope->limit_bytes;
  view.params.scale.totalpages = scope->totalpages;
  auto preorder = listSubtreePreorder(*hierarchy, scope->oom_path);
  if (!preorder) return Unexpected(preorder.error());
  readMembers(proc, *hierarchy, *preorder, request.fields, view);
  if (!(request.fields & kFieldStat)) readWalkOrderOfTies(proc, view);
  core::sortInWalkOrder(view.processes, *preorder);
  return Ok{};
}

Status gatherGlobal(ProcReader& proc, unsigned fields, ScopeView& view) {
  auto snap = proc.snapshot(fields);
  if (!snap) return Unexpected(snap.error());
  view.processes = std::move(snap->processes);
  view.counters = std::move(snap->counters);
  view.params.scale.totalpages = view.machine.global_totalpages;
  if (!(fields & kFieldStat)) readWalkOrderOfTies(proc, view);
  core::sortInWalkOrder(view.processes);
  return Ok{};
}

}  // namespace

Result<MachineMemory> readMachineMemory(ProcReader& proc) {
  MachineMemory machine;
  auto meminfo = proc.readMemInfo();
  if (!meminfo) return Unexpected(meminfo.error());
  machine.meminfo = *meminfo;
  const long page_size = ::sysconf(_SC_PAGESIZE);
  machine.page_size_kb = page_size >= 1024 ? static_cast<uint64_t>(page_size) / 1024 : 4;
  machine.global_totalpages = core::globalTotalPages(machine.meminfo, machine.page_size_kb);
  if (machine.global_totalpages == 0) machine.global_totalpages = 1;
  if (auto release = proc.readOsRelease()) machine.kernel_release = *release;
  return machine;
}

Result<ScopeView> gatherScope(ProcReader& proc, const ScopeRequest& request) {
  ScopeView view;
  auto machine = readMachineMemory(proc);
  if (!machine) return Unexpected(machine.error());
  view.machine = std::move(*machine);
  auto formula = chooseFormula(request, view.machine);
  if (!formula) return Unexpected(formula.error());
  view.formula_from_kernel = !request.formula;
  view.params.formula = *formula;
  view.params.scale.page_size_kb = view.machine.page_size_kb;
  view.params.global_totalpages = view.machine.global_totalpages;

  if (request.cgroup) {
    const int32_t swappiness = proc.readVmSwappiness().value_or(kDefaultSwappiness);
    if (auto s = gatherMemcg(proc, request, view, swappiness); !s) return Unexpected(s.error());
    if (view.is_memcg) return view;
  }
  if (auto s = gatherGlobal(proc, request.fields, view); !s) return Unexpected(s.error());
  return view;
}

}  // namespace oomkit::sys
