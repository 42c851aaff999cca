// giftctl prune and stats as operators run them: the built binary on a
// database seeded with old rows.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "daemon/campaign/vouchers.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/giftctl_run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;

namespace {

using Run = test::CtlRun;

struct Site {
  test::TempDir dir;
  std::string db_path = dir.file("campaign.db");
  Time now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());

  Site() {
    std::ofstream(dir.file("giftgate.yaml"))
        << "storage:\n  path: " << db_path
        << "\ncampaign:\n  start: 2026-01-01\n  end: 2036-01-01\n"
           "retention:\n  batch_rows: 10\n";
    auto db = test::open_campaign_db(db_path);
    // 25 MOs and receipts 100 days old, 3 from yesterday; a message final
    // 100 days ago with two parts, one queued as long ago (kept: not final).
    const std::string old_at = iso_time(now - std::chrono::days(100));
    const std::string yesterday = iso_time(now - std::chrono::days(1));
    for (int i = 0; i < 28; ++i) {
      const std::string& at = i < 25 ? old_at : yesterday;
      REQUIRE(db->prepare("INSERT INTO inbox(mo_key, msisdn, body, command, channel, "
                          "received_at) VALUES (?, '8613800138000', 'JF', 'balance', 'sms', ?)")
                  .bind(1, fmt::format("k{}", i)).bind(2, at).run().ok());
      REQUIRE(db->prepare("INSERT INTO receipts(message_id, state, received_at) VALUES "
                          "('m', 'DELIVRD', ?)")
                  .bind(1, at).run().ok());
    }
    REQUIRE(db->prepare("INSERT INTO outbox(msisdn, message, language, body, state, "
                        "next_attempt_at, created_at, final_at) VALUES ('8613800138000', "
                        "'balance', 'zh', 'text', 'delivered', ?1, ?1, ?1)")
                .bind(1, old_at).run().ok());
    for (int part = 1; part <= 2; ++part)
      REQUIRE(db->prepare("INSERT INTO outbox_parts(outbox_id, attempt, part, total) VALUES "
                          "(1, 1, ?, 2)")
                  .bind(1, part).run().ok());
    REQUIRE(db->prepare("INSERT INTO size_history(day, bytes, free_bytes, wal_bytes, "
                        "recorded_at) VALUES ('2026-11-30', 1000000, 0, 0, ?1), "
                        "('2026-12-01', 3500000, 500000, 0, ?1)")
                .bind(1, yesterday).run().ok());
  }

  Run operator()(const std::string& args) {
    return test::run_giftctl(dir, dir.file("giftgate.yaml"), args);
  }
  std::int64_t value(const std::string& sql) {
    auto db = test::open_campaign_db(db_path);
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("giftctl prune --dry-run: what would go, per kind, and nothing changes") {
  Site site;
  const auto r = site("prune --dry-run --format csv");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string cut = iso_time(site.now - std::chrono::days(90)).substr(0, 10);
  CHECK(contains(r.out, "kind,table,days,cutoff,rows,not_final_kept\n"));
  CHECK(contains(r.out, "message_bodies,outbox,90," + cut));
  // The message is past both its body's and its parts' days: its whole row
  // moves to message_history (message_rows), body and parts with it.
  CHECK(contains(r.out, ",0,0\nmessage_parts,outbox_parts,90," + cut));
  CHECK(contains(r.out, ",0,0\nreceipts,receipts,90,"));
  CHECK(contains(r.out, "message_rows,outbox,90," + cut));
  CHECK(contains(r.out, ",25,0\ninbox,inbox,90,"));
  CHECK(contains(r.out, ",25,0\nussd_screens,outbox,30,"));
  CHECK(site.value("SELECT COUNT(*) FROM inbox") == 28);
  CHECK(site.value("SELECT COUNT(*) FROM outbox_parts") == 2);
  CHECK(contains(site("prune --dry-run").out, "51 rows would go (dry run: nothing changed)"));
}

TEST_CASE("giftctl prune: prunes in batches and says what went and how long it took") {
  Site site;
  const auto r = site("prune");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "51 rows pruned in "));
  CHECK(contains(r.out, " s\n"));
  CHECK(site.value("SELECT COUNT(*) FROM inbox") == 3);
  CHECK(site.value("SELECT COUNT(*) FROM receipts") == 3);
  CHECK(site.value("SELECT COUNT(*) FROM outbox") == 0);
  CHECK(site.value("SELECT COUNT(*) FROM message_history WHERE state = 'delivered'") == 1);
  CHECK(site.value("SELECT COUNT(*) FROM outbox_parts") == 0);
  // batch_rows 10 over 7 kinds: several batches, each a transaction.
  CHECK_FALSE(contains(r.out, "in 1 batches"));
  CHECK(contains(site("prune").out, "0 rows pruned in 1 batches"));
}

TEST_CASE("giftctl stats: size by table and index, growth per day, rows per day") {
  Site site;
  const auto r = site("stats");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "by table and index (dbstat):"));
  CHECK(contains(r.out, "name "));
  // The inbox: 28 rows, and its indexes listed as its own.
  bool inbox_row = false, fingerprint_row = false;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("inbox ", 0) == 0 && contains(line, " table ") && contains(line, " 28 "))
      inbox_row = true;
    if (line.rfind("inbox_fingerprint ", 0) == 0 && contains(line, " index  inbox ")) fingerprint_row = true;
  }
  CHECK(inbox_row);
  CHECK(fingerprint_row);
  CHECK(contains(r.out, "2026-12-01"));
  CHECK(contains(r.out, "+2.0 MB"));  // pages in use: 1.0 MB, then 3.0 MB
  CHECK(contains(r.out, "rows added per day (UTC), last 7 days:"));
  // Yesterday's 3 MOs and 3 receipts, in the inbox and receipts columns.
  const std::string yesterday = iso_time(site.now - std::chrono::days(1)).substr(0, 10);
  const auto at = r.out.find("\n" + yesterday + " ", r.out.find("rows added per day"));
  REQUIRE(at != std::string::npos);
  const std::string row = r.out.substr(at + 1, r.out.find('\n', at + 1) - at - 1);
  std::istringstream cells(row);
  std::string day;
  int inbox = -1, outbox = -1, receipts = -1;
  cells >> day >> inbox >> outbox >> receipts;
  CHECK(inbox == 3);
  CHECK(receipts == 3);
}
