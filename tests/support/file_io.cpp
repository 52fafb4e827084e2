#include "support/file_io.h"

#include "oomkit/core/text.h"

namespace oomkit::test {

Error sysError(std::string_view what, const std::string& path, int err) {
  return sys::systemError(std::string(what) + " " + path, err);
}

std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines;
  core::forEachLine(text, [&lines](std::string_view line) { lines.emplace_back(line); });
  return lines;
}

std::optional<uint64_t> parseUint(std::string_view text) {
  return core::parseU64(core::trim(text));
}

}  // namespace oomkit::test
