// Pushes and reminders through giftgated and the simulator: a push reaches
// its audience once each, with receipts, never the holdout or anyone who
// opted out (also mid-push); quiet hours hold it and a reload lets it go on;
// one push per member per interval; --until ends it; replies go ahead of a
// push's backlog; a voucher about to expire is reminded once.
#include "tests/e2e/gate.hpp"
#include "tests/support/giftctl_run.hpp"

#include <csignal>
#include <map>
#include <set>

#include "daemon/campaign/calendar.hpp"

namespace giftgate::e2e {
namespace {

// Every push off the quiet hours, reminders in the hours around now.
constexpr const char* kNoQuiet = "pushes:\n  quiet_hours: \"00:00-00:00\"\n";

Time now_s() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// The daily span from `from` to `to` minutes around now, on Shanghai's clocks.
std::string span_around_now(int from, int to) {
  const int m = local_minute_of_day("Asia/Shanghai", now_s());
  const auto at = [&](int d) { return ((m + d) % 1440 + 1440) % 1440; };
  return format_daily_hours(DailyHours{at(from), at(to)});
}

// A local time `ahead` from now, with seconds, as --until reads it.
std::string local_in(std::chrono::seconds ahead) {
  const auto t = now_s() + ahead;
  return fmt::format("{}:{:02}", format_local_time("Asia/Shanghai", t),
                     t.time_since_epoch().count() % 60);
}

test::CtlRun ctl(Gate& g, const std::string& args) {
  auto r = test::run_giftctl(g.dir, g.config_path, args);
  INFO(args, "\n", r.out, r.err);
  return r;
}

std::string member(int i) { return fmt::format("861370000{:04}", i); }

// Push texts the simulator received, per number: those with `zh` or `en`
// in them (the shipped push texts start "尊敬的会员" / "Dear member").
std::map<std::string, int> pushed(const SimProcess& sim, const std::string& zh = "尊敬的会员",
                                  const std::string& en = "Dear member") {
  std::map<std::string, int> n;
  for (const auto& e : sim.history())
    if (e.name == "message" && e.fields.count("text") &&
        (contains(e.fields.at("text"), zh) || contains(e.fields.at("text"), en)))
      ++n[e.fields.at("dst")];
  return n;
}

// Waits (bounded) until the simulator has push texts for `n` numbers.
std::size_t wait_pushed(const SimProcess& sim, std::size_t n) {
  for (int i = 0; i < 100 && pushed(sim).size() < n; ++i) std::this_thread::sleep_for(100ms);
  return pushed(sim).size();
}

}  // namespace

TEST_CASE("pushes: each member of the audience gets one, with its receipt, and the holdout none") {
  Gate g(kNoQuiet, 40);
  g.enable_metrics();
  g.sim.command("set receipts=on");
  g.start();
  REQUIRE(ctl(g, "push create tips --template push_tips --audience all --holdout 25").status == 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT state = 'done' FROM pushes WHERE name = 'tips'", 1, 20s),
                  g.daemon->log());
  const auto sent = g.value("SELECT COUNT(*) FROM push_recipients WHERE state = 'queued'");
  const auto held = g.value("SELECT COUNT(*) FROM push_recipients WHERE state = 'holdout'");
  CHECK(sent + held == 40);
  CHECK(held > 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state = 'delivered'",
                               sent, 20s),
                  g.daemon->log());
  const auto got = pushed(g.sim);
  CHECK(static_cast<std::int64_t>(got.size()) == sent);
  for (const auto& [to, n] : got) CHECK(n == 1);
  // Nobody held out got one.
  auto db = test::open_campaign_db(g.db_path);
  auto q = db->prepare("SELECT m.msisdn FROM push_recipients r JOIN members m ON m.id = r.member_id "
                       "WHERE r.state = 'holdout'");
  REQUIRE(q.each_row([&] { CHECK(got.count(q.column_text(0)) == 0); }).ok());
  // The text is the member's: 20000 points afford A.
  if (got.count(member(5))) CHECK(contains(g.reply(member(5)), "20000积分"));
  // push show and the metrics say the same.
  const auto show = ctl(g, "push show tips --format json");
  CHECK(contains(show.out, fmt::format("\"delivered\": {}", sent)));
  // The metrics read the counts every 5 s.
  const std::string line = "giftgate_push_messages{push=\"tips\",state=\"delivered\"}";
  for (int i = 0; i < 80 && g.metric(line) != sent; ++i) std::this_thread::sleep_for(100ms);
  CHECK(g.metric(line) == sent);
}

