#include <doctest/doctest.h>

#include "protocol/gsm7.hpp"
#include "tests/support/hex.hpp"

using namespace giftgate::smpp;
using giftgate::test::from_hex;
using giftgate::test::to_hex;

TEST_CASE("gsm7: the basic table round trips") {
  const std::string all =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  std::vector<std::uint8_t> septets;
  REQUIRE(gsm7_encode(all, septets));
  CHECK(septets.size() == 127);  // every code but the escape
  CHECK(septets[0] == 0x00);
  CHECK(septets[1] == 0x01);
  CHECK(gsm7_decode(septets) == all);
}

TEST_CASE("gsm7: every extension character is an escape pair") {
  const std::string ext = "\f^{}\\[~]|€";
  std::vector<std::uint8_t> septets;
  REQUIRE(gsm7_encode(ext, septets));
  CHECK(to_hex(septets) == "1B0A1B141B281B291B2F1B3C1B3D1B3E1B401B65");
  CHECK(gsm7_decode(septets) == ext);
  CHECK(gsm7_length(ext) == 20);
  CHECK(gsm7_length("a€") == 3);
}

TEST_CASE("gsm7: what does not fit is refused") {
  std::vector<std::uint8_t> septets;
  CHECK_FALSE(gsm7_encode("积分", septets));
  CHECK_FALSE(gsm7_encode("`", septets));
  CHECK_FALSE(gsm7_encode("\xff", septets));  // not UTF-8
  CHECK_FALSE(gsm7_length("😀").has_value());
}

TEST_CASE("gsm7: unknown escapes and a lone final escape decode without harm") {
  // ESC + 'A' has no extension character: the base character is shown.
  CHECK(gsm7_decode(from_hex("1B41")) == "A");
  CHECK(gsm7_decode(from_hex("411B")) == "A ");
  CHECK(gsm7_decode(from_hex("C1")) == "A");  // the eighth bit is ignored
}

TEST_CASE("gsm7: packing matches TS 23.038's example") {
  std::vector<std::uint8_t> septets;
  REQUIRE(gsm7_encode("hellohello", septets));
  const auto packed = gsm7_pack(septets);
  CHECK(to_hex(packed) == "E8329BFD4697D9EC37");
  CHECK(gsm7_decode(gsm7_unpack(packed, 10)) == "hellohello");
  CHECK(gsm7_decode(gsm7_unpack_all(packed)) == "hellohello");
}

TEST_CASE("gsm7: seven spare bits are padded with CR, and the padding is dropped") {
  std::vector<std::uint8_t> septets;
  REQUIRE(gsm7_encode("1234567", septets));
  const auto packed = gsm7_pack(septets);
  REQUIRE(packed.size() == 7);
  CHECK((packed[6] >> 1) == 0x0D);
  CHECK(gsm7_decode(gsm7_unpack_all(packed)) == "1234567");
  // An encoder that left zeros there would show a stray '@'.
  auto zeros = packed;
  zeros[6] &= 0x01;
  CHECK(gsm7_decode(gsm7_unpack_all(zeros)) == "1234567");
}

TEST_CASE("gsm7: a real '@' at the end survives when it is not padding") {
  std::vector<std::uint8_t> septets;
  REQUIRE(gsm7_encode("mail@", septets));
  CHECK(gsm7_decode(gsm7_unpack_all(gsm7_pack(septets))) == "mail@");
  // Unpacked septets carry no padding at all.
  CHECK(gsm7_decode(septets) == "mail@");
}

TEST_CASE("gsm7: fill bits align septets after a user data header") {
  std::vector<std::uint8_t> septets;
  REQUIRE(gsm7_encode("hello", septets));
  for (unsigned fill = 0; fill < 7; ++fill) {
    const auto packed = gsm7_pack(septets, fill);
    CHECK(gsm7_decode(gsm7_unpack(packed, 5, fill)) == "hello");
    CHECK(gsm7_decode(gsm7_unpack_all(packed, fill)) == "hello");
  }
  // Asking for more septets than there are gives what there is.
  CHECK(gsm7_unpack(gsm7_pack(septets), 50).size() == 5);
}
