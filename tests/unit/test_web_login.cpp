// WebLogin: the website's sign-in by a one-time code sent by SMS, limited
// per number and per client address, locked after wrong tries, exchanged
// for a member token bound to the website's key.
#include <doctest/doctest.h>

#include <chrono>
#include <regex>

#include "daemon/campaign/ledger.hpp"
#include "daemon/campaign/web_login.hpp"
#include "daemon/config/config.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using giftgate::test::TempDir;
using SS = WebLogin::CodeSent::Status;
using XS = WebLogin::Exchange::Status;

namespace {

constexpr std::int64_t kKey = 7;
constexpr std::int64_t kOtherKey = 8;
const std::string kAnn = "8613800138000";
const std::string kBo = "8613800138001";
const std::string kCy = "8613800138002";
const std::string kAddress = "203.0.113.5";

struct Fixture {
  TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("campaign.db"));
  Config config = test::campaign_config();
  Service service{*db, config, test::shipped_templates()};
  WebSettings settings;  // the defaults: 5 minutes, 5 tries, 3 a number, 20 an address
  WebLogin web{*db, settings, service};
  const Time now = config.campaign.start + 24h + 9h;
  std::map<std::string, std::int64_t> members;

  Fixture() {
    Ledger ledger(*db);
    for (const auto& [msisdn, language] :
         {std::pair{kAnn, "en"}, std::pair{kBo, "zh"}, std::pair{kCy, "en"}}) {
      std::int64_t id = 0;
      REQUIRE(ledger.add_member({0, msisdn, "beijing", language, false}, 100, {"import", "t"}, {},
                                &id) == Ledger::Result::ok);
      members[msisdn] = id;
    }
  }
  std::int64_t value(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }
  std::string text(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_text(0) : std::string("(none)");
  }
  // Sends a code and reads it back from the SMS queued for it.
  std::string code_for(const std::string& msisdn, Time at, const std::string& address = kAddress) {
    const auto s = web.send_code(msisdn, address, kKey, at);
    INFO(s.error);
    REQUIRE(s.status == SS::sent);
    const std::string body =
        text("SELECT body FROM outbox WHERE message = 'web_code' ORDER BY id DESC LIMIT 1");
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(body, m, std::regex("(^|[^0-9])([0-9]{6})([^0-9]|$)")),
                    body);
    return m[2].str();
  }
  std::string wrong_code(const std::string& code) {
    std::string w = code;
    w[0] = w[0] == '9' ? '0' : static_cast<char>(w[0] + 1);
    return w;
  }
};

}  // namespace

TEST_CASE("web login: a code is sent by SMS to the member and kept only as a hash") {
  Fixture f;
  const auto sent = f.web.send_code(kAnn, kAddress, kKey, f.now);
  REQUIRE(sent.status == SS::sent);
  CHECK(sent.expires_at == iso_time(f.now + 5min));
  CHECK(sent.error.empty());
  CHECK(f.value("SELECT COUNT(*) FROM outbox WHERE message = 'web_code'") == 1);
  CHECK(f.value("SELECT member_id FROM outbox WHERE message = 'web_code'") == f.members[kAnn]);
  CHECK(f.text("SELECT msisdn || ' ' || language || ' ' || state FROM outbox") ==
        kAnn + " en queued");
  const std::string body = f.text("SELECT body FROM outbox");
  CHECK(body.find("valid for 5 minutes") != std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(body, m, std::regex("code is ([0-9]{6}),")));
  const std::string code = m[1].str();

  CHECK(f.text("SELECT state || ' ' || attempts || ' ' || address || ' ' || key_id FROM "
               "web_codes") == "open 0 203.0.113.5 7");
  CHECK(f.text("SELECT typeof(code_hash) || length(code_hash) FROM web_codes") == "blob32");
  // Not in the row (as text or bytes) but in its hash, not in the history.
  auto row = f.db->prepare("SELECT * FROM web_codes");
  REQUIRE(row.step() == db::StepResult::row);
  for (int i = 0; i < 9; ++i) {
    const auto bytes = row.column_blob(i);
    if (row.column_text(i) == kAnn) continue;  // the number may hold the code's digits
    CHECK(row.column_text(i).find(code) == std::string::npos);
    CHECK(std::string(bytes.begin(), bytes.end()).find(code) == std::string::npos);
  }
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE instr(detail, '" + code + "') > 0") == 0);

  // In the member's language.
  f.code_for(kBo, f.now);
  CHECK(f.text("SELECT body FROM outbox WHERE msisdn = '" + kBo + "'").find("网站登录验证码") !=
        std::string::npos);
}

