#include <doctest/doctest.h>

#include <sqlite3.h>

#include <fmt/format.h>

#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/reminders.hpp"
#include "daemon/campaign/reports.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

// An instant in UTC.
Time utc(int year, unsigned month, unsigned day, int hour, int minute = 0) {
  return std::chrono::sys_days{std::chrono::year{year} / month / day} + std::chrono::hours(hour) +
         std::chrono::minutes(minute);
}

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("r.db"));
  Config config = test::campaign_config();
  Reminders reminders{*db, config, test::shipped_templates()};
  // 12:00 in Asia/Shanghai (the campaign's zone), inside the default
  // reminder hours 10:00-20:00.
  Time now = utc(2026, 11, 10, 4);
  int vouchers = 0;

  Fixture() {
    config.reminders = ReminderSettings{};  // enabled, 3 days, 10:00-20:00, opt-out not respected
    REQUIRE(config.time_zone == "Asia/Shanghai");
  }

  std::int64_t member(const std::string& msisdn, const std::string& language = "zh",
                      bool opted_out = false) {
    auto q = db->prepare(
        "INSERT INTO members(msisdn, city, language, care_opt_out) VALUES (?, 'beijing', ?, ?)");
    REQUIRE(q.bind(1, msisdn).bind(2, language).bind(3, std::int64_t{opted_out}).run().ok());
    return db->last_insert_id();
  }
  // A voucher of tier A (100 yuan) for `member_id` that expires at `expires`.
  std::string voucher(std::int64_t member_id, Time expires, const std::string& state = "issued") {
    const std::string code = fmt::format("KT{:08}", ++vouchers);
    auto q = db->prepare(
        "INSERT INTO vouchers(code, member_id, tier, city, price, face_value, state, channel, "
        "issued_at, expires_at) VALUES (?, ?, 'A', 'beijing', 5000, 100, ?, 'sms', ?, ?)");
    REQUIRE(q.bind(1, code)
                .bind(2, member_id)
                .bind(3, state)
                .bind(4, iso_time(expires - 30 * 24h))
                .bind(5, iso_time(expires))
                .run()
                .ok());
    return code;
  }
  Reminders::Step step(std::size_t limit = 100) {
    const auto s = reminders.step(now, limit);
    INFO(s.status.message);
    REQUIRE(s.status.ok());
    return s;
  }
  // The codes reminded in the outbox, in the order queued.
  std::vector<std::string> reminded() {
    std::vector<std::string> out;
    auto q = db->prepare(
        "SELECT voucher_code FROM outbox WHERE message = 'voucher_reminder' ORDER BY id");
    REQUIRE(q.each_row([&] { out.push_back(q.column_text(0)); }).ok());
    return out;
  }
  std::string reminded_at(const std::string& code) {
    auto q = db->prepare("SELECT COALESCE(reminded_at, '') FROM vouchers WHERE code = ?");
    q.bind(1, code);
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    return q.column_text(0);
  }
  std::int64_t count(const std::string& sql) {
    auto q = db->prepare(sql);
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    return q.column_int(0);
  }
};

using Codes = std::vector<std::string>;

}  // namespace

TEST_CASE("reminders: due within days_before and not yet expired, but not later or expired ones") {
  Fixture f;
  const auto m = f.member("8613800138000");
  const auto in_two_days = f.voucher(m, f.now + 48h);
  const auto at_horizon = f.voucher(m, f.now + 72h);        // exactly days_before away: due
  const auto past_horizon = f.voucher(m, f.now + 72h + 1s);  // a second too early
  const auto expired = f.voucher(m, f.now - 1s);
  const auto expiring_now = f.voucher(m, f.now);  // its last second has passed
  const auto s = f.step();
  CHECK(s.queued == 2);
  CHECK(s.skipped == 0);
  CHECK_FALSE(s.more);
  CHECK(f.reminded() == Codes{in_two_days, at_horizon});
  CHECK(f.reminded_at(in_two_days) == iso_time(f.now));
  CHECK(f.reminded_at(past_horizon).empty());
  CHECK(f.reminded_at(expired).empty());
  CHECK(f.reminded_at(expiring_now).empty());

  // A second later the next one is due.
  f.now += 1s;
  CHECK(f.step().queued == 1);
  CHECK(f.reminded() == Codes{in_two_days, at_horizon, past_horizon});

  // days_before is read at each step (SIGHUP applies it).
  const auto in_six_days = f.voucher(m, f.now + 6 * 24h);
  f.config.reminders.days_before = 5;
  CHECK(f.step().queued == 0);
  f.config.reminders.days_before = 6;
  CHECK(f.step().queued == 1);
  CHECK(f.reminded() == Codes{in_two_days, at_horizon, past_horizon, in_six_days});
}

