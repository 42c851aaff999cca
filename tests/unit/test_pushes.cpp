#include <doctest/doctest.h>

#include <fmt/format.h>

#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/pushes.hpp"
#include "daemon/campaign/service.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

// Noon in Shanghai on 2026-11-02 (04:00 UTC): outside the default quiet hours.
const Time kNoon = std::chrono::sys_days{std::chrono::year{2026} / 11 / 2} + 4h;

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("p.db"));
  Config config = test::campaign_config();
  std::shared_ptr<const Templates> templates = test::shipped_templates();
  std::unique_ptr<Pushes> pushes;
  Actor actor{"giftctl", "tester"};

  Fixture() {
    config.pushes.batch = 10;
    config.pushes.member_interval_hours = 72;
    pushes = std::make_unique<Pushes>(*db, config, templates);
  }
  // Members 1..n: 8613900000001.., every third in shanghai, balance 100 * id.
  void members(int n) {
    for (int i = 1; i <= n; ++i) {
      REQUIRE(db->prepare("INSERT INTO members(id, msisdn, city, language) VALUES (?, ?, ?, ?)")
                  .bind(1, std::int64_t{i})
                  .bind(2, fmt::format("86139{:08}", i))
                  .bind(3, i % 3 == 0 ? "shanghai" : "beijing")
                  .bind(4, i % 2 == 0 ? "en" : "zh")
                  .run()
                  .ok());
      REQUIRE(db->prepare("INSERT INTO ledger(member_id, delta, reason, channel, actor) "
                          "VALUES (?, ?, 'test', 'import', 't')")
                  .bind(1, std::int64_t{i})
                  .bind(2, std::int64_t{100 * i})
                  .run()
                  .ok());
    }
  }
  Pushes::Created create(const std::string& name, const std::string& audience = "all",
                         int holdout = 0, std::optional<int> rate = std::nullopt,
                         std::optional<Time> until = std::nullopt, bool dry = false) {
    PushSpec spec{name, "push_tips", audience, kNoon, until, holdout, rate};
    return pushes->create(spec, actor, kNoon, dry);
  }
  std::int64_t count(const std::string& sql) {
    db::Status s;
    const auto n = db->first_int(sql, &s);
    REQUIRE_MESSAGE(n, s.message);
    return *n;
  }
  // Steps until nothing is left to do now (bounded).
  Pushes::Step run(Time at, std::chrono::milliseconds elapsed = 1000ms) {
    Pushes::Step total;
    for (int i = 0; i < 100; ++i) {
      const auto s = pushes->step(at, elapsed);
      REQUIRE_MESSAGE(s.status.ok(), s.status.message);
      total.selected += s.selected;
      total.queued += s.queued;
      total.skipped += s.skipped;
      total.finished.insert(total.finished.end(), s.finished.begin(), s.finished.end());
      if (!s.more && s.selected == 0 && s.queued == 0 && s.skipped == 0) break;
    }
    return total;
  }
  std::string recipient(std::int64_t push, std::int64_t member) {
    auto q = db->prepare("SELECT state FROM push_recipients WHERE push_id = ? AND member_id = ?");
    q.bind(1, push).bind(2, member);
    return q.step() == db::StepResult::row ? q.column_text(0) : "none";
  }
};

}  // namespace