TEST_CASE("pushes: a member who opted out never gets one, also when they opt out mid-push") {
  Gate g(kNoQuiet, 30);
  g.sim.command("set receipts=on");
  g.start();
  REQUIRE(g.ask(member(3), "TD").size() > 0);  // opted out before
  // Slow enough to opt out in the middle: 5 a second over 29 members.
  REQUIRE(ctl(g, "push create tips --template push_tips --audience all --rate 5").status == 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT COUNT(*) >= 5 FROM outbox WHERE push_id = 1", 1, 20s),
                  g.daemon->log());
  // Member 29 is last in line: TD now.
  REQUIRE(g.value("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND msisdn = '" + member(29) + "'") == 0);
  g.mo(member(29), "TD");
  REQUIRE_MESSAGE(g.wait_value("SELECT state = 'done' FROM pushes WHERE name = 'tips'", 1, 30s),
                  g.daemon->log());
  REQUIRE_MESSAGE(g.wait_value("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state = 'queued'", 0, 10s),
                  g.daemon->log());
  const auto got = pushed(g.sim);
  CHECK(got.count(member(3)) == 0);
  CHECK(got.count(member(29)) == 0);
  CHECK(g.value("SELECT COUNT(*) FROM push_recipients WHERE member_id = "
                "(SELECT id FROM members WHERE msisdn = '" + member(3) + "')") == 0);
  CHECK(g.value("SELECT COUNT(*) FROM push_recipients r JOIN members m ON m.id = r.member_id "
                "WHERE m.msisdn = '" + member(29) + "' AND r.state = 'opted_out'") == 1);
  CHECK(got.size() == 28);  // 30 members, two opted out
}

TEST_CASE("pushes: nothing is sent in the quiet hours, and a reload that ends them lets it go on") {
  // Read once: computed again later, a minute boundary in between would
  // give another span, and the edit below would not find the text.
  const std::string quiet = span_around_now(-5, 60);
  Gate g(fmt::format("pushes:\n  quiet_hours: \"{}\"\n", quiet), 10);
  g.start();
  REQUIRE(ctl(g, "push create tips --template push_tips --audience all").status == 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT COUNT(*) FROM push_recipients", 10, 10s), g.daemon->log());
  std::this_thread::sleep_for(2s);  // steps come every 50 ms: dozens would have queued
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE push_id = 1") == 0);
  CHECK(pushed(g.sim).empty());
  g.edit_config(fmt::format("quiet_hours: \"{}\"", quiet),
                "quiet_hours: \"00:00-00:00\"");
  g.daemon->signal(SIGHUP);
  REQUIRE_MESSAGE(g.wait_value("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state <> 'queued'", 10, 15s),
                  g.daemon->log());
  CHECK(wait_pushed(g.sim, 10) == 10);
}

TEST_CASE("pushes: one push per member per interval, across pushes") {
  Gate g(kNoQuiet, 12);
  g.start();
  REQUIRE(ctl(g, "push create first --template push_tips --audience all").status == 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT state = 'done' FROM pushes WHERE name = 'first'", 1, 15s),
                  g.daemon->log());
  REQUIRE(ctl(g, "push create second --template push_expiring --audience all").status == 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT state = 'done' FROM pushes WHERE name = 'second'", 1, 15s),
                  g.daemon->log());
  CHECK(g.value("SELECT COUNT(*) FROM push_recipients WHERE push_id = 2 AND state = 'too_soon'") == 12);
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE push_id = 2") == 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state <> 'queued'", 12, 15s),
                  g.daemon->log());
  CHECK(pushed(g.sim, "未使用", "unused vouchers").empty());
}

