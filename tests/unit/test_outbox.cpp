#include <doctest/doctest.h>

#include "daemon/outbox.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("o.db"));
  Outbox outbox{*db, ResendPolicy{3, 60s, 600s}};
  Time t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 1};

  std::int64_t queue(const std::string& body = "hello",
                     const std::optional<std::string>& code = std::nullopt) {
    auto q = db->prepare(
        "INSERT INTO outbox(msisdn, message, language, body, voucher_code, next_attempt_at, "
        "created_at) VALUES ('8613800138000', 'help', 'zh', ?, ?, ?, ?)");
    REQUIRE(q.bind(1, body).bind(2, code).bind(3, iso_time(t0)).bind(4, iso_time(t0)).run().ok());
    return db->last_insert_id();
  }
  std::string state(std::int64_t id) {
    auto q = db->prepare("SELECT state FROM outbox WHERE id = ?");
    q.bind(1, id);
    return q.step() ? q.column_text(0) : "?";
  }
  // Takes the one due message and returns its attempt number.
  int take(Time now) {
    const auto due = outbox.take_due(now, 10);
    REQUIRE(due.size() == 1);
    return due[0].attempt;
  }
};

}  // namespace

TEST_CASE("outbox: submitted, then delivered when every part's receipt says so") {
  Fixture f;
  const auto id = f.queue();
  CHECK(f.take(f.t0) == 1);
  CHECK(f.state(id) == "submitted");
  CHECK(f.outbox.take_due(f.t0, 10).empty());  // not twice
  REQUIRE(f.outbox.submitted(id, 1, 1, 2, "a1", f.t0).ok());
  REQUIRE(f.outbox.submitted(id, 1, 2, 2, "a2", f.t0).ok());
  CHECK(f.outbox.receipt("a1", "DELIVRD", "000", f.t0 + 5s) == Outbox::Receipt::matched);
  CHECK(f.state(id) == "submitted");
  CHECK(f.outbox.receipt("a2", "DELIVRD", "000", f.t0 + 6s) == Outbox::Receipt::matched);
  CHECK(f.state(id) == "delivered");
}

TEST_CASE("outbox: UNDELIV is resent after a growing delay, and then delivered") {
  Fixture f;
  const auto id = f.queue();
  f.take(f.t0);
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "m1", f.t0).ok());
  CHECK(f.outbox.receipt("m1", "UNDELIV", "001", f.t0 + 1s) == Outbox::Receipt::matched);
  CHECK(f.state(id) == "queued");
  CHECK(f.outbox.take_due(f.t0 + 60s, 10).empty());  // first delay: 60 s after the failure
  CHECK(f.take(f.t0 + 61s) == 2);
  REQUIRE(f.outbox.submitted(id, 2, 1, 1, "m2", f.t0 + 61s).ok());
  CHECK(f.outbox.receipt("m2", "REJECTD", "002", f.t0 + 62s) == Outbox::Receipt::matched);
  CHECK(f.outbox.take_due(f.t0 + 62s + 119s, 10).empty());  // then 120 s
  CHECK(f.take(f.t0 + 62s + 120s) == 3);
  REQUIRE(f.outbox.submitted(id, 3, 1, 1, "m3", f.t0 + 200s).ok());
  CHECK(f.outbox.receipt("m3", "DELIVRD", "000", f.t0 + 201s) == Outbox::Receipt::matched);
  CHECK(f.state(id) == "delivered");
}

TEST_CASE("outbox: after the last attempt, failed or expired, and never again") {
  Fixture f;
  const auto a = f.queue(), b = f.queue();
  Time t = f.t0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const auto due = f.outbox.take_due(t, 10);
    REQUIRE(due.size() == 2);
    REQUIRE(f.outbox.submitted(a, attempt, 1, 1, "a" + std::to_string(attempt), t).ok());
    REQUIRE(f.outbox.submitted(b, attempt, 1, 1, "b" + std::to_string(attempt), t).ok());
    f.outbox.receipt("a" + std::to_string(attempt), "UNDELIV", "001", t);
    f.outbox.receipt("b" + std::to_string(attempt), "EXPIRED", "000", t);
    t += 1h;
  }
  CHECK(f.state(a) == "failed");
  CHECK(f.state(b) == "expired");
  CHECK(f.outbox.take_due(t + 24h, 10).empty());
  // A late receipt of an old attempt changes no final failure into another one.
  f.outbox.receipt("a1", "UNDELIV", "001", t);
  CHECK(f.state(a) == "failed");
}