TEST_CASE("pushes: create checks every field, counts the audience and refuses a name twice") {
  Fixture f;
  f.members(9);
  REQUIRE(f.db->exec("UPDATE members SET care_opt_out = 1 WHERE id = 9").ok());
  const auto dry = f.create("tips", "city = beijing", 0, std::nullopt, std::nullopt, true);
  CHECK(dry.status == Pushes::Created::Status::dry_run);
  CHECK(dry.audience == 6);  // 1 2 4 5 7 8; 9 opted out, 3 and 6 in shanghai
  CHECK(f.count("SELECT COUNT(*) FROM pushes") == 0);

  CHECK(f.create("Bad Name").status == Pushes::Created::Status::invalid);
  PushSpec no_text{"x", "push_nothing", "all", std::nullopt, std::nullopt, 0, std::nullopt};
  const auto t = f.pushes->create(no_text, f.actor, kNoon, false);
  CHECK(t.status == Pushes::Created::Status::invalid);
  CHECK(t.error.find("push_tips") != std::string::npos);  // says which there are
  PushSpec reply_text{"x", "help", "all", std::nullopt, std::nullopt, 0, std::nullopt};
  CHECK(f.pushes->create(reply_text, f.actor, kNoon, false).status == Pushes::Created::Status::invalid);
  const auto a = f.create("x", "balance >= ");
  CHECK(a.status == Pushes::Created::Status::invalid);
  CHECK(a.error.find("audience: at") != std::string::npos);
  CHECK(f.create("x", "all", 91).status == Pushes::Created::Status::invalid);
  CHECK(f.create("x", "all", 0, 0).status == Pushes::Created::Status::invalid);
  CHECK(f.create("x", "all", 0, std::nullopt, kNoon - 1h).status == Pushes::Created::Status::invalid);

  const auto ok = f.create("tips", "city = beijing", 10);
  REQUIRE(ok.status == Pushes::Created::Status::created);
  CHECK(ok.audience == 6);
  CHECK(f.create("tips").status == Pushes::Created::Status::exists);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'push_created'") == 1);
}

TEST_CASE("pushes: selected in batches, each member given one turn, texts filled per member") {
  Fixture f;
  f.members(35);
  const auto p = f.create("tips");
  REQUIRE(p.status == Pushes::Created::Status::created);
  // Before its time nothing happens.
  auto early = f.pushes->step(kNoon - 1min, 1000ms);
  CHECK(early.selected == 0);
  CHECK(early.started.empty());
  const auto s = f.run(kNoon);
  CHECK(s.selected == 35);
  CHECK(s.queued == 35);
  CHECK(s.finished == std::vector<std::string>{"tips"});
  CHECK(f.count("SELECT COUNT(*) FROM push_recipients WHERE state = 'queued'") == 35);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND priority = 2") == 35);
  CHECK(f.count("SELECT COUNT(DISTINCT msisdn) FROM outbox WHERE push_id = 1") == 35);
  CHECK(f.count("SELECT COUNT(*) FROM members WHERE last_push_at IS NOT NULL") == 35);
  // Member 12 (en): 1200 points afford C (1000); member 30: 3000 afford B.
  auto body = [&](int id) {
    auto q = f.db->prepare("SELECT body FROM outbox WHERE member_id = ?");
    q.bind(1, std::int64_t{id});
    REQUIRE(q.step() == db::StepResult::row);
    return q.column_text(0);
  };
  CHECK(body(12).find("1200 points") != std::string::npos);
  CHECK(body(12).find("20 yuan tier C") != std::string::npos);
  CHECK(body(30).find("50 yuan tier B") != std::string::npos);
  PushInfo info;
  std::string error;
  REQUIRE(f.pushes->show("tips", info, &error) == Pushes::Found::found);
  CHECK(info.state == "done");
  CHECK(info.targeted == 35);
  CHECK(info.recipients["queued"] == 35);
  CHECK(info.messages.queued == 35);  // kept by the outbox's triggers
}

TEST_CASE("pushes: the push_counts triggers follow every message's state") {
  Fixture f;
  f.members(4);
  REQUIRE(f.create("tips").status == Pushes::Created::Status::created);
  f.run(kNoon);
  Outbox outbox(*f.db, ResendPolicy{3, 60s, 600s});
  auto due = outbox.take_due(kNoon, 10);
  REQUIRE(due.size() == 4);
  for (const auto& m : due) {
    REQUIRE(outbox.sending(m.id, m.attempt, 1, 1, kNoon).ok());
    REQUIRE(outbox.submitted(m.id, m.attempt, 1, 1, MessageIds{fmt::format("m{}", m.id)}, kNoon).ok());
  }
  REQUIRE(outbox.receipt({"m1", std::nullopt, "DELIVRD", "000", ""}, kNoon) ==
          Outbox::ReceiptMatch::applied);
  REQUIRE(outbox.receipt({"m2", std::nullopt, "UNDELIV", "001", ""}, kNoon) ==
          Outbox::ReceiptMatch::applied);
  PushInfo info;
  std::string error;
  REQUIRE(f.pushes->show("tips", info, &error) == Pushes::Found::found);
  CHECK(info.messages.sent == 4);
  CHECK(info.messages.delivered == 1);
  CHECK(info.messages.queued == 1);     // m2 is due again after its back-off
  CHECK(info.messages.submitted == 2);  // m3, m4 await receipts
  CHECK(info.messages.failed == 0);
}

