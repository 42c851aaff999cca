// Agents: the service desk's accounts, their scrypt passwords, the
// lock-out after wrong ones, and the console's sessions with their ends.
// scrypt costs a tenth of a second a call on purpose, so most tests make
// their agents from one hash made once, and sign in with the verdict
// finish_sign_in() is given rather than by checking passwords again.
#include <doctest/doctest.h>

#include <chrono>

#include "daemon/campaign/agents.hpp"
#include "daemon/campaign/secrets.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;
using giftgate::test::TempDir;
using R = Agents::Result;
using SI = Agents::SignIn::Status;

namespace {

const Actor kOperator{"giftctl", "li.na"};
const Time kNow = std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + 9h;
const std::string kPassword = "plum blossom 42";
const std::string kAddress = "192.0.2.7";

// The one hash most tests use: made once for the whole run.
const std::string& stored_hash() {
  static const std::string hash = hash_password(kPassword).value();
  return hash;
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("campaign.db"));
  Agents agents{*db};
  SignInPolicy policy;  // the defaults: 5 tries, 15 minutes, 30 minutes idle, 12 hours

  Fixture() {
    insert("wang.fang", "agent");
    insert("zhao.lei", "supervisor");
  }
  // An agent as add() makes one, without another tenth of a second.
  void insert(const std::string& name, const std::string& role) {
    auto q = db->prepare(
        "INSERT INTO agents(name, role, password_hash, created_at, created_by) "
        "VALUES (?, ?, ?, ?, 'test')");
    REQUIRE(q.bind(1, name).bind(2, role).bind(3, stored_hash()).bind(4, iso_time(kNow)).run());
  }
  std::int64_t value(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }
  std::string text(const std::string& sql) {
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row && !q.column_null(0) ? q.column_text(0)
                                                                 : std::string("(none)");
  }
  Agents::Credential credential(const std::string& name, Time at) {
    db::Status status;
    const auto c = agents.credential(name, at, &status);
    REQUIRE(status.ok());
    REQUIRE(c);
    return *c;
  }
  Agents::SignIn sign_in(const std::string& name, bool right, Time at) {
    return agents.finish_sign_in(credential(name, at), right, kAddress, policy, at);
  }
  // A signed-in session's token.
  std::string token(const std::string& name, Time at) {
    const auto s = sign_in(name, true, at);
    REQUIRE(s.status == SI::signed_in);
    return s.token;
  }
  std::optional<AgentSession> session(const std::string& token, Time at) {
    db::Status status;
    auto s = agents.session(token, policy, at, &status);
    REQUIRE(status.ok());
    return s;
  }
};

}  // namespace

TEST_CASE("agents: a password is kept as scrypt and checked, a wrong one is not") {
  const std::string& hash = stored_hash();
  CHECK(hash.rfind("scrypt$32768$8$1$", 0) == 0);
  CHECK(hash.find(kPassword) == std::string::npos);
  CHECK(password_matches(kPassword, hash));
  CHECK(!password_matches("plum blossom 43", hash));
  // Not a hash, or one with parameters no check should afford: never a match.
  CHECK(!password_matches(kPassword, ""));
  CHECK(!password_matches(kPassword, kPassword));
  CHECK(!password_matches(kPassword, "scrypt$32768$8$1$AAAA"));
  std::string huge = hash;
  huge.replace(7, 5, "2097152");  // N = 2^21
  CHECK(!password_matches(kPassword, huge));
  std::string odd = hash;
  odd.replace(7, 5, "32767");  // not a power of two
  CHECK(!password_matches(kPassword, odd));
}

TEST_CASE("agents: weak passwords are refused with the reason") {
  CHECK(weak_password("short", "wang.fang"));
  CHECK(weak_password("123456789", "wang.fang"));
  CHECK(!weak_password("1234567890", "wang.fang"));
  CHECK(weak_password("my Wang.Fang pass", "wang.fang"));
  CHECK(!weak_password("梅花开在冬天的北京城", "wang.fang"));  // 10 characters, 30 bytes
  CHECK(weak_password("梅花开在冬天的北京", "wang.fang"));    // 9 characters
  CHECK(weak_password(std::string(2000, 'x'), "wang.fang"));

  Fixture f;
  CHECK(f.agents.add("chen.jie", AgentRole::agent, "chen.jie-2026", kOperator, kNow) ==
        R::weak_password);
  CHECK(f.agents.add("chen.jie", AgentRole::agent, "too short", kOperator, kNow) ==
        R::weak_password);
  CHECK(f.value("SELECT COUNT(*) FROM agents WHERE name = 'chen.jie'") == 0);
}

