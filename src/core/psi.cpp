// core/psi.cpp — parsing pressure files and the sampling version of a PSI trigger.
//
// Format: kernel/sched/psi.c psi_show() ("%s avg10=%lu.%02lu avg60=... avg300=... total=%llu"),
// trigger rules: psi.c psi_trigger_create() and window_update(); semantics:
// Documentation/accounting/psi.rst. Pure: no I/O, no clock.
#include "oomkit/core/psi.h"

#include <array>
#include <string>

#include "oomkit/core/text.h"

namespace oomkit::core {
namespace {

// The fields every line must have, in the order of LineFields' slots.
constexpr std::array<std::string_view, 4> kFieldNames = {"avg10", "avg60", "avg300", "total"};
enum FieldSlot : size_t { kAvg10, kAvg60, kAvg300, kTotal };

struct LineFields {
  std::array<bool, kFieldNames.size()> seen{};
  PsiLine line;
};

constexpr size_t kMaxFractionDigits = 9;

// "12.34" (psi_show() prints "%lu.%02lu") or "12": a percentage; nullopt on anything else.
std::optional<double> parsePercent(std::string_view s) {
  const size_t dot = s.find('.');
  const auto whole = parseU64(s.substr(0, dot));
  if (!whole) return std::nullopt;
  if (dot == std::string_view::npos) return static_cast<double>(*whole);
  const std::string_view digits = s.substr(dot + 1);
  if (digits.size() > kMaxFractionDigits) return std::nullopt;
  const auto fraction = parseU64(digits);
  if (!fraction) return std::nullopt;
  double scale = 1;
  for (size_t i = 0; i < digits.size(); ++i)
    scale *= 10;
  return static_cast<double>(*whole) + static_cast<double>(*fraction) / scale;
}

std::optional<size_t> fieldSlot(std::string_view key) {
  for (size_t i = 0; i < kFieldNames.size(); ++i) {
    if (kFieldNames[i] == key) return i;
  }
  return std::nullopt;
}

Status setField(size_t slot, std::string_view value, LineFields& fields) {
  const std::string name(kFieldNames[slot]);
  if (fields.seen[slot]) return makeError(Errc::kParse, name + ": appears twice");
  fields.seen[slot] = true;
  if (slot == kTotal) {
    const auto total = parseU64(value);
    if (!total) return makeError(Errc::kParse, "total: is not a number: " + quoteBytes(value));
    fields.line.total_us = *total;
    return Ok{};
  }
  const auto percent = parsePercent(value);
  if (!percent)
    return makeError(Errc::kParse, name + ": is not a percentage: " + quoteBytes(value));
  double* targets[] = {&fields.line.avg10, &fields.line.avg60, &fields.line.avg300};
  *targets[slot] = *percent;
  return Ok{};
}

// One "key=value" token; unknown keys are skipped.
Status parseField(std::string_view token, LineFields& fields) {
  const size_t eq = token.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return makeError(Errc::kParse, "field is not 'key=value': " + quoteBytes(token));
  }
  const auto slot = fieldSlot(token.substr(0, eq));
  if (!slot) return Ok{};
  return setField(*slot, token.substr(eq + 1), fields);
}

// The fields after "some"/"full".
Result<PsiLine> parseFields(std::string_view rest) {
  LineFields fields;
  for (std::string_view token = nextToken(rest); !token.empty(); token = nextToken(rest)) {
    if (auto status = parseField(token, fields); !status) return Unexpected(status.error());
  }
  for (size_t i = 0; i < kFieldNames.size(); ++i) {
    if (!fields.seen[i]) return makeError(Errc::kParse, "no " + std::string(kFieldNames[i]));
  }
  return fields.line;
}

Status parseLine(std::string_view line, PsiStats& stats, std::array<bool, 2>& seen) {
  std::string_view rest = line;
  const std::string_view kind = nextToken(rest);
  const bool some = kind == "some";
  if (!some && kind != "full") {
    return makeError(Errc::kParse, "is not a 'some' or 'full' line: " + quoteBytes(line));
  }
  const size_t index = some ? 0 : 1;
  if (seen[index]) return makeError(Errc::kParse, std::string(kind) + ": appears twice");
  seen[index] = true;
  auto parsed = parseFields(rest);
  if (!parsed) return Unexpected(parsed.error().wrap(kind));
  if (some) {
    stats.some = *parsed;
  } else {
    stats.full = *parsed;
  }
  return Ok{};
}

}  // namespace

