#include "daemon/console/html.hpp"

#include <fmt/format.h>

#include "daemon/http/form.hpp"

namespace giftgate::console {
namespace {

// The length of the UTF-8 sequence starting at s[i] if it is a valid one
// (no overlong forms, no surrogates, nothing past U+10FFFF), else 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;
    if (c == 0xED && b(1) >= 0xA0) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '&': out += "&amp;"; ++i; continue;
      case '<': out += "&lt;"; ++i; continue;
      case '>': out += "&gt;"; ++i; continue;
      case '"': out += "&quot;"; ++i; continue;
      case '\'': out += "&#39;"; ++i; continue;
      default: break;
    }
    if (u < 0x80) {
      out += (u < 0x20 && c != '\n' && c != '\t') || u == 0x7F ? "\xEF\xBF\xBD" : std::string(1, c);
      ++i;
      continue;
    }
    const auto n = utf8_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    // C1 controls (U+0080-U+009F) are two bytes C2 80..C2 9F.
    if (n == 2 && u == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0)
      out += "\xEF\xBF\xBD";
    else
      out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string table_html(const Table& table, std::string_view id, std::string_view empty,
                       std::optional<std::size_t> linked, std::string_view prefix) {
  if (table.rows.empty())
    return fmt::format("<p class=\"empty\" id=\"{}\">{}</p>\n", escape(id), escape(empty));
  std::string out = fmt::format("<table id=\"{}\">\n<thead><tr>", escape(id));
  for (std::size_t c = 0; c < table.columns.size(); ++c)
    out += fmt::format("<th{}>{}</th>", table.numeric[c] ? " class=\"n\"" : "",
                       escape(table.columns[c]));
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c)
      out += fmt::format("<td{}>{}</td>",
                         c < table.numeric.size() && table.numeric[c] ? " class=\"n\"" : "",
                         linked == c && !row[c].empty()
                             ? link(fmt::format("{}{}", prefix, path_segment(row[c])), row[c])
                             : escape(row[c]));
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string csrf_field(const Page& page) {
  return fmt::format("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", escape(page.session.csrf));
}

std::string post_form(const Page& page, std::string_view action, std::string_view id,
                      const std::string& inner, std::string_view button) {
  return fmt::format(
      "<form method=\"post\" action=\"{}\" id=\"{}\">{}{}<button type=\"submit\">{}</button></form>\n",
      escape(action), escape(id), csrf_field(page), inner, escape(button));
}

std::string reason_field(const Page& page) {
  return fmt::format(
      "<label>{} <input type=\"text\" name=\"reason\" required maxlength=\"200\"></label>",
      escape(tr(page.language, "Reason", "原因")));
}

std::string link(std::string_view href, std::string_view text) {
  return fmt::format("<a href=\"{}\">{}</a>", escape(href), escape(text));
}

std::string path_segment(std::string_view value) { return http::percent_encode(value); }

}  // namespace giftgate::console
