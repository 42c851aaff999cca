#include <doctest/doctest.h>

#include <fmt/format.h>

#include "daemon/config/config.hpp"
#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/reports.hpp"
#include "daemon/campaign/service.hpp"
#include "protocol/split.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using MS = MoOutcome::Status;

namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("s.db"));
  Config config = test::campaign_config();
  std::shared_ptr<const Templates> templates = test::shipped_templates();
  Service service{*db, config, templates};
  Time now = config.campaign.start + 24h;
  int sequence = 0;

  Fixture() {
    Importer importer(*db, config, {"import", "t"});
    REQUIRE(importer
                .members("msisdn,city,language,points\n13800138000,beijing,zh,12000\n"
                         "13900000001,beijing,en,3000\n",
                         "m.csv")
                .status == ImportResult::Status::ok);
    REQUIRE(importer
                .merchants("id,name,city,kind,level,phones,offer_a,offer_c\n"
                           "bj-1,Star KTV,beijing,ktv,high,13911111111,5 hours,1 hour\n"
                           "bj-2,Sky Cinema,beijing,cinema,low,13911111112,8 tickets,\n",
                           "s.csv")
                .status == ImportResult::Status::ok);
    Vouchers v(*db, config.campaign);
    REQUIRE(v.set_stock("A", "beijing", 5, {"giftctl", "t"}));
  }

  // Sends an MO and returns the texts queued in reply, "msisdn: body".
  std::vector<std::string> send(const std::string& from, const std::string& text,
                                MS expect = MS::done) {
    Mo mo{fmt::format("mo-{}", ++sequence), from, text, "sms", now, {}, {}};
    const auto out = service.handle(mo);
    INFO(out.error);
    CHECK(out.status == expect);
    std::vector<std::string> bodies;
    for (auto id : out.replies) {
      auto q = db->prepare("SELECT msisdn, body FROM outbox WHERE id = ?");
      q.bind(1, id);
      REQUIRE(q.step() == giftgate::db::StepResult::row);
      bodies.push_back(q.column_text(0) + ": " + q.column_text(1));
    }
    return bodies;
  }
  std::string one(const std::string& from, const std::string& text) {
    const auto all = send(from, text);
    REQUIRE(all.size() == 1);
    return all[0];
  }
  // The Chinese member redeems tier A; the code.
  std::string redeem_a() {
    one("8613800138000", "DH A");
    one("8613800138000", "Y");
    auto q = db->prepare("SELECT voucher_code FROM outbox WHERE voucher_code IS NOT NULL");
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    return q.column_text(0);
  }
  std::int64_t count(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == giftgate::db::StepResult::row ? q.column_int(0) : -1;
  }
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("service: balance, redeem, confirm and my vouchers, in Chinese") {
  Fixture f;
  auto r = f.one("8613800138000", "积分");
  CHECK(contains(r, "您的积分：12000"));
  CHECK(contains(r, "A档100元券：5000积分"));
  r = f.one("8613800138000", "兑换A");
  CHECK(contains(r, "您将用5000积分兑换A档100元券"));
  CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 0);
  r = f.one("8613800138000", "是");
  CHECK(contains(r, "12580礼券：100元，券码"));
  CHECK(contains(r, "剩余积分7000"));
  auto q = f.db->prepare("SELECT voucher_code FROM outbox ORDER BY id DESC LIMIT 1");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  const std::string code = q.column_text(0);
  CHECK(code.size() == 10);
  CHECK(contains(r, code));
  // The history names the MO that did it: the confirmation, the third text.
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE voucher_code = '" + code +
                "' AND actor = 'mo 3' AND channel = 'sms'") == 1);
  r = f.one("8613800138000", "CX");
  CHECK(contains(r, "您有1张未使用礼券"));
  CHECK(contains(r, code));
  // Times are shown in the campaign's zone: issued 2026-10-02 00:00 Shanghai + 30 days.
  CHECK(contains(r, "至2026-11-01 00:00"));
}

