// The ESME session against the SMSC simulator (npm `smpp`) on 127.0.0.1.
#include <ostream>

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "protocol/charset.hpp"
#include "protocol/codec.hpp"
#include "protocol/error.hpp"
#include "protocol/reassembly.hpp"
#include "protocol/receipt.hpp"
#include "protocol/split.hpp"
#include "tests/integration/session_fixture.hpp"
#include "tests/support/hex.hpp"

using namespace giftgate;
using namespace giftgate::test;
using smpp::SessionState;
using smpp::SubmitOutcome;

namespace {

double field_number(const SimProcess::Event& e, const std::string& key) {
  const auto it = e.fields.find(key);
  return it == e.fields.end() ? -1 : std::stod(it->second);
}

std::string field(const SimProcess::Event& e, const std::string& key) {
  const auto it = e.fields.find(key);
  return it == e.fields.end() ? std::string() : it->second;
}

}  // namespace

TEST_CASE("session: binds as transceiver and sends a message") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  const auto bind = h.sim.wait_for("bind", 5s);
  REQUIRE(bind);
  CHECK(field(*bind, "kind") == "transceiver");
  CHECK(field(*bind, "system_id") == "giftgate");

  const auto i = h.submit(s, text_message("hello"));
  REQUIRE(eventually([&] { return h.settled() == 1; }));
  const auto o = h.outcome(i);
  CHECK(o->kind == SubmitOutcome::Kind::sent);
  CHECK_FALSE(o->message_id.empty());
  const auto submit = h.sim.wait_for("submit", 5s);
  REQUIRE(submit);
  CHECK(field(*submit, "id") == o->message_id);
  CHECK(h.log_sink->contains("to=bound"));
}

TEST_CASE("session: a UCS-2 Chinese long message arrives reassembled at the SMSC") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  // 100 Chinese characters: two parts of at most 67 UCS-2 units.
  std::string text;
  const std::string phrase = "您的积分可兑换电子礼券请回复兑换";
  while (text.size() < 100 * 3) text += phrase;
  text.resize(100 * 3);

  smpp::SplitOptions options;
  options.mode = smpp::LongMessageMode::udh8;
  options.reference = 0x2A;
  std::vector<smpp::MessagePart> parts;
  REQUIRE_FALSE(smpp::split(text, options, parts));
  REQUIRE(parts.size() == 2);
  h.submit_parts(s, parts);
  REQUIRE(eventually([&] { return h.settled() == 2; }));
  const auto message = h.sim.wait_for("message", 5s);
  REQUIRE(message);
  CHECK(field(*message, "text") == text);
  CHECK(field(*message, "parts") == "2");
}

TEST_CASE("session: long messages by SAR parameters and by message_payload") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  const std::string text(200, 'x');
  for (auto mode : {smpp::LongMessageMode::sar, smpp::LongMessageMode::payload}) {
    smpp::SplitOptions options;
    options.mode = mode;
    options.reference = 7;
    std::vector<smpp::MessagePart> parts;
    REQUIRE_FALSE(smpp::split(text, options, parts));
    h.submit_parts(s, parts);
    const auto message = h.sim.wait_for("message", 5s);
    REQUIRE(message);
    CHECK(field(*message, "text") == text);
  }
}

TEST_CASE("session: MO messages are answered only when the owner says so") {
  SessionHarness h;
  std::vector<smpp::Responder> held;
  h.inbound_policy = [&](const smpp::Pdu&, smpp::Responder r) { held.push_back(std::move(r)); };
  auto s = h.bound_session(h.settings());

  h.sim.command("mo src=8613800138000 dst=12580 text=" + SimProcess::encode("积分") + " coding=8");
  REQUIRE(eventually([&] { return h.inbound_count() == 1; }));
  {
    std::lock_guard lock(h.mutex);
    const auto* d = h.inbound[0].as<smpp::DeliverSm>();
    REQUIRE(d);
    CHECK(d->source.addr == "8613800138000");
    CHECK(smpp::decode_text(d->data_coding, d->short_message,
                            smpp::DefaultAlphabet::gsm7_unpacked)
              .utf8 == "积分");
  }
  // Not answered yet: a submit written after the handover reaches the SMSC
  // with no deliver_sm_resp before it (the connection keeps the order in
  // which the session writes).
  h.submit(s, text_message("after the handover"));
  REQUIRE(h.sim.wait_for("submit", 5s));
  CHECK(h.sim.count("deliver_resp") == 0);
  {
    std::lock_guard lock(h.mutex);
    held[0].respond(0);
  }
  const auto resp = h.sim.wait_for("deliver_resp", 5s);
  REQUIRE(resp);
  CHECK(field(*resp, "status") == "0");

  // A responder dropped unanswered asks the SMSC to retry later.
  h.sim.command("mo src=8613800138001 dst=12580 text=JF");
  REQUIRE(eventually([&] { return h.inbound_count() == 2; }));
  {
    std::lock_guard lock(h.mutex);
    held.clear();
  }
  const auto retry = h.sim.wait_for("deliver_resp", 5s);
  REQUIRE(retry);
  CHECK(std::stoul(field(*retry, "status")) == smpp::status::temporary_app_error);
}

