// Retention: what only a complaint within a few months needs (message
// bodies, receipts, the MOs, USSD screens and sessions) is pruned once it
// is older than the retention section says, so the file stops growing for
// ever. What a complaint needs for good is never lost: members, the
// ledger, vouchers, events, offers, merchants and stock are never touched,
// and each message's final state, attempts, template and voucher code stay,
// in the outbox and then, once its body and parts are gone, in the smaller
// rows of message_history (the view messages reads both).
//
// The contract, which giftgated and giftctl prune rely on:
// - A row goes only when its time (a message's or session's final_at or
//   ended_at, a receipt's or MO's received_at) is at or before now minus
//   its kind's days; a kind whose days are 0 is never pruned.
// - prune_batch is one short transaction that looks at no more than
//   max_rows rows in all, whatever the tables hold: it walks each table in
//   row id order from where the last batch stopped (retention_cursors), and
//   rows are written in time order, so it never scans what is already gone.
//   It says whether more is left; calling it until not is a full prune.
// - A row older than the cut-off that is not final yet (a message still
//   queued or submitted, a session still open) is kept, and the walk waits
//   at it: rows after it go once it is final and old enough. A row still
//   not final a day past the cut-off has lost its way (its message will
//   never end); the walk passes it and it is kept for ever, counted as
//   "left" so the operator can look. So one stuck row delays the rest by a
//   day at most.
// - plan() changes nothing and names exactly the rows that prune_batch
//   calls until "no more" would take at the same `now`.
// - MO redelivery detection (outbox.mo_dedupe_seconds, minutes) and the
//   per-number daily limits read only the last day's MOs: inbox_days is at
//   least 2 (the configuration refuses 1), so neither loses a row it reads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// What is pruned; each has its own cursor and its own days.
enum class PruneKind {
  message_bodies,  // a final message's body set to '' (message_days)
  message_parts,   // a final message's outbox_parts rows (receipt_days)
  receipts,        // receipts rows (receipt_days)
  inbox,           // MOs (inbox_days)
  ussd_screens,    // outbox rows of channel 'ussd' without a voucher, parts first (ussd_days)
  ussd_sessions,   // ended ussd_sessions rows (ussd_days)
  // A final message's outbox row moved to message_history, its final state
  // kept there (past both message_days and receipt_days; never when either
  // is 0). Last: the walks above have taken its body and parts by then.
  message_rows,
};
constexpr std::size_t kPruneKindCount = 7;
constexpr std::array<PruneKind, kPruneKindCount> kPruneKinds = {
    PruneKind::message_bodies, PruneKind::message_parts, PruneKind::receipts,
    PruneKind::inbox,          PruneKind::ussd_screens,  PruneKind::ussd_sessions,
    PruneKind::message_rows};

// "message_bodies": the cursor's key, the metric's label, giftctl's column.
std::string_view prune_kind_name(PruneKind kind);
// The table the kind's rows are taken from (or blanked in).
std::string_view prune_kind_table(PruneKind kind);

// Per kind, what would go now (plan) or what went (prune_batch).
struct KindPlan {
  PruneKind kind = PruneKind::message_bodies;
  int days = 0;                // 0: kept for ever (then no cutoff and no rows)
  std::optional<Time> cutoff;  // rows at or before it go
  std::int64_t rows = 0;       // rows that would go
  std::int64_t left = 0;       // not final a day past the cut-off: passed, kept
};

struct RetentionPlan {
  std::vector<KindPlan> kinds;  // in kPruneKinds order
  db::Status status;            // not ok: the plan is incomplete
  std::int64_t total() const;
};

struct PruneResult {
  std::array<std::int64_t, kPruneKindCount> pruned{};  // by kPruneKinds index
  std::array<std::int64_t, kPruneKindCount> left{};
  std::int64_t looked = 0;  // rows looked at, at most max_rows
  bool more = false;        // stopped by max_rows: another batch has work
  db::Status status;        // not ok: the batch was rolled back, nothing changed
  std::int64_t total() const;
};

class Retention {
 public:
  Retention(db::Database& db, RetentionSettings settings) : db_(db), settings_(settings) {}

  // A reload's settings, for the next batch.
  void set_settings(const RetentionSettings& settings) { settings_ = settings; }
  const RetentionSettings& settings() const { return settings_; }

  // The days a kind is kept (from the settings), 0 for ever.
  int days(PruneKind kind) const;

  // What prune_batch would take at `now`, kind by kind; changes nothing.
  RetentionPlan plan(Time now);

  // One batch: at most max_rows rows looked at, in one transaction.
  PruneResult prune_batch(Time now, std::int64_t max_rows);

 private:
  // Where message_rows takes whole rows (nullopt: it never does).
  std::optional<Time> rows_cutoff(Time now) const;
  db::Database& db_;
  RetentionSettings settings_;
};

}  // namespace giftgate
