// Voucher codes: two letters and eight digits, like "AE12098768", the last
// digit a check digit. Letters skip I and O, which read as 1 and 0.
//
// The check digit is the Damm algorithm over the code's first nine
// characters, each letter counting as the two decimal digits of its place in
// the alphabet (A = 00 .. Z = 23). Damm catches every single wrong digit and
// every swap of two neighbouring digits; a wrong letter is caught nine times
// in ten (24 letters cannot all map to distinct values of one digit).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace giftgate {

inline constexpr std::size_t kVoucherCodeLength = 10;

// A fresh code from OpenSSL's random generator (uniform: rejection sampling,
// no modulo bias). nullopt if the generator fails.
std::optional<std::string> generate_voucher_code();

// The check digit of the first nine characters of a code (already
// normalised), or nullopt when they are not two code letters and seven digits.
std::optional<char> voucher_check_digit(std::string_view first_nine);

// A code as typed (UTF-8) in canonical form: upper case; spaces and dashes
// dropped, full-width forms as Chinese input methods type them folded to
// ASCII; in the digit positions O read as 0 and I or L as 1. nullopt when it
// cannot be a code at all.
std::optional<std::string> normalize_voucher_code(std::string_view typed);

enum class CodeCheck {
  ok,
  bad_format,       // not two letters and eight digits
  bad_check_digit,  // shaped like a code, but mistyped
};

// Normalises and checks `typed`; on ok, `canonical` gets the code to look up.
CodeCheck check_voucher_code(std::string_view typed, std::string* canonical = nullptr);

// What logs may show of a code: its letters only ("AE********").
std::string redact_voucher_code(std::string_view code);

}  // namespace giftgate