TEST_CASE("session: answers and submits handed over together go out, each once, in order") {
  SessionHarness h;
  std::vector<smpp::Responder> held;
  h.inbound_policy = [&](const smpp::Pdu&, smpp::Responder r) { held.push_back(std::move(r)); };
  auto s = h.bound_session(h.settings());
  for (int i = 0; i < 3; ++i)
    h.sim.command(fmt::format("mo src=861380013800{} dst=12580 text=JF", i));
  REQUIRE(eventually([&] { return h.inbound_count() == 3; }));
  std::vector<std::pair<smpp::Responder, std::uint32_t>> answers;
  {
    std::lock_guard lock(h.mutex);
    answers.emplace_back(std::move(held[0]), smpp::status::ok);
    answers.emplace_back(std::move(held[1]), smpp::status::temporary_app_error);
    answers.emplace_back(std::move(held[2]), smpp::status::ok);
  }
  smpp::Responder::respond_all(answers);
  CHECK(answers.empty());
  std::vector<std::string> statuses;
  for (int i = 0; i < 3; ++i) {
    const auto resp = h.sim.wait_for("deliver_resp", 5s);
    REQUIRE(resp);
    statuses.push_back(field(*resp, "status"));
  }
  CHECK(statuses == std::vector<std::string>{"0", std::to_string(smpp::status::temporary_app_error), "0"});

  std::vector<int> done(2, 0);
  std::vector<std::pair<smpp::SubmitSm, smpp::Session::SubmitHandler>> submits;
  for (int i = 0; i < 2; ++i)
    submits.emplace_back(text_message(fmt::format("batch {}", i)),
                         [&, i](smpp::SubmitOutcome o) {
                           std::lock_guard lock(h.mutex);
                           if (o.kind == smpp::SubmitOutcome::Kind::sent) ++done[i];
                         });
  s->submit_all(std::move(submits));
  REQUIRE(eventually([&] {
    std::lock_guard lock(h.mutex);
    return done[0] == 1 && done[1] == 1;
  }));
  const auto first = h.sim.wait_for("submit", 5s);
  const auto second = h.sim.wait_for("submit", 5s);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(h.sim.count("submit") == 2);
  CHECK(SessionHarness::stop(*s, 1s));
}

TEST_CASE("session: no more MOs are handed over than may wait unanswered, even from one read") {
  SessionHarness h;
  std::vector<smpp::Responder> held;
  h.inbound_policy = [&](const smpp::Pdu&, smpp::Responder r) { held.push_back(std::move(r)); };
  auto settings = h.settings();
  settings.max_inbound_pending = 3;
  auto s = h.bound_session(settings);

  std::vector<std::string> burst;
  for (int i = 0; i < 8; ++i) burst.push_back(fmt::format("mo src=86138001380{:02} dst=12580 text=JF", i));
  h.sim.commands(burst);  // back to back: several arrive in one read
  // The session stops reading once three wait; the rest stay buffered or
  // unread until answers go out.
  REQUIRE(eventually([&] { return s->stats().read_pauses >= 1; }));
  CHECK(h.inbound_count() == 3);
  CHECK(s->stats().inbound == 3);

  // Answering lets the rest through, in order, never more than 3 at a time.
  for (int round = 0; round < 10 && h.inbound_count() < 8; ++round) {
    {
      std::lock_guard lock(h.mutex);
      for (auto& r : held) r.respond(0);
      held.clear();
    }
    const auto before = h.inbound_count();
    eventually([&] { return h.inbound_count() > before; }, 2s);
    std::lock_guard lock(h.mutex);
    CHECK(held.size() <= 3);
  }
  CHECK(h.inbound_count() == 8);
  std::lock_guard lock(h.mutex);
  for (std::size_t i = 0; i < h.inbound.size(); ++i)
    CHECK(h.inbound[i].as<smpp::DeliverSm>()->source.addr == fmt::format("86138001380{:02}", i));
}

