#include "protocol/gsm7.hpp"

#include <array>

#include "protocol/charset.hpp"
#include "protocol/utf8.hpp"

namespace giftgate::smpp {
namespace {

// TS 23.038 table 6.2.1: the basic character set, by septet value.
constexpr std::array<char32_t, 128> kBasic = {
    U'@',    U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å', U'å',
    U'Δ',    U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ',  0,    U'Æ', U'æ',  U'ß', U'É',
    U' ',    U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',', U'-',  U'.', U'/',
    U'0',    U'1', U'2', U'3', U'4', U'5', U'6', U'7', U'8', U'9', U':',  U';', U'<', U'=',  U'>', U'?',
    U'¡',    U'A', U'B', U'C', U'D', U'E', U'F', U'G', U'H', U'I', U'J',  U'K', U'L', U'M',  U'N', U'O',
    U'P',    U'Q', U'R', U'S', U'T', U'U', U'V', U'W', U'X', U'Y', U'Z',  U'Ä', U'Ö', U'Ñ',  U'Ü', U'§',
    U'¿',    U'a', U'b', U'c', U'd', U'e', U'f', U'g', U'h', U'i', U'j',  U'k', U'l', U'm',  U'n', U'o',
    U'p',    U'q', U'r', U's', U't', U'u', U'v', U'w', U'x', U'y', U'z',  U'ä', U'ö', U'ñ',  U'ü', U'à',
};

struct Extension {
  std::uint8_t code;
  char32_t c;
};

// TS 23.038 table 6.2.1.1: the extension table, reached by the escape septet.
constexpr Extension kExtension[] = {
    {0x0A, U'\f'}, {0x14, U'^'}, {0x28, U'{'}, {0x29, U'}'}, {0x2F, U'\\'},
    {0x3C, U'['},  {0x3D, U'~'}, {0x3E, U']'}, {0x40, U'|'}, {0x65, U'€'},
};

// The septets for one code point: 1 (basic), 2 (escape pair) or 0.
std::size_t lookup(char32_t c, std::uint8_t& code) {
  if (c == 0x1B) return 0;  // the escape itself is not a character
  for (std::size_t i = 0; i < kBasic.size(); ++i)
    if (kBasic[i] == c && i != gsm7_escape) {
      code = static_cast<std::uint8_t>(i);
      return 1;
    }
  for (const auto& e : kExtension)
    if (e.c == c) {
      code = e.code;
      return 2;
    }
  return 0;
}

}  // namespace

std::size_t gsm7_septets(char32_t c) {
  std::uint8_t code = 0;
  return lookup(c, code);
}

bool gsm7_encode(std::string_view utf8, std::vector<std::uint8_t>& septets) {
  std::u32string chars;
  if (!utf8::decode(utf8, chars)) return false;
  septets.clear();
  septets.reserve(chars.size());
  for (char32_t c : chars) {
    std::uint8_t code = 0;
    const std::size_t n = lookup(c, code);
    if (n == 0) return false;
    if (n == 2) septets.push_back(gsm7_escape);
    septets.push_back(code);
  }
  return true;
}

std::optional<std::size_t> gsm7_length(std::string_view utf8) {
  std::u32string chars;
  if (!utf8::decode(utf8, chars)) return std::nullopt;
  std::size_t total = 0;
  for (char32_t c : chars) {
    const std::size_t n = gsm7_septets(c);
    if (n == 0) return std::nullopt;
    total += n;
  }
  return total;
}

std::string gsm7_decode(std::span<const std::uint8_t> septets) {
  std::string out;
  out.reserve(septets.size());
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const std::uint8_t s = septets[i] & 0x7F;
    if (s != gsm7_escape) {
      utf8::append(out, kBasic[s]);
      continue;
    }
    if (i + 1 == septets.size()) {
      out.push_back(' ');
      break;
    }
    const std::uint8_t code = septets[++i] & 0x7F;
    char32_t c = code == gsm7_escape ? U' ' : kBasic[code];
    for (const auto& e : kExtension)
      if (e.code == code) c = e.c;
    utf8::append(out, c);
  }
  return out;
}

std::vector<std::uint8_t> gsm7_pack(std::span<const std::uint8_t> septets, unsigned fill_bits) {
  fill_bits %= 7;
  const std::size_t bits = fill_bits + 7 * septets.size();
  std::vector<std::uint8_t> out((bits + 7) / 8, 0);
  std::size_t at = fill_bits;
  auto put = [&](std::uint8_t septet) {
    const std::size_t byte = at / 8, shift = at % 8;
    out[byte] |= static_cast<std::uint8_t>((septet & 0x7F) << shift);
    if (shift > 1 && byte + 1 < out.size())
      out[byte + 1] |= static_cast<std::uint8_t>((septet & 0x7F) >> (8 - shift));
    at += 7;
  };
  for (auto s : septets) put(s);
  if (out.size() * 8 - bits == 7) put(0x0D);  // padding a receiver must not read as '@'
  return out;
}

std::vector<std::uint8_t> gsm7_unpack(std::span<const std::uint8_t> octets, std::size_t count,
                                      unsigned fill_bits) {
  fill_bits %= 7;
  const std::size_t available = octets.size() * 8 > fill_bits
                                    ? (octets.size() * 8 - fill_bits) / 7
                                    : 0;
  if (count > available) count = available;
  std::vector<std::uint8_t> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t at = fill_bits + 7 * i;
    const std::size_t byte = at / 8, shift = at % 8;
    unsigned value = octets[byte] >> shift;
    if (shift > 1) value |= static_cast<unsigned>(octets[byte + 1]) << (8 - shift);
    out.push_back(static_cast<std::uint8_t>(value & 0x7F));
  }
  return out;
}

std::vector<std::uint8_t> gsm7_unpack_all(std::span<const std::uint8_t> octets,
                                          unsigned fill_bits) {
  fill_bits %= 7;
  const std::size_t bits = octets.size() * 8 > fill_bits ? octets.size() * 8 - fill_bits : 0;
  auto out = gsm7_unpack(octets, bits / 7, fill_bits);
  // When the septets end exactly at an octet boundary the last one may be the
  // sender's padding of seven spare bits: CR as TS 23.038 asks (a real final
  // CR is then sent twice), or zeros from careless encoders (the stray '@').
  if (!out.empty() && bits % 7 == 0 && (out.back() == 0x0D || out.back() == 0x00)) out.pop_back();
  return out;
}

}  // namespace giftgate::smpp
