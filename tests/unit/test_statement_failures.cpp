// A database error is never an answer: each MO path of the Service run
// with its n-th statement failing, for n = 0, 1, 2 ... until the failure
// falls past the last statement the MO runs. Every run the failure hit must
// fail as a whole (the gateway then does not acknowledge the MO, and the
// SMSC delivers it again): nothing changed in the database, no reply
// queued, so nobody is told "not a member", "unknown code" or "not a
// merchant" because the disk was busy. The first run it missed must give
// the answer a run without any failure gives.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <fmt/format.h>

#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/config/config.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using MS = MoOutcome::Status;
using US = UssdOutcome::Status;

namespace {

// Far more statements than any MO runs: a run still failing past it would
// mean a failure the MO never gets past.
constexpr int kMostStatements = 300;

// The tables an MO may change.
constexpr const char* kTables[] = {
    "members", "ledger", "vouchers", "stock", "offers", "inbox", "outbox", "outbox_parts",
    "events", "ussd_sessions", "verify_failures", "merchant_lockouts", "merchants",
    "merchant_phones", "merchant_offers"};

// Every row of those tables as text. Read with SQLite's own calls, past
// the wrapper, so that reading never counts towards the armed failure.
std::string snapshot(db::Database& db) {
  std::string out;
  for (const char* table : kTables) {
    sqlite3_stmt* q = nullptr;
    const std::string sql = fmt::format("SELECT * FROM {} ORDER BY rowid", table);
    REQUIRE(sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &q, nullptr) == SQLITE_OK);
    out += fmt::format("[{}]\n", table);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(q); ++i) {
        const auto* text = sqlite3_column_text(q, i);
        out += text ? reinterpret_cast<const char*>(text) : "NULL";
        out += '|';
      }
      out += '\n';
    }
    sqlite3_finalize(q);
    REQUIRE(rc == SQLITE_DONE);
  }
  return out;
}

// Answers a person must never get for a database error.
bool wrong_answer(const std::string& message) {
  for (const char* name : {"not_a_member", "ussd_not_a_member", "verify_unknown", "help",
                           "no_vouchers", "no_merchants", "no_offer", "out_of_stock",
                           "ussd_timed_out", "ussd_no_vouchers", "ussd_no_merchants"})
    if (message == name) return true;
  return false;
}

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("f.db"));
  Config config = test::campaign_config();
  Service service{*db, config, test::shipped_templates()};
  Time now = config.campaign.start + 24h;
  int sequence = 0;

  Fixture() {
    std::string error;
    auto menus = UssdMenus::load(std::string(GIFTGATE_SOURCE_DIR) + "/templates/menus.yaml",
                                 ussd_limits(config.ussd), &error);
    INFO(error);
    REQUIRE(menus);
    service.set_menus(menus);
    Importer importer(*db, config, {"import", "t"});
    REQUIRE(importer
                .members("msisdn,city,language,points\n13800138000,beijing,zh,12000\n"
                         "13900000001,beijing,en,30000\n",
                         "m.csv")
                .status == ImportResult::Status::ok);
    REQUIRE(importer
                .merchants("id,name,city,kind,level,phones,offer_a,offer_c\n"
                           "bj-1,Star KTV,beijing,ktv,high,13911111111,5 hours,1 hour\n"
                           "bj-2,Sky Cinema,beijing,cinema,low,13911111112,8 tickets,\n",
                           "s.csv")
                .status == ImportResult::Status::ok);
    Vouchers v(*db, config.campaign);
    REQUIRE(v.set_stock("A", "beijing", 5, {"giftctl", "t"}));
  }

  Mo mo(const std::string& from, const std::string& text) {
    // With a fingerprint, so that the redelivery look-up runs too.
    return {fmt::format("mo-{}", ++sequence), from, text, "sms", now,
            mo_fingerprint(from, "12580", text), "epoch-1"};
  }
  UssdMo ussd(const std::string& from, const std::string& text, UssdMo::Step step) {
    UssdMo m;
    m.key = fmt::format("ussd-{}", ++sequence);
    m.msisdn = from;
    m.text = text;
    m.now = now;
    m.step = step;
    m.session_key = "s1";
    m.fingerprint = fmt::format("s1 {} {}", sequence, text);
    return m;
  }
  std::string body(std::int64_t outbox_id) {
    auto q = db->prepare("SELECT body FROM outbox WHERE id = ?");
    q.bind(1, outbox_id);
    REQUIRE(q.step() == db::StepResult::row);
    return q.column_text(0);
  }
  std::string latest_code() {
    auto q = db->prepare("SELECT code FROM vouchers ORDER BY rowid DESC LIMIT 1");
    REQUIRE(q.step() == db::StepResult::row);
    return q.column_text(0);
  }
};

