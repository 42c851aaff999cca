#include <doctest/doctest.h>

#include "daemon/ledger.hpp"
#include "daemon/schema.hpp"
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

}  // namespace

TEST_CASE("ledger: members are found by their normal number") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, &id) ==
          Result::ok);
  const auto m = ledger.find_member("8613800138000");
  REQUIRE(m);
  CHECK(m->id == id);
  CHECK(m->city == "beijing");
  CHECK_FALSE(ledger.find_member("8613800138001"));
  CHECK(ledger.add_member({0, "8613800138000", "shanghai", "zh", false}, 0, kImport) ==
        Result::exists);
  CHECK(ledger.add_member({0, "8613800138002", "shanghai", "fr", false}, 0, kImport) ==
        Result::invalid);
}

TEST_CASE("ledger: the balance is the sum of the entries") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 500, kImport, &id) ==
          Result::ok);
  CHECK(ledger.balance(id) == 500);
  CHECK(ledger.add_points(id, 120, "ring-back tone fee", std::nullopt, kImport) == Result::ok);
  CHECK(ledger.add_points(id, -300, "correction", std::nullopt, kOperator) == Result::ok);
  CHECK(ledger.balance(id) == 320);
  const auto history = ledger.history(id);
  REQUIRE(history.size() == 3);
  CHECK(history[0].reason == "opening balance");
  CHECK(history[2].delta == -300);
  CHECK(history[2].actor == "li.na");
}

TEST_CASE("ledger: an entry with a reference is applied once") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, &id) ==
          Result::ok);
  const std::optional<std::string> ref = "activity.csv:line 2";
  CHECK(ledger.add_points(id, 10, "month on network", ref, kImport) == Result::ok);
  CHECK(ledger.add_points(id, 10, "month on network", ref, kImport) == Result::duplicate);
  CHECK(ledger.balance(id) == 10);
}

TEST_CASE("ledger: bad entries are refused") {
  Fixture f;
  Ledger ledger(*f.db);
  CHECK(ledger.add_points(42, 10, "x", std::nullopt, kOperator) == Result::unknown_member);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, &id) ==
          Result::ok);
  CHECK(ledger.add_points(id, 0, "nothing", std::nullopt, kOperator) == Result::invalid);
  CHECK(ledger.add_points(id, 5, "", std::nullopt, kOperator) == Result::invalid);
}

TEST_CASE("ledger: the ledger and the event history are append-only") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 100, kImport, &id) ==
          Result::ok);
  CHECK_FALSE(f.db->exec("UPDATE ledger SET delta = 1000000").ok());
  CHECK_FALSE(f.db->exec("DELETE FROM ledger").ok());
  CHECK_FALSE(f.db->exec("DELETE FROM events").ok());
  CHECK(ledger.balance(id) == 100);
  auto q = f.db->prepare("SELECT kind, channel, actor FROM events WHERE member_id = ? ORDER BY id");
  q.bind(1, id);
  REQUIRE(q.step());
  CHECK(q.column_text(0) == "member_added");
  REQUIRE(q.step());
  CHECK(q.column_text(0) == "points");
  CHECK(q.column_text(1) == "import");
  CHECK(q.column_text(2) == "members.csv");
}

TEST_CASE("ledger: an operator's change records the real account beside the name declared") {
  Fixture f;
  Ledger ledger(*f.db);
  std::int64_t id = 0;
  REQUIRE(ledger.add_member({0, "8613800138000", "beijing", "zh", false}, 0, kImport, &id) ==
          Result::ok);
  const Actor declared{"giftctl", "alice", RealUser{1000, "bob"}};
  const Actor nameless{"giftctl", "carol", RealUser{4242, ""}};
  REQUIRE(ledger.add_points(id, 50, "goodwill", std::nullopt, declared) == Result::ok);
  REQUIRE(ledger.add_points(id, 5, "goodwill", std::nullopt, nameless) == Result::ok);
  auto q = f.db->prepare(
      "SELECT actor, real_uid, COALESCE(real_user, '-') FROM ledger ORDER BY id");
  REQUIRE(q.step());
  CHECK(q.column_text(0) == "alice");
  CHECK(q.column_int(1) == 1000);
  CHECK(q.column_text(2) == "bob");
  REQUIRE(q.step());
  CHECK(q.column_int(1) == 4242);
  CHECK(q.column_text(2) == "-");  // no name: NULL, not ""
  auto e = f.db->prepare(
      "SELECT actor, real_uid, real_user FROM events WHERE kind = 'points' ORDER BY id LIMIT 1");
  REQUIRE(e.step());
  CHECK(e.column_text(0) == "alice");
  CHECK(e.column_int(1) == 1000);
  CHECK(e.column_text(2) == "bob");
  // The import named no real account (kImport has none): NULL.
  auto none = f.db->prepare("SELECT COUNT(*) FROM events WHERE kind = 'member_added' AND "
                            "real_uid IS NULL AND real_user IS NULL");
  REQUIRE(none.step());
  CHECK(none.column_int(0) == 1);
}
