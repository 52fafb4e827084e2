// cli/table.h — aligned text columns for human output.
//
// Rows are collected first, then printed with each column as wide as its widest cell;
// numeric columns are right-aligned. Not thread-safe.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace oomkit::cli {

class Table {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    Align align = Align::kRight;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void addRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// kB as a short human size: "0", "744K", "12.3M", "1.50G".
std::string humanKb(uint64_t kb);

}  // namespace oomkit::cli
