#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "daemon/storage/schema.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using giftgate::test::TempDir;
using RS = Redemption::Status;
using VS = Verification::Status;

namespace {

const Actor kSms{"sms", "mo-1"};
const Actor kOperator{"giftctl", "li.na"};

// 2026-12-01T00:00:00Z .. 2027-01-01T00:00:00Z
const Time kStart = std::chrono::sys_days{std::chrono::year{2026} / 12 / 1};
const Time kEnd = std::chrono::sys_days{std::chrono::year{2027} / 1 / 1};

Campaign campaign() {
  Campaign c;
  c.tiers = {{"A", 100, 1000}, {"B", 50, 500}, {"C", 20, 200}};
  c.start = kStart;
  c.end = kEnd;
  c.voucher_days = 30;
  return c;
}

using giftgate::test::open_campaign_db;

struct Fixture {
  TempDir dir;
  std::unique_ptr<db::Database> db = open_campaign_db(dir.file("campaign.db"));
  Vouchers vouchers{*db, campaign()};
  Ledger ledger{*db};
  const Time during = kStart + std::chrono::days(3);

  std::int64_t member(const std::string& msisdn, std::int64_t points,
                      const std::string& city = "beijing") {
    std::int64_t id = 0;
    REQUIRE(ledger.add_member({0, msisdn, city, "zh", false}, points, {"import", "t"}, {}, &id) ==
            Ledger::Result::ok);
    return id;
  }
  std::int64_t value(const char* sql) {
    auto q = db->prepare(sql);
    return q.step() == giftgate::db::StepResult::row ? q.column_int(0) : -1;
  }
  void merchant(const std::string& id, const std::string& city, const std::string& phone) {
    REQUIRE(vouchers.add_merchant({id, "KTV " + id, city, "ktv", "high", {phone}, {{"A", "3 hours"}}}, kOperator));
  }
};

}  // namespace

TEST_CASE("vouchers: redeeming deducts the price and issues a code, together") {
  Fixture f;
  const auto id = f.member("8613800138000", 1200);
  REQUIRE(f.vouchers.set_stock("A", "beijing", 5, kOperator));
  const auto r = f.vouchers.redeem("8613800138000", "a", "mo-1", kSms, f.during);
  REQUIRE(r.status == RS::issued);
  CHECK(check_voucher_code(r.code) == CodeCheck::ok);
  CHECK(r.tier == "A");
  CHECK(r.face_value == 100);
  CHECK(r.balance == 200);
  CHECK(f.ledger.balance(id) == 200);
  CHECK(r.expires_at == "2027-01-03T00:00:00Z");
  CHECK(f.vouchers.stock("A", "beijing") == 4);
}

TEST_CASE("vouchers: the same request redeemed twice issues one voucher") {
  Fixture f;
  const auto id = f.member("8613800138000", 1200);
  REQUIRE(f.vouchers.set_stock("C", "beijing", 5, kOperator));
  const auto first = f.vouchers.redeem("8613800138000", "C", "mo-7", kSms, f.during);
  const auto again = f.vouchers.redeem("8613800138000", "C", "mo-7", kSms, f.during);
  REQUIRE(first.status == RS::issued);
  CHECK(again.status == RS::already_issued);
  CHECK(again.code == first.code);
  CHECK(f.ledger.balance(id) == 1000);
  CHECK(f.vouchers.stock("C", "beijing") == 4);
}

TEST_CASE("vouchers: a balance of exactly the price is enough, one point less is not") {
  Fixture f;
  f.member("8613800138000", 500);
  f.member("8613800138001", 499);
  REQUIRE(f.vouchers.set_stock("B", "beijing", 5, kOperator));
  CHECK(f.vouchers.redeem("8613800138000", "B", "r1", kSms, f.during).status == RS::issued);
  const auto poor = f.vouchers.redeem("8613800138001", "B", "r2", kSms, f.during);
  CHECK(poor.status == RS::insufficient_points);
  CHECK(poor.balance == 499);
  CHECK(f.vouchers.stock("B", "beijing") == 4);
}

