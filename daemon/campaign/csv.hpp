// Reading CSV files as operators export them from spreadsheets: a header
// line, comma separated, RFC 4180 quoting ("a, b" and "say ""hi"""), CRLF or
// LF, an optional UTF-8 byte-order mark. Each record keeps its line number
// for error messages; a quoted field may span lines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate {

struct CsvRecord {
  std::size_t line = 0;  // where the record starts, 1-based
  std::vector<std::string> fields;
};

class CsvReader {
 public:
  explicit CsvReader(std::string_view text);

  // The next record, or nullopt at the end or on an error (see error()).
  // Blank lines are skipped.
  std::optional<CsvRecord> next();

  const std::string& error() const { return error_; }  // empty unless next() failed
  std::size_t error_line() const { return error_line_; }
  std::size_t offset() const { return pos_; }  // bytes consumed, for progress

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::string error_;
  std::size_t error_line_ = 0;
};

// A header's column names mapped to their positions, checked against the
// columns a file kind needs and may have.
class CsvHeader {
 public:
  // Fails (error set) on a missing required column, an unknown or repeated
  // one. Column names are matched case-insensitively, spaces trimmed;
  // `optional_prefix` admits a family of columns ("offer_").
  bool parse(const CsvRecord& header, const std::vector<std::string_view>& required,
             const std::vector<std::string_view>& optional, std::string_view optional_prefix = {});

  // The position of a column, or -1 when the file does not have it.
  int index(std::string_view name) const;
  const std::vector<std::string>& names() const { return names_; }
  const std::string& error() const { return error_; }
  std::size_t error_line() const { return error_line_; }

 private:
  std::vector<std::string> names_;
  std::string error_;
  std::size_t error_line_ = 0;
};

// Trims ASCII spaces and tabs from both ends.
std::string_view trim(std::string_view s);

}  // namespace giftgate
