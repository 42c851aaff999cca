// Complaints: opened on a member or the member's voucher, noted, closed once,
// listed oldest first with their ages, counted for giftctl report.
#include <doctest/doctest.h>

#include <chrono>

#include "daemon/campaign/complaints.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using giftgate::test::TempDir;
using R = Complaints::Result;

namespace {

const Actor kAgent{"console", "wang.fang"};
const Time kNow = std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + std::chrono::hours(9);

struct Fixture {
  TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("campaign.db"));
  Complaints complaints{*db};

  Fixture() {
    REQUIRE(db->exec("INSERT INTO members (id, msisdn, city) VALUES (1, '8613800000001', 'beijing'),"
                     " (2, '8613800000002', 'beijing');"
                     "INSERT INTO vouchers (code, member_id, tier, city, price, face_value, channel,"
                     " issued_at, expires_at) VALUES"
                     " ('CODE1', 1, 'A', 'beijing', 100, 10, 'sms', '2026-11-01T00:00:00Z',"
                     " '2027-01-01T00:00:00Z'),"
                     " ('CODE2', 2, 'A', 'beijing', 100, 10, 'sms', '2026-11-01T00:00:00Z',"
                     " '2027-01-01T00:00:00Z');")
                .ok());
  }
  std::int64_t value(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }
  std::string text(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_text(0) : std::string("(none)");
  }
};

}  // namespace

TEST_CASE("a complaint opens on a member, and on a voucher only when it is the member's") {
  Fixture f;
  std::int64_t id = 0;
  CHECK(f.complaints.open("8613800000001", std::nullopt, "other", "no SMS", kAgent, kNow, &id) ==
        R::ok);
  CHECK(id > 0);
  std::int64_t second = 0;
  CHECK(f.complaints.open("8613800000001", std::string("CODE1"), "not_accepted", "shop said no",
                          kAgent, kNow, &second) == R::ok);
  CHECK(f.complaints.open("8613800000001", std::string("CODE2"), "other", "x", kAgent, kNow,
                          nullptr) == R::unknown_voucher);
  CHECK(f.complaints.open("8613800000001", std::string("NOPE"), "other", "x", kAgent, kNow,
                          nullptr) == R::unknown_voucher);
  CHECK(f.complaints.open("8613800000009", std::nullopt, "other", "x", kAgent, kNow, nullptr) ==
        R::unknown_member);
  CHECK(f.value("SELECT count(*) FROM complaints") == 2);

  db::Status status;
  auto c = f.complaints.get(second, &status);
  REQUIRE(c);
  CHECK(c->voucher_code == std::optional<std::string>("CODE1"));
  CHECK(c->state == "open");
  CHECK(c->opened_by == "wang.fang");
  CHECK(c->msisdn == "8613800000001");
  CHECK_FALSE(f.complaints.get(999, &status));
  CHECK(status.ok());

  // The event names the agent, the category and the voucher, not the words.
  CHECK(f.value("SELECT count(*) FROM events WHERE kind = 'complaint_opened' AND member_id = 1"
                " AND channel = 'console' AND actor = 'wang.fang'") == 2);
  CHECK(f.value("SELECT count(*) FROM events WHERE detail LIKE '%shop said%'") == 0);
  CHECK(f.value("SELECT count(*) FROM events WHERE detail LIKE '%category=not_accepted%'") == 1);
}

TEST_CASE("a bad category or text is refused and adds nothing") {
  Fixture f;
  CHECK(f.complaints.open("8613800000001", std::nullopt, "angry", "x", kAgent, kNow, nullptr) ==
        R::invalid);
  CHECK(f.complaints.open("8613800000001", std::nullopt, "other", "", kAgent, kNow, nullptr) ==
        R::invalid);
  CHECK(f.complaints.open("8613800000001", std::nullopt, "other", "bad \xff byte", kAgent, kNow,
                          nullptr) == R::invalid);
  CHECK(f.complaints.open("8613800000001", std::nullopt, "other", std::string(2001, 'a'), kAgent,
                          kNow, nullptr) == R::invalid);
  // 2,000 characters is the limit in characters, not bytes.
  std::string chinese;
  for (int i = 0; i < 2000; ++i) chinese += "\xe4\xb8\xad";
  CHECK(f.complaints.open("8613800000001", std::nullopt, "other", chinese, kAgent, kNow,
                          nullptr) == R::ok);
  CHECK(f.value("SELECT count(*) FROM complaints") == 1);
  CHECK(f.value("SELECT count(*) FROM events") == 1);
}

