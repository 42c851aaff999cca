#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>

#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/reports.hpp"
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
    return q.step() == giftgate::db::StepResult::row ? q.column_text(0) : "?";
  }
  // A receipt for `id` (one reading), to the fixture's number unless told.
  Outbox::ReceiptMatch receipt(const std::string& id, const std::string& stat,
                               const std::string& error, Time at,
                               std::optional<std::string> recipient = "8613800138000") {
    return outbox.receipt({id, std::move(recipient), stat, error, ""}, at);
  }
  // A USSD screen due now, answering a step that came on `route` (NULL: none).
  std::int64_t queue_screen(const std::optional<std::string>& route) {
    auto q = db->prepare(
        "INSERT INTO outbox(msisdn, message, language, body, next_attempt_at, created_at, "
        "channel, ussd_op, ussd_session, expires_at, priority, fair_at, route) VALUES "
        "('8613800138000', 'ussd_main', 'zh', 'menu', ?1, ?1, 'ussd', 2, '1,0,0', ?2, 0, ?1, ?3)");
    REQUIRE(q.bind(1, iso_time(t0)).bind(2, iso_time(t0 + 1h)).bind(3, route).run().ok());
    return db->last_insert_id();
  }
  // A receipt for `id` from the SMSC `smsc`, to the fixture's number.
  Outbox::ReceiptMatch receipt_from(const std::string& smsc, const std::string& id,
                                    const std::string& stat, Time at) {
    return outbox.receipt({id, "8613800138000", stat, stat == "DELIVRD" ? "000" : "001", "", smsc},
                          at);
  }
  std::int64_t number(const std::string& sql, std::int64_t id) {
    auto q = db->prepare(sql);
    q.bind(1, id);
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    return q.column_int(0);
  }
  std::int64_t attempts(std::int64_t id) {
    return number("SELECT attempts FROM outbox WHERE id = ?", id);
  }
  std::int64_t part_rows(std::int64_t id) {
    return number("SELECT COUNT(*) FROM outbox_parts WHERE outbox_id = ?", id);
  }
  std::string text(const std::string& sql, std::int64_t id) {
    auto q = db->prepare(sql);
    q.bind(1, id);
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    return q.column_null(0) ? "NULL" : q.column_text(0);
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
  CHECK(f.receipt("a1", "DELIVRD", "000", f.t0 + 5s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(id) == "submitted");
  CHECK(f.receipt("a2", "DELIVRD", "000", f.t0 + 6s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(id) == "delivered");
}

TEST_CASE("outbox: UNDELIV is resent after a growing delay, and then delivered") {
  Fixture f;
  const auto id = f.queue();
  f.take(f.t0);
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "m1", f.t0).ok());
  CHECK(f.receipt("m1", "UNDELIV", "001", f.t0 + 1s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(id) == "queued");
  CHECK(f.outbox.take_due(f.t0 + 60s, 10).empty());  // first delay: 60 s after the failure
  CHECK(f.take(f.t0 + 61s) == 2);
  REQUIRE(f.outbox.submitted(id, 2, 1, 1, "m2", f.t0 + 61s).ok());
  CHECK(f.receipt("m2", "REJECTD", "002", f.t0 + 62s) == Outbox::ReceiptMatch::applied);
  CHECK(f.outbox.take_due(f.t0 + 62s + 119s, 10).empty());  // then 120 s
  CHECK(f.take(f.t0 + 62s + 120s) == 3);
  REQUIRE(f.outbox.submitted(id, 3, 1, 1, "m3", f.t0 + 200s).ok());
  CHECK(f.receipt("m3", "DELIVRD", "000", f.t0 + 201s) == Outbox::ReceiptMatch::applied);
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
    f.receipt("a" + std::to_string(attempt), "UNDELIV", "001", t);
    f.receipt("b" + std::to_string(attempt), "EXPIRED", "000", t);
    t += 1h;
  }
  CHECK(f.state(a) == "failed");
  CHECK(f.state(b) == "expired");
  CHECK(f.outbox.take_due(t + 24h, 10).empty());
  // A late receipt of an old attempt changes no final failure into another one.
  f.receipt("a1", "UNDELIV", "001", t);
  CHECK(f.state(a) == "failed");
}

TEST_CASE("outbox: no receipt in time is resent, then failed") {
  Fixture f;
  const auto id = f.queue();
  Time t = f.t0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CHECK(f.take(t) == attempt);
    REQUIRE(f.outbox.submitted(id, attempt, 1, 1, "n" + std::to_string(attempt), t).ok());
    CHECK(f.outbox.sweep(t + 599s).overdue == 0);
    CHECK(f.outbox.sweep(t + 600s).overdue == 1);
    t += 2h;
  }
  CHECK(f.state(id) == "failed");
}

