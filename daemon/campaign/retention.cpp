#include "daemon/campaign/retention.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace giftgate {
namespace {

// A row not final this long past its cut-off is passed for good (see the
// contract): messages end within hours (resends, receipt timeout), USSD
// sessions within a minute or at the daemon's next start.
constexpr auto kUnsettledGrace = std::chrono::hours(24);
// Rows read per statement when a walk has no limit (plan).
constexpr std::int64_t kChunk = 1000;

constexpr std::string_view kFinal =
    "(state = 'delivered' OR state = 'failed' OR state = 'expired')";

// Each kind's walk: the statement that reads rows after ?1 in id order (at
// most ?3), with the row's time in the table's write order, a verdict at
// cut-off ?2 (1: goes, 0: nothing to do, -1: not final or not old enough
// yet) and how many rows going it stands for; and what removes one.
struct Walker {
  std::string scan;
  std::vector<std::string> remove;  // each bound with the row's id, in order
  // ?4 of the scan, when not empty: the cut-off of message_rows, whose rows
  // the body and parts walks leave to it, so no row is counted by two kinds
  // whichever walk reaches it first.
  std::string rows_cut = {};
};

// screens_whole: USSD screens are pruned whole (ussd_days set), so the
// body and parts walks leave them to that kind and count what it takes once.
Walker walker(PruneKind kind, bool screens_whole, const std::optional<Time>& rows_cut) {
  const auto outbox_scan = [](std::string verdict, std::string weight) {
    return fmt::format("SELECT id, created_at, {}, {} FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?3",
                       verdict, weight);
  };
  // Not final, or final after the cut-off: not yet.
  const std::string waiting = fmt::format("NOT {} OR COALESCE(final_at, created_at) > ?2", kFinal);
  const std::string screen =
      screens_whole ? "channel = 'ussd' AND voucher_code IS NULL" : "0";
  // Past message_rows' cut-off: the whole row moves, body and parts with it.
  const std::string moving = "?4 IS NOT NULL AND final_at <= ?4";
  const std::string rows = rows_cut ? iso_time(*rows_cut) : std::string();
  switch (kind) {
    case PruneKind::message_bodies:
      return {outbox_scan(fmt::format("CASE WHEN {} THEN 0 WHEN {} THEN -1 WHEN {} THEN 0 "
                                      "WHEN body <> '' THEN 1 ELSE 0 END",
                                      screen, waiting, moving),
                          "1"),
              {"UPDATE outbox SET body = '' WHERE id = ?"},
              rows};
    case PruneKind::message_parts:
      return {outbox_scan(fmt::format("CASE WHEN {} THEN 0 WHEN {} THEN -1 WHEN {} THEN 0 "
                                      "ELSE 1 END",
                                      screen, waiting, moving),
                          "(SELECT COUNT(*) FROM outbox_parts p WHERE p.outbox_id = outbox.id)"),
              {"DELETE FROM outbox_parts WHERE outbox_id = ?"},
              rows};
    case PruneKind::ussd_screens:
      // The parts first: they name the row (a foreign key).
      return {outbox_scan(fmt::format("CASE WHEN channel <> 'ussd' OR voucher_code IS NOT NULL "
                                      "THEN 0 WHEN {} THEN -1 ELSE 1 END",
                                      waiting),
                          "1"),
              {"DELETE FROM outbox_parts WHERE outbox_id = ?", "DELETE FROM outbox WHERE id = ?"}};
    case PruneKind::message_rows:
      // The parts first: they name the row (a foreign key).
      return {outbox_scan(fmt::format("CASE WHEN {} THEN 0 WHEN {} THEN -1 ELSE 1 END", screen,
                                      waiting),
                          "1"),
              {"INSERT INTO message_history(id, msisdn, member_id, message, language, channel, "
               "voucher_code, inbox_id, state, attempts, created_at, final_at, last_error) "
               "SELECT id, msisdn, member_id, message, language, channel, voucher_code, "
               "inbox_id, state, attempts, created_at, final_at, last_error FROM outbox "
               "WHERE id = ?",
               "DELETE FROM outbox_parts WHERE outbox_id = ?", "DELETE FROM outbox WHERE id = ?"}};
    case PruneKind::receipts:
      return {"SELECT id, received_at, 1, 1 FROM receipts WHERE id > ?1 ORDER BY id LIMIT ?3",
              {"DELETE FROM receipts WHERE id = ?"}};
    case PruneKind::inbox:
      return {"SELECT id, received_at, 1, 1 FROM inbox WHERE id > ?1 ORDER BY id LIMIT ?3",
              {"DELETE FROM inbox WHERE id = ?"}};
    case PruneKind::ussd_sessions:
      return {"SELECT id, started_at, CASE WHEN ended_at IS NULL OR ended_at > ?2 THEN -1 ELSE 1 "
              "END, 1 FROM ussd_sessions WHERE id > ?1 ORDER BY id LIMIT ?3",
              {"DELETE FROM ussd_sessions WHERE id = ?"}};
  }
  return {};
}

// What one walk found: the rows to remove, and where the cursor goes.
struct Walk {
  std::int64_t cursor = 0;
  std::int64_t looked = 0;
  std::int64_t rows = 0;  // rows going (a message's parts count each)
  std::int64_t left = 0;
  std::vector<std::int64_t> ids;
  bool cut_short = false;  // stopped by the limit, not by the cut-off
  db::Status status;
};

// Walks `kind` from `from` (exclusive) up to the first row after the
// cut-off, or a row to wait for, or `limit` rows looked at (-1: none).
// Times are compared as stored text (iso_time: one format, so text order
// is time order).
Walk walk(db::Database& db, const Walker& w, std::int64_t from, Time cutoff, std::int64_t limit) {
  const std::string cut = iso_time(cutoff);
  const std::string pass_before = iso_time(cutoff - kUnsettledGrace);
  Walk out;
  out.cursor = from;
  while (limit < 0 || out.looked < limit) {
    const std::int64_t chunk = limit < 0 ? kChunk : std::min(kChunk, limit - out.looked);
    auto scan = db.prepare(w.scan);
    scan.bind(1, out.cursor).bind(2, cut).bind(3, chunk);
    if (!w.rows_cut.empty()) scan.bind(4, w.rows_cut);
    std::int64_t read = 0;
    db::StepResult r;
    while ((r = scan.step()) == db::StepResult::row) {
      ++read;
      ++out.looked;
      const std::string at = scan.column_text(1);
      const std::int64_t verdict = scan.column_int(2);
      if (at > cut) return out;  // written after the cut-off: so is everything after it
      if (verdict < 0) {
        if (at > pass_before) return out;  // wait for it to end
        ++out.left;                        // lost its way: passed, kept
      } else if (verdict > 0 && scan.column_int(3) > 0) {
        out.rows += scan.column_int(3);
        out.ids.push_back(scan.column_int(0));
      }
      out.cursor = scan.column_int(0);
    }
    if (r == db::StepResult::error) {
      out.status = scan.status();
      return out;
    }
    if (read < chunk) return out;  // the end of the table
  }
  out.cut_short = true;
  return out;
}

std::int64_t cursor_of(db::Database& db, PruneKind kind, db::Status* status) {
  auto q = db.prepare("SELECT last_id FROM retention_cursors WHERE kind = ?");
  q.bind(1, prune_kind_name(kind));
  switch (q.step()) {
    case db::StepResult::row: return q.column_int(0);
    case db::StepResult::done: return 0;
    case db::StepResult::error: *status = q.status(); return 0;
  }
  return 0;
}

std::size_t index_of(PruneKind kind) {
  return static_cast<std::size_t>(std::find(kPruneKinds.begin(), kPruneKinds.end(), kind) -
                                  kPruneKinds.begin());
}

}  // namespace

