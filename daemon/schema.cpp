#include "daemon/schema.hpp"

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

constexpr db::Migration kMigrations[] = {
    {1, kVersion1},
};

}  // namespace

std::span<const db::Migration> schema_migrations() { return kMigrations; }

}  // namespace giftgate
