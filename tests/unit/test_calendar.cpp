// The campaign's calendar across changes of the clocks: formatting, parsing
// of times the clocks skip or show twice, months and report days, each
// with the offset in force at the instant concerned. Berlin changes at
// 01:00 UTC (2026-03-29 and 2026-10-25), New York at 02:00 local
// (2026-03-08 and 2026-11-01); Shanghai keeps +08:00 all year.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/reports.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/config/config.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

Time utc(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  return Time{std::chrono::sys_days{std::chrono::year{y} / mo / d}.time_since_epoch() +
              std::chrono::hours(h) + std::chrono::minutes(mi)};
}

Config config_in(const std::string& zone) {
  std::string error;
  auto c = parse_config("campaign:\n  time_zone: " + zone +
                            "\n  start: 2026-10-01\n  end: 2027-01-01\n",
                        "t.yaml", &error);
  INFO(error);
  REQUIRE(c);
  return *c;
}

}  // namespace

TEST_CASE("calendar: zones come from the system's zoneinfo, and only zones") {
  CHECK(known_zone("Asia/Shanghai"));
  CHECK(known_zone("Europe/Berlin"));
  CHECK(known_zone("UTC"));
  CHECK_FALSE(known_zone(""));
  CHECK_FALSE(known_zone("Mars/Olympus"));
  CHECK_FALSE(known_zone("zone.tab"));  // a file in zoneinfo, no zone
  CHECK_FALSE(known_zone("../../etc/passwd"));
  CHECK_FALSE(known_zone("/usr/share/zoneinfo/UTC"));
}

TEST_CASE("calendar: local times before and after each change of the clocks") {
  // Berlin, spring: 01:59 winter time, then 03:00 summer time.
  CHECK(format_local_time("Europe/Berlin", utc(2026, 3, 29, 0, 59)) == "2026-03-29 01:59");
  CHECK(format_local_time("Europe/Berlin", utc(2026, 3, 29, 1, 0)) == "2026-03-29 03:00");
  // Berlin, autumn: 02:59 summer time, then 02:00 again in winter time.
  CHECK(format_local_time("Europe/Berlin", utc(2026, 10, 25, 0, 59)) == "2026-10-25 02:59");
  CHECK(format_local_time("Europe/Berlin", utc(2026, 10, 25, 1, 0)) == "2026-10-25 02:00");
  // Weeks later still winter time: a voucher issued in October expiring in
  // November shows its expiry on November's clocks.
  CHECK(format_local_time("Europe/Berlin", utc(2026, 11, 19, 11, 0)) == "2026-11-19 12:00");
  CHECK(format_local_time("Europe/Berlin", utc(2026, 7, 1, 11, 0)) == "2026-07-01 13:00");
  CHECK(format_local_time("America/New_York", utc(2026, 11, 1, 5, 59)) == "2026-11-01 01:59");
  CHECK(format_local_time("America/New_York", utc(2026, 11, 1, 6, 0)) == "2026-11-01 01:00");
  // No change in Shanghai: +08:00 all year, as before.
  CHECK(format_local_time("Asia/Shanghai", utc(2026, 9, 30, 16, 0)) == "2026-10-01 00:00");
  CHECK(format_local_time("Asia/Shanghai", utc(2026, 12, 31, 15, 59)) == "2026-12-31 23:59");
  CHECK(format_local_time("UTC", utc(2026, 10, 25, 1, 0)) == "2026-10-25 01:00");
}

TEST_CASE("calendar: a wall time the clocks skip is refused, saying why") {
  std::string why;
  CHECK_FALSE(parse_local_time("2026-03-29 02:30", "Europe/Berlin", &why));
  CHECK(why == "the clocks in Europe/Berlin skip it (at 02:00 they go on to 03:00)");
  CHECK_FALSE(parse_local_time("2026-03-29 02:00", "Europe/Berlin"));
  CHECK_FALSE(parse_local_time("2026-03-08 02:15", "America/New_York"));
  // Either side of the gap.
  CHECK(parse_local_time("2026-03-29 01:59", "Europe/Berlin") == utc(2026, 3, 29, 0, 59));
  CHECK(parse_local_time("2026-03-29 03:00", "Europe/Berlin") == utc(2026, 3, 29, 1, 0));
  // A malformed time is not given a reason about clocks.
  why.clear();
  CHECK_FALSE(parse_local_time("2026-03-29 25:00", "Europe/Berlin", &why));
  CHECK(why.empty());
}

TEST_CASE("calendar: a wall time the clocks show twice is the first of the two") {
  // 02:30 in Berlin on 2026-10-25 is 00:30 UTC (summer time) and 01:30 UTC.
  CHECK(parse_local_time("2026-10-25 02:30", "Europe/Berlin") == utc(2026, 10, 25, 0, 30));
  CHECK(parse_local_time("2026-10-25 03:00", "Europe/Berlin") == utc(2026, 10, 25, 2, 0));
  CHECK(parse_local_time("2026-10-25 01:59", "Europe/Berlin") == utc(2026, 10, 24, 23, 59));
  CHECK(parse_local_time("2026-11-01 01:30", "America/New_York") == utc(2026, 11, 1, 5, 30));
  // Summer and winter dates each on their own offset.
  CHECK(parse_local_time("2026-07-01 12:00", "Europe/Berlin") == utc(2026, 7, 1, 10, 0));
  CHECK(parse_local_time("2026-12-01", "Europe/Berlin") == utc(2026, 11, 30, 23, 0));
  CHECK(parse_local_time("2026-10-01 00:00", "Asia/Shanghai") == utc(2026, 9, 30, 16, 0));
}

