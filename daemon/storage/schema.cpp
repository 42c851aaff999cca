#include "daemon/storage/schema.hpp"

#include <span>

#include <fmt/format.h>

namespace giftgate {
namespace {

// Version 1: members, the points ledger and the append-only event history.
// The balance is never stored: it is the sum of the ledger.
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE members (
  id            INTEGER PRIMARY KEY,
  msisdn        TEXT NOT NULL UNIQUE,            -- E.164 digits, no '+'
  city          TEXT NOT NULL,
  language      TEXT NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
  care_opt_out  INTEGER NOT NULL DEFAULT 0 CHECK (care_opt_out IN (0, 1)),
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE ledger (
  id          INTEGER PRIMARY KEY,
  member_id   INTEGER NOT NULL REFERENCES members(id),
  delta       INTEGER NOT NULL CHECK (delta <> 0),
  reason      TEXT NOT NULL,
  channel     TEXT NOT NULL,     -- sms, ussd, giftctl, import
  actor       TEXT NOT NULL,     -- operator name, file, message id
  reference   TEXT UNIQUE,       -- makes an entry idempotent: the same reference adds once
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX ledger_member ON ledger(member_id);

-- Every change of points or of a voucher, with who or what caused it, so a
-- complaint can be answered from the history. Never updated or deleted.
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  kind        TEXT NOT NULL,
  member_id   INTEGER REFERENCES members(id),
  channel     TEXT NOT NULL,
  actor       TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_member ON events(member_id);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER ledger_append_only_update BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_append_only_delete BEFORE DELETE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
)sql";

// Version 2: tiers' stock per city, merchants, and vouchers. A voucher's
// state changes only by a conditional UPDATE (issued -> used or void), so it
// goes from unused to used exactly once.
constexpr std::string_view kVersion2 = R"sql(
CREATE TABLE stock (
  tier      TEXT NOT NULL,
  city      TEXT NOT NULL,
  quantity  INTEGER NOT NULL CHECK (quantity >= 0),
  PRIMARY KEY (tier, city)
);

CREATE TABLE merchants (
  id     TEXT PRIMARY KEY,
  name   TEXT NOT NULL,
  city   TEXT NOT NULL,
  kind   TEXT NOT NULL CHECK (kind IN ('ktv', 'cinema')),
  level  TEXT NOT NULL CHECK (level IN ('high', 'middle', 'low'))
);
CREATE TABLE merchant_phones (
  msisdn       TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL REFERENCES merchants(id)
);
CREATE TABLE merchant_offers (
  merchant_id  TEXT NOT NULL REFERENCES merchants(id),
  tier         TEXT NOT NULL,
  offer        TEXT NOT NULL,
  PRIMARY KEY (merchant_id, tier)
);

CREATE TABLE vouchers (
  code        TEXT PRIMARY KEY,
  member_id   INTEGER NOT NULL REFERENCES members(id),
  tier        TEXT NOT NULL,
  city        TEXT NOT NULL,
  price       INTEGER NOT NULL,
  face_value  INTEGER NOT NULL,
  state       TEXT NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'used', 'void')),
  channel     TEXT NOT NULL,
  request     TEXT UNIQUE,   -- the MO or session that asked: asked twice, issued once
  issued_at   TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  used_by     TEXT REFERENCES merchants(id)
);
CREATE INDEX vouchers_member ON vouchers(member_id);
ALTER TABLE events ADD COLUMN voucher_code TEXT;
CREATE INDEX events_voucher ON events(voucher_code);
)sql";

// Version 3: offers held for confirmation, and the brute-force guard on
// verification (wrong codes per number, and numbers locked out).
constexpr std::string_view kVersion3 = R"sql(
CREATE TABLE offers (
  id          INTEGER PRIMARY KEY,
  member_id   INTEGER NOT NULL REFERENCES members(id),
  tier        TEXT NOT NULL,
  request     TEXT UNIQUE,   -- the ask that held it: asked twice, held once
  state       TEXT NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'confirmed', 'replaced')),
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL
);
CREATE INDEX offers_member ON offers(member_id, id);