TEST_CASE("service: an English member, refusals and help") {
  Fixture f;
  CHECK(contains(f.one("8613900000001", "bal"), "Your points: 3000."));
  CHECK(contains(f.one("8613900000001", "DH A"),
                 "Tier A costs 5000 points; you have 3000, not enough yet."));
  CHECK(contains(f.one("8613900000001", "DH Z"), "No such tier."));
  CHECK(contains(f.one("8613900000001", "DH B"), "tier B vouchers have run out"));
  CHECK(contains(f.one("8613900000001", "Y"), "Nothing is waiting for your confirmation"));
  CHECK(contains(f.one("8613900000001", "what?"), "12580 points for gifts: JF for your points"));
  CHECK(contains(f.one("8613900000001", "CX"), "You have no unused vouchers."));
  CHECK(contains(f.one("8613900000001", "TD"), "You will get no more tips"));
  CHECK(f.count("SELECT care_opt_out FROM members WHERE msisdn = '8613900000001'") == 1);
  CHECK(contains(f.one("8613900000001", "KT"), "Tips are on again"));
  CHECK(contains(f.one("8613700000000", "JF"), "不是音乐俱乐部会员"));
}

TEST_CASE("service: merchants in the member's city, of a kind") {
  Fixture f;
  auto r = f.one("8613900000001", "SH");
  CHECK(contains(r, "Merchants in Beijing:\nStar KTV (KTV) A: 5 hours; C: 1 hour\nSky Cinema"));
  // The city by its name in the member's language, from the messages file ...
  CHECK(contains(f.one("8613800138000", "SH"), "北京可用商户："));
  r = f.one("8613900000001", "SH 影院");
  CHECK_FALSE(contains(r, "Star KTV"));
  CHECK(contains(r, "Sky Cinema (cinema) A: 8 tickets"));
  // ... and their kind, in the member's language too.
  CHECK(contains(f.one("8613800138000", "SH 影院"), "Sky Cinema(影院)"));
}

TEST_CASE("service: a merchant verifies, the member gets a note, a second try is refused") {
  Fixture f;
  const std::string code = f.redeem_a();
  const auto replies = f.send("8613911111111", "HX " + code);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0] == "8613911111111: 核销成功：券" + code + "，A档100元，会员86138****8000。");
  CHECK(contains(replies[1], "8613800138000: 您的100元礼券" + code + "已于"));
  CHECK(contains(replies[1], "在Star KTV使用"));
  CHECK(contains(f.one("8613911111111", code), "已于2026-10-02 00:00使用过"));
  CHECK(contains(f.one("8613911111111", "HX AB12"), "券码格式不对"));
}

TEST_CASE("service: a disabled merchant is told so, and members are not sent there") {
  Fixture f;
  const std::string code = f.redeem_a();
  Vouchers v(*f.db, f.config.campaign);
  REQUIRE(v.set_merchant_disabled("bj-1", true, "contract ended", {"giftctl", "t"}) ==
          AdminResult::ok);
  CHECK(f.one("8613911111111", "HX " + code) ==
        "8613911111111: 本号码所属商户已暂停核销，券未使用。如有疑问请致电12580。");
  CHECK(f.one("8613911111111", code) ==
        "8613911111111: 本号码所属商户已暂停核销，券未使用。如有疑问请致电12580。");
  CHECK(f.count("SELECT COUNT(*) FROM vouchers WHERE state = 'used'") == 0);
  const auto sh = f.one("8613900000001", "SH");
  CHECK_FALSE(contains(sh, "Star KTV"));
  CHECK(contains(sh, "Sky Cinema"));
  // A number taken away is nobody's: HX is not a keyword there.
  REQUIRE(v.set_merchant_disabled("bj-1", false, "renewed", {"giftctl", "t"}) == AdminResult::ok);
  REQUIRE(v.add_merchant({"bj-3", "Moon KTV", "beijing", "ktv", "low",
                          {"8613911111119", "8613911111118"}, {}},
                         {"giftctl", "t"}));
  REQUIRE(v.remove_merchant_number("bj-3", "8613911111119", "lost", {"giftctl", "t"}) ==
          NumberRemoval::removed);
  CHECK(contains(f.one("8613911111119", "HX " + code), "12580积分兑换"));
  const auto verified = f.send("8613911111111", "HX " + code);
  REQUIRE(verified.size() == 2);  // and the member's note
  CHECK(contains(verified[0], "核销成功"));
}

