#include "daemon/campaign/outbox.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace giftgate {
namespace {

bool is_delivered(const std::string& stat) { return stat == "DELIVRD" || stat == "ACCEPTD"; }
// NONE: no receipt came in time (written by the sweep).
bool is_failure(const std::string& stat) {
  return stat == "UNDELIV" || stat == "REJECTD" || stat == "EXPIRED" || stat == "DELETED" ||
         stat == "UNKNOWN" || stat == "NONE";
}

// Text to bind, or NULL for none: an absent second reading then matches
// nothing, and an absent detail stores nothing.
std::optional<std::string> or_null(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

// A JSON array of strings, for SQLite's json_each.
std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : item) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out + "]";
}

}  // namespace

// Where each part of a message stands, from its rows since since_attempt:
// delivered when any attempt's receipt said so; otherwise as its latest row
// says: in flight (sent, no answer yet), accepted (awaiting its receipt) or
// failed (refused, unanswered, a failure receipt, none in time). A part
// with no row at all is missing: never sent, or cut off before its row.
struct Outbox::Parts {
  enum class State { missing, in_flight, accepted, delivered, failed };
  int total = 0;
  std::vector<State> state;  // index 0 is part 1

  bool all(State s) const {
    return total > 0 && std::ranges::all_of(state, [s](State x) { return x == s; });
  }
  bool any(State s) const { return std::ranges::find(state, s) != state.end(); }

  // Takes one row: part, total, attempt, status, receipt (or '') in the
  // query's columns from `at` on. Rows come in any order.
  void add(db::Statement& q, int at) {
    const int part = static_cast<int>(q.column_int(at));
    total = std::max(total, static_cast<int>(q.column_int(at + 1)));
    const int attempt = static_cast<int>(q.column_int(at + 2));
    const std::string receipt = q.column_text(at + 4);
    if (is_delivered(receipt)) delivered_[part] = true;
    auto& rows = attempts_[attempt];
    ++rows.rows;
    if (!q.column_null(at + 3) && q.column_int(at + 3) == kNotSent) ++rows.not_sent;
    auto& l = latest_[part];
    if (attempt < l.attempt) return;
    l.attempt = attempt;
    if (q.column_null(at + 3)) l.state = State::in_flight;
    else if (q.column_int(at + 3) != 0 || is_failure(receipt)) l.state = State::failed;
    else l.state = State::accepted;
  }
  // Every row of `attempt` is a part returned unwritten (and it has some).
  bool not_sent(int attempt) const {
    const auto it = attempts_.find(attempt);
    return it != attempts_.end() && it->second.rows == it->second.not_sent;
  }
  // Once every row is in: each part's state.
  void finish() {
    for (int part = 1; part <= total; ++part) {
      if (delivered_.count(part)) state.push_back(State::delivered);
      else if (auto it = latest_.find(part); it != latest_.end()) state.push_back(it->second.state);
      else state.push_back(State::missing);
    }
  }

 private:
  struct Latest {
    int attempt = 0;
    State state = State::missing;
  };
  struct AttemptRows {
    int rows = 0, not_sent = 0;
  };
  std::map<int, Latest> latest_;
  std::map<int, bool> delivered_;
  std::map<int, AttemptRows> attempts_;
};

Outbox::Parts Outbox::parts_of(std::int64_t id, int since_attempt, db::Status& status) {
  Parts p;
  // Without ORDER BY: a few rows, and sorting them would build a b-tree.
  auto q = db_.prepare(
      "SELECT part, total, attempt, status, COALESCE(receipt, '') FROM outbox_parts WHERE "
      "outbox_id = ? AND attempt >= ?");
  q.bind(1, id).bind(2, since_attempt);
  status = q.each_row([&] { p.add(q, 0); });
  p.finish();
  return p;
}

