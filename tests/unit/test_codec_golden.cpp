// Byte-exact encodings of every PDU the gateway handles. Each vector was
// written out by hand from the field tables of SMPP 3.4 section 4 (field
// order, C-octet strings with their NUL, big-endian integers, TLVs as tag,
// length, value), not captured from this codec's output.
#include <ostream>  // before doctest, which prints std::error_code

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "protocol/codec.hpp"
#include "protocol/error.hpp"
#include "tests/support/hex.hpp"

using namespace giftgate::smpp;
using giftgate::test::from_hex;
using giftgate::test::to_hex;

namespace {

// Encodes `pdu`, compares with the vector, decodes the vector and compares
// with `pdu`.
void check_golden(const Pdu& pdu, const char* vector) {
  const std::vector<std::uint8_t> expected = from_hex(vector);
  std::vector<std::uint8_t> encoded;
  std::string detail;
  const auto ec = encode(pdu, encoded, &detail);
  INFO("encode: " << ec.message() << " " << detail);
  REQUIRE_FALSE(ec);
  CHECK(to_hex(encoded) == to_hex(expected));

  Pdu decoded;
  const auto dec = decode(expected, decoded, {}, &detail);
  INFO("decode: " << dec.message() << " " << detail);
  REQUIRE_FALSE(dec);
  CHECK(decoded == pdu);
}

Pdu make(std::uint32_t seq, Body body, std::uint32_t status = status::ok) {
  Pdu p;
  p.sequence_number = seq;
  p.command_status = status;
  p.body = std::move(body);
  return p;
}

BindRequest test_bind(BindKind kind) {
  BindRequest b;
  b.kind = kind;
  b.system_id = "SMPP3TEST";
  b.password = "secret08";
  b.system_type = "SUBMIT1";
  b.interface_version = 0x34;
  b.addr_ton = 1;
  b.addr_npi = 1;
  return b;
}

// The body shared by the three bind requests (section 4.1.1).
constexpr const char* kBindBody =
    "534D505033544553 5400"  // system_id "SMPP3TEST"
    "7365637265743038 00"    // password "secret08"
    "5355424D49543100"       // system_type "SUBMIT1"
    "34 01 01"               // interface_version, addr_ton, addr_npi
    "00";                    // address_range ""

}  // namespace

TEST_CASE("golden: bind_transmitter, bind_receiver, bind_transceiver") {
  check_golden(make(1, test_bind(BindKind::transmitter)),
               (std::string("0000002F 00000002 00000000 00000001") + kBindBody).c_str());
  check_golden(make(2, test_bind(BindKind::receiver)),
               (std::string("0000002F 00000001 00000000 00000002") + kBindBody).c_str());
  check_golden(make(3, test_bind(BindKind::transceiver)),
               (std::string("0000002F 00000009 00000000 00000003") + kBindBody).c_str());
}

TEST_CASE("golden: bind responses, with and without sc_interface_version") {
  check_golden(make(1, BindResponse{BindKind::transmitter, "SMSC", {}}),
               "00000015 80000002 00000000 00000001 534D534300");
  check_golden(make(2, BindResponse{BindKind::receiver, "SMSC", {}}),
               "00000015 80000001 00000000 00000002 534D534300");
  check_golden(make(3, BindResponse{BindKind::transceiver, "SMSC",
                                    {Tlv::u8(tag::sc_interface_version, 0x34)}}),
               "0000001A 80000009 00000000 00000003 534D534300 0210 0001 34");
}

TEST_CASE("golden: a refused bind answered with the header alone decodes") {
  Pdu pdu;
  REQUIRE_FALSE(decode(from_hex("00000010 80000009 0000000D 00000002"), pdu));
  CHECK(pdu.command_status == status::bind_failed);
  REQUIRE(pdu.as<BindResponse>());
  CHECK(pdu.as<BindResponse>()->kind == BindKind::transceiver);
}

TEST_CASE("golden: outbind") {
  check_golden(make(1, Outbind{"SMSC", "pw", {}}),
               "00000018 0000000B 00000000 00000001 534D534300 707700");
}

TEST_CASE("golden: unbind, enquire_link, their responses and generic_nack") {
  check_golden(make(2, Unbind{}), "00000010 00000006 00000000 00000002");
  check_golden(make(2, UnbindResp{}), "00000010 80000006 00000000 00000002");
  check_golden(make(0x7FFFFFFF, EnquireLink{}), "00000010 00000015 00000000 7FFFFFFF");
  check_golden(make(9, EnquireLinkResp{}), "00000010 80000015 00000000 00000009");
  check_golden(make(7, GenericNack{}, status::invalid_command_id),
               "00000010 80000000 00000003 00000007");
}