// What the first run the failure missed answered: the replies' template
// names and texts.
struct Answer {
  std::vector<std::string> messages;
  std::vector<std::string> bodies;
};

// Runs `make()`'s MO with the n-th statement failing, n = 0, 1, ...; see
// the top of this file. The failure is SQLITE_IOERR and SQLITE_BUSY in
// turn (the two a disk gives).
Answer fail_each_statement(Fixture& f, const std::function<Mo()>& make) {
  const std::string before = snapshot(*f.db);
  const Mo mo = make();  // one delivery, tried again after each failure
  for (int n = 0; n < kMostStatements; ++n) {
    CAPTURE(n);
    f.db->fail_statement_after(n, n % 2 ? SQLITE_BUSY : SQLITE_IOERR);
    const MoOutcome out = f.service.handle(mo);
    const bool hit = f.db->statement_failure_spent();
    f.db->fail_statement_after(-1, 0);
    if (!hit) {
      INFO(out.error);
      REQUIRE(out.status == MS::done);
      Answer a{out.messages, {}};
      for (const auto id : out.replies) a.bodies.push_back(f.body(id));
      return a;
    }
    INFO("MO ", mo.text, " answered ", fmt::format("{}", fmt::join(out.messages, ",")));
    CHECK(out.status == MS::failed);
    CHECK(out.replies.empty());
    for (const auto& m : out.messages) CHECK_FALSE(wrong_answer(m));
    CHECK(snapshot(*f.db) == before);
    if (out.status != MS::failed) return {};  // one wrong run says enough
  }
  FAIL("the MO still failed with its statement ", kMostStatements, " failing");
  return {};
}

// The same for a USSD step; the screen shown and the SMS it sent.
struct Screen {
  std::string screen;
  std::vector<std::string> messages;
  bool ended = false;
};

Screen fail_each_statement(Fixture& f, const UssdMo& mo) {
  const std::string before = snapshot(*f.db);
  for (int n = 0; n < kMostStatements; ++n) {
    CAPTURE(n);
    f.db->fail_statement_after(n, n % 2 ? SQLITE_BUSY : SQLITE_IOERR);
    const UssdOutcome out = f.service.handle_ussd(mo);
    const bool hit = f.db->statement_failure_spent();
    f.db->fail_statement_after(-1, 0);
    if (!hit) {
      INFO(out.error);
      REQUIRE(out.status == US::done);
      return {out.screen, out.messages, out.ended};
    }
    INFO("USSD ", mo.text, " showed ", out.screen);
    CHECK(out.status == US::failed);
    CHECK_FALSE(wrong_answer("ussd_" + out.screen));
    CHECK(snapshot(*f.db) == before);
    if (out.status != US::failed) return {};
  }
  FAIL("the USSD step still failed with its statement ", kMostStatements, " failing");
  return {};
}

