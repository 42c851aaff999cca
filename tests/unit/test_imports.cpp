#include <doctest/doctest.h>

#include <fmt/format.h>

#include "daemon/config/config.hpp"
#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/reports.hpp"
#include "daemon/storage/schema.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using giftgate::test::TempDir;
using IS = ImportResult::Status;

namespace {

struct Fixture {
  TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("i.db"));
  Config config;
  Fixture() {
    std::string error;
    config = *parse_config(default_config_text(), "built-in", &error);
  }
  ImportResult members(std::string_view text) {
    return Importer(*db, config, {"import", "t"}).members(text, "m.csv");
  }
  ImportResult merchants(std::string_view text) {
    return Importer(*db, config, {"import", "t"}).merchants(text, "s.csv");
  }
  ImportResult activity(std::string_view text) {
    return Importer(*db, config, {"import", "t"}).activity(text, "a.csv");
  }
  std::int64_t count(std::string_view table) {
    auto q = db->prepare(std::string("SELECT COUNT(*) FROM ") + std::string(table));
    return q.step() == giftgate::db::StepResult::row ? q.column_int(0) : -1;
  }
  std::int64_t balance(const std::string& msisdn) {
    Ledger ledger(*db);
    giftgate::db::Status found;
    const auto m = ledger.find_member(msisdn, &found);
    return m ? ledger.balance(m->id).value_or(-1) : -1;
  }
};

}  // namespace

TEST_CASE("import members: numbers in any form, opening balances, twice adds nothing") {
  Fixture f;
  const std::string_view file =
      "msisdn,city,language,opt_out,points\n"
      "13800138000,Beijing,zh,0,1200\n"
      "+86 139 0000 0001,shanghai,en,yes,0\n"
      "008613900000002,fuzhou,,,\n";
  const auto r = f.members(file);
  INFO(r.error);
  REQUIRE(r.status == IS::ok);
  CHECK(r.rows == 3);
  CHECK(r.applied == 3);
  CHECK(r.points == 1200);
  CHECK(f.balance("8613800138000") == 1200);
  Ledger ledger(*f.db);
  giftgate::db::Status found;
  const auto m = ledger.find_member("8613900000001", &found);
  REQUIRE(m);
  CHECK(m->language == "en");
  CHECK(m->care_opt_out);
  const auto other = ledger.find_member("8613800138000", &found);
  REQUIRE(other);
  CHECK(other->city == "beijing");

  const auto again = f.members(file);
  CHECK(again.status == IS::ok);
  CHECK(again.applied == 0);
  CHECK(again.skipped == 3);
  CHECK(f.balance("8613800138000") == 1200);
}

TEST_CASE("import members: a bad row names its line and nothing of the file stays") {
  Fixture f;
  const auto r = f.members(
      "msisdn,city,points\n"
      "13800138000,beijing,100\n"
      "13800138001,beijing,100\n"
      "13800138002,beijing,lots\n");
  CHECK(r.status == IS::bad_input);
  CHECK(r.error == "m.csv:4: points must be a whole number of 0 or more, not 'lots'");
  CHECK(f.count("members") == 0);
  CHECK(f.count("ledger") == 0);
  CHECK(f.count("events") == 0);

  CHECK(f.members("msisdn,city\n13800138000,beijing\n13800138000,beijing\n").error ==
        "m.csv:3: member 8613800138000 is listed twice in this file");
  CHECK(f.members("msisdn,city\n12345,beijing\n").error == "m.csv:2: '12345' is not a phone number");
  CHECK(f.members("msisdn,city\n13800138000\n").error == "m.csv:2: 1 fields, but the header has 2");
  CHECK(f.members("msisdn,city,language\n13800138000,x,fr\n").error ==
        "m.csv:2: language must be zh or en, not 'fr'");
  CHECK(f.members("").error == "m.csv:1: the file is empty; it needs a header line");
  CHECK(f.members("phone,city\n").error == "m.csv:1: unknown column 'phone'");
  CHECK(f.count("members") == 0);
}

