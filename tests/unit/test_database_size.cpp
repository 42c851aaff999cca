#include <doctest/doctest.h>

#include <sqlite3.h>

#include <fmt/format.h>

#include "daemon/campaign/database_size.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;

namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("s.db"));
  Time now = std::chrono::sys_days{std::chrono::year{2027} / 3 / 10} + std::chrono::hours(12);

  void mo(Time at) {
    static int n = 0;
    REQUIRE(db->prepare("INSERT INTO inbox(mo_key, msisdn, body, command, channel, received_at) "
                        "VALUES (?, '8613800138000', 'JF', 'balance', 'sms', ?)")
                .bind(1, fmt::format("k{}", ++n))
                .bind(2, iso_time(at))
                .run()
                .ok());
  }
};

}  // namespace

TEST_CASE("database size: rows per day count each day of the period, written in time order") {
  Fixture f;
  using std::chrono::days;
  for (int i = 0; i < 3; ++i) f.mo(f.now - days(9));  // before the period
  for (int i = 0; i < 2; ++i) f.mo(f.now - days(2));
  for (int i = 0; i < 5; ++i) f.mo(f.now);
  db::Status read;
  const auto counts = rows_per_day(*f.db, "inbox", "received_at", f.now, 7, &read);
  REQUIRE(read.ok());
  REQUIRE(counts.size() == 7);
  CHECK(counts.front().day == "2027-03-04");
  CHECK(counts.back().day == "2027-03-10");
  CHECK(counts[4].rows == 2);
  CHECK(counts[6].rows == 5);
  std::int64_t all = 0;
  for (const auto& c : counts) all += c.rows;
  CHECK(all == 7);
}

TEST_CASE("database size: a database that refuses is said to, never read as no rows") {
  Fixture f;
  f.mo(f.now);
  REQUIRE(record_size(*f.db, f.now).ok());
  // Each read's statements fail in turn: the status says so every time.
  for (int n = 0; n < 3; ++n) {
    CAPTURE(n);
    db::Status read;
    f.db->fail_statement_after(n, SQLITE_IOERR);
    (void)rows_per_day(*f.db, "inbox", "received_at", f.now, 7, &read);
    const bool spent = f.db->statement_failure_spent();
    f.db->fail_statement_after(-1, 0);
    CHECK(spent);  // the bounds, one halving step, the count: each of them fails once
    CHECK_FALSE(read.ok());
  }
  db::Status read;
  f.db->fail_statement_after(0, SQLITE_BUSY);
  const auto history = size_history(*f.db, 7, &read);
  f.db->fail_statement_after(-1, 0);
  CHECK(history.empty());
  CHECK_FALSE(read.ok());
  const auto again = size_history(*f.db, 7, &read);
  CHECK(read.ok());
  CHECK(again.size() == 1);
}
