// ApiKeys: the HTTP API's clients, made once, kept as hashes, refused from
// the moment they are revoked.
#include <doctest/doctest.h>

#include <chrono>

#include "daemon/campaign/api_keys.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using giftgate::test::TempDir;
using Check = ApiKeys::Check;
using CS = ApiKeys::Created::Status;

namespace {

const Actor kOperator{"giftctl", "li.na"};
const Time kNow = std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + std::chrono::hours(9);

struct Fixture {
  TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("campaign.db"));
  ApiKeys keys{*db};

  Fixture() {
    Campaign c;
    Vouchers vouchers(*db, c);
    REQUIRE(vouchers.add_merchant(
        {"bj-1", "KTV bj-1", "beijing", "ktv", "high", {"8613900000001"}, {{"A", "3 hours"}}},
        kOperator));
  }
  std::string text(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_text(0) : std::string("(none)");
  }
  std::int64_t value(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }
  std::string made(const std::string& name, ApiRole role, const std::string& merchant = "") {
    const auto c = keys.create(name, role, merchant, kOperator, kNow);
    INFO(c.error);
    REQUIRE(c.status == CS::created);
    return c.secret;
  }
};

}  // namespace

TEST_CASE("api keys: a key is made with its role, recorded, and its secret has the form") {
  Fixture f;
  const auto c = f.keys.create("till-1", ApiRole::merchant, "bj-1", kOperator, kNow);
  REQUIRE(c.status == CS::created);
  CHECK(c.key.id > 0);
  CHECK(c.key.name == "till-1");
  CHECK(c.key.merchant_id == "bj-1");
  const std::string prefix = "ggk_" + std::to_string(c.key.id) + "_";
  REQUIRE(c.secret.rfind(prefix, 0) == 0);
  CHECK(c.secret.size() == prefix.size() + 43);
  CHECK(c.secret.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", prefix.size()) ==
        std::string::npos);
  // Two keys never share a secret.
  const auto other = f.made("till-2", ApiRole::merchant, "bj-1");
  CHECK(other.substr(other.find('_', 4)) != c.secret.substr(c.secret.find('_', 4)));

  CHECK(f.value("SELECT COUNT(*) FROM events WHERE kind = 'api_key_created' AND member_id IS "
                "NULL AND actor = 'li.na'") == 2);
  const auto detail = f.text("SELECT detail FROM events WHERE kind = 'api_key_created' ORDER BY "
                             "id LIMIT 1");
  CHECK(detail.find("till-1") != std::string::npos);
  CHECK(detail.find("merchant") != std::string::npos);
  CHECK(detail.find(c.secret.substr(prefix.size())) == std::string::npos);
}

TEST_CASE("api keys: the secret is nowhere in the database, only its hash") {
  Fixture f;
  const std::string secret = f.made("desk-1", ApiRole::desk);
  // (after "ggk_<id>_": the random part may hold '_' itself)
  const std::string random = secret.substr(secret.find('_', 4) + 1);
  // Every column of every row, as text and as bytes.
  auto q = f.db->prepare("SELECT * FROM api_keys");
  int rows = 0;
  while (q.step() == db::StepResult::row) {
    ++rows;
    for (int i = 0; i < 11; ++i) {
      const std::string as_text = q.column_text(i);
      const auto bytes = q.column_blob(i);
      const std::string as_bytes(bytes.begin(), bytes.end());
      CHECK(as_text.find(random) == std::string::npos);
      CHECK(as_bytes.find(random) == std::string::npos);
    }
  }
  CHECK(rows == 1);
  CHECK(f.value("SELECT length(secret_hash) FROM api_keys") == 32);
  CHECK(f.text("SELECT typeof(secret_hash) FROM api_keys") == "blob");
  for (const char* table : {"events", "outbox"}) {
    auto any = f.db->prepare(std::string("SELECT COUNT(*) FROM ") + table +
                             " WHERE instr(CAST(" + (std::string(table) == "events" ? "detail" : "body") +
                             " AS TEXT), ?) > 0");
    REQUIRE(any.bind(1, random).step() == db::StepResult::row);
    CHECK(any.column_int(0) == 0);
  }
}

TEST_CASE("api keys: authenticate knows the right secret and nothing else") {
  Fixture f;
  const std::string desk = f.made("desk-1", ApiRole::desk);
  const std::string web = f.made("site", ApiRole::web);
  ApiKey key;
  db::Status status;
  REQUIRE(f.keys.authenticate(desk, &key, &status) == Check::ok);
  CHECK(status.ok());
  CHECK(key.name == "desk-1");
  CHECK(key.role == ApiRole::desk);
  CHECK(key.last_used_at.empty());
  REQUIRE(f.keys.authenticate(web, &key, &status) == Check::ok);
  CHECK(key.role == ApiRole::web);

  const auto id_of = [](const std::string& s) { return s.substr(0, s.find('_', 4) + 1); };
  const auto random_of = [](const std::string& s) { return s.substr(s.find('_', 4) + 1); };
  // One character of the secret changed.
  std::string wrong = desk;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  CHECK(f.keys.authenticate(wrong, &key, &status) == Check::unknown);
  CHECK(status.ok());
  // Another key's secret under this key's id, and the other way round.
  CHECK(f.keys.authenticate(id_of(desk) + random_of(web), &key, &status) == Check::unknown);
  CHECK(f.keys.authenticate(id_of(web) + random_of(desk), &key, &status) == Check::unknown);
  // An id no key has.
  CHECK(f.keys.authenticate("ggk_99_" + random_of(desk), &key, &status) == Check::unknown);
  // Not a key's form at all.
  for (const std::string& bad :
       {std::string(), std::string("ggk_"), "Bearer " + desk, desk + "x", desk.substr(0, desk.size() - 1),
        "ggk_0" + desk.substr(3), "ggk_-1_" + random_of(desk), "ggk_x_" + random_of(desk),
        "ggk_99999999999999999999_" + random_of(desk), "GGK" + desk.substr(3),
        id_of(desk) + random_of(desk).substr(1) + "=", id_of(desk) + random_of(desk).substr(1) + "+"}) {
    INFO(bad);
    CHECK(f.keys.authenticate(bad, &key, &status) == Check::unknown);
    CHECK(status.ok());
  }
}

