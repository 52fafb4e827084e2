#include "oomkit/core/process.h"

namespace oomkit::core {
namespace {

// SIGKILL is signal 9 on every Linux architecture; the masks put signal N at bit N-1.
constexpr uint64_t kSigkillBit = uint64_t{1} << 8;

}  // namespace

Process buildProcess(const ProcStat& stat, const ProcStatus& status, int32_t oom_score_adj) {
  Process p;
  p.pid = stat.pid;
  p.start_time_ticks = stat.start_time_ticks;
  p.comm = stat.comm;
  p.state = stat.state;
  p.flags = stat.flags;
  p.uid = status.uid;
  p.cap_eff = status.cap_eff;
  p.has_mm = status.has_mm;
  p.sigkill_pending = ((status.sig_pnd | status.shd_pnd) & kSigkillBit) != 0;
  p.memory.rss_anon_kb = status.rss_anon_kb;
  p.memory.rss_file_kb = status.rss_file_kb;
  p.memory.rss_shmem_kb = status.rss_shmem_kb;
  if (!status.has_rss_split) {
    // Before 4.5 only the total is printed; badness only needs the total.
    p.memory.rss_anon_kb = status.vm_rss_kb;
  }
  p.memory.swap_kb = status.vm_swap_kb;
  p.memory.pgtables_kb = status.vm_pte_kb + status.vm_pmd_kb;
  p.oom_score_adj = oom_score_adj;
  return p;
}

std::string cmdlineFromProc(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0')
    raw.remove_suffix(1);
  std::string out(raw);
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  return out;
}

}  // namespace oomkit::core
