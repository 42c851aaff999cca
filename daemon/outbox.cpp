#include "daemon/outbox.hpp"

#include <fmt/format.h>

namespace giftgate {
namespace {

bool is_delivered(const std::string& stat) { return stat == "DELIVRD" || stat == "ACCEPTD"; }
bool is_failure(const std::string& stat) {
  return stat == "UNDELIV" || stat == "REJECTD" || stat == "EXPIRED" || stat == "DELETED" ||
         stat == "UNKNOWN";
}

}  // namespace

std::vector<Outbound> Outbox::take_due(Time now, std::size_t limit) {
  std::vector<Outbound> out;
  db::Transaction tx(db_);
  if (!tx.begun()) return out;
  // A USSD screen whose session is over is skipped here, and expired by the
  // sweep.
  auto q = db_.prepare(
      "SELECT id, msisdn, body, attempts, ussd_op, COALESCE(ussd_session, '') FROM outbox "
      "WHERE state = 'queued' AND next_attempt_at <= ? AND (channel <> 'ussd' OR expires_at > ?) "
      "ORDER BY next_attempt_at, id LIMIT ?");
  q.bind(1, iso_time(now)).bind(2, iso_time(now)).bind(3, static_cast<std::int64_t>(limit));
  while (q.step()) {
    Outbound m;
    m.id = q.column_int(0);
    m.msisdn = q.column_text(1);
    m.body = q.column_text(2);
    m.attempt = static_cast<int>(q.column_int(3)) + 1;
    if (!q.column_null(4)) {
      m.ussd_op = static_cast<std::uint8_t>(q.column_int(4));
      m.ussd_session = q.column_text(5);
    }
    out.push_back(std::move(m));
  }
  auto mark = db_.prepare(
      "UPDATE outbox SET state = 'submitted', attempts = ? WHERE id = ? AND state = 'queued'");
  for (const auto& m : out) {
    mark.reset();
    if (!mark.bind(1, m.attempt).bind(2, m.id).run().ok()) return {};
  }
  if (!tx.commit().ok()) return {};
  return out;
}

db::Status Outbox::submitted(std::int64_t id, int attempt, int part, int total,
                             const std::string& message_id, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return tx.begun();
  auto upsert = db_.prepare(
      "INSERT INTO outbox_parts(outbox_id, attempt, part, total, message_id, status, "
      "submitted_at) VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT(outbox_id, attempt, part) DO "
      "UPDATE SET message_id = excluded.message_id, status = 0, submitted_at = "
      "excluded.submitted_at");
  auto s = upsert.bind(1, id).bind(2, attempt).bind(3, part).bind(4, total).bind(5, message_id)
               .bind(6, iso_time(now)).run();
  if (!s.ok()) return s;
  // A USSD screen asks for no receipt: accepted by the centre is delivered.
  auto screen = db_.prepare(
      "UPDATE outbox SET state = 'delivered', final_at = ? WHERE id = ? AND channel = 'ussd' AND "
      "state = 'submitted'");
  if (s = screen.bind(1, iso_time(now)).bind(2, id).run(); !s.ok()) return s;
  // A receipt that overtook this answer is waiting, unmatched.
  auto early = db_.prepare(
      "SELECT state, COALESCE(error, '') FROM receipts WHERE message_id = ? AND matched = 0 "
      "ORDER BY id DESC LIMIT 1");
  early.bind(1, message_id);
  if (early.step()) {
    auto claim = db_.prepare("UPDATE receipts SET matched = 1 WHERE message_id = ? AND matched = 0");
    if (s = claim.bind(1, message_id).run(); !s.ok()) return s;
    if (s = apply_receipt(id, attempt, part, total, early.column_text(0), early.column_text(1), now);
        !s.ok())
      return s;
  }
  return tx.commit();
}

db::Status Outbox::submit_failed(std::int64_t id, int attempt, int part, int total,
                                 std::uint32_t status, const std::string& why, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return tx.begun();
  auto upsert = db_.prepare(
      "INSERT INTO outbox_parts(outbox_id, attempt, part, total, status, submitted_at) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(outbox_id, attempt, part) DO UPDATE SET "
      "status = excluded.status");
  auto s = upsert.bind(1, id).bind(2, attempt).bind(3, part).bind(4, total)
               .bind(5, static_cast<std::int64_t>(status)).bind(6, iso_time(now)).run();
  if (s.ok()) s = attempt_failed(id, attempt, why, false, now);
  if (s.ok()) s = tx.commit();
  return s;
}

Outbox::Receipt Outbox::receipt(const std::string& message_id, const std::string& stat,
                                const std::string& error, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return Receipt::failed;
  // The latest attempt's part with this id (without ORDER BY, which would
  // build a temporary b-tree to sort in, for every receipt).
  auto part = db_.prepare(
      "SELECT outbox_id, attempt, part, total FROM outbox_parts WHERE message_id = ?1 AND "
      "attempt = (SELECT MAX(attempt) FROM outbox_parts WHERE message_id = ?1) LIMIT 1");
  part.bind(1, message_id);
  const bool matched = part.step();
  auto store = db_.prepare(
      "INSERT INTO receipts(message_id, state, error, received_at, matched) VALUES (?, ?, ?, ?, ?)");
  auto s = store.bind(1, message_id).bind(2, stat).bind(3, error).bind(4, iso_time(now))
               .bind(5, std::int64_t{matched}).run();
  if (s.ok() && matched)
    s = apply_receipt(part.column_int(0), static_cast<int>(part.column_int(1)),
                      static_cast<int>(part.column_int(2)), static_cast<int>(part.column_int(3)),
                      stat, error, now);
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return Receipt::failed;
  return matched ? Receipt::matched : Receipt::unmatched;
}

db::Status Outbox::apply_receipt(std::int64_t id, int attempt, int part, int total,
                                 const std::string& stat, const std::string& error, Time now) {
  auto set = db_.prepare(
      "UPDATE outbox_parts SET receipt = ?, receipt_at = ? WHERE outbox_id = ? AND attempt = ? "
      "AND part = ?");
  auto s = set.bind(1, stat).bind(2, iso_time(now)).bind(3, id).bind(4, attempt).bind(5, part).run();
  if (!s.ok()) return s;
  if (is_delivered(stat)) return check_delivered(id, attempt, total, now);
  if (is_failure(stat))  // only the latest attempt's failure counts (checked there)
    return attempt_failed(id, attempt, fmt::format("receipt {} err {}", stat, error),
                          stat == "EXPIRED", now);
  return s;  // ENROUTE and the like: wait for the final one
}

db::Status Outbox::check_delivered(std::int64_t id, int attempt, int total, Time now) {
  // Delivered when every part of one attempt is, whatever came after. A
  // message in one part (most of them) is delivered with that part.
  if (total > 1) {
    auto parts = db_.prepare(
        "SELECT COUNT(*), MAX(total), SUM(receipt IN ('DELIVRD', 'ACCEPTD')) FROM outbox_parts "
        "WHERE outbox_id = ? AND attempt = ?");
    parts.bind(1, id).bind(2, attempt);
    if (!parts.step()) return parts.status();
    if (parts.column_int(2) < parts.column_int(1)) return {};
  }
  auto done = db_.prepare(
      "UPDATE outbox SET state = 'delivered', final_at = ?, last_error = NULL WHERE id = ? AND "
      "state <> 'delivered'");
  return done.bind(1, iso_time(now)).bind(2, id).run();
}

db::Status Outbox::attempt_failed(std::int64_t id, int attempt, const std::string& why,
                                  bool expired, Time now) {
  auto q = db_.prepare("SELECT attempts, state, channel FROM outbox WHERE id = ?");
  q.bind(1, id);
  if (!q.step()) return q.status();
  if (q.column_int(0) != attempt || q.column_text(1) != "submitted") return {};  // already moved on
  // A USSD screen is never sent again: its session has moved on.
  if (attempt >= policy_.max_attempts || q.column_text(2) == "ussd") {
    auto final_state = db_.prepare(
        "UPDATE outbox SET state = ?, final_at = ?, last_error = ? WHERE id = ?");
    return final_state.bind(1, expired ? "expired" : "failed").bind(2, iso_time(now)).bind(3, why)
        .bind(4, id).run();
  }
  const auto delay = policy_.first_delay * (1 << std::min(attempt - 1, 16));
  auto again = db_.prepare(
      "UPDATE outbox SET state = 'queued', next_attempt_at = ?, last_error = ? WHERE id = ?");
  return again.bind(1, iso_time(now + delay)).bind(2, why).bind(3, id).run();
}

int Outbox::sweep(Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return 0;
  auto late = db_.prepare(
      "UPDATE outbox SET state = 'expired', final_at = ?, last_error = 'the USSD session was "
      "over before it was sent' WHERE state = 'queued' AND channel = 'ussd' AND expires_at <= ?");
  if (!late.bind(1, iso_time(now)).bind(2, iso_time(now)).run().ok()) return 0;
  auto stale = db_.prepare(
      "SELECT o.id, o.attempts FROM outbox o WHERE o.state = 'submitted' AND o.channel = 'sms' "
      "AND "
      "(SELECT MAX(p.submitted_at) FROM outbox_parts p WHERE p.outbox_id = o.id AND p.attempt = "
      "o.attempts) <= ?");
  stale.bind(1, iso_time(now - policy_.receipt_timeout));
  std::vector<std::pair<std::int64_t, int>> due;
  while (stale.step()) due.emplace_back(stale.column_int(0), static_cast<int>(stale.column_int(1)));
  for (const auto& [id, attempt] : due)
    if (!attempt_failed(id, attempt, "no receipt in time", false, now).ok()) return 0;
  return tx.commit().ok() ? static_cast<int>(due.size()) : 0;
}

int Outbox::recover(Time now) {
  // Submitted, but some part has no answer recorded: the daemon stopped
  // between the submit and its response.
  auto cut = db_.prepare(
      "UPDATE outbox SET state = 'queued', next_attempt_at = ?, last_error = 'interrupted' "
      "WHERE state = 'submitted' AND (NOT EXISTS (SELECT 1 FROM outbox_parts p WHERE "
      "p.outbox_id = outbox.id AND p.attempt = outbox.attempts) OR EXISTS (SELECT 1 FROM "
      "outbox_parts p WHERE p.outbox_id = outbox.id AND p.attempt = outbox.attempts AND "
      "(SELECT COUNT(*) FROM outbox_parts q WHERE q.outbox_id = p.outbox_id AND q.attempt = "
      "p.attempt) < p.total))");
  if (!cut.bind(1, iso_time(now)).run().ok()) return 0;
  return db_.changes();
}

std::optional<std::int64_t> Outbox::resend(const std::string& id_or_code, const std::string& actor,
                                           Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return std::nullopt;
  auto find = db_.prepare(
      "SELECT id, member_id, voucher_code FROM outbox WHERE CAST(id AS TEXT) = ? OR "
      "voucher_code = ? ORDER BY id DESC LIMIT 1");
  find.bind(1, id_or_code).bind(2, id_or_code);
  if (!find.step()) return std::nullopt;
  const std::int64_t id = find.column_int(0);
  auto again = db_.prepare(
      "UPDATE outbox SET state = 'queued', next_attempt_at = ?, final_at = NULL WHERE id = ?");
  if (!again.bind(1, iso_time(now)).bind(2, id).run().ok()) return std::nullopt;
  const std::optional<std::int64_t> member =
      find.column_null(1) ? std::nullopt : std::optional<std::int64_t>(find.column_int(1));
  const std::optional<std::string> code =
      find.column_null(2) ? std::nullopt : std::optional<std::string>(find.column_text(2));
  if (!record_event(db_, "message_resent", member, {"giftctl", actor},
                    fmt::format("outbox message {}", id), code)
           .ok() ||
      !tx.commit().ok())
    return std::nullopt;
  return id;
}

OutboxCounts Outbox::counts() {
  OutboxCounts c;
  auto q = db_.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state");
  while (q.step()) {
    const auto state = q.column_text(0);
    const auto n = q.column_int(1);
    if (state == "queued") c.queued = n;
    else if (state == "submitted") c.submitted = n;
    else if (state == "delivered") c.delivered = n;
    else if (state == "failed") c.failed = n;
    else if (state == "expired") c.expired = n;
  }
  return c;
}

}  // namespace giftgate