TEST_CASE("outbox: a receipt before its submit_sm_resp is matched, not lost") {
  Fixture f;
  const auto id = f.queue();
  f.take(f.t0);
  CHECK(f.receipt("early", "DELIVRD", "000", f.t0) == Outbox::ReceiptMatch::early);  // stored, unmatched
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "early", f.t0 + 1s).ok());
  CHECK(f.state(id) == "delivered");
  auto q = f.db->prepare("SELECT COUNT(*), SUM(matched) FROM receipts");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 1);
  CHECK(q.column_int(1) == 1);
}

TEST_CASE("outbox: receipts for unknown ids are stored and counted") {
  Fixture f;
  CHECK(f.receipt("nobody", "DELIVRD", "000", f.t0) == Outbox::ReceiptMatch::early);
  CHECK(f.receipt("nobody2", "UNDELIV", "001", f.t0) == Outbox::ReceiptMatch::early);
  auto q = f.db->prepare("SELECT COUNT(*) FROM receipts WHERE matched = 0");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
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
  const auto whole = f.queue(), cut = f.queue(), half = f.queue(), rowless = f.queue();
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 4);
  REQUIRE(f.outbox.sending(whole, 1, 1, 1, f.t0).ok());
  REQUIRE(f.outbox.sending(cut, 1, 1, 1, f.t0).ok());
  REQUIRE(f.outbox.sending(half, 1, 1, 2, f.t0).ok());
  REQUIRE(f.outbox.sending(half, 1, 2, 2, f.t0).ok());
  REQUIRE(f.outbox.submitted(whole, 1, 1, 1, "w", f.t0).ok());
  REQUIRE(f.outbox.submitted(half, 1, 1, 2, "h1", f.t0).ok());  // part 2 never answered
  // rowless: taken, and the daemon stopped before any part's row was written.
  CHECK(f.outbox.recover(f.t0 + 1s) == 3);
  CHECK(f.state(whole) == "submitted");
  CHECK(f.state(cut) == "queued");
  CHECK(f.state(half) == "queued");
  CHECK(f.state(rowless) == "queued");
  const auto due = f.outbox.take_due(f.t0 + 1s, 10);
  REQUIRE(due.size() == 3);
  // Of half, only the part cut off goes again: part 1 awaits its receipt.
  for (const auto& m : due)
    if (m.id == half) {
      CHECK(m.skip_parts == std::vector<int>{1});
      CHECK(m.parts_before == 2);
    } else {
      CHECK(m.skip_parts.empty());
    }
}

TEST_CASE("outbox: a part refused is resent alone, and the message is delivered with both") {
  Fixture f;
  const auto id = f.queue("two parts");
  CHECK(f.take(f.t0) == 1);
  REQUIRE(f.outbox.sending(id, 1, 1, 2, f.t0).ok());
  REQUIRE(f.outbox.sending(id, 1, 2, 2, f.t0).ok());
  REQUIRE(f.outbox.submit_failed(id, 1, 1, 2, 0x45, "submit_sm_resp status 0x00000045", f.t0).ok());
  CHECK(f.state(id) == "submitted");  // part 2 is still in flight
  REQUIRE(f.outbox.submitted(id, 1, 2, 2, "p2", f.t0 + 1s).ok());
  CHECK(f.state(id) == "queued");  // the attempt failed for part 1
  CHECK(f.receipt("p2", "DELIVRD", "000", f.t0 + 2s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(id) == "queued");
  const auto due = f.outbox.take_due(f.t0 + 61s, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].attempt == 2);
  CHECK(due[0].skip_parts == std::vector<int>{2});  // the handset has part 2
  REQUIRE(f.outbox.sending(id, 2, 1, 2, f.t0 + 61s).ok());
  REQUIRE(f.outbox.submitted(id, 2, 1, 2, "p1b", f.t0 + 61s).ok());
  CHECK(f.state(id) == "submitted");
  CHECK(f.receipt("p1b", "DELIVRD", "000", f.t0 + 62s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(id) == "delivered");
  // Attempt 2 sent part 1 alone.
  auto q = f.db->prepare("SELECT COUNT(*) FROM outbox_parts WHERE outbox_id = ? AND attempt = 2");
  q.bind(1, id);
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 1);
}

