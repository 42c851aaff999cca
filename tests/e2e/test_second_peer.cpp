// giftgated against a second SMSC: tests/peers/net-smpp-smsc.pl, on Perl's
// Net::SMPP, which writes PDUs the node simulator never does (data_sm in
// both directions, TLVs on its responses, many vendor TLVs on an MO, hex ids
// of digits only, a refusal of one part of a long message). What one peer
// lets through, the other catches.
#include "tests/e2e/gate.hpp"

using namespace giftgate;
using namespace giftgate::e2e;

namespace {

test::SimOptions net_smpp() {
  test::SimOptions o;
  o.peer = test::SimOptions::Peer::perl_net_smpp;
  return o;
}

const std::string zh = "8613800138000";
const std::string en = "8613900000001";

// The events of `name` whose field `key` is `value`.
std::vector<SimProcess::Event> events(Gate& g, const std::string& name, const std::string& key,
                                      const std::string& value) {
  std::vector<SimProcess::Event> out;
  for (const auto& e : g.sim.history())
    if (e.name == name && e.fields.count(key) && e.fields.at(key) == value) out.push_back(e);
  return out;
}

std::string giftctl(Gate& g, const std::vector<std::string>& args) {
  std::vector<std::string> all{"--config", g.config_path};
  all.insert(all.end(), args.begin(), args.end());
  test::DaemonProcess run(GIFTGATE_GIFTCTL, all, g.dir.file("giftctl.log"));
  REQUIRE(run.wait_exit(10s) == 0);
  return run.log();
}

}  // namespace

TEST_CASE("second peer: an MO and a receipt sent as data_sm are handled, answered data_sm_resp") {
  Gate g("", 2, net_smpp());
  g.sim.command("set receipts=on receipt_via=data_sm");
  g.start();
  g.sim.command("mo src=" + en + " dst=12580 via=data_sm text=JF");
  CHECK(contains(g.reply(en), "Your points: 6000."));
  // The MO was acknowledged with data_sm_resp 0, and so was the receipt.
  const auto mo_resp = g.sim.wait_for("data_sm_resp", 5s, [](const SimProcess::Event& e) {
    return e.fields.at("kind") == "mo";
  });
  REQUIRE(mo_resp);
  CHECK(mo_resp->fields.at("status") == "0");
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 1, 10s));
  const auto receipt_resp = g.sim.wait_for("data_sm_resp", 5s, [](const SimProcess::Event& e) {
    return e.fields.at("kind") == "receipt";
  });
  REQUIRE(receipt_resp);
  CHECK(receipt_resp->fields.at("status") == "0");
  CHECK(g.value("SELECT COUNT(*) FROM inbox WHERE body = 'JF'") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM receipts WHERE outcome = 'applied'") >= 1);
  CHECK(g.value("SELECT MAX(attempts) FROM outbox") == 1);  // never resent for want of it
}

TEST_CASE("second peer: TLVs on every response are read, recorded, and refuse nothing") {
  Gate g("", 2, net_smpp());
  g.enable_metrics();
  g.sim.command("set resp_tlvs=5 bind_resp_tlvs=20 receipts=on");
  g.start();
  REQUIRE(g.daemon->wait_log("sc_interface_version=0x34", 5s));
  CHECK(contains(g.ask(en, "HELP"), "12580 points for gifts"));  // one part
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 1, 10s));
  // Sent once: no submit taken for malformed and timed out in doubt.
  CHECK(events(g, "submit", "dst", en).size() == 1);
  CHECK(g.value("SELECT MAX(attempts) FROM outbox") == 1);
  CHECK_FALSE(contains(g.daemon->log(), "smpp_malformed_pdu"));
  // What the SMSC said is kept with the part, and shown to the desk.
  CHECK(g.value("SELECT COUNT(*) FROM outbox_parts WHERE detail LIKE '%ok from perl%'") == 1);
  CHECK(contains(giftctl(g, {"member", en}), "status_text 'ok from perl'"));
  // The vendor tags were skipped and counted: 20 - 1 on the bind, 2 on the
  // submit_sm_resp.
  CHECK(g.metric("giftgate_smpp_tlvs_skipped_total") == 19 + 2);
}

