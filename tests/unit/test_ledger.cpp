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