TEST_CASE("vouchers: the campaign window, exactly at its edges") {
  Fixture f;
  f.member("8613800138000", 5000);
  REQUIRE(f.vouchers.set_stock("C", "beijing", 5, kOperator));
  CHECK(f.vouchers.redeem("8613800138000", "C", "r1", kSms, kStart - 1s).status ==
        RS::not_started);
  CHECK(f.vouchers.redeem("8613800138000", "C", "r2", kSms, kStart).status == RS::issued);
  CHECK(f.vouchers.redeem("8613800138000", "C", "r3", kSms, kEnd - 1s).status == RS::issued);
  CHECK(f.vouchers.redeem("8613800138000", "C", "r4", kSms, kEnd).status == RS::ended);
}

TEST_CASE("vouchers: stock is per tier and city, and refusals change nothing") {
  Fixture f;
  const auto id = f.member("8613800138000", 5000, "chengdu");
  REQUIRE(f.vouchers.set_stock("A", "beijing", 5, kOperator));
  CHECK(f.vouchers.redeem("8613800138000", "A", "r1", kSms, f.during).status ==
        RS::out_of_stock);
  CHECK(f.vouchers.redeem("8613800138000", "Z", "r2", kSms, f.during).status ==
        RS::unknown_tier);
  CHECK(f.vouchers.redeem("8613900000000", "A", "r3", kSms, f.during).status ==
        RS::unknown_member);
  CHECK(f.ledger.balance(id) == 5000);
  CHECK_FALSE(f.vouchers.set_stock("A", "beijing", -1, kOperator));
  CHECK_FALSE(f.vouchers.set_stock("Q", "beijing", 1, kOperator));
}

TEST_CASE("vouchers: stock of one and two racing redeemers on two connections") {
  TempDir dir;
  const auto path = dir.file("race.db");
  {
    auto db = open_campaign_db(path);
    Ledger ledger(*db);
    Vouchers vouchers(*db, campaign());
    for (const char* n : {"8613800138000", "8613800138001"})
      REQUIRE(ledger.add_member({0, n, "beijing", "zh", false}, 1000, {"import", "t"}, {}) ==
              Ledger::Result::ok);
    REQUIRE(vouchers.set_stock("A", "beijing", 1, kOperator));
  }
  std::atomic<int> issued{0}, out{0}, other{0};
  auto redeemer = [&](std::string msisdn) {
    auto db = open_campaign_db(path);
    Vouchers vouchers(*db, campaign());
    const auto r =
        vouchers.redeem(msisdn, "A", "req-" + msisdn, {"sms", msisdn}, kStart + 1h);
    if (r.status == RS::issued) ++issued;
    else if (r.status == RS::out_of_stock) ++out;
    else ++other;
  };
  std::thread a(redeemer, "8613800138000"), b(redeemer, "8613800138001");
  a.join();
  b.join();
  CHECK(issued == 1);
  CHECK(out == 1);
  CHECK(other == 0);
  auto db = open_campaign_db(path);
  auto q = db->prepare("SELECT (SELECT COUNT(*) FROM vouchers), (SELECT SUM(delta) FROM ledger), "
                       "(SELECT quantity FROM stock)");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 1);
  CHECK(q.column_int(1) == 2000 - 1000);
  CHECK(q.column_int(2) == 0);
}