TEST_CASE("pushes: --until ends a push, what had not gone expired") {
  Gate g(kNoQuiet, 40);
  g.start();
  REQUIRE(ctl(g, "push create brief --template push_tips --audience all --rate 4 --until '" +
                     local_in(4s) + "'")
              .status == 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT state = 'expired' FROM pushes WHERE name = 'brief'", 1, 15s),
                  g.daemon->log());
  std::this_thread::sleep_for(1s);
  const auto sent = g.value("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state <> 'expired'");
  CHECK(sent > 0);
  CHECK(sent < 40);
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state = 'queued'") == 0);
  const auto show = ctl(g, "push show brief --format json");
  CHECK(contains(show.out, "\"expired\""));
  CHECK(static_cast<std::int64_t>(wait_pushed(g.sim, static_cast<std::size_t>(sent))) == sent);
}

TEST_CASE("pushes: a reply goes ahead of a push's backlog") {
  // 5 submits a second to the SMSC: a push to 80 takes 16 seconds, and
  // two windows of it (20) waiting in the session would hold a reply 4 s.
  Gate g(kNoQuiet, 80);
  g.edit_config("  rate: 0\n", "  rate: 5\n");
  g.start();
  // The asking member (12000 points) is not in the audience.
  REQUIRE(ctl(g, "push create tips --template push_tips --audience 'balance >= 20000'").status == 0);
  REQUIRE_MESSAGE(g.wait_value("SELECT COUNT(*) >= 5 FROM outbox WHERE push_id = 1 AND state <> 'queued'", 1, 20s),
                  g.daemon->log());
  const auto asked = std::chrono::steady_clock::now();
  g.mo("8613800138000", "JF");
  const auto reply = g.reply("8613800138000", 10s);
  const auto took = std::chrono::steady_clock::now() - asked;
  CHECK(contains(reply, "12000"));
  CHECK(took < 1500ms);  // at the next submit the rate allows, not behind the backlog
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE push_id = 1 AND state = 'queued'") > 20);
}

TEST_CASE("reminders: an unused voucher about to expire is reminded once, a used one never") {
  Gate g(fmt::format("{}reminders:\n  days_before: 3\n  hours: \"{}\"\n", kNoQuiet,
                     span_around_now(-30, 60)),
         4);
  g.sim.command("set receipts=on");
  {
    auto db = test::open_campaign_db(g.db_path);
    for (const auto& [code, days, state] :
         std::vector<std::tuple<std::string, int, std::string>>{
             {"AE12098768", 2, "issued"}, {"AE12098769", 10, "issued"}, {"AE12098770", 1, "used"}}) {
      REQUIRE(db->prepare("INSERT INTO vouchers(code, member_id, tier, city, price, face_value, "
                          "state, channel, issued_at, expires_at) VALUES (?, 1, 'A', 'beijing', "
                          "5000, 100, ?, 'sms', ?, ?)")
                  .bind(1, code)
                  .bind(2, state)
                  .bind(3, iso_time(now_s() - std::chrono::hours(24)))
                  .bind(4, iso_time(now_s() + std::chrono::hours(24 * days)))
                  .run()
                  .ok());
    }
  }
  g.start();
  const auto text = g.reply("8613800138000", 10s);
  CHECK(contains(text, "AE12098768"));
  std::this_thread::sleep_for(2500ms);  // more steps: still one
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE message = 'voucher_reminder'") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM vouchers WHERE reminded_at IS NOT NULL") == 1);
}

}  // namespace giftgate::e2e
