#include <ostream>

#include <doctest/doctest.h>

#include "protocol/charset.hpp"
#include "protocol/error.hpp"
#include "protocol/gsm7.hpp"
#include "protocol/split.hpp"

using namespace giftgate::smpp;

namespace {

std::vector<MessagePart> split_ok(std::string_view text, SplitOptions options = {}) {
  std::vector<MessagePart> parts;
  const auto ec = split(text, options, parts);
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  CHECK(count_parts(text, options) == parts.size());
  return parts;
}

// The user data of a UDH part, without its 6-octet header.
std::vector<std::uint8_t> body(const MessagePart& p) {
  return {p.short_message.begin() + 6, p.short_message.end()};
}

std::string chinese(std::size_t n) {
  const std::string set = "积分兑换电子礼券";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += set.substr((i % 8) * 3, 3);
  return out;
}

}  // namespace

TEST_CASE("split: one part up to 160 GSM characters") {
  const auto parts = split_ok(std::string(160, 'a'));
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].data_coding == 0);
  CHECK(parts[0].esm_class == 0);
  CHECK(parts[0].short_message.size() == 160);
  CHECK(parts[0].tlvs.empty());
}

TEST_CASE("split: 161 GSM characters make 153 + 8 with an 8-bit reference UDH") {
  SplitOptions options;
  options.reference = 0x1A7;
  const auto parts = split_ok(std::string(161, 'a'), options);
  REQUIRE(parts.size() == 2);
  for (unsigned i = 0; i < 2; ++i) {
    CHECK(parts[i].esm_class == esm::udhi);
    CHECK(parts[i].short_message[0] == 0x05);
    CHECK(parts[i].short_message[1] == 0x00);
    CHECK(parts[i].short_message[2] == 0x03);
    CHECK(parts[i].short_message[3] == 0xA7);  // the reference's low octet
    CHECK(parts[i].short_message[4] == 2);
    CHECK(parts[i].short_message[5] == i + 1);
  }
  CHECK(body(parts[0]).size() == 153);
  CHECK(body(parts[1]).size() == 8);
}

TEST_CASE("split: an escape pair never straddles two parts") {
  const std::string text = std::string(152, 'a') + "€" + std::string(10, 'b');
  const auto parts = split_ok(text);
  REQUIRE(parts.size() == 2);
  CHECK(body(parts[0]).size() == 152);
  CHECK(body(parts[1])[0] == gsm7_escape);
  CHECK(gsm7_decode(body(parts[0])) + gsm7_decode(body(parts[1])) == text);
}

TEST_CASE("split: UCS-2 takes 70 in one part, 67 a part beyond") {
  CHECK(split_ok(chinese(70)).size() == 1);
  const auto parts = split_ok(chinese(71));
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].data_coding == 8);
  CHECK(body(parts[0]).size() == 134);
  CHECK(body(parts[1]).size() == 8);
  CHECK(ucs2_decode(body(parts[0])) + ucs2_decode(body(parts[1])) == chinese(71));
}

TEST_CASE("split: a surrogate pair never straddles two parts") {
  const std::string text = chinese(66) + "😀" + chinese(10);
  const auto parts = split_ok(text);
  REQUIRE(parts.size() == 2);
  CHECK(body(parts[0]).size() == 132);  // the emoji would need units 67 and 68
  CHECK(ucs2_decode(body(parts[0])) + ucs2_decode(body(parts[1])) == text);
  std::size_t replaced = 0;
  ucs2_decode(body(parts[0]), &replaced);
  CHECK(replaced == 0);
}

TEST_CASE("split: packed GSM parts are aligned after the UDH") {
  SplitOptions options;
  options.alphabet = DefaultAlphabet::gsm7_packed;
  const std::string text(200, 'x');
  const auto parts = split_ok(text, options);
  REQUIRE(parts.size() == 2);
  // 6 octets of UDH + 153 septets after one fill bit = 6 + 134 octets.
  CHECK(parts[0].short_message.size() == 140);
  CHECK(gsm7_decode(gsm7_unpack(body(parts[0]), 153, 1)) == std::string(153, 'x'));
}

TEST_CASE("split: SAR parameters instead of a UDH") {
  SplitOptions options;
  options.mode = LongMessageMode::sar;
  options.reference = 0x0102;
  const auto parts = split_ok(std::string(300, 'z'), options);
  REQUIRE(parts.size() == 2);
  for (unsigned i = 0; i < 2; ++i) {
    CHECK(parts[i].esm_class == 0);
    CHECK(parts[i].tlvs.u16(tag::sar_msg_ref_num) == 0x0102);
    CHECK(parts[i].tlvs.u8(tag::sar_total_segments) == 2);
    CHECK(parts[i].tlvs.u8(tag::sar_segment_seqnum) == i + 1);
  }
  CHECK(parts[0].short_message.size() == 153);
  CHECK(parts[1].short_message.size() == 147);
}

TEST_CASE("split: one message_payload for the whole text") {
  SplitOptions options;
  options.mode = LongMessageMode::payload;
  const auto parts = split_ok(chinese(300), options);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].short_message.empty());
  REQUIRE(parts[0].tlvs.find(tag::message_payload));
  CHECK(parts[0].tlvs.find(tag::message_payload)->value.size() == 600);
}

TEST_CASE("split: too many parts and invalid text are refused") {
  std::vector<MessagePart> parts;
  SplitOptions options;
  options.max_parts = 3;
  CHECK(split(std::string(153 * 3 + 1, 'a'), options, parts) ==
        make_error_code(errc::too_many_parts));
  CHECK(split(std::string(153 * 3, 'a'), options, parts) == std::error_code{});
  CHECK(split("\xC3", options, parts) == make_error_code(errc::invalid_text));
  CHECK(count_parts("\xC3", options) == 0);
}