TEST_CASE("vouchers: a merchant verifies a code once") {
  Fixture f;
  f.member("8613800138000", 1000);
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  REQUIRE(f.vouchers.set_stock("B", "beijing", 5, kOperator));
  const auto r = f.vouchers.redeem("8613800138000", "B", "r1", kSms, f.during);
  REQUIRE(r.status == RS::issued);

  // Typed lower case with a dash, as merchants do.
  std::string typed = r.code.substr(0, 2) + "-" + r.code.substr(2);
  for (auto& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto v = f.vouchers.verify("8613911111111", typed, {"sms", "mo-9"}, f.during + 1h);
  REQUIRE(v.status == VS::used);
  CHECK(v.code == r.code);
  CHECK(v.face_value == 50);
  CHECK(v.member_msisdn == "8613800138000");
  const auto twice = f.vouchers.verify("8613911111111", r.code, {"sms", "mo-10"}, f.during + 2h);
  CHECK(twice.status == VS::already_used);
  CHECK(twice.used_at == iso_time(f.during + 1h));
}

TEST_CASE("vouchers: each wrong presentation has its own answer") {
  Fixture f;
  f.member("8613800138000", 2000);
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  f.merchant("sh-cin-1", "shanghai", "8613922222222");
  REQUIRE(f.vouchers.set_stock("C", "beijing", 5, kOperator));
  const auto r = f.vouchers.redeem("8613800138000", "C", "r1", kSms, f.during);
  REQUIRE(r.status == RS::issued);

  CHECK(f.vouchers.verify("8613800138000", r.code, kSms, f.during).status == VS::not_a_merchant);
  CHECK(f.vouchers.verify("8613911111111", "hello", kSms, f.during).status == VS::bad_format);
  std::string mistyped = r.code;
  mistyped[9] = mistyped[9] == '9' ? '0' : static_cast<char>(mistyped[9] + 1);
  CHECK(f.vouchers.verify("8613911111111", mistyped, kSms, f.during).status ==
        VS::bad_check_digit);
  CHECK(f.vouchers.verify("8613911111111", *generate_voucher_code(), kSms, f.during).status ==
        VS::unknown_code);
  CHECK(f.vouchers.verify("8613922222222", r.code, kSms, f.during).status == VS::wrong_city);
  CHECK(f.vouchers.verify("8613911111111", r.code, kSms, f.during + std::chrono::days(31))
            .status == VS::expired);
  // None of these used it.
  CHECK(f.vouchers.verify("8613911111111", r.code, kSms, f.during).status == VS::used);
}

TEST_CASE("vouchers: an ask holds an offer, and a confirmation in time redeems it once") {
  Fixture f;
  const auto id = f.member("8613800138000", 1200);
  REQUIRE(f.vouchers.set_stock("A", "beijing", 5, kOperator));
  const auto held = f.vouchers.request("8613800138000", "A", "mo-1", kSms, f.during);
  REQUIRE(held.status == RS::offered);
  CHECK(held.price == 1000);
  CHECK(held.offer_expires_at == iso_time(f.during + 10min));
  CHECK(f.ledger.balance(id) == 1200);  // nothing taken yet
  CHECK(f.vouchers.stock("A", "beijing") == 5);
  // The same ask redelivered holds nothing new.
  CHECK(f.vouchers.request("8613800138000", "A", "mo-1", kSms, f.during + 1min).status ==
        RS::offered);

  const auto done = f.vouchers.confirm("8613800138000", {"sms", "mo-2"}, f.during + 10min - 1s);
  REQUIRE(done.status == RS::issued);
  CHECK(f.ledger.balance(id) == 200);
  // A second "Y": nothing is waiting, and it says so rather than sending
  // the voucher again.
  const auto again = f.vouchers.confirm("8613800138000", {"sms", "mo-3"}, f.during + 11min);
  CHECK(again.status == RS::no_offer);
  CHECK(again.code.empty());
  CHECK(f.ledger.balance(id) == 200);
  CHECK(f.vouchers.stock("A", "beijing") == 4);
}

TEST_CASE("vouchers: a late confirmation, or one without an offer, redeems nothing") {
  Fixture f;
  const auto id = f.member("8613800138000", 1200);
  REQUIRE(f.vouchers.set_stock("B", "beijing", 5, kOperator));
  CHECK(f.vouchers.confirm("8613800138000", kSms, f.during).status == RS::no_offer);
  REQUIRE(f.vouchers.request("8613800138000", "B", "mo-1", kSms, f.during).status ==
          RS::offered);
  CHECK(f.vouchers.confirm("8613800138000", kSms, f.during + 10min).status ==
        RS::offer_expired);
  CHECK(f.ledger.balance(id) == 1200);
  // A new ask replaces the old offer; only the new one counts.
  REQUIRE(f.vouchers.request("8613800138000", "B", "mo-2", kSms, f.during + 20min).status ==
          RS::offered);
  CHECK(f.vouchers.confirm("8613800138000", kSms, f.during + 21min).status == RS::issued);
  CHECK(f.ledger.balance(id) == 700);
}

TEST_CASE("vouchers: confirmation checks balance and stock again") {
  Fixture f;
  const auto id = f.member("8613800138000", 1000);
  REQUIRE(f.vouchers.set_stock("A", "beijing", 1, kOperator));
  REQUIRE(f.vouchers.request("8613800138000", "A", "mo-1", kSms, f.during).status ==
          RS::offered);
  REQUIRE(f.ledger.add_points(id, -1, "correction", std::nullopt, kOperator, {}) ==
          Ledger::Result::ok);
  CHECK(f.vouchers.confirm("8613800138000", kSms, f.during + 1min).status ==
        RS::insufficient_points);
}

TEST_CASE("vouchers: without confirmation configured an ask redeems at once") {
  TempDir dir;
  auto db = open_campaign_db(dir.file("c.db"));
  auto c = campaign();
  c.confirm_minutes = 0;
  Vouchers vouchers(*db, c);
  Ledger ledger(*db);
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 300, kOperator, {}) ==
          Ledger::Result::ok);
  REQUIRE(vouchers.set_stock("C", "beijing", 1, kOperator));
  CHECK(vouchers.request("8613800138000", "C", "mo-1", kSms, kStart).status == RS::issued);
}

