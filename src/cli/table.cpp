#include "table.h"

#include <fmt/format.h>

#include <algorithm>

namespace oomkit::cli {

void Table::print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& c : columns_)
    widths.push_back(c.header.size());
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  const auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < columns_.size(); ++i) {
      const std::string& cell = i < cells.size() ? cells[i] : std::string();
      const bool last = i + 1 == columns_.size();
      if (i > 0) line += "  ";
      if (columns_[i].align == Align::kRight) {
        line += fmt::format("{:>{}}", cell, widths[i]);
      } else {
        line += last ? cell : fmt::format("{:<{}}", cell, widths[i]);
      }
    }
    out << line << '\n';
  };
  std::vector<std::string> headers;
  for (const auto& c : columns_)
    headers.push_back(c.header);
  emit(headers);
  for (const auto& row : rows_)
    emit(row);
}

std::string humanKb(uint64_t kb) {
  if (kb < 1024) return fmt::format("{}K", kb);
  const double mib = static_cast<double>(kb) / 1024.0;
  if (mib < 1024.0) return fmt::format("{:.1f}M", mib);
  return fmt::format("{:.2f}G", mib / 1024.0);
}

}  // namespace oomkit::cli