TEST_CASE("web login: no code for a number that is no member") {
  Fixture f;
  const auto s = f.web.send_code("8613999999999", kAddress, kKey, f.now);
  CHECK(s.status == SS::unknown_member);
  CHECK(f.value("SELECT COUNT(*) FROM outbox") == 0);
  CHECK(f.value("SELECT COUNT(*) FROM web_codes") == 0);
  CHECK(f.web.exchange("8613999999999", "123456", kKey, f.now).status == XS::no_code);
}

TEST_CASE("web login: codes per number per hour, with the seconds until the next") {
  Fixture f;
  f.code_for(kAnn, f.now);
  f.code_for(kAnn, f.now + 10min);
  f.code_for(kAnn, f.now + 20min);
  const auto limited = f.web.send_code(kAnn, "198.51.100.1", kKey, f.now + 30min);
  CHECK(limited.status == SS::limited_number);
  CHECK(limited.retry_after == 30 * 60);
  CHECK(f.web.send_code(kAnn, kAddress, kKey, f.now + 59min + 59s).retry_after == 1);
  CHECK(f.value("SELECT COUNT(*) FROM outbox") == 3);
  // Another number is not held back.
  f.code_for(kBo, f.now + 30min);
  // Once the first has left the hour, one more.
  f.code_for(kAnn, f.now + 60min);
  CHECK(f.web.send_code(kAnn, kAddress, kKey, f.now + 61min).retry_after == 9 * 60);
}

TEST_CASE("web login: codes per client address per hour, for any number") {
  Fixture f;
  f.settings.codes_per_address_per_hour = 2;
  f.code_for(kAnn, f.now);
  f.code_for(kBo, f.now + 15min);
  const auto limited = f.web.send_code(kCy, kAddress, kKey, f.now + 20min);
  CHECK(limited.status == SS::limited_address);
  CHECK(limited.retry_after == 40 * 60);
  // An unknown number from that address learns nothing more either.
  CHECK(f.web.send_code("8613999999999", kAddress, kKey, f.now + 20min).status ==
        SS::limited_address);
  // Another address may.
  f.code_for(kCy, f.now + 20min, "198.51.100.1");
  CHECK(f.value("SELECT COUNT(*) FROM outbox WHERE msisdn = '" + kCy + "'") == 1);
  f.code_for(kCy, f.now + 60min + 1s);
}

TEST_CASE("web login: a new code replaces the one before") {
  Fixture f;
  const std::string first = f.code_for(kAnn, f.now);
  std::string second = f.code_for(kAnn, f.now + 1min);
  // The same code twice in a row is one chance in a million: once more.
  if (second == first) second = f.code_for(kAnn, f.now + 2min);
  REQUIRE(second != first);
  CHECK(f.value("SELECT COUNT(*) FROM web_codes WHERE msisdn = '" + kAnn +
                "' AND state = 'replaced'") >= 1);
  CHECK(f.value("SELECT COUNT(*) FROM web_codes WHERE msisdn = '" + kAnn +
                "' AND state = 'open'") == 1);
  const auto old = f.web.exchange(kAnn, first, kKey, f.now + 2min);
  CHECK(old.status == XS::wrong_code);
  CHECK(old.attempts_left == 4);
  const auto ok = f.web.exchange(kAnn, second, kKey, f.now + 2min);
  CHECK(ok.status == XS::ok);
}