TEST_CASE("vouchers: failed verifications lock the merchant out, visibly, for a while") {
  Fixture f;
  f.member("8613800138000", 1000);
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  REQUIRE(f.vouchers.set_stock("C", "beijing", 5, kOperator));
  const auto r = f.vouchers.redeem("8613800138000", "C", "r1", kSms, f.during);
  REQUIRE(r.status == RS::issued);

  Time t = f.during;
  for (int i = 0; i < 4; ++i) {
    const auto v = f.vouchers.verify("8613911111111", *generate_voucher_code(), kSms, t += 1s);
    CHECK(v.status == VS::unknown_code);
    CHECK(v.counted);
    CHECK(v.locked_until.empty());
  }
  const auto fifth = f.vouchers.verify("8613911111111", "AB12", kSms, t += 1s);
  CHECK(fifth.status == VS::bad_format);
  CHECK(fifth.locked_until == iso_time(t + 30min));
  // Locked: even the right code is refused, and operators see the lock.
  const auto refused = f.vouchers.verify("8613911111111", r.code, kSms, t + 1min);
  CHECK(refused.status == VS::locked_out);
  CHECK_FALSE(refused.counted);  // nothing was checked
  const auto locks = f.vouchers.lockouts(t + 1min).value();
  REQUIRE(locks.size() == 1);
  CHECK(locks[0].merchant_id == "bj-ktv-1");
  CHECK(locks[0].failures == 5);
  CHECK(locks[0].reason == "window");
  // After the lock ends the count starts again from nothing.
  CHECK(f.vouchers.lockouts(t + 30min).value().empty());
  CHECK(f.vouchers.verify("8613911111111", "AB12", kSms, t + 30min).status == VS::bad_format);
  CHECK(f.vouchers.verify("8613911111111", r.code, kSms, t + 31min).status == VS::used);
}

