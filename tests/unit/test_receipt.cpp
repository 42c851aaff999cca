// Delivery receipts as SMSCs really send them: the Appendix B layout and its
// variations, TLVs that disagree with the text, text under data_coding 8, and
// message ids in hex on one side and decimal on the other.
#include "protocol/receipt.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace giftgate::smpp;
using namespace std::chrono;

namespace {

std::vector<std::uint8_t> octets(std::string_view text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

// ASCII text as UCS-2 big-endian, the way an SMSC honouring data_coding 8
// would encode it.
std::vector<std::uint8_t> ucs2(std::string_view text) {
  std::vector<std::uint8_t> out;
  for (char c : text) {
    out.push_back(0);
    out.push_back(static_cast<std::uint8_t>(c));
  }
  return out;
}

DeliverSm receipt_pdu(std::vector<std::uint8_t> body, std::uint8_t data_coding = 0) {
  DeliverSm pdu;
  pdu.esm_class = esm::smsc_receipt;
  pdu.data_coding = data_coding;
  pdu.short_message = std::move(body);
  return pdu;
}

constexpr std::string_view spec_example =
    "id:0123456789 sub:001 dlvrd:001 submit date:0809011130 done date:0809011131 "
    "stat:DELIVRD err:000 text:Hello world";

}  // namespace

TEST_CASE("receipt: every stat spelling maps to its message_state value") {
  CHECK(parse_stat("ENROUTE") == MessageState::enroute);
  CHECK(parse_stat("DELIVRD") == MessageState::delivered);
  CHECK(parse_stat("EXPIRED") == MessageState::expired);
  CHECK(parse_stat("DELETED") == MessageState::deleted);
  CHECK(parse_stat("UNDELIV") == MessageState::undeliverable);
  CHECK(parse_stat("ACCEPTD") == MessageState::accepted);
  CHECK(parse_stat("UNKNOWN") == MessageState::unknown);
  CHECK(parse_stat("REJECTD") == MessageState::rejected);
  CHECK(static_cast<int>(MessageState::enroute) == 1);
  CHECK(static_cast<int>(MessageState::rejected) == 8);
}

TEST_CASE("receipt: stat is read in any letter case and in full names") {
  CHECK(parse_stat("delivrd") == MessageState::delivered);
  CHECK(parse_stat("Undeliv") == MessageState::undeliverable);
  CHECK(parse_stat("DELIVERED") == MessageState::delivered);
  CHECK(parse_stat("undeliverable") == MessageState::undeliverable);
  CHECK(parse_stat("Rejected") == MessageState::rejected);
  CHECK(parse_stat("Accepted") == MessageState::accepted);
}

TEST_CASE("receipt: unreadable stat values are nullopt") {
  CHECK_FALSE(parse_stat(""));
  CHECK_FALSE(parse_stat("DELIV"));
  CHECK_FALSE(parse_stat("DELIVRD "));
  CHECK_FALSE(parse_stat("OK"));
  CHECK_FALSE(parse_stat("0"));
}

TEST_CASE("receipt: to_string gives the stat spelling back") {
  for (std::uint8_t v = 1; v <= 8; ++v) {
    const auto state = message_state_from_octet(v);
    REQUIRE(state);
    CHECK(to_string(*state).size() == 7);
    CHECK(parse_stat(to_string(*state)) == state);
  }
  CHECK(to_string(MessageState::delivered) == "DELIVRD");
  CHECK(to_string(MessageState::undeliverable) == "UNDELIV");
}

TEST_CASE("receipt: message_state octets outside 1..8 are not states") {
  CHECK_FALSE(message_state_from_octet(0));
  CHECK_FALSE(message_state_from_octet(9));
  CHECK_FALSE(message_state_from_octet(255));
  CHECK(message_state_from_octet(2) == MessageState::delivered);
}

TEST_CASE("receipt: only ENROUTE is not final") {
  CHECK_FALSE(is_final(MessageState::enroute));
  CHECK(is_final(MessageState::delivered));
  CHECK(is_final(MessageState::expired));
  CHECK(is_final(MessageState::deleted));
  CHECK(is_final(MessageState::undeliverable));
  CHECK(is_final(MessageState::accepted));
  CHECK(is_final(MessageState::unknown));
  CHECK(is_final(MessageState::rejected));
}

TEST_CASE("receipt: esm_class receipt types") {
  CHECK(is_delivery_receipt(0x04));
  CHECK(is_delivery_receipt(0x20));
  CHECK(is_delivery_receipt(0x04 | esm::udhi));
  CHECK(is_delivery_receipt(0x04 | esm::reply_path | 0x03));  // messaging mode bits ignored
  CHECK_FALSE(is_delivery_receipt(0x00));
  CHECK_FALSE(is_delivery_receipt(0x08));  // SME delivery acknowledgement
  CHECK_FALSE(is_delivery_receipt(0x10));  // user acknowledgement
  CHECK_FALSE(is_delivery_receipt(0x24));  // not a defined type
  CHECK_FALSE(is_delivery_receipt(0x40));
  CHECK_FALSE(is_delivery_receipt(0x3C));
}

TEST_CASE("receipt: the specification's example text") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text(spec_example, r));
  CHECK(r.message_id == "0123456789");
  CHECK(r.submitted == 1u);
  CHECK(r.delivered == 1u);
  CHECK(r.submit_date == "0809011130");
  CHECK(r.done_date == "0809011131");
  CHECK(r.state == MessageState::delivered);
  CHECK(r.error == 0u);
  CHECK(r.text == "Hello world");
  CHECK_FALSE(r.id_from_tlv);
  CHECK_FALSE(r.state_from_tlv);
  CHECK_FALSE(r.network_error);
}

