// The Service's calls for other channels (service_channels.cpp): a
// merchant's terminal, a redemption on the member's behalf, an SMS no MO
// asked for; and a merchant's verifications for settlement.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <fmt/format.h>

#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/config/config.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using VS = Verification::Status;
using RS = Redemption::Status;

namespace {

const std::string kZh = "8613800138000";  // 12000 points
const std::string kEn = "8613900000001";  // 3000 points
const std::string kStarPhone = "8613911111111";  // bj-1, Star KTV
const Actor kTill{"api", "till-1"};

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("c.db"));
  Config config = test::campaign_config();
  std::shared_ptr<const Templates> templates = test::shipped_templates();
  Service service{*db, config, templates};
  Time now = config.campaign.start + 24h;
  int sequence = 0;

  Fixture() {
    Importer importer(*db, config, {"import", "t"});
    REQUIRE(importer
                .members("msisdn,city,language,points\n13800138000,beijing,zh,12000\n"
                         "13900000001,beijing,en,3000\n13700000001,shanghai,zh,9000\n",
                         "m.csv")
                .status == ImportResult::Status::ok);
    REQUIRE(importer
                .merchants("id,name,city,kind,level,phones,offer_a,offer_c\n"
                           "bj-1,Star KTV,beijing,ktv,high,13911111111,5 hours,1 hour\n"
                           "bj-2,Sky Cinema,beijing,cinema,low,13911111112,8 tickets,\n"
                           "sh-1,Bund KTV,shanghai,ktv,high,13911111113,5 hours,1 hour\n",
                           "s.csv")
                .status == ImportResult::Status::ok);
    Vouchers v(*db, config.campaign);
    REQUIRE(v.set_stock("A", "beijing", 5, {"giftctl", "t"}));
    REQUIRE(v.set_stock("C", "beijing", 5, {"giftctl", "t"}));
  }

  // Sends an MO; the bodies queued in reply.
  std::vector<std::string> send(const std::string& from, const std::string& text) {
    const auto out =
        service.handle({fmt::format("mo-{}", ++sequence), from, text, "sms", now, {}, {}});
    INFO(out.error);
    REQUIRE(out.status == MoOutcome::Status::done);
    std::vector<std::string> bodies;
    for (auto id : out.replies) {
      auto q = db->prepare("SELECT body FROM outbox WHERE id = ?");
      q.bind(1, id);
      REQUIRE(q.step() == db::StepResult::row);
      bodies.push_back(q.column_text(0));
    }
    return bodies;
  }
  // The member redeems a tier by SMS (with the confirmation); the code.
  std::string redeem(const std::string& msisdn, const std::string& tier = "A") {
    send(msisdn, "DH " + tier);
    send(msisdn, "Y");
    return text("SELECT voucher_code FROM outbox WHERE voucher_code IS NOT NULL ORDER BY id DESC");
  }
  Verification at_terminal(const std::string& merchant, const std::string& code,
                           const std::string& terminal = "till-1") {
    return service.verify_at_terminal(merchant, terminal, code, {"api", terminal}, now);
  }
  std::int64_t count(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }
  std::string text(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_text(0) : std::string("(none)");
  }
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("service channels: a terminal verifies, and the owner's note is queued with it") {
  Fixture f;
  const std::string code = f.redeem(kZh);
  const auto before = f.count("SELECT MAX(id) FROM outbox");
  const auto v = f.at_terminal("bj-1", code);
  INFO(v.error);
  REQUIRE(v.status == VS::used);
  CHECK(v.code == code);
  CHECK(v.tier == "A");
  CHECK(v.face_value == 100);
  CHECK(v.member_msisdn == kZh);
  CHECK(v.merchant_id == "bj-1");
  CHECK_FALSE(v.counted);
  CHECK(f.text("SELECT used_by FROM vouchers WHERE code = '" + code + "'") == "bj-1");
  // The owner's note, as an SMS verification queues it, caused by no MO.
  const std::string note = fmt::format("FROM outbox WHERE id > {}", before);
  CHECK(f.count("SELECT COUNT(*) " + note) == 1);
  CHECK(f.text("SELECT message " + note) == "voucher_used_note");
  CHECK(f.text("SELECT msisdn " + note) == kZh);
  CHECK(f.count("SELECT inbox_id IS NULL AND route IS NULL " + note) == 1);
  CHECK(f.count("SELECT priority " + note) == kPriorityReply);
  const std::string body = f.text("SELECT body " + note);
  CHECK(contains(body, "您的100元礼券" + code + "已于"));
  CHECK(contains(body, "在Star KTV使用"));
  // The history names the terminal.
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'voucher_used' AND channel = 'api' AND "
                "actor = 'till-1' AND voucher_code = '" + code + "'") == 1);

  // Again: used already, when, and that counts as a failure.
  const auto again = f.at_terminal("bj-1", code);
  CHECK(again.status == VS::already_used);
  CHECK(again.used_at == iso_time(f.now));
  CHECK(again.counted);
  CHECK(f.count("SELECT COUNT(*) " + note) == 1);
}