TEST_CASE("session: concatenated MO parts reassemble, and USSD operations come through") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  std::string text;
  while (text.size() < 150 * 3) text += "我要兑换一张五十元的电影票";
  for (const char* split : {"udh8", "udh16", "sar"}) {
    const auto before = h.inbound_count();
    h.sim.command("mo src=8613800138000 dst=12580 coding=8 split=" + std::string(split) +
                  " text=" + SimProcess::encode(text));
    smpp::Reassembler reassembler;
    smpp::Reassembler::Result result;
    std::size_t next = before;
    REQUIRE(eventually([&] {
      std::lock_guard lock(h.mutex);
      for (std::size_t& i = next; i < h.inbound.size(); ++i) {
        const auto part = smpp::user_data(*h.inbound[i].as<smpp::DeliverSm>());
        result = reassembler.add("8613800138000", part, smpp::Reassembler::Clock::now());
      }
      return result.status == smpp::Reassembler::Status::complete;
    }));
    CHECK(smpp::ucs2_decode(result.joined()) == text);
  }

  h.sim.command("ussd src=8613800138000 dst=12580 text=" + SimProcess::encode("*12580#") +
                " op=1 session=9");
  REQUIRE(eventually([&] {
    std::lock_guard lock(h.mutex);
    const auto* d = h.inbound.back().as<smpp::DeliverSm>();
    return d && d->tlvs.has(smpp::tag::ussd_service_op);
  }));
  std::lock_guard lock(h.mutex);
  const auto* d = h.inbound.back().as<smpp::DeliverSm>();
  CHECK(d->tlvs.first_octet(smpp::tag::ussd_service_op) == 1);
  CHECK(d->tlvs.u16(smpp::tag::its_session_info) == 0x0900);
  CHECK(std::string(d->short_message.begin(), d->short_message.end()) == "*12580#");
}

TEST_CASE("session: delivery receipts match the submit despite hex and decimal ids") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  h.sim.command("set ids=hex receipt_ids=dec receipts=on receipt_stat=DELIVRD");
  auto message = text_message("voucher");
  message.registered_delivery = smpp::registered::receipt;
  const auto i = h.submit(s, message);
  REQUIRE(eventually([&] { return h.inbound_count() == 1 && h.settled() == 1; }));
  const auto o = h.outcome(i);
  REQUIRE(o->kind == SubmitOutcome::Kind::sent);
  std::lock_guard lock(h.mutex);
  const auto* d = h.inbound[0].as<smpp::DeliverSm>();
  REQUIRE(d);
  CHECK(smpp::is_delivery_receipt(d->esm_class));
  const auto receipt = smpp::parse_delivery_receipt(*d);
  REQUIRE(receipt);
  CHECK(receipt->state == smpp::MessageState::delivered);
  CHECK(receipt->message_id != o->message_id);  // the raw forms differ
  CHECK(smpp::normalize_message_id(receipt->message_id, smpp::IdFormat::decimal) ==
        smpp::normalize_message_id(o->message_id, smpp::IdFormat::hex));
}

TEST_CASE("session: survives the SMSC dropping the connection") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  h.sim.command("drop");
  REQUIRE(eventually([&] { return s->state() != SessionState::bound; }, 5s));
  REQUIRE(h.bound(s));
  CHECK(s->stats().binds >= 2);
  const auto i = h.submit(s, text_message("after the drop"));
  REQUIRE(eventually([&] { return h.settled() == 1; }));
  CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
}

TEST_CASE("session: a silent peer is declared dead and the session reconnects") {
  SessionHarness h;
  auto settings = h.settings();
  settings.enquire_link_interval = 200ms;
  settings.response_timeout = 400ms;
  auto s = h.bound_session(settings);
  h.sim.command("set silent=on");
  REQUIRE(eventually([&] { return s->stats().peer_silent >= 1; }, 5s));
  h.sim.command("set silent=off");
  REQUIRE(eventually([&] { return s->stats().binds >= 2; }, 10s));
  REQUIRE(h.bound(s));
  CHECK(h.log_sink->contains("peer stopped answering"));
}