TEST_CASE("receipt: fields in another order") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text(
      "stat:UNDELIV err:011 id:abc-42 done date:2401021300 dlvrd:000 sub:001 "
      "submit date:2401021259 text:Your voucher",
      r));
  CHECK(r.message_id == "abc-42");
  CHECK(r.state == MessageState::undeliverable);
  CHECK(r.error == 11u);
  CHECK(r.submitted == 1u);
  CHECK(r.delivered == 0u);
  CHECK(r.submit_date == "2401021259");
  CHECK(r.done_date == "2401021300");
  CHECK(r.text == "Your voucher");
}

TEST_CASE("receipt: missing fields stay empty") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("id:77 sub:001 dlvrd:001 stat:DELIVRD", r));
  CHECK(r.message_id == "77");
  CHECK(r.state == MessageState::delivered);
  CHECK_FALSE(r.error);
  CHECK(r.submit_date.empty());
  CHECK(r.done_date.empty());
  CHECK(r.text.empty());

  DeliveryReceipt bare;
  REQUIRE(parse_receipt_text("id:77", bare));
  CHECK(bare.message_id == "77");
  CHECK_FALSE(bare.state);
  CHECK_FALSE(bare.submitted);
}

TEST_CASE("receipt: Text with a capital and keys in other cases") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("ID:5 Sub:001 Dlvrd:001 Submit Date:2401011200 "
                             "Done Date:2401011201 Stat:DELIVRD Err:000 Text:Hi there",
                             r));
  CHECK(r.message_id == "5");
  CHECK(r.submit_date == "2401011200");
  CHECK(r.done_date == "2401011201");
  CHECK(r.state == MessageState::delivered);
  CHECK(r.text == "Hi there");
}

TEST_CASE("receipt: text takes the rest of its line, keys and colons included") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("id:9 stat:DELIVRD text:code: AE12098765 stat:EXPIRED id:1", r));
  CHECK(r.message_id == "9");
  CHECK(r.state == MessageState::delivered);
  CHECK(r.text == "code: AE12098765 stat:EXPIRED id:1");
}

TEST_CASE("receipt: 12-digit dates are kept whole") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("id:1 submit date:240101120030 done date:240101120145 stat:DELIVRD",
                             r));
  CHECK(r.submit_date == "240101120030");
  CHECK(r.done_date == "240101120145");
  CHECK(parse_receipt_date(r.done_date) ==
        sys_days{year{2024} / January / 1} + hours{12} + minutes{1} + seconds{45});
}

TEST_CASE("receipt: lowercase stat value") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("id:1 stat:delivrd err:000", r));
  CHECK(r.state == MessageState::delivered);
}

