// USSD parameters: read from a deliver_sm, written on the answering submit_sm,
// both through the codec as on the wire.
#include <doctest/doctest.h>

#include "protocol/codec.hpp"
#include "protocol/ussd.hpp"

using namespace giftgate::smpp;

namespace {

template <class T>
T round_trip(const T& body) {
  Pdu pdu;
  pdu.sequence_number = 7;
  pdu.body = body;
  std::vector<std::uint8_t> octets;
  REQUIRE_FALSE(encode(pdu, octets));
  Pdu back;
  REQUIRE_FALSE(decode(octets, back));
  REQUIRE(back.as<T>());
  return *back.as<T>();
}

DeliverSm dialled(std::initializer_list<Tlv> tlvs) {
  DeliverSm d;
  d.service_type = "USSD";
  d.source = {1, 1, "8613800138000"};
  d.dest = {0, 0, "*12580#"};
  const std::string text = "*12580#";
  d.short_message.assign(text.begin(), text.end());
  d.tlvs = tlvs;
  return d;
}

}  // namespace

TEST_CASE("ussd: operation names and config values") {
  CHECK(ussd_op_name(ussd_op::pssr_indication) == "PSSR indication");
  CHECK(ussd_op_name(ussd_op::ussr_confirm) == "USSR confirm");
  CHECK(ussd_op_name(0x81) == "vendor 0x81");
  CHECK(ussd_op_name(5) == "reserved 0x05");
  CHECK(parse_ussd_op("pssr_response") == ussd_op::pssr_response);
  CHECK(parse_ussd_op("18") == ussd_op::ussr_confirm);
  CHECK(parse_ussd_op("0x81") == 0x81);
  CHECK_FALSE(parse_ussd_op("256"));
  CHECK_FALSE(parse_ussd_op("abort"));
  CHECK_FALSE(parse_ussd_op(""));
  CHECK_FALSE(parse_ussd_op("0x"));
  CHECK_FALSE(parse_ussd_op("12x"));
}

TEST_CASE("ussd: a dialled code with its session, sequence and end flag") {
  const std::uint8_t session_info[2] = {9, 3 << 1 | 1};
  const auto d = round_trip(dialled({Tlv::u8(tag::ussd_service_op, ussd_op::pssr_indication),
                                     Tlv::octets(tag::its_session_info, session_info),
                                     Tlv::u16(tag::user_message_reference, 0x1234)}));
  const auto info = ussd_info(d);
  REQUIRE(info);
  CHECK(info->op == ussd_op::pssr_indication);
  CHECK(info->session == 9);
  CHECK(info->sequence == 3);
  CHECK(info->end);
  CHECK(info->user_message_reference == 0x1234);
  CHECK(info->session_key() == "s9");
}

TEST_CASE("ussd: centres that send no session info, or a malformed one") {
  auto info = ussd_info(round_trip(dialled({Tlv::u8(tag::ussd_service_op, 1)})));
  REQUIRE(info);
  CHECK_FALSE(info->session);
  CHECK(info->session_key().empty());
  info = ussd_info(round_trip(dialled({Tlv::u8(tag::ussd_service_op, 18),
                                       Tlv::u16(tag::user_message_reference, 77)})));
  REQUIRE(info);
  CHECK(info->session_key() == "u77");
  const std::uint8_t three[3] = {1, 2, 3};
  info = ussd_info(round_trip(dialled({Tlv::u8(tag::ussd_service_op, 18),
                                       Tlv::octets(tag::its_session_info, three)})));
  REQUIRE(info);
  CHECK_FALSE(info->session);
  // No ussd_service_op: an ordinary SMS.
  CHECK_FALSE(ussd_info(round_trip(dialled({}))));
}

TEST_CASE("ussd: the answer echoes the session with the next sequence") {
  UssdInfo request;
  request.op = ussd_op::pssr_indication;
  request.session = 9;
  request.sequence = 127;  // wraps
  request.user_message_reference = 0x1234;
  SubmitSm s;
  s.service_type = "USSD";
  s.dest = {1, 1, "8613800138000"};
  set_ussd(s, ussd_op::ussr_request, request, false);
  auto back = round_trip(s);
  CHECK(back.tlvs.first_octet(tag::ussd_service_op) == ussd_op::ussr_request);
  const Tlv* info = back.tlvs.find(tag::its_session_info);
  REQUIRE(info);
  CHECK(info->value == std::vector<std::uint8_t>{9, 0});
  CHECK(back.tlvs.u16(tag::user_message_reference) == 0x1234);

  request.sequence = 2;
  set_ussd(s, ussd_op::pssr_response, request, true);  // replaces, never duplicates
  back = round_trip(s);
  CHECK(back.tlvs.size() == 3);
  CHECK(back.tlvs.first_octet(tag::ussd_service_op) == ussd_op::pssr_response);
  CHECK(back.tlvs.find(tag::its_session_info)->value == std::vector<std::uint8_t>{9, 3 << 1 | 1});

  // Without session info there is none to echo.
  request.session.reset();
  request.user_message_reference.reset();
  SubmitSm plain;
  set_ussd(plain, ussd_op::pssr_response, request, true);
  CHECK(plain.tlvs.size() == 1);
}

TEST_CASE("ussd: a screen's text in one short_message, up to 182 GSM characters") {
  SubmitSm s;
  REQUIRE(set_ussd_text(s, std::string(182, 'a'), DefaultAlphabet::gsm7_unpacked));
  CHECK(s.data_coding == 0);
  CHECK(s.short_message.size() == 182);  // one SMS part would hold 160
  REQUIRE(set_ussd_text(s, std::string(182, 'a'), DefaultAlphabet::gsm7_packed));
  CHECK(s.short_message.size() == 160);
  REQUIRE(set_ussd_text(s, "积分", DefaultAlphabet::gsm7_unpacked));
  CHECK(s.data_coding == 8);
  CHECK(s.short_message == std::vector<std::uint8_t>{0x79, 0xEF, 0x52, 0x06});
  CHECK_FALSE(set_ussd_text(s, std::string(128, 'a') + std::string(127, 'b'), DefaultAlphabet::gsm7_unpacked));
  CHECK_FALSE(set_ussd_text(s, "\xff", DefaultAlphabet::gsm7_unpacked));
}

TEST_CASE("ussd: a request's session kept as text until the answer goes out") {
  UssdInfo full;
  full.session = 9;
  full.sequence = 127;
  full.user_message_reference = 0x1234;
  CHECK(ussd_session_text(full) == "9,127,4660");
  CHECK(parse_ussd_session_text("9,127,4660") == full);
  UssdInfo none;
  CHECK(ussd_session_text(none) == ",0,");
  CHECK(parse_ussd_session_text(",0,") == none);
  CHECK_FALSE(parse_ussd_session_text("256,0,"));
  CHECK_FALSE(parse_ussd_session_text("1,128,"));
  CHECK_FALSE(parse_ussd_session_text("1,2,65536"));
  CHECK_FALSE(parse_ussd_session_text("1,2"));
  CHECK_FALSE(parse_ussd_session_text("1,2,3,1"));
  CHECK_FALSE(parse_ussd_session_text("x,2,3"));
}