TEST_CASE("service: the same MO delivered again changes nothing and queues nothing") {
  Fixture f;
  f.one("8613800138000", "DH A");
  const auto print = mo_fingerprint("8613800138000", "12580", "Y");
  Mo confirm{"k1", "8613800138000", "Y", "sms", f.now, print, "connection-1"};
  const auto first = f.service.handle(confirm);
  REQUIRE(first.status == MS::done);
  // Delivered again on the next connection (the answer was lost with the first).
  Mo redelivered{"k2", "8613800138000", "Y", "sms", f.now + 30s, print, "connection-2"};
  const auto again = f.service.handle(redelivered);
  CHECK(again.status == MS::duplicate);
  CHECK(again.replies.empty());
  CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 1);
  CHECK(f.count("SELECT SUM(delta) FROM ledger WHERE member_id = 1") == 7000);
  CHECK(f.count("SELECT COUNT(*) FROM outbox") == 2);
}

TEST_CASE("service: a database that stays busy commits nothing, so the MO is not acknowledged") {
  Fixture f;
  auto other = test::open_campaign_db(f.dir.file("s.db"));
  db::Transaction hold(*other);
  REQUIRE(hold.begun().ok());
  auto busy_db = test::open_campaign_db(f.dir.file("s.db"), 50ms);
  Service busy(*busy_db, f.config, f.templates);
  const auto out = busy.handle({"k", "8613800138000", "JF", "sms", f.now, {}, {}});
  CHECK(out.status == MS::failed);
  CHECK_FALSE(out.error.empty());
  CHECK(out.replies.empty());
}

TEST_CASE("service: what changes something is held to the redelivery rule") {
  Fixture f;
  const auto print = mo_fingerprint("8613800138000", "12580", "TD");
  // SHA-256 of number, destination and text, one per line, in lower-case hex:
  // the same value the inbox rows of earlier versions hold.
  CHECK(mo_fingerprint("8613800138000", "12580", "JF") ==
        "7abf63e80d9d64627082c662966f6ceede41a5efdc535cf8ee33c0e30122c866");
  CHECK(print != mo_fingerprint("8613800138001", "12580", "TD"));
  CHECK(print != mo_fingerprint("8613800138000", "12580", "KT"));
  auto send = [&](const char* key, std::chrono::seconds after, const char* epoch) {
    return f.service.handle({key, "8613800138000", "TD", "sms", f.now + after, print, epoch})
        .status;
  };
  CHECK(send("a", 0s, "e1") == MS::done);
  CHECK(send("b", 5s, "e1") == MS::done);         // the member asked twice
  CHECK(send("c", 10s, "e2") == MS::duplicate);   // after a reconnect: the SMSC again
  CHECK(send("c2", 12s, "e2") == MS::done);       // and then the member, on that connection
  CHECK(send("d", 200s, "e3") == MS::done);       // past the window: a new message
  CHECK(f.count("SELECT COUNT(*) FROM inbox") == 4);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'care_opt_out'") == 4);
}

TEST_CASE("service: a question asked again after a reconnect is answered again") {
  Fixture f;
  for (const char* text : {"JF", "CX", "SH", "BZ", "nonsense"}) {
    CAPTURE(text);
    const auto print = mo_fingerprint("8613800138000", "12580", text);
    const auto key = std::string("q-") + text;
    const auto first = f.service.handle({key + "1", "8613800138000", text, "sms", f.now, print, "e1"});
    const auto again =
        f.service.handle({key + "2", "8613800138000", text, "sms", f.now + 5s, print, "e2"});
    CHECK(first.status == MS::done);
    CHECK(again.status == MS::done);
    CHECK(again.replies.size() == 1);
  }
  // A merchant's verification changes something: held to the rule.
  const auto print = mo_fingerprint("8613911111111", "12580", "HX AB12345678");
  CHECK(f.service.handle({"v1", "8613911111111", "HX AB12345678", "sms", f.now, print, "e1"})
            .status == MS::done);
  CHECK(f.service.handle({"v2", "8613911111111", "HX AB12345678", "sms", f.now + 5s, print, "e2"})
            .status == MS::duplicate);
}

