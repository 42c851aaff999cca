#include "daemon/campaign/phone.hpp"

#include <algorithm>
#include <cstdint>

#include "protocol/utf8.hpp"

namespace giftgate {

namespace {

// E.164 allows at most 15 digits; 7 is the shortest number worth accepting
// (shorter ones are service codes such as 12580, not subscribers).
constexpr std::size_t min_digits = 7;
constexpr std::size_t max_digits = 15;

// Stars written for something that is not a phone number: enough to show
// that a value was there, without giving away how long it was.
constexpr std::size_t max_garbage_stars = 16;

// A number as typed, reduced to its digits and whether it began with '+'.
struct Scanned {
  bool plus = false;
  std::string digits;
};

// Punctuation people put inside numbers, in ASCII and as Chinese input
// methods type it (ideographic space, full-width brackets and dashes).
bool is_number_punctuation(char32_t cp) {
  switch (cp) {
    case U' ': case U'\t': case U'-': case U'.': case U'(': case U')':
    case 0x00A0:  // no-break space
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
    case 0x2212:  // minus sign
    case 0x3000:  // ideographic space
    case 0xFF08: case 0xFF09: case 0xFF0D: case 0xFF0E:
      return true;
    default:
      return false;
  }
}

// Reduces input to digits; nullopt when it holds anything that has no place
// in a phone number, or a '+' anywhere but before the first digit.
std::optional<Scanned> scan(std::string_view input) {
  Scanned out;
  bool seen_plus = false;
  std::size_t pos = 0;
  while (pos < input.size()) {
    const auto cp = utf8::next(input, pos);
    if (!cp) return std::nullopt;
    if (*cp >= U'0' && *cp <= U'9') {
      out.digits.push_back(static_cast<char>('0' + (*cp - U'0')));
    } else if (*cp >= 0xFF10 && *cp <= 0xFF19) {  // full-width digits
      out.digits.push_back(static_cast<char>('0' + (*cp - 0xFF10)));
    } else if (*cp == U'+' || *cp == 0xFF0B) {    // '+' and full-width '+'
      if (seen_plus || !out.digits.empty()) return std::nullopt;
      seen_plus = true;
    } else if (!is_number_punctuation(*cp)) {
      return std::nullopt;
    }
  }
  out.plus = seen_plus;
  return out;
}

bool is_country_code(std::string_view cc) {
  return !cc.empty() && cc.size() <= 3 && cc.front() != '0' &&
         std::all_of(cc.begin(), cc.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What can be checked of an E.164 number without a full numbering plan.
bool plausible_e164(std::string_view e164) {
  if (e164.size() < min_digits || e164.size() > max_digits || e164.front() == '0') return false;
  if (!e164.starts_with("86")) return true;
  // China: national significant numbers have 9 to 11 digits and no trunk 0;
  // 13x-19x are mobiles of exactly 11 (10 is Beijing's area code).
  const std::string_view nsn = e164.substr(2);
  if (nsn.size() < 9 || nsn.size() > 11 || nsn.front() == '0') return false;
  if (nsn[0] == '1' && nsn[1] != '0' && nsn.size() != 11) return false;
  return true;
}

}  // namespace

std::optional<std::string> normalize_msisdn(std::string_view input,
                                            std::string_view default_country) {
  const auto scanned = scan(input);
  if (!scanned || scanned->digits.size() < min_digits) return std::nullopt;
  const std::string& d = scanned->digits;

  std::string e164;
  if (scanned->plus) {
    e164 = d;
  } else if (d.starts_with("00")) {
    // 00 is the international prefix in China and most of the world.
    e164 = d.substr(2);
  } else if (!is_country_code(default_country)) {
    return std::nullopt;
  } else if (default_country == "86") {
    if (d.size() == 11 && d.front() == '1') e164 = "86" + d;
    else if (d.starts_with("86")) e164 = d;
    else return std::nullopt;
  } else if (d.starts_with(default_country)) {
    e164 = d;
  } else if (d.front() == '0') {
    e164 = std::string(default_country) + d.substr(1);
  } else {
    e164 = std::string(default_country) + d;
  }
  if (!plausible_e164(e164)) return std::nullopt;
  return e164;
}

std::string mask_msisdn(std::string_view input) {
  const auto scanned = scan(input);
  if (!scanned || scanned->digits.empty() || scanned->digits.size() > max_digits)
    return std::string(std::min(input.size(), max_garbage_stars), '*');

  const std::string& d = scanned->digits;
  const std::size_t n = d.size();
  // Keep what identifies the country and operator, and the last digits that
  // support staff quote back to members; at least a third stays hidden.
  std::size_t head = 0;
  std::size_t tail = 0;
  if (n >= 13) {
    head = 5;  // country code and operator prefix: "86138"
    tail = 4;
  } else if (n >= 11) {
    head = n - 8;  // "138" of a national mobile
    tail = 4;
  } else if (n >= min_digits) {
    head = 2;
    tail = 2;
  }

  std::string out = scanned->plus ? "+" : "";
  out.append(d, 0, head);
  out.append(n - head - tail, '*');
  out.append(d, n - tail, tail);
  return out;
}

}  // namespace giftgate