TEST_CASE("receipt: extra spaces around colons and inside the date keys") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("  id: 123   sub :001 dlvrd:  001 submit   date : 2401011200 "
                             "done_date:2401011201  stat:   DELIVRD    err:000 text:  x  ",
                             r));
  CHECK(r.message_id == "123");
  CHECK(r.submitted == 1u);
  CHECK(r.delivered == 1u);
  CHECK(r.submit_date == "2401011200");
  CHECK(r.done_date == "2401011201");
  CHECK(r.state == MessageState::delivered);
  CHECK(r.error == 0u);
  CHECK(r.text == "x");
}

TEST_CASE("receipt: fields on several lines") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("id:1\r\nstat:EXPIRED\r\ntext:first line\r\nerr:004\n", r));
  CHECK(r.state == MessageState::expired);
  CHECK(r.text == "first line");
  CHECK(r.error == 4u);
}

TEST_CASE("receipt: the first occurrence of a key wins") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("id:1 stat:DELIVRD text:hello\nid:2 stat:UNDELIV", r));
  CHECK(r.message_id == "1");
  CHECK(r.state == MessageState::delivered);
}

TEST_CASE("receipt: keys are matched only at the start of a token") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("xid:5 msgid:6 id:7 substat:UNDELIV stat:DELIVRD", r));
  CHECK(r.message_id == "7");
  CHECK(r.state == MessageState::delivered);
}

TEST_CASE("receipt: an empty value does not swallow the next field") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("id:8 err: stat:REJECTD text:", r));
  CHECK(r.message_id == "8");
  CHECK_FALSE(r.error);
  CHECK(r.state == MessageState::rejected);
  CHECK(r.text.empty());
}

TEST_CASE("receipt: unreadable values are left empty without failing the receipt") {
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text("id:8 sub:ABC dlvrd:9999999999 err:0x0B stat:BOGUS", r));
  CHECK(r.message_id == "8");
  CHECK_FALSE(r.submitted);
  CHECK_FALSE(r.delivered);
  CHECK_FALSE(r.error);
  CHECK_FALSE(r.state);
}

TEST_CASE("receipt: trailing NUL padding is ignored") {
  const std::string padded("id:3 stat:DELIVRD text:ok\0\0\0", 28);
  DeliveryReceipt r;
  REQUIRE(parse_receipt_text(padded, r));
  CHECK(r.message_id == "3");
  CHECK(r.text == "ok");
}

TEST_CASE("receipt: garbage is rejected and leaves the receipt untouched") {
  DeliveryReceipt r;
  r.message_id = "keep";
  CHECK_FALSE(parse_receipt_text("", r));
  CHECK_FALSE(parse_receipt_text("hello, your voucher is AE12098765", r));
  CHECK_FALSE(parse_receipt_text("id:", r));
  CHECK_FALSE(parse_receipt_text("id: stat:DELIVRD", r));
  CHECK_FALSE(parse_receipt_text("sub:001 dlvrd:001 stat:DELIVRD err:000", r));
  CHECK_FALSE(parse_receipt_text("id", r));
  CHECK_FALSE(parse_receipt_text(":::: \x01\x02\xff", r));
  CHECK(r.message_id == "keep");
}

TEST_CASE("receipt: a deliver_sm with receipt text only") {
  const auto r = parse_delivery_receipt(receipt_pdu(octets(spec_example)));
  REQUIRE(r);
  CHECK(r->message_id == "0123456789");
  CHECK(r->state == MessageState::delivered);
  CHECK(r->text == "Hello world");
  CHECK_FALSE(r->id_from_tlv);
  CHECK_FALSE(r->state_from_tlv);
}

TEST_CASE("receipt: TLVs win over the text") {
  auto pdu = receipt_pdu(octets("id:111 sub:001 dlvrd:000 stat:DELIVRD err:000 text:x"));
  pdu.tlvs.add(Tlv::c_string(tag::receipted_message_id, "6F"));
  pdu.tlvs.add(Tlv::u8(tag::message_state, 5));
  const auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "6F");
  CHECK(r->id_from_tlv);
  CHECK(r->state == MessageState::undeliverable);
  CHECK(r->state_from_tlv);
  // What only the text says is still there.
  CHECK(r->submitted == 1u);
  CHECK(r->delivered == 0u);
  CHECK(r->error == 0u);
  CHECK(r->text == "x");
}