TEST_CASE("agents: add folds the name, refuses a bad or taken one, records the event") {
  Fixture f;
  CHECK(f.agents.add("", AgentRole::agent, kPassword, kOperator, kNow) == R::invalid);
  CHECK(f.agents.add("chen jie", AgentRole::agent, kPassword, kOperator, kNow) == R::invalid);
  CHECK(f.agents.add(std::string(33, 'a'), AgentRole::agent, kPassword, kOperator, kNow) ==
        R::invalid);
  CHECK(f.agents.add("Wang.Fang", AgentRole::agent, kPassword, kOperator, kNow) == R::exists);

  REQUIRE(f.agents.add("Chen.Jie", AgentRole::supervisor, kPassword, kOperator, kNow) == R::ok);
  CHECK(f.text("SELECT role FROM agents WHERE name = 'chen.jie'") == "supervisor");
  CHECK(f.text("SELECT created_by FROM agents WHERE name = 'chen.jie'") == "li.na");
  const auto c = f.credential("CHEN.JIE", kNow);
  CHECK(c.agent_id > 0);
  CHECK(password_matches(kPassword, c.hash));
  CHECK(f.text("SELECT detail FROM events WHERE kind = 'agent_added'") ==
        "agent chen.jie: role supervisor");

  std::string error;
  const auto all = f.agents.list(&error);
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].name == "chen.jie");
  CHECK((*all)[0].role == AgentRole::supervisor);
  CHECK((*all)[0].created_at == iso_time(kNow));
  CHECK(!(*all)[0].disabled);
  CHECK(!(*all)[0].last_sign_in);
  // Neither the password nor the hash in any event.
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE detail LIKE '%plum%' OR detail LIKE "
                "'%scrypt%'") == 0);
}

TEST_CASE("agents: a right password signs in, resets the count and records it") {
  Fixture f;
  CHECK(f.sign_in("wang.fang", false, kNow).status == SI::wrong);
  CHECK(f.value("SELECT failures FROM agents WHERE name = 'wang.fang'") == 1);
  const auto s = f.sign_in("Wang.Fang", true, kNow + 1min);
  REQUIRE(s.status == SI::signed_in);
  CHECK(is_base64url(s.token, 43));
  CHECK(is_base64url(s.session.csrf, 43));
  CHECK(s.session.csrf != s.token);
  CHECK(s.session.name == "wang.fang");
  CHECK(s.session.role == AgentRole::agent);
  CHECK(s.session.language == "en");
  CHECK(f.value("SELECT failures FROM agents WHERE name = 'wang.fang'") == 0);
  CHECK(f.text("SELECT last_sign_in FROM agents WHERE name = 'wang.fang'") ==
        iso_time(kNow + 1min));
  CHECK(f.text("SELECT detail FROM events WHERE kind = 'agent_signed_in'") ==
        "agent wang.fang signed in from " + kAddress);
  CHECK(f.text("SELECT actor FROM events WHERE kind = 'agent_signed_in'") == "wang.fang");
  // Only the token's SHA-256 is kept, and the token in no event.
  const auto digest = sha256(s.token).value();
  auto q = f.db->prepare("SELECT COUNT(*) FROM console_sessions WHERE token_hash = ?");
  REQUIRE(q.bind_blob(1, digest).step() == db::StepResult::row);
  CHECK(q.column_int(0) == 1);
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE detail LIKE '%" + s.token + "%'") == 0);
  CHECK(f.value("SELECT COUNT(*) FROM console_sessions WHERE csrf = '" + s.session.csrf + "'") ==
        1);

  const auto found = f.session(s.token, kNow + 2min);
  REQUIRE(found);
  CHECK(found->agent_id == s.session.agent_id);
  CHECK(found->csrf == s.session.csrf);
  CHECK(!f.session(s.token.substr(0, 42) + (s.token[42] == 'A' ? "B" : "A"), kNow + 2min));
  CHECK(!f.session("", kNow));
  CHECK(!f.session("not a token", kNow));
}