TEST_CASE("vouchers: a merchant's numbers share one count and one lock") {
  Fixture f;
  f.member("8613800138000", 1000);
  REQUIRE(f.vouchers.add_merchant({"bj-ktv-1", "KTV", "beijing", "ktv", "high",
                                   {"8613911111111", "8613911111112", "8613911111113"},
                                   {{"A", "3 hours"}}},
                                  kOperator));
  REQUIRE(f.vouchers.set_stock("C", "beijing", 5, kOperator));
  const auto r = f.vouchers.redeem("8613800138000", "C", "r1", kSms, f.during);
  Time t = f.during;
  // Five guesses from three numbers: no number reached five of its own.
  const char* numbers[] = {"8613911111111", "8613911111112", "8613911111113"};
  std::string until;
  for (int i = 0; i < 5; ++i)
    until = f.vouchers.verify(numbers[i % 3], *generate_voucher_code(), kSms, t += 1s).locked_until;
  CHECK(until == iso_time(t + 30min));
  for (const char* n : numbers)
    CHECK(f.vouchers.verify(n, r.code, kSms, t + 1min).status == VS::locked_out);
}

TEST_CASE("vouchers: every answer but a use counts, and another city's code reads as unknown") {
  Fixture f;
  f.member("8613800138000", 5000);
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  f.merchant("sh-ktv-1", "shanghai", "8613922222222");
  REQUIRE(f.vouchers.set_stock("C", "beijing", 5, kOperator));
  const auto used = f.vouchers.redeem("8613800138000", "C", "r1", kSms, f.during);
  const auto voided = f.vouchers.redeem("8613800138000", "C", "r2", kSms, f.during);
  const auto live = f.vouchers.redeem("8613800138000", "C", "r3", kSms, f.during);
  REQUIRE(f.vouchers.verify("8613911111111", used.code, kSms, f.during).status == VS::used);
  REQUIRE(f.vouchers.void_voucher(voided.code, "test", false, kOperator) == AdminResult::ok);

  Time t = f.during;
  const auto again = f.vouchers.verify("8613911111111", used.code, kSms, t += 1s);
  CHECK(again.status == VS::already_used);
  CHECK(again.counted);
  CHECK(f.vouchers.verify("8613911111111", voided.code, kSms, t += 1s).counted);
  // A live code of another city: counted against the Shanghai merchant.
  const auto elsewhere = f.vouchers.verify("8613922222222", live.code, kSms, t += 1s);
  CHECK(elsewhere.status == VS::wrong_city);
  CHECK(elsewhere.counted);
  CHECK(f.vouchers.verify("8613911111111", live.code, kSms, f.during + std::chrono::days(31))
            .counted);  // expired
  // Not a merchant: nothing to count against.
  CHECK_FALSE(f.vouchers.verify("8613800138000", live.code, kSms, t += 1s).counted);
  CHECK(f.value("SELECT COUNT(*) FROM verify_failures WHERE merchant_id = 'bj-ktv-1'") == 3);
  CHECK(f.value("SELECT COUNT(*) FROM verify_failures WHERE merchant_id = 'sh-ktv-1'") == 1);
}

TEST_CASE("vouchers: a merchant that stays under the window meets the daily cap") {
  Fixture f;
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  // Four wrong codes every eleven minutes: never five in ten minutes, so
  // the window never locks; the twentieth in a day does.
  Time t = f.during;
  const Time first = t + 1s;
  int n = 0;
  std::string until;
  while (until.empty() && n < 100) {
    if (n % 4 == 0) t += 11min;
    until = f.vouchers.verify("8613911111111", *generate_voucher_code(), kSms, t += 1s).locked_until;
    ++n;
  }
  CHECK(n == 20);
  // Until the first of the twenty is a day old: 20 in any 24 hours at most.
  CHECK(until == iso_time(first + 11min + 24h));
  const auto locks = f.vouchers.lockouts(t).value();
  REQUIRE(locks.size() == 1);
  CHECK(locks[0].reason == "daily");
  CHECK(f.vouchers.verify("8613911111111", "AB12", kSms, first + 11min + 24h - 1s).status ==
        VS::locked_out);
  // Once the oldest has aged out, one more failure locks it again.
  const auto after = f.vouchers.verify("8613911111111", "AB12", kSms, first + 11min + 24h);
  CHECK(after.status == VS::bad_format);
  CHECK_FALSE(after.locked_until.empty());
}

