#include "daemon/campaign/reports.hpp"

#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"

namespace giftgate {

std::optional<Table> query_table(db::Database& db, std::string* error, std::string_view sql,
                                 std::vector<std::string> columns,
                                 const std::vector<std::string>& params) {
  Table t;
  for (auto& c : columns) {
    const bool number = !c.empty() && c[0] == '#';
    t.add_column(number ? c.substr(1) : c, number);
  }
  auto q = db.prepare(sql);
  for (std::size_t i = 0; i < params.size(); ++i) q.bind(static_cast<int>(i + 1), params[i]);
  const auto s = q.each_row([&] {
    std::vector<std::string> row;
    for (std::size_t i = 0; i < t.columns.size(); ++i)
      row.push_back(q.column_null(static_cast<int>(i)) ? "" : q.column_text(static_cast<int>(i)));
    t.rows.push_back(std::move(row));
  });
  if (!s.ok()) {
    *error = s.message.empty() ? "the database failed" : s.message;
    return std::nullopt;
  }
  return t;
}

namespace {


// Who made a change, as the histories show it: the actor, and for a change
// made with giftctl the account that really ran it, "alice (uid 1000 bob)".
constexpr std::string_view kBy =
    "actor || COALESCE(' (uid ' || real_uid || COALESCE(' ' || real_user, '') || ')', '')";

constexpr std::string_view kFigures =
    "COUNT(*), SUM(state = 'used'), SUM(state = 'void'), "
    "SUM(state = 'issued' AND expires_at <= ?), "  // now, as the caller's clock says
    "SUM(CASE WHEN state <> 'void' THEN price ELSE 0 END), "
    "SUM(CASE WHEN state <> 'void' THEN face_value ELSE 0 END), "
    "SUM(CASE WHEN state = 'used' THEN face_value ELSE 0 END)";

const std::vector<std::string> kFigureColumns = {"#issued", "#used", "#voided", "#expired", "#points_spent",
                                                 "#value_issued", "#value_used"};

std::vector<std::string> with_key(std::string key) {
  std::vector<std::string> columns{std::move(key)};
  columns.insert(columns.end(), kFigureColumns.begin(), kFigureColumns.end());
  return columns;
}

// The zone's offsets between the oldest and newest times the vouchers
// hold (issue and use), for local_day_sql; nullopt, with *error, when the
// database failed.
std::optional<std::vector<ZoneOffset>> stored_offsets(db::Database& db,
                                                      const std::string& time_zone,
                                                      std::string* error) {
  auto range = db.prepare(
      "SELECT MIN(issued_at), MAX(issued_at), MIN(used_at), MAX(used_at) FROM vouchers");
  std::optional<Time> first, last;
  const auto step = range.step();
  if (step == db::StepResult::error) {
    *error = range.status().message.empty() ? "the database failed" : range.status().message;
    return std::nullopt;
  }
  if (step == db::StepResult::row)
    for (int i = 0; i < 4; ++i) {
      if (range.column_null(i)) continue;
      const auto t = parse_iso_time(range.column_text(i));
      if (!t) continue;
      if (!first || *t < *first) first = *t;
      if (!last || *t > *last) last = *t;
    }
  return first ? zone_offsets(time_zone, *first, *last) : std::vector<ZoneOffset>{};
}

// SQL for the day on the zone's clocks of the stored time in `column`:
// SQLite's date() shifted by the offset in force at that time, so a day is
// cut at local midnight on both sides of a change of the clocks.
std::string local_day_sql(const std::vector<ZoneOffset>& offsets, std::string_view column) {
  if (offsets.empty()) return fmt::format("date({})", column);
  if (offsets.size() == 1)
    return fmt::format("date({}, '{:+} seconds')", column, offsets.front().offset.count());
  // Newest change first: the first WHEN a time reaches is its offset's.
  std::string sql = fmt::format("date({}, CASE", column);
  for (auto it = offsets.rbegin(); it + 1 != offsets.rend(); ++it)
    sql += fmt::format(" WHEN {} >= '{}' THEN '{:+} seconds'", column, iso_time(it->from),
                       it->offset.count());
  return sql + fmt::format(" ELSE '{:+} seconds' END)", offsets.front().offset.count());
}

}  // namespace

std::optional<Table> campaign_report(db::Database& db, std::string_view by,
                                     const std::string& time_zone, std::string* error,
                                     std::optional<std::chrono::sys_seconds> now) {
  error->clear();
  // The dashboard counts as at its request's time, giftctl as at the clock's.
  const std::string at = iso_time(
      now.value_or(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())));
  if (by == "tier" || by == "city")
    return query_table(db, error,
                 fmt::format("SELECT {0}, {1} FROM vouchers GROUP BY {0} ORDER BY {0}", by,
                             kFigures),
                 with_key(std::string(by)), {at});
  if (by == "merchant")
    return query_table(db, error,
                 "SELECT used_by, 0, COUNT(*), 0, 0, 0, 0, SUM(face_value) FROM vouchers "
                 "WHERE state = 'used' GROUP BY used_by ORDER BY used_by",
                 with_key("merchant"));
  if (by != "day") return std::nullopt;
  // Issue and use fall on different days: two groupings merged by day.
  const auto offsets = stored_offsets(db, time_zone, error);
  if (!offsets) return std::nullopt;
  auto issued = query_table(db, error,
                       fmt::format("SELECT {0}, {1} FROM vouchers GROUP BY 1 ORDER BY 1",
                                   local_day_sql(*offsets, "issued_at"), kFigures),
                       with_key("day"), {at});
  const auto used = query_table(db, error,
                     fmt::format("SELECT {0}, COUNT(*), SUM(face_value) FROM vouchers "
                                 "WHERE state = 'used' GROUP BY 1",
                                 local_day_sql(*offsets, "used_at")),
                     {"day", "#used", "#value_used"});
  if (!issued || !used) return std::nullopt;
  std::map<std::string, std::vector<std::string>> days;
  for (auto& row : issued->rows) {
    row[2] = "0";  // used, and value used: counted on the day of use below
    row[7] = "0";
    days[row[0]] = row;
  }
  for (const auto& row : used->rows) {
    auto& day = days[row[0]];
    if (day.empty()) day = {row[0], "0", "0", "0", "0", "0", "0", "0"};
    day[2] = row[1];
    day[7] = row[2];
  }
  issued->rows.clear();
  for (auto& [day, row] : days) issued->rows.push_back(std::move(row));
  return issued;
}

