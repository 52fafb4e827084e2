#include "oomkit/daemon/scope_monitor.h"

#include <sys/epoll.h>

#include <nlohmann/json.hpp>

#include "oomkit/core/text.h"
#include "oomkit/daemon/oom_event_json.h"

namespace oomkit::daemon {
namespace {

SteadyTime now() {
  return std::chrono::steady_clock::now();
}

}  // namespace

Result<std::unique_ptr<ScopeMonitor>> ScopeMonitor::create(core::ScopeConfig scope,
                                                           RunnerPorts ports, EventLoop& loop,
                                                           MonitorOutput output, bool dry_run) {
  auto sampler = sys::ScopeSampler::open(*ports.proc, ports.memory, scope.cgroup);
  if (!sampler) return Unexpected(sampler.error().wrap("scope " + scope.name));
  auto runner = OomRunner::create(std::move(scope), std::move(ports));
  if (!runner) return Unexpected(runner.error());
  return std::unique_ptr<ScopeMonitor>(
      new ScopeMonitor(std::move(*runner), std::move(*sampler), loop, std::move(output), dry_run));
}

ScopeMonitor::ScopeMonitor(std::unique_ptr<OomRunner> runner, sys::ScopeSampler sampler,
                           EventLoop& loop, MonitorOutput output, bool dry_run)
    : runner_(std::move(runner)),
      sampler_(std::move(sampler)),
      detector_(runner_->scope().watermarks, runner_->scope().sampling),
      loop_(&loop),
      output_(std::move(output)),
      dry_run_(dry_run) {}

ScopeMonitor::~ScopeMonitor() {
  if (sample_timer_) loop_->cancel(*sample_timer_);
  for (const auto& [index, id] : extra_timers_)
    loop_->cancel(id);
  for (auto& detector : extra_) {
    if (detector.fd >= 0) loop_->removeFd(detector.fd);
    if (detector.on_stop) detector.on_stop();
  }
  if (in_flight_) finishInFlight();
}

void ScopeMonitor::addDetector(ExtraDetector detector) {
  extra_.push_back(std::move(detector));
  ExtraDetector& d = extra_.back();
  const size_t index = extra_.size() - 1;
  if (d.fd >= 0) {
    auto added = loop_->addFd(d.fd, d.events, [this, index](uint32_t revents) {
      ExtraDetector& self = extra_[index];
      if (auto trigger = self.on_ready(revents)) outOfMemory(*trigger, self.urgent);
    });
    if (!added) output_.log("scope " + scope().name + ": " + d.name + ": " + added.error().message);
  }
}

void ScopeMonitor::start() {
  sample();
  for (size_t index = 0; index < extra_.size(); ++index) {
    if (extra_[index].sample_every) scheduleExtraSample(index);
  }
}

// The stand-in's kill first: until it dies, each page this process writes is copied (the
// fork shares them), so the less runs before, the less is copied.
Status ScopeMonitor::rehearse(const core::Process* stand_in) {
  Status killed = stand_in ? rehearseKill(*stand_in) : Status(Ok{});
  RunRequest request;
  request.trigger = "rehearsal";
  request.triggered_at = now();
  request.dry_run = true;
  const OomEvent event = runner_->run(request);
  (void)formatOomEventJson(event, output_.wall_offset);
  return killed;
}

Status ScopeMonitor::rehearseKill(const core::Process& stand_in) {
  const OomEvent event = runner_->rehearseKill(stand_in);
  (void)formatOomEventJson(event, output_.wall_offset);
  const bool killed = event.kill && !event.kill->targets.empty() &&
                      event.kill->targets.front().outcome == sys::KillOutcome::kKilled;
  if (killed && event.timestamps.exited && !event.failed) return Ok{};
  std::string why = killed ? "it did not exit" : "it was not killed";
  for (const auto& note : event.notes)
    why += "; " + note;
  if (event.kill) {
    for (const auto& note : event.kill->notes)
      why += "; " + note;
  }
  return makeError(Errc::kIo, "the kill's rehearsal on the stand-in (pid " +
                                  std::to_string(stand_in.pid) + ") failed: " + why);
}

void ScopeMonitor::scheduleExtraSample(size_t index) {
  extra_timers_[index] = loop_->schedule(now() + *extra_[index].sample_every, [this, index] {
    extra_timers_.erase(index);
    ExtraDetector& d = extra_[index];
    if (auto trigger = d.on_sample()) outOfMemory(*trigger, d.urgent);
    scheduleExtraSample(index);
  });
}

void ScopeMonitor::scheduleSample(std::chrono::nanoseconds after) {
  sample_timer_ = loop_->schedule(now() + after, [this] {
    sample_timer_.reset();
    sample();
  });
}

void ScopeMonitor::sample() {
  const SteadyTime at = now();
  auto memory = sampler_.sample(at);
  if (!memory) {
    if (!sample_error_logged_) {
      output_.log("scope " + scope().name + ": cannot read its memory: " + memory.error().message);
      sample_error_logged_ = true;
    }
    scheduleSample(std::chrono::seconds(1));
    return;
  }
  sample_error_logged_ = false;
  const core::WatermarkUpdate update =
      detector_.observe(at, memory->available_bytes, memory->total_bytes);
  if (update.changed_from) reportLevel(update, *memory);
  if (update.level == core::PressureLevel::kOutOfMemory) outOfMemory("watermark", false);
  scheduleSample(update.next_sample_in);
}

void ScopeMonitor::reportLevel(const core::WatermarkUpdate& update,
                               const sys::ScopeMemory& memory) {
  const std::string from(core::pressureLevelName(*update.changed_from));
  const std::string to(core::pressureLevelName(update.level));
  const double time =
      std::chrono::duration<double>(now().time_since_epoch() + output_.wall_offset).count();
  const nlohmann::json event = {
      {"type", "state"},
      {"scope", core::escapeBytes(scope().name)},
      {"cgroup", scope().cgroup ? nlohmann::json(core::escapeBytes(*scope().cgroup)) : nullptr},
      {"level", to},
      {"previous", from},
      {"available_bytes", memory.available_bytes},
      {"total_bytes", memory.total_bytes},
      {"watermarks",
       {{"min_bytes", update.watermarks.min_bytes},
        {"low_bytes", update.watermarks.low_bytes},
        {"high_bytes", update.watermarks.high_bytes}}},
      {"fill_rate_bytes_per_second", update.fill_rate},
      {"time", time}};
  output_.event(event.dump());
  output_.log("scope " + scope().name + ": " + from + " -> " + to + " (available " +
              core::formatMiB(memory.available_bytes) + " of " +
              core::formatMiB(memory.total_bytes) + ")");
}

void ScopeMonitor::outOfMemory(const std::string& trigger, bool urgent) {
  if (in_flight_) return;  // a victim is still dying: the kernel would wait too
  const SteadyTime at = now();
  if (!urgent && last_run_ && at - *last_run_ < kRerunInterval) return;
  last_run_ = at;
  RunRequest request;
  request.trigger = trigger;
  request.triggered_at = at;
  request.dry_run = dry_run_;
  OomEvent event = runner_->run(request);
  output_.log("scope " + scope().name + ": " + trigger + ": " +
              std::string(core::actionName(event.action)) + ": " + event.reason);
  if (runner_->exitDeadline(event)) {
    in_flight_ = std::move(event);
    last_run_.reset();  // once the victim is gone, a scope still out of memory runs again
    watchExit();
    checkExit();
    return;
  }
  writeEvent(event);
}

void ScopeMonitor::watchExit() {
  for (const auto& handle : in_flight_->kill->handles) {
    const int fd = handle.fd();
    if (loop_->addFd(fd, EPOLLIN, [this](uint32_t) { checkExit(); })) watched_fds_.push_back(fd);
  }
  deadline_timer_ = loop_->schedule(*runner_->exitDeadline(*in_flight_), [this] {
    deadline_timer_.reset();
    checkExit();
  });
}

void ScopeMonitor::checkExit() {
  if (!in_flight_ || !runner_->finishIfExited(*in_flight_, now())) return;
  finishInFlight();
}

void ScopeMonitor::finishInFlight() {
  for (const int fd : watched_fds_)
    loop_->removeFd(fd);
  watched_fds_.clear();
  if (deadline_timer_) loop_->cancel(*deadline_timer_);
  deadline_timer_.reset();
  OomEvent event = std::move(*in_flight_);
  in_flight_.reset();
  writeEvent(event);
}

void ScopeMonitor::writeEvent(const OomEvent& event) {
  output_.event(formatOomEventJson(event, output_.wall_offset));
}

}  // namespace oomkit::daemon