TEST_CASE("service channels: the voucher is used only with its note, whatever fails") {
  Fixture f;
  const std::string code = f.redeem(kZh);
  int n = 0;
  for (; n < 100; ++n) {
    CAPTURE(n);
    f.db->fail_statement_after(n, SQLITE_IOERR);
    const auto v = f.at_terminal("bj-1", code);
    const bool failed = f.db->statement_failure_spent();
    f.db->fail_statement_after(-1, 0);
    if (!failed) {
      CHECK(v.status == VS::used);
      break;
    }
    CHECK(v.status == VS::failed);
    CHECK_FALSE(v.error.empty());
    CHECK(f.text("SELECT state FROM vouchers") == "issued");
    CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE message = 'voucher_used_note'") == 0);
  }
  CHECK(n > 5);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE message = 'voucher_used_note'") == 1);

  // In a caller's transaction that rolls back, neither stays.
  const std::string other = f.redeem(kZh);
  {
    db::Transaction outer(*f.db);
    REQUIRE(outer.begun());
    REQUIRE(f.at_terminal("bj-1", other).status == VS::used);
  }
  CHECK(f.text("SELECT state FROM vouchers WHERE code = '" + other + "'") == "issued");
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE message = 'voucher_used_note'") == 1);
}

TEST_CASE("service channels: a code of another city is refused as by SMS, and counted") {
  Fixture f;
  const std::string code = f.redeem(kZh);  // a Beijing voucher
  // By SMS the Shanghai merchant hears what an unknown code gets ...
  const auto sms = f.send("8613911111113", "HX " + code);
  REQUIRE(sms.size() == 1);
  CHECK(sms[0] == f.templates->render("verify_unknown", "zh", {{"code", code}}));
  // ... from the same verification the terminal gets (which the HTTP API
  // answers as it answers an unknown code).
  const auto v = f.at_terminal("sh-1", code, "till-sh");
  CHECK(v.status == VS::wrong_city);
  CHECK(v.counted);
  CHECK(f.text("SELECT state FROM vouchers WHERE code = '" + code + "'") == "issued");
  CHECK(f.count("SELECT COUNT(*) FROM verify_failures WHERE merchant_id = 'sh-1' AND msisdn = "
                "'api:till-sh' AND reason = 'wrong city'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM verify_failures WHERE merchant_id = 'sh-1' AND msisdn = "
                "'8613911111113' AND reason = 'wrong city'") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE message = 'voucher_used_note'") == 0);
}

TEST_CASE("service channels: SMS and terminal failures lock the merchant out together") {
  Fixture f;
  const std::string code = f.redeem(kZh);
  REQUIRE(f.config.campaign.guard_failures == 5);
  // Two wrong codes by SMS, three at the terminal: the fifth locks.
  for (int i = 0; i < 2; ++i) CHECK(contains(f.send(kStarPhone, "HX AB12").at(0), "券码格式不对"));
  CHECK(f.at_terminal("bj-1", "AB12").status == VS::bad_format);
  // Damm catches every single wrong digit: the last one changed is mistyped.
  CHECK(f.at_terminal("bj-1", code.substr(0, 9) + (code[9] == '0' ? "1" : "0")).status ==
        VS::bad_check_digit);
  const auto fifth = f.at_terminal("bj-1", "AB12");
  CHECK(fifth.status == VS::bad_format);
  CHECK(fifth.counted);
  CHECK_FALSE(fifth.locked_until.empty());
  CHECK(f.count("SELECT COUNT(*) FROM verify_failures WHERE merchant_id = 'bj-1' AND msisdn = "
                "'api:till-1'") == 3);
  CHECK(f.count("SELECT COUNT(*) FROM verify_failures WHERE merchant_id = 'bj-1' AND msisdn = "
                "'8613911111111'") == 2);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'merchant_locked' AND detail LIKE "
                "'%the last from api:till-1%'") == 1);
  // Locked: a good code at the terminal checks nothing, and the number waits too.
  const auto locked = f.at_terminal("bj-1", code);
  CHECK(locked.status == VS::locked_out);
  CHECK(locked.locked_until == fifth.locked_until);
  CHECK_FALSE(locked.counted);
  CHECK(contains(f.send(kStarPhone, "HX " + code).at(0), "核销失败次数过多"));
  CHECK(f.text("SELECT state FROM vouchers WHERE code = '" + code + "'") == "issued");
  // Another merchant is not held by it.
  CHECK(f.at_terminal("bj-2", code, "till-2").status == VS::used);
}