TEST_CASE("session: enquire_link keeps an idle bind alive, and the SMSC's are answered") {
  SessionHarness h;
  auto settings = h.settings();
  settings.enquire_link_interval = 150ms;
  auto s = h.bound_session(settings);
  // Idle: the gateway asks.
  REQUIRE(eventually([&] { return s->stats().enquire_links_sent >= 2; }, 5s));
  CHECK(s->state() == SessionState::bound);
  CHECK(s->stats().peer_silent == 0);
  // The SMSC asks: the gateway answers, and its own enquiries stop, since the
  // link is no longer idle.
  h.sim.command("set enquire_link_ms=50");
  const auto asked = h.sim.wait_for("enquire_link_resp", 5s);
  REQUIRE(asked);
  CHECK(field(*asked, "status") == "0");
  // The SMSC's next twelve enquiries, about 600 ms of its clock, all answered.
  // Idle, the gateway would ask four times in that span; not idle, it may
  // ask only where the SMSC left a gap of its idle interval (a stalled
  // simulator can), and once more for an enquiry already under way.
  std::vector<double> answered;
  for (int i = 0; i < 12; ++i) {
    const auto e = h.sim.wait_for("enquire_link_resp", 5s);
    REQUIRE(e);
    answered.push_back(field_number(*e, "t"));
  }
  int gaps = 0;
  for (std::size_t i = 1; i < answered.size(); ++i)
    gaps += answered[i] - answered[i - 1] >= 100 ? 1 : 0;
  int ours = 0;
  for (const auto& e : h.sim.history())
    if (e.name == "enquire_link" && field_number(e, "t") > answered.front() &&
        field_number(e, "t") <= answered.back())
      ++ours;
  CHECK_MESSAGE(ours <= 1 + gaps, "gaps of 100 ms or more: " << gaps);
  CHECK(s->state() == SessionState::bound);
}

TEST_CASE("session: never more submits outstanding than the window") {
  SessionHarness h;
  auto settings = h.settings();
  settings.window = 3;
  auto s = h.bound_session(settings);
  h.sim.command("set resp_delay_ms=100");
  for (int i = 0; i < 12; ++i) h.submit(s, text_message("window"));
  REQUIRE(eventually([&] { return h.settled() == 12; }));
  int peak = 0;
  for (const auto& e : h.sim.history())
    if (e.name == "submit") peak = std::max(peak, static_cast<int>(field_number(e, "outstanding")));
  CHECK(peak == 3);
  CHECK(s->stats().max_window_used == 3);
}

TEST_CASE("session: the send rate stays under the limit") {
  SessionHarness h;
  auto settings = h.settings();
  settings.rate = 20;
  settings.burst = 1;
  auto s = h.bound_session(settings);
  for (int i = 0; i < 21; ++i) h.submit(s, text_message("rate"));
  REQUIRE(eventually([&] { return h.settled() == 21; }, 15s));
  std::vector<double> times;
  for (const auto& e : h.sim.history())
    if (e.name == "submit") times.push_back(field_number(e, "t"));
  REQUIRE(times.size() == 21);
  // 20 intervals at 20 per second: at least a second (lower bound only: a slow
  // machine can only make it longer).
  CHECK(times.back() - times.front() >= 950);
}

TEST_CASE("session: ESME_RTHROTTLED and ESME_RMSGQFUL pause sending and lose nothing") {
  SessionHarness h;
  auto settings = h.settings();
  settings.throttle_pause = 100ms;
  settings.throttle_pause_max = 400ms;
  auto s = h.bound_session(settings);
  h.sim.command("set msgqful_next=2 throttle_rate=5");
  for (int i = 0; i < 15; ++i) h.submit(s, text_message("throttled"));
  REQUIRE(eventually([&] { return h.settled() == 15; }, 20s));
  for (std::size_t i = 0; i < 15; ++i) CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
  CHECK(s->stats().throttled >= 3);
  CHECK(h.log_sink->contains("smpp_throttled"));
}

TEST_CASE("session: a whole window refused at once is one pause, not one per refusal") {
  SessionHarness h;
  auto settings = h.settings();
  settings.window = 10;
  settings.throttle_pause = 200ms;
  settings.throttle_pause_max = 30s;
  auto s = h.bound_session(settings);
  h.sim.command("set msgqful_next=10");
  for (int i = 0; i < 10; ++i) h.submit(s, text_message("burst"));
  // Ten pauses doubling from 200 ms would wait the 30 s cap; one is 200 ms.
  REQUIRE(eventually([&] { return h.settled() == 10; }, 5s));
  for (std::size_t i = 0; i < 10; ++i) CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
  CHECK(s->stats().throttled == 10);
}

