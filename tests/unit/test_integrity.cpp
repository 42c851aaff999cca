#include <doctest/doctest.h>

#include <fmt/format.h>

#include <fstream>

#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/integrity.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/storage/schema.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/corrupt_page.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using O = CheckLine::Outcome;

namespace {

const int kNewest = schema_migrations().back().version;

// A campaign that did a bit of everything, through the domain: a voucher
// redeemed by SMS and used at a merchant, one redeemed and voided with its
// points refunded, one issued and unused, the messages they queued.
struct Fixture {
  test::TempDir dir;
  std::string path = dir.file("c.db");
  std::unique_ptr<db::Database> db = test::open_campaign_db(path);
  Config config = test::campaign_config();
  Service service{*db, config, test::shipped_templates()};
  Vouchers vouchers{*db, config.campaign};
  Time now = config.campaign.start + 24h;
  std::string used, voided, unused;
  int sequence = 0;

  Fixture() {
    Importer importer(*db, config, {"import", "t"});
    REQUIRE(importer.members("msisdn,city,language,points\n13800138000,beijing,zh,12000\n"
                             "13900000001,beijing,en,3000\n", "m.csv")
                .status == ImportResult::Status::ok);
    REQUIRE(importer.merchants("id,name,city,kind,level,phones,offer_a\n"
                               "bj-1,Star KTV,beijing,ktv,high,13911111111,5 hours\n", "s.csv")
                .status == ImportResult::Status::ok);
    REQUIRE(vouchers.set_stock("A", "beijing", 5, {"giftctl", "t"}));
    REQUIRE(vouchers.set_stock("C", "beijing", 5, {"giftctl", "t"}));
    send("8613800138000", "DH A");
    send("8613800138000", "Y");
    used = text("SELECT code FROM vouchers WHERE tier = 'A'");
    send("8613911111111", "HX " + used);
    const Actor op{"giftctl", "t"};
    voided = vouchers.redeem("8613900000001", "C", "call-1", op, now).code;
    REQUIRE(vouchers.void_voucher(voided, "complaint", true, op) == AdminResult::ok);
    unused = vouchers.redeem("8613900000001", "C", "call-2", op, now).code;
    REQUIRE(text("SELECT state FROM vouchers WHERE code = '" + used + "'") == "used");
    REQUIRE(text("SELECT COUNT(*) FROM outbox WHERE voucher_code IS NOT NULL") == "1");
  }
  void send(const std::string& from, const std::string& body) {
    const auto out = service.handle({fmt::format("mo-{}", ++sequence), from, body, "sms", now, {}, {}});
    REQUIRE(out.status == MoOutcome::Status::done);
  }
  std::string text(const std::string& sql) {
    auto q = db->prepare(sql);
    REQUIRE(q.step() == db::StepResult::row);
    return q.column_text(0);
  }
  void sql(const std::string& statements) {
    const auto s = db->exec(statements);
    REQUIRE_MESSAGE(s.ok(), s.message);
  }
  // The report read through a connection of its own, read-only, as giftctl does.
  IntegrityReport check(IntegrityCheck::Depth depth = IntegrityCheck::Depth::full) {
    std::string error;
    auto reader = db::Database::open_existing(path, false, 1000ms, &error);
    REQUIRE_MESSAGE(reader, error);
    return IntegrityCheck(*reader, kNewest).run(depth);
  }
};

const CheckLine& line(const IntegrityReport& r, const std::string& name_start) {
  for (const auto& l : r.lines)
    if (l.name.rfind(name_start, 0) == 0) return l;
  FAIL("no line " << name_start);
  throw 0;
}

// The report breaks exactly the rule named, `problems` times.
void only_broken(const IntegrityReport& r, const std::string& rule, std::int64_t problems) {
  CHECK_FALSE(r.passed());
  CHECK_FALSE(r.corrupt);
  for (const auto& l : r.lines) {
    INFO(l.name << ": " << l.note);
    if (l.name.rfind(rule, 0) == 0) {
      CHECK(l.outcome == O::problems);
      CHECK(l.problems == problems);
      CHECK(l.examples.size() == static_cast<std::size_t>(std::min<std::int64_t>(problems, 5)));
    } else {
      CHECK(l.outcome == O::ok);
    }
  }
}

}  // namespace

TEST_CASE("integrity: a campaign run through the domain passes every check") {
  Fixture f;
  for (auto depth : {IntegrityCheck::Depth::full, IntegrityCheck::Depth::quick}) {
    const auto r = f.check(depth);
    CHECK(r.refused.empty());
    CHECK(r.schema_version == kNewest);
    CHECK(r.lines.size() == 14);
    for (const auto& l : r.lines) {
      INFO(l.name << ": " << l.note);
      CHECK(l.outcome == O::ok);
    }
    CHECK(r.passed());
  }
}

TEST_CASE("integrity: a voucher without its deduction") {
  Fixture f;
  f.sql("DROP TRIGGER ledger_append_only_delete; DELETE FROM ledger WHERE reference = 'redeem:" +
        f.unused + "'");
  only_broken(f.check(), "vouchers: one deduction", 1);
}

TEST_CASE("integrity: a deduction whose voucher is gone") {
  Fixture f;
  f.sql("DELETE FROM vouchers WHERE code = '" + f.unused + "'");
  const auto r = f.check();
  // Its issue event and deduction now name nothing; both rules say so.
  CHECK(line(r, "ledger: every redemption").problems == 1);
  CHECK(line(r, "ledger: every redemption").outcome == O::problems);
  CHECK_FALSE(r.passed());
}

TEST_CASE("integrity: a refund for a voucher that is not void") {
  Fixture f;
  f.sql("UPDATE vouchers SET state = 'issued' WHERE code = '" + f.voided + "'");
  only_broken(f.check(), "ledger: refunds only", 1);
}

