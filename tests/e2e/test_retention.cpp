// giftgated prunes by itself: rows seeded with old times before it starts
// go within a few of its batches, the rest stays, and the metrics say so.
#include "tests/e2e/gate.hpp"

#include "daemon/campaign/vouchers.hpp"

using namespace giftgate;
using namespace giftgate::e2e;

namespace {

Time wall_now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace

TEST_CASE("giftgated: prunes old rows at quiet times, keeps the rest, and counts them") {
  Gate g("retention:\n  inbox_days: 2\n  batch_rows: 20\n  batch_interval_ms: 50\n");
  const Time now = wall_now();
  const std::string old_at = iso_time(now - std::chrono::days(200));
  const std::string recent = iso_time(now - std::chrono::hours(1));
  {
    auto db = test::open_campaign_db(g.db_path);
    for (int i = 0; i < 30; ++i) {
      REQUIRE(db->prepare("INSERT INTO inbox(mo_key, msisdn, body, command, channel, "
                          "received_at) VALUES (?, '8613800138000', 'JF', 'balance', 'sms', ?)")
                  .bind(1, fmt::format("old{}", i))
                  .bind(2, old_at)
                  .run()
                  .ok());
      REQUIRE(db->prepare("INSERT INTO receipts(message_id, state, received_at) "
                          "VALUES ('x', 'DELIVRD', ?)")
                  .bind(1, old_at)
                  .run()
                  .ok());
    }
    REQUIRE(db->prepare("INSERT INTO outbox(msisdn, message, language, body, state, "
                        "next_attempt_at, created_at, final_at) VALUES ('8613800138000', "
                        "'balance', 'zh', 'old text', 'delivered', ?1, ?1, ?1)")
                .bind(1, old_at)
                .run()
                .ok());
    const auto old_message = db->last_insert_id();
    REQUIRE(db->prepare("INSERT INTO outbox_parts(outbox_id, attempt, part, total, message_id) "
                        "VALUES (?, 1, 1, 1, 'old-part')")
                .bind(1, old_message)
                .run()
                .ok());
    REQUIRE(db->prepare("INSERT INTO inbox(mo_key, msisdn, body, command, channel, received_at) "
                        "VALUES ('recent', '8613800138000', 'JF', 'balance', 'sms', ?)")
                .bind(1, recent)
                .run()
                .ok());
    REQUIRE(db->prepare("INSERT INTO backups(started_at, finished_at, path, bytes, actor) "
                        "VALUES (?1, ?1, '/backup/c.db', 1, 'e2e')")
                .bind(1, recent)
                .run()
                .ok());
  }
  g.enable_metrics();
  g.start();

  // 61 rows in batches of 20 looked at every 50 ms: well inside 10 s.
  CHECK(g.wait_value("SELECT COUNT(*) FROM inbox", 1, 10s));
  CHECK(g.wait_value("SELECT COUNT(*) FROM receipts", 0, 10s));
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox_parts WHERE message_id = 'old-part'", 0, 10s));
  // Past both its body's and its parts' days, the message's row moved to
  // the history with its final state.
  CHECK(g.wait_value("SELECT COUNT(*) FROM message_history WHERE state = 'delivered' AND "
                     "message = 'balance'",
                     1, 10s));
  CHECK(g.value(fmt::format("SELECT COUNT(*) FROM outbox WHERE created_at = '{}'", old_at)) == 0);
  CHECK(g.value("SELECT COUNT(*) FROM inbox WHERE mo_key = 'recent'") == 1);
  CHECK(g.value(fmt::format("SELECT COUNT(*) FROM size_history WHERE day = '{}'",
                            iso_time(wall_now()).substr(0, 10))) == 1);

  // Still serving, with what was pruned counted.
  CHECK(contains(g.ask("8613800138000", "JF"), "12000"));
  CHECK(g.metric("giftgate_rows_pruned_total{kind=\"inbox\"}") == 30);
  CHECK(g.metric("giftgate_rows_pruned_total{kind=\"receipts\"}") == 30);
  CHECK(g.metric("giftgate_rows_pruned_total{kind=\"message_rows\"}") == 1);
  CHECK(g.metric("giftgate_db_bytes") > 0);
  CHECK(g.metric("giftgate_db_free_bytes") >= 0);
  CHECK(g.metric("giftgate_db_wal_bytes") > 0);
  const auto age = g.metric("giftgate_backup_age_seconds");
  CHECK(age >= 3600);
  CHECK(age < 3600 + 120);
}

TEST_CASE("giftgated: --check-config refuses inbox_days 1, with the reason") {
  Gate g;
  std::ofstream(g.dir.file("r.yaml")) << read_file(g.config_path) << "retention:\n  inbox_days: 1\n";
  test::DaemonProcess check(GIFTGATE_GIFTGATED, {"--config", g.dir.file("r.yaml"), "--check-config"},
                            g.dir.file("check.log"));
  CHECK(check.wait_exit(10s) == 2);
  CHECK(contains(check.log(), "inbox_days must be 0 (keep for ever) or at least 2"));
}
