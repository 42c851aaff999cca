// The console's defences end to end, with curl as a browser that shows
// everything: giftgated over TLS, agents made with giftctl. No page
// without a session, no change without the session's CSRF token, no
// supervisor's action by an agent, nothing from outside shown as markup,
// the cookie's attributes, the lock-out, sign-out, the pages' CSP. Each
// refusal is checked to have changed nothing, and each is paired with the
// same request done right, so a check that refuses everything fails too.
#include "daemon/campaign/imports.hpp"
#include "tests/e2e/console_gate.hpp"

namespace giftgate::e2e {
namespace {

const std::string kMember = "8613800138000";
const std::string kAgentPassword = "quiet-harbour-41";
const std::string kSupervisorPassword = "amber-lantern-77";

// A console with an agent (wang) and a supervisor (li), running.
struct SecurityGate : ConsoleGate {
  SecurityGate() {
    add_agent("wang", "agent", kAgentPassword);
    add_agent("li", "supervisor", kSupervisorPassword);
    start();
    wait_console();
  }
  std::string voucher_state(const std::string& code) {
    for (const char* state : {"issued", "used", "void", "expired"})
      if (value(fmt::format("SELECT COUNT(*) FROM vouchers WHERE code = '{}' AND state = '{}'", code,
                            state)) == 1)
        return state;
    return "?";
  }
  std::int64_t balance(const std::string& msisdn) {
    return value("SELECT COALESCE(SUM(l.delta), 0) FROM ledger l JOIN members m ON m.id = l.member_id "
                 "WHERE m.msisdn = '" + msisdn + "'");
  }
  std::int64_t events(const std::string& kind) {
    return value("SELECT COUNT(*) FROM events WHERE kind = '" + kind + "'");
  }
  // The voucher used at a merchant's terminal (API key `till`).
  void use(const std::string& till, const std::string& code) {
    const auto a = call(till, "POST", "/v1/verifications", json{{"code", code}}.dump());
    INFO(a.body);
    REQUIRE(a.status == 200);
  }
};

}  // namespace

TEST_CASE("console: no page and no change without a session") {
  SecurityGate g;
  const std::string code = g.voucher(kMember);
  const std::vector<std::string> pages{"/console/", "/console/members/" + kMember,
                                       "/console/vouchers/" + code, "/console/complaints",
                                       "/console/dashboard"};
  for (const auto& path : pages) {
    CAPTURE(path);
    const auto a = g.get(path);
    CHECK(a.status == 303);
    CHECK(a.header("location") == "/console/login");
    CHECK(!contains(a.body, kMember));
    // A made-up session is no session; its cookie is cleared.
    const auto forged = g.get(path, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    CHECK(forged.status == 303);
    CHECK(forged.header("location") == "/console/login");
    CHECK(contains(forged.set_cookie("gg_session"), "Max-Age=0"));
  }
  // A change without a session: refused, nothing done.
  const auto a = g.post("/console/vouchers/" + code + "/void",
                        {{"csrf", "x"}, {"reason", "asked"}, {"refund", "1"}}, std::string());
  CHECK(a.status == 401);
  CHECK(g.voucher_state(code) == "issued");
  CHECK(g.events("voucher_voided") == 0);
  // The style sheet and the sign-in page need none.
  CHECK(g.get("/console/static/console.css").status == 200);
  CHECK(g.get("/console/login").status == 200);
  // The same page with a session.
  const auto s = g.sign_in("wang", kAgentPassword);
  const auto page = g.get("/console/members/" + kMember, s.cookie);
  CHECK(page.status == 200);
  CHECK(contains(page.body, "id=\"balance-points\""));
}

TEST_CASE("console: no change without the session's CSRF token") {
  SecurityGate g;
  const std::string code = g.voucher(kMember);
  const auto before = g.balance(kMember);
  const auto s = g.sign_in("wang", kAgentPassword);
  const std::string path = "/console/vouchers/" + code + "/void";
  // No token, a wrong one, another session's token.
  const auto other = g.sign_in("li", kSupervisorPassword);
  REQUIRE(other.csrf != s.csrf);
  for (const auto& csrf : {std::string(), std::string("not-the-token"), other.csrf}) {
    CAPTURE(csrf);
    std::vector<std::pair<std::string, std::string>> form{{"reason", "caller asked"}, {"refund", "1"}};
    if (!csrf.empty()) form.emplace_back("csrf", csrf);
    const auto a = g.post(path, form, s);
    CHECK(a.status == 403);
    CHECK(contains(a.body, "id=\"error\""));
  }
  CHECK(g.voucher_state(code) == "issued");
  CHECK(g.balance(kMember) == before);
  CHECK(g.events("voucher_voided") == 0);
  // The language switch and sign-out are changes too.
  CHECK(g.post("/console/language", {{"language", "zh"}, {"back", "/console/"}}, s).status == 403);
  CHECK(g.post("/console/logout", {}, s).status == 403);
  CHECK(g.get("/console/", s.cookie).status == 200);  // still signed in
  // The sign-in form needs its own token: a form posted from elsewhere is refused.
  const auto login = g.post("/console/login", {{"name", "wang"}, {"password", kAgentPassword}}, "");
  CHECK(login.status == 403);
  CHECK(login.cookie_value("gg_session").empty());

  // With the token the same void is done, by the agent, with their reason.
  const auto done = g.post(path, {{"csrf", s.csrf}, {"reason", "caller asked"}, {"refund", "1"}}, s);
  INFO(done.body);
  CHECK(done.status == 303);
  CHECK(g.voucher_state(code) == "void");
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE kind = 'voucher_voided' AND actor = 'wang' "
                "AND channel = 'console' AND voucher_code = '" + code + "'") == 1);
  CHECK(g.balance(kMember) > before);  // refunded
}