std::optional<Table> redemptions_since(db::Database& db, const std::string& since,
                                       std::string* error) {
  return query_table(db, error,
               "SELECT m.msisdn, v.code, v.tier, v.price, v.face_value, v.city, v.channel, "
               "v.issued_at, v.state, v.used_at, v.used_by FROM vouchers v JOIN members m ON "
               "m.id = v.member_id WHERE v.issued_at >= ? ORDER BY v.issued_at, v.code",
               {"msisdn", "code", "tier", "#points", "#value", "city", "channel", "issued_at",
                "state", "used_at", "merchant"},
               {since});
}

std::optional<Table> member_ledger(db::Database& db, std::int64_t member_id, std::string* error) {
  auto t = query_table(db, error,
                  fmt::format("SELECT created_at, delta, '', reason, channel, {} FROM ledger "
                              "WHERE member_id = ? ORDER BY id",
                              kBy),
                  {"at", "#points", "#balance", "reason", "channel", "by"},
                  {std::to_string(member_id)});
  // The running balance is summed here, checked: entries written before the
  // bounds may overflow it, and SQLite's window sum would then end the
  // listing at that row. Every entry is shown; past 64 bits the balance is
  // left empty (giftctl member says why above the listing).
  if (!t) return std::nullopt;
  std::int64_t balance = 0;
  bool overflow = false;
  for (auto& row : t->rows) {
    const std::int64_t delta = std::stoll(row[1]);
    overflow = overflow || __builtin_add_overflow(balance, delta, &balance);
    row[2] = overflow ? "" : std::to_string(balance);
  }
  return t;
}

std::optional<Table> member_vouchers(db::Database& db, std::int64_t member_id, std::string* error) {
  return query_table(db, error,
               "SELECT code, tier, face_value, state, issued_at, expires_at, used_at, used_by, "
               "channel FROM vouchers WHERE member_id = ? ORDER BY issued_at, code",
               {"code", "tier", "#value", "state", "issued_at", "expires_at", "used_at",
                "merchant", "channel"},
               {std::to_string(member_id)});
}

std::optional<Table> member_offers(db::Database& db, std::int64_t member_id, std::string* error) {
  return query_table(db, error,
               "SELECT created_at, tier, state, expires_at FROM offers WHERE member_id = ? "
               "ORDER BY id",
               {"at", "tier", "state", "confirm_by"}, {std::to_string(member_id)});
}

std::optional<Table> member_events(db::Database& db, std::int64_t member_id, std::string* error) {
  return query_table(db, error,
               fmt::format("SELECT at, kind, channel, {}, COALESCE(voucher_code, ''), detail "
                           "FROM events WHERE member_id = ? ORDER BY id",
                           kBy),
               {"at", "event", "channel", "by", "voucher", "detail"},
               {std::to_string(member_id)});
}

std::optional<Table> member_texts(db::Database& db, const std::string& msisdn, std::string* error) {
  return query_table(db, error,
               "SELECT received_at, channel, command, body, id FROM inbox WHERE msisdn = ? "
               "ORDER BY id",
               {"at", "channel", "read as", "text", "#mo"}, {msisdn});
}