CREATE TABLE verify_failures (
  id      INTEGER PRIMARY KEY,
  msisdn  TEXT NOT NULL,
  at      TEXT NOT NULL,
  reason  TEXT NOT NULL
);
CREATE INDEX verify_failures_msisdn ON verify_failures(msisdn, at);

CREATE TABLE lockouts (
  msisdn       TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL,
  since        TEXT NOT NULL,
  until        TEXT NOT NULL,
  failures     INTEGER NOT NULL
);

CREATE INDEX vouchers_issued_at ON vouchers(issued_at);
)sql";

// Version 4: messages. Every MO handled (keyed so a redelivery is known),
// every outbound message with its state and attempts, each attempt's parts
// with the SMSC's message id, and every delivery receipt, matched or not.
constexpr std::string_view kVersion4 = R"sql(
CREATE TABLE inbox (
  id           INTEGER PRIMARY KEY,
  mo_key       TEXT NOT NULL UNIQUE,   -- the same MO delivered again has the same key
  msisdn       TEXT NOT NULL,
  body         TEXT NOT NULL,
  command      TEXT NOT NULL,
  channel      TEXT NOT NULL,
  received_at  TEXT NOT NULL
);

CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  msisdn           TEXT NOT NULL,
  member_id        INTEGER REFERENCES members(id),
  message          TEXT NOT NULL,   -- the template's name
  language         TEXT NOT NULL,
  body             TEXT NOT NULL,
  voucher_code     TEXT,            -- set on the message that carries a code
  inbox_id         INTEGER REFERENCES inbox(id),
  state            TEXT NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'submitted', 'delivered', 'failed', 'expired')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  final_at         TEXT,
  last_error       TEXT
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_member ON outbox(member_id);
CREATE INDEX outbox_voucher ON outbox(voucher_code);

CREATE TABLE outbox_parts (
  outbox_id     INTEGER NOT NULL REFERENCES outbox(id),
  attempt       INTEGER NOT NULL,
  part          INTEGER NOT NULL,
  total         INTEGER NOT NULL,
  message_id    TEXT,      -- the SMSC's id for this part, normalised
  status        INTEGER,   -- submit_sm_resp command_status
  receipt       TEXT,      -- DELIVRD, UNDELIV, REJECTD, EXPIRED, ...
  submitted_at  TEXT,
  receipt_at    TEXT,
  PRIMARY KEY (outbox_id, attempt, part)
);
CREATE INDEX outbox_parts_message ON outbox_parts(message_id);

CREATE TABLE receipts (
  id           INTEGER PRIMARY KEY,
  message_id   TEXT NOT NULL,
  state        TEXT NOT NULL,
  error        TEXT,
  received_at  TEXT NOT NULL,
  matched      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX receipts_message ON receipts(message_id);
)sql";

// Version 5: telling a redelivered MO from a member sending the same text
// again. An SMSC delivers an MO again only when our answer did not reach it:
// the connection dropped, or the daemon stopped, between commit and answer.
// So a repeat counts as a redelivery when it comes on another connection
// (epoch) within the window; on the same connection it is a new message.
constexpr std::string_view kVersion5 = R"sql(
ALTER TABLE inbox ADD COLUMN fingerprint TEXT;
ALTER TABLE inbox ADD COLUMN epoch TEXT;
CREATE INDEX inbox_fingerprint ON inbox(fingerprint, received_at);
)sql";

