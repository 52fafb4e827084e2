#include "oomkit/core/text.h"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace oomkit::core {
namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n';
}

// std::from_chars over the whole of `s`, or nullopt. from_chars itself accepts no leading
// blanks and no '+', and stops at the first non-digit, so "whole string consumed" is the
// trailing-garbage check and errc::result_out_of_range the overflow check.
template <typename T>
std::optional<T> parseWhole(std::string_view s, int base) {
  if (s.empty()) return std::nullopt;
  T value{};
  const char* const end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value, base);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

constexpr char kHexDigits[] = "0123456789abcdef";

void appendHexEscape(std::string& out, unsigned char byte) {
  out += "\\x";
  out += kHexDigits[byte >> 4];
  out += kHexDigits[byte & 0xf];
}

bool isContinuation(unsigned char byte) {
  return (byte & 0xc0) == 0x80;
}

// The length of the valid UTF-8 sequence (2..4 bytes) that starts `s`, or 0. Follows the
// well-formed byte sequences of Unicode 15 table 3-7: the ranges for the second byte exclude
// overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above
// U+10FFFF (F4 90.., F5..FF); C0 and C1 can only start overlong two-byte forms.
size_t validMultibyteLength(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    len = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    len = 3;
    if (lead == 0xe0) lo = 0xa0;
    if (lead == 0xed) hi = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    len = 4;
    if (lead == 0xf0) lo = 0x90;
    if (lead == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  const auto second = static_cast<unsigned char>(s[1]);
  if (second < lo || second > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (!isContinuation(static_cast<unsigned char>(s[i]))) return 0;
  }
  return len;
}

bool isOctalDigit(char c) {
  return c >= '0' && c <= '7';
}

// The byte a three-digit octal escape "ooo" at the start of `s` stands for, or nullopt.
// The kernel writes every byte as exactly three digits, so the first is at most '3'.
std::optional<char> octalEscape(std::string_view s) {
  if (s.size() < 3 || s[0] > '3' || !isOctalDigit(s[0]) || !isOctalDigit(s[1]) ||
      !isOctalDigit(s[2])) {
    return std::nullopt;
  }
  const int value = (s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0');
  return static_cast<char>(value);
}

// The byte a one-letter escape stands for (lib/string_helpers.c escape_space() and
// escape_special()), or nullopt.
std::optional<char> letterEscape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case 'f':
      return '\f';
    case 'v':
      return '\v';
    case 'a':
      return '\a';
    case 'e':
      return '\x1b';
    case '"':
      return '"';
    case '\\':
      return '\\';
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && isBlank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back()))
    s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parseU64(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) return std::nullopt;
  return parseWhole<uint64_t>(s, 10);
}

std::optional<int64_t> parseI64(std::string_view s) {
  if (!s.empty() && s[0] == '+') return std::nullopt;
  return parseWhole<int64_t>(s, 10);
}

std::optional<uint64_t> parseHex64(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) return std::nullopt;
  return parseWhole<uint64_t>(s, 16);
}

std::string_view stripTrailingNewline(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parseKb(std::string_view s) {
  const std::string_view number = nextToken(s);
  const std::string_view unit = nextToken(s);
  if (unit != "kB" || !trim(s).empty()) return std::nullopt;
  return parseU64(number);
}

std::string_view nextToken(std::string_view& s) {
  size_t begin = 0;
  while (begin < s.size() && isBlank(s[begin]))
    ++begin;
  size_t end = begin;
  while (end < s.size() && !isBlank(s[end]))
    ++end;
  const std::string_view token = s.substr(begin, end - begin);
  s.remove_prefix(end);
  return token;
}

std::string escapeBytes(std::string_view bytes, BackslashEscape backslash) {
  const bool escape_backslash = backslash == BackslashEscape::kEscape;
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte < 0x80) {
      if (byte < 0x20 || byte == 0x7f || (byte == '\\' && escape_backslash)) {
        appendHexEscape(out, byte);
      } else {
        out += static_cast<char>(byte);
      }
      ++i;
      continue;
    }
    const size_t len = validMultibyteLength(bytes.substr(i));
    if (len == 0) {
      appendHexEscape(out, byte);
      ++i;
      continue;
    }
    out.append(bytes.substr(i, len));
    i += len;
  }
  return out;
}

std::string quoteBytes(std::string_view bytes) {
  constexpr size_t kMaxQuotedBytes = 64;
  std::string out = "'" + escapeBytes(bytes.substr(0, kMaxQuotedBytes)) + "'";
  if (bytes.size() > kMaxQuotedBytes) out += "...";
  return out;
}

std::string unescapeKernelString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i++];
      continue;
    }
    if (const auto octal = octalEscape(s.substr(i + 1))) {
      out += *octal;
      i += 4;
    } else if (const auto letter = letterEscape(s[i + 1])) {
      out += *letter;
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::optional<uint64_t> findKeyedValue(std::string_view text, std::string_view key) {
  std::optional<uint64_t> value;
  bool found = false;
  forEachLine(text, [&](std::string_view line) {
    if (found || line.size() <= key.size() || line.substr(0, key.size()) != key ||
        line[key.size()] != ' ') {
      return;
    }
    found = true;
    value = parseU64(trim(line.substr(key.size() + 1)));
  });
  return value;
}

std::string unescapeBytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
      if (const auto byte = parseHex64(text.substr(i + 2, 2))) {
        out += static_cast<char>(*byte);
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace oomkit::core
