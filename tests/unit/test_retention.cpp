#include <doctest/doctest.h>

#include <fmt/format.h>

#include "daemon/campaign/imports.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/reports.hpp"
#include "daemon/campaign/retention.hpp"
#include "daemon/campaign/service.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

constexpr auto kDay = std::chrono::days(1);

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("r.db"));
  Time now = std::chrono::sys_days{std::chrono::year{2027} / 3 / 1};
  Retention retention{*db, RetentionSettings{}};

  void exec(const std::string& sql) { REQUIRE(db->exec(sql).ok()); }
  std::int64_t count(const std::string& sql) {
    auto q = db->prepare(sql);
    REQUIRE(q.step() == db::StepResult::row);
    return q.column_int(0);
  }
  // An outbox row created a minute before it became final (or never final:
  // state queued/submitted and no final_at), with `parts` parts.
  std::int64_t message(Time final_at, const std::string& state = "delivered",
                       const std::string& channel = "sms",
                       const std::optional<std::string>& code = std::nullopt, int parts = 2) {
    const bool final = state == "delivered" || state == "failed" || state == "expired";
    auto q = db->prepare(
        "INSERT INTO outbox(msisdn, message, language, body, voucher_code, state, "
        "next_attempt_at, created_at, final_at, channel) VALUES ('8613800138000', 'help', 'zh', "
        "'secret text', ?, ?, ?, ?, ?, ?)");
    const std::string created = iso_time(final_at - 60s);
    REQUIRE(q.bind(1, code)
                .bind(2, state)
                .bind(3, created)
                .bind(4, created)
                .bind(5, final ? std::optional<std::string>(iso_time(final_at)) : std::nullopt)
                .bind(6, channel)
                .run()
                .ok());
    const auto id = db->last_insert_id();
    for (int p = 1; p <= parts; ++p) {
      auto part = db->prepare(
          "INSERT INTO outbox_parts(outbox_id, attempt, part, total, message_id, submitted_at) "
          "VALUES (?, 1, ?, ?, ?, ?)");
      REQUIRE(part.bind(1, id).bind(2, p).bind(3, parts).bind(4, fmt::format("m{}-{}", id, p))
                  .bind(5, created).run().ok());
    }
    return id;
  }
  void receipt(Time at) {
    auto q = db->prepare(
        "INSERT INTO receipts(message_id, state, received_at) VALUES ('m', 'DELIVRD', ?)");
    REQUIRE(q.bind(1, iso_time(at)).run().ok());
  }
  void mo(Time at) {
    static int n = 0;
    auto q = db->prepare(
        "INSERT INTO inbox(mo_key, msisdn, body, command, channel, received_at) "
        "VALUES (?, '8613800138000', 'JF', 'balance', 'sms', ?)");
    REQUIRE(q.bind(1, fmt::format("k{}", ++n)).bind(2, iso_time(at)).run().ok());
  }
  void session(Time ended_at, bool ended = true) {
    auto q = db->prepare(
        "INSERT INTO ussd_sessions(msisdn, session_key, language, state, started_at, "
        "expires_at, ended_at, end_reason) VALUES ('8613800138000', 's', 'zh', 'main', ?, ?, ?, "
        "?)");
    const std::string started = iso_time(ended_at - 30s);
    REQUIRE(q.bind(1, started)
                .bind(2, started)
                .bind(3, ended ? std::optional<std::string>(iso_time(ended_at)) : std::nullopt)
                .bind(4, ended ? std::optional<std::string>("done") : std::nullopt)
                .run()
                .ok());
  }
  // Prunes until nothing is left, in batches of `rows`; the batches it took.
  int prune_all(std::int64_t rows = 500) {
    for (int batch = 1; batch <= 10000; ++batch) {
      const auto r = retention.prune_batch(now, rows);
      REQUIRE(r.status.ok());
      CHECK(r.looked <= rows);
      if (!r.more) return batch;
    }
    FAIL("pruning did not end");
    return 0;
  }
  std::string body(std::int64_t id) {
    // Wherever the message is: the outbox, or message_history once its
    // body and parts are past retention.
    auto q = db->prepare("SELECT body FROM messages WHERE id = ?");
    q.bind(1, id);
    return q.step() == db::StepResult::row ? q.column_text(0) : "(gone)";
  }
  std::int64_t parts(std::int64_t id) {
    return count(fmt::format("SELECT COUNT(*) FROM outbox_parts WHERE outbox_id = {}", id));
  }
};

}  // namespace