TEST_CASE("receipt: TLVs alone make a receipt") {
  DeliverSm pdu;
  pdu.esm_class = esm::smsc_receipt;
  pdu.tlvs.add(Tlv::c_string(tag::receipted_message_id, "550e8400-e29b-41d4-a716-446655440000"));
  pdu.tlvs.add(Tlv::u8(tag::message_state, 2));
  const auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "550e8400-e29b-41d4-a716-446655440000");
  CHECK(r->state == MessageState::delivered);
  CHECK(r->id_from_tlv);
  CHECK(r->text.empty());
}

TEST_CASE("receipt: text that is not a receipt still works with TLVs") {
  auto pdu = receipt_pdu(octets("Message delivered"));
  pdu.tlvs.add(Tlv::c_string(tag::receipted_message_id, "42"));
  pdu.tlvs.add(Tlv::u8(tag::message_state, 3));
  const auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "42");
  CHECK(r->state == MessageState::expired);
}

TEST_CASE("receipt: a text stat survives when the TLV state is out of range") {
  auto pdu = receipt_pdu(octets("id:1 stat:EXPIRED"));
  pdu.tlvs.add(Tlv::u8(tag::message_state, 0));
  auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->state == MessageState::expired);
  CHECK_FALSE(r->state_from_tlv);

  pdu.tlvs.set(Tlv::u16(tag::message_state, 2));  // wrong size
  r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->state == MessageState::expired);
}

TEST_CASE("receipt: a blank receipted_message_id leaves the text id") {
  auto pdu = receipt_pdu(octets("id:99 stat:DELIVRD"));
  pdu.tlvs.add(Tlv::c_string(tag::receipted_message_id, ""));
  auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "99");
  CHECK_FALSE(r->id_from_tlv);

  pdu.tlvs.set(Tlv::c_string(tag::receipted_message_id, "  "));
  r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "99");
}

TEST_CASE("receipt: receipted_message_id ends at its first NUL") {
  DeliverSm pdu;
  const std::uint8_t value[] = {'A', 'B', 0, 'C', 0};
  pdu.tlvs.add(Tlv::octets(tag::receipted_message_id, value));
  const auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "AB");
}

TEST_CASE("receipt: network_error_code is kept when it has 3 octets") {
  auto pdu = receipt_pdu(octets("id:1 stat:UNDELIV err:001"));
  const std::uint8_t nec[] = {0x03, 0x00, 0x1B};
  pdu.tlvs.add(Tlv::octets(tag::network_error_code, nec));
  auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  REQUIRE(r->network_error);
  CHECK((*r->network_error)[0] == 0x03);
  CHECK((*r->network_error)[1] == 0x00);
  CHECK((*r->network_error)[2] == 0x1B);

  const std::uint8_t short_nec[] = {0x03, 0x1B};
  pdu.tlvs.set(Tlv::octets(tag::network_error_code, short_nec));
  r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK_FALSE(r->network_error);
}

TEST_CASE("receipt: text in message_payload") {
  DeliverSm pdu;
  pdu.esm_class = esm::smsc_receipt;
  pdu.tlvs.add(Tlv::octets(tag::message_payload, octets(spec_example)));
  const auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "0123456789");
  CHECK(r->state == MessageState::delivered);
}

TEST_CASE("receipt: no id anywhere is no receipt") {
  CHECK_FALSE(parse_delivery_receipt(DeliverSm{}));
  CHECK_FALSE(parse_delivery_receipt(receipt_pdu(octets("stat:DELIVRD err:000"))));
  CHECK_FALSE(parse_delivery_receipt(receipt_pdu(octets("Hello from a member"))));
  auto pdu = receipt_pdu({});
  pdu.tlvs.add(Tlv::u8(tag::message_state, 2));
  CHECK_FALSE(parse_delivery_receipt(pdu));
}

