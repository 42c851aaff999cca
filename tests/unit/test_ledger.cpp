#include <doctest/doctest.h>

#include <cstdint>

#include <fmt/format.h>

#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/reports.hpp"
#include "daemon/storage/schema.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using giftgate::test::TempDir;
using Result = Ledger::Result;

namespace {

struct Fixture {
  TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("ledger.db"));
};

const Actor kImport{"import", "members.csv"};
const Actor kOperator{"giftctl", "li.na"};
const PointLimits kLimits{1'000'000, 10'000'000};

}  // namespace

TEST_CASE("ledger: members are found by their normal number") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, kLimits, &id) ==
          Result::ok);
  giftgate::db::Status found;
  const auto m = ledger.find_member("8613800138000", &found);
  REQUIRE(m);
  CHECK(m->id == id);
  CHECK(m->city == "beijing");
  CHECK_FALSE(ledger.find_member("8613800138001", &found));
  CHECK(found.ok());  // none there, not a failure
  CHECK(ledger.add_member({0, "8613800138000", "shanghai", "zh", false}, 0, kImport, kLimits) ==
        Result::exists);
  CHECK(ledger.add_member({0, "8613800138002", "shanghai", "fr", false}, 0, kImport, kLimits) ==
        Result::invalid);
}

TEST_CASE("ledger: the balance is the sum of the entries") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 500, kImport, kLimits, &id) ==
          Result::ok);
  CHECK(ledger.balance(id) == 500);
  CHECK(ledger.add_points(id, 120, "ring-back tone fee", std::nullopt, kImport, kLimits) == Result::ok);
  CHECK(ledger.add_points(id, -300, "correction", std::nullopt, kOperator, kLimits) == Result::ok);
  CHECK(ledger.balance(id) == 320);
  const auto history = ledger.history(id);
  REQUIRE(history);
  REQUIRE(history->size() == 3);
  CHECK((*history)[0].reason == "opening balance");
  CHECK((*history)[2].delta == -300);
  CHECK((*history)[2].actor == "li.na");
}

TEST_CASE("ledger: an entry with a reference is applied once") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, kLimits, &id) ==
          Result::ok);
  const std::optional<std::string> ref = "activity.csv:line 2";
  CHECK(ledger.add_points(id, 10, "month on network", ref, kImport, kLimits) == Result::ok);
  CHECK(ledger.add_points(id, 10, "month on network", ref, kImport, kLimits) == Result::duplicate);
  CHECK(ledger.balance(id) == 10);
}

TEST_CASE("ledger: bad entries are refused") {
  Fixture f;
  Ledger ledger(*f.db);
  CHECK(ledger.add_points(42, 10, "x", std::nullopt, kOperator, kLimits) == Result::unknown_member);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, kLimits, &id) ==
          Result::ok);
  CHECK(ledger.add_points(id, 0, "nothing", std::nullopt, kOperator, kLimits) == Result::invalid);
  CHECK(ledger.add_points(id, 5, "", std::nullopt, kOperator, kLimits) == Result::invalid);
}

TEST_CASE("ledger: the ledger and the event history are append-only") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 100, kImport, kLimits, &id) ==
          Result::ok);
  CHECK_FALSE(f.db->exec("UPDATE ledger SET delta = 1000000").ok());
  CHECK_FALSE(f.db->exec("DELETE FROM ledger").ok());
  CHECK_FALSE(f.db->exec("DELETE FROM events").ok());
  CHECK(ledger.balance(id) == 100);
  auto q = f.db->prepare("SELECT kind, channel, actor FROM events WHERE member_id = ? ORDER BY id");
  q.bind(1, id);
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "member_added");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "points");
  CHECK(q.column_text(1) == "import");
  CHECK(q.column_text(2) == "members.csv");
}

