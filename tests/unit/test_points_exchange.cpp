#include <doctest/doctest.h>

#include <sqlite3.h>

#include <fmt/format.h>

#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/points_exchange.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/config/config.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using AS = AccrualOutcome::Status;

namespace {

const std::string kZh = "8613800138000";  // 12000 points
const std::string kEn = "8613900000001";  // 3000 points
const Actor kPoints{"api", "club-points"};

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("p.db"));
  Config config = test::campaign_config();
  std::shared_ptr<const Templates> templates = test::shipped_templates();
  Service service{*db, config, templates};
  PointsExchange exchange{*db, config.campaign.points};
  Time now = config.campaign.start + 24h;
  int sequence = 0;

  Fixture() {
    Importer importer(*db, config, {"import", "t"});
    REQUIRE(importer
                .members("msisdn,city,language,points\n13800138000,beijing,zh,12000\n"
                         "13900000001,beijing,en,3000\n",
                         "m.csv")
                .status == ImportResult::Status::ok);
    Vouchers v(*db, config.campaign);
    REQUIRE(v.set_stock("A", "beijing", 5, {"giftctl", "t"}));
    REQUIRE(v.set_stock("C", "beijing", 5, {"giftctl", "t"}));
  }

  std::vector<AccrualOutcome> post(const std::vector<PostedAccrual>& batch) {
    db::Status status;
    auto out = exchange.post(batch, kPoints, &status);
    INFO(status.message);
    REQUIRE(out);
    CHECK(status.ok());
    REQUIRE(out->size() == batch.size());
    return *out;
  }
  std::int64_t count(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }
  std::int64_t balance(const std::string& msisdn) {
    return count("SELECT SUM(l.delta) FROM ledger l JOIN members m ON m.id = l.member_id WHERE "
                 "m.msisdn = '" + msisdn + "'");
  }
  // Redeems a tier by SMS, with its confirmation; the voucher's code.
  std::string redeem_by_sms(const std::string& msisdn, const std::string& tier) {
    for (const std::string& text : {"DH " + tier, std::string("Y")}) {
      const auto out =
          service.handle({fmt::format("mo-{}", ++sequence), msisdn, text, "sms", now, {}, {}});
      REQUIRE(out.status == MoOutcome::Status::done);
    }
    auto q = db->prepare(
        "SELECT voucher_code FROM outbox WHERE voucher_code IS NOT NULL ORDER BY id DESC LIMIT 1");
    REQUIRE(q.step() == db::StepResult::row);
    return q.column_text(0);
  }
  std::vector<FeedEntry> feed(std::int64_t after, std::size_t limit) {
    db::Status status;
    auto out = exchange.feed(after, limit, &status);
    INFO(status.message);
    REQUIRE(out);
    return *out;
  }
};

}  // namespace

TEST_CASE("points exchange: a batch is credited, each accrual once by its id") {
  Fixture f;
  const auto out = f.post({{"p-1", kZh, 100, "concert ticket"},
                           {"p-2", kEn, 250, "album"},
                           {"p-3", kZh, 50, "fan club renewal"}});
  CHECK(out[0].id == "p-1");
  CHECK(out[0].status == AS::credited);
  CHECK(out[0].balance == 12100);
  CHECK(out[1].status == AS::credited);
  CHECK(out[1].balance == 3250);
  CHECK(out[2].status == AS::credited);
  CHECK(out[2].balance == 12150);
  CHECK(f.balance(kZh) == 12150);
  CHECK(f.balance(kEn) == 3250);
  // Each entry names the id and the client, as the member's ledger shows it.
  CHECK(f.count("SELECT COUNT(*) FROM ledger WHERE reference = 'accrual:p-2' AND delta = 250 AND "
                "reason = 'album' AND channel = 'api' AND actor = 'club-points'") == 1);

  // Posted again (the answer was lost): nothing twice, the balance as it is.
  const auto again = f.post({{"p-1", kZh, 100, "concert ticket"}, {"p-4", kEn, 10, "poll"}});
  CHECK(again[0].status == AS::duplicate);
  CHECK(again[0].balance == 12150);
  CHECK(again[1].status == AS::credited);
  CHECK(f.balance(kZh) == 12150);
  CHECK(f.count("SELECT COUNT(*) FROM ledger WHERE reference LIKE 'accrual:%'") == 4);

  // The same id twice in one batch credits once.
  const auto twice = f.post({{"p-5", kEn, 40, "quiz"}, {"p-5", kEn, 40, "quiz"}});
  CHECK(twice[0].status == AS::credited);
  CHECK(twice[1].status == AS::duplicate);
  CHECK(twice[1].balance == 3300);
  CHECK(f.balance(kEn) == 3300);
}