TEST_CASE("outbox: a failure receipt for one part resends that part, not one still awaited") {
  Fixture f;
  const auto id = f.queue("three parts");
  f.take(f.t0);
  for (int part = 1; part <= 3; ++part) {
    REQUIRE(f.outbox.sending(id, 1, part, 3, f.t0).ok());
    REQUIRE(f.outbox.submitted(id, 1, part, 3, fmt::format("q{}", part), f.t0).ok());
  }
  f.receipt("q1", "DELIVRD", "000", f.t0 + 1s);
  f.receipt("q2", "UNDELIV", "005", f.t0 + 1s);  // part 3: no receipt yet
  CHECK(f.state(id) == "queued");
  auto due = f.outbox.take_due(f.t0 + 61s, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].skip_parts == std::vector<int>{1, 3});
  // Part 3's receipt is late, and says it failed: resent in its turn.
  REQUIRE(f.outbox.sending(id, 2, 2, 3, f.t0 + 61s).ok());
  REQUIRE(f.outbox.submitted(id, 2, 2, 3, "q2b", f.t0 + 61s).ok());
  f.receipt("q3", "UNDELIV", "005", f.t0 + 62s);
  CHECK(f.state(id) == "queued");
  f.receipt("q2b", "DELIVRD", "000", f.t0 + 63s);
  due = f.outbox.take_due(f.t0 + 62s + 120s, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].attempt == 3);
  CHECK(due[0].skip_parts == std::vector<int>{1, 2});
}

TEST_CASE("outbox: an operator's resend sends every part again") {
  Fixture f;
  const auto id = f.queue("two parts", std::string("AE12098768"));
  f.take(f.t0);
  for (int part = 1; part <= 2; ++part) {
    REQUIRE(f.outbox.sending(id, 1, part, 2, f.t0).ok());
    REQUIRE(f.outbox.submitted(id, 1, part, 2, fmt::format("r{}", part), f.t0).ok());
    f.receipt(fmt::format("r{}", part), "DELIVRD", "000", f.t0);
  }
  REQUIRE(f.state(id) == "delivered");
  REQUIRE(f.outbox.resend("AE12098768", {"giftctl", "li.na"}, f.t0 + 1h).id == id);
  const auto due = f.outbox.take_due(f.t0 + 1h, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].skip_parts.empty());
  // The old receipts do not make the new sending delivered before its own.
  REQUIRE(f.outbox.sending(id, 2, 1, 2, f.t0 + 1h).ok());
  REQUIRE(f.outbox.sending(id, 2, 2, 2, f.t0 + 1h).ok());
  REQUIRE(f.outbox.submitted(id, 2, 1, 2, "s1", f.t0 + 1h).ok());
  REQUIRE(f.outbox.submitted(id, 2, 2, 2, "s2", f.t0 + 1h).ok());
  CHECK(f.state(id) == "submitted");
  f.receipt("s1", "DELIVRD", "000", f.t0 + 1h);
  f.receipt("s2", "DELIVRD", "000", f.t0 + 1h);
  CHECK(f.state(id) == "delivered");
}

TEST_CASE("outbox: a receipt applies only to a message sent to its recipient") {
  Fixture f;
  const auto id = f.queue();
  f.take(f.t0);
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "1001", f.t0).ok());
  CHECK(f.receipt("1001", "DELIVRD", "000", f.t0, "8613900000001") ==
        Outbox::ReceiptMatch::wrong_recipient);
  CHECK(f.state(id) == "submitted");
  CHECK(f.receipt("1001", "DELIVRD", "000", f.t0, std::string()) ==
        Outbox::ReceiptMatch::wrong_recipient);  // no address: no number to check
  CHECK(f.receipt("1001", "DELIVRD", "000", f.t0, std::nullopt) ==
        Outbox::ReceiptMatch::applied);  // the check turned off
  CHECK(f.state(id) == "delivered");
  auto q = f.db->prepare("SELECT group_concat(outcome) FROM receipts");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "unmatched,unmatched,applied");
}