TEST_CASE("receipt: ASCII text under data_coding 8 is read as ASCII") {
  const auto r = parse_delivery_receipt(receipt_pdu(octets(spec_example), 8));
  REQUIRE(r);
  CHECK(r->message_id == "0123456789");
  CHECK(r->state == MessageState::delivered);
  CHECK(r->text == "Hello world");

  // A C-string terminator after ASCII text does not make it UCS-2.
  auto padded = octets("id:5 stat:DELIVRD");
  padded.push_back(0);
  const auto p = parse_delivery_receipt(receipt_pdu(padded, 8));
  REQUIRE(p);
  CHECK(p->message_id == "5");
}

TEST_CASE("receipt: UCS-2 text under data_coding 8 is decoded") {
  const auto r = parse_delivery_receipt(receipt_pdu(ucs2(spec_example), 8));
  REQUIRE(r);
  CHECK(r->message_id == "0123456789");
  CHECK(r->submit_date == "0809011130");
  CHECK(r->state == MessageState::delivered);
  CHECK(r->error == 0u);
  CHECK(r->text == "Hello world");
}

TEST_CASE("receipt: non-ASCII characters in UCS-2 text become '?'") {
  auto body = ucs2("id:12 stat:DELIVRD text:");
  for (std::uint8_t o : {0x4E, 0x2D, 0x65, 0x87}) body.push_back(o);  // two CJK characters
  for (std::uint8_t o : {0xD8, 0x3D, 0xDE, 0x00}) body.push_back(o);  // one emoji, a pair
  const auto r = parse_delivery_receipt(receipt_pdu(body, 8));
  REQUIRE(r);
  CHECK(r->message_id == "12");
  CHECK(r->text == "???");
}

TEST_CASE("receipt: UCS-2 octets are not decoded when data_coding is not 8") {
  CHECK_FALSE(parse_delivery_receipt(receipt_pdu(ucs2("id:12 stat:DELIVRD"), 0)));
}

TEST_CASE("receipt: a data_sm receipt") {
  DataSm pdu;
  pdu.esm_class = esm::smsc_receipt;
  pdu.tlvs.add(Tlv::octets(tag::message_payload, octets("id:A1 stat:REJECTD err:002")));
  auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "A1");
  CHECK(r->state == MessageState::rejected);
  CHECK(r->error == 2u);

  pdu.tlvs.add(Tlv::c_string(tag::receipted_message_id, "B2"));
  pdu.tlvs.add(Tlv::u8(tag::message_state, 2));
  r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(r->message_id == "B2");
  CHECK(r->state == MessageState::delivered);

  DataSm ucs;
  ucs.data_coding = 8;
  ucs.tlvs.add(Tlv::octets(tag::message_payload, ucs2("id:C3 stat:EXPIRED")));
  r = parse_delivery_receipt(ucs);
  REQUIRE(r);
  CHECK(r->message_id == "C3");
  CHECK(r->state == MessageState::expired);

  CHECK_FALSE(parse_delivery_receipt(DataSm{}));
}

TEST_CASE("receipt: dates of 10 and 12 digits, as UTC") {
  CHECK(parse_receipt_date("0809011130") ==
        sys_days{year{2008} / September / 1} + hours{11} + minutes{30});
  CHECK(parse_receipt_date("241231235959") ==
        sys_days{year{2024} / December / 31} + hours{23} + minutes{59} + seconds{59});
  CHECK(parse_receipt_date("0001010000") == sys_days{year{2000} / January / 1});
  CHECK(parse_receipt_date("2402291200"));  // leap day
}

TEST_CASE("receipt: impossible dates are rejected") {
  CHECK_FALSE(parse_receipt_date(""));
  CHECK_FALSE(parse_receipt_date("240101120"));      // 9 digits
  CHECK_FALSE(parse_receipt_date("24010112000"));    // 11 digits
  CHECK_FALSE(parse_receipt_date("2401011200000"));  // 13 digits
  CHECK_FALSE(parse_receipt_date("24O1011200"));     // a letter O
  CHECK_FALSE(parse_receipt_date("2413011200"));     // month 13
  CHECK_FALSE(parse_receipt_date("2400011200"));     // month 0
  CHECK_FALSE(parse_receipt_date("2401001200"));     // day 0
  CHECK_FALSE(parse_receipt_date("2402301200"));     // 30 February
  CHECK_FALSE(parse_receipt_date("2302291200"));     // 29 February, not a leap year
  CHECK_FALSE(parse_receipt_date("2404311200"));     // 31 April
  CHECK_FALSE(parse_receipt_date("2401012400"));     // hour 24
  CHECK_FALSE(parse_receipt_date("2401011260"));     // minute 60
  CHECK_FALSE(parse_receipt_date("240101120060"));   // second 60
  CHECK_FALSE(parse_receipt_date("-401011200"));
}