TEST_CASE("service channels: a disabled or unknown merchant's terminal checks nothing") {
  Fixture f;
  const std::string code = f.redeem(kZh);
  Vouchers v(*f.db, f.config.campaign);
  REQUIRE(v.set_merchant_disabled("bj-1", true, "contract ended", {"giftctl", "t"}) ==
          AdminResult::ok);
  const auto disabled = f.at_terminal("bj-1", code);
  CHECK(disabled.status == VS::merchant_disabled);
  CHECK_FALSE(disabled.counted);
  const auto unknown = f.at_terminal("nobody", code);
  CHECK(unknown.status == VS::not_a_merchant);
  CHECK_FALSE(unknown.counted);
  CHECK(f.count("SELECT COUNT(*) FROM verify_failures") == 0);
  CHECK(f.text("SELECT state FROM vouchers WHERE code = '" + code + "'") == "issued");
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE message = 'voucher_used_note'") == 0);
}

TEST_CASE("service channels: a redemption on the member's behalf is done once per request") {
  Fixture f;
  const Actor web{"api", "website"};
  const auto first = f.service.redeem_for(kEn, "C", "web:1:abc", web, f.now);
  INFO(first.error);
  REQUIRE(first.status == RS::issued);  // no confirmation step
  CHECK(first.balance == 2000);
  CHECK(f.count("SELECT COUNT(*) FROM offers") == 0);
  const auto second = f.service.redeem_for(kEn, "C", "web:1:abc", web, f.now + 1s);
  CHECK(second.status == RS::already_issued);
  CHECK(second.code == first.code);
  CHECK(second.balance == 2000);
  CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM ledger WHERE delta = -1000") == 1);
  CHECK(f.count("SELECT SUM(delta) FROM ledger WHERE member_id = 2") == 2000);
  // One voucher SMS, in the member's language, with the SMS path's values.
  CHECK(f.count("SELECT COUNT(*) FROM outbox") == 1);
  CHECK(f.text("SELECT message FROM outbox") == "voucher");
  CHECK(f.text("SELECT voucher_code FROM outbox") == first.code);
  CHECK(f.count("SELECT inbox_id IS NULL AND route IS NULL FROM outbox") == 1);
  const std::string body = f.text("SELECT body FROM outbox");
  CHECK(body == f.templates->render("voucher", "en",
                                    {{"code", first.code},
                                     {"tier", "C"},
                                     {"value", "20"},
                                     {"expires", f.service.local_time(first.expires_at)},
                                     {"balance", "2000"}}));
  CHECK(contains(body, first.code));
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'voucher_issued' AND channel = 'api' "
                "AND actor = 'website'") == 1);
  // Another request is another voucher.
  CHECK(f.service.redeem_for(kEn, "C", "web:1:abd", web, f.now).status == RS::issued);
  CHECK(f.count("SELECT COUNT(*) FROM outbox") == 2);
}

TEST_CASE("service channels: a refused redemption on the member's behalf queues nothing") {
  Fixture f;
  const Actor desk{"api", "desk"};
  int request = 0;
  auto redeem = [&](const std::string& msisdn, const std::string& tier, Time at) {
    return f.service.redeem_for(msisdn, tier, fmt::format("desk:{}", ++request), desk, at);
  };
  CHECK(redeem(kEn, "A", f.now).status == RS::insufficient_points);
  CHECK(redeem(kEn, "B", f.now).status == RS::out_of_stock);
  CHECK(redeem(kEn, "Z", f.now).status == RS::unknown_tier);
  CHECK(redeem("8613700000009", "C", f.now).status == RS::unknown_member);
  CHECK(redeem(kEn, "C", f.config.campaign.start - 1s).status == RS::not_started);
  CHECK(redeem(kEn, "C", f.config.campaign.end).status == RS::ended);
  CHECK(f.count("SELECT COUNT(*) FROM outbox") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 0);
  CHECK(f.count("SELECT SUM(delta) FROM ledger WHERE member_id = 2") == 3000);

  // A database failure anywhere keeps neither the voucher nor its SMS.
  int n = 0;
  for (; n < 100; ++n) {
    CAPTURE(n);
    f.db->fail_statement_after(n, SQLITE_IOERR);
    const auto r = f.service.redeem_for(kEn, "C", "desk:fail", desk, f.now);
    const bool failed = f.db->statement_failure_spent();
    f.db->fail_statement_after(-1, 0);
    if (!failed) {
      CHECK(r.status == RS::issued);
      break;
    }
    CHECK(r.status == RS::failed);
    CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 0);
    CHECK(f.count("SELECT COUNT(*) FROM outbox") == 0);
  }
  CHECK(n > 5);
  CHECK(f.count("SELECT COUNT(*) FROM outbox") == 1);
}