TEST_CASE("api keys: a revoked key is refused from then on, and keeps its name") {
  Fixture f;
  const std::string secret = f.made("desk-1", ApiRole::desk);
  CHECK(f.keys.revoke("desk-1", "", kOperator, kNow) == AdminResult::invalid);
  CHECK(f.keys.revoke("nosuch", "left", kOperator, kNow) == AdminResult::unknown_code);
  REQUIRE(f.keys.revoke("desk-1", "laptop stolen", kOperator, kNow) == AdminResult::ok);
  CHECK(f.keys.revoke("desk-1", "again", kOperator, kNow) == AdminResult::wrong_state);
  ApiKey key;
  db::Status status;
  CHECK(f.keys.authenticate(secret, &key, &status) == Check::revoked);
  CHECK(key.name == "desk-1");
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE kind = 'api_key_revoked'") == 1);
  CHECK(f.text("SELECT detail FROM events WHERE kind = 'api_key_revoked'") ==
        "api key desk-1 (role desk): laptop stolen");
  CHECK(f.text("SELECT revoked_by || ' ' || revoke_reason FROM api_keys") ==
        "li.na laptop stolen");
  // Its name stays taken.
  CHECK(f.keys.create("desk-1", ApiRole::desk, "", kOperator, kNow).status == CS::exists);

  const auto all = f.keys.list();
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().revoked_at == "2026-12-01T09:00:00Z");
}

TEST_CASE("api keys: names, roles and merchants are checked") {
  Fixture f;
  CHECK(f.keys.create("", ApiRole::desk, "", kOperator, kNow).status == CS::invalid);
  CHECK(f.keys.create(std::string(41, 'a'), ApiRole::desk, "", kOperator, kNow).status ==
        CS::invalid);
  CHECK(f.keys.create("has space", ApiRole::desk, "", kOperator, kNow).status == CS::invalid);
  CHECK(f.keys.create(std::string(40, 'a'), ApiRole::desk, "", kOperator, kNow).status ==
        CS::created);
  // A merchant key needs an existing merchant; no other key has one.
  CHECK(f.keys.create("till", ApiRole::merchant, "", kOperator, kNow).status == CS::invalid);
  const auto unknown = f.keys.create("till", ApiRole::merchant, "sh-9", kOperator, kNow);
  CHECK(unknown.status == CS::unknown_merchant);
  CHECK(unknown.secret.empty());
  CHECK(f.keys.create("points", ApiRole::points, "bj-1", kOperator, kNow).status == CS::invalid);
  CHECK(f.keys.create("till", ApiRole::merchant, "bj-1", kOperator, kNow).status == CS::created);
  CHECK(f.keys.create("till", ApiRole::desk, "", kOperator, kNow).status == CS::exists);
  CHECK(f.value("SELECT COUNT(*) FROM api_keys") == 2);
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE kind = 'api_key_created'") == 2);

  CHECK(parse_role("merchant") == ApiRole::merchant);
  CHECK(parse_role("web") == ApiRole::web);
  CHECK(!parse_role("admin"));
  CHECK(!parse_role("Desk"));
  for (ApiRole r : {ApiRole::merchant, ApiRole::desk, ApiRole::points, ApiRole::web})
    CHECK(parse_role(role_name(r)) == r);
}

TEST_CASE("api keys: list gives every key by name, and touch notes the last use") {
  Fixture f;
  const std::string web = f.made("site", ApiRole::web);
  f.made("desk-1", ApiRole::desk);
  f.made("till", ApiRole::merchant, "bj-1");
  ApiKey key;
  db::Status status;
  REQUIRE(f.keys.authenticate(web, &key, &status) == Check::ok);
  REQUIRE(f.keys.touch(key.id, kNow + std::chrono::minutes(5)).ok());
  const auto all = f.keys.list();
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].name == "desk-1");
  CHECK((*all)[1].name == "site");
  CHECK((*all)[1].last_used_at == "2026-12-01T09:05:00Z");
  CHECK((*all)[1].created_by == "li.na");
  CHECK((*all)[2].name == "till");
  CHECK((*all)[2].role == ApiRole::merchant);
  CHECK((*all)[2].merchant_id == "bj-1");
  CHECK((*all)[0].last_used_at.empty());
}

TEST_CASE("api keys: a database failure is failed, never unknown") {
  Fixture f;
  const std::string secret = f.made("desk-1", ApiRole::desk);
  ApiKey key;
  db::Status status;
  f.db->fail_statement_after(0, 5 /* SQLITE_BUSY */);
  CHECK(f.keys.authenticate(secret, &key, &status) == Check::failed);
  CHECK(status.busy());
  f.db->fail_statement_after(0, 5);
  CHECK(!f.keys.list());
  CHECK(f.keys.authenticate(secret, &key, &status) == Check::ok);
}