std::vector<Outbound> Outbox::take_due(Time now, std::size_t limit,
                                       const std::vector<std::string>* open_routes,
                                       std::size_t bulk_limit) {
  std::vector<Outbound> out;
  db::Transaction tx(db_);
  if (!tx.begun()) return out;
  // A USSD screen whose session is over is skipped here, and expired by the
  // sweep. The order is the priority, then fair_at: outbox_fair, a partial
  // index of the queued rows, gives it and stops at the limit. (Left to
  // itself the planner takes outbox_due and sorts every due row, which a
  // flood's backlog makes many.) A screen whose route is closed is passed
  // over, not taken: sent elsewhere, its session would not know it.
  auto q = db_.prepare(
      "SELECT id, msisdn, body, attempts, ussd_op, COALESCE(ussd_session, ''), since_attempt, "
      "COALESCE(route, ''), priority FROM outbox INDEXED BY outbox_fair WHERE state = 'queued' "
      "AND priority < ?4 AND next_attempt_at <= ?1 AND (channel <> 'ussd' OR (expires_at > ?1 "
      "AND (?2 IS NULL OR route IS NULL OR route IN (SELECT value FROM json_each(?2))))) ORDER "
      "BY priority, fair_at, id LIMIT ?3");
  q.bind(1, iso_time(now))
      .bind(2, open_routes ? std::optional<std::string>(json_array(*open_routes)) : std::nullopt)
      .bind(3, static_cast<std::int64_t>(limit))
      .bind(4, bulk_limit == 0 ? kPriorityBulk : kPriorityBulk + 1);
  std::vector<int> since;
  std::size_t bulk = 0;
  while (q.step() == db::StepResult::row) {
    // Bulk comes last in this order: past its limit there is nothing else.
    if (q.column_int(8) >= kPriorityBulk && ++bulk > bulk_limit) break;
    Outbound m;
    m.id = q.column_int(0);
    m.msisdn = q.column_text(1);
    m.body = q.column_text(2);
    m.attempt = static_cast<int>(q.column_int(3)) + 1;
    if (!q.column_null(4)) {
      m.ussd_op = static_cast<std::uint8_t>(q.column_int(4));
      m.ussd_session = q.column_text(5);
    }
    since.push_back(static_cast<int>(q.column_int(6)));
    m.route = q.column_text(7);
    m.priority = q.column_int(8);
    out.push_back(std::move(m));
  }
  if (!q.status().ok()) return {};
  auto mark = db_.prepare(
      "UPDATE outbox SET state = 'submitted', attempts = ? WHERE id = ? AND state = 'queued'");
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& m = out[i];
    mark.reset();
    if (!mark.bind(1, m.attempt).bind(2, m.id).run().ok()) return {};
    if (m.attempt <= since[i]) continue;  // a first sending: every part
    db::Status s;
    const Parts parts = parts_of(m.id, since[i], s);
    if (!s.ok()) return {};
    m.parts_before = parts.total;
    for (int part = 1; part <= parts.total; ++part) {
      const auto state = parts.state[static_cast<std::size_t>(part - 1)];
      if (state == Parts::State::delivered || state == Parts::State::accepted)
        m.skip_parts.push_back(part);
    }
  }
  if (!tx.commit().ok()) return {};
  return out;
}

db::Status Outbox::sending(std::int64_t id, int attempt, int part, int total, Time now,
                           const std::string& smsc) {
  auto row = db_.prepare(
      "INSERT INTO outbox_parts(outbox_id, attempt, part, total, submitted_at, smsc) VALUES (?, "
      "?, ?, ?, ?, ?) ON CONFLICT(outbox_id, attempt, part) DO UPDATE SET status = NULL, "
      "submitted_at = excluded.submitted_at, smsc = excluded.smsc");
  return row.bind(1, id).bind(2, attempt).bind(3, part).bind(4, total).bind(5, iso_time(now))
      .bind(6, or_null(smsc)).run();
}