std::string_view prune_kind_name(PruneKind kind) {
  switch (kind) {
    case PruneKind::message_bodies: return "message_bodies";
    case PruneKind::message_parts: return "message_parts";
    case PruneKind::receipts: return "receipts";
    case PruneKind::inbox: return "inbox";
    case PruneKind::ussd_screens: return "ussd_screens";
    case PruneKind::ussd_sessions: return "ussd_sessions";
    case PruneKind::message_rows: return "message_rows";
  }
  return "?";
}

std::string_view prune_kind_table(PruneKind kind) {
  switch (kind) {
    case PruneKind::message_bodies: return "outbox";
    case PruneKind::message_parts: return "outbox_parts";
    case PruneKind::receipts: return "receipts";
    case PruneKind::inbox: return "inbox";
    case PruneKind::ussd_screens: return "outbox";
    case PruneKind::ussd_sessions: return "ussd_sessions";
    case PruneKind::message_rows: return "outbox";
  }
  return "?";
}

std::int64_t RetentionPlan::total() const {
  std::int64_t n = 0;
  for (const auto& k : kinds) n += k.rows;
  return n;
}

std::int64_t PruneResult::total() const {
  std::int64_t n = 0;
  for (const auto v : pruned) n += v;
  return n;
}

int Retention::days(PruneKind kind) const {
  switch (kind) {
    case PruneKind::message_bodies: return settings_.message_days;
    case PruneKind::message_parts:
    case PruneKind::receipts: return settings_.receipt_days;
    case PruneKind::inbox: return settings_.inbox_days;
    case PruneKind::ussd_screens:
    case PruneKind::ussd_sessions: return settings_.ussd_days;
    case PruneKind::message_rows:
      if (settings_.message_days == 0 || settings_.receipt_days == 0) return 0;
      return std::max(settings_.message_days, settings_.receipt_days);
  }
  return 0;
}

