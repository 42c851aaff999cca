#include "daemon/campaign/ledger.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace giftgate {

std::optional<std::string> points_out_of_bounds(std::string_view who, std::int64_t balance,
                                                std::int64_t delta, const PointLimits& limits) {
  // A limit below 0 would make its negation overflow; the configuration
  // never gives one, and it allows nothing.
  const std::int64_t max_change = std::max<std::int64_t>(limits.max_change, 0);
  if (delta > max_change || delta < -max_change)
    return fmt::format("{:+} points in one change is more than campaign.max_points_change ({})",
                       delta, max_change);
  // From here |delta| <= max_change, so -delta is defined.
  std::int64_t after = 0;
  const bool overflow = __builtin_add_overflow(balance, delta, &after);
  if (delta > 0 && (overflow || after > limits.max_balance))
    return fmt::format("{} has {} points; adding {} would take the balance past "
                       "campaign.max_balance ({})",
                       who, balance, delta, limits.max_balance);
  if (delta < 0 && (overflow || after < 0))
    return fmt::format("{} has {} points; taking {} would leave a negative balance", who,
                       balance, -delta);
  return std::nullopt;
}

Ledger::Result Ledger::fail(const db::Status& s) {
  last_error_ = s.message;
  return Result::failed;
}

namespace {

// The real account's columns (real_uid, real_user) from `first` on: NULL
// when the change was not made by a tool run by someone.
void bind_real(db::Statement& s, int first, const Actor& actor) {
  if (actor.real) {
    s.bind(first, actor.real->uid);
    s.bind(first + 1, actor.real->name.empty() ? std::nullopt
                                               : std::optional<std::string>(actor.real->name));
  } else {
    s.bind(first, std::nullopt).bind(first + 1, std::nullopt);
  }
}

}  // namespace

EventWriter::EventWriter(db::Database& db, const Actor& actor)
    : insert_(db.prepare("INSERT INTO events(kind, member_id, channel, actor, detail, "
                         "voucher_code, real_uid, real_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")),
      actor_(actor) {}

db::Status EventWriter::add(std::string_view kind, std::optional<std::int64_t> member_id,
                            std::string_view detail,
                            const std::optional<std::string>& voucher_code) {
  insert_.reset();
  insert_.bind(1, kind);
  if (member_id) insert_.bind(2, *member_id);
  else insert_.bind(2, std::nullopt);
  bind_real(insert_, 7, actor_);
  return insert_.bind(3, actor_.channel)
      .bind(4, actor_.who)
      .bind(5, detail)
      .bind(6, voucher_code)
      .run();
}

EntryWriter::EntryWriter(db::Database& db, const Actor& actor)
    : insert_(db.prepare("INSERT INTO ledger(member_id, delta, reason, channel, actor, "
                         "reference, real_uid, real_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")),
      actor_(actor) {}

db::Status EntryWriter::add(std::int64_t member_id, std::int64_t delta, std::string_view reason,
                            const std::optional<std::string>& reference) {
  insert_.reset();
  bind_real(insert_, 7, actor_);
  return insert_.bind(1, member_id)
      .bind(2, delta)
      .bind(3, reason)
      .bind(4, actor_.channel)
      .bind(5, actor_.who)
      .bind(6, reference)
      .run();
}

db::Status record_event(db::Database& db, std::string_view kind,
                        std::optional<std::int64_t> member_id, const Actor& actor,
                        std::string_view detail, const std::optional<std::string>& voucher_code) {
  return EventWriter(db, actor).add(kind, member_id, detail, voucher_code);
}