TEST_CASE("service: a second Y says nothing is waiting, and sends no voucher again") {
  Fixture f;
  CHECK(contains(f.one("8613800138000", "DH A"), "5000"));
  const auto voucher = f.one("8613800138000", "Y");
  CHECK(contains(voucher, "12580礼券"));
  CHECK(contains(f.one("8613800138000", "Y"), "没有待确认的兑换"));
  CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE voucher_code IS NOT NULL") == 1);
}

TEST_CASE("service: CX pages a long list of vouchers, and says so") {
  Fixture f;
  // 12 vouchers of tier C (1000 points each).
  Vouchers v(*f.db, f.config.campaign);
  REQUIRE(v.set_stock("C", "beijing", 20, {"giftctl", "t"}));
  for (int i = 0; i < 12; ++i)
    REQUIRE(v.redeem("8613800138000", "C", fmt::format("r{}", i), {"sms", "t"}, f.now).status ==
            Redemption::Status::issued);
  auto codes_in = [&](const std::string& text) {
    auto q = f.db->prepare("SELECT code FROM vouchers");
    int n = 0;
    while (q.step() == giftgate::db::StepResult::row) n += contains(text, q.column_text(0)) ? 1 : 0;
    return n;
  };
  const smpp::SplitOptions split;
  int seen = 0;
  std::string page = f.one("8613800138000", "CX");
  CHECK(contains(page, "您有12张未使用礼券"));
  CHECK(contains(page, "发CX 2看下一页"));
  const int first = codes_in(page);
  CHECK(first > 0);
  CHECK(first < 12);
  CHECK(smpp::count_parts(page.substr(page.find(": ") + 2), split) <= 3);
  seen += first;
  int pages = 1;
  for (int n = 2; n <= 12 && seen < 12; ++n, ++pages) {
    page = f.one("8613800138000", fmt::format("CX {}", n));
    CHECK(smpp::count_parts(page.substr(page.find(": ") + 2), split) <= 3);
    seen += codes_in(page);
  }
  CHECK(seen == 12);  // every code on exactly one page
  CHECK(contains(page, fmt::format("第{0}/{0}页，最后一页", pages)));
  // Glued, full-width and past the end: the last page again.
  CHECK(contains(f.one("8613800138000", "cx2"), fmt::format("第2/{}页", pages)));
  CHECK(contains(f.one("8613800138000", "ＣＸ　２"), fmt::format("第2/{}页", pages)));
  CHECK(contains(f.one("8613800138000", "CX 99"), "最后一页"));
  // Not a page: the help text.
  CHECK(contains(f.one("8613800138000", "CX abc"), "12580积分兑换"));
  // A list that fits says nothing of pages.
  CHECK_FALSE(contains(f.one("8613900000001", "CX"), "Page"));
}

TEST_CASE("service: a long list is cut to the SMS parts allowed") {
  Fixture f;
  std::string csv = "id,name,city,kind,level,phones,offer_a,offer_b,offer_c\n";
  for (int i = 0; i < 30; ++i)
    csv += fmt::format("m{0},Golden Melody KTV {0},beijing,ktv,middle,1391234{0:04},"
                       "4 hours free,2 hours free,1 hour in the afternoon\n", i);
  REQUIRE(Importer(*f.db, f.config, {"import", "t"}).merchants(csv, "many.csv").status ==
          ImportResult::Status::ok);
  const auto r = f.one("8613900000001", "SH KTV");
  CHECK(contains(r, "Star KTV"));
  CHECK(contains(r, "Golden Melody KTV 0"));
  CHECK_FALSE(contains(r, "Golden Melody KTV 29"));
  const smpp::SplitOptions split;
  CHECK(smpp::count_parts(r.substr(r.find(": ") + 2), split) == 3);
}

