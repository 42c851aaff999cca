#include <doctest/doctest.h>

#include <fmt/format.h>

#include <string>

#include "daemon/storage/schema.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using giftgate::test::TempDir;

namespace {

std::unique_ptr<db::Database> open_at(const std::string& path, std::size_t migrations) {
  std::string error;
  auto db = db::Database::open({path, std::chrono::milliseconds(2000)},
                               schema_migrations().first(migrations), &error);
  INFO(error);
  REQUIRE(db);
  return db;
}

// How many temporary b-trees the statement opens each time it runs.
int ephemeral_tables(db::Database& db, const std::string& sql) {
  auto plan = db.prepare("EXPLAIN " + sql);
  int n = 0;
  while (plan.step() == giftgate::db::StepResult::row)
    if (plan.column_text(1) == "OpenEphemeral") ++n;
  REQUIRE(plan.status().ok());
  return n;
}

constexpr const char* kStateWrites[] = {
    "UPDATE outbox SET state = 'delivered', final_at = 'now' WHERE id = 1",
    "INSERT INTO outbox(msisdn, message, language, body, next_attempt_at, created_at) "
    "VALUES ('8613800000001', 'help', 'zh', 'x', 'now', 'now')",
    "UPDATE vouchers SET state = 'used' WHERE code = 'AB12345678'",
    "UPDATE offers SET state = 'confirmed' WHERE id = 1",
    "UPDATE merchants SET level = 'low' WHERE id = 'm1'",
};

void seed(db::Database& db) {
  REQUIRE(db.exec("INSERT INTO members(id, msisdn, city) VALUES (1, '8613800000001', 'beijing');"
                  "INSERT INTO merchants VALUES ('m1', 'Gold KTV', 'beijing', 'ktv', 'high');"
                  "INSERT INTO vouchers(code, member_id, tier, city, price, face_value, channel, "
                  "issued_at, expires_at) VALUES ('AB12345678', 1, 'C', 'beijing', 100, 20, "
                  "'sms', 'now', 'later');"
                  "INSERT INTO offers(member_id, tier, created_at, expires_at) "
                  "VALUES (1, 'C', 'now', 'later');"
                  "INSERT INTO outbox(msisdn, message, language, body, next_attempt_at, "
                  "created_at) VALUES ('8613800000001', 'help', 'zh', 'x', 'now', 'now');")
              .ok());
}

void checks_refuse_and_allow(db::Database& db) {
  CHECK(db.prepare("UPDATE outbox SET state = 'sent' WHERE id = 1").run().constraint());
  CHECK(db.prepare("UPDATE vouchers SET state = 'spent' WHERE code = 'AB12345678'").run().constraint());
  CHECK(db.prepare("UPDATE offers SET state = 'taken' WHERE id = 1").run().constraint());
  CHECK(db.prepare("UPDATE merchants SET level = 'top' WHERE id = 'm1'").run().constraint());
  for (const char* state : {"queued", "submitted", "delivered", "failed", "expired"})
    CHECK(db.prepare("UPDATE outbox SET state = ? WHERE id = 1").bind(1, state).run().ok());
  for (const char* state : {"issued", "used", "void"})
    CHECK(db.prepare("UPDATE vouchers SET state = ? WHERE code = 'AB12345678'").bind(1, state)
              .run().ok());
  for (const char* state : {"held", "confirmed", "replaced"})
    CHECK(db.prepare("UPDATE offers SET state = ? WHERE id = 1").bind(1, state).run().ok());
  for (const char* level : {"high", "middle", "low"})
    CHECK(db.prepare("UPDATE merchants SET level = ? WHERE id = 'm1'").bind(1, level).run().ok());
}

}  // namespace

TEST_CASE("schema: writing a state or level builds no temporary index") {
  TempDir dir;
  auto db = test::open_campaign_db(dir.file("c.db"));
  for (const char* sql : kStateWrites) {
    INFO(sql);
    CHECK(ephemeral_tables(*db, sql) == 0);
  }
}