TEST_CASE("points exchange: an id reused for another amount or member is a conflict") {
  Fixture f;
  REQUIRE(f.post({{"x-1", kZh, 100, "ticket"}})[0].status == AS::credited);
  const auto out = f.post({{"x-1", kZh, 101, "ticket"},
                           {"x-1", kEn, 100, "ticket"},
                           {"x-1", "8613700000000", 100, "ticket"}});
  CHECK(out[0].status == AS::conflict);
  CHECK(out[1].status == AS::conflict);
  CHECK(out[2].status == AS::conflict);  // whether or not the number is a member
  CHECK(f.balance(kZh) == 12100);
  CHECK(f.balance(kEn) == 3000);
}

TEST_CASE("points exchange: unknown members, bounds and invalid accruals add nothing") {
  Fixture f;
  f.config.campaign.points.max_balance = 12050;  // read by the exchange as it posts
  const auto out = f.post({
      {"u-1", "8613700000000", 10, "ticket"},
      {"b-1", kZh, f.config.campaign.points.max_change + 1, "too much at once"},
      {"b-2", kZh, 100, "past the most a member may have"},
      {"", kZh, 10, "no id"},
      {std::string(65, 'a'), kZh, 10, "id too long"},
      {"a b", kZh, 10, "space in id"},
      {"a/b", kZh, 10, "slash in id"},
      {"\xe7\xa7\xaf", kZh, 10, "non-ASCII id"},
      {"z-1", kZh, 0, "zero"},
      {"z-2", kZh, -5, "negative"},
      {"r-1", kZh, 10, ""},
      {"r-2", kZh, 10, "line\nbreak"},
      {"r-3", kZh, 10, "bidi \xe2\x80\xae override"},
      {"n-1", "13800138000", 10, "national form"},
      {"n-2", "+8613800138000", 10, "with a plus"},
      {"ok.A_z:0-9", kZh, 10, "every allowed character"},
      {std::string(64, 'b'), kZh, 10, "the longest id"},
  });
  CHECK(out[0].status == AS::unknown_member);
  CHECK(out[1].status == AS::out_of_bounds);
  CHECK(out[1].error.find("max_points_change") != std::string::npos);
  CHECK(out[2].status == AS::out_of_bounds);
  CHECK(out[2].error.find("max_balance") != std::string::npos);
  for (std::size_t i = 3; i <= 14; ++i) {
    CAPTURE(i);
    CHECK(out[i].status == AS::invalid);
    CHECK_FALSE(out[i].error.empty());
  }
  CHECK(out[15].status == AS::credited);
  CHECK(out[16].status == AS::credited);
  CHECK(f.balance(kZh) == 12020);
  CHECK(f.count("SELECT COUNT(*) FROM ledger WHERE reference LIKE 'accrual:%'") == 2);
}

TEST_CASE("points exchange: a database failure anywhere in a batch credits none of it") {
  Fixture f;
  const std::vector<PostedAccrual> batch{{"f-1", kZh, 100, "one"},
                                         {"f-2", kEn, 200, "two"},
                                         {"f-1", kZh, 100, "one again"},
                                         {"f-3", kZh, 300, "three"}};
  int n = 0;
  for (; n < 200; ++n) {
    CAPTURE(n);
    f.db->fail_statement_after(n, SQLITE_IOERR);
    db::Status status;
    const auto out = f.exchange.post(batch, kPoints, &status);
    const bool failed = f.db->statement_failure_spent();
    f.db->fail_statement_after(-1, 0);
    if (!failed) {
      REQUIRE(out);
      CHECK((*out)[0].status == AS::credited);
      CHECK((*out)[1].status == AS::credited);
      CHECK((*out)[2].status == AS::duplicate);
      CHECK((*out)[3].status == AS::credited);
      break;
    }
    CHECK_FALSE(out);
    CHECK_FALSE(status.ok());
    CHECK(f.count("SELECT COUNT(*) FROM ledger WHERE reference LIKE 'accrual:%'") == 0);
    CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'points' AND channel = 'api'") == 0);
  }
  CHECK(n > 10);  // the failure was met at every statement of the batch first
  CHECK(f.balance(kZh) == 12400);
  CHECK(f.balance(kEn) == 3200);

  // Inside a caller's transaction it is a savepoint: the caller's rollback
  // takes it back.
  {
    db::Transaction outer(*f.db);
    REQUIRE(outer.begun());
    REQUIRE(f.post({{"f-4", kZh, 5, "four"}})[0].status == AS::credited);
  }
  CHECK(f.balance(kZh) == 12400);
}