TEST_CASE("reminders: a used or void voucher is never reminded") {
  Fixture f;
  const auto m = f.member("8613800138000");
  f.voucher(m, f.now + 24h, "used");
  f.voucher(m, f.now + 24h, "void");
  const auto s = f.step();
  CHECK(s.queued == 0);
  CHECK(s.skipped == 0);
  CHECK(f.count("SELECT COUNT(*) FROM outbox") == 0);
}

TEST_CASE("reminders: one per voucher, however often steps run") {
  Fixture f;
  const auto m = f.member("8613800138000");
  const auto code = f.voucher(m, f.now + 24h);
  CHECK(f.step().queued == 1);
  CHECK(f.step().queued == 0);
  f.now += 6h;  // 18:00 local, still inside the hours
  CHECK(f.step().queued == 0);
  CHECK(f.reminded() == Codes{code});
}

TEST_CASE("reminders: only inside reminders.hours, on the campaign zone's clocks") {
  Fixture f;
  const auto m = f.member("8613800138000");
  const auto code = f.voucher(m, utc(2026, 11, 12, 4));

  SUBCASE("10:00-20:00 in Asia/Shanghai is 02:00-12:00 UTC") {
    f.now = utc(2026, 11, 10, 1, 59);  // 09:59 local
    CHECK(f.step().queued == 0);
    f.now = utc(2026, 11, 10, 12, 0);  // 20:00 local: the end is not inside
    CHECK(f.step().queued == 0);
    f.now = utc(2026, 11, 10, 2, 0);  // 10:00 local
    CHECK(f.step().queued == 1);
  }
  SUBCASE("the same hours in UTC") {
    f.config.time_zone = "UTC";
    f.now = utc(2026, 11, 10, 4);  // 12:00 in Shanghai, 04:00 in UTC
    CHECK(f.step().queued == 0);
    f.now = utc(2026, 11, 10, 10);
    CHECK(f.step().queued == 1);
  }
  SUBCASE("across midnight") {
    f.config.reminders.hours = DailyHours{22 * 60, 2 * 60};  // 22:00-02:00 local
    f.now = utc(2026, 11, 10, 4);  // 12:00
    CHECK(f.step().queued == 0);
    f.now = utc(2026, 11, 10, 13, 59);  // 21:59
    CHECK(f.step().queued == 0);
    f.now = utc(2026, 11, 10, 18);  // 02:00 the next day
    CHECK(f.step().queued == 0);
    f.now = utc(2026, 11, 10, 17, 30);  // 01:30 the next day
    CHECK(f.step().queued == 1);
  }
  SUBCASE("equal ends: never") {
    f.config.reminders.hours = DailyHours{12 * 60, 12 * 60};
    for (int hour = 0; hour < 24; ++hour) {
      f.now = utc(2026, 11, 10, hour);
      CHECK(f.step().queued == 0);
    }
  }
  SUBCASE("not enabled: never") {
    f.config.reminders.enabled = false;
    CHECK(f.step().queued == 0);
    f.config.reminders.enabled = true;
    CHECK(f.step().queued == 1);
  }
  CHECK(f.reminded().size() <= 1);
  if (!f.reminded().empty()) CHECK(f.reminded()[0] == code);
}

