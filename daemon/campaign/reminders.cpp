#include "daemon/campaign/reminders.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/campaign/calendar.hpp"
#include "daemon/campaign/outbox.hpp"

namespace giftgate {
namespace {

// One due voucher and the member it belongs to.
struct Due {
  std::string code, tier, face_value, expires_at;
  std::int64_t member_id = 0;
  std::string msisdn, language;
  bool opted_out = false;
};

// The whole days from `now` to `expires` (after now), a part of a day
// counted as one: a voucher that lapses in 30 hours has 2 days left.
std::int64_t days_left(Time now, Time expires) {
  constexpr std::int64_t kDay = 24 * 60 * 60;
  const std::int64_t seconds = (expires - now).count();
  return (seconds + kDay - 1) / kDay;
}

}  // namespace

Reminders::Reminders(db::Database& db, const CampaignConfig& config,
                     std::shared_ptr<const Templates> templates)
    : db_(db), config_(config), templates_(std::move(templates)) {}

Reminders::Step Reminders::step(Time now, std::size_t limit) {
  Step out;
  const ReminderSettings& settings = config_.reminders;
  if (!settings.enabled || limit == 0 ||
      !settings.hours.contains(local_minute_of_day(config_.time_zone, now)))
    return out;
  const auto fail = [&](db::Status s) {
    out = Step{};
    out.status = std::move(s);
    return out;
  };

  db::Transaction tx(db_);
  if (!tx.begun()) return fail(tx.begun());

  // One more row than the limit says whether more are due.
  auto due = db_.prepare(kDueSql);
  due.bind(1, iso_time(now))
      .bind(2, iso_time(now + std::chrono::days(settings.days_before)))
      .bind(3, static_cast<std::int64_t>(limit) + 1);
  // Read first, written after: SQLite leaves a scan undefined when the rows
  // under it change on the same connection.
  std::vector<Due> rows;
  const auto read = due.each_row([&] {
    rows.push_back({due.column_text(0), due.column_text(1), due.column_text(2),
                    due.column_text(3), due.column_int(4), due.column_text(5),
                    due.column_text(6), due.column_int(7) != 0});
  });
  if (!read.ok()) return fail(read);
  if (rows.size() > limit) {
    out.more = true;
    rows.pop_back();
  }

  auto mark = db_.prepare(
      "UPDATE vouchers SET reminded_at = ? WHERE code = ? AND state = 'issued' AND reminded_at IS "
      "NULL");
  // As Service::queue puts a reply, without its MO and at bulk priority;
  // fair_at is now: among bulk messages, in the order they were queued.
  auto insert = db_.prepare(
      "INSERT INTO outbox(msisdn, member_id, message, language, body, voucher_code, "
      "next_attempt_at, created_at, channel, priority, fair_at) VALUES (?, ?, 'voucher_reminder', "
      "?, ?, ?, ?, ?, 'sms', ?, ?)");
  const std::string at = iso_time(now);
  for (const Due& d : rows) {
    mark.reset();
    if (const auto s = mark.bind(1, at).bind(2, d.code).run(); !s.ok()) return fail(s);
    // Marked all the same when opted out, so the next step does not look
    // at it again (and an opt-in later does not bring the reminder back).
    if (settings.respect_opt_out && d.opted_out) {
      ++out.skipped;
      continue;
    }
    const auto expires = parse_iso_time(d.expires_at);
    if (!expires) return fail({1, "voucher " + d.code + " has an unreadable expiry"});
    const std::string body = templates_->render(
        "voucher_reminder", d.language,
        {{"code", d.code},
         {"tier", d.tier},
         {"value", d.face_value},
         {"expires", format_local_time(config_.time_zone, *expires)},
         {"days", std::to_string(days_left(now, *expires))}});
    insert.reset();
    const auto s = insert.bind(1, d.msisdn)
                       .bind(2, d.member_id)
                       .bind(3, d.language)
                       .bind(4, body)
                       .bind(5, d.code)
                       .bind(6, at)
                       .bind(7, at)
                       .bind(8, kPriorityBulk)
                       .bind(9, at)
                       .run();
    if (!s.ok()) return fail(s);
    ++out.queued;
  }
  if (const auto c = tx.commit(); !c.ok()) return fail(c);
  return out;
}

db::Status withdraw_reminder(db::Database& db, const std::string& code, Time now) {
  return db.prepare(
               "UPDATE outbox SET state = 'expired', final_at = ?, "
               "last_error = 'the voucher was used or voided' "
               "WHERE voucher_code = ? AND message = 'voucher_reminder' AND state = 'queued'")
      .bind(1, iso_time(now))
      .bind(2, code)
      .run();
}

}  // namespace giftgate