TEST_CASE("schema: a version 6 database keeps its rows, and its checks, at version 7") {
  TempDir dir;
  const auto path = dir.file("c.db");
  {
    auto old = open_at(path, 6);
    REQUIRE(old->schema_version() == 6);
    seed(*old);
    CHECK(ephemeral_tables(*old, kStateWrites[0]) == 1);  // what version 7 is for
  }
  auto db = test::open_campaign_db(path);
  CHECK(db->schema_version() == schema_migrations().back().version);
  auto rows = db->prepare(
      "SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM vouchers) + "
      "(SELECT COUNT(*) FROM offers) + (SELECT COUNT(*) FROM merchants)");
  REQUIRE(rows.step() == giftgate::db::StepResult::row);
  CHECK(rows.column_int(0) == 4);
  for (const char* sql : kStateWrites) {
    INFO(sql);
    CHECK(ephemeral_tables(*db, sql) == 0);
  }
  checks_refuse_and_allow(*db);
  auto integrity = db->prepare("PRAGMA integrity_check");
  REQUIRE(integrity.step() == giftgate::db::StepResult::row);
  CHECK(integrity.column_text(0) == "ok");
}

TEST_CASE("schema: a table whose check is not the one shipped stops version 7, and says which") {
  TempDir dir;
  const auto path = dir.file("c.db");
  {
    auto old = open_at(path, 6);
    // As if someone had changed the table by hand.
    REQUIRE(old->exec("PRAGMA writable_schema=ON").ok());
    REQUIRE(old->exec("UPDATE sqlite_schema SET sql = replace(sql, '''middle'', ', '') "
                      "WHERE name = 'merchants'")
                .ok());
    REQUIRE(old->exec("PRAGMA writable_schema=OFF").ok());
  }
  std::string error;
  CHECK_FALSE(db::Database::open({path, std::chrono::milliseconds(2000)}, schema_migrations(), &error));
  CHECK(error.find("migration 7") != std::string::npos);
  CHECK(error.find("table merchants") != std::string::npos);
  auto db = open_at(path, 6);  // nothing of it was kept
  CHECK(db->schema_version() == 6);
  auto outbox = db->prepare("SELECT instr(sql, 'IN (''queued''') > 0 FROM sqlite_schema WHERE name = 'outbox'");
  REQUIRE(outbox.step() == giftgate::db::StepResult::row);
  CHECK(outbox.column_int(0) == 1);
}

TEST_CASE("schema: version 8 keeps the receipts and parts of version 7, with their outcome") {
  TempDir dir;
  const auto path = dir.file("c.db");
  {
    auto old = open_at(path, 7);
    seed(*old);
    REQUIRE(old->exec("INSERT INTO outbox_parts(outbox_id, attempt, part, total, message_id, "
                      "status, submitted_at) VALUES (1, 1, 1, 1, '77', 0, 'now');"
                      "INSERT INTO receipts(message_id, state, received_at, matched) VALUES "
                      "('77', 'DELIVRD', 'now', 1), ('88', 'DELIVRD', 'now', 0);")
                .ok());
  }
  auto db = test::open_campaign_db(path);
  CHECK(db->schema_version() == schema_migrations().back().version);
  auto q = db->prepare("SELECT group_concat(message_id || '=' || outcome) FROM receipts");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "77=applied,88=early");
  auto since = db->prepare("SELECT since_attempt FROM outbox WHERE id = 1");
  REQUIRE(since.step() == giftgate::db::StepResult::row);
  CHECK(since.column_int(0) == 1);
}