TEST_CASE("outbox: no receipt in time is resent, then failed") {
  Fixture f;
  const auto id = f.queue();
  Time t = f.t0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CHECK(f.take(t) == attempt);
    REQUIRE(f.outbox.submitted(id, attempt, 1, 1, "n" + std::to_string(attempt), t).ok());
    CHECK(f.outbox.sweep(t + 599s) == 0);
    CHECK(f.outbox.sweep(t + 600s) == 1);
    t += 2h;
  }
  CHECK(f.state(id) == "failed");
}

TEST_CASE("outbox: a receipt before its submit_sm_resp is matched, not lost") {
  Fixture f;
  const auto id = f.queue();
  f.take(f.t0);
  CHECK(f.outbox.receipt("early", "DELIVRD", "000", f.t0) == Outbox::Receipt::unmatched);  // stored, unmatched
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "early", f.t0 + 1s).ok());
  CHECK(f.state(id) == "delivered");
  auto q = f.db->prepare("SELECT COUNT(*), SUM(matched) FROM receipts");
  REQUIRE(q.step());
  CHECK(q.column_int(0) == 1);
  CHECK(q.column_int(1) == 1);
}

TEST_CASE("outbox: receipts for unknown ids are stored and counted") {
  Fixture f;
  CHECK(f.outbox.receipt("nobody", "DELIVRD", "000", f.t0) == Outbox::Receipt::unmatched);
  CHECK(f.outbox.receipt("nobody2", "UNDELIV", "001", f.t0) == Outbox::Receipt::unmatched);
  auto q = f.db->prepare("SELECT COUNT(*) FROM receipts WHERE matched = 0");
  REQUIRE(q.step());
  CHECK(q.column_int(0) == 2);
}

TEST_CASE("outbox: a failed submit is an attempt, resent later") {
  Fixture f;
  const auto id = f.queue();
  f.take(f.t0);
  REQUIRE(f.outbox.submit_failed(id, 1, 1, 1, 0x58, "ESME_RTHROTTLED", f.t0).ok());
  CHECK(f.state(id) == "queued");
  CHECK(f.take(f.t0 + 60s) == 2);
}

TEST_CASE("outbox: after a restart, an attempt cut off before its answers is due again") {
  Fixture f;
  const auto whole = f.queue(), cut = f.queue(), half = f.queue();
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 3);
  REQUIRE(f.outbox.submitted(whole, 1, 1, 1, "w", f.t0).ok());
  REQUIRE(f.outbox.submitted(half, 1, 1, 2, "h1", f.t0).ok());  // part 2 never answered
  CHECK(f.outbox.recover(f.t0 + 1s) == 2);
  CHECK(f.state(whole) == "submitted");
  CHECK(f.state(cut) == "queued");
  CHECK(f.state(half) == "queued");
  CHECK(f.outbox.take_due(f.t0 + 1s, 10).size() == 2);
}

TEST_CASE("outbox: an operator resends by voucher code or message id") {
  Fixture f;
  const auto id = f.queue("your voucher", std::string("AE12098768"));
  f.take(f.t0);
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "v", f.t0).ok());
  f.outbox.receipt("v", "DELIVRD", "000", f.t0);
  REQUIRE(f.state(id) == "delivered");
  CHECK(f.outbox.resend("AE12098768", "li.na", f.t0 + 1h) == id);
  CHECK(f.state(id) == "queued");
  CHECK(f.take(f.t0 + 1h) == 2);
  CHECK_FALSE(f.outbox.resend("ZZ00000000", "li.na", f.t0));
  CHECK(f.outbox.resend(std::to_string(id), "li.na", f.t0 + 2h) == id);
  const auto c = f.outbox.counts();
  CHECK(c.queued == 1);
}
