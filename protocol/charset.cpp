#include "protocol/charset.hpp"

#include "protocol/gsm7.hpp"
#include "protocol/utf8.hpp"

namespace giftgate::smpp {
namespace {

using utf8::kReplacement;

void put16(std::vector<std::uint8_t>& out, std::uint32_t unit) {
  out.push_back(static_cast<std::uint8_t>(unit >> 8));
  out.push_back(static_cast<std::uint8_t>(unit));
}

bool fits_default(char32_t c, DefaultAlphabet alphabet) {
  if (gsm7_septets(c) == 0) return false;
  switch (alphabet) {
    case DefaultAlphabet::ascii: return c < 0x80;
    case DefaultAlphabet::latin1: return c < 0x100;
    default: return true;
  }
}

}  // namespace

std::string_view to_string(Charset charset) {
  switch (charset) {
    case Charset::gsm7: return "gsm7";
    case Charset::ascii: return "ascii";
    case Charset::latin1: return "latin1";
    case Charset::ucs2: return "ucs2";
    case Charset::binary: return "binary";
  }
  return "unknown";
}

Charset charset_for(std::uint8_t data_coding, DefaultAlphabet alphabet) {
  switch (data_coding) {
    case 0x00:
      switch (alphabet) {
        case DefaultAlphabet::ascii: return Charset::ascii;
        case DefaultAlphabet::latin1: return Charset::latin1;
        default: return Charset::gsm7;
      }
    case 0x01: return Charset::ascii;
    case 0x03: return Charset::latin1;
    case 0x08: return Charset::ucs2;
    default: break;
  }
  // SMPP 3.4's other values below 0x10 (octets, JIS, Cyrillic, Hebrew, ...)
  // are not text the gateway reads.
  if (data_coding < 0x10) return Charset::binary;
  // Message-class codings: bit 2 chooses 8-bit data over the default alphabet.
  if ((data_coding & 0xF0) == 0xF0)
    return (data_coding & 0x04) ? Charset::binary : charset_for(0, alphabet);
  // GSM general data coding 0x10-0x1F (uncompressed): bits 3-2 give the alphabet.
  if ((data_coding & 0xE0) == 0x00) {
    switch ((data_coding >> 2) & 0x03) {
      case 0: return charset_for(0, alphabet);
      case 2: return Charset::ucs2;
      default: return Charset::binary;
    }
  }
  return Charset::binary;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::optional<std::size_t> utf16_length(std::string_view utf8) {
  std::u32string code_points;
  if (!utf8::decode(utf8, code_points)) return std::nullopt;
  std::size_t units = 0;
  for (const char32_t c : code_points) units += c > 0xFFFF ? 2 : 1;
  return units;
}

bool ucs2_encode(std::string_view utf8, SurrogatePolicy policy, std::vector<std::uint8_t>& out,
                 std::size_t* replaced) {
  std::u32string chars;
  if (!utf8::decode(utf8, chars)) return false;
  out.clear();
  out.reserve(chars.size() * 2);
  std::size_t count = 0;
  for (char32_t c : chars) {
    if (c < 0x10000) {
      put16(out, c);
    } else if (policy == SurrogatePolicy::keep_pairs) {
      const char32_t v = c - 0x10000;
      put16(out, 0xD800 + (v >> 10));
      put16(out, 0xDC00 + (v & 0x3FF));
    } else {
      put16(out, kReplacement);
      ++count;
    }
  }
  if (replaced) *replaced = count;
  return true;
}

std::string ucs2_decode(std::span<const std::uint8_t> octets, std::size_t* replaced) {
  std::string out;
  out.reserve(octets.size() * 3 / 2);
  std::size_t count = 0;
  const std::size_t units = octets.size() / 2;
  auto unit = [&](std::size_t i) -> char32_t {
    return static_cast<char32_t>((octets[2 * i] << 8) | octets[2 * i + 1]);
  };
  for (std::size_t i = 0; i < units; ++i) {
    const char32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units && unit(i + 1) >= 0xDC00 &&
        unit(i + 1) <= 0xDFFF) {
      utf8::append(out, 0x10000 + ((u - 0xD800) << 10) + (unit(i + 1) - 0xDC00));
      ++i;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      utf8::append(out, kReplacement);  // a lone half of a pair
      ++count;
    } else {
      utf8::append(out, u);
    }
  }
  if (octets.size() % 2 != 0) {
    utf8::append(out, kReplacement);
    ++count;
  }
  if (replaced) *replaced = count;
  return out;
}

bool latin1_encode(std::string_view utf8, std::vector<std::uint8_t>& out) {
  std::u32string chars;
  if (!utf8::decode(utf8, chars)) return false;
  out.clear();
  for (char32_t c : chars) {
    if (c > 0xFF) return false;
    out.push_back(static_cast<std::uint8_t>(c));
  }
  return true;
}

bool ascii_encode(std::string_view utf8, std::vector<std::uint8_t>& out) {
  out.clear();
  for (char c : utf8) {
    if (static_cast<unsigned char>(c) > 0x7F) return false;
    out.push_back(static_cast<std::uint8_t>(c));
  }
  return true;
}

std::string latin1_decode(std::span<const std::uint8_t> octets) {
  std::string out;
  for (auto o : octets) utf8::append(out, o);
  return out;
}

std::string ascii_decode(std::span<const std::uint8_t> octets, std::size_t* replaced) {
  std::string out;
  std::size_t count = 0;
  for (auto o : octets) {
    if (o > 0x7F) {
      utf8::append(out, kReplacement);
      ++count;
    } else {
      out.push_back(static_cast<char>(o));
    }
  }
  if (replaced) *replaced = count;
  return out;
}

Encoding choose_encoding(std::string_view utf8, DefaultAlphabet alphabet) {
  std::u32string chars;
  if (utf8::decode(utf8, chars)) {
    bool fits = true;
    for (char32_t c : chars) fits = fits && fits_default(c, alphabet);
    if (fits) return {0x00, charset_for(0x00, alphabet)};
  }
  return {0x08, Charset::ucs2};
}

DecodedText decode_text(std::uint8_t data_coding, std::span<const std::uint8_t> octets,
                        DefaultAlphabet alphabet) {
  DecodedText out;
  out.charset = charset_for(data_coding, alphabet);
  switch (out.charset) {
    case Charset::gsm7:
      out.utf8 = alphabet == DefaultAlphabet::gsm7_packed ? gsm7_decode(gsm7_unpack_all(octets))
                                                          : gsm7_decode(octets);
      break;
    case Charset::ascii: out.utf8 = ascii_decode(octets, &out.replaced); break;
    case Charset::latin1: out.utf8 = latin1_decode(octets); break;
    case Charset::ucs2: out.utf8 = ucs2_decode(octets, &out.replaced); break;
    case Charset::binary: out.ok = false; break;
  }
  return out;
}

}  // namespace giftgate::smpp