TEST_CASE("integrity: a voucher issued twice in the history") {
  Fixture f;
  f.sql("INSERT INTO events(kind, channel, actor, voucher_code) VALUES ('voucher_issued', 'sms', "
        "'t', '" + f.unused + "')");
  only_broken(f.check(), "vouchers: issued once", 1);
}

TEST_CASE("integrity: a voucher used twice, and one reinstated and used again") {
  Fixture f;
  const Actor op{"giftctl", "t"};
  // Reinstated and used again: twice used, and right.
  REQUIRE(f.vouchers.reinstate(f.used, "wrong merchant", op) == AdminResult::ok);
  f.send("8613911111111", "HX " + f.used);
  CHECK(f.check().passed());
  f.sql("INSERT INTO events(kind, channel, actor, voucher_code) VALUES ('voucher_used', 'sms', "
        "'t', '" + f.used + "')");
  only_broken(f.check(), "vouchers: never used twice", 1);
}

TEST_CASE("integrity: a used voucher without its merchant") {
  Fixture f;
  f.sql("UPDATE vouchers SET used_by = NULL WHERE code = '" + f.used + "'");
  only_broken(f.check(), "vouchers: 'used' exactly when", 1);
}

TEST_CASE("integrity: messages in no valid state") {
  Fixture f;
  f.sql("UPDATE outbox SET state = 'delivered' WHERE id = (SELECT MIN(id) FROM outbox);"
        "UPDATE outbox SET final_at = '2026-10-02T00:00:00Z' WHERE id = (SELECT MAX(id) FROM outbox)");
  only_broken(f.check(), "outbox: every message", 2);
}

TEST_CASE("integrity: a voucher's message naming no voucher") {
  Fixture f;
  f.sql("UPDATE outbox SET voucher_code = 'ZZ00000000' WHERE voucher_code IS NOT NULL");
  only_broken(f.check(), "outbox: a voucher's message", 1);
}

TEST_CASE("integrity: stock below 0") {
  Fixture f;
  f.sql("PRAGMA ignore_check_constraints = ON; UPDATE stock SET quantity = -1 WHERE tier = 'C'");
  only_broken(f.check(), "stock:", 1);
}

TEST_CASE("integrity: a balance below 0, the number masked") {
  Fixture f;
  f.sql("INSERT INTO ledger(member_id, delta, reason, channel, actor) SELECT id, -999999, 'x', "
        "'sms', 't' FROM members WHERE msisdn = '8613800138000'");
  const auto r = f.check();
  only_broken(r, "members: no balance", 1);
  const auto& example = line(r, "members:").examples.at(0);
  CHECK(example.find("86138****8000") != std::string::npos);
  CHECK(example.find("8613800138000") == std::string::npos);
}

TEST_CASE("integrity: examples never show a voucher's code") {
  Fixture f;
  f.sql("DROP TRIGGER ledger_append_only_delete; DELETE FROM ledger WHERE reference LIKE 'redeem:%'");
  const auto r = f.check();
  const auto& l = line(r, "vouchers: one deduction");
  REQUIRE(l.examples.size() == 3);
  for (const auto& e : l.examples) {
    CHECK(e.find(f.used) == std::string::npos);
    CHECK(e.find(f.unused) == std::string::npos);
    CHECK(e.find(f.voided) == std::string::npos);
    CHECK(e.find("********") != std::string::npos);
  }
}

TEST_CASE("integrity: a row naming a missing parent breaks the foreign keys") {
  Fixture f;
  f.sql("PRAGMA foreign_keys = OFF; INSERT INTO events(kind, member_id, channel, actor) "
        "VALUES ('x', 999, 'sms', 't')");
  only_broken(f.check(), "file: foreign keys", 1);
}

TEST_CASE("integrity: a damaged page is corrupt, the rules after it skipped, nothing thrown") {
  Fixture f;
  f.db.reset();  // the log into the file, so the page damaged is the one read
  test::corrupt_page_of(f.path, "vouchers");
  for (auto depth : {IntegrityCheck::Depth::full, IntegrityCheck::Depth::quick}) {
    const auto r = f.check(depth);
    CHECK(r.corrupt);
    CHECK_FALSE(r.passed());
    CHECK(r.lines.at(0).outcome == O::corrupt);
    CHECK(r.lines.at(0).problems > 0);
    CHECK(line(r, "stock:").outcome == O::skipped);
  }
}

TEST_CASE("integrity: a file that is no database is corrupt, not a crash") {
  test::TempDir dir;
  std::ofstream(dir.file("junk.db")) << std::string(8192, 'x');
  std::string error;
  auto junk = db::Database::open_existing(dir.file("junk.db"), false, 100ms, &error);
  REQUIRE_MESSAGE(junk, error);
  const auto r = IntegrityCheck(*junk, kNewest).run(IntegrityCheck::Depth::full);
  CHECK(r.corrupt);
  CHECK_FALSE(r.passed());
}

TEST_CASE("integrity: a newer schema is refused, unjudged") {
  Fixture f;
  f.sql(fmt::format("PRAGMA user_version = {}", kNewest + 1));
  const auto r = f.check();
  CHECK(r.refused.find("newer than this build") != std::string::npos);
  CHECK(r.lines.empty());
  CHECK_FALSE(r.passed());
}

TEST_CASE("integrity: checks while another connection holds the write lock") {
  Fixture f;
  // giftgated mid-transaction: the check reads the last commit, waiting for nothing.
  db::Transaction writing(*f.db);
  REQUIRE(writing.begun().ok());
  f.sql("UPDATE stock SET quantity = 4 WHERE tier = 'C'");
  const auto r = f.check();
  CHECK(r.passed());
}