Ledger::Result Ledger::add_member(const Member& m, std::int64_t opening_balance,
                                  const Actor& actor, const PointLimits& limits,
                                  std::int64_t* id) {
  if (m.msisdn.empty() || m.city.empty() || (m.language != "zh" && m.language != "en"))
    return Result::invalid;
  db::Transaction tx(db_);
  if (!tx.begun()) return fail(tx.begun());
  auto insert = db_.prepare(
      "INSERT INTO members(msisdn, city, language, care_opt_out) VALUES (?, ?, ?, ?)");
  const auto s = insert.bind(1, m.msisdn)
                     .bind(2, m.city)
                     .bind(3, m.language)
                     .bind(4, std::int64_t{m.care_opt_out})
                     .run();
  if (s.constraint()) return Result::exists;
  if (!s.ok()) return fail(s);
  const std::int64_t member_id = db_.last_insert_id();
  if (const auto e = record_event(db_, "member_added", member_id, actor, m.city); !e.ok())
    return fail(e);
  if (opening_balance != 0) {
    if (auto r = add_points(member_id, opening_balance, "opening balance", std::nullopt, actor,
                            limits);
        r != Result::ok)
      return r;
  }
  if (const auto c = tx.commit(); !c.ok()) return fail(c);
  if (id) *id = member_id;
  return Result::ok;
}

std::optional<Member> Ledger::find_member(std::string_view msisdn, db::Status* status) {
  auto q = db_.prepare(
      "SELECT id, msisdn, city, language, care_opt_out FROM members WHERE msisdn = ?");
  q.bind(1, msisdn);
  if (q.step() != db::StepResult::row) {
    *status = q.status();
    return std::nullopt;
  }
  *status = {};
  return Member{q.column_int(0), q.column_text(1), q.column_text(2), q.column_text(3),
                q.column_int(4) != 0};
}

Ledger::Result Ledger::add_points(std::int64_t member_id, std::int64_t delta,
                                  std::string_view reason,
                                  const std::optional<std::string>& reference,
                                  const Actor& actor, const PointLimits& limits) {
  if (delta == 0 || reason.empty()) return Result::invalid;
  auto exists = db_.prepare("SELECT msisdn FROM members WHERE id = ?");
  exists.bind(1, member_id);
  switch (exists.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return Result::unknown_member;
    case db::StepResult::error: return fail(exists.status());
  }
  // An entry already applied is a duplicate whatever the balance is now.
  if (reference) {
    auto used = db_.prepare("SELECT 1 FROM ledger WHERE reference = ?");
    switch (used.bind(1, *reference).step()) {
      case db::StepResult::row: return Result::duplicate;
      case db::StepResult::done: break;
      case db::StepResult::error: return fail(used.status());
    }
  }
  const auto before = balance(member_id);
  if (!before) return Result::failed;
  if (auto why = points_out_of_bounds(exists.column_text(0), *before, delta, limits)) {
    last_error_ = std::move(*why);
    return Result::out_of_bounds;
  }
  const auto s = EntryWriter(db_, actor).add(member_id, delta, reason, reference);
  if (s.constraint() && reference) return Result::duplicate;
  if (!s.ok()) return fail(s);
  const auto e = record_event(db_, "points", member_id, actor, fmt::format("{:+} {}", delta, reason));
  return e.ok() ? Result::ok : fail(e);
}

std::optional<std::int64_t> Ledger::balance(std::int64_t member_id) {
  // SQLite's SUM of integers is checked: past the range of 64 bits it fails
  // with "integer overflow" rather than wrapping, which is reported here.
  auto q = db_.prepare("SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE member_id = ?");
  q.bind(1, member_id);
  if (q.step() == db::StepResult::row) return q.column_int(0);
  last_error_ = fmt::format("the points of member {} cannot be summed: {}", member_id,
                            q.status().message);
  return std::nullopt;
}

std::optional<std::vector<LedgerEntry>> Ledger::history(std::int64_t member_id) {
  auto q = db_.prepare(
      "SELECT delta, reason, channel, actor, created_at FROM ledger WHERE member_id = ? "
      "ORDER BY id");
  q.bind(1, member_id);
  std::vector<LedgerEntry> out;
  const auto s = q.each_row([&] {
    out.push_back({q.column_int(0), q.column_text(1), q.column_text(2), q.column_text(3),
                   q.column_text(4)});
  });
  if (!s.ok()) {
    fail(s);
    return std::nullopt;
  }
  return out;
}

}  // namespace giftgate
