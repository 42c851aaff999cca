// The console's frame (console.cpp): sign-in in two steps with the
// pre-session token, the session cookie, CSRF on every change, sign-out,
// the language switch, and what pages answer without a session. Pages are
// called through Console::handle as giftgated calls them.
#include <doctest/doctest.h>

#include <regex>

#include "daemon/campaign/agents.hpp"
#include "daemon/console/console.hpp"
#include "daemon/http/form.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

const std::string kPassword = "correct horse battery";

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("c.db"));
  Config config = test::campaign_config();
  std::shared_ptr<const Templates> templates = test::shipped_templates();
  Service service{*db, config, templates};
  Outbox outbox{*db, ResendPolicy{3, 60s, 600s}};
  std::shared_ptr<log::MemorySink> sink = std::make_shared<log::MemorySink>();
  console::Console console{{*db, config, service, outbox, log::Logger(sink, log::Level::debug)}};
  Time now = config.campaign.start + 24h;

  Fixture() {
    Agents agents(*db);
    REQUIRE(agents.add("alice", AgentRole::agent, kPassword, {"giftctl", "t"}, now) ==
            Agents::Result::ok);
  }

  http::Response get(const std::string& target, const std::string& cookies = {}) {
    return answer(request("GET", target, {}, cookies));
  }
  http::Response post(const std::string& target, const std::string& body, const std::string& cookies) {
    return answer(request("POST", target, body, cookies));
  }
  static http::Request request(std::string method, std::string target, std::string body,
                               const std::string& cookies) {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.client_address = "127.0.0.1";
    if (!cookies.empty()) r.headers.emplace_back("cookie", cookies);
    return r;
  }
  // An answer, running a sign-in's password check as giftgated would.
  http::Response answer(const http::Request& r) {
    auto a = console.handle(r, now);
    if (auto* response = std::get_if<http::Response>(&a)) return *response;
    const auto& check = std::get<console::PasswordCheck>(a);
    return console.finish_sign_in(r, check, password_matches(check.password, check.credential.hash), now);
  }

  // Signs in; the session cookie ("gg_session=...").
  std::string sign_in(const std::string& name = "alice", const std::string& password = kPassword) {
    const auto form = get("/console/login");
    const auto login = cookie_of(form, "gg_login");
    REQUIRE_FALSE(login.empty());
    const auto r = post("/console/login",
                        "csrf=" + login + "&name=" + name + "&password=" + http::percent_encode(password),
                        "gg_login=" + login);
    REQUIRE(r.status == 303);
    return "gg_session=" + cookie_of(r, "gg_session");
  }

  static std::string header(const http::Response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers)
      if (n == name) return v;
    return {};
  }
  static std::string cookie_of(const http::Response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers)
      if (n == "Set-Cookie" && v.starts_with(std::string(name) + "="))
        return v.substr(name.size() + 1, v.find(';') - name.size() - 1);
    return {};
  }
  static std::string csrf_in(const http::Response& r) {
    std::smatch m;
    static const std::regex field(R"re(name="csrf" value="([^"]+)")re");
    REQUIRE(std::regex_search(r.body, m, field));
    return m[1];
  }
};

}  // namespace

TEST_CASE("console: signing in sets an HttpOnly Secure SameSite=Strict session cookie") {
  Fixture f;
  const auto form = f.get("/console/login");
  CHECK(form.status == 200);
  CHECK(form.body.find("id=\"sign-in\"") != std::string::npos);
  const auto login = Fixture::cookie_of(form, "gg_login");
  const auto r = f.post("/console/login",
                        "csrf=" + login + "&name=alice&password=" + http::percent_encode(kPassword),
                        "gg_login=" + login);
  REQUIRE(r.status == 303);
  CHECK(Fixture::header(r, "Location") == "/console/");
  std::string set;
  for (const auto& [n, v] : r.headers)
    if (n == "Set-Cookie" && v.starts_with("gg_session=")) set = v;
  CHECK(set.find("HttpOnly") != std::string::npos);
  CHECK(set.find("Secure") != std::string::npos);
  CHECK(set.find("SameSite=Strict") != std::string::npos);
  CHECK(set.find("Path=/console") != std::string::npos);
  const auto home = f.get("/console/", "gg_session=" + Fixture::cookie_of(r, "gg_session"));
  CHECK(home.status == 200);
  CHECK(home.body.find("id=\"search\"") != std::string::npos);
  CHECK(home.body.find("alice") != std::string::npos);
  // The password is nowhere in the log.
  CHECK_FALSE(f.sink->contains(kPassword));
}

TEST_CASE("console: a sign-in form without its pre-session token is refused") {
  Fixture f;
  const auto r = f.post("/console/login", "csrf=forged&name=alice&password=x", "gg_login=other");
  CHECK(r.status == 403);
  CHECK(Fixture::cookie_of(r, "gg_session").empty());
  const auto none = f.post("/console/login", "name=alice&password=x", "");
  CHECK(none.status == 403);
}