TEST_CASE("agents: max_failures wrong passwords lock the account until the lock ends") {
  Fixture f;
  f.policy.max_failures = 3;
  f.policy.lock = 15min;
  CHECK(f.sign_in("wang.fang", false, kNow).status == SI::wrong);
  CHECK(f.sign_in("wang.fang", false, kNow).status == SI::wrong);
  const auto locked = f.sign_in("wang.fang", false, kNow + 10s);
  REQUIRE(locked.status == SI::locked);
  REQUIRE(locked.locked_until);
  CHECK(*locked.locked_until == kNow + 10s + 15min);
  CHECK(f.text("SELECT locked_until FROM agents WHERE name = 'wang.fang'") ==
        iso_time(kNow + 10s + 15min));
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE kind = 'agent_locked' AND detail LIKE "
                "'agent wang.fang: locked until%'") == 1);

  // While locked: credential() says so, and even the right password is
  // refused and not counted.
  const auto c = f.credential("wang.fang", kNow + 14min);
  REQUIRE(c.locked_until);
  CHECK(f.agents.finish_sign_in(c, true, kAddress, f.policy, kNow + 14min).status == SI::locked);
  CHECK(f.agents.finish_sign_in(c, false, kAddress, f.policy, kNow + 14min).status ==
        SI::locked);
  // A credential read before the lock, finished after it: locked all the same.
  Agents::Credential stale = c;
  stale.locked_until.reset();
  CHECK(f.agents.finish_sign_in(stale, true, kAddress, f.policy, kNow + 14min).status ==
        SI::locked);
  CHECK(f.value("SELECT failures FROM agents WHERE name = 'wang.fang'") == 0);
  CHECK(f.value("SELECT COUNT(*) FROM console_sessions") == 0);
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE kind = 'agent_locked'") == 1);
  // The other agent is not locked.
  CHECK(f.sign_in("zhao.lei", true, kNow + 14min).status == SI::signed_in);

  // After the lock: the right password signs in, with max_failures tries again.
  CHECK(!f.credential("wang.fang", kNow + 10s + 15min).locked_until);
  CHECK(f.sign_in("wang.fang", false, kNow + 16min).status == SI::wrong);
  CHECK(f.sign_in("wang.fang", true, kNow + 16min).status == SI::signed_in);
  CHECK(f.text("SELECT locked_until FROM agents WHERE name = 'wang.fang'") == "(none)");
}

TEST_CASE("agents: an unknown or disabled name is checked against a dummy and is wrong") {
  Fixture f;
  for (const std::string name : {"nobody", "no such name!", ""}) {
    const auto c = f.credential(name, kNow);
    CHECK(c.agent_id == 0);
    CHECK(c.hash.rfind("scrypt$32768$8$1$", 0) == 0);
    CHECK(!c.locked_until);
    CHECK(f.agents.finish_sign_in(c, true, kAddress, f.policy, kNow).status == SI::wrong);
  }
  // The dummy costs a real check and matches nothing.
  CHECK(!password_matches(kPassword, f.credential("nobody", kNow).hash));

  REQUIRE(f.agents.set_disabled("wang.fang", true, "left the desk", kOperator, kNow) == R::ok);
  const auto c = f.credential("wang.fang", kNow);
  CHECK(c.agent_id == 0);
  CHECK(f.agents.finish_sign_in(c, true, kAddress, f.policy, kNow).status == SI::wrong);
  CHECK(f.value("SELECT COUNT(*) FROM console_sessions") == 0);
}

