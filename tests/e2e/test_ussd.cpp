// USSD end to end: the simulator plays the USSD centre (dial, press,
// hangup), giftgated walks the menus of templates/menus.yaml.
#include "tests/e2e/gate.hpp"

using namespace giftgate;
using namespace giftgate::e2e;

namespace {

const std::string kZh = "8613800138000";  // 12000 points, zh, beijing
const std::string kEn = "8613900000001";  // 6000 points, en, beijing

std::string text_of(const SimProcess::Event& e) { return e.fields.at("text"); }
bool ends(const SimProcess::Event& e) { return e.fields.at("ends") == "1"; }

}  // namespace

TEST_CASE("ussd: every menu path, in Chinese") {
  Gate g;
  g.start();
  // 1: balance, a last screen with the end operation.
  g.dial(kZh, "*12580#");
  auto s = g.screen(kZh);
  CHECK(contains(text_of(s), "2 兑换礼券"));
  CHECK(s.fields.at("ussd_op") == "2");  // USSR request: the session goes on
  CHECK_FALSE(ends(s));
  g.press(kZh, "1");
  s = g.screen(kZh);
  CHECK(contains(text_of(s), "您的积分：12000"));
  CHECK(contains(text_of(s), "A档100元:5000分"));
  CHECK(s.fields.at("ussd_op") == "17");  // PSSR response: the session ends
  CHECK(ends(s));
  // Something the menu does not have: the menu again, with a short error.
  g.dial(kZh, "*12580#");
  g.screen(kZh);
  g.press(kZh, "７");  // full-width, as typed on some phones
  s = g.screen(kZh);
  CHECK(contains(text_of(s), "输入有误"));
  CHECK(contains(text_of(s), "1 查积分"));
  CHECK_FALSE(ends(s));
  // 2: redeem, back, redeem again, cancel.
  g.press(kZh, "2");
  CHECK(contains(text_of(g.screen(kZh)), "1 A档100元 5000分"));
  g.press(kZh, "0");
  CHECK(contains(text_of(g.screen(kZh)), "5 帮助"));
  g.press(kZh, "2");
  g.screen(kZh);
  g.press(kZh, "1");
  CHECK(contains(text_of(g.screen(kZh)), "用5000积分兑换A档100元券？现有12000分"));
  g.press(kZh, "2");
  s = g.screen(kZh);
  CHECK(contains(text_of(s), "已取消"));
  CHECK(ends(s));
  CHECK(g.value("SELECT COUNT(*) FROM vouchers") == 0);
  // 2, 1, 1: redeemed; the code goes by SMS, with a receipt like any voucher.
  g.sim.command("set receipts=on");
  g.dial(kZh, "*12580#");
  g.screen(kZh);
  g.press(kZh, "2");
  g.screen(kZh);
  g.press(kZh, "1");
  g.screen(kZh);
  g.press(kZh, "1");
  s = g.screen(kZh);
  CHECK(contains(text_of(s), "兑换成功"));
  CHECK(contains(text_of(s), "剩余7000分"));
  CHECK(ends(s));
  const std::string voucher = g.reply(kZh);
  const std::string code = code_in(voucher);
  CHECK_MESSAGE(code.size() == 10, voucher);
  CHECK(g.value("SELECT COUNT(*) FROM vouchers WHERE channel = 'ussd'") == 1);
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE voucher_code IS NOT NULL AND state = "
                     "'delivered'", 1, 10s));
  // 3: my vouchers, the codes by SMS since the screen vanishes.
  g.dial(kZh, "*12580#");
  g.screen(kZh);
  g.press(kZh, "3");
  s = g.screen(kZh);
  CHECK(contains(text_of(s), "您有1张未使用礼券"));
  CHECK(ends(s));
  CHECK(contains(g.reply(kZh), code));
  // 4: merchants in the member's city; 5: help.
  g.dial(kZh, "*12580#");
  g.screen(kZh);
  g.press(kZh, "4");
  s = g.screen(kZh);
  CHECK(contains(text_of(s), "Star KTV(KTV)"));
  CHECK(contains(text_of(s), "Sky Cinema(影院)"));
  CHECK(ends(s));
  g.dial(kZh, "*12580#");
  g.screen(kZh);
  g.press(kZh, "5");
  CHECK(contains(text_of(g.screen(kZh)), "积分兑KTV"));
  // Every screen went out as a USSD answer, accepted by the centre.
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE channel = 'ussd' AND state <> "
                     "'delivered'", 0, 10s));
  // Sessions: all ended, none left open.
  CHECK(g.value("SELECT COUNT(*) FROM ussd_sessions WHERE ended_at IS NULL") == 0);
  CHECK_FALSE(contains(g.daemon->log(), code));
}