TEST_CASE("pushes: bulk waits behind replies, and none is taken with a bulk limit of 0") {
  Fixture f;
  f.members(3);
  REQUIRE(f.create("tips").status == Pushes::Created::Status::created);
  f.run(kNoon);
  REQUIRE(f.db->prepare("INSERT INTO outbox(msisdn, message, language, body, next_attempt_at, "
                        "created_at, priority, fair_at) VALUES ('8613800000000', 'help', 'zh', "
                        "'hi', ?1, ?1, 1, ?1)")
              .bind(1, iso_time(kNoon + 1s))
              .run()
              .ok());
  Outbox outbox(*f.db, ResendPolicy{3, 60s, 600s});
  const auto none = outbox.take_due(kNoon + 1s, 10, nullptr, 0);
  REQUIRE(none.size() == 1);
  CHECK(none[0].msisdn == "8613800000000");
  const auto two = outbox.take_due(kNoon + 1s, 10, nullptr, 2);
  CHECK(two.size() == 2);
  for (const auto& m : two) CHECK(m.priority == kPriorityBulk);
}

TEST_CASE("pushes: holdout, opted out since selection, the interval across pushes") {
  Fixture f;
  f.members(200);
  REQUIRE(f.create("first", "all", 20).status == Pushes::Created::Status::created);
  // Selected, then member 5 opts out before their turn.
  for (int i = 0; i < 40 && f.count("SELECT state = 'sending' FROM pushes WHERE id = 1") == 0; ++i)
    REQUIRE(f.pushes->step(kNoon, 0ms).status.ok());
  REQUIRE(f.count("SELECT COUNT(*) FROM push_recipients") == 200);
  REQUIRE(f.db->exec("UPDATE members SET care_opt_out = 1 WHERE id = 5").ok());
  f.run(kNoon);
  const auto held = f.count("SELECT COUNT(*) FROM push_recipients WHERE state = 'holdout'");
  CHECK(held >= 20);  // about a fifth, by a fixed hash
  CHECK(held <= 60);
  CHECK(f.count("SELECT held_out FROM pushes WHERE id = 1") == held);
  CHECK(f.count("SELECT COUNT(*) FROM push_recipients WHERE state = 'holdout' AND at IS NULL") == 0);
  CHECK(f.count("SELECT COUNT(*) FROM outbox o JOIN push_recipients r ON r.member_id = o.member_id "
                "AND r.push_id = 1 WHERE r.state = 'holdout'") == 0);
  if (f.recipient(1, 5) != "holdout") CHECK(f.recipient(1, 5) == "opted_out");
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE member_id = 5") == 0);

  // A second push within 72 hours reaches only those the first did not.
  REQUIRE(f.create("second").status == Pushes::Created::Status::created);
  f.run(kNoon + 24h);
  CHECK(f.count("SELECT COUNT(*) FROM push_recipients WHERE push_id = 2 AND state = 'too_soon'") ==
        200 - 1 - held);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 2") == held - (f.recipient(1, 5) == "holdout"));
  // Past the interval a third push reaches everyone again (but 5, opted out).
  REQUIRE(f.create("third").status == Pushes::Created::Status::created);
  f.run(kNoon + 100h);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 3") == 199);
}