TEST_CASE("outbox: an id of digits only matches either reading, and two matches apply to none") {
  Fixture f;
  // Two members' messages: 1001 (decimal) and 0x1001 = 4097. The SMSC's
  // format is not known yet: each id is stored in both readings.
  const auto a = f.queue(), b = f.queue();
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 2);
  REQUIRE(f.db->exec("UPDATE outbox SET msisdn = '8613900000001' WHERE id = " + std::to_string(b)).ok());
  REQUIRE(f.outbox.submitted(a, 1, 1, 1, {"1001", "4097"}, f.t0).ok());
  REQUIRE(f.outbox.submitted(b, 1, 1, 1, {"4097"}, f.t0).ok());  // hex "1001" once learnt
  // A receipt "1001" from b's number: its readings 1001 and 4097 hit both
  // messages, and the recipient tells them apart.
  CHECK(f.outbox.receipt({{"1001", "4097"}, "8613900000001", "DELIVRD", "000", ""}, f.t0) ==
        Outbox::ReceiptMatch::applied);
  CHECK(f.state(b) == "delivered");
  CHECK(f.state(a) == "submitted");
  // Without the recipient check, the same receipt fits a (b has its
  // receipt, a awaits one): applied to a.
  CHECK(f.outbox.receipt({{"1001", "4097"}, std::nullopt, "DELIVRD", "000", ""}, f.t0) ==
        Outbox::ReceiptMatch::applied);
  CHECK(f.state(a) == "delivered");
  // Two messages awaiting, one receipt that fits both: neither.
  const auto c = f.queue(), d = f.queue();
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 2);
  REQUIRE(f.outbox.submitted(c, 1, 1, 1, {"2002", "8194"}, f.t0).ok());
  REQUIRE(f.outbox.submitted(d, 1, 1, 1, {"8194"}, f.t0).ok());
  CHECK(f.outbox.receipt({{"2002", "8194"}, std::nullopt, "DELIVRD", "000", ""}, f.t0) ==
        Outbox::ReceiptMatch::ambiguous);
  CHECK(f.state(c) == "submitted");
  CHECK(f.state(d) == "submitted");
}

TEST_CASE("outbox: an early receipt waits, and is unmatched only when nothing claims it") {
  Fixture f;
  const auto id = f.queue();
  f.take(f.t0);
  CHECK(f.receipt("e1", "DELIVRD", "000", f.t0) == Outbox::ReceiptMatch::early);
  CHECK(f.receipt("never", "DELIVRD", "000", f.t0) == Outbox::ReceiptMatch::early);
  CHECK(f.outbox.sweep(f.t0 + 10s, 20s).unclaimed.empty());
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, {"e1"}, f.t0 + 11s).ok());
  CHECK(f.state(id) == "delivered");
  const auto swept = f.outbox.sweep(f.t0 + 21s, 20s);
  CHECK(swept.unclaimed == std::vector<std::string>{"never"});
  CHECK(f.outbox.sweep(f.t0 + 40s, 20s).unclaimed.empty());  // once
  auto q = f.db->prepare("SELECT group_concat(outcome) FROM receipts");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "applied,unmatched");
}

TEST_CASE("outbox: an operator resends by voucher code or message id") {
  Fixture f;
  const auto id = f.queue("your voucher", std::string("AE12098768"));
  f.take(f.t0);
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "v", f.t0).ok());
  f.receipt("v", "DELIVRD", "000", f.t0);
  REQUIRE(f.state(id) == "delivered");
  CHECK(f.outbox.resend("AE12098768", {"giftctl", "li.na"}, f.t0 + 1h).id == id);
  CHECK(f.state(id) == "queued");
  CHECK(f.take(f.t0 + 1h) == 2);
  CHECK(f.outbox.resend("ZZ00000000", {"giftctl", "li.na"}, f.t0).status ==
        Outbox::Resent::Status::not_found);
  CHECK(f.outbox.resend(std::to_string(id), {"giftctl", "li.na"}, f.t0 + 2h).id == id);
  const auto c = f.outbox.counts();
  REQUIRE(c);
  CHECK(c->queued == 1);
}

TEST_CASE("outbox: USSD screens wait for their route to be open, everything else goes as before") {
  Fixture f;
  const auto sms = f.queue();
  REQUIRE(f.db->exec("UPDATE outbox SET route = 'smsc-b' WHERE id = " + std::to_string(sms)).ok());
  const auto on_bind = f.queue_screen("smsc-a#1");
  const auto on_b = f.queue_screen("smsc-b");
  const auto anywhere = f.queue_screen(std::nullopt);
  const auto odd = f.queue_screen("q\"x\\y");  // quoted in the JSON list
  const auto ids = [](const std::vector<Outbound>& due) {
    std::vector<std::int64_t> out;
    for (const auto& m : due) out.push_back(m.id);
    std::ranges::sort(out);
    return out;
  };
  const std::vector<std::string> a_only{"smsc-a", "smsc-a#2"};
  CHECK(ids(f.outbox.take_due(f.t0, 10, &a_only)) == std::vector<std::int64_t>{sms, anywhere});
  const std::vector<std::string> all{"smsc-a", "smsc-a#1", "smsc-b", "q\"x\\y"};
  const auto due = f.outbox.take_due(f.t0, 10, &all);
  CHECK(ids(due) == std::vector<std::int64_t>{on_bind, on_b, odd});
  for (const auto& m : due)
    if (m.id == on_bind) CHECK(m.route == "smsc-a#1");
  // Without a list of open routes every screen goes, as before routes.
  const auto late = f.queue_screen("smsc-c");
  const auto taken = f.outbox.take_due(f.t0, 10);
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].id == late);
  CHECK(taken[0].route == "smsc-c");
}

