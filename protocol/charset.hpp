// Character sets of SMPP short messages, to and from UTF-8 (utf8.hpp), the
// domain's only text form: which charset a data_coding means, UCS-2
// big-endian with surrogate pairs kept or replaced (never split), Latin-1,
// ASCII, and the choice between GSM 7-bit and UCS-2 for outgoing text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate::smpp {

// What data_coding 0 means on a given SMSC: a configuration choice, since
// SMSCs differ (SMPP 3.4 leaves it to the SMSC).
enum class DefaultAlphabet { gsm7_unpacked, gsm7_packed, ascii, latin1 };

enum class Charset { gsm7, ascii, latin1, ucs2, binary };

std::string_view to_string(Charset charset);

// The charset of a data_coding value (SMPP 3.4 section 5.2.19, with the GSM
// 03.38 message-class codings 0xF0-0xF7).
Charset charset_for(std::uint8_t data_coding, DefaultAlphabet alphabet);

// What to do with characters outside the Basic Multilingual Plane (emoji) when
// writing UCS-2: keep them as UTF-16 surrogate pairs (handsets show them), or
// replace each with U+FFFD.
enum class SurrogatePolicy { keep_pairs, replace };

// UTF-16 code units for the text (a character past U+FFFF takes two, a
// surrogate pair), or nullopt if it is not valid UTF-8.
std::optional<std::size_t> utf16_length(std::string_view utf8);
// ASCII letters in lower case, everything else (UTF-8 included) as it is:
// how ids typed by people (cities, kinds, languages, CSV columns) compare.
std::string ascii_lower(std::string_view text);

// UTF-8 to UCS-2 big-endian. `replaced` counts characters replaced by U+FFFD.
bool ucs2_encode(std::string_view utf8, SurrogatePolicy policy, std::vector<std::uint8_t>& out,
                 std::size_t* replaced = nullptr);
// UCS-2 / UTF-16 big-endian to UTF-8. An odd final octet and lone surrogates
// become U+FFFD, counted in `replaced`.
std::string ucs2_decode(std::span<const std::uint8_t> octets, std::size_t* replaced = nullptr);

// UTF-8 to one octet per character; false if a character does not fit.
bool latin1_encode(std::string_view utf8, std::vector<std::uint8_t>& out);
bool ascii_encode(std::string_view utf8, std::vector<std::uint8_t>& out);
std::string latin1_decode(std::span<const std::uint8_t> octets);
// Octets above 0x7F become U+FFFD, counted in `replaced`.
std::string ascii_decode(std::span<const std::uint8_t> octets, std::size_t* replaced = nullptr);

// The coding chosen for outgoing text.
struct Encoding {
  std::uint8_t data_coding = 0;
  Charset charset = Charset::gsm7;
};

// data_coding 0 when every character fits the SMSC's default alphabet (and,
// for ASCII and Latin-1 alphabets, the GSM 7-bit alphabet used on the air);
// otherwise UCS-2, data_coding 8.
Encoding choose_encoding(std::string_view utf8, DefaultAlphabet alphabet);

// Inbound text as UTF-8. Undecodable input gives replacement characters and a
// count, never an exception; binary data gives ok = false.
struct DecodedText {
  std::string utf8;
  Charset charset = Charset::gsm7;
  std::size_t replaced = 0;
  bool ok = true;
};
DecodedText decode_text(std::uint8_t data_coding, std::span<const std::uint8_t> octets,
                        DefaultAlphabet alphabet);

}  // namespace giftgate::smpp