TEST_CASE("second peer: a refusal with its failure reason is in the message's history") {
  Gate g("outbox:\n  max_attempts: 1\n", 2, net_smpp());
  g.sim.command("set resp_tlvs=3 submit_status=0x45");
  g.start();
  g.mo(en, "JF");
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'failed'", 1, 10s));
  const std::string member = giftctl(g, {"member", en});
  CHECK(contains(member, "refused 0x00000045"));
  CHECK(contains(member, "delivery_failure_reason 2"));
  CHECK(contains(member, "network_error_code 03:000B"));
}

TEST_CASE("second peer: an MO with 40 vendor TLVs is handled like any other") {
  Gate g("", 2, net_smpp());
  g.start();
  g.sim.command("mo src=" + en + " dst=12580 tlvs=40 text=JF");
  CHECK(contains(g.reply(en), "Your points: 6000."));
  const auto resp = g.sim.wait_for("deliver_resp", 5s);
  REQUIRE(resp);
  CHECK(resp->fields.at("status") == "0");
  CHECK(g.sim.count("generic_nack") == 0);
}

TEST_CASE("second peer: a hex id of digits only is never applied to another member's message") {
  Gate g("", 2, net_smpp());
  g.start();
  // The first answer's id is 0x3E9, which is 1001; the second's 0x1001,
  // written "1001", which an automatic reading took for decimal 1001.
  g.sim.command("set ids=hex id_start=1001");
  CHECK(contains(g.ask(zh, "BZ"), "12580积分兑换"));
  g.sim.command("set id_start=4097");
  CHECK(contains(g.ask(en, "HELP"), "12580 points for gifts"));
  REQUIRE(events(g, "submit", "id", "1001").size() == 1);
  // The receipt for "1001" (4097), from the member it went to.
  g.sim.command("receipt id=1001 src=" + en + " dst=12580");
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 1, 10s));
  CHECK(g.value("SELECT state = 'delivered' FROM outbox WHERE msisdn = '" + en + "'") == 1);
  CHECK(g.value("SELECT state = 'submitted' FROM outbox WHERE msisdn = '" + zh + "'") == 1);
  // And the first one's own receipt, "3E9".
  g.sim.command("receipt id=3E9 src=" + zh + " dst=12580");
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 2, 10s));
}

TEST_CASE("second peer: hex ids in submit_sm_resp, decimal in the receipts") {
  Gate g("", 2, net_smpp());
  // 0x1000 = 4096 and on: hex of digits only; the receipts say 4096, 4097.
  g.sim.command("set ids=hex id_start=4096 receipt_ids=dec receipts=on");
  g.start();
  CHECK(contains(g.ask(en, "JF"), "Your points"));
  CHECK(contains(g.ask(en, "BZ"), "12580 points"));
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 2, 10s));
  CHECK(g.value("SELECT COUNT(*) FROM receipts WHERE outcome <> 'applied'") == 0);
}

TEST_CASE("second peer: a refused part is resent alone, with its reference and number") {
  Gate g("", 2, net_smpp());
  g.sim.command("set refuse_part=1 receipts=on");
  g.start();
  // The Chinese balance answer takes two parts.
  g.mo(zh, "JF");
  CHECK(contains(g.reply(zh, 15s), "您的积分：12000"));
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered' AND attempts = 2", 1,
                     15s));
  const auto submits = events(g, "submit", "dst", zh);
  std::vector<std::string> parts;
  std::set<std::string> refs;
  for (const auto& s : submits) {
    parts.push_back(s.fields.at("part") + "/" + s.fields.at("status"));
    refs.insert(s.fields.at("ref"));
  }
  // Part 1 refused (0x45 = 69) and sent again; part 2 sent once.
  CHECK(parts.size() == 3);
  CHECK(std::count(parts.begin(), parts.end(), "1/69") == 1);
  CHECK(std::count(parts.begin(), parts.end(), "1/0") == 1);
  CHECK(std::count(parts.begin(), parts.end(), "2/0") == 1);
  CHECK(refs.size() == 1);  // one reference: the handset joins them
  CHECK(g.sim.count("message") == 1);
}