TEST_CASE("console: a wrong password or unknown name is told the same, and locks after max_failures") {
  Fixture f;
  f.config.console.max_failures = 3;
  const auto form = f.get("/console/login");
  const auto login = Fixture::cookie_of(form, "gg_login");
  const auto try_with = [&](const std::string& name, const std::string& password) {
    return f.post("/console/login", "csrf=" + login + "&name=" + name + "&password=" + password,
                  "gg_login=" + login);
  };
  const auto unknown = try_with("mallory", "whatever12345");
  CHECK(unknown.status == 401);
  for (int i = 0; i < 3; ++i) {
    const auto wrong = try_with("alice", "not-the-password");
    CHECK(wrong.status == 401);
    if (i == 0) CHECK(wrong.body.find("Wrong name or password") != std::string::npos);
  }
  // Now even the right password is refused, while the lock lasts.
  const auto locked = try_with("alice", http::percent_encode(kPassword));
  CHECK(locked.status == 401);
  CHECK(locked.body.find("locked") != std::string::npos);
  CHECK(Fixture::cookie_of(locked, "gg_session").empty());
  f.now += f.config.console.lock + 1min;
  CHECK(try_with("alice", http::percent_encode(kPassword)).status == 303);
}

TEST_CASE("console: without a session a page sends to sign-in and a change is refused") {
  Fixture f;
  const auto page = f.get("/console/");
  CHECK(page.status == 303);
  CHECK(Fixture::header(page, "Location") == "/console/login");
  CHECK(f.get("/console/members/8613800138000").status == 303);
  CHECK(f.get("/console/dashboard", "gg_session=made-up").status == 303);
  CHECK(f.post("/console/vouchers/AE12098768/void", "reason=x&csrf=x", "").status == 401);
  // The style sheet needs none, and loads nothing else.
  const auto css = f.get("/console/static/console.css");
  CHECK(css.status == 200);
  CHECK(css.content_type.starts_with("text/css"));
  CHECK(css.body.find("url(") == std::string::npos);
  CHECK(css.body.find("@import") == std::string::npos);
}

TEST_CASE("console: every change needs the session's CSRF token") {
  Fixture f;
  const auto session = f.sign_in();
  const auto home = f.get("/console/", session);
  const auto csrf = Fixture::csrf_in(home);
  CHECK(f.post("/console/language", "language=zh&back=/console/", session).status == 403);
  CHECK(f.post("/console/language", "language=zh&back=/console/&csrf=wrong" + csrf.substr(5), session)
            .status == 403);
  CHECK(f.get("/console/", session).body.find("lang=\"en\"") != std::string::npos);
  CHECK(f.post("/console/logout", "", session).status == 403);
  CHECK(f.get("/console/", session).status == 200);  // still signed in
}

TEST_CASE("console: the language switch changes the pages and goes back only within the console") {
  Fixture f;
  const auto session = f.sign_in();
  const auto csrf = Fixture::csrf_in(f.get("/console/", session));
  const auto r = f.post("/console/language", "language=zh&back=/console/complaints&csrf=" + csrf, session);
  CHECK(r.status == 303);
  CHECK(Fixture::header(r, "Location") == "/console/complaints");
  const auto home = f.get("/console/", session);
  CHECK(home.body.find("lang=\"zh-CN\"") != std::string::npos);
  CHECK(home.body.find("客服台") != std::string::npos);
  // No open redirect: elsewhere goes home.
  for (const std::string back : {"https://evil.example/", "//evil.example/", "/console/..//evil"}) {
    const auto away = f.post("/console/language",
                             "language=en&back=" + http::percent_encode(back) + "&csrf=" + csrf, session);
    CHECK(away.status == 303);
    CHECK(Fixture::header(away, "Location") == "/console/");
  }
}

TEST_CASE("console: signing out ends the session, and the old cookie is refused") {
  Fixture f;
  const auto session = f.sign_in();
  const auto csrf = Fixture::csrf_in(f.get("/console/", session));
  const auto out = f.post("/console/logout", "csrf=" + csrf, session);
  CHECK(out.status == 303);
  CHECK(Fixture::header(out, "Location") == "/console/login");
  CHECK(f.get("/console/", session).status == 303);
}

TEST_CASE("console: a session ends after idle_minutes without a request") {
  Fixture f;
  const auto session = f.sign_in();
  f.now += f.config.console.idle - 1min;
  CHECK(f.get("/console/", session).status == 200);
  f.now += f.config.console.idle - 1min;  // seen a moment ago: still live
  CHECK(f.get("/console/", session).status == 200);
  f.now += f.config.console.idle + 1min;
  CHECK(f.get("/console/", session).status == 303);
}

TEST_CASE("console: pages carry a Content-Security-Policy that loads nothing from elsewhere") {
  Fixture f;
  const auto session = f.sign_in();
  for (const auto& r : {f.get("/console/login"), f.get("/console/", session)}) {
    const auto csp = Fixture::header(r, "Content-Security-Policy");
    CHECK(csp.find("default-src 'none'") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(Fixture::header(r, "Cache-Control") == "no-store");
    CHECK(r.body.find("<script") == std::string::npos);
    CHECK(r.body.find("http://") == std::string::npos);
    CHECK(r.body.find("https://") == std::string::npos);
  }
  CHECK(f.get("/console/no/such/page", session).status == 404);
}
