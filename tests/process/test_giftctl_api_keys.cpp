// giftctl api-key as operators run it: the built binary makes a key and
// shows it once, lists keys without it, revokes them, and refuses what is
// wrong with the exit status and words the manual gives.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "daemon/campaign/api_keys.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/giftctl_run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;

namespace {

using Run = test::CtlRun;
using giftgate::test::contains;
using giftgate::test::line_with;

struct Club {
  test::TempDir dir;
  std::string db_path = dir.file("campaign.db");
  std::string config_path = dir.file("giftgate.yaml");

  Club() {
    std::ofstream(config_path) << "storage:\n  path: " << db_path
                               << "\ncampaign:\n  start: 2026-01-01\n  end: 2036-01-01\n";
    std::ofstream(dir.file("merchants.csv"))
        << "id,name,city,kind,level,phones,offer_a\n"
           "bj-1,Star KTV,beijing,ktv,high,13911111111,5 hours\n";
    const auto r = (*this)("import merchants " + dir.file("merchants.csv"));
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  Run operator()(const std::string& args) {
    return test::run_giftctl(dir, config_path, "--operator test " + args);
  }
  // The key create printed: the one line of that form.
  static std::string key_in(const std::string& out) {
    std::smatch m;
    return std::regex_search(out, m, std::regex("ggk_[0-9]+_[A-Za-z0-9_-]{43}")) ? m.str()
                                                                                  : std::string();
  }
};

}  // namespace

TEST_CASE("giftctl api-key: create shows the key once, list and the database never") {
  Club club;
  auto r = club("api-key create till-1 --role merchant --merchant bj-1");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string key = Club::key_in(r.out);
  REQUIRE(!key.empty());
  CHECK(contains(r.out, "api key till-1 created (role merchant, merchant bj-1)"));
  CHECK(contains(r.out, "shown only now"));
  CHECK(r.err.empty());
  const std::string secret = key.substr(key.find('_', 4) + 1);

  r = club("api-key create site --role web");
  REQUIRE(r.status == 0);
  const std::string web_key = Club::key_in(r.out);
  CHECK(web_key != key);

  // The key works, as the HTTP API will check it.
  {
    auto db = test::open_campaign_db(club.db_path);
    ApiKeys keys(*db);
    ApiKey found;
    db::Status status;
    CHECK(keys.authenticate(key, &found, &status) == ApiKeys::Check::ok);
    CHECK(found.merchant_id == "bj-1");
    CHECK(keys.authenticate(web_key, &found, &status) == ApiKeys::Check::ok);
    CHECK(found.role == ApiRole::web);
  }

  for (const char* format : {"table", "csv", "json"}) {
    r = club(std::string("api-key list --format ") + format);
    INFO(format);
    REQUIRE(r.status == 0);
    CHECK(!contains(r.out, secret));
    CHECK(!contains(r.out, "ggk_"));
    CHECK(line_with(r.out, {"till-1", "merchant", "bj-1", "test"}));
    CHECK(line_with(r.out, {"site", "web"}));
  }
  r = club("api-key list --format csv");
  CHECK(r.out.rfind("name,role,merchant,created,created_by,revoked,last_used\n", 0) == 0);
  const auto rows = nlohmann::json::parse(club("api-key list --format json").out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["name"] == "site");
  CHECK(rows[1]["merchant"] == "bj-1");

  // Nowhere in the database file, nor its history.
  std::ifstream file(club.db_path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  CHECK(!bytes.empty());
  CHECK(!contains(bytes, secret));
  std::ifstream wal(club.db_path + "-wal", std::ios::binary);
  const std::string wal_bytes((std::istreambuf_iterator<char>(wal)),
                              std::istreambuf_iterator<char>());
  CHECK(!contains(wal_bytes, secret));
  auto db = test::open_campaign_db(club.db_path);
  auto q = db->prepare(
      "SELECT COUNT(*) FROM events WHERE kind = 'api_key_created' AND actor = 'test'");
  REQUIRE(q.step() == db::StepResult::row);
  CHECK(q.column_int(0) == 2);
}

TEST_CASE("giftctl api-key: revoke, with a reason, once") {
  Club club;
  auto r = club("api-key create desk-1 --role desk");
  REQUIRE(r.status == 0);
  const std::string key = Club::key_in(r.out);
  r = club("api-key revoke desk-1");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "api-key revoke needs --reason TEXT"));
  r = club("api-key revoke desk-1 --reason 'laptop stolen'");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "api key desk-1 revoked"));
  r = club("api-key revoke desk-1 --reason again");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "api key desk-1 is already revoked"));
  r = club("api-key revoke nosuch --reason x");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "no api key nosuch"));
  r = club("api-key list --format csv");
  REQUIRE(r.status == 0);
  CHECK(line_with(r.out, {"desk-1,desk,,", ",test,"}));
  CHECK(!line_with(r.out, {"desk-1,desk,,", ",test,,"}));  // revoked: a time
  auto db = test::open_campaign_db(club.db_path);
  ApiKeys keys(*db);
  ApiKey found;
  db::Status status;
  CHECK(keys.authenticate(key, &found, &status) == ApiKeys::Check::revoked);
  // Its name stays taken.
  r = club("api-key create desk-1 --role desk");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "a key named desk-1 exists already"));
}

TEST_CASE("giftctl api-key: what is wrong is refused and no key is made") {
  Club club;
  auto r = club("api-key create x --role admin");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--role 'admin' is none of merchant, desk, points, web"));
  r = club("api-key create x");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "needs --role"));
  r = club("api-key create till --role merchant");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "a merchant key needs its merchant (--merchant ID)"));
  r = club("api-key create till --role merchant --merchant sh-9");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "no merchant sh-9"));
  r = club("api-key create pts --role points --merchant bj-1");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "only a merchant key has a merchant"));
  r = club("api-key create 'bad name' --role desk");
  CHECK(r.status == 2);
  r = club("api-key list --format xml");
  CHECK(r.status == 2);
  r = club("api-key frobnicate");
  CHECK(r.status == 2);
  r = club("api-key list --merchant bj-1");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--merchant is not an option of api-key list"));
  r = club("api-key list --format csv");
  REQUIRE(r.status == 0);
  CHECK(r.out == "name,role,merchant,created,created_by,revoked,last_used\n");
  CHECK(!contains(r.out + r.err, "ggk_"));
}
