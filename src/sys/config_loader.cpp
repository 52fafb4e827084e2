// The configuration file → core::Config: toml++ parses, TableReader checks each table's keys
// and types, core::validateConfig() checks the rules, and every problem becomes one line.
#include "oomkit/sys/config_loader.h"

#include <cctype>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

#include "toml_reader.h"

namespace oomkit::sys {
namespace {

constexpr std::string_view kDefaultSourceName = "<embedded default>";

core::DaemonConfig readDaemon(TableReader& root) {
  core::DaemonConfig daemon;
  auto t = root.table("daemon");
  if (!t) return daemon;
  if (auto v = t->string("event_log")) daemon.event_log = std::move(*v);
  if (auto v = t->boolean("dry_run")) daemon.dry_run = *v;
  t->rejectUnknownKeys();
  return daemon;
}

core::Watermarks readWatermarks(TableReader& scope) {
  core::Watermarks w;
  auto t = scope.table("watermarks");
  if (!t) return w;
  if (auto v = t->memoryAmount("min", Need::kRequired)) w.min = *v;
  if (auto v = t->memoryAmount("low", Need::kRequired)) w.low = *v;
  if (auto v = t->memoryAmount("high", Need::kRequired)) w.high = *v;
  t->rejectUnknownKeys();
  return w;
}

core::SamplingConfig readSampling(TableReader& scope) {
  core::SamplingConfig sampling;
  auto t = scope.table("sampling");
  if (!t) return sampling;
  if (auto v = t->duration("min_interval")) sampling.min_interval = *v;
  if (auto v = t->duration("max_interval")) sampling.max_interval = *v;
  if (auto v = t->byteSize("fill_rate")) sampling.fill_rate_bytes = *v;
  t->rejectUnknownKeys();
  return sampling;
}

std::optional<core::PsiConfig> readPsi(TableReader& scope) {
  auto t = scope.table("psi");
  if (!t) return std::nullopt;
  core::PsiConfig psi;
  psi.some_threshold = t->duration("some_threshold");
  psi.full_threshold = t->duration("full_threshold");
  if (auto v = t->duration("window")) psi.window = *v;
  t->rejectUnknownKeys();
  return psi;
}

void readPanicAction(TableReader& t, core::OomPolicy& policy) {
  const auto name = t.string("panic_action");
  if (!name) return;
  if (const auto action = core::panicActionFromName(*name)) {
    policy.panic_action = *action;
  } else {
    t.fail("panic_action",
           core::quoteBytes(*name) + " is not a panic action (use log, reboot, crash or exec)");
  }
}

void readPolicy(TableReader& scope, core::ScopeConfig& out) {
  auto t = scope.table("policy");
  if (!t) return;
  if (auto v = t->int32("panic_on_oom")) out.policy.panic_on_oom = core::PanicOnOom{*v};
  if (auto v = t->boolean("kill_allocating_task")) out.policy.kill_allocating_task = *v;
  if (auto v = t->duration("allocating_window")) out.policy.allocating_window = *v;
  readPanicAction(*t, out.policy);
  if (auto v = t->stringArray("panic_command")) out.panic_command = std::move(*v);
  if (auto v = t->duration("panic_command_timeout")) out.panic_command_timeout = *v;
  t->rejectUnknownKeys();
}

void readKill(TableReader& scope, core::ScopeConfig& out) {
  auto t = scope.table("kill");
  if (!t) return;
  if (auto v = t->boolean("sigterm_first")) out.kill.sigterm_first = *v;
  if (auto v = t->duration("sigterm_grace")) out.kill.sigterm_grace = *v;
  if (auto v = t->boolean("process_mrelease")) out.kill.process_mrelease = *v;
  if (auto v = t->duration("reap_timeout")) out.policy.reap_timeout = *v;
  t->rejectUnknownKeys();
}

// The keys after `type` depend on the type.
void readHandlerOptions(TableReader& t, core::HandlerConfig& h) {
  switch (h.type) {
    case core::HandlerType::kExec:
      if (auto v = t.stringArray("command", Need::kRequired)) h.exec.command = std::move(*v);
      if (auto v = t.duration("timeout")) h.exec.timeout = *v;
      break;
    case core::HandlerType::kGrowLimit:
      h.grow_limit.step_bytes = t.byteSize("step");
      if (auto v = t.byteSize("reserve", Need::kRequired)) h.grow_limit.reserve_bytes = *v;
      h.grow_limit.ceiling_bytes = t.byteSize("ceiling");
      break;
    case core::HandlerType::kMemoryReclaim:
      h.memory_reclaim.amount = t.memoryAmount("amount");
      break;
  }
}

core::HandlerConfig readHandler(TableReader& t) {
  core::HandlerConfig h;
  const auto type_name = t.string("type", Need::kRequired);
  const auto name = t.string("name");
  if (auto v = t.int32("priority")) h.priority = *v;
  const auto type = type_name ? core::handlerTypeFromName(*type_name) : std::nullopt;
  if (type_name && !type) {
    t.fail("type", core::quoteBytes(*type_name) +
                       " is not a handler type (use exec, grow-limit or memory-reclaim)");
  }
  if (!type) return h;  // without a type, which keys are known is unknown: no check
  h.type = *type;
  h.name = name.value_or(std::string(core::handlerTypeName(*type)));
  readHandlerOptions(t, h);
  t.rejectUnknownKeys();
  return h;
}

core::ScopeConfig readScope(TableReader& t) {
  core::ScopeConfig scope;
  if (auto v = t.string("name", Need::kRequired)) scope.name = std::move(*v);
  scope.cgroup = t.string("cgroup");
  if (auto v = t.boolean("takeover")) scope.takeover = *v;
  scope.watermarks = readWatermarks(t);
  scope.sampling = readSampling(t);
  scope.psi = readPsi(t);
  readPolicy(t, scope);
  readKill(t, scope);
  for (TableReader& handler : t.tableArray("handler")) {
    scope.handlers.push_back(readHandler(handler));
  }
  t.rejectUnknownKeys();
  return scope;
}

core::Config readConfig(const toml::table& document, Diagnostics& diagnostics) {
  TableReader root(document, "", diagnostics);
  core::Config config;
  config.daemon = readDaemon(root);
  for (TableReader& scope : root.tableArray("scope")) {
    config.scopes.push_back(readScope(scope));
  }
  root.rejectUnknownKeys();
  return config;
}

// The rules' issues, except where the reading already found the values in error.
void addValidationIssues(const core::Config& config, Diagnostics& diagnostics) {
  std::vector<Diagnostic> kept;
  for (core::ConfigIssue& issue : core::validateConfig(config)) {
    if (diagnostics.shadows(issue.key)) continue;
    kept.push_back(
        {diagnostics.positionOf(issue.key), std::move(issue.key), std::move(issue.message)});
  }
  for (Diagnostic& d : kept) {
    diagnostics.add(d.pos, std::move(d.key), std::move(d.message));
  }
}

Result<toml::table> parseToml(std::string_view text, std::string_view source_name) {
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const SourcePos pos = positionOf(e.source());
    // One line per error: toml++ may quote the offending input, newline included.
    std::string what = core::escapeBytes(e.description(), core::BackslashEscape::kKeep);
    if (!what.empty()) {
      what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
    }
    return makeError(Errc::kParse, std::string(source_name) + ":" + std::to_string(pos.line) + ":" +
                                       std::to_string(pos.column) + ": syntax error: " + what);
  }
}

}  // namespace

Result<core::Config> loadConfigText(std::string_view text, std::string_view source_name) {
  auto document = parseToml(text, source_name);
  if (!document) return Unexpected(std::move(document).error());
  Diagnostics diagnostics;
  core::Config config = readConfig(*document, diagnostics);
  addValidationIssues(config, diagnostics);
  if (!diagnostics.empty()) {
    return makeError(Errc::kInvalidArgument, diagnostics.render(source_name));
  }
  return config;
}

Result<core::Config> loadConfigFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) return Unexpected(std::move(text).error());
  return loadConfigText(*text, path);
}

Result<core::Config> loadDefaultConfig() {
  return loadConfigText(core::defaultConfigToml(), kDefaultSourceName);
}

}  // namespace oomkit::sys