TEST_CASE("session: a refused submit fails with the SMSC's status") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  h.sim.command("set submit_status=11");  // ESME_RINVDSTADR
  const auto i = h.submit(s, text_message("nowhere"));
  REQUIRE(eventually([&] { return h.settled() == 1; }));
  const auto o = h.outcome(i);
  CHECK(o->kind == SubmitOutcome::Kind::failed);
  CHECK(o->command_status == smpp::status::invalid_dest_addr);
  CHECK_FALSE(o->in_doubt);
}

TEST_CASE("session: every message ends in exactly one final state") {
  SessionHarness h;
  auto settings = h.settings();
  settings.window = 5;
  settings.response_timeout = 500ms;
  auto s = h.bound_session(settings);
  // Some answers never come, then the connection drops mid-stream, then the
  // session is stopped with messages still queued.
  h.sim.command("set drop_resp_next=3 resp_delay_ms=20");
  for (int i = 0; i < 30; ++i) h.submit(s, text_message("final"));
  REQUIRE(eventually([&] { return h.settled() >= 10; }, 10s));
  h.sim.command("drop");
  for (int i = 0; i < 30; ++i) h.submit(s, text_message("final"));
  // Stopped once the drop is noticed: a new connection is under way.
  REQUIRE(eventually([&] { return s->stats().connects >= 2; }, 10s));
  REQUIRE(SessionHarness::stop(*s, 1s));
  REQUIRE(eventually([&] { return h.settled() == 60; }, 5s));
  std::size_t sent = 0, failed = 0, returned = 0, in_doubt = 0;
  for (int c : h.call_counts()) CHECK(c == 1);
  for (std::size_t i = 0; i < 60; ++i) {
    const auto o = h.outcome(i);
    switch (o->kind) {
      case SubmitOutcome::Kind::sent: ++sent; CHECK_FALSE(o->message_id.empty()); break;
      case SubmitOutcome::Kind::failed: ++failed; break;
      case SubmitOutcome::Kind::returned: ++returned; break;
    }
    if (o->in_doubt) ++in_doubt;
  }
  MESSAGE("sent=" << sent << " failed=" << failed << " returned=" << returned
                  << " in_doubt=" << in_doubt);
  CHECK(sent + failed + returned == 60);
  CHECK(failed >= 3);  // the three unanswered ones at least
  CHECK(in_doubt == failed);
  const auto st = s->stats();
  CHECK(st.sent == sent);
  CHECK(st.failed == failed);
  CHECK(st.returned == returned);
}

TEST_CASE("session: graceful stop drains the window and unbinds") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  h.sim.command("set resp_delay_ms=200");
  for (int i = 0; i < 3; ++i) h.submit(s, text_message("drain"));
  REQUIRE(h.sim.wait_for("submit", 5s));
  REQUIRE(SessionHarness::stop(*s, 5s));
  for (std::size_t i = 0; i < 3; ++i) CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
  CHECK(h.sim.wait_for("unbind", 5s));
  CHECK(s->state() == SessionState::closed);
  // After stop, new work is handed straight back.
  const auto i = h.submit(s, text_message("late"));
  REQUIRE(eventually([&] { return h.settled() == 4; }));
  CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::returned);
}

TEST_CASE("session: a refused bind is retried with back-off") {
  SessionHarness h;
  h.sim.command("set bind_reject_count=2 bind_status=13");
  auto s = h.session(h.settings());
  s->start();
  REQUIRE(h.bound(s, 10s));
  CHECK(s->stats().bind_failures == 2);
  CHECK(h.log_sink->contains("ESME_RBINDFAIL"));
}

TEST_CASE("session: a malformed PDU from the SMSC gets generic_nack and the bind lives on") {
  SessionHarness h;
  auto settings = h.settings();
  settings.max_pdu_length = 1024;
  auto s = h.bound_session(settings);
  // An unknown command_id, then a deliver_sm whose TLV runs past the end.
  h.sim.command("raw hex=00000010000000990000000000000042");
  const auto nack = h.sim.wait_for("generic_nack", 5s);
  REQUIRE(nack);
  CHECK(field(*nack, "status") == "3");
  h.sim.command(
      "raw hex=00000028000000050000000000000043000101313300000131000000000000000000000204000900");
  const auto nack2 = h.sim.wait_for("generic_nack", 5s);
  REQUIRE(nack2);
  CHECK(std::stoul(field(*nack2, "status")) == smpp::status::invalid_optional_stream);
  // A deliver_sm of 3,000 octets, over the 1,024 allowed: read past, refused.
  h.sim.command("raw hex=00000BB8000000050000000000000044" + std::string(2984 * 2, '3'));
  const auto nack3 = h.sim.wait_for("generic_nack", 5s);
  REQUIRE(nack3);
  CHECK(std::stoul(field(*nack3, "status")) == smpp::status::invalid_command_length);
  CHECK(field(*nack3, "seq") == "68");
  CHECK(s->state() == SessionState::bound);
  const auto i = h.submit(s, text_message("still here"));
  REQUIRE(eventually([&] { return h.settled() == 1; }));
  CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
  // The unknown command is refused, not counted as malformed.
  CHECK(s->stats().malformed == 2);
  CHECK(s->stats().refused == 1);
  CHECK(s->stats().connects == 1);
}

