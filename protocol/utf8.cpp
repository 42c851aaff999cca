#include "protocol/utf8.hpp"

namespace giftgate::utf8 {

std::optional<char32_t> next(std::string_view text, std::size_t& pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  std::size_t n = 0;
  char32_t c = 0;
  if (b0 < 0x80) {
    n = 1, c = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    n = 2, c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, c = b0 & 0x07;
  } else {
    return std::nullopt;  // a continuation byte on its own, or 0xF8-0xFF
  }
  if (text.size() - pos < n) return std::nullopt;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[pos + k]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    c = (c << 6) | (b & 0x3F);
  }
  // Overlong forms (which could smuggle a '/' or a NUL past a check on
  // bytes), surrogates and values past U+10FFFF are not UTF-8.
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return std::nullopt;
  pos += n;
  return c;
}

char32_t next_or_replacement(std::string_view text, std::size_t& pos) {
  if (const auto c = next(text, pos)) return *c;
  ++pos;
  return kReplacement;
}

bool decode(std::string_view text, std::u32string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = next(text, i);
    if (!c) return false;
    out.push_back(*c);
  }
  return true;
}

bool valid(std::string_view text) {
  for (std::size_t i = 0; i < text.size();)
    if (!next(text, i)) return false;
  return true;
}

void append(std::string& out, char32_t c) {
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = kReplacement;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::size_t length(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++n) next_or_replacement(text, i);
  return n;
}

std::size_t last_start(std::string_view text) {
  if (text.empty()) return 0;
  // A character is at most four bytes: try each start that would end it
  // exactly at the end of the text.
  for (std::size_t back = 1; back <= 4 && back <= text.size(); ++back) {
    std::size_t pos = text.size() - back;
    if (next(text, pos) && pos == text.size()) return text.size() - back;
  }
  return text.size() - 1;
}

}  // namespace giftgate::utf8
