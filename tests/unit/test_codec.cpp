// What the codec tolerates, what it refuses, and that it never crashes on
// either: the cases libsmpp34 alone gets wrong.
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

std::vector<std::uint8_t> encoded(const Pdu& pdu) {
  std::vector<std::uint8_t> out;
  std::string detail;
  const auto ec = encode(pdu, out, &detail);
  INFO(ec.message() << " " << detail);
  REQUIRE_FALSE(ec);
  return out;
}

void set_length(std::vector<std::uint8_t>& pdu) {
  const auto n = static_cast<std::uint32_t>(pdu.size());
  pdu[0] = static_cast<std::uint8_t>(n >> 24);
  pdu[1] = static_cast<std::uint8_t>(n >> 16);
  pdu[2] = static_cast<std::uint8_t>(n >> 8);
  pdu[3] = static_cast<std::uint8_t>(n);
}

void append_tlv(std::vector<std::uint8_t>& pdu, std::uint16_t tag,
                const std::vector<std::uint8_t>& value) {
  pdu.push_back(static_cast<std::uint8_t>(tag >> 8));
  pdu.push_back(static_cast<std::uint8_t>(tag));
  pdu.push_back(static_cast<std::uint8_t>(value.size() >> 8));
  pdu.push_back(static_cast<std::uint8_t>(value.size()));
  pdu.insert(pdu.end(), value.begin(), value.end());
  set_length(pdu);
}

DeliverSm sample_deliver() {
  DeliverSm d;
  d.source = {1, 1, "8613800138000"};
  d.dest = {0, 0, "10086"};
  d.short_message = {'J', 'F'};
  return d;
}

Pdu pdu_of(Body body, std::uint32_t seq = 1, std::uint32_t status = status::ok) {
  Pdu p;
  p.body = std::move(body);
  p.sequence_number = seq;
  p.command_status = status;
  return p;
}

}  // namespace

TEST_CASE("codec: vendor command_status on a submit_sm_resp with a body") {
  // libsmpp34 knows only the specification's status values.
  Pdu pdu;
  REQUIRE_FALSE(decode(from_hex("00000017 80000004 00000412 00000002 31613262336300"), pdu));
  CHECK(pdu.command_status == 0x412);
  REQUIRE(pdu.as<SubmitSmResp>());
  CHECK(pdu.as<SubmitSmResp>()->message_id == "1a2b3c");
}

TEST_CASE("codec: TON and NPI outside the specification's lists survive both ways") {
  DeliverSm d = sample_deliver();
  d.source.ton = 7;   // not in SMPP 3.4's list
  d.source.npi = 5;   // reserved
  d.dest.npi = 0x12;  // ERMES: accepted by the library
  const auto octets = encoded(pdu_of(d));
  Pdu back;
  REQUIRE_FALSE(decode(octets, back));
  CHECK(back.as<DeliverSm>()->source.ton == 7);
  CHECK(back.as<DeliverSm>()->source.npi == 5);
  CHECK(back.as<DeliverSm>()->dest.npi == 0x12);
}

TEST_CASE("codec: sequence_number 0 and an old interface_version are tolerated") {
  BindRequest b;
  b.system_id = "esme";
  b.interface_version = 0x33;
  const auto octets = encoded(pdu_of(b, 0));
  CHECK(octets[12] == 0);
  CHECK(octets[15] == 0);
  Pdu back;
  REQUIRE_FALSE(decode(octets, back));
  CHECK(back.sequence_number == 0);
  CHECK(back.as<BindRequest>()->interface_version == 0x33);
}

TEST_CASE("codec: error responses without a body decode to empty values") {
  for (const char* hex : {"00000010 80000005 00000064 00000003",
                          "00000010 80000103 00000008 00000003",
                          "00000010 80000004 00000014 00000003"}) {
    Pdu pdu;
    CHECK_FALSE(decode(from_hex(hex), pdu));
    CHECK(pdu.command_status != status::ok);
  }
  // With status 0 the body is required.
  Pdu pdu;
  CHECK(decode(from_hex("00000010 80000004 00000000 00000003"), pdu) ==
        make_error_code(errc::missing_terminator));
}

