#include "daemon/table.hpp"

#include <algorithm>

namespace giftgate {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 15];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

bool parse_format(std::string_view name, Format* format) {
  if (name == "table") *format = Format::table;
  else if (name == "csv") *format = Format::csv;
  else if (name == "json") *format = Format::json;
  else return false;
  return true;
}

std::size_t display_width(std::string_view s) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    // Three-byte sequences from U+1100 up are mostly CJK and full-width forms.
    width += len == 3 && b >= 0xE1 ? 2 : 1;
    i += len;
  }
  return width;
}

void print(std::ostream& out, const Table& t, Format format) {
  const auto numeric = [&](std::size_t i) { return i < t.numeric.size() && t.numeric[i]; };
  switch (format) {
    case Format::csv:
      for (std::size_t i = 0; i < t.columns.size(); ++i)
        out << (i ? "," : "") << csv_field(t.columns[i]);
      out << "\n";
      for (const auto& row : t.rows) {
        for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_field(row[i]);
        out << "\n";
      }
      return;
    case Format::json:
      out << "[";
      for (std::size_t r = 0; r < t.rows.size(); ++r) {
        out << (r ? ",\n " : "\n ") << "{";
        for (std::size_t i = 0; i < t.columns.size() && i < t.rows[r].size(); ++i) {
          const auto& v = t.rows[r][i];
          out << (i ? ", " : "") << json_string(t.columns[i]) << ": "
              << (numeric(i) && !v.empty() ? v : json_string(v));
        }
        out << "}";
      }
      out << (t.rows.empty() ? "]\n" : "\n]\n");
      return;
    case Format::table: {
      std::vector<std::size_t> widths;
      for (const auto& c : t.columns) widths.push_back(display_width(c));
      for (const auto& row : t.rows)
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
          widths[i] = std::max(widths[i], display_width(row[i]));
      auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
          const std::string pad(widths[i] - display_width(cells[i]), ' ');
          if (i) text += "  ";
          text += numeric(i) ? pad + cells[i] : cells[i] + (i + 1 < cells.size() ? pad : "");
        }
        out << text << "\n";
      };
      line(t.columns);
      std::vector<std::string> rule;
      for (auto w : widths) rule.emplace_back(w, '-');
      line(rule);
      for (const auto& row : t.rows) line(row);
      return;
    }
  }
}

}  // namespace giftgate