std::optional<Time> Retention::rows_cutoff(Time now) const {
  const int d = days(PruneKind::message_rows);
  if (d == 0) return std::nullopt;
  return now - std::chrono::days(d);
}

RetentionPlan Retention::plan(Time now) {
  RetentionPlan out;
  for (const PruneKind kind : kPruneKinds) {
    KindPlan k;
    k.kind = kind;
    k.days = days(kind);
    if (k.days > 0 && out.status.ok()) {
      k.cutoff = now - std::chrono::days(k.days);
      const std::int64_t from = cursor_of(db_, kind, &out.status);
      const Walk w = walk(db_, walker(kind, settings_.ussd_days > 0, rows_cutoff(now)), from,
                          *k.cutoff, -1);
      if (!w.status.ok()) out.status = w.status;
      k.rows = w.rows;
      k.left = w.left;
    }
    out.kinds.push_back(k);
  }
  return out;
}

PruneResult Retention::prune_batch(Time now, std::int64_t max_rows) {
  PruneResult out;
  std::vector<PruneKind> active;
  for (const PruneKind kind : kPruneKinds)
    if (days(kind) > 0) active.push_back(kind);
  if (active.empty()) return out;
  // Each kind its share, so a long walk through one table does not starve
  // the others, and the batch looks at max_rows at most.
  const std::int64_t share =
      std::max<std::int64_t>(1, max_rows / static_cast<std::int64_t>(active.size()));
  db::Transaction tx(db_);
  // Rolled back (by tx, unless committed): nothing went.
  const auto failed = [&out](const db::Status& s) {
    PruneResult r;
    r.status = s;
    r.looked = out.looked;
    return r;
  };
  if (!tx.begun().ok()) return failed(tx.begun());
  for (const PruneKind kind : active) {
    const std::size_t i = index_of(kind);
    db::Status read;
    const std::int64_t from = cursor_of(db_, kind, &read);
    if (!read.ok()) return failed(read);
    const Walker how = walker(kind, settings_.ussd_days > 0, rows_cutoff(now));
    const Walk w = walk(db_, how, from, now - std::chrono::days(days(kind)), share);
    if (!w.status.ok()) return failed(w.status);
    out.looked += w.looked;
    out.more = out.more || w.cut_short;
    out.left[i] = w.left;
    for (const std::int64_t id : w.ids) {
      for (std::size_t step = 0; step < how.remove.size(); ++step) {
        auto remove = db_.prepare(how.remove[step]);
        if (auto s = remove.bind(1, id).run(); !s.ok()) return failed(s);
        // What went, counted from the changes: the ussd screens' parts
        // come first and are not counted.
        if (step + 1 == how.remove.size()) out.pruned[i] += db_.changes();
      }
    }
    if (w.cursor != from) {
      auto save = db_.prepare(
          "INSERT INTO retention_cursors(kind, last_id) VALUES (?, ?) "
          "ON CONFLICT(kind) DO UPDATE SET last_id = excluded.last_id");
      if (auto s = save.bind(1, prune_kind_name(kind)).bind(2, w.cursor).run(); !s.ok())
        return failed(s);
    }
  }
  if (auto s = tx.commit(); !s.ok()) return failed(s);
  return out;
}

}  // namespace giftgate