Result<PsiStats> parsePressure(std::string_view text) {
  PsiStats stats;
  std::array<bool, 2> seen{};  // some, full
  size_t line_number = 0;
  Status failure = Ok{};
  forEachLine(text, [&](std::string_view line) {
    ++line_number;
    if (!failure || trim(line).empty()) return;
    failure = parseLine(line, stats, seen);
    if (!failure) {
      failure = Unexpected(failure.error().wrap("pressure: line " + std::to_string(line_number)));
    }
  });
  if (!failure) return Unexpected(failure.error());
  if (!seen[0]) return makeError(Errc::kParse, "pressure: no 'some' line");
  return stats;
}

std::string_view psiKindName(PsiKind kind) {
  return kind == PsiKind::kFull ? "full" : "some";
}

std::string psiTriggerText(PsiKind kind, PsiMicros threshold, PsiMicros window) {
  return std::string(psiKindName(kind)) + " " + std::to_string(threshold.count()) + " " +
         std::to_string(window.count());
}

Status validatePsiTrigger(PsiMicros threshold, PsiMicros window) {
  if (window.count() <= 0 || window > kPsiMaxWindow) {
    return makeError(Errc::kInvalidArgument, "PSI window must be above 0 and at most 10 s, not " +
                                                 std::to_string(window.count()) + " us");
  }
  if (threshold.count() <= 0 || threshold > window) {
    return makeError(Errc::kInvalidArgument,
                     "PSI threshold must be above 0 and at most the window (" +
                         std::to_string(window.count()) + " us), not " +
                         std::to_string(threshold.count()) + " us");
  }
  return Ok{};
}

Result<bool> PsiWindow::observe(Time now, uint64_t total_us) {
  if (!readings_.empty() && now < readings_.back().time) {
    return makeError(Errc::kInvalidArgument, "PSI reading is older than the previous one");
  }
  if (!readings_.empty() && total_us < readings_.back().total_us) {
    const uint64_t previous = readings_.back().total_us;
    readings_.assign(1, Reading{now, total_us});
    stall_ = PsiMicros{0};
    return makeError(Errc::kInvalidArgument,
                     "PSI total went backwards from " + std::to_string(previous) + " to " +
                         std::to_string(total_us) + " us (file replaced?): the window restarts");
  }
  if (!readings_.empty() && now == readings_.back().time) readings_.pop_back();
  readings_.push_back(Reading{now, total_us});
  const Time start = now - window_;
  dropReadingsBefore(start);
  const double stall = static_cast<double>(total_us) - totalAt(start);
  stall_ = PsiMicros{static_cast<PsiMicros::rep>(stall > 0 ? stall : 0)};
  return exceeded();
}

// Keeps the newest reading at or before `start` (the interpolation's left end) and all after.
void PsiWindow::dropReadingsBefore(Time start) {
  while (readings_.size() >= 2 && readings_[1].time <= start)
    readings_.pop_front();
}

// The counter's value at `start`: interpolated between the readings around it, or the oldest
// reading when none is that old (history shorter than a window).
double PsiWindow::totalAt(Time start) const {
  const Reading& first = readings_.front();
  if (first.time >= start || readings_.size() < 2) return static_cast<double>(first.total_us);
  const Reading& next = readings_[1];
  const double span = std::chrono::duration<double>(next.time - first.time).count();
  const double part = std::chrono::duration<double>(start - first.time).count();
  const double growth = static_cast<double>(next.total_us - first.total_us);
  return static_cast<double>(first.total_us) + growth * part / span;
}

}  // namespace oomkit::core