TEST_CASE("service channels: notify queues an SMS that no MO caused") {
  Fixture f;
  std::int64_t id = 0;
  REQUIRE(f.service.notify(kEn, 2, "en", "help", {}, f.now, &id).ok());
  CHECK(id > 0);
  const std::string row = fmt::format("FROM outbox WHERE id = {}", id);
  CHECK(f.count("SELECT COUNT(*) " + row) == 1);
  CHECK(f.count("SELECT inbox_id IS NULL AND route IS NULL " + row) == 1);
  CHECK(f.count("SELECT member_id " + row) == 2);
  CHECK(f.text("SELECT msisdn " + row) == kEn);
  CHECK(f.text("SELECT message " + row) == "help");
  CHECK(f.text("SELECT channel " + row) == "sms");
  CHECK(f.text("SELECT state " + row) == "queued");
  CHECK(f.count("SELECT priority " + row) == kPriorityReply);
  CHECK(f.text("SELECT body " + row) == f.templates->render("help", "en", {}));
  // To a number that is nobody's, too; and a second waits a second behind it.
  std::int64_t second = 0;
  REQUIRE(f.service.notify(kEn, std::nullopt, "zh", "help", {}, f.now, &second).ok());
  CHECK(second > id);
  CHECK(f.count(fmt::format("SELECT member_id IS NULL FROM outbox WHERE id = {}", second)) == 1);
  CHECK(f.count(fmt::format("SELECT priority FROM outbox WHERE id = {}", second)) ==
        kPriorityReply);
  CHECK(f.text(fmt::format("SELECT fair_at FROM outbox WHERE id = {}", second)) ==
        iso_time(f.now + 1s));
  // In the caller's transaction: its rollback takes it back.
  {
    db::Transaction outer(*f.db);
    REQUIRE(outer.begun());
    REQUIRE(f.service.notify(kZh, 1, "zh", "help", {}, f.now).ok());
  }
  CHECK(f.count("SELECT COUNT(*) FROM outbox") == 2);
}

TEST_CASE("service channels: a merchant's verifications of a day, by SMS and terminal") {
  Fixture f;
  const Time day = f.now;  // 2026-10-02T00:00:00Z
  const std::string by_sms = f.redeem(kZh);
  const std::string by_terminal = f.redeem(kZh, "C");
  const std::string elsewhere = f.redeem(kEn, "C");
  const std::string next_day = f.redeem(kZh, "C");
  f.now = day + 2h;
  REQUIRE(f.send(kStarPhone, "HX " + by_sms).size() == 2);
  f.now = day + 5h;
  REQUIRE(f.at_terminal("bj-1", by_terminal).status == VS::used);
  REQUIRE(f.at_terminal("bj-2", elsewhere, "till-2").status == VS::used);
  f.now = day + 24h;
  REQUIRE(f.at_terminal("bj-1", next_day).status == VS::used);

  Vouchers vouchers(*f.db, f.config.campaign);
  const auto listed = vouchers.verifications_of("bj-1", day, day + 24h);
  INFO(vouchers.last_error());
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].code == by_sms);
  CHECK((*listed)[0].tier == "A");
  CHECK((*listed)[0].face_value == 100);
  CHECK((*listed)[0].used_at == iso_time(day + 2h));
  CHECK((*listed)[0].member == "86138****8000");
  CHECK((*listed)[1].code == by_terminal);
  CHECK((*listed)[1].tier == "C");
  CHECK((*listed)[1].used_at == iso_time(day + 5h));
  const auto next = vouchers.verifications_of("bj-1", day + 24h, day + 48h);
  REQUIRE(next);
  REQUIRE(next->size() == 1);
  CHECK((*next)[0].code == next_day);
  const auto other = vouchers.verifications_of("bj-2", day, day + 24h);
  REQUIRE(other);
  REQUIRE(other->size() == 1);
  CHECK((*other)[0].member == "86139****0001");
  CHECK(vouchers.verifications_of("sh-1", day, day + 48h)->empty());
  // A reinstated voucher is nobody's verification any more.
  REQUIRE(vouchers.reinstate(by_sms, "wrong code typed", {"giftctl", "t"}) == AdminResult::ok);
  CHECK(vouchers.verifications_of("bj-1", day, day + 24h)->size() == 1);

  // A failure is a failure, not an empty day.
  f.db->fail_statement_after(0, SQLITE_IOERR);
  const auto failed = vouchers.verifications_of("bj-1", day, day + 24h);
  f.db->fail_statement_after(-1, 0);
  CHECK_FALSE(failed);
  CHECK_FALSE(vouchers.last_error().empty());
}