TEST_CASE("golden: submit_sm with and without optional parameters") {
  SubmitSm s;
  s.source = {1, 1, "10086"};
  s.dest = {1, 1, "8613800138000"};
  s.registered_delivery = registered::receipt;
  s.short_message = {'h', 'e', 'l', 'l', 'o'};
  const std::string body =
      "00"                              // service_type ""
      "01 01 313030383600"              // source ton, npi, "10086"
      "01 01 3836313338303031333830303000"  // dest ton, npi, "8613800138000"
      "00 00 00"                        // esm_class, protocol_id, priority_flag
      "00 00"                           // schedule_delivery_time, validity_period
      "01 00 00 00"                     // registered_delivery, replace, data_coding, default id
      "05 68656C6C6F";                  // sm_length, short_message "hello"
  check_golden(make(5, s), ("00000038 00000004 00000000 00000005" + body).c_str());

  s.tlvs = {Tlv::u16(tag::user_message_reference, 1)};
  check_golden(make(6, s), ("0000003E 00000004 00000000 00000006" + body + "0204 0002 0001").c_str());

  // A part of a long message carried by SAR parameters (section 5.3.2.22-24).
  s.tlvs = {Tlv::u16(tag::sar_msg_ref_num, 0x42), Tlv::u8(tag::sar_total_segments, 2),
            Tlv::u8(tag::sar_segment_seqnum, 1)};
  check_golden(make(7, s), ("00000048 00000004 00000000 00000007" + body +
                            "020C 0002 0042 020E 0001 02 020F 0001 01")
                               .c_str());
}

TEST_CASE("golden: submit_sm carrying message_payload and a USSD operation") {
  SubmitSm s;
  s.source = {0, 0, "12580"};
  s.dest = {1, 1, "8613800138000"};
  s.data_coding = 8;
  s.tlvs = {Tlv{tag::message_payload, {0x79, 0xEF, 0x52, 0x06}},  // "积分" in UCS-2
            Tlv::u8(tag::ussd_service_op, 2), Tlv::u16(tag::its_session_info, 0x0500)};
  const std::string body =
      "00 00 00 313235383000 01 01 3836313338303031333830303000 000000 00 00 00 00 08 00 00";
  check_golden(make(8, s), ("00000046 00000004 00000000 00000008" + body +
                            "0424 0004 79EF5206 0501 0001 02 1383 0002 0500")
                               .c_str());
}

TEST_CASE("golden: submit_sm_resp, accepted and refused") {
  check_golden(make(2, SubmitSmResp{"1a2b3c", {}}),
               "00000017 80000004 00000000 00000002 31613262336300");
  // An error response carries no body (section 4.4.2).
  check_golden(make(3, SubmitSmResp{}, status::throttled), "00000010 80000004 00000058 00000003");
}

TEST_CASE("golden: deliver_sm carrying a delivery receipt") {
  DeliverSm d;
  d.source = {1, 1, "8613800138000"};
  d.dest = {1, 1, "10086"};
  d.esm_class = esm::smsc_receipt;
  const std::string text = "id:1a2b3c stat:DELIVRD";
  d.short_message.assign(text.begin(), text.end());
  d.tlvs = {Tlv::c_string(tag::receipted_message_id, "1a2b3c"), Tlv::u8(tag::message_state, 2),
            Tlv{tag::network_error_code, {0x03, 0x00, 0x00}}};
  check_golden(make(0x10, d),
               "00000060 00000005 00000000 00000010"
               "00 01 01 3836313338303031333830303000 01 01 313030383600"
               "04 00 00 00 00 00 00 00 00"
               "16 69643A 316132623363 20 737461743A 44454C49565244"
               "001E 0007 31613262336300 0427 0001 02 0423 0003 030000");
}

TEST_CASE("golden: deliver_sm_resp, accepted and asking for a retry") {
  check_golden(make(0x10, DeliverSmResp{}), "00000011 80000005 00000000 00000010 00");
  check_golden(make(0x11, DeliverSmResp{}, status::temporary_app_error),
               "00000011 80000005 00000064 00000011 00");
}

TEST_CASE("golden: data_sm from a USSD centre") {
  DataSm d;
  d.source = {1, 1, "8613800138000"};
  d.dest = {0, 0, "12580"};
  d.tlvs = {Tlv{tag::message_payload, {'h', 'i'}}, Tlv::u8(tag::ussd_service_op, 1),
            Tlv::u16(tag::its_session_info, 0x0500)};
  check_golden(make(4, d),
               "0000003D 00000103 00000000 00000004"
               "00 01 01 3836313338303031333830303000 00 00 313235383000 00 00 00"
               "0424 0002 6869 0501 0001 01 1383 0002 0500");
}

TEST_CASE("golden: data_sm_resp with an optional parameter") {
  check_golden(make(4, DataSmResp{"abc", {Tlv::u8(tag::delivery_failure_reason, 0)}}),
               "00000019 80000103 00000000 00000004 61626300 0425 0001 00");
}

TEST_CASE("golden: alert_notification") {
  check_golden(make(9, AlertNotification{{1, 1, "8613800138000"},
                                         {0, 0, "10086"},
                                         {Tlv::u8(tag::ms_availability_status, 0)}}),
               "0000002D 00000102 00000000 00000009"
               "01 01 3836313338303031333830303000 00 00 313030383600"
               "0422 0001 00");
}