TEST_CASE("ledger: a change and a balance are bounded, checked without overflow") {
  Fixture f;
  Ledger ledger(*f.db);
  const PointLimits limits{1000, 5000};
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 1000, kImport, limits,
                            &id) == Result::ok);
  // More than one change may carry, either way.
  CHECK(ledger.add_points(id, 1001, "x", std::nullopt, kOperator, limits) ==
        Result::out_of_bounds);
  CHECK(ledger.last_error() ==
        "+1001 points in one change is more than campaign.max_points_change (1000)");
  CHECK(ledger.add_points(id, -1001, "x", std::nullopt, kOperator, limits) ==
        Result::out_of_bounds);
  // The largest a 64-bit number holds, and the smallest: refused, not wrapped.
  CHECK(ledger.add_points(id, INT64_MAX, "x", std::nullopt, kOperator, limits) ==
        Result::out_of_bounds);
  CHECK(ledger.add_points(id, INT64_MIN, "x", std::nullopt, kOperator, limits) ==
        Result::out_of_bounds);
  CHECK(ledger.add_member({0, "8613800138001", "beijing", "zh", false}, INT64_MAX, kImport,
                          limits) == Result::out_of_bounds);
  giftgate::db::Status found;
  CHECK_FALSE(ledger.find_member("8613800138001", &found));  // the member went with the refusal
  CHECK(found.ok());

  // Up to the maximum balance exactly, and not a point past it.
  for (int i = 0; i < 4; ++i)
    REQUIRE(ledger.add_points(id, 1000, "x", std::nullopt, kOperator, limits) == Result::ok);
  CHECK(ledger.balance(id) == 5000);
  CHECK(ledger.add_points(id, 1, "x", std::nullopt, kOperator, limits) == Result::out_of_bounds);
  CHECK(ledger.last_error() ==
        "8613800138000 has 5000 points; adding 1 would take the balance past "
        "campaign.max_balance (5000)");
  CHECK(ledger.add_points(id, -1000, "x", std::nullopt, kOperator, limits) == Result::ok);
  // Never below 0.
  for (int i = 0; i < 4; ++i)
    REQUIRE(ledger.add_points(id, -1000, "x", std::nullopt, kOperator, limits) == Result::ok);
  CHECK(ledger.add_points(id, -1, "x", std::nullopt, kOperator, limits) == Result::out_of_bounds);
  CHECK(ledger.last_error() == "8613800138000 has 0 points; taking 1 would leave a negative balance");
  CHECK(ledger.balance(id) == 0);

  // An entry already applied is a duplicate, not a refusal, at the maximum.
  const std::optional<std::string> ref = "activity:1";
  REQUIRE(ledger.add_points(id, 1000, "x", ref, kImport, {1000, 1000}) == Result::ok);
  CHECK(ledger.add_points(id, 1000, "x", ref, kImport, {1000, 1000}) == Result::duplicate);

  CHECK(points_out_of_bounds("m", INT64_MAX, INT64_MAX, {INT64_MAX, INT64_MAX}));
  CHECK(points_out_of_bounds("m", INT64_MIN, INT64_MIN, {INT64_MAX, INT64_MAX}));
  CHECK(points_out_of_bounds("m", 0, -1, {-5, 10}));
  CHECK_FALSE(points_out_of_bounds("m", 10, -10, {10, 10}));
}

TEST_CASE("ledger: a sum that overflows says so, never 0") {
  // Entries written before the bounds existed, straight into the table.
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, kLimits,
                            &id) == Result::ok);
  REQUIRE(f.db->exec(fmt::format("INSERT INTO ledger(member_id, delta, reason, channel, actor) "
                                 "VALUES ({0}, 9223372036854775000, 'import', 'import', 'old'), "
                                 "({0}, 1000, 'credit', 'giftctl', 'old'), "
                                 "({0}, -5, 'debit', 'giftctl', 'old')",
                                 id))
              .ok());
  CHECK_FALSE(ledger.balance(id));
  CHECK(ledger.last_error().find("integer overflow") != std::string::npos);
  CHECK(ledger.add_points(id, 1, "x", std::nullopt, kOperator, kLimits) == Result::failed);
  // Every entry is listed; the running balance is left empty past 64 bits.
  std::string error;
  const auto listing = member_ledger(*f.db, id, &error);
  REQUIRE(listing);
  REQUIRE(listing->rows.size() == 3);
  CHECK(listing->rows[0][2] == "9223372036854775000");
  CHECK(listing->rows[1][2] == "");
  CHECK(listing->rows[2][1] == "-5");
}

TEST_CASE("ledger: an operator's change records the real account beside the name declared") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, kLimits,
                            &id) == Result::ok);
  const Actor declared{"giftctl", "alice", RealUser{1000, "bob"}};
  const Actor nameless{"giftctl", "carol", RealUser{4242, ""}};
  REQUIRE(ledger.add_points(id, 50, "goodwill", std::nullopt, declared, kLimits) == Result::ok);
  REQUIRE(ledger.add_points(id, 5, "goodwill", std::nullopt, nameless, kLimits) == Result::ok);
  auto q = f.db->prepare(
      "SELECT actor, real_uid, COALESCE(real_user, '-') FROM ledger ORDER BY id");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "alice");
  CHECK(q.column_int(1) == 1000);
  CHECK(q.column_text(2) == "bob");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(1) == 4242);
  CHECK(q.column_text(2) == "-");  // no name: NULL, not ""
  auto e = f.db->prepare(
      "SELECT actor, real_uid, real_user FROM events WHERE kind = 'points' ORDER BY id LIMIT 1");
  REQUIRE(e.step() == giftgate::db::StepResult::row);
  CHECK(e.column_text(0) == "alice");
  CHECK(e.column_int(1) == 1000);
  CHECK(e.column_text(2) == "bob");
  // The import named no real account (kImport has none): NULL.
  auto none = f.db->prepare("SELECT COUNT(*) FROM events WHERE kind = 'member_added' AND "
                            "real_uid IS NULL AND real_user IS NULL");
  REQUIRE(none.step() == giftgate::db::StepResult::row);
  CHECK(none.column_int(0) == 1);
}
