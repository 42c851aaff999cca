#include <doctest/doctest.h>

#include "protocol/charset.hpp"
#include "tests/support/hex.hpp"

using namespace giftgate::smpp;
using giftgate::test::from_hex;
using giftgate::test::to_hex;

TEST_CASE("charset: data_coding values") {
  const auto gsm = DefaultAlphabet::gsm7_unpacked;
  CHECK(charset_for(0x00, gsm) == Charset::gsm7);
  CHECK(charset_for(0x00, DefaultAlphabet::latin1) == Charset::latin1);
  CHECK(charset_for(0x00, DefaultAlphabet::ascii) == Charset::ascii);
  CHECK(charset_for(0x01, gsm) == Charset::ascii);
  CHECK(charset_for(0x03, gsm) == Charset::latin1);
  CHECK(charset_for(0x08, gsm) == Charset::ucs2);
  CHECK(charset_for(0x02, gsm) == Charset::binary);
  CHECK(charset_for(0x04, gsm) == Charset::binary);
  CHECK(charset_for(0xF0, gsm) == Charset::gsm7);  // flash class 0
  CHECK(charset_for(0xF5, gsm) == Charset::binary);
  CHECK(charset_for(0x18, gsm) == Charset::ucs2);  // general group, UCS-2 with class
  CHECK(charset_for(0x10, gsm) == Charset::gsm7);
}

TEST_CASE("charset: UCS-2 is big-endian") {
  std::vector<std::uint8_t> octets;
  REQUIRE(ucs2_encode("积分兑换", SurrogatePolicy::keep_pairs, octets));
  CHECK(to_hex(octets) == "79EF520651516362");
  CHECK(ucs2_decode(octets) == "积分兑换");
}

TEST_CASE("charset: surrogate pairs are kept whole or replaced, never mangled") {
  std::vector<std::uint8_t> octets;
  std::size_t replaced = 0;
  REQUIRE(ucs2_encode("A😀", SurrogatePolicy::keep_pairs, octets, &replaced));
  CHECK(to_hex(octets) == "0041D83DDE00");
  CHECK(replaced == 0);
  CHECK(ucs2_decode(octets) == "A😀");
  REQUIRE(ucs2_encode("A😀", SurrogatePolicy::replace, octets, &replaced));
  CHECK(to_hex(octets) == "0041FFFD");
  CHECK(replaced == 1);
}

TEST_CASE("charset: broken UCS-2 decodes to replacement characters, counted") {
  std::size_t replaced = 0;
  CHECK(ucs2_decode(from_hex("0041D83D"), &replaced) == "A\xEF\xBF\xBD");  // lone high half
  CHECK(replaced == 1);
  CHECK(ucs2_decode(from_hex("DE000041"), &replaced) == "\xEF\xBF\xBD" "A");  // lone low half
  CHECK(replaced == 1);
  CHECK(ucs2_decode(from_hex("004100"), &replaced) == "A\xEF\xBF\xBD");  // odd length
  CHECK(replaced == 1);
}

TEST_CASE("charset: text that is not UTF-8 is not encoded") {
  std::vector<std::uint8_t> octets;
  CHECK_FALSE(ucs2_encode("\xFF", SurrogatePolicy::keep_pairs, octets));
}

TEST_CASE("charset: Latin-1 and ASCII") {
  std::vector<std::uint8_t> octets;
  REQUIRE(latin1_encode("café", octets));
  CHECK(to_hex(octets) == "636166E9");
  CHECK(latin1_decode(octets) == "café");
  CHECK_FALSE(latin1_encode("€", octets));
  CHECK_FALSE(ascii_encode("é", octets));
  std::size_t replaced = 0;
  CHECK(ascii_decode(from_hex("41E9"), &replaced) == "A\xEF\xBF\xBD");
  CHECK(replaced == 1);
}

TEST_CASE("charset: GSM 7-bit when every character fits, else UCS-2") {
  const auto gsm = DefaultAlphabet::gsm7_unpacked;
  CHECK(choose_encoding("Your code AE12098765, valid to 2026-12-31", gsm).data_coding == 0);
  CHECK(choose_encoding("Price: 5€ {A}", gsm).data_coding == 0);
  CHECK(choose_encoding("您的兑换码", gsm).data_coding == 8);
  CHECK(choose_encoding("back`tick", gsm).data_coding == 8);
  CHECK(choose_encoding("café", DefaultAlphabet::ascii).data_coding == 8);
  CHECK(choose_encoding("café", DefaultAlphabet::latin1).data_coding == 0);
  CHECK(choose_encoding("\xFF", gsm).data_coding == 8);
}

TEST_CASE("charset: inbound text in each coding") {
  const auto gsm = DefaultAlphabet::gsm7_unpacked;
  CHECK(decode_text(0, from_hex("4A46"), gsm).utf8 == "JF");
  CHECK(decode_text(0, from_hex("E8329BFD4697D9EC37"), DefaultAlphabet::gsm7_packed).utf8 ==
        "hellohello");
  CHECK(decode_text(8, from_hex("79EF5206"), gsm).utf8 == "积分");
  CHECK(decode_text(3, from_hex("E9"), gsm).utf8 == "é");
  const auto binary = decode_text(4, from_hex("0102"), gsm);
  CHECK_FALSE(binary.ok);
  CHECK(binary.charset == Charset::binary);
}

TEST_CASE("charset: utf16_length counts a character past U+FFFF twice") {
  CHECK(utf16_length("KTV") == 3u);
  CHECK(utf16_length("金曲KTV") == 5u);
  CHECK(utf16_length("\U0001F3A4KTV") == 5u);  // a surrogate pair and three
  CHECK_FALSE(utf16_length("\xff"));
}

TEST_CASE("charset: ascii_lower folds ASCII letters only") {
  CHECK(ascii_lower("BeiJing KTV-2") == "beijing ktv-2");
  CHECK(ascii_lower("ÉCRAN 影院") == "Écran 影院");  // UTF-8 bytes left as they are
  CHECK(ascii_lower("") == "");
}