TEST_CASE("schema: version 9 makes the locks per number locks of their merchant, and orders the queue") {
  TempDir dir;
  const auto path = dir.file("c.db");
  {
    auto old = open_at(path, 8);
    seed(*old);
    REQUIRE(old->exec("INSERT INTO merchant_phones VALUES ('8613911111111', 'm1');"
                      "INSERT INTO merchant_phones VALUES ('8613911111112', 'm1');"
                      "INSERT INTO verify_failures(msisdn, at, reason) VALUES "
                      "('8613911111111', '2026-12-01T10:00:00Z', 'unknown');"
                      "INSERT INTO lockouts VALUES ('8613911111111', 'm1', "
                      "'2026-12-01T10:00:00Z', '2026-12-01T10:30:00Z', 5);"
                      "INSERT INTO lockouts VALUES ('8613911111112', 'm1', "
                      "'2026-12-01T10:05:00Z', '2026-12-01T10:35:00Z', 5);")
                .ok());
  }
  auto db = test::open_campaign_db(path);
  CHECK(db->schema_version() >= 9);
  auto lock = db->prepare("SELECT merchant_id, until, failures, reason FROM merchant_lockouts");
  REQUIRE(lock.step() == giftgate::db::StepResult::row);
  CHECK(lock.column_text(0) == "m1");
  CHECK(lock.column_text(1) == "2026-12-01T10:35:00Z");  // the later of the two
  CHECK(lock.column_int(2) == 10);
  CHECK(lock.column_text(3) == "window");
  CHECK_FALSE(lock.step() == giftgate::db::StepResult::row);
  auto failure = db->prepare("SELECT merchant_id FROM verify_failures");
  REQUIRE(failure.step() == giftgate::db::StepResult::row);
  CHECK(failure.column_text(0) == "m1");
  // The queued row got its place in the fair order: its first due time.
  auto queued = db->prepare("SELECT priority, fair_at FROM outbox WHERE id = 1");
  REQUIRE(queued.step() == giftgate::db::StepResult::row);
  CHECK(queued.column_int(0) == 1);
  CHECK(queued.column_text(1) == "now");
}

TEST_CASE("schema: the outbox is taken in its fair order without a sort") {
  TempDir dir;
  auto db = test::open_campaign_db(dir.file("c.db"));
  auto plan = db->prepare(
      "EXPLAIN QUERY PLAN SELECT id FROM outbox INDEXED BY outbox_fair WHERE state = 'queued' AND "
      "next_attempt_at <= ?1 AND (channel <> 'ussd' OR (expires_at > ?1 AND (?2 IS NULL OR "
      "route IS NULL OR route IN (SELECT value FROM json_each(?2))))) ORDER BY priority, "
      "fair_at, id LIMIT ?3");
  std::string steps;
  while (plan.step() == giftgate::db::StepResult::row) steps += plan.column_text(3) + "\n";
  INFO(steps);
  CHECK(steps.find("outbox_fair") != std::string::npos);
  CHECK(steps.find("TEMP B-TREE") == std::string::npos);
}

TEST_CASE("schema: version 10 keeps the history of version 9, and its rows name no real user") {
  TempDir dir;
  const auto path = dir.file("c.db");
  {
    auto old = open_at(path, 9);
    seed(*old);
    REQUIRE(old->exec("INSERT INTO ledger(member_id, delta, reason, channel, actor) VALUES "
                      "(1, 100, 'opening balance', 'import', 'li.na (m.csv)');"
                      "INSERT INTO events(kind, member_id, channel, actor) VALUES "
                      "('points', 1, 'giftctl', 'li.na');")
                .ok());
  }
  auto db = test::open_campaign_db(path);
  CHECK(db->schema_version() >= 10);
  auto q = db->prepare(
      "SELECT (SELECT COUNT(*) FROM ledger WHERE real_uid IS NULL AND real_user IS NULL), "
      "(SELECT COUNT(*) FROM events WHERE real_uid IS NULL AND real_user IS NULL)");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 1);
  CHECK(q.column_int(1) == 1);
  // Still append-only.
  CHECK_FALSE(db->exec("UPDATE events SET real_uid = 0").ok());
  CHECK_FALSE(db->exec("UPDATE ledger SET real_user = 'root'").ok());
}

TEST_CASE("schema: version 11 lets an MO's row go while the messages it caused stay") {
  TempDir dir;
  const auto path = dir.file("c.db");
  {
    auto old = open_at(path, 10);
    REQUIRE(old->exec("INSERT INTO members(id, msisdn, city) VALUES (1, '8613800000001', 'bj');"
                      "INSERT INTO outbox(msisdn, message, language, body, next_attempt_at, "
                      "created_at) VALUES ('8613800000001', 'help', 'zh', 'x', 'now', 'now');"
                      "INSERT INTO inbox(id, mo_key, msisdn, body, command, channel, received_at) "
                      "VALUES (7, 'k7', '8613800000001', 'JF', 'balance', 'sms', 'then');"
                      "UPDATE outbox SET inbox_id = 7 WHERE id = 1;")
                .ok());
    // Before: the reference keeps the MO's row.
    CHECK(old->exec("DELETE FROM inbox WHERE id = 7").constraint());
  }
  auto db = test::open_campaign_db(path);
  CHECK(db->schema_version() >= 11);
  REQUIRE(db->exec("DELETE FROM inbox WHERE id = 7").ok());
  auto q = db->prepare("SELECT inbox_id, state FROM outbox WHERE id = 1");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 7);  // the record of which MO asked stays
  CHECK(q.column_text(1) == "queued");
  // Every other reference still holds.
  CHECK(db->exec("PRAGMA foreign_key_check").ok());
  CHECK_FALSE(db->exec("INSERT INTO outbox_parts(outbox_id, attempt, part, total) "
                       "VALUES (99, 1, 1, 1)").ok());
  for (const char* table : {"backups", "size_history", "retention_cursors"})
    CHECK(db->prepare(fmt::format("SELECT COUNT(*) FROM {}", table)).step() ==
          giftgate::db::StepResult::row);
}