TEST_CASE("session: sequence numbers wrap from 0x7FFFFFFF to 1") {
  SessionHarness h;
  auto settings = h.settings();
  settings.first_sequence = 0x7FFFFFFE;  // the bind takes 0x7FFFFFFE
  auto s = h.bound_session(settings);
  for (int i = 0; i < 3; ++i) h.submit(s, text_message("wrap"));
  REQUIRE(eventually([&] { return h.settled() == 3; }));
  std::vector<std::string> seqs;
  for (const auto& e : h.sim.history())
    if (e.name == "submit") seqs.push_back(field(e, "seq"));
  CHECK(seqs == std::vector<std::string>{"2147483647", "1", "2"});
  for (std::size_t i = 0; i < 3; ++i) CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
}

TEST_CASE("session: a transmitter plus a receiver, by config") {
  SessionHarness h;
  smpp::Link link(h.io.get_executor(), h.settings(),
                  smpp::Link::Mode::transmitter_and_receiver, h.logger);
  std::atomic<int> inbound{0};
  link.on_inbound([&](const smpp::Pdu&, smpp::Responder r) {
    ++inbound;
    r.respond(0);
  });
  link.start();
  REQUIRE(eventually([&] { return link.bound(); }));
  // The simulator's events come through a pipe, maybe after link.bound().
  std::set<std::string> kinds;
  for (int i = 0; i < 2; ++i) {
    const auto bind = h.sim.wait_for("bind", 5s);
    REQUIRE(bind);
    kinds.insert(field(*bind, "kind"));
  }
  CHECK(kinds == std::set<std::string>{"receiver", "transmitter"});

  std::atomic<int> sent{0};
  link.submit(text_message("via tx"), [&](SubmitOutcome o) {
    if (o.kind == SubmitOutcome::Kind::sent) ++sent;
  });
  h.sim.command("mo src=8613800138000 dst=12580 text=JF");
  REQUIRE(eventually([&] { return sent == 1 && inbound == 1; }));
  REQUIRE(SessionHarness::stop(link));
}

TEST_CASE("session: a receiver bind refuses to send") {
  SessionHarness h;
  auto s = h.bound_session(h.settings(smpp::BindKind::receiver));
  const auto i = h.submit(s, text_message("no"));
  REQUIRE(eventually([&] { return h.settled() == 1; }));
  CHECK(h.outcome(i)->error == smpp::make_error_code(smpp::errc::not_bound_for_sending));
}

namespace {

// A self-signed certificate for "localhost", made with the openssl command.
struct TestCertificate {
  std::filesystem::path dir;
  std::filesystem::path cert;
  std::filesystem::path key;