db::Status Outbox::submitted(std::int64_t id, int attempt, int part, int total,
                             const MessageIds& ids, Time now, const std::string& detail) {
  db::Transaction tx(db_);
  if (!tx.begun()) return tx.begun();
  auto upsert = db_.prepare(
      "INSERT INTO outbox_parts(outbox_id, attempt, part, total, message_id, message_id_alt, "
      "status, submitted_at, detail) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(outbox_id, "
      "attempt, part) DO UPDATE SET message_id = excluded.message_id, message_id_alt = "
      "excluded.message_id_alt, status = 0, detail = excluded.detail");
  auto s = upsert.bind(1, id).bind(2, attempt).bind(3, part).bind(4, total).bind(5, ids.id)
               .bind(6, or_null(ids.alt)).bind(7, iso_time(now))
               .bind(8, or_null(detail))
               .run();
  if (!s.ok()) return s;
  // Receipts that overtook this answer wait as early ones. Either reading
  // of theirs may be this part's, if they came from the SMSC the part went
  // to (sending's row says which); a side that names none may be any.
  const std::string same_smsc =
      "(receipts.smsc IS NULL OR receipts.smsc = COALESCE((SELECT p.smsc FROM outbox_parts p "
      "WHERE p.outbox_id = ?3 AND p.attempt = ?4 AND p.part = ?5), receipts.smsc))";
  auto early = db_.prepare(
      "SELECT id, state, COALESCE(error, ''), COALESCE(detail, ''), recipient FROM receipts "
      "WHERE outcome = 'early' AND message_id IN (?1, ?2) AND " + same_smsc + " UNION SELECT "
      "id, state, COALESCE(error, ''), COALESCE(detail, ''), recipient FROM receipts WHERE "
      "outcome = 'early' AND message_id_alt IN (?1, ?2) AND " + same_smsc);
  early.bind(1, ids.id).bind(2, or_null(ids.alt)).bind(3, id).bind(4, attempt).bind(5, part);
  struct Early {
    std::int64_t id;
    std::string stat, error, detail;
    std::optional<std::string> recipient;
  };
  std::vector<Early> waiting;
  s = early.each_row([&] {
    waiting.push_back({early.column_int(0), early.column_text(1), early.column_text(2),
                       early.column_text(3),
                       early.column_null(4) ? std::nullopt
                                            : std::optional<std::string>(early.column_text(4))});
  });
  if (!s.ok()) return s;
  if (!waiting.empty()) {
    auto to = db_.prepare("SELECT msisdn FROM outbox WHERE id = ?");
    to.bind(1, id);
    switch (to.step()) {
      case db::StepResult::row: break;
      case db::StepResult::done: return db::Status{1, "no such outbox message"};
      case db::StepResult::error: return to.status();
    }
    const std::string msisdn = to.column_text(0);
    std::erase_if(waiting, [&](const Early& e) { return e.recipient && *e.recipient != msisdn; });
  }
  if (!waiting.empty()) {
    auto claim = db_.prepare("UPDATE receipts SET outcome = 'applied', matched = 1 WHERE id = ?");
    for (const auto& e : waiting) {
      claim.reset();
      if (s = claim.bind(1, e.id).run(); !s.ok()) return s;
    }
    // The latest says most (a final state after ENROUTE).
    const auto& last = *std::ranges::max_element(waiting, {}, &Early::id);
    if (s = apply_receipt(id, attempt, part, last.stat, last.error, last.detail, now); !s.ok())
      return s;
  }
  // A part accepted moves its message on only when it was the last one an
  // attempt waited for, or a USSD screen (delivered when accepted); the
  // most common case, one part and no early receipt, needs no more.
  if (total == 1 && waiting.empty()) {
    auto screen = db_.prepare(
        "UPDATE outbox SET state = 'delivered', final_at = ?, last_error = NULL WHERE id = ? AND "
        "channel = 'ussd' AND state = 'submitted'");
    s = screen.bind(1, iso_time(now)).bind(2, id).run();
  } else {
    s = settle(id, "", false, now);
  }
  if (!s.ok()) return s;
  return tx.commit();
}

db::Status Outbox::submit_failed(std::int64_t id, int attempt, int part, int total,
                                 std::int64_t status, const std::string& why, Time now,
                                 const std::string& detail, Retry retry) {
  db::Transaction tx(db_);
  if (!tx.begun()) return tx.begun();
  auto upsert = db_.prepare(
      "INSERT INTO outbox_parts(outbox_id, attempt, part, total, status, submitted_at, detail) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(outbox_id, attempt, part) DO UPDATE SET "
      "status = excluded.status, detail = excluded.detail");
  auto s = upsert.bind(1, id).bind(2, attempt).bind(3, part).bind(4, total).bind(5, status)
               .bind(6, iso_time(now))
               .bind(7, or_null(detail))
               .run();
  if (s.ok()) s = settle(id, why, false, now, retry);
  if (s.ok()) s = tx.commit();
  return s;
}