TEST_CASE("agents: a session ends after idle, after absolute, at sign-out, when disabled") {
  Fixture f;
  f.policy.idle = 30min;
  f.policy.absolute = 2h;

  SUBCASE("idle") {
    const auto t = f.token("wang.fang", kNow);
    CHECK(f.session(t, kNow + 29min));
    // Seen at 29 minutes: the idle time runs from there.
    CHECK(f.text("SELECT last_seen FROM console_sessions") == iso_time(kNow + 29min));
    CHECK(f.session(t, kNow + 58min));
    CHECK(!f.session(t, kNow + 58min + 30min));
  }
  SUBCASE("last seen is written at most once a minute") {
    const auto t = f.token("wang.fang", kNow);
    CHECK(f.session(t, kNow + 59s));
    CHECK(f.text("SELECT last_seen FROM console_sessions") == iso_time(kNow));
    CHECK(f.session(t, kNow + 60s));
    CHECK(f.text("SELECT last_seen FROM console_sessions") == iso_time(kNow + 60s));
  }
  SUBCASE("absolute") {
    const auto t = f.token("wang.fang", kNow);
    for (auto at = kNow + 20min; at < kNow + 2h; at += 20min) CHECK(f.session(t, at));
    CHECK(!f.session(t, kNow + 2h));
  }
  SUBCASE("sign-out") {
    const auto t = f.token("wang.fang", kNow);
    const auto other = f.token("wang.fang", kNow);
    CHECK(f.agents.end_session(t, kNow + 1min));
    CHECK(!f.session(t, kNow + 1min));
    CHECK(!f.agents.end_session(t, kNow + 1min));
    CHECK(f.session(other, kNow + 1min));  // another browser stays signed in
  }
  SUBCASE("disabled, and enabled again") {
    const auto t = f.token("wang.fang", kNow);
    const auto his = f.token("zhao.lei", kNow);
    CHECK(f.agents.set_disabled("wang.fang", true, "", kOperator, kNow) == R::invalid);
    CHECK(f.agents.set_disabled("nobody", true, "why", kOperator, kNow) == R::unknown);
    REQUIRE(f.agents.set_disabled("Wang.Fang", true, "left the desk", kOperator, kNow) == R::ok);
    CHECK(!f.session(t, kNow + 1min));
    CHECK(f.session(his, kNow + 1min));
    CHECK(f.text("SELECT detail FROM events WHERE kind = 'agent_disabled'") ==
          "agent wang.fang: left the desk (1 session(s) ended)");
    CHECK(f.text("SELECT actor FROM events WHERE kind = 'agent_disabled'") == "li.na");
    REQUIRE(f.agents.set_disabled("wang.fang", false, "back", kOperator, kNow) == R::ok);
    CHECK(!f.session(t, kNow + 1min));  // ended, not suspended
    CHECK(f.value("SELECT COUNT(*) FROM events WHERE kind = 'agent_enabled'") == 1);
    CHECK(f.sign_in("wang.fang", true, kNow + 2min).status == SI::signed_in);
  }
}

TEST_CASE("agents: set_password replaces the hash, lifts a lock-out, ends the sessions") {
  Fixture f;
  f.policy.max_failures = 1;
  const auto t = f.token("wang.fang", kNow);
  REQUIRE(f.sign_in("wang.fang", false, kNow).status == SI::locked);
  const auto before = f.credential("wang.fang", kNow);  // step 1 before the reset

  CHECK(f.agents.set_password("nobody", "a long new password", kOperator, kNow) == R::unknown);
  CHECK(f.agents.set_password("wang.fang", "short", kOperator, kNow) == R::weak_password);
  REQUIRE(f.agents.set_password("wang.fang", "a long new password", kOperator, kNow) == R::ok);
  CHECK(!f.session(t, kNow));
  const auto c = f.credential("wang.fang", kNow);
  CHECK(!c.locked_until);
  CHECK(password_matches("a long new password", c.hash));
  CHECK(f.text("SELECT detail FROM events WHERE kind = 'agent_password_set'") ==
        "agent wang.fang: password set, lock-out lifted, 1 session(s) ended");
  CHECK(f.value("SELECT COUNT(*) FROM events WHERE detail LIKE '%a long new%'") == 0);
  // The old password, checked in step 2 against the old hash, signs no one in.
  Agents::Credential stale = before;
  stale.locked_until.reset();
  f.policy.max_failures = 5;
  CHECK(f.agents.finish_sign_in(stale, true, kAddress, f.policy, kNow).status == SI::wrong);
}

TEST_CASE("agents: the language is the session's, and the next session's") {
  Fixture f;
  const auto t = f.token("wang.fang", kNow);
  CHECK(!f.agents.set_language(t, "fr"));
  CHECK(!f.agents.set_language("no such token", "zh"));
  REQUIRE(f.agents.set_language(t, "zh"));
  CHECK(f.session(t, kNow)->language == "zh");
  const auto next = f.sign_in("wang.fang", true, kNow + 5min);
  REQUIRE(next.status == SI::signed_in);
  CHECK(next.session.language == "zh");
  CHECK(f.sign_in("zhao.lei", true, kNow).session.language == "en");
}