  TestCertificate() {
    char tmpl[] = "/tmp/giftgate-tls-XXXXXX";
    dir = mkdtemp(tmpl);
    cert = dir / "cert.pem";
    key = dir / "key.pem";
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -keyout " +
        key.string() + " -out " + cert.string() + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed");
  }
  ~TestCertificate() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("session: TLS with certificate verification") {
  TestCertificate certificate;
  SimOptions options;
  options.tls = true;
  options.cert = certificate.cert.string();
  options.key = certificate.key.string();
  SessionHarness h(options);

  SUBCASE("a trusted certificate for the right name binds") {
    auto settings = h.settings();
    settings.tls.enabled = true;
    settings.tls.ca_file = certificate.cert.string();
    settings.tls.server_name = "localhost";
    auto s = h.session(settings);
    s->start();
    REQUIRE(h.bound(s));
    const auto i = h.submit(s, text_message("over TLS"));
    REQUIRE(eventually([&] { return h.settled() == 1; }));
    CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
  }
  SUBCASE("an untrusted certificate is refused") {
    auto settings = h.settings();
    settings.tls.enabled = true;  // verification on, system CAs only
    settings.tls.server_name = "localhost";
    auto s = h.session(settings);
    s->start();
    REQUIRE(eventually([&] { return h.log_sink->contains("TLS handshake failed"); }, 10s));
    CHECK(s->state() != SessionState::bound);
    CHECK(s->stats().binds == 0);
  }
  SUBCASE("a trusted certificate for another name is refused") {
    auto settings = h.settings();
    settings.tls.enabled = true;
    settings.tls.ca_file = certificate.cert.string();
    settings.tls.server_name = "smsc.example.net";
    auto s = h.session(settings);
    s->start();
    REQUIRE(eventually([&] { return h.log_sink->contains("TLS handshake failed"); }, 10s));
    CHECK(s->stats().binds == 0);
  }
}

namespace {

// The octets of a PDU as the simulator's raw command takes them.
std::string raw_hex(const smpp::Pdu& pdu) {
  std::vector<std::uint8_t> octets;
  REQUIRE_FALSE(smpp::encode(pdu, octets));
  return to_hex(octets);
}

smpp::Tlv vendor_tlv() { return smpp::Tlv::u16(0x1400, 7); }

}  // namespace

TEST_CASE("session: every request the SMSC may send ends in one outcome, each counted") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  std::uint32_t seq = 0x100;
  auto raw = [&](smpp::Body body) {
    h.sim.command("raw hex=" + raw_hex(smpp::Pdu{smpp::status::ok, ++seq, std::move(body)}));
    return seq;
  };
  auto event_for = [&](const std::string& name, std::uint32_t sequence) {
    return h.sim.wait_for(name, 5s, [sequence](const SimProcess::Event& e) {
      return e.fields.count("seq") && e.fields.at("seq") == std::to_string(sequence);
    });
  };