TEST_CASE("outbox: take_due gives each message's priority, so a push's parts go as bulk") {
  Fixture f;
  const auto reply = f.queue("reply");
  const auto push = f.queue("push");
  REQUIRE(f.db->exec("UPDATE outbox SET priority = " + std::to_string(kPriorityBulk) +
                     " WHERE id = " + std::to_string(push))
              .ok());
  const auto screen = f.queue_screen(std::nullopt);
  const auto due = f.outbox.take_due(f.t0, 10);
  REQUIRE(due.size() == 3);
  CHECK(due[0].id == screen);
  CHECK(due[0].priority == kPriorityUssd);
  CHECK(due[1].id == reply);
  CHECK(due[1].priority == kPriorityReply);
  CHECK(due[2].id == push);
  CHECK(due[2].priority == kPriorityBulk);
}

TEST_CASE("outbox: the same message id from two SMSCs is each one's own part's") {
  Fixture f;
  // The ids of two SMSCs overlap: both call their first message 777.
  const auto a = f.queue(), b = f.queue(), legacy = f.queue();
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 3);
  REQUIRE(f.outbox.sending(a, 1, 1, 1, f.t0, "smsc-a").ok());
  REQUIRE(f.outbox.sending(b, 1, 1, 1, f.t0, "smsc-b").ok());
  REQUIRE(f.outbox.sending(legacy, 1, 1, 1, f.t0).ok());  // as a row from before SMSCs
  REQUIRE(f.outbox.submitted(a, 1, 1, 1, "777", f.t0).ok());
  REQUIRE(f.outbox.submitted(b, 1, 1, 1, "777", f.t0).ok());
  REQUIRE(f.outbox.submitted(legacy, 1, 1, 1, "900", f.t0).ok());
  CHECK(f.text("SELECT smsc FROM outbox_parts WHERE outbox_id = ?", a) == "smsc-a");
  CHECK(f.text("SELECT smsc FROM outbox_parts WHERE outbox_id = ?", legacy) == "NULL");
  CHECK(f.receipt_from("smsc-b", "777", "DELIVRD", f.t0 + 1s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(b) == "delivered");
  CHECK(f.state(a) == "submitted");
  CHECK(f.receipt_from("smsc-a", "777", "UNDELIV", f.t0 + 2s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(a) == "queued");
  CHECK(f.state(b) == "delivered");
  // A part whose SMSC was never recorded takes a receipt from any.
  CHECK(f.receipt_from("smsc-b", "900", "DELIVRD", f.t0 + 3s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(legacy) == "delivered");
  // Another SMSC's id is not this one's: it waits for a part of its own.
  CHECK(f.receipt_from("smsc-c", "777", "DELIVRD", f.t0 + 4s) == Outbox::ReceiptMatch::early);
  auto q = f.db->prepare("SELECT group_concat(smsc || '=' || outcome) FROM receipts");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_text(0) == "smsc-b=applied,smsc-a=applied,smsc-b=applied,smsc-c=early");
}

TEST_CASE("outbox: a receipt that does not say its SMSC matches any SMSC's part") {
  Fixture f;
  const auto id = f.queue();
  f.take(f.t0);
  REQUIRE(f.outbox.sending(id, 1, 1, 1, f.t0, "smsc-a").ok());
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "42", f.t0).ok());
  CHECK(f.receipt("42", "DELIVRD", "000", f.t0) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(id) == "delivered");
}