TEST_CASE("schema: version 12 reads a message's history from the outbox and message_history alike") {
  TempDir dir;
  const auto path = dir.file("c.db");
  {
    auto old = open_at(path, 11);
    REQUIRE(old->exec("INSERT INTO outbox(msisdn, message, language, body, state, "
                      "next_attempt_at, created_at, final_at) VALUES ('8613800000001', 'help', "
                      "'zh', 'x', 'delivered', 'a', 'a', 'b')")
                .ok());
  }
  auto db = test::open_campaign_db(path);
  CHECK(db->schema_version() >= 12);
  REQUIRE(db->exec("INSERT INTO message_history(id, msisdn, message, language, channel, state, "
                   "attempts, created_at, final_at) VALUES (9, '8613800000001', 'voucher', 'zh', "
                   "'sms', 'failed', 3, 'c', 'd')")
              .ok());
  auto q = db->prepare("SELECT id, message, state, body FROM messages ORDER BY id");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(1) == "help");
  CHECK(q.column_text(3) == "x");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 9);
  CHECK(q.column_text(2) == "failed");
  CHECK(q.column_text(3) == "");  // its text went before it moved
  // Only final states are history.
  CHECK(db->exec("INSERT INTO message_history(id, msisdn, message, language, channel, state, "
                 "attempts, created_at, final_at) VALUES (10, '1', 'help', 'zh', 'sms', "
                 "'queued', 1, 'c', 'd')")
            .constraint());
}

TEST_CASE("schema: version 13 records routes and SMSCs, NULL for what came before") {
  TempDir dir;
  const auto path = dir.file("c.db");
  {
    auto old = open_at(path, 12);
    REQUIRE(old->exec("INSERT INTO outbox(id, msisdn, message, language, body, next_attempt_at, "
                      "created_at) VALUES (1, '8613800000001', 'help', 'zh', 'x', 'now', 'now');"
                      "INSERT INTO outbox_parts(outbox_id, attempt, part, total, message_id, "
                      "status, submitted_at) VALUES (1, 1, 1, 1, '77', 0, 'now');"
                      "INSERT INTO receipts(message_id, state, received_at, matched) VALUES "
                      "('77', 'DELIVRD', 'now', 1);")
                .ok());
  }
  auto db = test::open_campaign_db(path);
  CHECK(db->schema_version() >= 13);
  auto q = db->prepare(
      "SELECT (SELECT route IS NULL FROM outbox WHERE id = 1), (SELECT smsc IS NULL FROM "
      "outbox_parts WHERE outbox_id = 1), (SELECT smsc IS NULL FROM receipts WHERE "
      "message_id = '77')");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 1);
  CHECK(q.column_int(1) == 1);
  CHECK(q.column_int(2) == 1);
  REQUIRE(db->exec("UPDATE outbox SET route = 'smsc-a#2' WHERE id = 1;"
                   "UPDATE outbox_parts SET smsc = 'smsc-a' WHERE outbox_id = 1;"
                   "INSERT INTO receipts(message_id, state, received_at, smsc) VALUES "
                   "('77', 'DELIVRD', 'now', 'smsc-b');")
              .ok());
  // The messages view still reads the outbox as it did.
  auto view = db->prepare("SELECT COUNT(*) FROM messages WHERE id = 1 AND body = 'x'");
  REQUIRE(view.step() == giftgate::db::StepResult::row);
  CHECK(view.column_int(0) == 1);
}
