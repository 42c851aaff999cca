// A small campaign whose dashboard figures are known by hand: vouchers on
// both sides of midnight in Asia/Shanghai, stock, messages, two pushes with
// holdouts, wrong codes and lock-outs. Merchant names carry HTML and
// spreadsheet formulas, as an import could.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate::test {

// The dashboard is looked at on 2026-11-20 at 00:00 UTC (08:00 in Shanghai).
inline Time dashboard_now() {
  return Time{std::chrono::sys_days{std::chrono::year{2026} / 11 / 20}};
}

inline Time utc(const char* iso) {
  const auto t = parse_iso_time(iso);
  REQUIRE_MESSAGE(t, iso);
  return *t;
}

inline void seed_sql(db::Database& db, const std::string& sql) {
  const auto s = db.exec(sql);
  REQUIRE_MESSAGE(s.ok(), s.message, " in ", sql);
}

// The seeded rows; the counts each figure must show are in test_dashboard.cpp.
inline void seed_dashboard(db::Database& db, const CampaignConfig& config) {
  seed_sql(db, R"sql(
INSERT INTO members(id, msisdn, city) VALUES
  (1, '8613800000001', 'beijing'), (2, '8613800000002', 'shanghai'),
  (3, '8613800000003', 'guangzhou'), (4, '8613800000004', 'guangzhou'),
  (5, '8613800000005', 'guangzhou'), (6, '8613800000006', 'guangzhou');
INSERT INTO merchants(id, name, city, kind, level) VALUES
  ('bj-1', 'Star <b>KTV</b>', 'beijing', 'ktv', 'high'),
  ('bj-10', '-2+3 Cinema', 'beijing', 'cinema', 'low'),
  ('sh-1', '=cmd|'' /C calc''!A0', 'shanghai', 'ktv', 'high'),
  ('gz-1', '@Quiet Cinema', 'guangzhou', 'cinema', 'middle');
INSERT INTO vouchers(code, member_id, tier, city, price, face_value, state, channel, issued_at,
                     expires_at, used_at, used_by) VALUES
  ('V1', 1, 'A', 'beijing', 5000, 100, 'used', 'sms', '2026-11-10T15:59:59Z',
   '2026-12-10T00:00:00Z', '2026-11-10T16:00:00Z', 'bj-1'),
  ('V2', 1, 'A', 'beijing', 5000, 100, 'issued', 'sms', '2026-11-10T16:00:00Z',
   '2026-12-10T00:00:00Z', NULL, NULL),
  ('V3', 2, 'B', 'shanghai', 2500, 50, 'void', 'sms', '2026-11-10T15:00:00Z',
   '2026-12-10T00:00:00Z', NULL, NULL),
  ('V4', 2, 'C', 'shanghai', 1000, 20, 'issued', 'ussd', '2026-11-09T01:00:00Z',
   '2026-11-15T00:00:00Z', NULL, NULL),
  ('V5', 2, 'A', 'shanghai', 5000, 100, 'used', 'sms', '2026-11-12T02:00:00Z',
   '2026-12-12T00:00:00Z', '2026-11-12T03:00:00Z', 'sh-1'),
  ('V6', 1, 'B', 'beijing', 2500, 50, 'issued', 'sms', '2026-11-15T04:00:00Z',
   '2026-12-15T00:00:00Z', NULL, NULL),
  ('V7', 2, 'A', 'shanghai', 5000, 100, 'used', 'sms', '2026-11-12T05:00:00Z',
   '2026-12-12T00:00:00Z', '2026-11-12T06:00:00Z', 'sh-1');
INSERT INTO stock(tier, city, quantity) VALUES
  ('A', 'beijing', 5), ('B', 'beijing', 0), ('A', 'shanghai', 3), ('C', 'shanghai', 7),
  ('Z', 'shanghai', 1);
INSERT INTO outbox(msisdn, message, language, body, state, attempts, next_attempt_at, created_at)
  VALUES
  ('8613800000001', 'voucher_issued', 'zh', 'x', 'delivered', 1, '2026-11-10T16:00:00Z', '2026-11-10T16:00:00Z'),
  ('8613800000001', 'voucher_issued', 'zh', 'x', 'delivered', 2, '2026-11-10T16:00:00Z', '2026-11-10T16:00:00Z'),
  ('8613800000002', 'voucher_issued', 'zh', 'x', 'failed', 3, '2026-11-10T16:00:00Z', '2026-11-10T16:00:00Z'),
  ('8613800000002', 'help', 'zh', 'x', 'queued', 0, '2026-11-10T16:00:00Z', '2026-11-10T16:00:00Z');
INSERT INTO message_history(id, msisdn, message, language, channel, state, attempts, created_at,
                            final_at)
  VALUES (100, '8613800000002', 'voucher_issued', 'zh', 'sms', 'expired', 1,
          '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z');
INSERT INTO pushes(id, name, template, audience, state, start_at, holdout_pct, targeted, held_out,
                   created_at, created_by)
  VALUES (1, 'nov-push', 'push_tips', 'all', 'done', '2026-11-10T00:00:00Z', 50, 4, 2,
          '2026-11-09T00:00:00Z', 'tester'),
         (2, 'dec-push', 'push_tips', 'all', 'done', '2026-11-11T00:00:00Z', 50, 2, 1,
          '2026-11-09T00:00:00Z', 'tester');
INSERT INTO push_counts(push_id, what, n) VALUES
  (1, 'sent', 2), (1, 'delivered', 1), (1, 'failed', 1), (2, 'sent', 1), (2, 'delivered', 1);
)sql");
  // The turns: nov-push at 2026-11-10 00:00 UTC, dec-push a day later.
  const auto turn1 = utc("2026-11-10T00:00:00Z").time_since_epoch().count();
  const auto turn2 = utc("2026-11-11T00:00:00Z").time_since_epoch().count();
  seed_sql(db, fmt::format("INSERT INTO push_recipients(push_id, member_id, state, at) VALUES "
                           "(1, 1, 'queued', {0}), (1, 5, 'queued', {0}), (1, 4, 'holdout', {0}), "
                           "(1, 6, 'holdout', {0}), (2, 6, 'queued', {1}), (2, 2, 'holdout', {1})",
                           turn1, turn2));

  // Wrong codes through the real guard, so the lock-outs are recorded as
  // the daemon records them: bj-1 locked twice (the second still in force),
  // bj-10 once (its id starts like bj-1's), sh-1 one wrong code.
  Vouchers vouchers(db, config.campaign);
  const Actor till{"api", "till"};
  const Time now = dashboard_now();
  auto wrong = [&](const char* merchant, Time at, int times) {
    for (int i = 1; i <= times; ++i)
      vouchers.verify_at(merchant, "api:till", "AB12", till, at + std::chrono::seconds(i));
  };
  wrong("bj-1", now - std::chrono::hours(2), 5);
  wrong("bj-10", now - std::chrono::hours(2), 5);
  wrong("bj-1", now - std::chrono::minutes(10), 5);
  wrong("sh-1", now - std::chrono::hours(3), 1);
}

// When bj-1's second lock ends.
inline std::string dashboard_lock_until() {
  return iso_time(dashboard_now() - std::chrono::minutes(10) + std::chrono::seconds(5) +
                  std::chrono::minutes(30));
}

}  // namespace giftgate::test