TEST_CASE("receipt: decimal ids lose their leading zeros") {
  CHECK(normalize_message_id("0000012345", IdFormat::decimal) == "12345");
  CHECK(normalize_message_id("12345", IdFormat::decimal) == "12345");
  CHECK(normalize_message_id("0000", IdFormat::decimal) == "0");
  CHECK(normalize_message_id("0", IdFormat::automatic) == "0");
  CHECK(normalize_message_id("007", IdFormat::automatic) == "7");
}

TEST_CASE("receipt: a hex id equals its decimal spelling") {
  CHECK(normalize_message_id("1A2B", IdFormat::hex) == "6699");
  CHECK(normalize_message_id("1A2B", IdFormat::automatic) ==
        normalize_message_id("6699", IdFormat::automatic));
  CHECK(normalize_message_id("1a2b", IdFormat::automatic) ==
        normalize_message_id("0006699", IdFormat::automatic));
  CHECK(normalize_message_id("1a2b", IdFormat::hex) == normalize_message_id("1A2B", IdFormat::hex));
  CHECK(normalize_message_id("00FF", IdFormat::hex) == "255");
  CHECK(normalize_message_id("000", IdFormat::hex) == "0");
}

TEST_CASE("receipt: hex ids longer than 64 bits convert exactly") {
  CHECK(normalize_message_id("FFFFFFFFFFFFFFFF", IdFormat::hex) == "18446744073709551615");
  CHECK(normalize_message_id("10000000000000000", IdFormat::hex) == "18446744073709551616");
  CHECK(normalize_message_id("FFFFFFFFFFFFFFFFFFFF", IdFormat::hex) ==
        "1208925819614629174706175");
  CHECK(normalize_message_id("deadbeefcafebabe0123", IdFormat::automatic) ==
        "1051570404360395033542947");
  // A decimal id of the same value from the receipt side.
  CHECK(normalize_message_id("01208925819614629174706175", IdFormat::decimal) ==
        normalize_message_id("ffffffffffffffffffff", IdFormat::hex));
}

TEST_CASE("receipt: automatic reads an all-digit hex id as decimal") {
  // The documented blind spot: configure hex for such SMSCs.
  CHECK(normalize_message_id("1000", IdFormat::automatic) == "1000");
  CHECK(normalize_message_id("1000", IdFormat::hex) == "4096");
  CHECK(normalize_message_id("1000", IdFormat::hex) ==
        normalize_message_id("4096", IdFormat::decimal));
}

TEST_CASE("receipt: UUIDs and other alphanumeric ids are compared case-blind") {
  const std::string_view upper = "550E8400-E29B-41D4-A716-446655440000";
  const std::string_view lower = "550e8400-e29b-41d4-a716-446655440000";
  CHECK(normalize_message_id(upper, IdFormat::automatic) == lower);
  CHECK(normalize_message_id(lower, IdFormat::automatic) == lower);
  CHECK(normalize_message_id("MSG-00042", IdFormat::automatic) == "msg-00042");
  CHECK(normalize_message_id("G7H", IdFormat::automatic) == "g7h");
  // Not a number in the configured base: kept as an opaque id.
  CHECK(normalize_message_id("1A2B", IdFormat::decimal) == "1a2b");
  CHECK(normalize_message_id("XYZ", IdFormat::hex) == "xyz");
}

TEST_CASE("receipt: as_is only trims") {
  CHECK(normalize_message_id("  00AbC  ", IdFormat::as_is) == "00AbC");
  CHECK(normalize_message_id("0012", IdFormat::as_is) == "0012");
  CHECK(normalize_message_id("0012", IdFormat::as_is) !=
        normalize_message_id("0012", IdFormat::decimal));
}