TEST_CASE("outbox: an early receipt is claimed only by a part of its own SMSC") {
  Fixture f;
  const auto a = f.queue(), b = f.queue(), c = f.queue();
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 3);
  REQUIRE(f.outbox.sending(a, 1, 1, 1, f.t0, "smsc-a").ok());
  REQUIRE(f.outbox.sending(b, 1, 1, 1, f.t0, "smsc-b").ok());
  REQUIRE(f.outbox.sending(c, 1, 1, 1, f.t0, "smsc-a").ok());
  // b's receipt overtakes b's answer; a's answer, with the same id from
  // the other SMSC, comes first.
  CHECK(f.receipt_from("smsc-b", "5", "DELIVRD", f.t0) == Outbox::ReceiptMatch::early);
  REQUIRE(f.outbox.submitted(a, 1, 1, 1, "5", f.t0 + 1s).ok());
  CHECK(f.state(a) == "submitted");
  REQUIRE(f.outbox.submitted(b, 1, 1, 1, "5", f.t0 + 2s).ok());
  CHECK(f.state(b) == "delivered");
  // An early receipt that names no SMSC is any part's.
  CHECK(f.receipt("6", "DELIVRD", "000", f.t0) == Outbox::ReceiptMatch::early);
  REQUIRE(f.outbox.submitted(c, 1, 1, 1, "6", f.t0 + 3s).ok());
  CHECK(f.state(c) == "delivered");
  auto q = f.db->prepare("SELECT COUNT(*) FROM receipts WHERE outcome = 'early'");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 0);
}

TEST_CASE("outbox: a message whose one part was never written is due again at once, no attempt spent") {
  Fixture f;
  const auto id = f.queue();
  CHECK(f.take(f.t0) == 1);
  REQUIRE(f.outbox.sending(id, 1, 1, 1, f.t0, "smsc-a").ok());
  REQUIRE(f.outbox.submit_returned(id, 1, 1, 1, "smsc-a went away", f.t0 + 1s).ok());
  CHECK(f.state(id) == "queued");
  CHECK(f.attempts(id) == 0);
  CHECK(f.part_rows(id) == 0);
  CHECK(f.text("SELECT last_error FROM outbox WHERE id = ?", id) == "smsc-a went away");
  CHECK(f.text("SELECT next_attempt_at FROM outbox WHERE id = ?", id) == iso_time(f.t0 + 1s));
  const auto due = f.outbox.take_due(f.t0 + 1s, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].attempt == 1);
  CHECK(due[0].skip_parts.empty());
  REQUIRE(f.outbox.sending(id, 1, 1, 1, f.t0 + 1s, "smsc-b").ok());
  REQUIRE(f.outbox.submitted(id, 1, 1, 1, "b1", f.t0 + 2s).ok());
  CHECK(f.receipt_from("smsc-b", "b1", "DELIVRD", f.t0 + 3s) == Outbox::ReceiptMatch::applied);
  CHECK(f.state(id) == "delivered");
}

TEST_CASE("outbox: three parts all returned unwritten undo their attempt, the first or a later one") {
  Fixture f;
  const auto id = f.queue("three parts");
  CHECK(f.take(f.t0) == 1);
  for (int part = 1; part <= 3; ++part) REQUIRE(f.outbox.sending(id, 1, part, 3, f.t0, "a").ok());
  REQUIRE(f.outbox.submit_returned(id, 1, 1, 3, "lost", f.t0).ok());
  REQUIRE(f.outbox.submit_returned(id, 1, 2, 3, "lost", f.t0).ok());
  CHECK(f.state(id) == "submitted");  // part 3 is still in flight
  REQUIRE(f.outbox.submit_returned(id, 1, 3, 3, "lost", f.t0).ok());
  CHECK(f.state(id) == "queued");
  CHECK(f.attempts(id) == 0);
  CHECK(f.part_rows(id) == 0);
  // Sent: part 1 accepted, 2 and 3 refused. The second attempt carries 2
  // and 3, and both come back unwritten: it is undone, and the next second
  // attempt still knows part 1 awaits its receipt.
  CHECK(f.take(f.t0) == 1);
  for (int part = 1; part <= 3; ++part) REQUIRE(f.outbox.sending(id, 1, part, 3, f.t0, "b").ok());
  REQUIRE(f.outbox.submitted(id, 1, 1, 3, "p1", f.t0).ok());
  REQUIRE(f.outbox.submit_failed(id, 1, 2, 3, 0x45, "refused", f.t0).ok());
  REQUIRE(f.outbox.submit_failed(id, 1, 3, 3, 0x45, "refused", f.t0).ok());
  CHECK(f.state(id) == "queued");
  auto due = f.outbox.take_due(f.t0 + 60s, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].attempt == 2);
  CHECK(due[0].skip_parts == std::vector<int>{1});
  REQUIRE(f.outbox.sending(id, 2, 2, 3, f.t0 + 60s, "b").ok());
  REQUIRE(f.outbox.sending(id, 2, 3, 3, f.t0 + 60s, "b").ok());
  REQUIRE(f.outbox.submit_returned(id, 2, 2, 3, "lost", f.t0 + 61s).ok());
  REQUIRE(f.outbox.submit_returned(id, 2, 3, 3, "lost", f.t0 + 61s).ok());
  CHECK(f.state(id) == "queued");
  CHECK(f.attempts(id) == 1);
  CHECK(f.part_rows(id) == 3);  // attempt 1's
  due = f.outbox.take_due(f.t0 + 61s, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].attempt == 2);
  CHECK(due[0].skip_parts == std::vector<int>{1});
  CHECK(due[0].parts_before == 3);
}