TEST_CASE("console: an agent cannot reinstate or correct points, a supervisor can") {
  SecurityGate g;
  const std::string code = g.voucher(kMember);
  g.use("till-1", code);
  REQUIRE(g.voucher_state(code) == "used");
  const auto before = g.balance(kMember);
  const std::string reinstate = "/console/vouchers/" + code + "/reinstate";
  const std::string points = "/console/members/" + kMember + "/points";

  const auto agent = g.sign_in("wang", kAgentPassword);
  // The agent is not even offered the forms.
  CHECK(!contains(g.get("/console/vouchers/" + code, agent.cookie).body, "id=\"reinstate\""));
  CHECK(!contains(g.get("/console/members/" + kMember, agent.cookie).body, "id=\"correct-points\""));
  auto a = g.post(reinstate, {{"csrf", agent.csrf}, {"reason", "terminal misread"}}, agent);
  CHECK(a.status == 403);
  a = g.post(points, {{"csrf", agent.csrf}, {"delta", "500"}, {"reason", "goodwill"}}, agent);
  CHECK(a.status == 403);
  CHECK(g.voucher_state(code) == "used");
  CHECK(g.balance(kMember) == before);
  CHECK(g.events("voucher_reinstated") == 0);

  const auto supervisor = g.sign_in("li", kSupervisorPassword);
  CHECK(contains(g.get("/console/vouchers/" + code, supervisor.cookie).body, "id=\"reinstate\""));
  CHECK(contains(g.get("/console/members/" + kMember, supervisor.cookie).body, "id=\"correct-points\""));
  a = g.post(reinstate, {{"csrf", supervisor.csrf}, {"reason", "terminal misread"}}, supervisor);
  INFO(a.body);
  CHECK(a.status == 303);
  CHECK(g.voucher_state(code) == "issued");
  a = g.post(points, {{"csrf", supervisor.csrf}, {"delta", "500"}, {"reason", "goodwill"}}, supervisor);
  INFO(a.body);
  CHECK(a.status == 303);
  CHECK(g.balance(kMember) == before + 500);
}