TEST_CASE("vouchers: failures outside the window do not add up, and unlock lifts a lock") {
  Fixture f;
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  Time t = f.during;
  for (int i = 0; i < 8; ++i)  // one wrong code every 3 minutes: never 5 in 10 minutes
    CHECK(f.vouchers.verify("8613911111111", "XX", kSms, t += 3min).locked_until.empty());
  for (int i = 0; i < 5; ++i) f.vouchers.verify("8613911111111", "XX", kSms, t += 1s);
  REQUIRE(f.vouchers.lockouts(t).value().size() == 1);
  CHECK(f.vouchers.unlock("bj-ktv-1", "", kOperator, t) == AdminResult::invalid);
  // By one of its numbers, as a caller reads it out.
  CHECK(f.vouchers.unlock("8613911111111", "merchant called, checked", kOperator, t) ==
        AdminResult::ok);
  CHECK(f.vouchers.lockouts(t).value().empty());
  CHECK(f.vouchers.unlock("bj-ktv-1", "again", kOperator, t) == AdminResult::wrong_state);
  // What came before the unlock no longer counts, for the day either.
  CHECK(f.vouchers.verify("8613911111111", "XX", kSms, t += 1s).locked_until.empty());
}

TEST_CASE("vouchers: voiding refunds and blocks use, and reinstating undoes a wrong use") {
  Fixture f;
  const auto id = f.member("8613800138000", 2000);
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  REQUIRE(f.vouchers.set_stock("B", "beijing", 5, kOperator));
  const auto a = f.vouchers.redeem("8613800138000", "B", "r1", kSms, f.during);
  const auto b = f.vouchers.redeem("8613800138000", "B", "r2", kSms, f.during);
  REQUIRE(f.ledger.balance(id) == 1000);

  CHECK(f.vouchers.void_voucher(a.code, "", true, kOperator) == AdminResult::invalid);
  CHECK(f.vouchers.void_voucher(a.code, "SMS never arrived", true, kOperator) == AdminResult::ok);
  CHECK(f.ledger.balance(id) == 1500);
  CHECK(f.vouchers.void_voucher(a.code, "twice", true, kOperator) == AdminResult::wrong_state);
  CHECK(f.ledger.balance(id) == 1500);
  CHECK(f.vouchers.verify("8613911111111", a.code, kSms, f.during).status == VS::voided);
  CHECK(f.vouchers.void_voucher("ZZ00000000", "x", true, kOperator) == AdminResult::unknown_code);

  CHECK(f.vouchers.reinstate(b.code, "not used yet", kOperator) == AdminResult::wrong_state);
  REQUIRE(f.vouchers.verify("8613911111111", b.code, kSms, f.during).status == VS::used);
  CHECK(f.vouchers.reinstate(b.code, "terminal error, member had no service", kOperator) ==
        AdminResult::ok);
  CHECK(f.vouchers.verify("8613911111111", b.code, kSms, f.during + 1h).status == VS::used);

  auto q = f.db->prepare("SELECT kind, detail FROM events WHERE voucher_code = ? ORDER BY id");
  q.bind(1, b.code);
  std::vector<std::string> kinds;
  while (q.step() == giftgate::db::StepResult::row) kinds.push_back(q.column_text(0));
  CHECK(kinds == std::vector<std::string>{"voucher_issued", "voucher_used", "voucher_reinstated",
                                          "voucher_used"});
}

TEST_CASE("vouchers: the merchants of a city, with what each tier buys there") {
  Fixture f;
  REQUIRE(f.vouchers.add_merchant(
      {"bj-cin-1", "Cinema One", "beijing", "cinema", "low", {"8613911111113"}, {{"C", "2 tickets"}}},
      kOperator));
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  f.merchant("sh-ktv-1", "shanghai", "8613922222222");
  const auto all = f.vouchers.merchants_in("beijing").value();
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == "bj-ktv-1");  // high level first
  REQUIRE(all[0].offers.size() == 1);
  CHECK(all[0].offers[0] == std::pair<std::string, std::string>{"A", "3 hours"});
  const auto cinemas = f.vouchers.merchants_in("beijing", "cinema").value();
  REQUIRE(cinemas.size() == 1);
  CHECK(cinemas[0].offers[0].second == "2 tickets");
  CHECK(f.vouchers.merchants_in("fuzhou").value().empty());
}