TEST_CASE("outbox: returned unwritten ten times, a message still gets max_attempts real attempts") {
  Fixture f;
  const auto id = f.queue();
  Time t = f.t0;
  for (int i = 0; i < 10; ++i) {
    CHECK(f.take(t) == 1);
    REQUIRE(f.outbox.sending(id, 1, 1, 1, t, "a").ok());
    REQUIRE(f.outbox.submit_returned(id, 1, 1, 1, "lost", t).ok());
    t += 1s;
  }
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CHECK(f.take(t) == attempt);
    REQUIRE(f.outbox.sending(id, attempt, 1, 1, t, "b").ok());
    REQUIRE(f.outbox.submit_failed(id, attempt, 1, 1, 0x45, "refused", t).ok());
    t += 1h;
  }
  CHECK(f.state(id) == "failed");
  CHECK(f.attempts(id) == 3);
}

TEST_CASE("outbox: a part returned beside one that was written fails the attempt as ever") {
  Fixture f;
  const auto accepted = f.queue("two parts"), in_doubt = f.queue("two parts");
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 2);
  for (const auto id : {accepted, in_doubt})
    for (int part = 1; part <= 2; ++part)
      REQUIRE(f.outbox.sending(id, 1, part, 2, f.t0, "a").ok());
  REQUIRE(f.outbox.submitted(accepted, 1, 1, 2, "w1", f.t0).ok());
  REQUIRE(f.outbox.submit_failed(in_doubt, 1, 1, 2, Outbox::kNoAnswer, "no answer", f.t0).ok());
  REQUIRE(f.outbox.submit_returned(accepted, 1, 2, 2, "lost", f.t0).ok());
  REQUIRE(f.outbox.submit_returned(in_doubt, 1, 2, 2, "lost", f.t0).ok());
  for (const auto id : {accepted, in_doubt}) {
    CHECK(f.state(id) == "queued");
    CHECK(f.attempts(id) == 1);
    CHECK(f.text("SELECT next_attempt_at FROM outbox WHERE id = ?", id) == iso_time(f.t0 + 60s));
  }
  CHECK(f.outbox.take_due(f.t0 + 59s, 10).empty());
  // An operator reads what became of each part.
  std::string error;
  const auto parts = member_parts(*f.db, "8613800138000", &error);
  REQUIRE(parts);
  std::vector<std::string> answers;
  for (const auto& row : parts->rows) answers.push_back(row[4]);
  CHECK(answers == std::vector<std::string>{"accepted", "not sent", "no answer", "not sent"});
  const auto due = f.outbox.take_due(f.t0 + 60s, 10);
  REQUIRE(due.size() == 2);
  for (const auto& m : due) {
    CHECK(m.attempt == 2);
    CHECK(m.skip_parts == (m.id == accepted ? std::vector<int>{1} : std::vector<int>{}));
  }
}

TEST_CASE("outbox: a lost answer resent at once is due now, and still counts its attempt") {
  Fixture f;
  const auto now = f.queue(), later = f.queue();
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 2);
  REQUIRE(f.outbox.submit_failed(now, 1, 1, 1, Outbox::kNoAnswer, "lost", f.t0, {},
                                 Outbox::Retry::at_once).ok());
  REQUIRE(f.outbox.submit_failed(later, 1, 1, 1, Outbox::kNoAnswer, "lost", f.t0, {},
                                 Outbox::Retry::backoff).ok());
  const auto due = f.outbox.take_due(f.t0, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].id == now);
  CHECK(due[0].attempt == 2);
  CHECK(f.text("SELECT next_attempt_at FROM outbox WHERE id = ?", later) == iso_time(f.t0 + 60s));
  // The last attempt fails the message, at once or not.
  REQUIRE(f.outbox.submit_failed(now, 2, 1, 1, Outbox::kNoAnswer, "lost", f.t0, {},
                                 Outbox::Retry::at_once).ok());
  CHECK(f.take(f.t0) == 3);
  REQUIRE(f.outbox.submit_failed(now, 3, 1, 1, Outbox::kNoAnswer, "lost", f.t0, {},
                                 Outbox::Retry::at_once).ok());
  CHECK(f.state(now) == "failed");
  CHECK(f.attempts(now) == 3);
}