TEST_CASE("points exchange: the feed pages through redemptions and refunds, and no code") {
  Fixture f;
  std::vector<std::string> codes;
  codes.push_back(f.redeem_by_sms(kZh, "A"));
  f.now += 1h;
  REQUIRE(f.post({{"acc-1", kEn, 100, "ticket"}})[0].status == AS::credited);
  codes.push_back(f.redeem_by_sms(kEn, "C"));
  codes.push_back(f.redeem_by_sms(kZh, "C"));
  Vouchers vouchers(*f.db, f.config.campaign);
  REQUIRE(vouchers.void_voucher(codes[1], "wrong tier", true, {"giftctl", "desk"}) ==
          AdminResult::ok);
  REQUIRE(vouchers.void_voucher(codes[2], "no refund", false, {"giftctl", "desk"}) ==
          AdminResult::ok);

  // Two a page, each from the last one's cursor: all of it once, in order.
  std::vector<FeedEntry> all;
  std::int64_t cursor = 0;
  for (int pages = 0; pages < 10; ++pages) {
    const auto page = f.feed(cursor, 2);
    if (page.empty()) break;
    CHECK(page.size() <= 2);
    for (const auto& e : page) {
      CHECK(e.cursor > cursor);
      cursor = e.cursor;
      all.push_back(e);
    }
  }
  REQUIRE(all.size() == 4);
  CHECK(all[0].kind == "redemption");
  CHECK(all[0].msisdn == kZh);
  CHECK(all[0].points == -5000);
  CHECK(all[0].tier == "A");
  CHECK(all[0].channel == "sms");
  CHECK(all[1].kind == "redemption");
  CHECK(all[1].msisdn == kEn);
  CHECK(all[1].points == -1000);
  CHECK(all[1].tier == "C");
  CHECK(all[2].kind == "redemption");
  CHECK(all[2].msisdn == kZh);
  CHECK(all[2].tier == "C");
  CHECK(all[3].kind == "refund");  // the void without a refund moved no points
  CHECK(all[3].msisdn == kEn);
  CHECK(all[3].points == 1000);
  CHECK(all[3].tier == "C");
  CHECK(all[3].channel == "giftctl");
  for (const auto& e : all) {
    CHECK(e.at.size() == 20);
    for (const auto& code : codes)
      for (const auto* field : {&e.kind, &e.msisdn, &e.tier, &e.channel, &e.at})
        CHECK(field->find(code) == std::string::npos);
  }
  CHECK(f.feed(cursor, 10).empty());
  CHECK(f.feed(0, 0).empty());
  CHECK(f.feed(all[1].cursor, 1).at(0).cursor == all[2].cursor);
}

TEST_CASE("points exchange: the feed reads the ledger_feed index, not every accrual") {
  Fixture f;
  (void)f.feed(0, 10);
  // The statement feed() ran, from the connection's cache, planned by SQLite.
  std::string sql;
  for (sqlite3_stmt* s = sqlite3_next_stmt(f.db->handle(), nullptr); s;
       s = sqlite3_next_stmt(f.db->handle(), s))
    if (std::string text = sqlite3_sql(s); text.find("LEFT JOIN vouchers") != std::string::npos)
      sql = text;
  REQUIRE_FALSE(sql.empty());
  auto plan = f.db->prepare("EXPLAIN QUERY PLAN " + sql);
  std::string details;
  REQUIRE(plan.each_row([&] { details += plan.column_text(3) + "\n"; }).ok());
  INFO(details);
  CHECK(details.find("INDEX ledger_feed") != std::string::npos);
  CHECK(details.find("SCAN l\n") == std::string::npos);
}