TEST_CASE("vouchers: a fixed expiry date for every voucher, and use up to just before it") {
  TempDir dir;
  auto db = open_campaign_db(dir.file("x.db"));
  auto c = campaign();
  c.vouchers_expire_at = kEnd + std::chrono::days(31);
  Vouchers vouchers(*db, c);
  Ledger ledger(*db);
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 1000, kOperator, {}) ==
          Ledger::Result::ok);
  REQUIRE(vouchers.add_merchant({"m", "M", "beijing", "ktv", "low", {"8613911111111"}, {}},
                                kOperator));
  REQUIRE(vouchers.set_stock("C", "beijing", 2, kOperator));
  const auto a = vouchers.redeem("8613800138000", "C", "r1", kSms, kStart);
  const auto b = vouchers.redeem("8613800138000", "C", "r2", kSms, kEnd - 1s);
  CHECK(a.expires_at == "2027-02-01T00:00:00Z");
  CHECK(b.expires_at == a.expires_at);
  const Time expiry = *c.vouchers_expire_at;
  CHECK(vouchers.verify("8613911111111", a.code, kSms, expiry - 1s).status == VS::used);
  CHECK(vouchers.verify("8613911111111", b.code, kSms, expiry).status == VS::expired);
}

TEST_CASE("vouchers: none is issued already expired, and nothing is taken for one") {
  // The configuration refuses such a campaign; one built otherwise is
  // refused here, before stock or points are touched.
  TempDir dir;
  auto db = open_campaign_db(dir.file("x.db"));
  auto c = campaign();
  c.vouchers_expire_at = kStart + std::chrono::days(2);
  Vouchers vouchers(*db, c);
  Ledger ledger(*db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 1000, kOperator, {},
                            &id) == Ledger::Result::ok);
  REQUIRE(vouchers.set_stock("A", "beijing", 2, kOperator));
  const Time after = *c.vouchers_expire_at;
  const auto r = vouchers.redeem("8613800138000", "A", "r1", kSms, after);
  CHECK(r.status == RS::failed);
  CHECK(r.code.empty());
  CHECK(r.error ==
        "vouchers_expire (2026-12-03T00:00:00Z) has passed: a voucher issued now would be "
        "expired already; nothing was taken");
  CHECK(vouchers.request("8613800138000", "A", "r2", kSms, after).status == RS::failed);
  CHECK(ledger.balance(id) == 1000);
  CHECK(vouchers.stock("A", "beijing") == 2);
  auto q = db->prepare("SELECT COUNT(*) FROM vouchers");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 0);
  // A second before it, the voucher is issued, good for that second.
  CHECK(vouchers.redeem("8613800138000", "A", "r3", kSms, after - 1s).status == RS::issued);
}