TEST_CASE("outbox: a connection lost with one part in flight and the next queued: resent at once") {
  Fixture f;
  const auto id = f.queue("two parts");
  REQUIRE(f.outbox.take_due(f.t0, 10).size() == 1);
  for (int part = 1; part <= 2; ++part) REQUIRE(f.outbox.sending(id, 1, part, 2, f.t0, "a").ok());
  // As the session reports a lost connection: the written part in doubt,
  // then the queued one returned; the last report ends the attempt.
  REQUIRE(f.outbox.submit_failed(id, 1, 1, 2, Outbox::kNoAnswer, "lost", f.t0, {},
                                 Outbox::Retry::at_once).ok());
  REQUIRE(f.outbox.submit_returned(id, 1, 2, 2, "lost", f.t0, Outbox::Retry::at_once).ok());
  CHECK(f.state(id) == "queued");
  CHECK(f.attempts(id) == 1);  // a part was written: an attempt as ever
  const auto due = f.outbox.take_due(f.t0, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].attempt == 2);
  CHECK(due[0].skip_parts.empty());
}

TEST_CASE("outbox: a restart with a part returned and another cut off resends both, as an attempt") {
  Fixture f;
  const auto id = f.queue("two parts");
  CHECK(f.take(f.t0) == 1);
  REQUIRE(f.outbox.sending(id, 1, 1, 2, f.t0, "a").ok());
  REQUIRE(f.outbox.sending(id, 1, 2, 2, f.t0, "a").ok());
  REQUIRE(f.outbox.submit_returned(id, 1, 1, 2, "lost", f.t0).ok());
  // The daemon stops with part 2 in flight: in doubt, so the attempt counts.
  CHECK(f.outbox.recover(f.t0 + 1s) == 1);
  CHECK(f.state(id) == "queued");
  const auto due = f.outbox.take_due(f.t0 + 1s, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].attempt == 2);
  CHECK(due[0].skip_parts.empty());
  CHECK(due[0].parts_before == 2);
}

TEST_CASE("outbox: an operator's resend returned unwritten is undone to the same resend") {
  Fixture f;
  const auto id = f.queue("two parts", std::string("AE12098768"));
  f.take(f.t0);
  for (int part = 1; part <= 2; ++part) {
    REQUIRE(f.outbox.sending(id, 1, part, 2, f.t0, "a").ok());
    REQUIRE(f.outbox.submitted(id, 1, part, 2, fmt::format("r{}", part), f.t0).ok());
    f.receipt_from("a", fmt::format("r{}", part), "DELIVRD", f.t0);
  }
  REQUIRE(f.state(id) == "delivered");
  REQUIRE(f.outbox.resend("AE12098768", {"giftctl", "li.na"}, f.t0 + 1h).id == id);
  CHECK(f.take(f.t0 + 1h) == 2);
  for (int part = 1; part <= 2; ++part) {
    REQUIRE(f.outbox.sending(id, 2, part, 2, f.t0 + 1h, "b").ok());
    REQUIRE(f.outbox.submit_returned(id, 2, part, 2, "lost", f.t0 + 1h).ok());
  }
  CHECK(f.state(id) == "queued");
  CHECK(f.attempts(id) == 1);
  // Every part again, as the operator asked: the delivered first attempt
  // still does not count.
  const auto due = f.outbox.take_due(f.t0 + 1h, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].attempt == 2);
  CHECK(due[0].skip_parts.empty());
}

TEST_CASE("outbox: an attempt is not undone while a part of it has no row yet") {
  Fixture f;
  const auto id = f.queue("two parts");
  CHECK(f.take(f.t0) == 1);
  REQUIRE(f.outbox.sending(id, 1, 1, 2, f.t0, "a").ok());
  REQUIRE(f.outbox.submit_returned(id, 1, 1, 2, "lost", f.t0).ok());
  CHECK(f.state(id) == "submitted");  // part 2 may yet be written
  REQUIRE(f.outbox.sending(id, 1, 2, 2, f.t0, "a").ok());
  REQUIRE(f.outbox.submit_returned(id, 1, 2, 2, "lost", f.t0).ok());
  CHECK(f.state(id) == "queued");
  CHECK(f.attempts(id) == 0);
}
