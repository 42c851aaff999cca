#include "daemon/campaign/csv.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/charset.hpp"

namespace giftgate {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

CsvReader::CsvReader(std::string_view text) : text_(text) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

std::optional<CsvRecord> CsvReader::next() {
  while (pos_ < text_.size()) {
    CsvRecord record;
    record.line = line_;
    std::string field;
    bool quoted = false;      // inside a quoted field
    bool was_quoted = false;  // this field started with a quote
    bool end = false;
    while (!end) {
      if (pos_ >= text_.size()) {
        if (quoted) {
          error_line_ = record.line;
          error_ = "a quoted field is not closed";
          return std::nullopt;
        }
        break;
      }
      const char c = text_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field += '"';
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') ++line_;
          field += c;
        }
        continue;
      }
      switch (c) {
        case '"':
          if (!field.empty() && !trim(field).empty()) {
            error_line_ = line_;
            error_ = "a quote inside an unquoted field";
            return std::nullopt;
          }
          field.clear();
          quoted = was_quoted = true;
          break;
        case ',':
          record.fields.push_back(was_quoted ? field : std::string(trim(field)));
          field.clear();
          was_quoted = false;
          break;
        case '\r':
          if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
          [[fallthrough]];
        case '\n':
          ++line_;
          end = true;
          break;
        default:
          if (was_quoted && c != ' ' && c != '\t') {
            error_line_ = line_;
            error_ = "text after a closing quote";
            return std::nullopt;
          }
          if (!was_quoted) field += c;
      }
    }
    record.fields.push_back(was_quoted ? field : std::string(trim(field)));
    const bool blank = record.fields.size() == 1 && record.fields[0].empty() && !was_quoted;
    if (!blank) return record;
  }
  return std::nullopt;
}

namespace {

std::string column_name(std::string_view raw) {
  return smpp::ascii_lower(trim(raw));
}

}  // namespace

bool CsvHeader::parse(const CsvRecord& header, const std::vector<std::string_view>& required,
                      const std::vector<std::string_view>& optional,
                      std::string_view optional_prefix) {
  names_.clear();
  for (const auto& raw : header.fields) {
    std::string name = column_name(raw);
    const bool known =
        std::find(required.begin(), required.end(), name) != required.end() ||
        std::find(optional.begin(), optional.end(), name) != optional.end() ||
        (!optional_prefix.empty() && name.size() > optional_prefix.size() &&
         name.compare(0, optional_prefix.size(), optional_prefix) == 0);
    if (!known) {
      error_line_ = header.line;
      error_ = fmt::format("unknown column '{}'", name);
      return false;
    }
    if (index(name) >= 0) {
      error_line_ = header.line;
      error_ = fmt::format("column '{}' appears twice", name);
      return false;
    }
    names_.push_back(std::move(name));
  }
  for (auto r : required) {
    if (index(r) < 0) {
      error_line_ = header.line;
      error_ = fmt::format("the header has no '{}' column (it needs {})", r,
                           fmt::join(required, ", "));
      return false;
    }
  }
  return true;
}

int CsvHeader::index(std::string_view name) const {
  const auto it = std::find(names_.begin(), names_.end(), name);
  return it == names_.end() ? -1 : static_cast<int>(it - names_.begin());
}

}  // namespace giftgate
