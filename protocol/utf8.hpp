// UTF-8, the only text form inside giftgate: the one decoder and encoder
// every layer uses (charsets, keywords, phone numbers, voucher codes,
// templates, tables, giftctl), so that text is judged the same everywhere.
//
// One rule for what is not UTF-8 (RFC 3629): an overlong form, a surrogate
// (U+D800 to U+DFFF), a value past U+10FFFF, a byte that starts nothing
// (a continuation byte 0x80-0xBF on its own, 0xF8-0xFF) and a sequence cut
// short or broken by a byte that does not continue it. Each is an error at
// its first byte; a reader that goes on counts that one byte as one bad
// character (U+FFFD, or \xNN where bytes are shown) and resumes at the next.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace giftgate::utf8 {

// U+FFFD, what stands for a character that cannot be read or written.
inline constexpr char32_t kReplacement = 0xFFFD;

// The code point at text[pos] (pos < text.size()), pos moved past it;
// nullopt, pos unmoved, when the bytes there are not UTF-8 (above), so a
// caller can show the bad byte and go on.
std::optional<char32_t> next(std::string_view text, std::size_t& pos);

// The code point at text[pos], or U+FFFD for one byte that is not UTF-8;
// pos moved past what was read either way.
char32_t next_or_replacement(std::string_view text, std::size_t& pos);

// UTF-8 to code points; false on anything that is not UTF-8.
bool decode(std::string_view text, std::u32string& out);

// Whether the text is UTF-8 throughout.
bool valid(std::string_view text);

// Appends one code point as UTF-8; a surrogate or a value past U+10FFFF,
// which UTF-8 cannot carry, as U+FFFD.
void append(std::string& out, char32_t c);

// Characters (code points) in the text, each byte that is not UTF-8
// counting as one.
std::size_t length(std::string_view text);

// Where the text's last character starts: the last byte when that does not
// end a UTF-8 sequence; 0 for empty text. Cuts text without splitting one.
std::size_t last_start(std::string_view text);

}  // namespace giftgate::utf8