TEST_CASE("service: the messages sent are visible per member and by state") {
  Fixture f;
  f.one("8613800138000", "JF");
  f.one("8613800138000", "CX");
  std::string error;
  const auto mine_read = member_messages(*f.db, "8613800138000", &error);
  REQUIRE(mine_read);
  const auto& mine = *mine_read;
  REQUIRE(mine.rows.size() == 2);
  CHECK(mine.rows[0][1] == "balance");
  CHECK(mine.rows[0][2] == "queued");
  CHECK(mine.rows[1][1] == "no_vouchers");
  // Each answers its MO, listed among the texts received.
  const auto texts_read = member_texts(*f.db, "8613800138000", &error);
  REQUIRE(texts_read);
  const auto& texts = *texts_read;
  REQUIRE(texts.rows.size() == 2);
  CHECK(texts.rows[1][2] == "my_vouchers");
  CHECK(texts.rows[1][3] == "CX");
  CHECK(mine.rows[1][6] == texts.rows[1][4]);
  const auto by_state_read = message_report(*f.db, &error);
  REQUIRE(by_state_read);
  const auto& by_state = *by_state_read;
  REQUIRE(by_state.rows.size() == 2);
  CHECK(by_state.rows[0] == std::vector<std::string>{"balance", "1", "1", "0", "0", "0", "0", "0"});
}

TEST_CASE("service: past the minute's limit an MO is recorded, does nothing, and is told once") {
  Fixture f;
  const std::string zh = "8613800138000";
  for (int i = 0; i < 10; ++i) CHECK(contains(f.one(zh, "JF"), "您的积分：12000"));
  // The eleventh: recorded, acknowledged, one slow-down text.
  CHECK(f.one(zh, "JF") == zh + ": 您发送的短信过于频繁，请稍后再试。");
  // Then nothing at all, and what it asks is not done.
  CHECK(f.send(zh, "JF").empty());
  CHECK(f.send(zh, "DH A").empty());
  CHECK(f.count("SELECT COUNT(*) FROM offers") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM inbox WHERE msisdn = '8613800138000'") == 13);
  CHECK(f.count("SELECT COUNT(*) FROM inbox WHERE command = 'limited'") == 3);
  // Another member is not held back by it.
  CHECK(contains(f.one("8613900000001", "JF"), "Your points: 3000."));
  // A minute later the member is answered again.
  f.now += 61s;
  CHECK(contains(f.one(zh, "JF"), "您的积分：12000"));
}

TEST_CASE("service: past the day's limit the sender is told once that day") {
  Fixture f;
  f.config.limits.mo_per_day = 15;
  f.config.limits.replies_per_day = 0;
  const std::string en = "8613900000001";
  for (int i = 0; i < 15; ++i) {
    if (i % 5 == 0) f.now += 61s;  // never ten in a minute
    CHECK(contains(f.one(en, "JF"), "Your points"));
  }
  f.now += 61s;
  CHECK(contains(f.one(en, "JF"), "You are sending too many messages"));
  f.now += 61s;
  CHECK(f.send(en, "JF").empty());  // a new minute, the same day: still nothing
  f.now += 24h;
  CHECK(contains(f.one(en, "JF"), "Your points"));
}

TEST_CASE("service: replies count too: an MO that would go past them does nothing") {
  Fixture f;
  f.config.limits.replies_per_minute = 3;
  const std::string en = "8613900000001";
  for (int i = 0; i < 3; ++i) CHECK(contains(f.one(en, "JF"), "Your points"));
  CHECK(contains(f.one(en, "JF"), "You are sending too many messages"));
  CHECK(f.send(en, "JF").empty());
}

TEST_CASE("service: a number that is no one's gets the help text once a day, then nothing") {
  Fixture f;
  const std::string stranger = "8613700000009";
  CHECK(contains(f.one(stranger, "hello"), "12580积分兑换"));
  CHECK(f.send(stranger, "JF").empty());
  CHECK(f.send(stranger, "garbage").empty());
  CHECK(f.count("SELECT COUNT(*) FROM inbox WHERE msisdn = '8613700000009'") == 3);
  f.now += 24h + 1s;
  CHECK(f.send(stranger, "JF").size() == 1);
}

TEST_CASE("service: a merchant's number has its own, higher limits") {
  Fixture f;
  const std::string merchant = "8613911111111";
  // Twenty codes in a minute, past a member's ten: each one answered (the
  // guard locks it after five, and says so).
  for (int i = 0; i < 20; ++i) {
    const auto replies = f.send(merchant, "HX AB12");
    REQUIRE(replies.size() == 1);
    CHECK_FALSE(contains(replies[0], "过于频繁"));
  }
  f.config.limits.merchant_mo_per_minute = 20;
  CHECK(contains(f.one(merchant, "HX AB12"), "过于频繁"));
}

TEST_CASE("service: a flood's replies wait behind everyone else's, USSD screens go first") {
  Fixture f;
  // The limits off, to see the order alone.
  f.config.limits.mo_per_minute = f.config.limits.mo_per_day = 0;
  f.config.limits.replies_per_minute = f.config.limits.replies_per_day = 0;
  const std::string zh = "8613800138000", en = "8613900000001";
  for (int i = 0; i < 30; ++i) f.send(zh, "JF");
  f.now += 1s;  // while thirty wait for zh
  const auto other = f.send(en, "JF");
  REQUIRE(other.size() == 1);
  // A USSD screen queued last of all.
  REQUIRE(f.db->exec("INSERT INTO outbox(msisdn, message, language, body, next_attempt_at, "
                     "created_at, channel, ussd_op, ussd_session, expires_at, priority, fair_at) "
                     "VALUES ('8613900000002', 'ussd_main', 'zh', 'x', '2000-01-01T00:00:00Z', "
                     "'2000-01-01T00:00:00Z', 'ussd', 2, '1,0,0', '2999-01-01T00:00:00Z', 0, "
                     "'2999-01-01T00:00:00Z')")
            .ok());
  Outbox outbox(*f.db, {});
  const auto due = outbox.take_due(f.now, 4);
  REQUIRE(due.size() == 4);
  CHECK(due[0].msisdn == "8613900000002");  // the screen
  CHECK(due[1].msisdn == zh);               // the flood's first reply, then the other member's
  CHECK(due[2].msisdn == zh);
  CHECK(due[3].msisdn == en);
  // The rest of the flood comes after.
  const auto rest = outbox.take_due(f.now, 100);
  CHECK(rest.size() == 28);
}

TEST_CASE("service: every message an MO causes carries its route, none without one") {
  Fixture f;
  Mo mo{"mo-routed", "8613800138000", "DH A", "sms", f.now, {}, {}, "smsc-a"};
  auto out = f.service.handle(mo);
  REQUIRE(out.status == MS::done);
  mo = {"mo-routed-2", "8613800138000", "Y", "sms", f.now, {}, {}, "smsc-a"};
  out = f.service.handle(mo);
  REQUIRE(out.status == MS::done);
  // The confirmation: the voucher SMS and its reply.
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE voucher_code IS NOT NULL") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE route = 'smsc-a'") ==
        f.count("SELECT COUNT(*) FROM outbox"));
  f.send("8613900000001", "JF");  // no route
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE route IS NULL") == 1);
}