std::optional<Table> member_messages(db::Database& db, const std::string& msisdn,
                                     std::string* error) {
  return query_table(db, error,
               "SELECT created_at, message, state, attempts, COALESCE(final_at, ''), "
               "COALESCE(last_error, ''), COALESCE(CAST(inbox_id AS TEXT), ''), id FROM messages "
               "WHERE msisdn = ? ORDER BY id",
               {"at", "message", "state", "#attempts", "final_at", "last_error", "#answers mo",
                "#id"},
               {msisdn});
}

std::optional<Table> member_parts(db::Database& db, const std::string& msisdn, std::string* error) {
  return query_table(db, error,
               "SELECT COALESCE(p.submitted_at, ''), p.outbox_id, p.attempt, p.part || '/' || "
               "p.total, CASE WHEN p.status IS NULL THEN 'in flight' WHEN p.status = -1 THEN "
               "'no answer' WHEN p.status = -2 THEN 'not sent' WHEN p.status = 0 THEN 'accepted' ELSE printf('refused 0x%08X', "
               "p.status) END, COALESCE(p.receipt, ''), COALESCE(p.receipt_at, ''), "
               "COALESCE(p.detail, '') FROM outbox_parts p JOIN outbox o ON o.id = p.outbox_id "
               "WHERE o.msisdn = ? ORDER BY p.outbox_id, p.attempt, p.part",
               {"at", "#id", "#attempt", "part", "smsc answer", "receipt", "receipt_at",
                "detail"},
               {msisdn});
}

std::optional<Table> member_ussd(db::Database& db, const std::string& msisdn, std::string* error) {
  return query_table(db, error,
               "SELECT started_at, COALESCE(ended_at, ''), state, COALESCE(tier, ''), "
               "COALESCE(end_reason, 'open'), language, id FROM ussd_sessions WHERE msisdn = ? "
               "ORDER BY id",
               {"at", "ended_at", "last screen", "tier", "ended", "language", "#session"},
               {msisdn});
}

std::optional<Table> member_pushes(db::Database& db, std::int64_t member_id, std::string* error) {
  // push_recipients is keyed by push first: the few pushes drive the loop
  // (CROSS JOIN keeps that order), each a key look-up, never a scan of
  // every recipient of every push. The message's state from either table
  // by its key (the view would be read whole).
  return query_table(db, error,
               "SELECT COALESCE(datetime(r.at, 'unixepoch'), ''), p.name, p.template, r.state, "
               "COALESCE((SELECT state FROM outbox WHERE id = r.outbox_id), (SELECT state FROM "
               "message_history WHERE id = r.outbox_id), ''), "
               "COALESCE(CAST(r.outbox_id AS TEXT), '') "
               "FROM pushes p CROSS JOIN push_recipients r "
               "WHERE r.push_id = p.id AND r.member_id = ? ORDER BY p.id",
               {"at", "push", "template", "recipient", "message state", "#message"},
               {std::to_string(member_id)});
}

std::optional<Table> merchant_facts(db::Database& db, const std::string& id, std::string* error) {
  return query_table(db, error, "SELECT id, name, city, kind, level FROM merchants WHERE id = ?",
               {"id", "name", "city", "kind", "level"}, {id});
}

std::optional<Table> message_report(db::Database& db, std::string* error) {
  return query_table(db, error,
               "SELECT message, COUNT(*), SUM(state = 'queued'), SUM(state = 'submitted'), "
               "SUM(state = 'delivered'), SUM(state = 'failed'), SUM(state = 'expired'), "
               "SUM(attempts > 1) FROM messages GROUP BY message ORDER BY message",
               {"message", "#total", "#queued", "#submitted", "#delivered", "#failed", "#expired",
                "#resent"});
}

std::optional<Table> voucher_facts(db::Database& db, const std::string& code, std::string* error) {
  return query_table(db, error,
               "SELECT v.code, m.msisdn, v.tier, v.face_value, v.price, v.city, v.state, "
               "v.channel, v.issued_at, v.expires_at, v.used_at, v.used_by "
               "FROM vouchers v JOIN members m ON m.id = v.member_id WHERE v.code = ?",
               {"code", "member", "tier", "#value", "#points", "city", "state", "channel",
                "issued_at", "expires_at", "used_at", "merchant"},
               {code});
}

std::optional<Table> voucher_events(db::Database& db, const std::string& code, std::string* error) {
  return query_table(db, error,
               fmt::format("SELECT at, kind, channel, {}, detail FROM events WHERE "
                           "voucher_code = ? UNION ALL SELECT created_at, 'sms ' || state, 'sms', "
                           "'outbox ' || id, 'attempts ' || attempts || COALESCE(', ' || "
                           "last_error, '') FROM messages WHERE voucher_code = ? ORDER BY 1",
                           kBy),
               {"at", "event", "channel", "by", "detail"}, {code, code});
}

}  // namespace giftgate