TEST_CASE("web login: wrong codes are counted, and the code is locked after the last") {
  Fixture f;
  const std::string code = f.code_for(kAnn, f.now);
  const std::string wrong = f.wrong_code(code);
  for (int left = 4; left >= 0; --left) {
    const auto x = f.web.exchange(kAnn, wrong, kKey, f.now + 1min);
    REQUIRE(x.status == XS::wrong_code);
    CHECK(x.attempts_left == left);
    CHECK(x.token.empty());
    CHECK(f.value("SELECT attempts FROM web_codes") == 5 - left);
  }
  CHECK(f.text("SELECT state FROM web_codes") == "locked");
  // Now even the right code is refused.
  const auto right = f.web.exchange(kAnn, code, kKey, f.now + 2min);
  CHECK(right.status == XS::locked);
  CHECK(right.token.empty());
  CHECK(f.value("SELECT COUNT(*) FROM web_tokens") == 0);
  CHECK(f.web.exchange(kAnn, wrong, kKey, f.now + 2min).status == XS::locked);
  CHECK(f.value("SELECT attempts FROM web_codes") == 5);
  // A new code (within the number's limit) starts afresh.
  const std::string next = f.code_for(kAnn, f.now + 3min);
  CHECK(f.web.exchange(kAnn, next, kKey, f.now + 3min).status == XS::ok);
}

TEST_CASE("web login: a wrong try is committed although the exchange fails") {
  Fixture f;
  const std::string code = f.code_for(kAnn, f.now);
  CHECK(f.web.exchange(kAnn, f.wrong_code(code), kKey, f.now).status == XS::wrong_code);
  // Seen from another connection: on disk, not only in an open transaction.
  auto other = test::open_campaign_db(f.dir.file("campaign.db"));
  auto q = other->prepare("SELECT attempts FROM web_codes");
  REQUIRE(q.step() == db::StepResult::row);
  CHECK(q.column_int(0) == 1);
  // Fewer tries allowed since (a reload): the code is locked at its next use.
  f.settings.code_attempts = 1;
  CHECK(f.web.exchange(kAnn, code, kKey, f.now).status == XS::locked);
  CHECK(f.text("SELECT state FROM web_codes") == "locked");
}

TEST_CASE("web login: a code expires after web.code_minutes") {
  Fixture f;
  const std::string code = f.code_for(kAnn, f.now);
  CHECK(f.web.exchange(kAnn, code, kKey, f.now + 5min).status == XS::expired);
  CHECK(f.web.exchange(kAnn, code, kKey, f.now + 6min).status == XS::expired);
  CHECK(f.value("SELECT COUNT(*) FROM web_tokens") == 0);
  const std::string again = f.code_for(kAnn, f.now + 6min);
  CHECK(f.web.exchange(kAnn, again, kKey, f.now + 10min + 59s).status == XS::ok);
}

TEST_CASE("web login: the token stands for the member, for its key, until it expires") {
  Fixture f;
  const std::string code = f.code_for(kAnn, f.now);
  const auto x = f.web.exchange(kAnn, code, kKey, f.now + 1min);
  REQUIRE(x.status == XS::ok);
  CHECK(x.token.size() == 43);
  CHECK(x.expires_at == iso_time(f.now + 16min));
  CHECK(f.text("SELECT state FROM web_codes") == "used");
  // Used once only.
  CHECK(f.web.exchange(kAnn, code, kKey, f.now + 1min).status == XS::no_code);
  // Only its hash is kept.
  CHECK(f.text("SELECT typeof(token_hash) || length(token_hash) FROM web_tokens") == "blob32");
  CHECK(f.value("SELECT COUNT(*) FROM web_tokens WHERE instr(CAST(token_hash AS TEXT), '" +
                x.token.substr(0, 10) + "') > 0") == 0);

  db::Status status;
  auto member = f.web.member_for(x.token, kKey, f.now + 15min, &status);
  REQUIRE(member);
  CHECK(status.ok());
  CHECK(member->id == f.members[kAnn]);
  CHECK(member->msisdn == kAnn);
  CHECK(member->language == "en");
  // Bound to the key it was issued through.
  CHECK(!f.web.member_for(x.token, kOtherKey, f.now + 2min, &status));
  CHECK(status.ok());
  // Expired.
  CHECK(!f.web.member_for(x.token, kKey, f.now + 16min, &status));
  CHECK(status.ok());
  // Not a token.
  std::string forged = x.token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  CHECK(!f.web.member_for(forged, kKey, f.now + 2min, &status));
  CHECK(!f.web.member_for("", kKey, f.now + 2min, &status));
  CHECK(status.ok());
  // A database that cannot say is failed, not nobody.
  f.db->fail_statement_after(0, 5 /* SQLITE_BUSY */);
  CHECK(!f.web.member_for(x.token, kKey, f.now + 2min, &status));
  CHECK(status.busy());
}