TEST_CASE("import merchants: numbers, offers per tier, and updates") {
  Fixture f;
  auto r = f.merchants(
      "id,name,city,kind,level,phones,offer_a,offer_c\n"
      "bj-ktv-01,\"Star KTV, Chaoyang\",beijing,KTV,high,13911111111; 13911111112,5 hours,1 hour\n"
      "sh-cin-01,Grand Cinema,shanghai,cinema,low,13922222222,8 tickets,\n");
  INFO(r.error);
  REQUIRE(r.status == IS::ok);
  CHECK(r.applied == 2);
  CHECK(f.count("merchant_phones") == 3);
  CHECK(f.count("merchant_offers") == 3);

  // Loaded again with a changed number: replaced, not added.
  r = f.merchants("id,name,city,kind,level,phones\nbj-ktv-01,Star KTV,beijing,ktv,middle,13933333333\n");
  REQUIRE(r.status == IS::ok);
  CHECK(f.count("merchants") == 2);
  CHECK(f.count("merchant_phones") == 2);
  auto q = f.db->prepare("SELECT level FROM merchants WHERE id = 'bj-ktv-01'");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "middle");

  CHECK(f.merchants("id,name,city,kind,level,phones\nx,X,beijing,bar,high,13944444444\n").error ==
        "s.csv:2: kind must be ktv or cinema, not 'bar'");
  CHECK(f.merchants("id,name,city,kind,level,phones\nx,X,beijing,ktv,high,13922222222\n").error ==
        "s.csv:2: number 8613922222222 already belongs to merchant sh-cin-01");
  CHECK(f.merchants("id,name,city,kind,level,phones\nx,X,beijing,ktv,high,\n").error ==
        "s.csv:2: a merchant needs at least one phone number to verify from");
  CHECK(f.count("merchants") == 2);
}

TEST_CASE("import merchants: names and offers are bounded and printable, the row named") {
  Fixture f;
  const std::string header = "id,name,city,kind,level,phones,offer_a,offer_b\n";
  const auto row = [](const std::string& name, const std::string& a = "5 hours",
                      const std::string& b = "2 hours") {
    return "bj-1,\"" + name + "\",beijing,ktv,high,13911111111," + a + "," + b + "\n";
  };
  std::string han30;  // thirty Chinese characters: as long as a name may be
  for (int i = 0; i < 30; ++i) han30 += "歌";

  // The 1,500-character name that made the member's note unsendable.
  auto r = f.merchants(header + "ok-1,Fine,beijing,ktv,high,13911111112,,\n" +
                       row(std::string(1500, 'x')));
  CHECK(r.status == IS::bad_input);
  CHECK(r.error == "s.csv:3: merchant bj-1: the name is 1500 characters long, more than the 30 "
                   "allowed, so that every SMS that shows it fits (a Chinese character counts "
                   "one; €, brackets and emoji two)");
  CHECK(f.count("merchants") == 0);  // the good row before it is not kept either

  CHECK(f.merchants(header + row(std::string(31, 'x'))).status == IS::bad_input);
  CHECK(f.merchants(header + row(han30 + "歌")).status == IS::bad_input);
  CHECK(f.merchants(header + row(std::string(15, 'x') + "€€€€€€€€")).status == IS::bad_input);
  for (const std::string& bad : {std::string("Star\x1b[2J KTV"), std::string("Star\nKTV"),
                                 std::string("\xe2\x80\xae" "VTK ratS"), std::string("Star \xff")}) {
    r = f.merchants(header + row(bad));
    CHECK(r.status == IS::bad_input);
    CHECK(r.error == "s.csv:2: merchant bj-1: the name holds a control character, a "
                     "bidirectional control or bytes that are not UTF-8");
  }
  CHECK(f.merchants(header + row("Star", "5 hours\x07")).status == IS::bad_input);
  // The offers as members read them, "A: ...; B: ...", at most 80 characters.
  r = f.merchants(header + row("Star", std::string(40, 'o'), std::string(40, 'o')));
  CHECK(r.status == IS::bad_input);
  CHECK(r.error.find("s.csv:2: merchant bj-1: the offers line is 88 characters long, more than "
                     "the 80 allowed") == 0);
  CHECK(f.merchants("id,name,city,kind,level,phones\n" + std::string(33, 'i') +
                    ",Star,beijing,ktv,high,13911111111\n")
            .status == IS::bad_input);
  CHECK(f.count("merchants") == 0);

  // As long as allowed, in either script.
  r = f.merchants(header + row(han30, std::string(36, 'o'), std::string(36, 'o')) +
                  "bj-2,Golden Melody KTV Plaza Branch,beijing,ktv,high,13911111112,,\n");
  INFO(r.error);
  CHECK(r.status == IS::ok);
  CHECK(f.count("merchants") == 2);
}