// Version 6: USSD. A session's place in the menus lives in a row, so a
// step and everything it causes commit together, and a restart loses no
// confirmed redemption. A screen is an outbox message on channel 'ussd':
// the operation and session to answer with, no receipt (delivered when the
// centre accepts it), never resent, expired when its session is over.
constexpr std::string_view kVersion6 = R"sql(
CREATE TABLE ussd_sessions (
  id           INTEGER PRIMARY KEY,
  msisdn       TEXT NOT NULL,
  session_key  TEXT NOT NULL,   -- its_session_info number, or user_message_reference
  language     TEXT NOT NULL,
  state        TEXT NOT NULL,   -- main, pick_tier, confirm, merchants
  tier         TEXT,
  page         INTEGER NOT NULL DEFAULT 0,
  started_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  ended_at     TEXT,
  end_reason   TEXT             -- done, timeout, abort, replaced
);
CREATE INDEX ussd_sessions_live ON ussd_sessions(msisdn, session_key, ended_at);
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
ALTER TABLE outbox ADD COLUMN ussd_op INTEGER;
ALTER TABLE outbox ADD COLUMN ussd_session TEXT;  -- session,sequence,umr of the request
ALTER TABLE outbox ADD COLUMN expires_at TEXT;
)sql";

// Version 7: the same checks of a state or level, written as comparisons.
// For "x IN (a, b, c)" (a list of more than two) SQLite builds a temporary
// index each time it checks a row, and the daemon writes an outbox row three
// times per message: that was a tenth of its database time. "x = a OR x = b
// OR x = c" allows exactly the same values without it. Only the constraint's
// text changes, never what is stored, so the stored CREATE TABLE text is
// edited in place, the way SQLite's ALTER TABLE documentation describes for
// constraints, and the schema version is raised so that every connection
// reads the schema again.
struct CheckRewrite {
  std::string_view table;
  std::string_view before;
  std::string_view after;
};

constexpr CheckRewrite kCheckRewrites[] = {
    {"outbox", "CHECK (state IN ('queued', 'submitted', 'delivered', 'failed', 'expired'))",
     "CHECK (state = 'queued' OR state = 'submitted' OR state = 'delivered' OR "
     "state = 'failed' OR state = 'expired')"},
    {"vouchers", "CHECK (state IN ('issued', 'used', 'void'))",
     "CHECK (state = 'issued' OR state = 'used' OR state = 'void')"},
    {"offers", "CHECK (state IN ('held', 'confirmed', 'replaced'))",
     "CHECK (state = 'held' OR state = 'confirmed' OR state = 'replaced')"},
    {"merchants", "CHECK (level IN ('high', 'middle', 'low'))",
     "CHECK (level = 'high' OR level = 'middle' OR level = 'low')"},
};

// Edits the stored CREATE TABLE text of each table in `rewrites` (each
// must be found exactly once), then raises the schema version so every
// connection reads the schema again.
db::Status rewrite_schema(db::Database& db, std::span<const CheckRewrite> rewrites) {
  auto version = db.prepare("PRAGMA schema_version");
  switch (version.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return db::Status{1, "no schema version"};
    case db::StepResult::error: return version.status();
  }
  const std::int64_t was = version.column_int(0);
  if (auto s = db.exec("PRAGMA writable_schema=ON"); !s.ok()) return s;
  db::Status s;
  for (const auto& c : rewrites) {
    auto edit = db.prepare(
        "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ? "
        "AND instr(sql, ?) > 0");
    s = edit.bind(1, c.before).bind(2, c.after).bind(3, c.table).bind(4, c.before).run();
    if (s.ok() && db.changes() != 1)
      s = {1, fmt::format("table {}: its definition does not contain \"{}\"", c.table, c.before)};
    if (!s.ok()) break;
  }
  if (s.ok()) s = db.exec(fmt::format("PRAGMA schema_version={}", was + 1));
  const auto off = db.exec("PRAGMA writable_schema=OFF");
  return s.ok() ? off : s;
}

db::Status rewrite_checks(db::Database& db) { return rewrite_schema(db, kCheckRewrites); }

