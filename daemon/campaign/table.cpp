#include "daemon/campaign/table.hpp"

#include <algorithm>

#include <utf8proc.h>

#include "protocol/utf8.hpp"

namespace giftgate {
namespace {

// What may not reach a terminal as it is. C0 and C1 controls and DEL drive
// the terminal (ESC and its 8-bit forms CSI 0x9B and OSC 0x9D start escape
// sequences; CR and NL start a line that can pass for a row). The
// bidirectional controls reorder the text after them, so a line can read
// other than it is stored; some viewers break lines at U+2028 and U+2029.
bool unprintable(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
         (c >= 0x2028 && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

void append_hex(std::string& out, const char* prefix, unsigned value, int digits) {
  static const char* hex = "0123456789abcdef";
  out += prefix;
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += hex[(value >> shift) & 15];
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string json_string(std::string_view s) {
  return "\"" + escape_text(s, Escaping::json) + "\"";
}


}  // namespace

bool plain_number(std::string_view v) {
  std::size_t i = !v.empty() && v[0] == '-' ? 1 : 0;
  const std::size_t digits = i;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
  if (i == digits) return false;
  if (i < v.size() && v[i] == '.') {
    const std::size_t point = ++i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == point) return false;
  }
  return i == v.size();
}

std::string escape_text(std::string_view text, Escaping style) {
  const bool json = style == Escaping::json;
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t at = pos;
    const auto c = utf8::next(text, pos);
    if (!c) {  // not UTF-8: the byte's value, as text
      append_hex(out, json ? "\\\\x" : "\\x", static_cast<unsigned char>(text[at]), 2);
      pos = at + 1;
      continue;
    }
    switch (*c) {
      case U'\\': out += "\\\\"; continue;
      case U'\n': out += "\\n"; continue;
      case U'\t': out += "\\t"; continue;
      case U'\r': out += "\\r"; continue;
      case U'"':
        out += json ? "\\\"" : "\"";
        continue;
      default: break;
    }
    if (!unprintable(*c)) out.append(text.substr(at, pos - at));
    else if (json || *c > 0x7F) append_hex(out, "\\u", static_cast<unsigned>(*c), 4);
    else append_hex(out, "\\x", static_cast<unsigned>(*c), 2);
  }
  return out;
}

bool has_unprintable(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto c = utf8::next(text, pos);
    if (!c || unprintable(*c)) return true;
  }
  return false;
}

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
    const auto c = utf8::next(s, i);
    if (!c) {  // escaped before it is shown: \xNN
      ++i;
      width += 4;
      continue;
    }
    width += static_cast<std::size_t>(std::max(0, utf8proc_charwidth(static_cast<utf8proc_int32_t>(*c))));
  }
  return width;
}

void print(std::ostream& out, const Table& t, Format format) {
  const auto numeric = [&](std::size_t i) { return i < t.numeric.size() && t.numeric[i]; };
  switch (format) {
    case Format::csv:
      for (std::size_t i = 0; i < t.columns.size(); ++i)
        out << (i ? "," : "") << csv_field(escape_text(t.columns[i]));
      out << "\n";
      for (const auto& row : t.rows) {
        for (std::size_t i = 0; i < row.size(); ++i)
          out << (i ? "," : "") << csv_field(escape_text(row[i]));
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
              << (numeric(i) && plain_number(v) ? v : json_string(v));
        }
        out << "}";
      }
      out << (t.rows.empty() ? "]\n" : "\n]\n");
      return;
    case Format::table: {
      const auto escaped = [](const std::vector<std::string>& cells) {
        std::vector<std::string> out;
        for (const auto& c : cells) out.push_back(escape_text(c));
        return out;
      };
      const std::vector<std::string> columns = escaped(t.columns);
      std::vector<std::vector<std::string>> rows;
      for (const auto& row : t.rows) rows.push_back(escaped(row));
      std::vector<std::size_t> widths;
      for (const auto& c : columns) widths.push_back(display_width(c));
      for (const auto& row : rows)
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
      line(columns);
      std::vector<std::string> rule;
      for (auto w : widths) rule.emplace_back(w, '-');
      line(rule);
      for (const auto& row : rows) line(row);
      return;
    }
  }
}

}  // namespace giftgate
