// The PDU <-> message boundary (daemon/gateway/boundary.*): pure functions,
// tested without a session or a database.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/gateway/boundary.hpp"
#include "protocol/reassembly.hpp"
#include "protocol/ussd.hpp"

using namespace giftgate;

namespace {

Config defaults() {
  std::string error;
  auto c = parse_config(default_config_text(), "built-in", &error);
  REQUIRE_MESSAGE(c, error);
  return *c;
}

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

smpp::Pdu deliver(std::string from, std::string text, std::uint8_t esm_class = 0) {
  smpp::DeliverSm d;
  d.source = {1, 1, std::move(from)};
  d.dest = {0, 0, "12580"};
  d.esm_class = esm_class;
  d.short_message = bytes(text);
  return smpp::Pdu{0, 7, d};
}

}  // namespace

TEST_CASE("boundary: a deliver_sm is read in place, a data_sm as a deliver_sm, anything else not") {
  const smpp::Pdu d = deliver("8613800138000", "JF");
  smpp::DeliverSm storage;
  CHECK(boundary::as_deliver_sm(d, storage) == d.as<smpp::DeliverSm>());

  smpp::DataSm data;
  data.source = {1, 1, "8613800138000"};
  data.tlvs.add(smpp::Tlv::octets(smpp::tag::message_payload, bytes("JF")));
  const auto* read = boundary::as_deliver_sm(smpp::Pdu{0, 8, data}, storage);
  REQUIRE(read == &storage);
  CHECK(read->source.addr == "8613800138000");
  CHECK(smpp::user_data(*read).octets == bytes("JF"));

  CHECK(boundary::as_deliver_sm(smpp::Pdu{0, 9, smpp::EnquireLink{}}, storage) == nullptr);
}

TEST_CASE("boundary: a receipt by its esm_class or by the parameters only receipts carry") {
  smpp::DeliverSm storage;
  const smpp::Pdu mo = deliver("8613800138000", "JF");
  CHECK_FALSE(boundary::is_receipt(*boundary::as_deliver_sm(mo, storage)));
  const smpp::Pdu receipt = deliver("8613800138000", "id:1 stat:DELIVRD", 0x04);
  CHECK(boundary::is_receipt(*boundary::as_deliver_sm(receipt, storage)));

  smpp::DataSm data;
  data.tlvs.add(smpp::Tlv::c_string(smpp::tag::receipted_message_id, "abc"));
  CHECK_FALSE(boundary::is_receipt(*boundary::as_deliver_sm(smpp::Pdu{0, 1, data}, storage)));
  data.tlvs.add(smpp::Tlv::u8(smpp::tag::message_state, 2));
  CHECK(boundary::is_receipt(*boundary::as_deliver_sm(smpp::Pdu{0, 1, data}, storage)));
}

TEST_CASE("boundary: arrival names a member's message and its sender, not a receipt") {
  const auto sms = boundary::arrival(deliver("8613800138000", "JF"));
  REQUIRE(sms);
  CHECK(sms->sender == "8613800138000");
  CHECK_FALSE(sms->ussd);

  smpp::Pdu ussd = deliver("8613800138001", "*12580#");
  std::get<smpp::DeliverSm>(ussd.body).tlvs.add(smpp::Tlv::u8(smpp::tag::ussd_service_op, 1));
  const auto step = boundary::arrival(ussd);
  REQUIRE(step);
  CHECK(step->ussd);

  CHECK_FALSE(boundary::arrival(deliver("8613800138000", "id:1 stat:DELIVRD", 0x04)));
  CHECK_FALSE(boundary::arrival(smpp::Pdu{0, 9, smpp::EnquireLink{}}));
}

TEST_CASE("boundary: a receipt's report carries both id readings, the recipient, state and error") {
  Config config = defaults();
  config.default_country = "86";
  smpp::DeliverSm d = std::get<smpp::DeliverSm>(deliver("13800138000", "").body);
  smpp::DeliveryReceipt r;
  r.message_id = "1001";
  r.state = smpp::MessageState::undeliverable;
  r.error = 5;
  config.daemon.smsc.id = "north";
  const auto report = boundary::receipt_report(d, r, {"1001", "4097"}, config.daemon.smsc, config);
  CHECK(report.smsc == "north");  // matched among that SMSC's parts only
  CHECK(report.ids.id == "1001");
  CHECK(report.ids.alt == "4097");
  CHECK(report.recipient == "8613800138000");
  CHECK(report.stat == "UNDELIV");
  CHECK(report.error == "005");

  config.daemon.smsc.receipt_check_recipient = false;
  r.state.reset();
  r.error.reset();
  const auto unchecked = boundary::receipt_report(d, r, {"1001", ""}, config.daemon.smsc, config);
  CHECK_FALSE(unchecked.recipient);
  CHECK(unchecked.stat == "UNKNOWN");
  CHECK(unchecked.error.empty());

  config.daemon.smsc.receipt_check_recipient = true;
  d.source.addr = "not a number";
  CHECK(boundary::receipt_report(d, r, {"1001", ""}, config.daemon.smsc, config).recipient == std::string());
}