// Version 8: receipts applied only to their own message, and resends of
// only the parts that failed.
// - A message id of digits only may be decimal or hexadecimal until the
//   SMSC's format is learnt: the second reading goes in message_id_alt, on
//   the parts and on the receipts, so either side's reading finds the other.
// - A receipt names the original recipient (recipient, normalised); it is
//   applied only to a message to that number. Its outcome: applied, early
//   (no part has its id yet: it waits for the submit_sm_resp), unmatched or
//   ambiguous (two messages could be meant: applied to neither).
// - A part's row is written when it is sent (status NULL until the SMSC
//   answers; -1 when no answer came), so a resend knows which parts are in
//   flight, which the handset has, and which failed.
// - detail: what the SMSC's optional parameters said (failure reason,
//   network error code, status text).
// - since_attempt: an operator's resend sends every part again; rows of
//   the attempts before it no longer count for the message's state.
constexpr std::string_view kVersion8 = R"sql(
ALTER TABLE outbox ADD COLUMN since_attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE outbox_parts ADD COLUMN message_id_alt TEXT;
ALTER TABLE outbox_parts ADD COLUMN detail TEXT;
CREATE INDEX outbox_parts_message_alt ON outbox_parts(message_id_alt)
  WHERE message_id_alt IS NOT NULL;
ALTER TABLE receipts ADD COLUMN message_id_alt TEXT;
ALTER TABLE receipts ADD COLUMN recipient TEXT;
ALTER TABLE receipts ADD COLUMN detail TEXT;
ALTER TABLE receipts ADD COLUMN outcome TEXT NOT NULL DEFAULT 'applied';
UPDATE receipts SET outcome = 'early' WHERE matched = 0;
CREATE INDEX receipts_early ON receipts(message_id) WHERE outcome = 'early';
CREATE INDEX receipts_early_alt ON receipts(message_id_alt) WHERE outcome = 'early';
)sql";

// Version 9: one number cannot flood the service or starve the others, and
// guessing codes does not pay.
// - inbox_msisdn, outbox_msisdn: what a number sent and was sent lately,
//   counted against the limits section for every MO.
// - priority and fair_at: the outbox is served by priority (0 USSD
//   screens, 1 replies and voucher SMS, 2 bulk) and, within one, by a
//   per-number virtual time: each SMS queued for a number that already has
//   some waiting comes a second after the last of them, so one number's
//   backlog goes behind everyone else's first message. Only the order uses
//   it; next_attempt_at still says when a message may go.
// - The verification guard counts wrong codes per merchant (all its numbers
//   together) and locks the merchant; the locks per number are carried over
//   as locks of their merchant.
constexpr std::string_view kVersion9 = R"sql(
CREATE INDEX inbox_msisdn ON inbox(msisdn, received_at);
CREATE INDEX outbox_msisdn ON outbox(msisdn, created_at);
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
ALTER TABLE outbox ADD COLUMN fair_at TEXT;
UPDATE outbox SET priority = 0 WHERE channel = 'ussd';
UPDATE outbox SET fair_at = next_attempt_at WHERE state = 'queued';
CREATE INDEX outbox_fair ON outbox(priority, fair_at) WHERE state = 'queued';

ALTER TABLE verify_failures ADD COLUMN merchant_id TEXT;
UPDATE verify_failures SET merchant_id =
  (SELECT p.merchant_id FROM merchant_phones p WHERE p.msisdn = verify_failures.msisdn);
CREATE INDEX verify_failures_merchant ON verify_failures(merchant_id, at);
CREATE TABLE merchant_lockouts (
  merchant_id  TEXT PRIMARY KEY,
  since        TEXT NOT NULL,
  until        TEXT NOT NULL,
  failures     INTEGER NOT NULL,
  reason       TEXT NOT NULL,   -- window (too many at once) or daily (the day's cap)
  cleared_at   TEXT             -- an operator's unlock: failures before it no longer count
);
INSERT INTO merchant_lockouts(merchant_id, since, until, failures, reason)
  SELECT merchant_id, MIN(since), MAX(until), SUM(failures), 'window' FROM lockouts
  GROUP BY merchant_id;
DROP TABLE lockouts;
)sql";

