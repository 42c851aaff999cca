// The one UTF-8 module: what is UTF-8 (checked against the table of
// well-formed byte sequences in The Unicode Standard, section 3.9, table
// 3-7, not against the decoder's own logic), what a reader does with a byte
// that is not, and the encoder's answer to what UTF-8 cannot carry.
#include <doctest/doctest.h>

#include <array>
#include <string>

#include <fmt/format.h>

#include "daemon/campaign/keywords.hpp"
#include "daemon/campaign/phone.hpp"
#include "daemon/campaign/table.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "protocol/charset.hpp"
#include "protocol/utf8.hpp"

using namespace giftgate;

namespace {

// Table 3-7: each well-formed sequence as ranges of its bytes.
struct Row {
  int length;
  std::array<std::array<unsigned, 2>, 4> bytes;
};
constexpr Row kWellFormed[] = {
    {1, {{{0x00, 0x7F}}}},
    {2, {{{0xC2, 0xDF}, {0x80, 0xBF}}}},
    {3, {{{0xE0, 0xE0}, {0xA0, 0xBF}, {0x80, 0xBF}}}},
    {3, {{{0xE1, 0xEC}, {0x80, 0xBF}, {0x80, 0xBF}}}},
    {3, {{{0xED, 0xED}, {0x80, 0x9F}, {0x80, 0xBF}}}},
    {3, {{{0xEE, 0xEF}, {0x80, 0xBF}, {0x80, 0xBF}}}},
    {4, {{{0xF0, 0xF0}, {0x90, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}}},
    {4, {{{0xF1, 0xF3}, {0x80, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}}},
    {4, {{{0xF4, 0xF4}, {0x80, 0x8F}, {0x80, 0xBF}, {0x80, 0xBF}}}},
};

// How long the well-formed sequence at the start of s is, by the table; 0
// when none starts there.
std::size_t table_length(const std::string& s) {
  for (const auto& row : kWellFormed) {
    if (s.size() < static_cast<std::size_t>(row.length)) continue;
    bool match = true;
    for (int i = 0; i < row.length && match; ++i) {
      const auto b = static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
      match = b >= row.bytes[static_cast<std::size_t>(i)][0] &&
              b <= row.bytes[static_cast<std::size_t>(i)][1];
    }
    if (match) return static_cast<std::size_t>(row.length);
  }
  return 0;
}

// Whether next() agrees with the table on s: reads exactly the table's
// sequence, or nothing (pos unmoved) where the table has none.
bool agrees(const std::string& s) {
  std::size_t pos = 0;
  const auto c = utf8::next(s, pos);
  const std::size_t expected = table_length(s);
  return expected == 0 ? (!c && pos == 0) : (c && pos == expected);
}

std::string bytes(std::initializer_list<unsigned> list) {
  std::string s;
  for (unsigned b : list) s += static_cast<char>(b);
  return s;
}

}  // namespace

TEST_CASE("utf8: every sequence of up to three bytes is read as the Unicode table says") {
  // All 16.8 million three-byte strings, so every one- and two-byte prefix
  // followed by more; a failure names the first disagreement only.
  std::string s(3, '\0');
  std::size_t disagreements = 0;
  std::string first;
  for (unsigned a = 0; a < 256; ++a)
    for (unsigned b = 0; b < 256; ++b)
      for (unsigned c = 0; c < 256; ++c) {
        s[0] = static_cast<char>(a), s[1] = static_cast<char>(b), s[2] = static_cast<char>(c);
        if (!agrees(s) && disagreements++ == 0) first = fmt::format("{:02X} {:02X} {:02X}", a, b, c);
      }
  // And each one- and two-byte string on its own (a sequence cut short).
  for (unsigned a = 0; a < 256; ++a) {
    if (!agrees(bytes({a})) && disagreements++ == 0) first = fmt::format("{:02X}", a);
    for (unsigned b = 0; b < 256; ++b)
      if (!agrees(bytes({a, b})) && disagreements++ == 0) first = fmt::format("{:02X} {:02X}", a, b);
  }
  INFO("first disagreement: ", first);
  CHECK(disagreements == 0);
}

TEST_CASE("utf8: four-byte sequences as the Unicode table says") {
  std::size_t disagreements = 0;
  for (unsigned a = 0xF0; a < 256; ++a)
    for (unsigned b = 0; b < 256; ++b)
      for (unsigned c : {0x7Fu, 0x80u, 0xBFu, 0xC0u})
        for (unsigned d : {0x41u, 0x80u, 0xBFu, 0xC0u}) {
          if (!agrees(bytes({a, b, c, d}))) ++disagreements;
          if (!agrees(bytes({a, b, c}))) ++disagreements;  // cut short
        }
  CHECK(disagreements == 0);
}

TEST_CASE("utf8: the values at the edges of each length, and what is refused") {
  const auto one = [](const std::string& s) -> std::optional<char32_t> {
    std::size_t pos = 0;
    auto c = utf8::next(s, pos);
    return c && pos == s.size() ? c : std::nullopt;
  };
  CHECK(one(bytes({0x7F})) == U'\x7F');
  CHECK(one(bytes({0xC2, 0x80})) == U'\x80');
  CHECK(one(bytes({0xDF, 0xBF})) == U'\x7FF');
  CHECK(one(bytes({0xE0, 0xA0, 0x80})) == U'\x800');
  CHECK(one(bytes({0xED, 0x9F, 0xBF})) == U'\xD7FF');
  CHECK(one(bytes({0xEE, 0x80, 0x80})) == U'\xE000');
  CHECK(one(bytes({0xEF, 0xBF, 0xBF})) == U'\xFFFF');
  CHECK(one(bytes({0xF0, 0x90, 0x80, 0x80})) == U'\x10000');
  CHECK(one(bytes({0xF4, 0x8F, 0xBF, 0xBF})) == U'\x10FFFF');
  // Overlong forms of NUL, '/' and U+FFFF.
  CHECK_FALSE(one(bytes({0xC0, 0x80})));
  CHECK_FALSE(one(bytes({0xC0, 0xAF})));
  CHECK_FALSE(one(bytes({0xE0, 0x80, 0xAF})));
  CHECK_FALSE(one(bytes({0xF0, 0x8F, 0xBF, 0xBF})));
  // Surrogates, past U+10FFFF, and bytes that start nothing.
  CHECK_FALSE(one(bytes({0xED, 0xA0, 0x80})));
  CHECK_FALSE(one(bytes({0xED, 0xBF, 0xBF})));
  CHECK_FALSE(one(bytes({0xF4, 0x90, 0x80, 0x80})));
  CHECK_FALSE(one(bytes({0xF8, 0x88, 0x80, 0x80, 0x80})));
  CHECK_FALSE(one(bytes({0x80})));
  CHECK_FALSE(one(bytes({0xFF})));
  CHECK(utf8::valid("积分 ok €"));
  CHECK_FALSE(utf8::valid("ok \xE7\xA7"));
  std::u32string decoded;
  CHECK(utf8::decode("a积\xF0\x9F\x98\x80", decoded));
  CHECK(decoded == U"a积\U0001F600");
  CHECK_FALSE(utf8::decode("a\xC0\x80", decoded));
}

TEST_CASE("utf8: a reader that goes on takes each bad byte as one character") {
  // E7 starts a three-byte sequence that 'A' breaks: E7 is one bad
  // character, 'A' is read, A7 (a lone continuation) is another.
  const std::string text = "a\xE7" "A\xA7";
  std::size_t pos = 0;
  CHECK(utf8::next_or_replacement(text, pos) == U'a');
  CHECK(utf8::next_or_replacement(text, pos) == utf8::kReplacement);
  CHECK(pos == 2);
  CHECK(utf8::next_or_replacement(text, pos) == U'A');
  CHECK(utf8::next_or_replacement(text, pos) == utf8::kReplacement);
  CHECK(pos == text.size());
  CHECK(utf8::length(text) == 4);
  CHECK(utf8::length("积分 ok") == 5);
  CHECK(utf8::length(bytes({0xC0, 0x80})) == 2);
  CHECK(utf8::length("") == 0);
}

TEST_CASE("utf8: each reader in the campaign applies the same rule") {
  const std::string overlong = bytes({0xC0, 0x80});  // NUL, written long
  const std::string surrogate = bytes({0xED, 0xA0, 0x80});
  // Keywords: U+FFFD for each bad byte, so nothing matches.
  CHECK(fold_keyword_text("jf" + overlong) == "JF\uFFFD\uFFFD");
  CHECK(fold_keyword_text(surrogate) == "\uFFFD\uFFFD\uFFFD");
  // Shown to operators: each bad byte as \xNN, four columns each.
  CHECK(escape_text("a" + overlong) == "a\\xc0\\x80");
  CHECK(escape_text(surrogate) == "\\xed\\xa0\\x80");
  CHECK(display_width(overlong) == 8);
  CHECK(has_unprintable(surrogate));
  // Codes and numbers: refused.
  CHECK_FALSE(normalize_voucher_code("AB" + overlong + "1234567"));
  CHECK_FALSE(normalize_msisdn("1380013800" + surrogate));
  // SMS text: not sent, not counted.
  CHECK_FALSE(smpp::utf16_length(overlong));
}

TEST_CASE("utf8: the encoder writes what UTF-8 can carry, and U+FFFD for the rest") {
  for (char32_t c : {U'\0', U'\x7F', U'\x80', U'\x7FF', U'\x800', U'\xD7FF', U'\xE000',
                     U'\xFFFF', U'\x10000', U'\x10FFFF'}) {
    std::string out;
    utf8::append(out, c);
    std::size_t pos = 0;
    CAPTURE(static_cast<unsigned>(c));
    CHECK(utf8::next(out, pos) == c);
    CHECK(pos == out.size());
  }
  for (char32_t c : {char32_t{0xD800}, char32_t{0xDFFF}, char32_t{0x110000}, char32_t{0xFFFFFFFF}}) {
    std::string out = "x";
    utf8::append(out, c);
    CAPTURE(static_cast<unsigned>(c));
    CHECK(out == "x\uFFFD");
  }
}

TEST_CASE("utf8: text is cut before its last character, never inside one") {
  CHECK(utf8::last_start("") == 0);
  CHECK(utf8::last_start("a") == 0);
  CHECK(utf8::last_start("ab") == 1);
  CHECK(utf8::last_start("a积") == 1);
  CHECK(utf8::last_start("a\xF0\x9F\x98\x80") == 1);
  CHECK(utf8::last_start("a€") == 1);
  // Not the end of a sequence: the last byte alone.
  CHECK(utf8::last_start("积\xE7\xA7") == 4);
  CHECK(utf8::last_start("a\xA7") == 1);
  CHECK(utf8::last_start(bytes({0xC0, 0x80})) == 1);
}