TEST_CASE("pushes: a member who opts out has their waiting push message expired") {
  Fixture f;
  f.members(3);
  REQUIRE(f.create("tips").status == Pushes::Created::Status::created);
  f.run(kNoon);
  REQUIRE(Pushes::member_opted_out(*f.db, 2, kNoon + 1s).ok());
  CHECK(f.count("SELECT state = 'expired' AND last_error = 'the member opted out' FROM outbox WHERE member_id = 2") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE state = 'queued'") == 2);
}

TEST_CASE("pushes: TD by SMS expires the member's push message still waiting, and only theirs") {
  Fixture f;
  f.members(3);
  REQUIRE(f.create("tips").status == Pushes::Created::Status::created);
  f.run(kNoon);
  REQUIRE(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state = 'queued'") == 3);
  Service service(*f.db, f.config, f.templates);
  const auto out = service.handle({"td-1", "8613900000002", "TD", "sms", kNoon + 1s, {}, {}});
  REQUIRE(out.status == MoOutcome::Status::done);
  CHECK(f.count("SELECT state = 'expired' FROM outbox WHERE push_id = 1 AND member_id = 2") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state = 'queued'") == 2);
  CHECK(f.count("SELECT n FROM push_counts WHERE push_id = 1 AND what = 'expired'") == 1);
}

TEST_CASE("pushes: quiet hours hold the turns, the rate paces them, the outbox room bounds them") {
  Fixture f;
  f.members(60);
  REQUIRE(f.create("tips", "all", 0, 10).status == Pushes::Created::Status::created);
  // 22:00 in Shanghai is in the quiet hours: selected, nobody queued.
  const Time night = kNoon + 10h;
  f.run(night);
  CHECK(f.count("SELECT COUNT(*) FROM push_recipients") == 60);
  CHECK(f.count("SELECT COUNT(*) FROM outbox") == 0);
  // At 09:00 the next day, 10 a second: one step after a second queues 10.
  const Time morning = kNoon + 21h;
  auto s = f.pushes->step(morning, 1000ms);
  CHECK(s.queued == 10);
  s = f.pushes->step(morning, 100ms);
  CHECK(s.queued == 1);
  // The room: at most max_queued waiting.
  f.config.pushes.max_queued = 15;
  s = f.pushes->step(morning, 10000ms);
  CHECK(s.queued == 4);
  s = f.pushes->step(morning, 10000ms);
  CHECK(s.queued == 0);
}

TEST_CASE("pushes: --until expires what is left, pause keeps the place, cancel ends it") {
  Fixture f;
  f.members(30);
  REQUIRE(f.create("short", "all", 0, 10, kNoon + 1h).status == Pushes::Created::Status::created);
  // Selected, then a second's worth sent (10).
  for (int i = 0; i < 40 && f.count("SELECT state = 'sending' FROM pushes WHERE id = 1") == 0; ++i)
    REQUIRE(f.pushes->step(kNoon, 0ms).status.ok());
  REQUIRE(f.pushes->step(kNoon, 1000ms).queued == 10);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 1") == 10);
  const auto s = f.pushes->step(kNoon + 1h, 1000ms);
  CHECK(s.finished == std::vector<std::string>{"short"});
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state = 'expired'") == 10);
  PushInfo info;
  std::string error;
  REQUIRE(f.pushes->show("short", info, &error) == Pushes::Found::found);
  CHECK(info.state == "expired");
  CHECK(info.recipients["expired"] == 20);
  CHECK(info.messages.expired == 10);

  REQUIRE(f.create("paused", "all", 0, std::nullopt).status == Pushes::Created::Status::created);
  CHECK(f.pushes->pause("paused", f.actor, kNoon).status == Pushes::Changed::Status::done);
  CHECK(f.pushes->pause("paused", f.actor, kNoon).status == Pushes::Changed::Status::not_allowed);
  f.run(kNoon + 200h);
  CHECK(f.count("SELECT COUNT(*) FROM push_recipients WHERE push_id = 2") == 0);
  CHECK(f.pushes->resume("paused", f.actor, kNoon).status == Pushes::Changed::Status::done);
  CHECK(f.pushes->resume("paused", f.actor, kNoon).status == Pushes::Changed::Status::not_allowed);
  f.pushes->step(kNoon + 200h, 1000ms);  // selects
  f.pushes->step(kNoon + 200h, 1000ms);
  f.pushes->step(kNoon + 200h, 1000ms);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 2") > 0);
  CHECK(f.pushes->cancel("paused", f.actor, kNoon + 200h).status == Pushes::Changed::Status::done);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 2 AND state = 'queued'") == 0);
  CHECK(f.pushes->cancel("paused", f.actor, kNoon).status == Pushes::Changed::Status::not_allowed);
  CHECK(f.pushes->cancel("nothing", f.actor, kNoon).status == Pushes::Changed::Status::not_found);
  CHECK(f.run(kNoon + 300h).queued == 0);
}

TEST_CASE("pushes: a batch the database refuses keeps nothing, and the next does it once") {
  Fixture f;
  f.members(25);
  REQUIRE(f.create("tips").status == Pushes::Created::Status::created);
  // Fail each statement of the run in turn; every member still gets exactly one.
  for (int n = 0; n < 60; ++n) {
    f.db->fail_statement_after(n, 10 /* SQLITE_IOERR */);
    (void)f.pushes->step(kNoon, 1000ms);
    f.db->fail_statement_after(-1, 0);
  }
  f.run(kNoon);
  CHECK(f.count("SELECT COUNT(*) FROM push_recipients WHERE push_id = 1") == 25);
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id = 1") == 25);
  CHECK(f.count("SELECT COUNT(DISTINCT member_id) FROM outbox WHERE push_id = 1") == 25);
  CHECK(f.count("SELECT n FROM push_counts WHERE push_id = 1 AND what = 'queued'") == 25);
  // A new engine (a restart) finds it done.
  Pushes again(*f.db, f.config, f.templates);
  CHECK(again.step(kNoon, 1000ms).queued == 0);
}

TEST_CASE("pushes: the effect compares redemptions of recipients and the holdout") {
  Fixture f;
  f.members(100);
  REQUIRE(f.create("tips", "all", 50).status == Pushes::Created::Status::created);
  f.run(kNoon);
  // Two recipients redeem within a day, one more after five days; one
  // held-out member redeems within a day; one recipient opts out.
  std::vector<std::int64_t> sent, held;
  auto st = f.db->prepare("SELECT member_id, state FROM push_recipients ORDER BY member_id");
  REQUIRE(st.each_row([&] {
               (st.column_text(1) == "queued" ? sent : held).push_back(st.column_int(0));
             }).ok());
  REQUIRE(sent.size() >= 3);
  REQUIRE(!held.empty());
  auto voucher = [&](std::int64_t member, Time at) {
    REQUIRE(f.db->prepare("INSERT INTO vouchers(code, member_id, tier, city, price, face_value, "
                          "channel, issued_at, expires_at) VALUES (?, ?, 'C', 'beijing', 1000, 20, "
                          "'sms', ?, ?)")
                .bind(1, fmt::format("V{}", member))
                .bind(2, member)
                .bind(3, iso_time(at))
                .bind(4, iso_time(at + 720h))
                .run()
                .ok());
  };
  voucher(sent[0], kNoon + 2h);
  voucher(sent[1], kNoon + 20h);
  voucher(sent[2], kNoon + 120h);
  voucher(held[0], kNoon + 3h);
  REQUIRE(record_event(*f.db, "care_opt_out", sent[3], f.actor, "").ok());
  PushEffect e;
  std::string error;
  REQUIRE(f.pushes->effect("tips", e, &error) == Pushes::Found::found);
  CHECK(e.sent.members == static_cast<std::int64_t>(sent.size()));
  CHECK(e.holdout.members == static_cast<std::int64_t>(held.size()));
  CHECK(e.sent.redeemed == std::array<std::int64_t, 3>{2, 2, 3});
  CHECK(e.holdout.redeemed == std::array<std::int64_t, 3>{1, 1, 1});
  CHECK(e.opted_out_since == 1);
  REQUIRE(e.lift(0));
  CHECK(*e.lift(0) == doctest::Approx(200.0 / sent.size() - 100.0 / held.size()));
  CHECK(f.pushes->effect("nothing", e, &error) == Pushes::Found::not_found);
}

TEST_CASE("pushes: a test goes to staff numbers now, rendered, outside the push") {
  Fixture f;
  f.members(3);
  REQUIRE(f.create("tips", "all", 0, std::nullopt, std::nullopt).status ==
          Pushes::Created::Status::created);
  const auto t = f.pushes->test("tips", {"13900000002", "+86 138 0000 9999"}, f.actor, kNoon);
  REQUIRE(t.status == Pushes::Tested::Status::queued);
  REQUIRE(t.texts.size() == 2);
  CHECK(t.texts[0].find("200 points") != std::string::npos);  // member 2, en
  CHECK(f.count("SELECT COUNT(*) FROM outbox WHERE push_id IS NULL AND priority = 1") == 2);
  CHECK(f.count("SELECT COUNT(*) FROM push_recipients") == 0);
  CHECK(f.pushes->test("tips", {"abc"}, f.actor, kNoon).status == Pushes::Tested::Status::invalid);
  CHECK(f.pushes->test("none", {"13900000002"}, f.actor, kNoon).status ==
        Pushes::Tested::Status::not_found);
}