bool contains(const std::vector<std::string>& bodies, const std::string& part) {
  for (const auto& b : bodies)
    if (b.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("statement failures: the hook fails the n-th step once, and only when armed") {
  Fixture f;
  auto count = [&] {
    auto q = f.db->prepare("SELECT COUNT(*) FROM members");
    return q.step();
  };
  CHECK(count() == db::StepResult::row);
  CHECK_FALSE(f.db->statement_failure_spent());
  f.db->fail_statement_after(1, SQLITE_IOERR);
  CHECK(count() == db::StepResult::row);  // n = 0 passes
  auto q = f.db->prepare("SELECT 1 FROM members WHERE msisdn = 'nobody'");
  CHECK(q.step() == db::StepResult::error);  // the 1st after it fails ...
  CHECK((q.status().code & 0xFF) == SQLITE_IOERR);
  CHECK(f.db->statement_failure_spent());
  q.reset();
  CHECK(q.step() == db::StepResult::done);  // ... once; "no row" stays "no row"
  f.db->fail_statement_after(0, SQLITE_BUSY);
  CHECK(f.db->exec("SELECT 1").busy());
  CHECK(f.db->exec("SELECT 1").ok());
}

TEST_CASE("statement failures: balance (JF)") {
  Fixture f;
  const auto a = fail_each_statement(f, [&] { return f.mo("8613900000001", "JF"); });
  CHECK(a.messages == std::vector<std::string>{"balance"});
  CHECK(contains(a.bodies, "Your points: 30000."));
}

TEST_CASE("statement failures: a number that is no member's is told so only when it is so") {
  Fixture f;
  const auto a = fail_each_statement(f, [&] { return f.mo("8613700000009", "JF"); });
  CHECK(a.messages == std::vector<std::string>{"not_a_member"});
}

TEST_CASE("statement failures: my vouchers (CX) and merchants (SH)") {
  Fixture f;
  auto a = fail_each_statement(f, [&] { return f.mo("8613900000001", "CX"); });
  CHECK(a.messages == std::vector<std::string>{"no_vouchers"});
  a = fail_each_statement(f, [&] { return f.mo("8613900000001", "SH"); });
  CHECK(a.messages == std::vector<std::string>{"merchants"});
  CHECK(contains(a.bodies, "Star KTV"));
}

TEST_CASE("statement failures: redeem (DH A), then confirm (Y), then CX lists the voucher") {
  Fixture f;
  auto a = fail_each_statement(f, [&] { return f.mo("8613900000001", "DH A"); });
  REQUIRE(a.messages == std::vector<std::string>{"offer"});
  a = fail_each_statement(f, [&] { return f.mo("8613900000001", "Y"); });
  REQUIRE(a.messages == std::vector<std::string>{"voucher"});
  const std::string code = f.latest_code();
  CHECK(contains(a.bodies, code));
  CHECK(contains(a.bodies, "25000"));  // the balance after: deducted once
  a = fail_each_statement(f, [&] { return f.mo("8613900000001", "CX"); });
  CHECK(a.messages == std::vector<std::string>{"my_vouchers"});
  CHECK(contains(a.bodies, code));
  // A second Y: no offer held any more, and that is the answer.
  a = fail_each_statement(f, [&] { return f.mo("8613900000001", "Y"); });
  CHECK(a.messages == std::vector<std::string>{"no_offer"});
}

TEST_CASE("statement failures: verify (HX code), a wrong code, and a number that is no merchant's") {
  Fixture f;
  REQUIRE(f.service.handle(f.mo("8613900000001", "DH A")).status == MS::done);
  REQUIRE(f.service.handle(f.mo("8613900000001", "Y")).status == MS::done);
  const std::string code = f.latest_code();
  // A wrong code first: it counts against the merchant only when answered.
  auto a = fail_each_statement(f, [&] { return f.mo("8613911111111", "HX AB12345678"); });
  CHECK((a.messages == std::vector<std::string>{"verify_unknown"} ||
         a.messages == std::vector<std::string>{"verify_bad_check_digit"}));
  a = fail_each_statement(f, [&] { return f.mo("8613911111111", "HX " + code); });
  CHECK(a.messages == std::vector<std::string>{"verified", "voucher_used_note"});
  CHECK(contains(a.bodies, "Star KTV"));  // the note names the merchant
  // From a number that is no merchant's, HX is not a command it has.
  a = fail_each_statement(f, [&] { return f.mo("8613700000009", "HX " + code); });
  CHECK(a.messages == std::vector<std::string>{"help"});
}

TEST_CASE("statement failures: USSD steps, from the dial to a redemption") {
  Fixture f;
  using Step = UssdMo::Step;
  auto s = fail_each_statement(f, f.ussd("8613900000001", "*12580#", Step::begin));
  CHECK(s.screen == "main");
  s = fail_each_statement(f, f.ussd("8613900000001", "1", Step::answer));
  CHECK(s.screen == "balance");
  CHECK(s.ended);
  s = fail_each_statement(f, f.ussd("8613900000001", "*12580*4#", Step::begin));
  CHECK(s.screen == "merchants");
  // The shortcut walks to the confirm screen, which reads the balance.
  s = fail_each_statement(f, f.ussd("8613900000001", "*12580*2*1#", Step::begin));
  CHECK(s.screen == "confirm");
  s = fail_each_statement(f, f.ussd("8613900000001", "1", Step::answer));
  CHECK(s.screen == "redeemed");
  CHECK(s.messages == std::vector<std::string>{"voucher"});
  s = fail_each_statement(f, f.ussd("8613900000001", "*12580*3#", Step::begin));
  CHECK(s.screen == "vouchers_sent");
  // An answer with no session alive: "timed out" only when that is so.
  s = fail_each_statement(f, f.ussd("8613900000001", "1", Step::answer));
  CHECK(s.screen == "timed_out");
  // A number that is no member's.
  s = fail_each_statement(f, f.ussd("8613700000009", "*12580#", Step::begin));
  CHECK(s.screen == "not_a_member");
}