TEST_CASE("reminders: opted-out members get one unless respect_opt_out, and are marked either way") {
  Fixture f;
  const auto in = f.member("8613800138000");
  const auto out = f.member("8613900000001", "en", true);
  const auto kept = f.voucher(in, f.now + 24h);
  const auto opted = f.voucher(out, f.now + 24h);

  SUBCASE("not respected: it is about their own voucher") {
    const auto s = f.step();
    CHECK(s.queued == 2);
    CHECK(s.skipped == 0);
    CHECK(f.reminded() == Codes{kept, opted});
  }
  SUBCASE("respected") {
    f.config.reminders.respect_opt_out = true;
    const auto s = f.step();
    CHECK(s.queued == 1);
    CHECK(s.skipped == 1);
    CHECK(f.reminded() == Codes{kept});
    CHECK(f.count("SELECT COUNT(*) FROM outbox") == 1);
    // Marked without a message, so it is not looked at again, even if the
    // setting changes back.
    CHECK(f.reminded_at(opted) == iso_time(f.now));
    f.config.reminders.respect_opt_out = false;
    const auto again = f.step();
    CHECK(again.queued == 0);
    CHECK(again.skipped == 0);
  }
}

TEST_CASE("reminders: a step queues at most its limit, soonest expiry first, and says if more") {
  Fixture f;
  const auto m = f.member("8613800138000");
  std::vector<std::string> codes;
  for (int i = 5; i >= 1; --i) codes.push_back(f.voucher(m, f.now + i * 1h));
  const Codes soonest_first(codes.rbegin(), codes.rend());

  auto s = f.step(2);
  CHECK(s.queued == 2);
  CHECK(s.more);
  s = f.step(2);
  CHECK(s.queued == 2);
  CHECK(s.more);
  s = f.step(2);  // the last one
  CHECK(s.queued == 1);
  CHECK_FALSE(s.more);
  CHECK(f.reminded() == soonest_first);

  // Exactly the limit left: no more.
  f.voucher(m, f.now + 10h);
  f.voucher(m, f.now + 11h);
  s = f.step(2);
  CHECK(s.queued == 2);
  CHECK_FALSE(s.more);
  // A skipped voucher counts against the limit too (it was looked at).
  f.config.reminders.respect_opt_out = true;
  const auto out = f.member("8613900000001", "en", true);
  f.voucher(out, f.now + 12h);
  f.voucher(m, f.now + 13h);
  s = f.step(1);
  CHECK(s.queued == 0);
  CHECK(s.skipped == 1);
  CHECK(s.more);
  CHECK(f.step(0).queued == 0);  // no room: nothing looked at
  s = f.step(1);
  CHECK(s.queued == 1);
  CHECK_FALSE(s.more);
}

