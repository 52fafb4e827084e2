// The prefixes a kernel log line may carry, outermost first: mail quotes, a /dev/kmsg record
// header, a "<prio>", dmesg -x "facility:level:", a syslog/ISO date with "host tag:", and dmesg
// "[seconds]" / "[date]" with an optional CONFIG_PRINTK_CALLER "[T123]".
#include "oomkit/core/log_line.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "oomkit/core/text.h"

namespace oomkit::core {
namespace {

using std::string_view;

// No prefix field we read is longer; bounding the scans keeps a huge line from costing more
// than its prefix.
constexpr size_t kMaxPrefixField = 64;
// The kernel's own facility is 0 (LOG_KERN), so its priorities are the levels 0..7; user space
// cannot write facility 0 to /dev/kmsg (printk/printk.c devkmsg_write()).
constexpr unsigned kFirstUserPriority = 8;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool allDigits(string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}

size_t skip(string_view s, size_t i, char c) {
  while (i < s.size() && s[i] == c)
    ++i;
  return i;
}

size_t skipDigits(string_view s, size_t i) {
  while (i < s.size() && isDigit(s[i]))
    ++i;
  return i;
}

// "dd:dd:dd" at `i`; returns the index after it, or 0.
size_t timeOfDayEnd(string_view s, size_t i) {
  constexpr string_view kShape = "00:00:00";
  if (s.size() < i + kShape.size()) return 0;
  for (size_t k = 0; k < kShape.size(); ++k) {
    const char c = s[i + k];
    if (kShape[k] == ':' ? c != ':' : !isDigit(c)) return 0;
  }
  return i + kShape.size();
}

// A fraction ".123456" or ",123456" (journalctl short-precise, dmesg --time-format=iso).
size_t skipFraction(string_view s, size_t i) {
  if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && isDigit(s[i + 1])) {
    return skipDigits(s, i + 1);
  }
  return i;
}

string_view stripMailQuotes(string_view s) {
  while (!s.empty() && s.front() == '>') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  }
  return s;
}

// " KEY=value" after a /dev/kmsg record: Documentation/ABI/testing/dev-kmsg.
bool isKmsgDictionaryLine(string_view s) {
  if (s.size() < 3 || s[0] != ' ') return false;
  size_t i = 1;
  while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' || isDigit(s[i])))
    ++i;
  return i > 1 && i < s.size() && s[i] == '=';
}

// "prio,seq,usec,flag[,extra...];text" (printk.c info_print_ext_header(): "%u,%llu,%llu,%c").
bool parseKmsgRecord(string_view s, LogLine& out) {
  constexpr size_t kMaxHeader = 128;  // room for ",caller=T4194304" and future extra fields
  const size_t semi = s.substr(0, kMaxHeader).find(';');
  if (semi == string_view::npos) return false;
  string_view header = s.substr(0, semi);
  std::array<string_view, 4> fields;
  for (auto& field : fields) {
    const size_t comma = header.find(',');
    field = header.substr(0, comma);
    header = comma == string_view::npos ? string_view{} : header.substr(comma + 1);
  }
  if (!allDigits(fields[0]) || !allDigits(fields[1]) || !allDigits(fields[2]) ||
      fields[3].size() != 1 || fields[0].size() > 3) {
    return false;
  }
  const auto prio = parseU64(fields[0]);
  out.from_kernel = prio && *prio < kFirstUserPriority;
  out.timestamp = fields[2];
  out.timestamp_in_usec = true;
  out.text = s.substr(semi + 1);
  return true;
}

// "<4>" (/proc/kmsg, dmesg -r).
string_view stripPriority(string_view s, LogLine& out) {
  if (s.size() < 3 || s[0] != '<') return s;
  const size_t end = skipDigits(s, 1);
  if (end == 1 || end > 4 || end >= s.size() || s[end] != '>') return s;
  const auto prio = parseU64(s.substr(1, end - 1));
  out.from_kernel = out.from_kernel && prio && *prio < kFirstUserPriority;
  return s.substr(end + 1);
}

// dmesg -x: "kern  :warn  : " (util-linux dmesg, "%-6s:%-6s: ").
string_view stripFacilityLevel(string_view s, LogLine& out) {
  constexpr std::array<string_view, 12> kFacilities = {"kern", "user",   "mail",     "daemon",
                                                       "auth", "syslog", "lpr",      "news",
                                                       "uucp", "cron",   "authpriv", "ftp"};
  size_t i = 0;
  while (i < s.size() && i < kMaxPrefixField && isLetter(s[i]))
    ++i;
  const string_view facility = s.substr(0, i);
  bool known = false;
  for (const string_view f : kFacilities)
    known = known || f == facility;
  if (!known) return s;
  i = skip(s, i, ' ');
  if (i >= s.size() || s[i] != ':') return s;
  size_t j = i + 1;
  while (j < s.size() && j < kMaxPrefixField && isLetter(s[j]))
    ++j;
  j = skip(s, j, ' ');
  if (j == i + 1 || j + 1 >= s.size() || s[j] != ':' || s[j + 1] != ' ') return s;
  out.from_kernel = out.from_kernel && facility == "kern";
  return s.substr(j + 2);
}

// "Nov 22 01:02:03 " / "Nov  2 01:02:03.123456 " (syslog, journalctl short[-precise]). The
// month is any word without digits, so a localised one ("Mär", "déc.") passes. Returns the
// length of the date, or 0.
size_t syslogDateLength(string_view s) {
  size_t i = 0;
  while (i < s.size() && i < 12 && s[i] != ' ' && !isDigit(s[i]))
    ++i;
  if (i == 0 || i == 12) return 0;
  i = skip(s, i, ' ');
  const size_t day_end = skipDigits(s, i);
  if (day_end == i || day_end - i > 2) return 0;
  i = timeOfDayEnd(s, skip(s, day_end, ' '));
  if (i == 0) return 0;
  i = skipFraction(s, i);
  return i < s.size() && s[i] == ' ' ? i : 0;
}