TEST_CASE("ussd: a shortcut that names the confirm choice still shows the confirm screen") {
  Gate g;
  g.start();
  // *12580*2*2*1#: redeem, tier B, yes. The yes is not taken from the dial
  // string (a link or a scam text could carry it): the member sees what it
  // costs and answers on the screen.
  g.dial(kEn, "*12580*2*2*1#");
  auto s = g.screen(kEn);
  CHECK(contains(text_of(s), "Redeem 2500 points for a 50 yuan voucher (tier B)? You have 6000."));
  CHECK_FALSE(ends(s));
  CHECK(g.value("SELECT COUNT(*) FROM vouchers") == 0);
  CHECK(g.value("SELECT COUNT(*) FROM ledger WHERE delta < 0") == 0);
  g.press(kEn, "1");
  s = g.screen(kEn);
  CHECK(contains(text_of(s), "Done! Your 50 yuan voucher code is on its way by SMS."));
  CHECK(g.value("SELECT COUNT(*) FROM vouchers") == 1);
}

TEST_CASE("ussd: in English, with a shortcut that jumps into the menu") {
  Gate g;
  g.start();
  g.dial(kEn, "*12580*2*2#");  // redeem, tier B
  auto s = g.screen(kEn);
  CHECK(contains(text_of(s), "Redeem 2500 points for a 50 yuan voucher (tier B)? You have 6000."));
  g.press(kEn, "1");
  s = g.screen(kEn);
  CHECK(contains(text_of(s), "Done! Your 50 yuan voucher code is on its way by SMS."));
  CHECK(contains(g.reply(kEn), "12580 gift voucher worth 50 yuan"));
  g.dial(kEn, "*12580*1#");
  CHECK(contains(text_of(g.screen(kEn)), "Your points: 3500"));
  g.dial(kEn, "*12580*3#");
  CHECK(contains(text_of(g.screen(kEn)), "You have 1 unused vouchers"));
  CHECK(contains(g.reply(kEn), "You have 1 unused vouchers"));
  g.dial(kEn, "*12580*5#");
  CHECK(contains(text_of(g.screen(kEn)), "Trade points for KTV"));
  // The redeem path step by step: the tiers, back, a tier, then no.
  g.dial(kEn, "*12580*2#");
  CHECK(contains(text_of(g.screen(kEn)), "Choose a voucher:\n1 A: 100 yuan, 5000 pts"));
  g.press(kEn, "0");
  CHECK(contains(text_of(g.screen(kEn)), "1 My points"));
  g.press(kEn, "2");
  g.screen(kEn);
  g.press(kEn, "3");
  CHECK(contains(text_of(g.screen(kEn)), "for a 20 yuan voucher (tier C)? You have 3500."));
  g.press(kEn, "5");  // not yes or no: asked again
  CHECK(contains(text_of(g.screen(kEn)), "Not a choice.\nRedeem 1000 points"));
  g.press(kEn, "2");
  auto no = g.screen(kEn);
  CHECK(contains(text_of(no), "Cancelled; no points were taken."));
  CHECK(ends(no));
  // Garbage of every kind is a choice the menu does not have, never a crash.
  g.dial(kEn, "*12580#");
  g.screen(kEn);
  const std::vector<std::string> junk_inputs = {"'; DROP TABLE members; --", "😀😀",
                                               std::string(182, '9'), std::string("\x01\x02", 2),
                                               ""};
  for (const auto& junk : junk_inputs) {
    g.press(kEn, junk);
    const auto again = g.screen(kEn);
    CHECK(contains(text_of(again), "Not a choice."));
    CHECK_FALSE(ends(again));
  }
  g.dial(kEn, "*12580*9#");  // no such choice
  CHECK(contains(text_of(g.screen(kEn)), "Not a choice.\n12580 points for gifts"));
  g.press(kEn, "4");
  CHECK(contains(text_of(g.screen(kEn)), "Where to use them in Beijing:\nStar KTV (KTV)"));
  // Not a member: told so, the session ends.
  g.dial("8613600000000", "*12580#");
  s = g.screen("8613600000000");
  CHECK(contains(text_of(s), "不是音乐俱乐部会员"));
  CHECK(ends(s));
}

TEST_CASE("ussd: a session that times out mid-redeem redeems nothing") {
  Gate g("", 2);
  std::string text = read_file(g.config_path);
  text.replace(text.find("ussd:\n"), 6, "ussd:\n  session_timeout_seconds: 5\n");
  std::ofstream(g.config_path, std::ios::trunc) << text;
  g.start();
  g.dial(kZh, "*12580*2*1#");
  CHECK(contains(text_of(g.screen(kZh)), "用5000积分兑换A档"));
  std::this_thread::sleep_for(6s);  // past the session's time, confirm not yet sent
  g.press(kZh, "1");
  const auto s = g.screen(kZh);
  CHECK(contains(text_of(s), "会话已超时"));
  CHECK(ends(s));
  CHECK(g.value("SELECT COUNT(*) FROM vouchers") == 0);
  CHECK(g.value("SELECT COUNT(*) FROM ledger WHERE delta < 0") == 0);
  CHECK(g.value("SELECT COUNT(*) FROM ussd_sessions WHERE end_reason = 'timeout'") == 1);
}