db::Status Outbox::submit_returned(std::int64_t id, int attempt, int part, int total,
                                   const std::string& why, Time now, Retry retry) {
  // Recorded as a failed part; settle undoes the attempt when it is all so.
  return submit_failed(id, attempt, part, total, kNotSent, why, now, {}, retry);
}

Outbox::ReceiptMatch Outbox::receipt(const ReceiptReport& r, Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return ReceiptMatch::failed;
  // The parts with this id in either reading, from the receipt's SMSC (or
  // from an unrecorded one), and whom they went to. Another SMSC's part
  // with the same id is none of its business: ids are unique per SMSC only.
  auto q = db_.prepare(
      "SELECT p.outbox_id, p.attempt, p.part, o.msisdn, COALESCE(p.receipt, '') FROM "
      "outbox_parts p JOIN outbox o ON o.id = p.outbox_id WHERE p.message_id IN (?1, ?2) AND "
      "(?3 = '' OR p.smsc IS NULL OR p.smsc = ?3) UNION "
      "SELECT p.outbox_id, p.attempt, p.part, o.msisdn, COALESCE(p.receipt, '') FROM "
      "outbox_parts p JOIN outbox o ON o.id = p.outbox_id WHERE p.message_id_alt IN (?1, ?2) "
      "AND (?3 = '' OR p.smsc IS NULL OR p.smsc = ?3)");
  q.bind(1, r.ids.id).bind(2, or_null(r.ids.alt)).bind(3, r.smsc);
  struct Candidate {
    std::int64_t id;
    int attempt, part;
    bool awaiting;  // no final receipt yet
  };
  std::vector<Candidate> candidates;
  bool id_known = false;
  while (q.step() == db::StepResult::row) {
    id_known = true;
    if (r.recipient && q.column_text(3) != *r.recipient) continue;
    const std::string receipt = q.column_text(4);
    candidates.push_back({q.column_int(0), static_cast<int>(q.column_int(1)),
                          static_cast<int>(q.column_int(2)),
                          receipt.empty() || receipt == "ENROUTE"});
  }
  if (!q.status().ok()) return ReceiptMatch::failed;
  // Two candidates: an id the SMSC used again long after (one of them is
  // final already), or two readings that both hit. Only a part still
  // awaiting its receipt can be meant; two of those cannot be told apart.
  bool ambiguous = false;
  if (candidates.size() > 1) {
    std::erase_if(candidates, [](const Candidate& c) { return !c.awaiting; });
    ambiguous = candidates.size() != 1;
  }
  ReceiptMatch match = ReceiptMatch::applied;
  if (ambiguous) match = ReceiptMatch::ambiguous;
  else if (candidates.empty()) match = id_known ? ReceiptMatch::wrong_recipient : ReceiptMatch::early;
  const char* outcome = match == ReceiptMatch::applied     ? "applied"
                        : match == ReceiptMatch::early     ? "early"
                        : match == ReceiptMatch::ambiguous ? "ambiguous"
                                                           : "unmatched";
  auto store = db_.prepare(
      "INSERT INTO receipts(message_id, message_id_alt, recipient, state, error, detail, "
      "received_at, matched, outcome, smsc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto s = store.bind(1, r.ids.id).bind(2, or_null(r.ids.alt)).bind(3, r.recipient)
               .bind(4, r.stat).bind(5, r.error)
               .bind(6, or_null(r.detail))
               .bind(7, iso_time(now)).bind(8, std::int64_t{match == ReceiptMatch::applied})
               .bind(9, outcome).bind(10, or_null(r.smsc)).run();
  if (s.ok() && match == ReceiptMatch::applied) {
    const auto& c = candidates.front();
    s = apply_receipt(c.id, c.attempt, c.part, r.stat, r.error, r.detail, now);
  }
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return ReceiptMatch::failed;
  return match;
}

db::Status Outbox::apply_receipt(std::int64_t id, int attempt, int part, const std::string& stat,
                                 const std::string& error, const std::string& detail, Time now) {
  auto set = db_.prepare(
      "UPDATE outbox_parts SET receipt = ?, receipt_at = ?, detail = COALESCE(?, detail) WHERE "
      "outbox_id = ? AND attempt = ? AND part = ?");
  auto s = set.bind(1, stat).bind(2, iso_time(now))
               .bind(3, or_null(detail))
               .bind(4, id).bind(5, attempt).bind(6, part).run();
  if (!s.ok()) return s;
  std::string why = fmt::format("receipt {} err {}", stat, error);
  if (!detail.empty()) why += " (" + detail + ")";
  return settle(id, why, stat == "EXPIRED", now);
}

db::Status Outbox::settle(std::int64_t id, const std::string& why, bool expired, Time now,
                          Retry retry) {
  // The message and its parts in one look-up.
  auto q = db_.prepare(
      "SELECT o.state, o.attempts, o.channel, p.part, p.total, p.attempt, p.status, "
      "COALESCE(p.receipt, '') FROM outbox o LEFT JOIN outbox_parts p ON p.outbox_id = o.id AND "
      "p.attempt >= o.since_attempt WHERE o.id = ?");
  q.bind(1, id);
  std::string state;
  int attempt = 0;
  bool ussd = false;
  Parts parts;
  while (q.step() == db::StepResult::row) {
    state = q.column_text(0);
    attempt = static_cast<int>(q.column_int(1));
    ussd = q.column_text(2) == "ussd";
    if (!q.column_null(3)) parts.add(q, 3);
  }
  if (!q.status().ok()) return q.status();
  parts.finish();
  // Final states stay as they are: a late receipt changes no final outcome.
  if (state != "submitted" && state != "queued") return {};
  using S = Parts::State;
  // A USSD screen asks for no receipt: accepted by the centre is delivered.
  if (parts.all(S::delivered) || (ussd && parts.all(S::accepted))) {
    auto done = db_.prepare(
        "UPDATE outbox SET state = 'delivered', final_at = ?, last_error = NULL WHERE id = ?");
    return done.bind(1, iso_time(now)).bind(2, id).run();
  }
  // Queued: its failed parts wait for the resend already.
  if (state != "submitted" || !parts.any(S::failed)) return {};
  // One part failed: the attempt has, once none of its parts is in flight.
  if (parts.any(S::in_flight) || parts.any(S::missing)) return {};
  // Every part it sent came back unwritten: no SMSC saw this attempt.
  if (parts.not_sent(attempt)) return attempt_undone(id, attempt, why, now);
  return attempt_failed(id, attempt, why.empty() ? "a part failed" : why, expired, now, retry);
}

db::Status Outbox::attempt_undone(std::int64_t id, int attempt, const std::string& why,
                                  Time now) {
  // Its rows go, so the parts stand as the attempts before left them
  // (parts_of and take_due read no trace of it), and it is due at once,
  // in its old place in the fair order, for a connection still up.
  auto drop = db_.prepare("DELETE FROM outbox_parts WHERE outbox_id = ? AND attempt = ?");
  auto s = drop.bind(1, id).bind(2, attempt).run();
  if (!s.ok()) return s;
  auto again = db_.prepare(
      "UPDATE outbox SET state = 'queued', attempts = ?, next_attempt_at = ?, last_error = ? "
      "WHERE id = ?");
  return again.bind(1, attempt - 1).bind(2, iso_time(now))
      .bind(3, why.empty() ? std::string("not sent") : why).bind(4, id).run();
}

db::Status Outbox::attempt_failed(std::int64_t id, int attempt, const std::string& why,
                                  bool expired, Time now, Retry retry) {
  auto q = db_.prepare("SELECT channel FROM outbox WHERE id = ?");
  q.bind(1, id);
  if (q.step() != db::StepResult::row) return q.status();  // done: no such message, nothing to do
  // A USSD screen is never sent again: its session has moved on.
  if (attempt >= policy_.max_attempts || q.column_text(0) == "ussd") {
    auto final_state = db_.prepare(
        "UPDATE outbox SET state = ?, final_at = ?, last_error = ? WHERE id = ?");
    return final_state.bind(1, expired ? "expired" : "failed").bind(2, iso_time(now)).bind(3, why)
        .bind(4, id).run();
  }
  const auto delay = retry == Retry::at_once
                         ? std::chrono::seconds(0)
                         : policy_.first_delay * (1 << std::min(attempt - 1, 16));
  auto again = db_.prepare(
      "UPDATE outbox SET state = 'queued', next_attempt_at = ?, last_error = ? WHERE id = ?");
  return again.bind(1, iso_time(now + delay)).bind(2, why).bind(3, id).run();
}

Outbox::Swept Outbox::sweep(Time now, std::chrono::seconds early_window) {
  Swept out;
  db::Transaction tx(db_);
  if (!tx.begun()) return out;
  auto late = db_.prepare(
      "UPDATE outbox SET state = 'expired', final_at = ?, last_error = 'the USSD session was "
      "over before it was sent' WHERE state = 'queued' AND channel = 'ussd' AND expires_at <= ?");
  if (!late.bind(1, iso_time(now)).bind(2, iso_time(now)).run().ok()) return {};
  // Accepted parts whose receipt is overdue. (An accepted part is always
  // its part's latest row: only failed parts are sent again.)
  auto stale = db_.prepare(
      "SELECT p.outbox_id, p.attempt, p.part FROM outbox o JOIN outbox_parts p ON p.outbox_id = "
      "o.id WHERE o.state = 'submitted' AND o.channel = 'sms' AND p.attempt >= o.since_attempt "
      "AND p.status = 0 AND (p.receipt IS NULL OR p.receipt = 'ENROUTE') AND p.submitted_at <= ?");
  stale.bind(1, iso_time(now - policy_.receipt_timeout));
  struct Part {
    std::int64_t id;
    int attempt, part;
  };
  std::vector<Part> overdue;
  while (stale.step() == db::StepResult::row)
    overdue.push_back({stale.column_int(0), static_cast<int>(stale.column_int(1)),
                       static_cast<int>(stale.column_int(2))});
  if (!stale.status().ok()) return {};
  auto none = db_.prepare(
      "UPDATE outbox_parts SET receipt = 'NONE', receipt_at = ? WHERE outbox_id = ? AND "
      "attempt = ? AND part = ?");
  std::vector<std::int64_t> moved;
  for (const auto& p : overdue) {
    none.reset();
    if (!none.bind(1, iso_time(now)).bind(2, p.id).bind(3, p.attempt).bind(4, p.part).run().ok())
      return {};
    if (std::ranges::find(moved, p.id) == moved.end()) moved.push_back(p.id);
  }
  for (const auto id : moved)
    if (!settle(id, "no receipt in time", false, now).ok()) return {};
  out.overdue = static_cast<int>(moved.size());

  auto unclaimed = db_.prepare(
      "SELECT id, message_id FROM receipts WHERE outcome = 'early' AND received_at <= ?");
  unclaimed.bind(1, iso_time(now - early_window));
  std::vector<std::int64_t> ids;
  while (unclaimed.step() == db::StepResult::row) {
    ids.push_back(unclaimed.column_int(0));
    out.unclaimed.push_back(unclaimed.column_text(1));
  }
  if (!unclaimed.status().ok()) return {};
  auto give_up = db_.prepare("UPDATE receipts SET outcome = 'unmatched' WHERE id = ?");
  for (const auto id : ids) {
    give_up.reset();
    if (!give_up.bind(1, id).run().ok()) return {};
  }
  if (!tx.commit().ok()) return {};
  return out;
}

int Outbox::recover(Time now) {
  db::Transaction tx(db_);
  if (!tx.begun()) return 0;
  // Submitted, and a part still in flight, or with no row at all: the
  // daemon stopped between the submit and its answer.
  auto submitted = db_.prepare(
      "SELECT id, attempts, since_attempt FROM outbox WHERE state = 'submitted'");
  std::vector<std::pair<std::int64_t, int>> cut;
  while (submitted.step() == db::StepResult::row) {
    const std::int64_t id = submitted.column_int(0);
    db::Status s;
    const Parts parts = parts_of(id, static_cast<int>(submitted.column_int(2)), s);
    if (!s.ok()) return 0;
    if (parts.total == 0 || parts.any(Parts::State::in_flight) ||
        parts.any(Parts::State::missing))
      cut.emplace_back(id, static_cast<int>(submitted.column_int(1)));
  }
  if (!submitted.status().ok()) return 0;
  auto unanswered = db_.prepare(
      "UPDATE outbox_parts SET status = ? WHERE outbox_id = ? AND status IS NULL");
  auto again = db_.prepare(
      "UPDATE outbox SET state = 'queued', next_attempt_at = ?, last_error = 'interrupted' WHERE "
      "id = ?");
  for (const auto& [id, attempt] : cut) {
    unanswered.reset();
    if (!unanswered.bind(1, kNoAnswer).bind(2, id).run().ok()) return 0;
    db::Status s;
    if (attempt >= policy_.max_attempts) {
      s = attempt_failed(id, attempt, "interrupted", false, now);
    } else {
      again.reset();
      s = again.bind(1, iso_time(now)).bind(2, id).run();
    }
    if (!s.ok()) return 0;
  }
  if (!tx.commit().ok()) return 0;
  return static_cast<int>(cut.size());
}

Outbox::Resent Outbox::resend(const std::string& id_or_code, const Actor& actor, Time now) {
  const auto failed = [](const db::Status& s) {
    return Resent{Resent::Status::failed, 0, s.message};
  };
  db::Transaction tx(db_);
  if (!tx.begun()) return failed(tx.begun());
  // A message moved to message_history has lost its text to retention, as
  // one whose body was blanked has.
  auto find = db_.prepare(
      "SELECT id, member_id, voucher_code, body = '' FROM messages WHERE CAST(id AS TEXT) = ? OR "
      "voucher_code = ? ORDER BY message = 'voucher_reminder', id DESC LIMIT 1");
  find.bind(1, id_or_code).bind(2, id_or_code);
  switch (find.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return {Resent::Status::not_found, 0, {}};
    case db::StepResult::error: return failed(find.status());
  }
  const std::int64_t id = find.column_int(0);
  if (find.column_int(3) != 0) return {Resent::Status::body_pruned, id, {}};
  // Every part again: what earlier sendings delivered no longer counts.
  auto again = db_.prepare(
      "UPDATE outbox SET state = 'queued', next_attempt_at = ?, final_at = NULL, since_attempt = "
      "attempts + 1 WHERE id = ?");
  auto s = again.bind(1, iso_time(now)).bind(2, id).run();
  const std::optional<std::int64_t> member =
      find.column_null(1) ? std::nullopt : std::optional<std::int64_t>(find.column_int(1));
  const std::optional<std::string> code =
      find.column_null(2) ? std::nullopt : std::optional<std::string>(find.column_text(2));
  if (s.ok())
    s = record_event(db_, "message_resent", member, actor, fmt::format("outbox message {}", id),
                     code);
  if (s.ok()) s = tx.commit();
  if (!s.ok()) return failed(s);
  return {Resent::Status::queued, id, {}};
}

std::optional<OutboxCounts> Outbox::counts() {
  OutboxCounts c;
  // All of them: the outbox's and those moved on to message_history.
  auto q = db_.prepare(
      "SELECT state, COUNT(*) FROM outbox GROUP BY state UNION ALL "
      "SELECT state, COUNT(*) FROM message_history GROUP BY state");
  const auto s = q.each_row([&] {
    const auto state = q.column_text(0);
    const auto n = q.column_int(1);
    if (state == "queued") c.queued += n;
    else if (state == "submitted") c.submitted += n;
    else if (state == "delivered") c.delivered += n;
    else if (state == "failed") c.failed += n;
    else if (state == "expired") c.expired += n;
  });
  if (!s.ok()) return std::nullopt;
  return c;
}

}  // namespace giftgate