TEST_CASE("import activity: accrual rates from config, the same file twice adds once") {
  Fixture f;
  REQUIRE(f.members("msisdn,city\n13800138000,beijing\n13800138001,beijing\n").status == IS::ok);
  const std::string_view file =
      "msisdn,activity,quantity,period\n"
      "13800138000,network_month,3,2026-10\n"
      "13800138000,rbt_fee_yuan,15,2026-10\n"
      "13800138001,service_use,2,2026-10\n";
  auto r = f.activity(file);
  INFO(r.error);
  REQUIRE(r.status == IS::ok);
  CHECK(r.points == 3 * 100 + 15 * 10 + 2 * 20);
  CHECK(f.balance("8613800138000") == 450);
  r = f.activity(file);
  CHECK(r.status == IS::ok);
  CHECK(r.applied == 0);
  CHECK(r.skipped == 3);
  CHECK(f.balance("8613800138000") == 450);
  // A new period is new activity.
  r = f.activity("msisdn,activity,quantity,period\n13800138000,network_month,1,2026-11\n");
  CHECK(f.balance("8613800138000") == 550);
  // With an id column the id is the key.
  r = f.activity("msisdn,activity,quantity,period,id\n13800138001,service_use,1,2026-11,tx-1\n"
                 "13800138001,service_use,1,2026-11,tx-2\n");
  CHECK(r.applied == 2);

  CHECK(f.activity("msisdn,activity,quantity,period\n13800138000,lottery,1,2026-10\n").error ==
        "a.csv:2: unknown activity 'lottery' (network_month, rbt_fee_yuan, service_use)");
  CHECK(f.activity("msisdn,activity,quantity,period\n13800138099,service_use,1,2026-10\n").error ==
        "a.csv:2: 8613800138099 is not a member");
  CHECK(f.activity("msisdn,activity,quantity,period\n13800138000,service_use,1,2026-12\n"
                   "13800138000,service_use,-1,2026-12\n")
            .status == IS::bad_input);
  CHECK(f.balance("8613800138000") == 550);  // the good first row did not stay either
}

TEST_CASE("import: points per row and balances are bounded, and the row is named") {
  Fixture f;
  f.config.campaign.points = {1000, 2500};
  // An opening balance near the 64-bit limit would overflow the first credit.
  auto r = f.members("msisdn,city,points\n13800138000,beijing,1000\n"
                     "13800138001,beijing,9223372036854775000\n");
  CHECK(r.status == IS::bad_input);
  CHECK(r.error ==
        "m.csv:3: +9223372036854775000 points in one change is more than "
        "campaign.max_points_change (1000)");
  CHECK(f.count("members") == 0);
  REQUIRE(f.members("msisdn,city,points\n13800138000,beijing,1000\n").status == IS::ok);

  // network_month is 100 a unit: 11 units is one change too many.
  r = f.activity("msisdn,activity,quantity,period\n13800138000,network_month,11,2026-10\n");
  CHECK(r.error ==
        "a.csv:2: network_month x11 is 1100 points, more than campaign.max_points_change (1000)");
  // Rows that together pass the maximum balance: the row that would is named,
  // and nothing of the file stays.
  r = f.activity("msisdn,activity,quantity,period\n13800138000,network_month,10,2026-10\n"
                 "13800138000,network_month,5,2026-11\n13800138000,network_month,1,2026-12\n");
  CHECK(r.error ==
        "a.csv:4: 8613800138000 has 2500 points; adding 100 would take the balance past "
        "campaign.max_balance (2500)");
  CHECK(f.balance("8613800138000") == 1000);
  // Up to the maximum is fine; the same file again is skipped, not refused.
  const std::string_view file =
      "msisdn,activity,quantity,period\n13800138000,network_month,10,2026-10\n"
      "13800138000,network_month,5,2026-11\n";
  REQUIRE(f.activity(file).status == IS::ok);
  CHECK(f.balance("8613800138000") == 2500);
  r = f.activity(file);
  CHECK(r.status == IS::ok);
  CHECK(r.skipped == 2);
}