TEST_CASE("calendar: the configuration refuses a campaign time the clocks skip") {
  std::string error;
  CHECK_FALSE(parse_config(
      "campaign:\n  time_zone: Europe/Berlin\n  start: 2026-03-29 02:30\n", "t.yaml", &error));
  CHECK(error ==
        "t.yaml:3: start (2026-03-29 02:30) is no time: the clocks in Europe/Berlin skip it "
        "(at 02:00 they go on to 03:00)");
}

TEST_CASE("calendar: the month of an instant is the month on its own day's clocks") {
  // 2026-12-01 04:30 UTC is 23:30 on 30 November in New York (winter time,
  // -05:00); with October's -04:00 it would be December.
  CHECK(local_month("America/New_York", utc(2026, 12, 1, 4, 30)) == "2026-11");
  CHECK(local_month("America/New_York", utc(2026, 10, 1, 3, 30)) == "2026-09");
  CHECK(local_month("Asia/Shanghai", utc(2026, 9, 30, 16, 0)) == "2026-10");
}

TEST_CASE("calendar: a zone's offsets over a span, one per change") {
  const auto berlin = zone_offsets("Europe/Berlin", utc(2026, 1, 1, 0), utc(2026, 12, 31, 0));
  REQUIRE(berlin.size() == 3);
  CHECK(berlin[0].from == utc(2026, 1, 1, 0));
  CHECK(berlin[0].offset == 1h);
  CHECK(berlin[1].from == utc(2026, 3, 29, 1));
  CHECK(berlin[1].offset == 2h);
  CHECK(berlin[2].from == utc(2026, 10, 25, 1));
  CHECK(berlin[2].offset == 1h);
  const auto shanghai = zone_offsets("Asia/Shanghai", utc(2026, 1, 1, 0), utc(2027, 1, 1, 0));
  REQUIRE(shanghai.size() == 1);
  CHECK(shanghai[0].offset == 8h);
  CHECK(zone_offsets("Mars/Olympus", utc(2026, 1, 1, 0), utc(2027, 1, 1, 0)).empty());
  CHECK(zone_offsets("UTC", utc(2027, 1, 1, 0), utc(2026, 1, 1, 0)).empty());
}

TEST_CASE("calendar: members read times on the clocks of the day concerned") {
  // The campaign starts in Berlin's summer time; an expiry in November is
  // shown in winter time.
  test::TempDir dir;
  auto db = test::open_campaign_db(dir.file("c.db"));
  const Config config = config_in("Europe/Berlin");
  Service service(*db, config, nullptr);
  CHECK(service.local_time(config.campaign.start) == "2026-10-01 00:00");
  CHECK(service.local_time(utc(2026, 11, 19, 11, 0)) == "2026-11-19 12:00");
  CHECK(service.local_time(std::string("2026-11-19T11:00:00Z")) == "2026-11-19 12:00");
  CHECK(service.local_time(std::string("not a time")) == "not a time");
}

TEST_CASE("calendar: report days are cut at local midnight on both sides of a change") {
  test::TempDir dir;
  auto db = test::open_campaign_db(dir.file("r.db"));
  const Config config = config_in("Europe/Berlin");
  Importer importer(*db, config, {"import", "t"});
  REQUIRE(importer.members("msisdn,city,points\n13800138000,beijing,20000\n", "m.csv").status ==
          ImportResult::Status::ok);
  REQUIRE(importer.merchants("id,name,city,kind,level,phones\nbj-1,K,beijing,ktv,high,13911111111\n",
                             "s.csv")
              .status == ImportResult::Status::ok);
  Vouchers v(*db, config.campaign);
  REQUIRE(v.set_stock("C", "beijing", 10, {"giftctl", "t"}));
  const std::string member = "8613800138000";
  // 00:30 on the 25th in summer time, 23:30 on the 25th in winter time:
  // the same day. 00:30 on the 26th in winter time: the next.
  const auto early = v.redeem(member, "C", "r1", {"sms", "1"}, utc(2026, 10, 24, 22, 30));
  const auto late = v.redeem(member, "C", "r2", {"sms", "2"}, utc(2026, 10, 25, 22, 30));
  v.redeem(member, "C", "r3", {"sms", "3"}, utc(2026, 10, 25, 23, 30));
  REQUIRE(early.code.size() > 0);
  REQUIRE(late.code.size() > 0);
  // Used at 23:45 on the 25th (winter time).
  REQUIRE(v.verify("8613911111111", late.code, {"sms", "4"}, utc(2026, 10, 25, 22, 45)).status ==
          Verification::Status::used);

  std::string error;
  const auto days = campaign_report(*db, "day", config.time_zone, &error);
  REQUIRE(days);
  REQUIRE(days->rows.size() == 2);
  CHECK(days->rows[0][0] == "2026-10-25");
  CHECK(days->rows[0][1] == "2");  // issued
  CHECK(days->rows[0][2] == "1");  // used
  CHECK(days->rows[1][0] == "2026-10-26");
  CHECK(days->rows[1][1] == "1");
  CHECK(days->rows[1][2] == "0");
}
