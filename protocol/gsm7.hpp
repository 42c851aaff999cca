// The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table,
// as septets one per octet ("unpacked", as most SMSCs take them over SMPP) and
// packed eight to seven octets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace giftgate::smpp {

inline constexpr std::uint8_t gsm7_escape = 0x1B;

// UTF-8 text to septets, extension characters as escape pairs. False (and
// `septets` unspecified) if a character is not in the alphabet or the text is
// not valid UTF-8.
bool gsm7_encode(std::string_view utf8, std::vector<std::uint8_t>& septets);

// Septets needed for the text (escape pairs count two), or nullopt if it does
// not fit the alphabet.
std::optional<std::size_t> gsm7_length(std::string_view utf8);

// Whether one code point is in the alphabet, and how many septets it takes.
std::size_t gsm7_septets(char32_t c);  // 0 when it is not

// Septets to UTF-8. An escape before a code without an extension character
// gives the base-table character (as TS 23.038 asks); a final lone escape a
// space. Values above 0x7F are masked to seven bits.
std::string gsm7_decode(std::span<const std::uint8_t> septets);

// Packs septets, least significant bit first, after `fill_bits` zero bits (to
// align after a user data header). When the last octet would have seven
// spare bits, they hold CR, so that a receiver does not read '@' there.
std::vector<std::uint8_t> gsm7_pack(std::span<const std::uint8_t> septets,
                                    unsigned fill_bits = 0);

// Unpacks `count` septets after `fill_bits`.
std::vector<std::uint8_t> gsm7_unpack(std::span<const std::uint8_t> octets, std::size_t count,
                                      unsigned fill_bits = 0);

// Unpacks every whole septet in the octets, dropping a final CR or 0x00 that
// exactly fills the last octet's seven spare bits: that septet is padding.
std::vector<std::uint8_t> gsm7_unpack_all(std::span<const std::uint8_t> octets,
                                          unsigned fill_bits = 0);

}  // namespace giftgate::smpp
