#include "oomkit/sys/stand_in.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

// The stand-in's whole life, in the child of fork(): only async-signal-safe calls, since the
// daemon may already have other threads (the release thread), whose locks a fork copies held.
// It may well be killed before it ever runs: nothing here is needed for the rehearsal.
[[noreturn]] void standInMain(pid_t parent) {
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);  // the daemon is already gone
  // The daemon's files (its lock files, event log, epoll) are none of the stand-in's business.
  (void)::close_range(3, ~0U, 0);
  (void)::prctl(PR_SET_NAME, StandIn::kComm);
  for (;;)
    ::pause();
}

// Reaps the stand-in, first killing it if it still runs (the rehearsal has normally killed it:
// then no kill(), whose code would otherwise stay resident for nothing).
void killAndReap(pid_t pid) {
  if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
  (void)::kill(pid, SIGKILL);  // our unreaped child: its pid cannot name another process
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<StandIn> StandIn::start(ProcReader& proc) {
  const pid_t parent = ::getpid();
  // Every signal blocked across the fork, and in the child for good: no handler of ours ever
  // runs there, and only SIGKILL ends it (a scope's SIGTERM-first kill sends SIGKILL too).
  sigset_t all;
  sigset_t before;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  const pid_t pid = ::fork();
  if (pid == 0) standInMain(parent);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) return Unexpected(systemError("fork", fork_errno));
  // Raised from here rather than by the child, so that nothing waits for the child to run.
  // Raising is always allowed, and the file belongs to our own uid.
  const std::string adj = proc.root() + "/" + std::to_string(pid) + "/oom_score_adj";
  if (auto raised = writeFile(adj, "1000"); !raised) {
    killAndReap(pid);
    return Unexpected(raised.error().wrap("the stand-in's oom_score_adj"));
  }
  auto process = proc.readProcess(pid, kFieldStat | kFieldAdj);
  if (!process) {
    killAndReap(pid);
    return Unexpected(process.error().wrap("the stand-in"));
  }
  return StandIn(std::move(*process));
}

StandIn::StandIn(StandIn&& other) noexcept : process_(std::exchange(other.process_, {})) {}

StandIn& StandIn::operator=(StandIn&& other) noexcept {
  if (this != &other) {
    if (process_.pid > 0) killAndReap(process_.pid);
    process_ = std::exchange(other.process_, {});
  }
  return *this;
}

StandIn::~StandIn() {
  if (process_.pid > 0) killAndReap(process_.pid);
}

}  // namespace oomkit::sys