TEST_CASE("console: a merchant's name, an SMS and a note with HTML in them show as text") {
  SecurityGate g;
  const std::string evil = "<b>Evil</b><script>x</script>";
  const std::string escaped = "&lt;b&gt;Evil&lt;/b&gt;&lt;script&gt;x&lt;/script&gt;";
  {
    auto db = test::open_campaign_db(g.db_path);
    std::string error;
    const auto config = find_config(g.config_path, &error);
    REQUIRE(config);
    Importer importer(*db, *config, {"import", "e2e"});
    const auto r = importer.merchants("id,name,city,kind,level,phones,offer_a,offer_b\n"
                                      "bj-9," + evil + ",beijing,ktv,high,13911111119,5 hours,2 hours\n",
                                      "evil.csv");
    REQUIRE(r.status == ImportResult::Status::ok);
    const auto made = ApiKeys(*db).create("till-9", ApiRole::merchant, "bj-9", {"giftctl", "e2e"}, kNow);
    REQUIRE(made.status == ApiKeys::Created::Status::created);
    g.keys["till-9"] = made.secret;
  }
  const std::string code = g.voucher(kMember);
  g.use("till-9", code);
  // The member texts HTML; the gateway answers as to any text it does not know.
  const std::string text = "<i>hi</i><script>alert(1)</script>";
  g.mo(kMember, text);
  REQUIRE(g.wait_value("SELECT COUNT(*) FROM inbox WHERE body LIKE '%<script>alert(1)%'", 1, 10s));

  const auto s = g.sign_in("wang", kAgentPassword);
  const auto voucher = g.get("/console/vouchers/" + code, s.cookie);
  REQUIRE(voucher.status == 200);
  CHECK(contains(voucher.body, escaped));
  CHECK(!contains(voucher.body, evil));
  CHECK(!contains(voucher.body, "<script"));
  const auto member = g.get("/console/members/" + kMember, s.cookie);
  REQUIRE(member.status == 200);
  CHECK(contains(member.body, "&lt;i&gt;hi&lt;/i&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK(!contains(member.body, "<script"));
  CHECK(!contains(member.body, "<i>hi"));
  const auto dashboard = g.get("/console/dashboard", s.cookie);
  REQUIRE(dashboard.status == 200);
  CHECK(!contains(dashboard.body, "<script"));
  CHECK(!contains(dashboard.body, evil));

  // What an agent types, too: a complaint and its note.
  const auto opened = g.post("/console/complaints",
                             {{"csrf", s.csrf}, {"msisdn", kMember}, {"voucher", code}, {"category", "merchant"},
                              {"text", "said \"<img src=x onerror=y>\""}},
                             s);
  INFO(opened.body);
  REQUIRE(opened.status == 303);
  const std::string complaint = opened.header("location");
  REQUIRE(complaint.starts_with("/console/complaints/"));
  CHECK(g.post(complaint + "/notes", {{"csrf", s.csrf}, {"text", "<a href=//x>call back</a>"}}, s).status ==
        303);
  const auto page = g.get(complaint, s.cookie);
  REQUIRE(page.status == 200);
  CHECK(contains(page.body, "&lt;img src=x onerror=y&gt;"));
  CHECK(contains(page.body, "&lt;a href=//x&gt;call back&lt;/a&gt;"));
  CHECK(!contains(page.body, "<img"));
  CHECK(!contains(page.body, "<a href=//x"));
}

TEST_CASE("console: the session cookie is HttpOnly, Secure and SameSite=Strict, and pages carry a CSP") {
  SecurityGate g;
  const auto form = g.get("/console/login");
  for (const auto& cookie : {form.set_cookie("gg_login")}) {
    CAPTURE(cookie);
    CHECK(contains(cookie, "HttpOnly"));
    CHECK(contains(cookie, "Secure"));
    CHECK(contains(cookie, "SameSite=Strict"));
  }
  const auto a = g.try_sign_in("wang", kAgentPassword);
  REQUIRE(a.status == 303);
  const auto cookie = a.set_cookie("gg_session");
  CAPTURE(cookie);
  CHECK(contains(cookie, "HttpOnly"));
  CHECK(contains(cookie, "Secure"));
  CHECK(contains(cookie, "SameSite=Strict"));
  CHECK(contains(cookie, "Path=/console"));
  // Every page, the sign-in page too: nothing from elsewhere, no script.
  const std::string session = a.cookie_value("gg_session");
  const std::vector<std::string> pages{"/console/login", "/console/",
                                       "/console/members/" + kMember, "/console/dashboard",
                                       "/console/complaints", "/console/nothing"};
  for (const auto& path : pages) {
    CAPTURE(path);
    const auto page = g.get(path, session);
    const auto csp = page.header("content-security-policy");
    CHECK(contains(csp, "default-src 'none'"));
    CHECK(!contains(csp, "unsafe-inline"));
    CHECK(!contains(csp, "script-src"));  // none: default-src 'none' forbids every script
    CHECK(contains(csp, "frame-ancestors 'none'"));
    CHECK(!contains(page.body, "<script"));
  }
}

TEST_CASE("console: five wrong passwords lock the account, even against the right one") {
  SecurityGate g;
  // The right password works at first, and a right one resets the count.
  g.sign_in("wang", kAgentPassword);
  for (int i = 0; i < 4; ++i) CHECK(g.try_sign_in("wang", "wrong-password-" + std::to_string(i)).status == 401);
  g.sign_in("wang", kAgentPassword);
  for (int i = 0; i < 5; ++i) {
    const auto a = g.try_sign_in("wang", "wrong-password-" + std::to_string(i));
    CHECK(a.status == 401);
    CHECK(a.cookie_value("gg_session").empty());
  }
  const auto locked = g.try_sign_in("wang", kAgentPassword);
  CHECK(locked.status == 401);
  CHECK(locked.cookie_value("gg_session").empty());
  CHECK(contains(locked.body, "locked"));
  CHECK(g.value("SELECT COUNT(*) FROM agents WHERE name = 'wang' AND locked_until IS NOT NULL") == 1);
  // Another agent is not locked with them.
  g.sign_in("li", kSupervisorPassword);
}

TEST_CASE("console: sign-out ends the session, and its old cookie opens nothing") {
  SecurityGate g;
  const std::string code = g.voucher(kMember);
  const auto s = g.sign_in("wang", kAgentPassword);
  REQUIRE(g.get("/console/members/" + kMember, s.cookie).status == 200);
  const auto out = g.post("/console/logout", {{"csrf", s.csrf}}, s);
  CHECK(out.status == 303);
  CHECK(out.header("location") == "/console/login");
  CHECK(contains(out.set_cookie("gg_session"), "Max-Age=0"));
  // The browser would drop the cookie; one that kept it gets nothing.
  const auto page = g.get("/console/members/" + kMember, s.cookie);
  CHECK(page.status == 303);
  CHECK(page.header("location") == "/console/login");
  const auto a = g.post("/console/vouchers/" + code + "/void",
                        {{"csrf", s.csrf}, {"reason", "after sign-out"}, {"refund", "1"}}, s);
  CHECK(a.status == 401);
  CHECK(g.voucher_state(code) == "issued");
}

}  // namespace giftgate::e2e