TEST_CASE("import activity: a period is one month, one spelling, within the months credited") {
  Fixture f;
  REQUIRE(f.members("msisdn,city\n13800138000,beijing\n").status == IS::ok);
  // Three spellings of October would have been three keys, three credits.
  for (const char* period : {"2026-10-01", "Oct 2026", "2026-1", "2026/10", "2026-13", "202610"}) {
    const auto r = f.activity(fmt::format(
        "msisdn,activity,quantity,period\n13800138000,network_month,1,2026-10\n"
        "13800138000,network_month,1,\"{}\"\n",
        period));
    CHECK(r.error ==
          fmt::format("a.csv:3: period must be a month like 2026-10, not '{}'", period));
  }
  // The shipped campaign runs from October to December 2026.
  CHECK(f.config.accrual.first_period == "2026-10");
  CHECK(f.config.accrual.last_period == "2026-12");
  CHECK(f.activity("msisdn,activity,quantity,period\n13800138000,network_month,1,1999-01\n")
            .error ==
        "a.csv:2: period 1999-01 is outside the months credited, 2026-10 to 2026-12 "
        "(accrual.first_period, accrual.last_period)");
  CHECK(f.activity("msisdn,activity,quantity,period\n13800138000,network_month,1,2027-01\n")
            .status == IS::bad_input);
  CHECK(f.balance("8613800138000") == 0);

  const auto r = f.activity(
      "msisdn,activity,quantity,period\n13800138000,network_month,1,2026-10\n"
      "13800138000,network_month,1,2026-12\n");
  INFO(r.error);
  CHECK(r.applied == 2);
  CHECK(f.balance("8613800138000") == 200);
  // The same month with spaces around it is the same key: nothing twice.
  CHECK(f.activity("msisdn,activity,quantity,period\n13800138000,network_month,1,\" 2026-10 \"\n")
            .skipped == 1);
  CHECK(f.balance("8613800138000") == 200);
}

TEST_CASE("reports: issued, used and value by tier, city, merchant and day") {
  Fixture f;
  REQUIRE(f.members("msisdn,city,points\n13800138000,beijing,20000\n").status == IS::ok);
  REQUIRE(f.merchants("id,name,city,kind,level,phones\nbj-1,K,beijing,ktv,high,13911111111\n")
              .status == IS::ok);
  Vouchers v(*f.db, f.config.campaign);
  REQUIRE(v.set_stock("A", "beijing", 10, {"giftctl", "t"}));
  REQUIRE(v.set_stock("C", "beijing", 10, {"giftctl", "t"}));
  const Time day1 = f.config.campaign.start + 23h;  // 2026-10-01 23:00 in Shanghai
  const Time day2 = day1 + 2h;                      // 2026-10-02 01:00
  const auto a = v.redeem("8613800138000", "A", "r1", {"sms", "1"}, day1);
  const auto c = v.redeem("8613800138000", "C", "r2", {"sms", "2"}, day2);
  v.redeem("8613800138000", "C", "r3", {"sms", "3"}, day2);
  REQUIRE(v.verify("8613911111111", a.code, {"sms", "4"}, day2).status ==
          Verification::Status::used);
  REQUIRE(v.void_voucher(c.code, "test", true, {"giftctl", "t"}) == AdminResult::ok);

  std::string error;
  const auto tier = campaign_report(*f.db, "tier", f.config.time_zone, &error);
  REQUIRE(tier);
  REQUIRE(tier->rows.size() == 2);
  CHECK(tier->rows[0] == std::vector<std::string>{"A", "1", "1", "0", "0", "5000", "100", "100"});
  CHECK(tier->rows[1] == std::vector<std::string>{"C", "2", "0", "1", "1", "1000", "20", "0"});
  const auto merchant = campaign_report(*f.db, "merchant", f.config.time_zone, &error);
  REQUIRE(merchant->rows.size() == 1);
  CHECK(merchant->rows[0][0] == "bj-1");
  CHECK(merchant->rows[0][2] == "1");
  const auto day = campaign_report(*f.db, "day", f.config.time_zone, &error);
  REQUIRE(day->rows.size() == 2);
  CHECK(day->rows[0][0] == "2026-10-01");
  CHECK(day->rows[0][1] == "1");  // A issued late on the 1st, local time
  CHECK(day->rows[0][2] == "0");
  CHECK(day->rows[1][0] == "2026-10-02");
  CHECK(day->rows[1][1] == "2");
  CHECK(day->rows[1][2] == "1");  // ... and used on the 2nd
  CHECK_FALSE(campaign_report(*f.db, "colour", f.config.time_zone, &error));
  CHECK(error.empty());  // unknown, not a failure

  const auto since = redemptions_since(*f.db, iso_time(day2), &error);
  REQUIRE(since);
  CHECK(since->rows.size() == 2);
  CHECK(redemptions_since(*f.db, iso_time(day1), &error)->rows.size() == 3);
}
