// oomkit/core/log_line.h — one line of a kernel log, with whatever prefix the log added split off.
//
// The kernel's message reaches a file through many hands, and each adds its own prefix:
// /dev/kmsg records ("4,348,321568863,-;text", Documentation/ABI/testing/dev-kmsg), dmesg
// ("[  412.766678] text", with -T "[Di Aug 12 03:54:03 2025] text" in the reader's locale, with
// -x "kern  :warn  : "), syslog and journalctl ("Nov 22 01:02:03 host kernel: text",
// short-iso "2026-11-22T01:02:03+0100 host kernel: text"), and mail clients ("> "). This file
// strips them and says what they said; it does not interpret the message. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

namespace oomkit::core {

struct LogLine {
  std::string_view text;       // the kernel's message, with every known prefix removed
  std::string_view timestamp;  // the first timestamp of the prefix, as written; empty if none
  std::string_view host;       // the syslog/journal host name; empty if none
  // False when the line is not a kernel message: another program's syslog line (a tag other
  // than "kernel:"), a /dev/kmsg record written by user space (facility != 0), or a /dev/kmsg
  // dictionary continuation line (" SUBSYSTEM=...").
  bool from_kernel = true;
  // True for a /dev/kmsg record, whose timestamp is microseconds since boot.
  bool timestamp_in_usec = false;
};

// The timestamp as a report shows it: as written, except that /dev/kmsg's microseconds are
// written as dmesg writes them, seconds with six decimals ("321568863" → "321.568863").
std::string timestampText(const LogLine& line);

// Splits `line` (without its '\n'; a trailing '\r' is dropped) into prefix facts and message.
// A line with no recognised prefix is returned whole as the message. The views point into
// `line`.
LogLine parseLogLine(std::string_view line);

// rsyslog writes each control character of a message as "#" and three octal digits, so a
// multi-line kernel message becomes one syslog line with "#012" where the newlines were. Calls
// `fn(piece)` for each '\n'-separated piece of `text` (once, with `text`, when there is none).
template <typename Fn>
void forEachRsyslogLine(std::string_view text, Fn&& fn) {
  constexpr std::string_view kEscapedNewline = "#012";
  while (true) {
    const size_t at = text.find(kEscapedNewline);
    fn(text.substr(0, at));
    if (at == std::string_view::npos) return;
    text.remove_prefix(at + kEscapedNewline.size());
  }
}

}  // namespace oomkit::core
