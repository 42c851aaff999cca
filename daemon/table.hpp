// Output for operators: the same rows as an aligned table (for a terminal),
// CSV (for spreadsheets) or JSON (for scripts).
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate {

struct Table {
  std::vector<std::string> columns;
  std::vector<bool> numeric;  // per column: right-aligned, and a number in JSON
  std::vector<std::vector<std::string>> rows;

  void add_column(std::string name, bool is_number = false) {
    columns.push_back(std::move(name));
    numeric.push_back(is_number);
  }
};

enum class Format { table, csv, json };

// "table", "csv" or "json"; false for anything else.
bool parse_format(std::string_view name, Format* format);

void print(std::ostream& out, const Table& table, Format format);

// Columns of display width: CJK characters count two.
std::size_t display_width(std::string_view utf8);

}  // namespace giftgate