TEST_CASE("codec: optional parameters libsmpp34 would misread are kept exactly") {
  auto octets = encoded(pdu_of(sample_deliver()));
  // sar_total_segments is one octet; this SMSC sends two. The library would
  // read one and lose its place.
  append_tlv(octets, tag::sar_total_segments, {0x00, 0x02});
  // A vendor tag the library does not know at all.
  append_tlv(octets, 0x1400, {0xAA, 0xBB, 0xCC});
  // A message_payload over the library's 1024-octet limit.
  append_tlv(octets, tag::message_payload, std::vector<std::uint8_t>(2000, 'x'));
  Pdu back;
  std::string detail;
  REQUIRE_FALSE(decode(octets, back, {}, &detail));
  const auto& tlvs = back.as<DeliverSm>()->tlvs;
  REQUIRE(tlvs.size() == 3);
  CHECK(tlvs.items()[0] == Tlv{tag::sar_total_segments, {0x00, 0x02}});
  CHECK(tlvs.items()[1] == Tlv{0x1400, {0xAA, 0xBB, 0xCC}});
  CHECK(tlvs.items()[2].value.size() == 2000);

  // And encoding writes them back in the same order.
  std::vector<std::uint8_t> again;
  REQUIRE_FALSE(encode(back, again));
  CHECK(to_hex(again) == to_hex(octets));
}

TEST_CASE("codec: TLVs the library reads come back in wire order") {
  DeliverSm d = sample_deliver();
  d.tlvs = {Tlv::u16(tag::sar_msg_ref_num, 7), Tlv::u8(tag::sar_total_segments, 3),
            Tlv::u8(tag::sar_segment_seqnum, 2), Tlv::u16(tag::its_session_info, 0x0901),
            Tlv::u8(tag::ussd_service_op, 0x12)};
  const auto octets = encoded(pdu_of(d));
  Pdu back;
  REQUIRE_FALSE(decode(octets, back));
  CHECK(back.as<DeliverSm>()->tlvs == d.tlvs);
  CHECK(back.as<DeliverSm>()->tlvs.first_octet(tag::ussd_service_op) == 0x12);
}

TEST_CASE("codec: malformed PDUs are refused with the project's error codes") {
  const auto good = encoded(pdu_of(sample_deliver()));
  Pdu pdu;
  SUBCASE("unknown command_id") {
    auto bad = from_hex("00000010 00000099 00000000 00000001");
    const auto ec = decode(bad, pdu);
    CHECK(ec == make_error_code(errc::unknown_command));
    CHECK(nack_status_for(ec) == status::invalid_command_id);
    CHECK(ec.category().name() == std::string("giftgate.smpp"));
  }
  SUBCASE("command_length disagrees with the octets") {
    auto bad = good;
    bad.push_back(0);
    CHECK(decode(bad, pdu) == make_error_code(errc::length_mismatch));
  }
  SUBCASE("command_length over the limit") {
    DecodeLimits limits;
    limits.max_pdu_length = 32;
    CHECK(decode(good, pdu, limits) == make_error_code(errc::pdu_too_long));
  }
  SUBCASE("every truncation of a valid PDU") {
    for (std::size_t n = 16; n < good.size(); ++n) {
      std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      set_length(cut);
      CHECK(decode(cut, pdu));
    }
  }
  SUBCASE("a TLV running past the end") {
    auto bad = good;
    append_tlv(bad, tag::message_payload, {1, 2, 3});
    bad[bad.size() - 4] = 0x09;  // claims 9 octets, 3 follow
    const auto ec = decode(bad, pdu);
    CHECK(ec == make_error_code(errc::bad_tlv));
    CHECK(nack_status_for(ec) == status::invalid_optional_stream);
  }
  SUBCASE("a C-octet string without its NUL") {
    auto bad = from_hex("00000014 80000004 00000000 00000001 31323334");
    CHECK(decode(bad, pdu) == make_error_code(errc::missing_terminator));
  }
  SUBCASE("a C-octet string over its maximum") {
    std::vector<std::uint8_t> bad = from_hex("00000000 80000004 00000000 00000001");
    bad.insert(bad.end(), 70, '1');
    bad.push_back(0);
    set_length(bad);
    CHECK(decode(bad, pdu) == make_error_code(errc::field_too_long));
  }
  SUBCASE("octets after the last field that are no TLV") {
    auto bad = from_hex("00000013 00000015 00000000 00000001 000000");
    const auto ec = decode(bad, pdu);
    CHECK(ec == make_error_code(errc::bad_tlv));
    CHECK(nack_status_for(ec) == status::invalid_optional_stream);
  }
  SUBCASE("sm_length longer than what follows") {
    auto bad = good;
    const std::size_t sm_length_at = good.size() - 3;  // "JF" follows it
    bad[sm_length_at] = 40;
    CHECK(decode(bad, pdu) == make_error_code(errc::truncated_field));
  }
}