TEST_CASE("service: a USSD step's screen and the SMS it promises carry the step's route") {
  Fixture f;
  std::string error;
  auto menus = UssdMenus::load(std::string(GIFTGATE_SOURCE_DIR) + "/templates/menus.yaml",
                               ussd_limits(f.config.ussd), &error);
  INFO(error);
  REQUIRE(menus);
  f.service.set_menus(menus);
  UssdMo step;
  step.key = "u1";
  step.msisdn = "8613800138000";
  step.text = "*12580*2*1#";  // the shortcut to confirming tier A
  step.now = f.now;
  step.session_key = "s1";
  step.route = "smsc-b#2";
  auto out = f.service.handle_ussd(step);
  REQUIRE(out.status == UssdOutcome::Status::done);
  CHECK(out.screen == "confirm");
  step.key = "u2";
  step.text = "1";
  step.step = UssdMo::Step::answer;
  out = f.service.handle_ussd(step);
  REQUIRE(out.status == UssdOutcome::Status::done);
  CHECK(out.messages == std::vector<std::string>{"voucher"});
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE channel = 'ussd' AND route = 'smsc-b#2'") == 2);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND route = 'smsc-b#2' AND "
                "voucher_code IS NOT NULL") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE route IS NULL OR route <> 'smsc-b#2'") == 0);
}