TEST_CASE("vouchers: a disabled merchant verifies nothing and is listed to no member") {
  Fixture f;
  f.member("8613800138000", 1000);
  f.merchant("bj-ktv-1", "beijing", "8613911111111");
  f.merchant("bj-ktv-2", "beijing", "8613911111112");
  REQUIRE(f.vouchers.set_stock("B", "beijing", 5, kOperator));
  const auto r = f.vouchers.redeem("8613800138000", "B", "r1", kSms, f.during);
  REQUIRE(r.status == RS::issued);

  CHECK(f.vouchers.set_merchant_disabled("bj-ktv-1", true, "", kOperator) == AdminResult::invalid);
  CHECK(f.vouchers.set_merchant_disabled("nosuch", true, "x", kOperator) ==
        AdminResult::unknown_code);
  REQUIRE(f.vouchers.set_merchant_disabled("bj-ktv-1", true, "contract ended", kOperator) ==
          AdminResult::ok);
  CHECK(f.vouchers.set_merchant_disabled("bj-ktv-1", true, "again", kOperator) ==
        AdminResult::wrong_state);
  // Refused before the code is looked at: not used, not counted as a wrong code.
  for (int i = 0; i < 6; ++i)
    CHECK(f.vouchers.verify("8613911111111", i ? "nonsense" : r.code, kSms, f.during).status ==
          VS::merchant_disabled);
  CHECK(f.vouchers.lockouts(f.during).value().empty());
  const auto listed = f.vouchers.merchants_in("beijing").value();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == "bj-ktv-2");
  const auto all = f.vouchers.all_merchants().value();
  REQUIRE(all.size() == 2);
  CHECK(all[0].disabled);
  CHECK(all[0].phones == std::vector<std::string>{"8613911111111"});

  REQUIRE(f.vouchers.set_merchant_disabled("bj-ktv-1", false, "renewed", kOperator) ==
          AdminResult::ok);
  CHECK(f.vouchers.merchants_in("beijing").value().size() == 2);
  CHECK(f.vouchers.verify("8613911111111", r.code, kSms, f.during).status == VS::used);

  auto q = f.db->prepare(
      "SELECT group_concat(kind || ' ' || actor || ': ' || detail, ' | ') FROM events WHERE kind "
      "LIKE 'merchant_%abled'");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) ==
        "merchant_disabled li.na: merchant bj-ktv-1: contract ended | merchant_enabled li.na: "
        "merchant bj-ktv-1: renewed");
}

TEST_CASE("vouchers: a number taken from a merchant is no merchant's, but not its last") {
  Fixture f;
  f.member("8613800138000", 1000);
  REQUIRE(f.vouchers.add_merchant({"bj-ktv-1", "KTV", "beijing", "ktv", "high",
                                   {"8613911111111", "8613911111113"}, {}},
                                  kOperator));
  f.merchant("bj-ktv-2", "beijing", "8613911111112");
  REQUIRE(f.vouchers.set_stock("B", "beijing", 5, kOperator));
  const auto r = f.vouchers.redeem("8613800138000", "B", "r1", kSms, f.during);
  REQUIRE(r.status == RS::issued);

  using NR = NumberRemoval;
  CHECK(f.vouchers.remove_merchant_number("bj-ktv-1", "8613911111113", "", kOperator) ==
        NR::invalid);
  CHECK(f.vouchers.remove_merchant_number("nosuch", "8613911111113", "x", kOperator) ==
        NR::unknown_merchant);
  CHECK(f.vouchers.remove_merchant_number("bj-ktv-1", "8613911111112", "x", kOperator) ==
        NR::not_its_number);
  REQUIRE(f.vouchers.remove_merchant_number("bj-ktv-1", "8613911111113", "handset stolen",
                                            kOperator) == NR::removed);
  CHECK(f.vouchers.verify("8613911111113", r.code, kSms, f.during).status == VS::not_a_merchant);
  // Members are sent to bj-ktv-1: it keeps a number to verify from ...
  CHECK(f.vouchers.remove_merchant_number("bj-ktv-1", "8613911111111", "x", kOperator) ==
        NR::last_number);
  CHECK(f.vouchers.verify("8613911111111", r.code, kSms, f.during).status == VS::used);
  // ... unless it is disabled.
  REQUIRE(f.vouchers.set_merchant_disabled("bj-ktv-1", true, "closed", kOperator) ==
          AdminResult::ok);
  CHECK(f.vouchers.remove_merchant_number("bj-ktv-1", "8613911111111", "to bj-ktv-3",
                                          kOperator) == NR::removed);
  auto q = f.db->prepare(
      "SELECT group_concat(detail, ' | ') FROM events WHERE kind = 'merchant_number_removed'");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) ==
        "merchant bj-ktv-1 number 8613911111113: handset stolen | merchant bj-ktv-1 number "
        "8613911111111: to bj-ktv-3");
}
