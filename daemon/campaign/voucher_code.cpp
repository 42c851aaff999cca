#include "daemon/campaign/voucher_code.hpp"

#include <array>
#include <cstdint>

#include <openssl/rand.h>

#include "protocol/utf8.hpp"

namespace giftgate {
namespace {

constexpr std::string_view kLetters = "ABCDEFGHJKLMNPQRSTUVWXYZ";  // no I, no O
static_assert(kLetters.size() == 24);

// The Damm algorithm's weakly totally anti-symmetric quasigroup of order 10.
constexpr std::array<std::array<std::uint8_t, 10>, 10> kDamm{{
    {0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
    {7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
    {4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
    {1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
    {6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
    {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
    {5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
    {8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
    {9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
    {2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Draws a uniform value below `bound` (<= 256) from the secure generator.
std::optional<unsigned> uniform_below(unsigned bound) {
  const unsigned limit = 256 - 256 % bound;  // bytes at or past this would bias
  for (int tries = 0; tries < 64; ++tries) {
    unsigned char byte = 0;
    if (RAND_bytes(&byte, 1) != 1) return std::nullopt;
    if (byte < limit) return byte % bound;
  }
  return std::nullopt;
}

bool is_separator(char32_t cp) {
  switch (cp) {
    case U' ': case U'\t': case U'-': case U'_': case U'.':
    case 0x00A0:  // no-break space
    case 0x2212:  // minus sign
    case 0x3000:  // ideographic space
    case 0x30FC:  // katakana-hiragana prolonged sound mark, typed as a dash
    case 0xFE63:  // small hyphen-minus
    case 0xFF0D:  // full-width hyphen-minus
      return true;
    default:
      return cp >= 0x2010 && cp <= 0x2015;  // hyphens and dashes
  }
}

// Full-width ASCII (U+FF01..FF5E) folded to ASCII; other code points as they are.
char32_t fold_width(char32_t cp) { return cp >= 0xFF01 && cp <= 0xFF5E ? cp - 0xFEE0 : cp; }

}  // namespace

std::optional<std::string> generate_voucher_code() {
  std::string code;
  for (int k = 0; k < 2; ++k) {
    const auto v = uniform_below(kLetters.size());
    if (!v) return std::nullopt;
    code += kLetters[*v];
  }
  for (int k = 0; k < 7; ++k) {
    const auto v = uniform_below(10);
    if (!v) return std::nullopt;
    code += static_cast<char>('0' + *v);
  }
  code += *voucher_check_digit(code);
  return code;
}

std::optional<char> voucher_check_digit(std::string_view first_nine) {
  if (first_nine.size() != kVoucherCodeLength - 1) return std::nullopt;
  std::uint8_t interim = 0;
  for (std::size_t i = 0; i < first_nine.size(); ++i) {
    const char c = first_nine[i];
    if (i < 2) {
      const auto place = kLetters.find(c);
      if (place == std::string_view::npos) return std::nullopt;
      interim = kDamm[interim][place / 10];
      interim = kDamm[interim][place % 10];
    } else {
      if (!is_digit(c)) return std::nullopt;
      interim = kDamm[interim][c - '0'];
    }
  }
  return static_cast<char>('0' + interim);
}

std::optional<std::string> normalize_voucher_code(std::string_view typed) {
  std::string out;
  for (std::size_t i = 0; i < typed.size();) {
    const auto cp = utf8::next(typed, i);
    if (!cp) return std::nullopt;
    if (is_separator(*cp)) continue;
    char32_t c = fold_width(*cp);
    if (c >= U'a' && c <= U'z') c -= U'a' - U'A';
    if (c > 0x7F || out.size() >= kVoucherCodeLength) return std::nullopt;
    if (out.size() >= 2) {  // a digit position
      if (c == U'O') c = U'0';
      else if (c == U'I' || c == U'L') c = U'1';
    }
    out += static_cast<char>(c);
  }
  if (out.size() != kVoucherCodeLength) return std::nullopt;
  return out;
}

CodeCheck check_voucher_code(std::string_view typed, std::string* canonical) {
  const auto code = normalize_voucher_code(typed);
  if (!code) return CodeCheck::bad_format;
  const auto check = voucher_check_digit(std::string_view(*code).substr(0, kVoucherCodeLength - 1));
  if (!check || !is_digit(code->back())) return CodeCheck::bad_format;
  if (*check != code->back()) return CodeCheck::bad_check_digit;
  if (canonical) *canonical = *code;
  return CodeCheck::ok;
}

std::string redact_voucher_code(std::string_view code) {
  std::string out(code.substr(0, 2));
  out.append(code.size() > 2 ? code.size() - 2 : 0, '*');
  return out;
}

}  // namespace giftgate