TEST_CASE("ussd: a confirm delivered twice, and a second confirm, redeem once") {
  Gate g;
  g.start();
  g.dial(kZh, "*12580*2*1#");
  const auto confirm = g.screen(kZh);
  const std::string session = confirm.fields.at("session");
  const int seq = std::stoi(confirm.fields.at("ussd_seq")) + 1;
  g.press(kZh, "1");
  CHECK(contains(text_of(g.screen(kZh)), "兑换成功"));
  // The centre delivers the same confirm again (our answer was lost) ...
  const std::string again = fmt::format("ussd src={} dst=*12580%23 text=1 op=18 session={} "
                                        "ussd_seq={}", kZh, session, seq);
  g.sim.command(again);
  REQUIRE(g.daemon->wait_log("event=mo_duplicate", 5s));
  // ... and the member presses 1 once more in the ended session.
  g.sim.command(fmt::format("ussd src={} dst=*12580%23 text=1 op=18 session={} ussd_seq={}", kZh,
                            session, seq + 2));
  CHECK(contains(text_of(g.screen(kZh)), "会话已超时"));
  CHECK(g.value("SELECT COUNT(*) FROM vouchers") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM ledger WHERE delta < 0") == 1);
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE message = 'voucher'", 1, 5s));
}

TEST_CASE("ussd: a long merchant list pages with more, and a hangup leaves nothing half-done") {
  Gate g;
  {
    std::string error;
    auto config = find_config(g.config_path, &error);
    REQUIRE(config);
    auto db = test::open_campaign_db(g.db_path);
    std::string csv = "id,name,city,kind,level,phones\n";
    for (int i = 0; i < 14; ++i)
      csv += fmt::format("bj-k{0},Golden Melody KTV Branch {0},beijing,ktv,middle,1391234{0:04}\n", i);
    REQUIRE(Importer(*db, *config, {"import", "e2e"}).merchants(csv, "many.csv").status ==
            ImportResult::Status::ok);
  }
  g.start();
  g.dial(kEn, "*12580*4#");
  std::set<std::string> seen;
  int pages = 0;
  for (bool last = false; !last && pages < 20; ++pages) {
    const auto s = g.screen(kEn);
    const std::string t = text_of(s);
    last = ends(s);
    CHECK(contains(t, "9 More") == !last);
    for (int i = 0; i < 14; ++i)
      if (contains(t, fmt::format("Branch {} (KTV)", i))) seen.insert(std::to_string(i));
    if (!last) g.press(kEn, "9");
  }
  CHECK(pages >= 3);
  CHECK(seen.size() == 14);
  // Hung up at the confirm screen: the session ends, nothing redeemed.
  g.dial(kEn, "*12580*2*1#");
  CHECK(contains(text_of(g.screen(kEn)), "Redeem 5000 points"));
  g.sim.command("hangup src=" + kEn);
  CHECK(g.wait_value("SELECT COUNT(*) FROM ussd_sessions WHERE end_reason = 'abort'", 1, 5s));
  CHECK(g.value("SELECT COUNT(*) FROM vouchers") == 0);
  CHECK(g.value("SELECT COUNT(*) FROM ussd_sessions WHERE ended_at IS NULL") == 0);
}

TEST_CASE("ussd: a centre with other operations, and one that sends no session info") {
  Gate g;
  std::string text = read_file(g.config_path);
  text.replace(text.find("ussd:\n"), 6,
               "ussd:\n  operations:\n    begin: pssd_indication\n    continue: ussn_confirm\n"
               "    end: pssd_response\n");
  std::ofstream(g.config_path, std::ios::trunc) << text;
  g.sim.command("set ussd_begin_op=0 ussd_continue_op=19 ussd_end_op=16");
  g.start();
  g.dial(kZh, "*12580#");
  auto s = g.screen(kZh);
  CHECK(s.fields.at("ussd_op") == "2");
  g.press(kZh, "1");
  s = g.screen(kZh);
  CHECK(s.fields.at("ussd_op") == "16");
  CHECK(ends(s));
  CHECK(contains(text_of(s), "您的积分：12000"));
  // An operation this centre does not use: acknowledged, logged, no screen.
  g.sim.command("ussd src=" + kZh + " dst=*12580%23 text=1 op=18 session=9");
  REQUIRE(g.daemon->wait_log("event=ussd_ignored", 5s));
  // No its_session_info, only user_message_reference: echoed in the answer.
  g.sim.command("ussd src=" + kEn + " dst=*12580%23 text=*12580*1%23 op=0 umr=77");
  s = g.screen(kEn);
  CHECK(contains(text_of(s), "Your points: 6000"));
  CHECK(s.fields.at("umr") == "77");
  CHECK_FALSE(s.fields.count("session"));
}