TEST_CASE("agents: prune deletes the sessions past their idle or absolute end") {
  Fixture f;
  f.policy.idle = 30min;
  f.policy.absolute = 2h;
  const auto idle = f.token("wang.fang", kNow);
  const auto old = f.token("zhao.lei", kNow - 90min);
  const auto live = f.token("zhao.lei", kNow);
  for (auto at : {kNow - 65min, kNow - 40min, kNow - 15min, kNow + 10min})
    REQUIRE(f.session(old, at));
  REQUIRE(f.session(live, kNow + 25min));
  // At kNow + 31 min: `idle` was last seen 31 minutes ago, `old` began
  // 2 h 1 min ago, `live` was seen 6 minutes ago.
  const auto gone = f.agents.prune(f.policy, kNow + 31min);
  REQUIRE(gone);
  CHECK(*gone == 2);
  CHECK(f.value("SELECT COUNT(*) FROM console_sessions") == 1);
  CHECK(f.session(live, kNow + 31min));
  CHECK(f.agents.prune(f.policy, kNow + 31min) == 0);
}

TEST_CASE("agents: supervisors alone reinstate and correct points") {
  for (DeskAction a : {DeskAction::look, DeskAction::resend, DeskAction::void_voucher,
                       DeskAction::redeem, DeskAction::complaint}) {
    CHECK(may(AgentRole::agent, a));
    CHECK(may(AgentRole::supervisor, a));
  }
  for (DeskAction a : {DeskAction::reinstate, DeskAction::correct_points}) {
    CHECK(!may(AgentRole::agent, a));
    CHECK(may(AgentRole::supervisor, a));
  }
  CHECK(parse_agent_role("supervisor") == AgentRole::supervisor);
  CHECK(parse_agent_role("agent") == AgentRole::agent);
  CHECK(!parse_agent_role("admin"));
  CHECK(to_string(AgentRole::supervisor) == "supervisor");
}

TEST_CASE("agents: a database failure is answered as failed, never as a wrong answer") {
  Fixture f;
  const auto t = f.token("wang.fang", kNow);

  // Each statement of a sign-in failing in turn: never wrong, never a
  // session without its row, never a count lost silently.
  for (bool right : {true, false}) {
    for (int n = 0;; ++n) {
      CAPTURE(n);
      CAPTURE(right);
      const auto c = f.credential("zhao.lei", kNow);
      f.db->fail_statement_after(n, 5 /* SQLITE_BUSY */);
      const auto s = f.agents.finish_sign_in(c, right, kAddress, f.policy, kNow);
      if (!f.db->statement_failure_spent()) {
        f.db->fail_statement_after(-1, 0);
        CHECK(s.status == (right ? SI::signed_in : SI::wrong));
        break;
      }
      CHECK(s.status == SI::failed);
      CHECK(s.token.empty());
    }
  }
  // One wrong password counted, however many failed before it.
  CHECK(f.value("SELECT failures FROM agents WHERE name = 'zhao.lei'") == 1);
  CHECK(f.value("SELECT COUNT(*) FROM console_sessions s JOIN agents a ON a.id = s.agent_id "
                "WHERE a.name = 'zhao.lei'") == 1);

  db::Status status;
  f.db->fail_statement_after(0, 5);
  CHECK(!f.agents.credential("zhao.lei", kNow, &status));
  CHECK(status.busy());

  f.db->fail_statement_after(0, 5);
  CHECK(!f.agents.session(t, f.policy, kNow, &status));
  CHECK(status.busy());
  // The last-seen write failing is a failure too, not a signed-out agent.
  f.db->fail_statement_after(1, 5);
  CHECK(!f.agents.session(t, f.policy, kNow + 5min, &status));
  CHECK(status.busy());
  CHECK(f.agents.session(t, f.policy, kNow + 5min, &status));
  CHECK(status.ok());

  std::string error;
  f.db->fail_statement_after(0, 5);
  CHECK(!f.agents.list(&error));
  CHECK(!error.empty());
  f.db->fail_statement_after(0, 5);
  CHECK(!f.agents.prune(f.policy, kNow));
  f.db->fail_statement_after(0, 5);
  CHECK(f.agents.set_disabled("wang.fang", true, "why", kOperator, kNow) == R::failed);
  f.db->fail_statement_after(2, 5);
  CHECK(f.agents.set_disabled("wang.fang", true, "why", kOperator, kNow) == R::failed);
  CHECK(f.value("SELECT disabled FROM agents WHERE name = 'wang.fang'") == 0);
  CHECK(f.session(t, kNow + 5min));
}