TEST_CASE("notes, a close, and nothing more once closed") {
  Fixture f;
  std::int64_t id = 0;
  REQUIRE(f.complaints.open("8613800000001", std::string("CODE1"), "expired", "late", kAgent, kNow,
                            &id) == R::ok);
  CHECK(f.complaints.add_note(id, "called back", kAgent, kNow + std::chrono::hours(1)) == R::ok);
  CHECK(f.complaints.add_note(id, "", kAgent, kNow) == R::invalid);
  CHECK(f.complaints.add_note(999, "x", kAgent, kNow) == R::unknown);
  CHECK(f.complaints.close(id, "maybe", "", kAgent, kNow) == R::invalid);
  CHECK(f.complaints.close(id, "compensated", "gave 100 points", kAgent,
                           kNow + std::chrono::hours(2)) == R::ok);
  CHECK(f.complaints.close(id, "resolved", "", kAgent, kNow) == R::wrong_state);
  CHECK(f.complaints.add_note(id, "again", kAgent, kNow) == R::wrong_state);

  std::string error;
  auto notes = f.complaints.notes(id, &error);
  REQUIRE(notes);
  REQUIRE(notes->size() == 2);
  CHECK((*notes)[0].text == "called back");
  CHECK((*notes)[1].text == "gave 100 points");
  db::Status status;
  auto c = f.complaints.get(id, &status);
  REQUIRE(c);
  CHECK(c->state == "closed");
  CHECK(c->outcome == std::optional<std::string>("compensated"));
  CHECK(c->closed_by == std::optional<std::string>("wang.fang"));
  CHECK(f.value("SELECT count(*) FROM events WHERE kind = 'complaint_note'") == 1);
  CHECK(f.value("SELECT count(*) FROM events WHERE kind = 'complaint_closed'"
                " AND detail LIKE '%outcome=compensated%' AND actor = 'wang.fang'") == 1);
}

TEST_CASE("the list is oldest first with ages, and counts give the median hours to close") {
  Fixture f;
  std::int64_t a = 0, b = 0, c = 0;
  REQUIRE(f.complaints.open("8613800000001", std::nullopt, "other", "b", kAgent,
                            kNow - std::chrono::hours(3), &b) == R::ok);
  REQUIRE(f.complaints.open("8613800000002", std::nullopt, "other", "a", kAgent,
                            kNow - std::chrono::hours(50), &a) == R::ok);
  REQUIRE(f.complaints.open("8613800000002", std::nullopt, "expired", "c", kAgent,
                            kNow - std::chrono::hours(10), &c) == R::ok);
  REQUIRE(f.complaints.close(c, "resolved", "", kAgent, kNow - std::chrono::hours(6)) == R::ok);

  std::string error;
  auto open = f.complaints.list("open", kNow, &error);
  REQUIRE(open);
  REQUIRE(open->rows.size() == 2);
  CHECK(open->rows[0][0] == std::to_string(a));
  CHECK(open->rows[0][2] == "50");
  CHECK(open->rows[1][0] == std::to_string(b));
  CHECK(open->rows[1][2] == "3");
  auto all = f.complaints.list("all", kNow, &error);
  REQUIRE(all);
  CHECK(all->rows.size() == 3);
  auto closed = f.complaints.list("closed", kNow, &error);
  REQUIRE(closed);
  REQUIRE(closed->rows.size() == 1);
  CHECK(closed->rows[0][8] == "resolved");
  CHECK_FALSE(f.complaints.list("pending", kNow, &error));

  auto mine = f.complaints.of_member(2, kNow, &error);
  REQUIRE(mine);
  REQUIRE(mine->rows.size() == 2);
  CHECK(mine->rows[0][0] == std::to_string(c));  // newest first

  auto counts = f.complaints.counts(&error);
  REQUIRE(counts);
  bool seen_expired = false, seen_other = false;
  for (const auto& row : counts->rows) {
    if (row[0] == "expired") {
      seen_expired = true;
      CHECK(row[1] == "0");
      CHECK(row[2] == "1");
      CHECK(row[3] == "4.0");
    }
    if (row[0] == "other") {
      seen_other = true;
      CHECK(row[1] == "2");
      CHECK(row[2] == "0");
      CHECK(row[3] == "");
    }
  }
  CHECK(seen_expired);
  CHECK(seen_other);
}

TEST_CASE("a database failure is failed, never unknown, and adds nothing") {
  Fixture f;
  std::int64_t id = 0;
  REQUIRE(f.complaints.open("8613800000001", std::nullopt, "other", "x", kAgent, kNow, &id) ==
          R::ok);
  for (int n = 0; n < 6; ++n) {
    f.db->fail_statement_after(n, 10 /* SQLITE_IOERR */);
    R r = f.complaints.open("8613800000001", std::string("CODE1"), "other", "y", kAgent, kNow,
                            nullptr);
    if (r == R::ok) break;
    CHECK(r == R::failed);
  }
  f.db->fail_statement_after(-1, 0);
  f.db->fail_statement_after(0, 10);
  CHECK(f.complaints.add_note(id, "x", kAgent, kNow) == R::failed);
  f.db->fail_statement_after(0, 10);
  std::string error;
  CHECK_FALSE(f.complaints.list("open", kNow, &error));
  CHECK_FALSE(error.empty());
}