TEST_CASE("retention: each kind goes exactly past its days, and not a minute before") {
  Fixture f;
  const auto past = [&](int days) { return f.now - days * kDay - 1s; };
  const auto inside = [&](int days) { return f.now - days * kDay + 60s; };
  // Written in time order, as the daemon writes them.
  const auto old_sms = f.message(past(90));
  const auto voucher_screen = f.message(past(90), "delivered", "ussd", "AB12345678", 1);
  const auto new_sms = f.message(inside(90));
  const auto old_screen = f.message(past(30), "expired", "ussd", std::nullopt, 1);
  const auto new_screen = f.message(inside(30), "expired", "ussd", std::nullopt, 1);
  f.receipt(past(90));
  f.receipt(inside(90));
  f.mo(past(90));
  f.mo(inside(90));
  f.session(past(30));
  f.session(inside(30));
  f.prune_all();

  CHECK(f.body(old_sms) == "");
  CHECK(f.parts(old_sms) == 0);
  CHECK(f.count(fmt::format("SELECT COUNT(*) FROM messages WHERE id = {} AND state = 'delivered' "
                            "AND final_at IS NOT NULL AND message = 'help'",
                            old_sms)) == 1);  // the row and its final state stay
  CHECK(f.body(new_sms) == "secret text");
  CHECK(f.parts(new_sms) == 2);
  CHECK(f.body(old_screen) == "(gone)");
  CHECK(f.parts(old_screen) == 0);
  CHECK(f.body(new_screen) == "secret text");
  CHECK(f.parts(voucher_screen) == 0);  // a screen with a voucher keeps its row
  CHECK(f.body(voucher_screen) == "");
  CHECK(f.count("SELECT COUNT(*) FROM receipts") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM inbox") == 1);
  CHECK(f.count("SELECT COUNT(*) FROM ussd_sessions") == 1);
  CHECK(f.count(fmt::format("SELECT COUNT(*) FROM receipts WHERE received_at = '{}'",
                            iso_time(inside(90)))) == 1);
}

TEST_CASE("retention: days 0 keep a kind for ever") {
  Fixture f;
  f.retention.set_settings({0, 0, 0, 0, 500, 1000ms});
  const auto id = f.message(f.now - 400 * kDay);
  f.receipt(f.now - 400 * kDay);
  f.mo(f.now - 400 * kDay);
  f.session(f.now - 400 * kDay);
  const auto r = f.retention.prune_batch(f.now, 500);
  CHECK(r.status.ok());
  CHECK(r.total() == 0);
  CHECK_FALSE(r.more);
  CHECK(f.body(id) == "secret text");
  CHECK(f.count("SELECT COUNT(*) FROM receipts") + f.count("SELECT COUNT(*) FROM inbox") +
            f.count("SELECT COUNT(*) FROM ussd_sessions") ==
        3);
  for (const auto& k : f.retention.plan(f.now).kinds) CHECK(k.rows == 0);
}

TEST_CASE("retention: members, ledger, vouchers, events and the rest are never touched") {
  Fixture f;
  Config config = test::campaign_config();
  Importer importer(*f.db, config, {"import", "t"});
  REQUIRE(importer.members("msisdn,city,points\n13800138000,beijing,12000\n", "m.csv").status ==
          ImportResult::Status::ok);
  // Each message's row is kept too, moved to message_history (messages
  // reads both).
  const char* kept[] = {"members", "ledger",       "events",     "vouchers", "offers", "merchants",
                        "stock",   "backups",      "size_history", "messages"};
  for (int i = 0; i < 5; ++i) f.message(f.now - (200 + i) * kDay);
  std::vector<std::int64_t> before;
  for (const char* t : kept) before.push_back(f.count(fmt::format("SELECT COUNT(*) FROM {}", t)));
  CHECK(before[0] == 1);
  CHECK(before[1] == 1);
  f.prune_all();
  for (std::size_t i = 0; i < std::size(kept); ++i)
    CHECK_MESSAGE(f.count(fmt::format("SELECT COUNT(*) FROM {}", kept[i])) == before[i], kept[i]);
  CHECK(f.count("SELECT COUNT(*) FROM messages WHERE body <> ''") == 0);
}

TEST_CASE("retention: a message not final is kept, the walk waits at it, then passes it a day on") {
  Fixture f;
  // Parts kept for ever: no message row moves to message_history, and the
  // body walk is the one that takes these messages.
  f.retention.set_settings({90, 0, 90, 30, 500, 1000ms});
  const auto cut = f.now - 90 * kDay;
  const auto queued = f.message(cut - 2h, "queued");  // created before the cut-off, not final
  const auto after = f.message(cut - 1h);             // final, past the cut-off
  f.prune_all();
  CHECK(f.body(queued) == "secret text");
  CHECK(f.parts(queued) == 2);
  CHECK(f.body(after) == "secret text");  // behind the one not final: waits
  CHECK(f.retention.plan(f.now).kinds[0].rows == 0);

  // It ends; once its final state is old enough both go.
  f.exec(fmt::format("UPDATE outbox SET state = 'failed', final_at = '{}' WHERE id = {}",
                     iso_time(cut - 30min), queued));
  f.prune_all();
  CHECK(f.body(queued) == "");
  CHECK(f.body(after) == "");

  // One that never ends holds the walk for a day past its cut-off, no more.
  const auto stuck = f.message(cut - 20min, "submitted");
  const auto later = f.message(cut - 10min);
  f.prune_all();
  CHECK(f.body(later) == "secret text");
  f.now += kDay;
  const auto plan = f.retention.plan(f.now);
  CHECK(plan.kinds[0].left == 1);
  CHECK(plan.kinds[0].rows == 1);
  f.prune_all();
  CHECK(f.body(later) == "");
  CHECK(f.body(stuck) == "secret text");  // passed, kept for ever
  f.now += 100 * kDay;
  f.prune_all();
  CHECK(f.body(stuck) == "secret text");
}

TEST_CASE("retention: a batch looks at max_rows at most, and the next goes on from its cursor") {
  Fixture f;
  f.retention.set_settings({0, 0, 90, 0, 500, 1000ms});
  for (int i = 0; i < 45; ++i) f.mo(f.now - 100 * kDay + i * 1s);
  f.mo(f.now);  // recent: stays
  auto r = f.retention.prune_batch(f.now, 10);
  REQUIRE(r.status.ok());
  CHECK(r.looked == 10);
  CHECK(r.pruned[3] == 10);
  CHECK(r.more);
  CHECK(f.count("SELECT last_id FROM retention_cursors WHERE kind = 'inbox'") == 10);
  CHECK(f.count("SELECT MIN(id) FROM inbox") == 11);
  // Rows before the cursor are not looked at again: one put back there
  // stays.
  f.exec("INSERT INTO inbox(id, mo_key, msisdn, body, command, channel, received_at) VALUES "
         "(5, 'back', '1', 'x', 'help', 'sms', '2020-01-01T00:00:00Z')");
  CHECK(f.prune_all(10) == 4);
  CHECK(f.count("SELECT COUNT(*) FROM inbox") == 2);
  CHECK(f.count("SELECT MIN(id) FROM inbox") == 5);
}

TEST_CASE("retention: the plan names exactly what pruning then takes") {
  Fixture f;
  // Bodies from 60 days, whole rows from 100: both kinds find messages.
  f.retention.set_settings({60, 100, 90, 30, 500, 1000ms});
  for (int i = 0; i < 30; ++i) {
    const Time at = f.now - (120 - i * 2) * kDay;  // 120 days ago to 62 days ago
    f.message(at, i % 3 == 0 ? "failed" : "delivered", i % 4 == 0 ? "ussd" : "sms");
    f.receipt(at);
    f.mo(at);
    f.session(at, i != 7);
  }
  const auto plan = f.retention.plan(f.now);
  REQUIRE(plan.status.ok());
  CHECK(plan.total() > 0);
  std::array<std::int64_t, kPruneKindCount> done{};
  for (int batch = 0; batch < 100; ++batch) {
    const auto r = f.retention.prune_batch(f.now, 7);
    REQUIRE(r.status.ok());
    for (std::size_t i = 0; i < kPruneKindCount; ++i) done[i] += r.pruned[i];
    if (!r.more) break;
  }
  for (std::size_t i = 0; i < kPruneKindCount; ++i) {
    INFO(prune_kind_name(kPruneKinds[i]));
    CHECK(plan.kinds[i].rows == done[i]);
    CHECK(plan.kinds[i].cutoff == f.now - plan.kinds[i].days * kDay);
  }
  CHECK(done[0] > 0);
  CHECK(done[4] > 0);
  CHECK(done[6] > 0);
  CHECK(f.retention.plan(f.now).total() == 0);
}

TEST_CASE("retention: past both its body's and its parts' days a message's row moves to the history") {
  Fixture f;
  f.retention.set_settings({60, 90, 90, 30, 500, 1000ms});
  f.exec("INSERT INTO members(id, msisdn, city) VALUES (1, '8613800138000', 'beijing');"
         "INSERT INTO vouchers(code, member_id, tier, city, price, face_value, channel, issued_at, "
         "expires_at) VALUES ('AB12345678', 1, 'C', 'beijing', 100, 20, 'sms', 'x', 'y')");
  const auto moved = f.message(f.now - 91 * kDay, "delivered", "sms", "AB12345678");
  const auto blanked = f.message(f.now - 61 * kDay, "failed");
  const auto kept = f.message(f.now - 59 * kDay);
  f.exec(fmt::format("UPDATE outbox SET attempts = 3, last_error = 'UNDELIV', member_id = 1, "
                     "inbox_id = 42 WHERE id = {}",
                     moved));
  f.prune_all();
  CHECK(f.count(fmt::format("SELECT COUNT(*) FROM outbox WHERE id = {}", moved)) == 0);
  CHECK(f.parts(moved) == 0);
  auto h = f.db->prepare(
      "SELECT msisdn, member_id, message, voucher_code, inbox_id, state, attempts, final_at, "
      "last_error FROM message_history WHERE id = ?");
  h.bind(1, moved);
  REQUIRE(h.step() == db::StepResult::row);
  CHECK(h.column_text(0) == "8613800138000");
  CHECK(h.column_int(1) == 1);
  CHECK(h.column_text(2) == "help");
  CHECK(h.column_text(3) == "AB12345678");
  CHECK(h.column_int(4) == 42);
  CHECK(h.column_text(5) == "delivered");
  CHECK(h.column_int(6) == 3);
  CHECK(h.column_text(7) == iso_time(f.now - 91 * kDay));
  CHECK(h.column_text(8) == "UNDELIV");
  // Between the two: the body went, the row and its parts stay in the outbox.
  CHECK(f.count(fmt::format("SELECT COUNT(*) FROM outbox WHERE id = {} AND body = ''", blanked)) ==
        1);
  CHECK(f.parts(blanked) == 2);
  CHECK(f.body(kept) == "secret text");
  // What reads a member's or a voucher's history still finds it, and the
  // outbox's counts by state still count it.
  std::string error;
  const auto messages = member_messages(*f.db, "8613800138000", &error);
  REQUIRE(messages);
  CHECK(messages->rows.size() == 3);
  const auto events = voucher_events(*f.db, "AB12345678", &error);
  REQUIRE(events);
  CHECK(events->rows.size() == 1);
  const auto counts = Outbox(*f.db, ResendPolicy{}).counts();
  REQUIRE(counts);
  CHECK(counts->delivered == 2);
  CHECK(counts->failed == 1);
  // Its text is gone: a resend is refused, not sent empty.
  const auto resent =
      Outbox(*f.db, ResendPolicy{}).resend("AB12345678", Actor{"giftctl", "t"}, f.now);
  CHECK(resent.status == Outbox::Resent::Status::body_pruned);
  // With the parts kept for ever (receipt_days 0), no row ever moves.
  f.retention.set_settings({60, 0, 90, 30, 500, 1000ms});
  f.message(f.now - 200 * kDay + 1s);
  f.prune_all();
  CHECK(f.count("SELECT COUNT(*) FROM message_history") == 1);
}

TEST_CASE("retention: a redelivered MO inside the window is still recognised after a prune") {
  Fixture f;
  Config config = test::campaign_config();
  config.campaign.start = f.now - 200 * kDay;
  config.campaign.end = f.now + 30 * kDay;
  config.campaign.vouchers_expire_at.reset();
  Importer importer(*f.db, config, {"import", "t"});
  REQUIRE(importer.members("msisdn,city\n13800138000,beijing\n", "m.csv").status ==
          ImportResult::Status::ok);
  Service service{*f.db, config, test::shipped_templates()};
  service.set_dedupe_window(120s);
  const auto print = mo_fingerprint("8613800138000", "12580", "TD");
  using MS = MoOutcome::Status;
  // Old MOs, then the one that counts, just before the prune.
  REQUIRE(service.handle({"old", "8613800138000", "TD", "sms", f.now - 5 * kDay, print, "e0"})
              .status == MS::done);
  REQUIRE(service.handle({"a", "8613800138000", "TD", "sms", f.now - 30s, print, "e1"}).status ==
          MS::done);
  f.retention.set_settings({90, 90, 2, 30, 500, 1000ms});
  f.prune_all();
  CHECK(f.count("SELECT COUNT(*) FROM inbox WHERE mo_key = 'old'") == 0);
  CHECK(service.handle({"b", "8613800138000", "TD", "sms", f.now + 10s, print, "e2"}).status ==
        MS::duplicate);
}

TEST_CASE("retention: a message whose text was pruned is not sent again empty") {
  Fixture f;
  const auto old = f.message(f.now - 100 * kDay);
  const auto recent = f.message(f.now - kDay);
  f.prune_all();
  Outbox outbox(*f.db, ResendPolicy{});
  const auto refused = outbox.resend(std::to_string(old), {"giftctl", "t"}, f.now);
  CHECK(refused.status == Outbox::Resent::Status::body_pruned);
  CHECK(f.count(fmt::format("SELECT COUNT(*) FROM messages WHERE id = {} AND state = 'delivered'",
                            old)) == 1);
  CHECK(outbox.resend(std::to_string(recent), {"giftctl", "t"}, f.now).status ==
        Outbox::Resent::Status::queued);
}