// Version 10: operators' control, and what their changes record.
// - real_uid, real_user: on events and ledger entries made by giftctl, the
//   account that really ran it (getuid() and its name in the password
//   database), beside the actor, the operator name given with --operator or
//   taken from $USER, which anyone can set. NULL for the daemon's changes.
// - merchants.disabled: set by giftctl merchant disable. A disabled
//   merchant's numbers verify nothing and it is listed to no member; it
//   keeps its numbers, offers and vouchers used there.
constexpr std::string_view kVersion10 = R"sql(
ALTER TABLE events ADD COLUMN real_uid INTEGER;
ALTER TABLE events ADD COLUMN real_user TEXT;
ALTER TABLE ledger ADD COLUMN real_uid INTEGER;
ALTER TABLE ledger ADD COLUMN real_user TEXT;
ALTER TABLE merchants ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0
  CHECK (disabled = 0 OR disabled = 1);
)sql";

// Version 11: running a whole campaign on one file.
// - backups: each copy giftctl backup made and checked; the newest is the
//   metric of the last backup's age.
// - size_history: the file's size once a day (the daemon's sample), so
//   giftctl stats can say how fast it grows.
// - retention_cursors: how far pruning has gone through each table, by
//   row id (rows are written in time order), so a batch starts where the
//   last one stopped instead of scanning what is already pruned.
// - outbox.inbox_id no longer REFERENCES inbox(id): the MO's row is pruned
//   after the retention period while the message's row, with its final
//   state, is kept for ever. The number stays as a plain record of which MO
//   asked. (With the reference, each inbox row deleted would also scan the
//   whole outbox for rows naming it.) Only the constraint's text changes,
//   the way version 7 changed its checks.
constexpr std::string_view kVersion11 = R"sql(
CREATE TABLE backups (
  id           INTEGER PRIMARY KEY,
  started_at   TEXT NOT NULL,
  finished_at  TEXT NOT NULL,
  path         TEXT NOT NULL,
  bytes        INTEGER NOT NULL,
  actor        TEXT NOT NULL
);
CREATE TABLE size_history (
  day          TEXT PRIMARY KEY,     -- YYYY-MM-DD, UTC
  bytes        INTEGER NOT NULL,     -- pages in use and free, times the page size
  free_bytes   INTEGER NOT NULL,     -- of which on the free list, reused before the file grows
  wal_bytes    INTEGER NOT NULL,
  recorded_at  TEXT NOT NULL
);
CREATE TABLE retention_cursors (
  kind     TEXT PRIMARY KEY,
  last_id  INTEGER NOT NULL
);
)sql";

constexpr CheckRewrite kVersion11Rewrites[] = {
    {"outbox", "inbox_id         INTEGER REFERENCES inbox(id),", "inbox_id         INTEGER,"},
};

db::Status soften_inbox_reference(db::Database& db) {
  return rewrite_schema(db, kVersion11Rewrites);
}

// Version 12: what is kept for ever of a message, kept small. Once both its
// body (retention.message_days) and its parts and receipts
// (retention.receipt_days) are past retention, a final message's row moves
// from the outbox to message_history: its final state, attempts, template,
// voucher code and the MO it answered, in a row a third of the size, with
// two indexes instead of five. The outbox then only holds the months that
// may still be resent or asked about in full, and the pages its old rows
// leave are reused, so it stops growing. messages is both, for everything
// that reads a member's or a voucher's history.
constexpr std::string_view kVersion12 = R"sql(
CREATE TABLE message_history (
  id            INTEGER PRIMARY KEY,   -- the id it had in the outbox
  msisdn        TEXT NOT NULL,
  member_id     INTEGER,
  message       TEXT NOT NULL,
  language      TEXT NOT NULL,
  channel       TEXT NOT NULL,
  voucher_code  TEXT,
  inbox_id      INTEGER,
  state         TEXT NOT NULL
                CHECK (state = 'delivered' OR state = 'failed' OR state = 'expired'),
  attempts      INTEGER NOT NULL,
  created_at    TEXT NOT NULL,
  final_at      TEXT NOT NULL,
  last_error    TEXT
);
CREATE INDEX message_history_msisdn ON message_history(msisdn);
CREATE INDEX message_history_voucher ON message_history(voucher_code)
  WHERE voucher_code IS NOT NULL;