TEST_CASE("receipt: spaces and NULs around ids are trimmed in every format") {
  const std::string padded("\0 0042 \0\0", 9);
  CHECK(normalize_message_id(padded, IdFormat::decimal) == "42");
  CHECK(normalize_message_id(padded, IdFormat::automatic) == "42");
  CHECK(normalize_message_id(padded, IdFormat::hex) == "66");
  CHECK(normalize_message_id(padded, IdFormat::as_is) == "0042");
  CHECK(normalize_message_id("", IdFormat::automatic).empty());
  CHECK(normalize_message_id("   ", IdFormat::hex).empty());
}

TEST_CASE("receipt: a submit_sm_resp id in hex matches its decimal receipt") {
  const std::string from_resp = normalize_message_id("0001A2B", IdFormat::automatic);
  auto pdu = receipt_pdu(octets("id:0000006699 sub:001 dlvrd:001 stat:DELIVRD err:000"));
  const auto r = parse_delivery_receipt(pdu);
  REQUIRE(r);
  CHECK(normalize_message_id(r->message_id, IdFormat::automatic) == from_resp);
}

TEST_CASE("receipt: an automatic id of digits only has two readings until the format is known") {
  // "1001" is 1001, or 0x1001 = 4097: one id cannot tell.
  auto r = read_message_id("1001", IdFormat::automatic);
  CHECK(r.first == "1001");
  CHECK(r.second == "4097");
  // Leading zeros change neither reading; "7" reads the same both ways.
  CHECK(read_message_id("0010", IdFormat::automatic).second == "16");
  CHECK(read_message_id("7", IdFormat::automatic).second.empty());
  // A letter, or a configured format: one reading.
  CHECK(read_message_id("1a2b", IdFormat::automatic).second.empty());
  CHECK(read_message_id("1001", IdFormat::hex).first == "4097");
  CHECK(read_message_id("1001", IdFormat::hex).second.empty());
  CHECK(read_message_id("1001", IdFormat::decimal).second.empty());
  CHECK(read_message_id("f81d4fae-7dec", IdFormat::automatic).second.empty());
}

TEST_CASE("receipt: the id format is learnt from letters, opaque characters, or many digits") {
  IdFormatLearner hex;
  CHECK_FALSE(hex.observe("1000"));
  CHECK(hex.format() == IdFormat::automatic);
  CHECK(hex.observe("100A"));  // a hex counter shows its first letter
  CHECK(hex.format() == IdFormat::hex);
  CHECK(hex.read("1001").first == "4097");  // now read one way only
  CHECK(hex.read("1001").second.empty());
  CHECK_FALSE(hex.observe("zz"));  // settled once

  IdFormatLearner opaque;
  CHECK(opaque.observe("f81d4fae-7dec-11d0"));
  CHECK(opaque.format() == IdFormat::as_is);

  IdFormatLearner decimal;
  for (unsigned i = 1; i < IdFormatLearner::kDecimalAfter; ++i) {
    CHECK_FALSE(decimal.observe(std::to_string(1000 + i)));
    CHECK(decimal.format() == IdFormat::automatic);
  }
  CHECK(decimal.observe("2000"));
  CHECK(decimal.format() == IdFormat::decimal);
  CHECK(decimal.read("1001").second.empty());
  // Blank ids teach nothing.
  IdFormatLearner blank;
  CHECK_FALSE(blank.observe("  "));
  // A configured format is never changed by what is seen.
  IdFormatLearner configured(IdFormat::decimal);
  CHECK_FALSE(configured.observe("1a2b"));
  CHECK(configured.format() == IdFormat::decimal);
}

TEST_CASE("receipt: what an SMSC's optional parameters say of a failure, for people") {
  Tlvs tlvs;
  CHECK(failure_details(tlvs).empty());
  tlvs.add(Tlv::u8(tag::delivery_failure_reason, 2));
  tlvs.add(Tlv::octets(tag::network_error_code, std::vector<std::uint8_t>{0x03, 0x00, 0x0B}));
  tlvs.add(Tlv::c_string(tag::additional_status_info_text, "queue\t'full'"));
  tlvs.add(Tlv::u16(0x1400, 7));  // a vendor's: not shown
  CHECK(failure_details(tlvs) ==
        "delivery_failure_reason 2, network_error_code 03:000B, status_text 'queue??full?'");
}