TEST_CASE("codec: the library's error log stays far below its buffer") {
  auto octets = encoded(pdu_of(sample_deliver()));
  for (int i = 0; i < 16; ++i) append_tlv(octets, tag::user_message_reference, {0, 1});
  Pdu pdu;
  REQUIRE_FALSE(decode(octets, pdu));
  CHECK(pdu.as<DeliverSm>()->tlvs.size() == 16);
  CHECK(codec_stats().max_library_log > 0);
  CHECK(codec_stats().max_library_log < 2048);
}

TEST_CASE("codec: the number of TLVs is bounded by the PDU's length alone") {
  // 17 was refused once (a limit of 16); an SMSC's MO with its vendor
  // parameters and repeated tags can carry hundreds.
  for (const int count : {17, 40, 1000}) {
    auto octets = encoded(pdu_of(sample_deliver()));
    for (int i = 0; i < count; ++i)
      append_tlv(octets, static_cast<std::uint16_t>(0x1400 + i % 7),
                 {static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
    append_tlv(octets, tag::user_message_reference, {0x12, 0x34});
    Pdu pdu;
    DecodeLimits limits;
    limits.max_pdu_length = 65536;
    REQUIRE_FALSE(decode(octets, pdu, limits));
    const auto& tlvs = pdu.as<DeliverSm>()->tlvs;
    REQUIRE(tlvs.size() == static_cast<std::size_t>(count + 1));
    // In wire order, values intact, the known one readable among them.
    CHECK(tlvs.items()[5].tag == 0x1405);
    CHECK(tlvs.items()[5].value == std::vector<std::uint8_t>{0, 5});
    CHECK(tlvs.u16(tag::user_message_reference) == 0x1234);
    CHECK(unknown_tlv_count(pdu) == static_cast<std::size_t>(count));
    CHECK(pdu.as<DeliverSm>()->short_message == std::vector<std::uint8_t>{'J', 'F'});
    // The library never saw them: its log stays small.
    CHECK(codec_stats().max_library_log < 2048);
    // And what was read is what is written again.
    Pdu back;
    REQUIRE_FALSE(decode(encoded(pdu), back, limits));
    CHECK(back == pdu);
  }
}

TEST_CASE("codec: optional parameters in responses are read, never a reason to refuse") {
  Pdu pdu;
  SUBCASE("submit_sm_resp accepted, with three TLVs after its message_id") {
    // message_id "12345"; additional_status_info_text "ok"; a vendor tag;
    // network_error_code GSM (3) error 0x000B.
    const auto octets = from_hex(
        "0000002A 80000004 00000000 00000007 3132333435 00"
        "001D 0003 6F6B00  1401 0002 ABCD  0423 0003 03000B");
    REQUIRE(octets.size() == 0x2A);
    REQUIRE_FALSE(decode(octets, pdu));
    const auto* r = pdu.as<SubmitSmResp>();
    REQUIRE(r);
    CHECK(r->message_id == "12345");
    REQUIRE(r->tlvs.size() == 3);
    CHECK(r->tlvs.string(tag::additional_status_info_text) == "ok");
    CHECK(r->tlvs.find(0x1401)->value == std::vector<std::uint8_t>{0xAB, 0xCD});
    CHECK(unknown_tlv_count(pdu) == 1);
    CHECK(encoded(pdu) == octets);
  }
  SUBCASE("submit_sm_resp refused, with a message_id and delivery_failure_reason") {
    const auto octets = from_hex("00000016 80000004 00000045 00000008 00 0425 0001 02");
    REQUIRE_FALSE(decode(octets, pdu));
    CHECK(pdu.command_status == status::submit_failed);
    CHECK(pdu.as<SubmitSmResp>()->tlvs.u8(tag::delivery_failure_reason) == 2);
    CHECK(encoded(pdu) == octets);
  }
  SUBCASE("bind_transceiver_resp with twenty TLVs") {
    auto octets = from_hex("00000000 80000009 00000000 00000001 534D534300");
    append_tlv(octets, tag::sc_interface_version, {0x34});
    for (int i = 0; i < 19; ++i) append_tlv(octets, static_cast<std::uint16_t>(0x1500 + i), {0, 1});
    REQUIRE_FALSE(decode(octets, pdu));
    const auto* b = pdu.as<BindResponse>();
    REQUIRE(b);
    CHECK(b->system_id == "SMSC");
    CHECK(b->tlvs.size() == 20);
    CHECK(b->tlvs.u8(tag::sc_interface_version) == 0x34);
  }
  SUBCASE("deliver_sm_resp, enquire_link_resp, generic_nack and unbind with a vendor TLV") {
    for (const char* header : {"80000005 00000000 00000001 00", "80000015 00000000 00000002",
                               "80000000 00000003 00000003", "00000006 00000000 00000004"}) {
      auto octets = from_hex(std::string("00000000 ") + header);
      append_tlv(octets, 0x1600, {1, 2, 3});
      CAPTURE(header);
      REQUIRE_FALSE(decode(octets, pdu));
      CHECK(pdu.tlvs().size() == 1);
      CHECK(unknown_tlv_count(pdu) == 1);
      CHECK(encoded(pdu) == octets);
    }
  }
}

TEST_CASE("codec: values SMPP 3.4 cannot carry are refused, never truncated") {
  std::vector<std::uint8_t> out;
  std::string detail;
  SUBCASE("destination_addr of 21 digits") {
    SubmitSm s;
    s.dest.addr = std::string(21, '1');
    CHECK(encode(pdu_of(s), out, &detail) == make_error_code(errc::invalid_field));
    CHECK(detail == "destination_addr");
  }
  SUBCASE("a NUL inside a string") {
    BindRequest b;
    b.system_id = std::string("ab\0c", 4);
    CHECK(encode(pdu_of(b), out, &detail) == make_error_code(errc::invalid_field));
  }
  SUBCASE("short_message over 253 octets") {
    SubmitSm s;
    s.short_message.assign(254, 'x');
    CHECK(encode(pdu_of(s), out, &detail) == make_error_code(errc::invalid_field));
    CHECK(detail == "short_message");
  }
  CHECK(out.empty());
}

TEST_CASE("codec: message_payload larger than the library's limit is encoded") {
  SubmitSm s;
  s.dest.addr = "8613800138000";
  s.data_coding = 8;
  s.tlvs.add(Tlv{tag::message_payload, std::vector<std::uint8_t>(3000, 0x4E)});
  const auto octets = encoded(pdu_of(s, 42));
  CHECK(octets.size() > 3000);
  Pdu back;
  REQUIRE_FALSE(decode(octets, back));
  CHECK(back == pdu_of(s, 42));
}
