// oomkit/core/text.h — small pure helpers for reading the kernel's text formats.
//
// procfs and cgroupfs files are ASCII key/value text; these helpers split lines and read
// decimal numbers strictly (no sign for unsigned, no trailing garbage), so that every parser
// in src/core rejects malformed input the same way. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oomkit/result.h"

namespace oomkit::core {

// Calls `fn(line)` for each '\n'-separated line of `text`; the last line may lack '\n'.
template <typename Fn>
void forEachLine(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    fn(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// Parses each non-empty line of `text` with `parse_line` (string_view -> Result<T>) into a
// vector; the first line that fails ends the parse, its error prefixed "<what>: line N".
template <typename T, typename ParseLine>
Result<std::vector<T>> parseEachLine(std::string_view text, std::string_view what,
                                     ParseLine&& parse_line) {
  std::vector<T> out;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_number;
    if (line.empty()) continue;
    auto parsed = parse_line(line);
    if (!parsed) {
      return Unexpected(
          parsed.error().wrap(std::string(what) + ": line " + std::to_string(line_number)));
    }
    out.push_back(std::move(parsed).value());
  }
  return out;
}

// The number after `key` in text made of "key value" lines (/proc/vmstat, memory.events,
// memory.oom_control); nullopt when the key is absent or its value is not a number.
std::optional<uint64_t> findKeyedValue(std::string_view text, std::string_view key);

// Strips spaces, tabs and newlines from both ends.
std::string_view trim(std::string_view s);

// The whole of `s` as a decimal number; nullopt on anything else (empty, sign, overflow,
// trailing characters). parseI64 accepts a leading '-'.
std::optional<uint64_t> parseU64(std::string_view s);
std::optional<int64_t> parseI64(std::string_view s);

// A hexadecimal number without "0x" (CapEff in /proc/PID/status).
std::optional<uint64_t> parseHex64(std::string_view s);

// Removes one trailing '\n', if present: single-value files ("0\n") are read strictly.
std::string_view stripTrailingNewline(std::string_view s);

// "   1234 kB" (Vm*/Rss* in /proc/PID/status, /proc/meminfo): the number, in kB. Blanks around
// the number are allowed; the unit must be exactly "kB"; nullopt on anything else.
std::optional<uint64_t> parseKb(std::string_view s);

// Splits off the first whitespace-delimited token of `s` (skipping leading blanks);
// `s` keeps the rest. Returns an empty view when `s` has no more tokens.
std::string_view nextToken(std::string_view& s);

// Renders bytes for display and JSON without losing information: valid UTF-8 passes through,
// and each byte of an invalid sequence, each ASCII control byte and the backslash itself
// become the four characters "\xNN" — the kernel's own /dev/kmsg convention, so a name reads
// the same here as in the kernel log and the original bytes can be recovered.
// kKeep leaves backslashes alone, for text that is already in that convention (lines from a
// kernel log, whose "\xNN" escapes must not be escaped a second time).
enum class BackslashEscape { kEscape, kKeep };
std::string escapeBytes(std::string_view bytes,
                        BackslashEscape backslash = BackslashEscape::kEscape);

// The inverse of escapeBytes(kEscape): every "\xNN" becomes the byte 0xNN; anything else is
// copied. unescapeBytes(escapeBytes(b)) == b for any bytes b.
std::string unescapeBytes(std::string_view text);

// `bytes` for an error message: escapeBytes() of at most the first 64 bytes, in single quotes,
// with "..." after the quote when cut. Bounds the size of messages built from hostile input.
std::string quoteBytes(std::string_view bytes);

// Decodes the escapes the kernel writes into procfs text: three-digit octal "\ooo" (mangle()
// in fs/proc_namespace.c, ESCAPE_OCTAL) and the C escapes of string_escape_mem()
// (lib/string_helpers.c: ESCAPE_SPACE "\n \t \r \f \v", ESCAPE_SPECIAL "\\ \a \e \"").
// A backslash that starts none of these is kept as is, as are all other bytes.
std::string unescapeKernelString(std::string_view s);

}  // namespace oomkit::core
