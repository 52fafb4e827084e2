#include "oomkit/core/config_values.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "oomkit/core/text.h"

namespace oomkit::core {
namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Binary multiples, as systemd's MemoryMax= and the kernel's memparse() read them.
constexpr std::array<Unit, 9> kSizeUnits = {{
    {"", 1},
    {"K", 1ULL << 10},
    {"KiB", 1ULL << 10},
    {"M", 1ULL << 20},
    {"MiB", 1ULL << 20},
    {"G", 1ULL << 30},
    {"GiB", 1ULL << 30},
    {"T", 1ULL << 40},
    {"TiB", 1ULL << 40},
}};

constexpr std::array<Unit, 4> kDurationUnits = {{
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
}};

// 2^64 as a double: sizes at or above it do not fit in uint64_t.
constexpr double kTwoTo64 = 18446744073709551616.0;
// About 31 years of milliseconds: longer is surely a typo, and it keeps the cast exact.
constexpr double kMaxDurationMs = 1e12;

constexpr std::string_view kSizeUnitList = "use K, M, G or T, or KiB, MiB, GiB or TiB";
constexpr std::string_view kDurationUnitList = "use ms, s, m or h";

struct NumberAndUnit {
  std::string_view number;
  std::string_view unit;
};

NumberAndUnit splitUnit(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
    ++i;
  return {text.substr(0, i), text.substr(i)};
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "12" or "12.5": digits, optionally a dot and more digits. Nothing else (no sign, exponent,
// "inf" or "nan", which std::from_chars would accept).
std::optional<double> parseDecimal(std::string_view s) {
  const size_t dot = s.find('.');
  if (!allDigits(s.substr(0, dot))) return std::nullopt;
  if (dot != std::string_view::npos && !allDigits(s.substr(dot + 1))) return std::nullopt;
  double value = 0;
  const char* const end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value, std::chars_format::fixed);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

template <size_t N>
std::optional<uint64_t> unitFactor(const std::array<Unit, N>& units, std::string_view name) {
  for (const Unit& unit : units) {
    if (unit.name == name) return unit.factor;
  }
  return std::nullopt;
}

Unexpected invalid(std::string message) {
  return makeError(Errc::kInvalidArgument, std::move(message));
}

Result<MemoryAmount> parsePercent(std::string_view text) {
  const auto pct = parseDecimal(text.substr(0, text.size() - 1));
  if (!pct) {
    return invalid(quoteBytes(text) + " is not a percentage (such as \"5%\" or \"0.5%\")");
  }
  if (*pct > 100.0) return invalid(quoteBytes(text) + " is not between 0% and 100%");
  return MemoryAmount::ofPercent(*pct);
}

// A whole number times a unit, exactly (doubles lose precision above 2^53 bytes).
Result<uint64_t> wholeSize(std::string_view text, std::string_view number, uint64_t factor) {
  const auto n = parseU64(number);
  if (!n || *n > UINT64_MAX / factor) return invalid(quoteBytes(text) + " is too large");
  return *n * factor;
}

std::string formatDouble(double value) {
  std::array<char, 32> buf{};
  const auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc()) return "?";
  return std::string(buf.data(), ptr);
}

}  // namespace

Result<uint64_t> parseByteSize(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    return invalid(quoteBytes(text) + " is a percentage; a size is needed here (such as \"512M\")");
  }
  const auto [number, unit] = splitUnit(text);
  const auto value = parseDecimal(number);
  if (!value) {
    return invalid(quoteBytes(text) + " is not a size (such as \"512M\", \"1.5G\" or \"1048576\")");
  }
  const auto factor = unitFactor(kSizeUnits, unit);
  if (!factor) {
    return invalid(quoteBytes(text) + " has an unknown unit " + quoteBytes(unit) + " (" +
                   std::string(kSizeUnitList) + ")");
  }
  const bool fractional = number.find('.') != std::string_view::npos;
  if (!fractional) return wholeSize(text, number, *factor);
  if (unit.empty()) return invalid(quoteBytes(text) + " is not a whole number of bytes");
  const double bytes = std::floor(*value * static_cast<double>(*factor));
  if (bytes >= kTwoTo64) return invalid(quoteBytes(text) + " is too large");
  return static_cast<uint64_t>(bytes);
}

Result<MemoryAmount> parseMemoryAmount(std::string_view text) {
  if (!text.empty() && text.back() == '%') return parsePercent(text);
  auto bytes = parseByteSize(text);
  if (!bytes) return Unexpected(std::move(bytes).error());
  return MemoryAmount::ofBytes(*bytes);
}

Result<Millis> parseDuration(std::string_view text) {
  const auto [number, unit] = splitUnit(text);
  const auto value = parseDecimal(number);
  if (!value) {
    return invalid(quoteBytes(text) + " is not a duration (such as \"500ms\", \"2s\" or \"1m\")");
  }
  if (unit.empty()) {
    return invalid(quoteBytes(text) + " has no unit (" + std::string(kDurationUnitList) + ")");
  }
  const auto factor = unitFactor(kDurationUnits, unit);
  if (!factor) {
    return invalid(quoteBytes(text) + " has an unknown unit " + quoteBytes(unit) + " (" +
                   std::string(kDurationUnitList) + ")");
  }
  const double ms = std::floor(*value * static_cast<double>(*factor));
  if (ms > kMaxDurationMs) return invalid(quoteBytes(text) + " is too long");
  return Millis(static_cast<Millis::rep>(ms));
}

uint64_t resolveAmount(const MemoryAmount& amount, uint64_t total_bytes) {
  if (!amount.isPercent()) return amount.bytes;
  const double bytes = std::floor(static_cast<double>(total_bytes) * amount.percent / 100.0);
  return bytes >= kTwoTo64 ? UINT64_MAX : static_cast<uint64_t>(bytes);
}

std::string formatMiB(uint64_t bytes) {
  return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

std::string formatBytes(uint64_t bytes) {
  constexpr std::array<Unit, 4> kLargestFirst = {{
      {"T", 1ULL << 40},
      {"G", 1ULL << 30},
      {"M", 1ULL << 20},
      {"K", 1ULL << 10},
  }};
  for (const Unit& unit : kLargestFirst) {
    if (bytes != 0 && bytes % unit.factor == 0) {
      return std::to_string(bytes / unit.factor) + std::string(unit.name);
    }
  }
  return std::to_string(bytes);
}

std::string formatMemoryAmount(const MemoryAmount& amount) {
  if (amount.isPercent()) return formatDouble(amount.percent) + "%";
  return formatBytes(amount.bytes);
}

std::string formatDuration(Millis duration) {
  if (duration.count() < 0) return "-" + formatDuration(-duration);
  const auto ms = static_cast<uint64_t>(duration.count());
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    if (ms != 0 && ms % it->factor == 0)
      return std::to_string(ms / it->factor) + std::string(it->name);
  }
  return std::to_string(ms) + "ms";
}

}  // namespace oomkit::core
