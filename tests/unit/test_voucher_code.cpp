#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <set>

#include "daemon/campaign/voucher_code.hpp"
#include "protocol/utf8.hpp"

using namespace giftgate;

namespace {

// A code with the right check digit for these first nine characters.
std::string with_check(const std::string& nine) { return nine + *voucher_check_digit(nine); }

}  // namespace

TEST_CASE("voucher code: generated codes have the shape and a valid check digit") {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const auto code = generate_voucher_code();
    REQUIRE(code);
    REQUIRE(code->size() == 10);
    CHECK(code->find_first_of("IO") == std::string::npos);
    CHECK(check_voucher_code(*code) == CodeCheck::ok);
    seen.insert(*code);
  }
  // 24*24*10^7 possible codes: 2000 draws colliding would mean a broken generator.
  CHECK(seen.size() == 2000);
}

TEST_CASE("voucher code: letters and digits are drawn evenly") {
  std::map<char, int> first, digit;
  constexpr int kDraws = 24000;
  for (int i = 0; i < kDraws; ++i) {
    const auto code = *generate_voucher_code();
    ++first[code[0]];
    ++digit[code[2]];
  }
  CHECK(first.size() == 24);
  CHECK(digit.size() == 10);
  // Each letter is expected 1000 times; 5 standard deviations is about 155.
  for (const auto& [letter, n] : first) CHECK_MESSAGE(std::abs(n - 1000) < 160, letter);
  for (const auto& [d, n] : digit) CHECK_MESSAGE(std::abs(n - 2400) < 240, d);
}

TEST_CASE("voucher code: every single wrong digit and neighbour swap is caught") {
  const std::string bases[] = {with_check("AE1209876"), with_check("ZZ0000000"),
                               with_check("BK9081726")};
  for (const auto& code : bases) {
    REQUIRE(check_voucher_code(code) == CodeCheck::ok);
    for (std::size_t pos = 2; pos < 10; ++pos) {
      for (char d = '0'; d <= '9'; ++d) {
        if (d == code[pos]) continue;
        std::string typo = code;
        typo[pos] = d;
        CHECK_MESSAGE(check_voucher_code(typo) == CodeCheck::bad_check_digit, typo);
      }
      if (pos + 1 < 10 && code[pos] != code[pos + 1]) {
        std::string swapped = code;
        std::swap(swapped[pos], swapped[pos + 1]);
        CHECK_MESSAGE(check_voucher_code(swapped) == CodeCheck::bad_check_digit, swapped);
      }
    }
  }
}

TEST_CASE("voucher code: most wrong letters are caught") {
  const std::string letters = "ABCDEFGHJKLMNPQRSTUVWXYZ";
  int typos = 0, caught = 0;
  for (char a : letters)
    for (char b : letters) {
      const std::string code = with_check(std::string{a, b} + "4455667");
      for (char wrong : letters) {
        if (wrong == a) continue;
        std::string typo = code;
        typo[0] = wrong;
        ++typos;
        if (check_voucher_code(typo) == CodeCheck::bad_check_digit) ++caught;
      }
    }
  // One check digit cannot tell 24 letters apart; the documented rate is 9 in 10.
  CHECK(caught * 10 >= typos * 85 / 10);
  MESSAGE("wrong first letter caught " << caught << " of " << typos);
}

TEST_CASE("voucher code: typed forms normalise to one code") {
  const std::string code = with_check("AE1209876");
  std::string canonical;
  CHECK(check_voucher_code(code, &canonical) == CodeCheck::ok);
  CHECK(canonical == code);
  const std::string lower = "ae" + code.substr(2);
  const std::string spaced = "AE 1209 876" + code.substr(9);
  const std::string dashed = "AE-1209\u2014876" + code.substr(9);
  // Full-width letters and digits, an ideographic space: a Chinese input method.
  std::string wide = "\uFF21\uFF45\u3000";
  for (std::size_t i = 2; i < 10; ++i) utf8::append(wide, 0xFF10 + (code[i] - '0'));
  for (const auto& typed : {lower, spaced, dashed, wide, "  " + code + " "}) {
    canonical.clear();
    CHECK_MESSAGE(check_voucher_code(typed, &canonical) == CodeCheck::ok, typed);
    CHECK(canonical == code);
  }
}

TEST_CASE("voucher code: O and I in the digits read as 0 and 1") {
  const std::string code = with_check("AE1209876");  // has a 1 and a 0
  std::string typed = code;
  typed[2] = 'I';
  typed[4] = 'o';
  std::string canonical;
  CHECK(check_voucher_code(typed, &canonical) == CodeCheck::ok);
  CHECK(canonical == code);
}

TEST_CASE("voucher code: what cannot be a code is a format error, not a typo") {
  for (std::string_view typed : {"", "AE", "AE123456789", "AE12345678X", "1E12345678",
                                 "IE12345678", "AO12345678", "A\xFF" "12345678",
                                 "AE1234\xE4\xB8", "\xE4\xBD\xA0\xE5\xA5\xBD"}) {
    CHECK_MESSAGE(check_voucher_code(typed) == CodeCheck::bad_format, typed);
  }
}

TEST_CASE("voucher code: logs see only the letters") {
  CHECK(redact_voucher_code("AE12098765") == "AE********");
  CHECK(redact_voucher_code("A") == "A");
}