CREATE VIEW messages AS
  SELECT id, msisdn, member_id, message, language, channel, body, voucher_code, inbox_id, state,
         attempts, created_at, final_at, last_error FROM outbox
  UNION ALL
  SELECT id, msisdn, member_id, message, language, channel, '', voucher_code, inbox_id, state,
         attempts, created_at, final_at, last_error FROM message_history;
)sql";

// Version 13: several SMSCs. A message id is unique per SMSC only, so a
// receipt is matched by the SMSC it came from and the id together.
// - outbox.route: where the MO that caused the message came from, as the
//   gateway names it ("SMSCID", or "SMSCID#BIND" where a USSD answer must
//   go back on the very bind the step came on). NULL for messages no MO
//   caused (giftctl, imports).
// - outbox_parts.smsc: the SMSC a part was handed to; NULL for rows from
//   before this version, which any receipt with their id may match.
// - receipts.smsc: the SMSC a receipt came from.
// message_history keeps none of them: they only matter while a message is
// sent and its receipts come in.
constexpr std::string_view kVersion13 = R"sql(
ALTER TABLE outbox ADD COLUMN route TEXT;
ALTER TABLE outbox_parts ADD COLUMN smsc TEXT;
ALTER TABLE receipts ADD COLUMN smsc TEXT;
)sql";

