#include "scope_detectors.h"

#include <poll.h>
#include <sys/epoll.h>

#include <memory>

#include "oomkit/sys/memcg_events.h"
#include "oomkit/sys/psi_monitor.h"
#include "oomkit/sys/takeover.h"

namespace oomkit::daemon {
namespace {

std::string where(const core::ScopeConfig& scope) {
  return "scope " + scope.name + ": ";
}

// PSI: a trigger fd per threshold (POLLPRI), or a sampling timer.
void addPsi(const core::ScopeConfig& scope, const DetectorContext& context,
            std::vector<ExtraDetector>& out) {
  sys::PsiSpec spec;
  if (scope.isGlobal()) {
    spec.pressure_file = context.proc_root + "/pressure/memory";
  } else if (context.memory && context.memory->version == core::CgroupVersion::kV2) {
    const auto dir = context.memory->dirOf(*scope.cgroup);
    if (!dir) return;
    spec.pressure_file = *dir + "/memory.pressure";
  } else {
    context.log(where(scope) + "PSI off: per-cgroup pressure needs cgroup v2 (memory.pressure)");
    return;
  }
  spec.some_threshold = scope.psi->some_threshold;
  spec.full_threshold = scope.psi->full_threshold;
  spec.window = scope.psi->window;
  auto opened = sys::PsiMonitor::open(spec);
  if (!opened) {
    context.log(where(scope) + "PSI off: " + opened.error().message);
    return;
  }
  context.log(where(scope) + "PSI " + opened->describe());
  auto monitor = std::make_shared<sys::PsiMonitor>(std::move(*opened));
  auto log = context.log;
  const std::string prefix = where(scope);
  if (monitor->mode() == sys::PsiMode::kSampling) {
    ExtraDetector d;
    d.name = "psi";
    d.sample_every = monitor->samplingInterval();
    d.on_sample = [monitor, log, prefix]() -> std::optional<std::string> {
      auto fired = monitor->sample(std::chrono::steady_clock::now());
      if (!fired) {
        log(prefix + "PSI: " + fired.error().message);
        return std::nullopt;
      }
      return *fired ? std::optional<std::string>("psi") : std::nullopt;
    };
    out.push_back(std::move(d));
    return;
  }
  for (const int fd : monitor->fds()) {
    ExtraDetector d;
    d.name = "psi";
    d.fd = fd;
    d.events = EPOLLPRI;
    d.on_ready = [monitor, fd, log, prefix](uint32_t revents) -> std::optional<std::string> {
      auto fired = monitor->onEvent(fd, static_cast<short>(revents));
      if (!fired) {
        log(prefix + "PSI: " + fired.error().message);
        return std::nullopt;
      }
      return *fired ? std::optional<std::string>("psi") : std::nullopt;
    };
    out.push_back(std::move(d));
  }
}

// The kernel's memcg OOM notification: v1 eventfd (takeover) or v2 memory.events (inotify).
Result<ExtraDetector> memcgDetector(const core::ScopeConfig& scope, const DetectorContext& context,
                                    bool urgent, std::string trigger) {
  auto events = sys::MemcgOomEvents::open(*context.memory, *scope.cgroup);
  if (!events) return Unexpected(events.error());
  auto shared = std::make_shared<sys::MemcgOomEvents>(std::move(*events));
  auto log = context.log;
  const std::string prefix = where(scope);
  ExtraDetector d;
  d.name = trigger;
  d.fd = shared->fd();
  d.events = EPOLLIN;
  d.urgent = urgent;
  d.on_ready = [shared, log, prefix, trigger](uint32_t) -> std::optional<std::string> {
    auto delta = shared->onReadable();
    if (!delta) {
      log(prefix + trigger + ": " + delta.error().message);
      return std::nullopt;
    }
    return delta->outOfMemory() ? std::optional<std::string>(trigger) : std::nullopt;
  };
  return d;
}

Status addTakeover(const core::ScopeConfig& scope, const DetectorContext& context,
                   std::vector<ExtraDetector>& out) {
  if (context.dry_run) {
    context.log(where(scope) +
                "takeover not engaged in a dry run (nothing would resolve the kernel's OOM)");
    return Ok{};
  }
  if (!context.state) {
    return makeError(Errc::kUnavailable,
                     where(scope) + "takeover needs the state directory (to repair a crash)");
  }
  auto takeover = sys::Takeover::engage(*context.state, *context.memory, *scope.cgroup);
  if (!takeover) return Unexpected(takeover.error().wrap(where(scope) + "takeover"));
  auto held = std::make_shared<sys::Takeover>(std::move(*takeover));
  auto detector = memcgDetector(scope, context, /*urgent=*/true, "memcg_oom");
  if (!detector) {
    (void)held->release();
    return Unexpected(detector.error().wrap(where(scope) + "takeover"));
  }
  auto log = context.log;
  const std::string prefix = where(scope);
  detector->on_stop = [held, log, prefix] {
    if (auto released = held->release(); !released) {
      log(prefix + "restoring oom_kill_disable failed: " + released.error().message);
    }
  };
  context.log(prefix + "takeover: oom_kill_disable=1 (was " +
              (held->originalOomKillDisable() ? "1" : "0") +
              "); the kernel's OOM in this cgroup now waits for oomkit");
  out.push_back(std::move(*detector));
  return Ok{};
}

}  // namespace

Result<std::vector<ExtraDetector>> buildDetectors(const core::ScopeConfig& scope,
                                                  const DetectorContext& context) {
  std::vector<ExtraDetector> detectors;
  if (scope.psi) addPsi(scope, context, detectors);
  if (scope.isGlobal() || !context.memory) return detectors;
  if (scope.takeover) {
    if (auto added = addTakeover(scope, context, detectors); !added) {
      for (auto& d : detectors) {
        if (d.on_stop) d.on_stop();
      }
      return Unexpected(added.error());
    }
  } else if (context.memory->version == core::CgroupVersion::kV2) {
    // v2 memory.events "max"/"oom": the cgroup is at its limit right now. The kernel handles
    // its own OOM; oomkit runs its path too, on its own policy, as a last early chance.
    auto detector = memcgDetector(scope, context, /*urgent=*/false, "memcg_events");
    if (detector) {
      detectors.push_back(std::move(*detector));
    } else {
      context.log(where(scope) + "memory.events watch off: " + detector.error().message);
    }
  }
  return detectors;
}

}  // namespace oomkit::daemon