// "2026-11-22T01:02:03+0100 " (journalctl short-iso), with an optional fraction and a zone of
// "Z", "+hhmm" or "+hh:mm" (RFC 3339, rsyslog, dmesg --time-format=iso). Returns the length.
size_t isoDateLength(string_view s) {
  constexpr string_view kDate = "0000-00-00T";
  if (s.size() < kDate.size()) return 0;
  for (size_t k = 0; k < kDate.size(); ++k) {
    const char c = s[k];
    if (isDigit(kDate[k]) ? !isDigit(c) : c != kDate[k]) return 0;
  }
  size_t i = timeOfDayEnd(s, kDate.size());
  if (i == 0) return 0;
  i = skipFraction(s, i);
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    i = skipDigits(s, i + 1);
    if (i < s.size() && s[i] == ':') i = skipDigits(s, i + 1);
  }
  return i < s.size() && s[i] == ' ' ? i : 0;
}

enum class Bracket { kNone, kTimestamp, kCaller };

// "[  412.766678] " (dmesg), "[Di Aug 12 03:54:03 2025] " (dmesg -T, any locale), or
// "[ T1234] " (CONFIG_PRINTK_CALLER). A task-table row "[  390] " is none of these.
Bracket classifyBracket(string_view s, string_view& content, size_t& length) {
  if (s.empty() || s[0] != '[') return Bracket::kNone;
  const size_t close = s.substr(0, kMaxPrefixField).find(']');
  if (close == string_view::npos || close + 1 >= s.size() || s[close + 1] != ' ') {
    return Bracket::kNone;
  }
  content = trim(s.substr(1, close - 1));
  length = close + 2;
  const size_t dot = content.find('.');
  if (dot != string_view::npos && allDigits(content.substr(0, dot)) &&
      allDigits(content.substr(dot + 1))) {
    return Bracket::kTimestamp;
  }
  for (size_t i = 0; i + 1 < content.size(); ++i) {
    if (timeOfDayEnd(content, i) != 0) return Bracket::kTimestamp;
  }
  const bool caller = content.size() > 1 && (content[0] == 'T' || content[0] == 'C') &&
                      allDigits(content.substr(1));
  return caller ? Bracket::kCaller : Bracket::kNone;
}

string_view stripBrackets(string_view s, LogLine& out) {
  for (int round = 0; round < 2; ++round) {
    string_view content;
    size_t length = 0;
    const Bracket kind = classifyBracket(s, content, length);
    if (kind == Bracket::kNone) break;
    if (kind == Bracket::kTimestamp && out.timestamp.empty()) out.timestamp = content;
    s.remove_prefix(length);
  }
  return s;
}

// "name[pid]:" is another program's syslog tag.
bool isProgramTag(string_view token) {
  return token.size() > 3 && token.substr(token.size() - 2) == "]:" &&
         token.find('[') != string_view::npos;
}

// After a date: "host kernel: ", "kernel: ", "host prog[12]: " or nothing we know. Another
// program's tag is only believed after a syslog date: after dmesg's "[seconds]" the same shape
// may be the start of a kernel message (a comm such as "x[1]:").
string_view stripHostAndTag(string_view s, LogLine& out, bool program_tags) {
  string_view rest = s;
  const string_view first = nextToken(rest);
  string_view after_second = rest;
  const string_view second = nextToken(after_second);
  const auto textAfter = [](string_view r) { return r.empty() ? r : r.substr(1); };
  if (first == "kernel:") return textAfter(rest);
  if (second == "kernel:") {
    out.host = first;
    return textAfter(after_second);
  }
  if (!program_tags) return s;
  if (isProgramTag(first)) {
    out.from_kernel = false;
    return textAfter(rest);
  }
  if (isProgramTag(second)) {
    out.host = first;
    out.from_kernel = false;
    return textAfter(after_second);
  }
  return s;
}

string_view stripDatePrefix(string_view s, LogLine& out) {
  size_t length = syslogDateLength(s);
  if (length == 0) length = isoDateLength(s);
  if (length == 0) return s;
  out.timestamp = s.substr(0, length);
  return stripHostAndTag(s.substr(length + 1), out, /*program_tags=*/true);
}

}  // namespace

LogLine parseLogLine(string_view line) {
  LogLine out;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  line = stripMailQuotes(line);
  if (isKmsgDictionaryLine(line)) {
    out.text = line;
    out.from_kernel = false;
    return out;
  }
  if (parseKmsgRecord(line, out)) return out;
  line = stripPriority(line, out);
  line = stripFacilityLevel(line, out);
  const string_view before_brackets = line;
  line = stripBrackets(line, out);
  if (line.size() == before_brackets.size()) {
    line = stripDatePrefix(line, out);
  } else if (!out.timestamp.empty()) {
    line = stripHostAndTag(
        line, out,
        /*program_tags=*/false);  // journalctl -o short-monotonic: "[ 412.7] host kernel: "
  }
  line = stripBrackets(line, out);  // syslog "kernel: [  412.766678] text"
  out.text = line;
  return out;
}

std::string timestampText(const LogLine& line) {
  if (!line.timestamp_in_usec) return std::string(line.timestamp);
  constexpr size_t kDecimals = 6;
  const std::string_view usec = line.timestamp;
  const std::string padded =
      std::string(usec.size() <= kDecimals ? kDecimals + 1 - usec.size() : 0, '0') +
      std::string(usec);
  return padded.substr(0, padded.size() - kDecimals) + "." +
         padded.substr(padded.size() - kDecimals);
}

}  // namespace oomkit::core