  SUBCASE("deliver_sm and data_sm reach the owner and are answered, each with its own response") {
    smpp::DeliverSm mo;
    mo.source = {1, 1, "8613800138000"};
    mo.dest = {0, 0, "12580"};
    mo.short_message = {'J', 'F'};
    mo.tlvs.add(vendor_tlv());
    const auto d = raw(mo);
    const auto resp = event_for("deliver_resp", d);
    REQUIRE(resp);
    CHECK(field(*resp, "status") == "0");
    smpp::DataSm data;
    data.source = {1, 1, "8613800138000"};
    data.dest = {0, 0, "12580"};
    data.tlvs.add(smpp::Tlv::octets(smpp::tag::message_payload, std::vector<std::uint8_t>{'C', 'X'}));
    const auto ds = raw(data);
    const auto data_resp = event_for("pdu", ds);
    REQUIRE(data_resp);
    CHECK(field(*data_resp, "command") == "data_sm_resp");
    CHECK(field(*data_resp, "status") == "0");
    CHECK(h.inbound_count() == 2);
    CHECK(s->stats().inbound == 2);
    CHECK(s->stats().tlvs_skipped == 1);
  }
  SUBCASE("enquire_link is answered, with a vendor TLV on it too") {
    smpp::EnquireLink el;
    el.tlvs.add(vendor_tlv());
    const auto e = raw(el);
    const auto resp = event_for("enquire_link_resp", e);
    REQUIRE(resp);
    CHECK(field(*resp, "status") == "0");
    CHECK(s->stats().enquire_links_answered == 1);
  }
  SUBCASE("alert_notification and outbind are noted, without a response") {
    smpp::AlertNotification alert;
    alert.source = {1, 1, "8613800138000"};
    alert.esme = {0, 0, "12580"};
    alert.tlvs.add(smpp::Tlv::u8(smpp::tag::ms_availability_status, 0));
    raw(alert);
    raw(smpp::Outbind{"smsc", "secret", {}});
    REQUIRE(eventually([&] { return s->stats().notifications == 2; }));
  }
  SUBCASE("bind and submit_sm from the SMSC are refused with their own responses") {
    for (const auto kind : {smpp::BindKind::transmitter, smpp::BindKind::receiver,
                            smpp::BindKind::transceiver}) {
      smpp::BindRequest bind;
      bind.kind = kind;
      bind.system_id = "smsc";
      const auto b = raw(bind);
      const auto resp = event_for("pdu", b);
      REQUIRE(resp);
      CHECK(field(*resp, "command") == std::string(smpp::to_string(smpp::bind_command(kind, true))));
      CHECK(std::stoul(field(*resp, "status")) == smpp::status::invalid_command_id);
    }
    const auto sub = raw(text_message("hello"));
    const auto resp = event_for("pdu", sub);
    REQUIRE(resp);
    CHECK(field(*resp, "command") == "submit_sm_resp");
    CHECK(std::stoul(field(*resp, "status")) == smpp::status::invalid_command_id);
    CHECK(s->stats().refused == 4);
  }
  SUBCASE("commands this ESME does not serve get generic_nack, and are not malformed") {
    // query_sm, replace_sm, cancel_sm, submit_multi, a vendor command.
    for (const char* id : {"00000003", "00000007", "00000008", "00000021", "00010200"}) {
      ++seq;
      h.sim.command(fmt::format("raw hex=00000010{}00000000{:08X}", id, seq));
      const auto nack = event_for("generic_nack", seq);
      REQUIRE_MESSAGE(nack, id);
      CHECK(std::stoul(field(*nack, "status")) == smpp::status::invalid_command_id);
    }
    CHECK(s->stats().refused == 5);
    CHECK(s->stats().malformed == 0);
  }
  SUBCASE("responses to nothing asked are counted, and change nothing") {
    raw(smpp::GenericNack{});
    raw(smpp::SubmitSmResp{"999", {}});
    raw(smpp::EnquireLinkResp{});
    REQUIRE(eventually([&] { return s->stats().unexpected_responses == 3; }));
    CHECK(s->state() == SessionState::bound);
  }
  SUBCASE("unbind is answered, and the session binds again") {
    const auto u = raw(smpp::Unbind{});
    REQUIRE(event_for("unbind_resp", u));
    REQUIRE(h.sim.wait_for("bind", 10s));
    CHECK(h.bound(s));
  }
  // Whatever came, the bind is still good for sending.
  REQUIRE(h.bound(s));
  const auto i = h.submit(s, text_message("still here"));
  REQUIRE(eventually([&] { return h.outcome(i).has_value(); }));
  CHECK(h.outcome(i)->kind == SubmitOutcome::Kind::sent);
}

TEST_CASE("session: a submit_sm_resp's optional parameters reach the submit's owner") {
  // The node simulator answers without TLVs; the octets are the SMSC's
  // answer to the submit made here, written after it with its sequence.
  SessionHarness h;
  h.sim.command("set drop_resp_next=1");
  auto s = h.bound_session(h.settings());
  const auto i = h.submit(s, text_message("with extras"));
  const auto submit = h.sim.wait_for("submit", 5s);
  REQUIRE(submit);
  smpp::SubmitSmResp resp{"4711", {}};
  resp.tlvs.add(smpp::Tlv::c_string(smpp::tag::additional_status_info_text, "fine"));
  resp.tlvs.add(smpp::Tlv::u8(smpp::tag::delivery_failure_reason, 0));
  resp.tlvs.add(vendor_tlv());
  h.sim.command("raw hex=" + raw_hex(smpp::Pdu{smpp::status::ok,
                                                static_cast<std::uint32_t>(std::stoul(field(*submit, "seq"))),
                                                resp}));
  REQUIRE(eventually([&] { return h.outcome(i).has_value(); }));
  const auto o = *h.outcome(i);
  CHECK(o.kind == SubmitOutcome::Kind::sent);
  CHECK(o.message_id == "4711");
  CHECK(o.tlvs.string(smpp::tag::additional_status_info_text) == "fine");
  CHECK(o.tlvs.size() == 3);
  CHECK(s->stats().malformed == 0);
  CHECK(s->stats().tlvs_skipped == 1);
}

TEST_CASE("session: a command_length that cannot be framed closes the bind, saying which it was") {
  SessionHarness h;
  auto s = h.bound_session(h.settings());
  SUBCASE("8, shorter than a header") {
    h.sim.command("raw hex=0000000800000015");
    REQUIRE(eventually([&] { return h.log_sink->contains("event=smpp_connection_closed"); }));
    CHECK(h.log_sink->contains("command_length=8"));
    CHECK(h.log_sink->contains("shorter than its 16-octet header"));
    CHECK_FALSE(h.log_sink->contains("above"));
  }
  SUBCASE("2 MiB, longer than anything read past") {
    h.sim.command("raw hex=0020000000000005");
    REQUIRE(eventually([&] { return h.log_sink->contains("event=smpp_connection_closed"); }));
    CHECK(h.log_sink->contains("command_length above the maximum"));
  }
  REQUIRE(h.sim.wait_for("bind", 10s));  // and it binds again
  CHECK(h.bound(s));
}