TEST_CASE("web login: the code is in the SMS only, never in events or results") {
  Fixture f;
  const auto sent = f.web.send_code(kAnn, kAddress, kKey, f.now);
  REQUIRE(sent.status == SS::sent);
  const std::string body = f.text("SELECT body FROM outbox");
  std::smatch m;
  REQUIRE(std::regex_search(body, m, std::regex("code is ([0-9]{6}),")));
  const std::string code = m[1].str();
  const auto wrong = f.web.exchange(kAnn, f.wrong_code(code), kKey, f.now);
  const auto right = f.web.exchange(kAnn, code, kKey, f.now);
  REQUIRE(right.status == XS::ok);
  // What a caller might log: every text the results carry.
  for (const std::string& said :
       {sent.error, sent.expires_at, wrong.error, wrong.token, right.error, right.expires_at})
    CHECK(said.find(code) == std::string::npos);
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE instr(detail, '" + code +
                "') > 0 OR instr(actor, '" + code + "') > 0") == 0);
  CHECK(f.value("SELECT COUNT(*) FROM outbox WHERE instr(body, '" + code + "') > 0") == 1);
}

TEST_CASE("web login: a failed database sends nothing and says failed") {
  Fixture f;
  for (int n = 0; n < 16; ++n) {
    f.db->fail_statement_after(n, 5 /* SQLITE_BUSY */);
    const auto s = f.web.send_code(kAnn, kAddress, kKey, f.now);
    if (!f.db->statement_failure_spent()) {
      f.db->fail_statement_after(-1, 0);
      CHECK(s.status == SS::sent);
      CHECK(f.value("SELECT COUNT(*) FROM outbox") == 1);
      CHECK(f.value("SELECT COUNT(*) FROM web_codes") == 1);
      return;
    }
    INFO(n);
    CHECK(s.status == SS::failed);
    CHECK(f.value("SELECT COUNT(*) FROM outbox") == 0);
    CHECK(f.value("SELECT COUNT(*) FROM web_codes") == 0);
  }
  FAIL("send_code never got past the injected failures");
}

TEST_CASE("web login: prune takes codes and tokens expired over a day ago") {
  Fixture f;
  const std::string code = f.code_for(kAnn, f.now);
  REQUIRE(f.web.exchange(kAnn, code, kKey, f.now).status == XS::ok);
  f.code_for(kBo, f.now + 20h);
  CHECK(f.web.prune(f.now + 24h) == 0);
  // A day after the first code and token expired: they go, the later code stays.
  CHECK(f.web.prune(f.now + 24h + 16min) == 2);
  CHECK(f.value("SELECT COUNT(*) FROM web_codes") == 1);
  CHECK(f.value("SELECT COUNT(*) FROM web_tokens") == 0);
  CHECK(f.web.prune(f.now + 24h + 16min) == 0);
}

TEST_CASE("web login: a spent code's SMS loses its body once sent, never while in flight") {
  Fixture f;
  const std::string first = f.code_for(kAnn, f.now);
  // Its SMS delivered, a second code replaces it: the first's body goes.
  REQUIRE(f.db->exec("UPDATE outbox SET state = 'delivered' WHERE message = 'web_code'").ok());
  const std::string second = f.code_for(kAnn, f.now + 1min);
  CHECK(f.value("SELECT COUNT(*) FROM outbox WHERE message = 'web_code' AND body = ''") == 1);
  CHECK(f.value("SELECT COUNT(*) FROM outbox WHERE body LIKE '%" + first + "%'") == 0);
  // The second is used while its SMS still waits for a receipt: kept.
  REQUIRE(f.db->exec("UPDATE outbox SET state = 'submitted' WHERE message = 'web_code' AND "
                     "body <> ''").ok());
  REQUIRE(f.web.exchange(kAnn, second, kKey, f.now + 2min).status == XS::ok);
  CHECK(f.value("SELECT COUNT(*) FROM outbox WHERE body LIKE '%" + second + "%'") == 1);
  // Once delivered, the next sign-in's code blanks it.
  REQUIRE(f.db->exec("UPDATE outbox SET state = 'delivered' WHERE message = 'web_code'").ok());
  f.code_for(kAnn, f.now + 3min);
  CHECK(f.value("SELECT COUNT(*) FROM outbox WHERE body LIKE '%" + second + "%'") == 0);
}