// Version 14: pushes and reminders, messages no MO asked for.
// - pushes: one row per push (giftctl push create): its template, audience
//   (the expression's canonical text), window, holdout and rate, its state,
//   and how far its selection and its queueing have gone (members.id
//   cursors), so that a restart goes on where the last committed batch
//   stopped and nobody is selected or queued twice.
// - push_recipients: every member the audience selected, sent or held out,
//   and what became of their turn. Ten million rows for one push to the
//   whole club, so it is kept small: no rowid, the state as a short word,
//   the time as seconds since 1970 (an integer takes 4 to 6 bytes, the
//   ISO text 20).
// - push_counts: each push's messages by outbox state (and 'sent': left the
//   queue at least once), kept by triggers on the outbox in the same
//   transaction as the change, so every path that moves a message (sending,
//   receipts, the sweep, recovery, an operator's resend) counts, and the
//   metrics read a handful of rows instead of counting millions.
// - outbox.push_id: the push a message belongs to (NULL for all else).
// - members.last_push_at: when the member was last queued a push (seconds
//   since 1970), for pushes.member_interval_hours across pushes.
// - vouchers.reminded_at: the reminder before expiry was queued (once per
//   voucher); the partial index finds the unreminded unused ones by expiry.
constexpr std::string_view kVersion14 = R"sql(
CREATE TABLE pushes (
  id             INTEGER PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  template       TEXT NOT NULL,
  audience       TEXT NOT NULL,
  state          TEXT NOT NULL DEFAULT 'scheduled'
                 CHECK (state = 'scheduled' OR state = 'selecting' OR state = 'sending' OR
                        state = 'done' OR state = 'cancelled' OR state = 'expired'),
  paused         INTEGER NOT NULL DEFAULT 0 CHECK (paused = 0 OR paused = 1),
  start_at       TEXT NOT NULL,
  until_at       TEXT,
  holdout_pct    INTEGER NOT NULL DEFAULT 0 CHECK (holdout_pct >= 0 AND holdout_pct <= 90),
  rate           INTEGER,          -- messages a second; NULL: pushes.rate
  select_cursor  INTEGER NOT NULL DEFAULT 0,   -- members.id selected up to
  feed_cursor    INTEGER NOT NULL DEFAULT 0,   -- push_recipients.member_id handled up to
  targeted       INTEGER NOT NULL DEFAULT 0,   -- selected, held out included
  held_out       INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  started_at     TEXT,
  finished_at    TEXT
);
CREATE TABLE push_recipients (
  push_id    INTEGER NOT NULL,
  member_id  INTEGER NOT NULL,
  -- pending, holdout (selected, not to be sent: the comparison group),
  -- queued (in the outbox, outbox_id), opted_out, too_soon (another push
  -- within pushes.member_interval_hours), expired (its turn had not come
  -- by --until), cancelled
  state      TEXT NOT NULL,
  at         INTEGER,          -- when its turn came, seconds since 1970
  outbox_id  INTEGER,
  PRIMARY KEY (push_id, member_id)
) WITHOUT ROWID;
CREATE TABLE push_counts (
  push_id  INTEGER NOT NULL,
  what     TEXT NOT NULL,      -- an outbox state, or sent
  n        INTEGER NOT NULL,
  PRIMARY KEY (push_id, what)
) WITHOUT ROWID;
ALTER TABLE outbox ADD COLUMN push_id INTEGER;
CREATE INDEX outbox_push ON outbox(push_id, state) WHERE push_id IS NOT NULL;
CREATE TRIGGER outbox_push_insert AFTER INSERT ON outbox WHEN NEW.push_id IS NOT NULL BEGIN
  INSERT INTO push_counts(push_id, what, n) VALUES (NEW.push_id, NEW.state, 1)
    ON CONFLICT (push_id, what) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER outbox_push_state AFTER UPDATE OF state ON outbox
  WHEN NEW.push_id IS NOT NULL AND NEW.state <> OLD.state BEGIN
  UPDATE push_counts SET n = n - 1 WHERE push_id = NEW.push_id AND what = OLD.state;
  INSERT INTO push_counts(push_id, what, n) VALUES (NEW.push_id, NEW.state, 1)
    ON CONFLICT (push_id, what) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER outbox_push_sent AFTER UPDATE OF attempts ON outbox
  WHEN NEW.push_id IS NOT NULL AND (OLD.attempts = 0) <> (NEW.attempts = 0) BEGIN
  INSERT INTO push_counts(push_id, what, n)
    VALUES (NEW.push_id, 'sent', CASE WHEN NEW.attempts = 0 THEN -1 ELSE 1 END)
    ON CONFLICT (push_id, what) DO UPDATE SET n = n + excluded.n;
END;
ALTER TABLE members ADD COLUMN last_push_at INTEGER;
ALTER TABLE vouchers ADD COLUMN reminded_at TEXT;
CREATE INDEX vouchers_to_remind ON vouchers(expires_at)
  WHERE state = 'issued' AND reminded_at IS NULL;
)sql";

