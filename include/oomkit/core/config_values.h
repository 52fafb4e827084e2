// oomkit/core/config_values.h — the value syntaxes of the configuration file: memory amounts
// ("5%", "512M", "1.5G", "1048576") and durations ("500ms", "2s", "1m"), their parsers, their
// canonical spelling for messages, and resolving a percentage against a size.
//
// Sizes use binary units, as systemd's MemoryMax= and the kernel's memparse() do: K, M, G, T
// (and the same as KiB, MiB, GiB, TiB) are powers of 1024. Decimal units (KB, MB, ...) are
// rejected as ambiguous. docs/config.md documents the syntax. Pure: no I/O. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "oomkit/result.h"

namespace oomkit::core {

using Millis = std::chrono::milliseconds;

// A memory amount as written in the file: a percentage of some size (known only at run time:
// the machine's or the cgroup's memory) or a number of bytes.
struct MemoryAmount {
  enum class Kind { kPercent, kBytes };

  Kind kind = Kind::kPercent;
  double percent = 0;  // 0..100, when kind == kPercent
  uint64_t bytes = 0;  // when kind == kBytes

  static MemoryAmount ofPercent(double pct) { return {Kind::kPercent, pct, 0}; }
  static MemoryAmount ofBytes(uint64_t n) { return {Kind::kBytes, 0, n}; }
  bool isPercent() const { return kind == Kind::kPercent; }
  bool operator==(const MemoryAmount&) const = default;
};

// "5%", "0.5%" (0 to 100 inclusive), "512M", "1.5G", "64KiB", "1048576" (bytes; a number
// without a unit must be whole). Fractional sizes round down to a whole byte. No blanks, no
// sign, no exponent. Errc::kInvalidArgument with a message naming the text otherwise.
Result<MemoryAmount> parseMemoryAmount(std::string_view text);

// A size only (no percentage): "512M", "2G", "1048576". Errc::kInvalidArgument otherwise.
Result<uint64_t> parseByteSize(std::string_view text);

// "500ms", "2s", "1.5s", "1m", "1h": a decimal number and a unit (ms, s, m, h; required).
// Parts of a millisecond are dropped. Errc::kInvalidArgument otherwise.
Result<Millis> parseDuration(std::string_view text);

// The amount in bytes for a scope of `total_bytes`: a percentage rounds down; bytes are
// returned as given (not capped at the total).
uint64_t resolveAmount(const MemoryAmount& amount, uint64_t total_bytes);

// Canonical spellings, for messages: "5%", "12.5%", "512M", "1536K", "1000" (bytes that no
// binary unit divides); "500ms", "2s", "1m", "1h".
std::string formatMemoryAmount(const MemoryAmount& amount);
std::string formatBytes(uint64_t bytes);
// Whole mebibytes, rounded down, for the reasons in OOM events: "256 MiB".
std::string formatMiB(uint64_t bytes);
std::string formatDuration(Millis duration);

}  // namespace oomkit::core