TEST_CASE("reminders: the message, its text in the member's language and the campaign's time") {
  Fixture f;
  const auto zh = f.member("8613800138000");
  const auto en = f.member("8613900000001", "en");
  // 2 days and 8 hours away: 3 days left, rounded up; 20:00 in Shanghai.
  const auto code_zh = f.voucher(zh, utc(2026, 11, 12, 12));
  // Exactly 2 days away.
  const auto code_en = f.voucher(en, f.now + 48h);
  REQUIRE(f.step().queued == 2);

  auto q = f.db->prepare(
      "SELECT msisdn, member_id, message, language, body, voucher_code, priority, channel, state, "
      "inbox_id IS NULL, push_id IS NULL, next_attempt_at, fair_at FROM outbox ORDER BY id");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "8613900000001");  // 2 days: the sooner first
  CHECK(q.column_int(1) == en);
  CHECK(q.column_text(2) == "voucher_reminder");
  CHECK(q.column_text(3) == "en");
  CHECK(q.column_text(4) == fmt::format("Reminder: your 100 yuan voucher {} (tier A) expires "
                                        "2026-11-12 12:00, in 2 days. Use it at a partner venue "
                                        "soon.",
                                        code_en));
  CHECK(q.column_text(5) == code_en);
  CHECK(q.column_int(6) == kPriorityBulk);
  CHECK(q.column_text(7) == "sms");
  CHECK(q.column_text(8) == "queued");
  CHECK(q.column_int(9) == 1);
  CHECK(q.column_int(10) == 1);
  CHECK(q.column_text(11) == iso_time(f.now));
  CHECK(q.column_text(12) == iso_time(f.now));
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "8613800138000");
  CHECK(q.column_int(1) == zh);
  CHECK(q.column_text(3) == "zh");
  CHECK(q.column_text(4) ==
        fmt::format("提醒：您的100元A档电子券{}将于2026-11-12 20:00到期（还有3天），请尽快到合作"
                    "商户使用。",
                    code_zh));

  // giftctl voucher shows it in the voucher's timeline.
  std::string error;
  const auto timeline = voucher_events(*f.db, code_zh, &error);
  REQUIRE_MESSAGE(timeline, error);
  REQUIRE(timeline->rows.size() == 1);
  CHECK(timeline->rows[0][1] == "sms queued");
  // As a reply, no event.
  CHECK(f.count("SELECT COUNT(*) FROM events") == 0);
}

TEST_CASE("reminders: the due vouchers are searched through vouchers_to_remind, without a sort") {
  Fixture f;
  std::string steps;
  {
    auto plan = f.db->prepare(std::string("EXPLAIN QUERY PLAN ") + std::string(Reminders::kDueSql));
    while (plan.step() == giftgate::db::StepResult::row) steps += plan.column_text(3) + "\n";
  }
  INFO(steps);
  // A range of the index, not a scan of it; members by their key.
  CHECK(steps.find("SEARCH v USING INDEX vouchers_to_remind (expires_at>? AND expires_at<?)") !=
        std::string::npos);
  CHECK(steps.find("SCAN") == std::string::npos);
  // Vouchers that share one expiry (campaign.vouchers_expire_at) are not
  // all sorted before the first is taken.
  CHECK(steps.find("TEMP B-TREE") == std::string::npos);

  // Without the index the statement does not prepare (INDEXED BY): it
  // never falls back to scanning every voucher there is.
  const auto m = f.member("8613800138000");
  f.voucher(m, f.now + 24h);
  REQUIRE(f.db->exec("DROP INDEX vouchers_to_remind").ok());
  CHECK_THROWS(f.reminders.step(f.now, 10));
}

TEST_CASE("reminders: a step that fails anywhere commits nothing") {
  // Fails the n-th statement of the step for n = 0, 1, 2 ... until a step
  // gets through: each failure is reported, leaves no message and no mark.
  Fixture f;
  const auto m = f.member("8613800138000");
  const auto first = f.voucher(m, f.now + 24h);
  const auto opted = f.voucher(f.member("8613900000001", "en", true), f.now + 25h);
  f.config.reminders.respect_opt_out = true;
  int n = 0;
  for (; n < 50; ++n) {
    CAPTURE(n);
    f.db->fail_statement_after(n, SQLITE_IOERR);
    const auto s = f.reminders.step(f.now, 10);
    const bool failed = f.db->statement_failure_spent();
    f.db->fail_statement_after(-1, 0);
    if (!failed) {
      REQUIRE(s.status.ok());
      CHECK(s.queued == 1);
      CHECK(s.skipped == 1);
      break;
    }
    CHECK_FALSE(s.status.ok());
    CHECK(s.queued == 0);
    CHECK(s.skipped == 0);
    CHECK(f.count("SELECT COUNT(*) FROM outbox") == 0);
    CHECK(f.reminded_at(first).empty());
    CHECK(f.reminded_at(opted).empty());
  }
  CHECK(n > 3);  // begin, select, marks, insert, commit: each was failed once
  CHECK(f.reminded() == Codes{first});
}