// Version 15: the HTTP API's clients and the website's sign-in.
// - api_keys: one row per client (giftctl api-key create), its role and,
//   for a merchant's terminal, its merchant; only the SHA-256 of the secret
//   is kept (the secret is 32 random bytes, shown once). Revoked keys stay,
//   so the history keeps naming them.
// - web_codes: one-time codes sent by SMS for the website's sign-in, kept
//   as hashes with their number, the client address the website reported,
//   expiry and wrong tries (rate limits and lock-out count these rows).
// - web_tokens: the short-lived member tokens a code was exchanged for,
//   as hashes.
// - vouchers_used_by: a merchant's verifications of a day (settlement).
// - ledger_feed: the redemption feed for the points system (deductions by
//   redemption and refunds by void), read by id after a cursor.
constexpr std::string_view kVersion15 = R"sql(
CREATE TABLE api_keys (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  role          TEXT NOT NULL CHECK (role IN ('merchant', 'desk', 'points', 'web')),
  merchant_id   TEXT REFERENCES merchants(id),
  secret_hash   BLOB NOT NULL,
  created_at    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  revoked_at    TEXT,
  revoked_by    TEXT,
  revoke_reason TEXT,
  last_used_at  TEXT,
  CHECK ((role = 'merchant') = (merchant_id IS NOT NULL))
);
CREATE TABLE web_codes (
  id          INTEGER PRIMARY KEY,
  msisdn      TEXT NOT NULL,
  address     TEXT NOT NULL,
  key_id      INTEGER NOT NULL,
  code_hash   BLOB NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  state       TEXT NOT NULL DEFAULT 'open'
              CHECK (state IN ('open', 'used', 'locked', 'replaced'))
);
CREATE INDEX web_codes_msisdn ON web_codes(msisdn, created_at);
CREATE INDEX web_codes_address ON web_codes(address, created_at);
CREATE TABLE web_tokens (
  token_hash  BLOB PRIMARY KEY,
  member_id   INTEGER NOT NULL,
  key_id      INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX vouchers_used_by ON vouchers(used_by, used_at) WHERE used_by IS NOT NULL;
CREATE INDEX ledger_feed ON ledger(id)
  WHERE reference LIKE 'redeem:%' OR reference LIKE 'void:%';
)sql";

// Version 16: the service desk console's agents and sessions, and complaints.
// - agents: one row per account (giftctl agent add), its role and the
//   scrypt hash of its password; failures and locked_until are the
//   lock-out after wrong passwords.
// - console_sessions: a signed-in browser, by the SHA-256 of its cookie's
//   token, with its CSRF token, language and when it was last seen.
// - complaints and complaint_notes: a member's complaint (on a voucher or
//   not), its notes, and how it was closed.
constexpr std::string_view kVersion16 = R"sql(
CREATE TABLE agents (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
  password_hash TEXT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  failures      INTEGER NOT NULL DEFAULT 0,
  locked_until  TEXT,
  created_at    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  last_sign_in  TEXT
);
CREATE TABLE console_sessions (
  token_hash  BLOB PRIMARY KEY,
  agent_id    INTEGER NOT NULL REFERENCES agents(id),
  csrf        TEXT NOT NULL,
  language    TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh')),
  address     TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  last_seen   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_agent ON console_sessions(agent_id);
CREATE TABLE complaints (
  id            INTEGER PRIMARY KEY,
  member_id     INTEGER NOT NULL REFERENCES members(id),
  voucher_code  TEXT,
  category      TEXT NOT NULL,
  text          TEXT NOT NULL,
  state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  opened_by     TEXT NOT NULL,
  opened_at     TEXT NOT NULL,
  closed_by     TEXT,
  closed_at     TEXT,
  outcome       TEXT,
  CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX complaints_open ON complaints(opened_at) WHERE state = 'open';
CREATE INDEX complaints_member ON complaints(member_id);
CREATE TABLE complaint_notes (
  id            INTEGER PRIMARY KEY,
  complaint_id  INTEGER NOT NULL REFERENCES complaints(id),
  at            TEXT NOT NULL,
  by            TEXT NOT NULL,
  text          TEXT NOT NULL
);
CREATE INDEX complaint_notes_complaint ON complaint_notes(complaint_id);
)sql";

constexpr db::Migration kMigrations[] = {
    {1, kVersion1},
    {2, kVersion2},
    {3, kVersion3},
    {4, kVersion4},
    {5, kVersion5},
    {6, kVersion6},
    {7, "", rewrite_checks},
    {8, kVersion8},
    {9, kVersion9},
    {10, kVersion10},
    {11, kVersion11, soften_inbox_reference},
    {12, kVersion12},
    {13, kVersion13},
    {14, kVersion14},
    {15, kVersion15},
    {16, kVersion16},
};

}  // namespace

std::span<const db::Migration> schema_migrations() { return kMigrations; }

}  // namespace giftgate