TEST_CASE("boundary: USSD operations map to steps as configured") {
  UssdSettings u;
  CHECK(boundary::ussd_step(u.op_begin, u) == UssdMo::Step::begin);
  CHECK(boundary::ussd_step(u.op_continue, u) == UssdMo::Step::answer);
  CHECK(boundary::ussd_step(u.op_abort, u) == UssdMo::Step::abort);
  CHECK_FALSE(boundary::ussd_step(u.op_menu, u));
  u.op_begin = 0x20;
  CHECK(boundary::ussd_step(0x20, u) == UssdMo::Step::begin);
  CHECK_FALSE(boundary::ussd_step(1, u));
}

TEST_CASE("boundary: an MO's text, and its fingerprint for redeliveries") {
  const Config config = defaults();
  CHECK(boundary::mo_text(0x08, std::vector<std::uint8_t>{0x79, 0xEF, 0x52, 0x06}, config.daemon.smsc) ==
        "积分");
  CHECK(boundary::mo_text(0x04, bytes("JF"), config.daemon.smsc).empty());  // binary: no text to read

  const Time t{std::chrono::seconds(1'800'000'000)};
  const Mo a = boundary::sms_mo("e.1", "8613800138000", "JF", t, "e", config.daemon.smsc);
  const Mo b = boundary::sms_mo("e.2", "8613800138000", "JF", t, "e", config.daemon.smsc);
  const Mo c = boundary::sms_mo("e.3", "8613800138000", "CX", t, "e", config.daemon.smsc);
  CHECK(a.channel == "sms");
  CHECK(a.key == "e.1");
  CHECK(a.epoch == "e");
  CHECK(a.fingerprint == b.fingerprint);
  CHECK(a.fingerprint != c.fingerprint);

  smpp::UssdInfo info;
  info.op = 1;
  const UssdMo no_session = boundary::ussd_mo(UssdMo::Step::begin, "e.4", "8613800138000", "*12580#", t, info);
  CHECK(no_session.fingerprint.empty());  // nothing to tell a redelivery by
  info.session = 3;
  const UssdMo with = boundary::ussd_mo(UssdMo::Step::begin, "e.5", "8613800138000", "*12580#", t, info);
  CHECK_FALSE(with.fingerprint.empty());
  CHECK(with.request_session == smpp::ussd_session_text(info));
}

TEST_CASE("boundary: an SMS becomes parts that ask for receipts, a USSD screen one PDU that does not") {
  const Config config = defaults();
  Outbound sms;
  sms.id = 42;
  sms.msisdn = "8613800138000";
  sms.body = std::string(200, 'a');  // two GSM parts
  std::string why;
  const auto parts = boundary::submits_for(sms, config.daemon.smsc, config, &why);
  REQUIRE(parts.size() == 2);
  for (const auto& p : parts) {
    CHECK(p.registered_delivery == smpp::registered::receipt);
    CHECK(p.dest.addr == "8613800138000");
    CHECK(p.source.addr == config.daemon.smsc.source_addr);
  }

  Outbound screen;
  screen.id = 43;
  screen.msisdn = "8613800138000";
  screen.body = "1 Balance";
  screen.ussd_op = config.ussd.op_end;
  smpp::UssdInfo request;
  request.op = config.ussd.op_begin;
  request.session = 9;
  screen.ussd_session = smpp::ussd_session_text(request);
  const auto pdus = boundary::submits_for(screen, config.daemon.smsc, config, &why);
  REQUIRE(pdus.size() == 1);
  CHECK(pdus[0].service_type == "USSD");
  CHECK(pdus[0].registered_delivery == smpp::registered::none);
  CHECK(pdus[0].tlvs.first_octet(smpp::tag::ussd_service_op) == config.ussd.op_end);

  screen.ussd_session = "garbled";
  CHECK(boundary::submits_for(screen, config.daemon.smsc, config, &why).empty());
  CHECK(why == "a USSD screen without a readable session");

  Outbound too_long = sms;
  too_long.body = std::string(160 * 11, 'a');  // more parts than any SMS may have
  why.clear();
  CHECK(boundary::submits_for(too_long, config.daemon.smsc, config, &why).empty());
  CHECK(why.rfind("cannot split", 0) == 0);
}
