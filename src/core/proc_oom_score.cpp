// Format: fs/proc/base.c proc_oom_score() ("%lu\n") and oom_score_adj_read() ("%d\n"),
// unchanged from 3.10 to 6.18.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// OOM_SCORE_ADJ_MIN and OOM_SCORE_ADJ_MAX (include/uapi/linux/oom.h); oom_score_adj_write()
// rejects anything outside, so the file never holds more.
constexpr int64_t kOomScoreAdjMin = -1000;
constexpr int64_t kOomScoreAdjMax = 1000;

}  // namespace

Result<int32_t> parseOomScoreAdj(std::string_view text) {
  const auto adj = parseI64(stripTrailingNewline(text));
  if (!adj || *adj < kOomScoreAdjMin || *adj > kOomScoreAdjMax) {
    return makeError(Errc::kParse,
                     "oom_score_adj: not an integer in [-1000, 1000]: " + quoteBytes(text));
  }
  return static_cast<int32_t>(*adj);
}

Result<int64_t> parseOomScore(std::string_view text) {
  const auto score = parseU64(stripTrailingNewline(text));
  if (!score || *score > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return makeError(Errc::kParse, "oom_score: not a non-negative integer: " + quoteBytes(text));
  }
  return static_cast<int64_t>(*score);
}

}  // namespace oomkit::core
