// The console's desk pages (desk_pages.cpp), called directly as the frame
// would after its session, CSRF and may() checks: search by spoken-style
// numbers and codes, the member and voucher pages, the actions, escaping,
// the agent's language, and a database failure.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include "daemon/console/console.hpp"
#include "daemon/campaign/voucher_code.hpp"
#include "daemon/console/html.hpp"
#include "protocol/log.hpp"
#include "tests/support/desk_campaign.hpp"

using namespace giftgate;
using giftgate::test::kDeskEn;
using giftgate::test::kDeskZh;

namespace {

// A well-formed code (its check digit right) that no voucher has.
std::string unknown_code() {
  return std::string("AE1234567") + *giftgate::voucher_check_digit("AE1234567");
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

std::string location(const http::Response& r) {
  for (const auto& [name, value] : r.headers)
    if (name == "Location") return value;
  return {};
}

struct ConsoleDesk : test::DeskCampaign {
  std::shared_ptr<log::MemorySink> sink = std::make_shared<log::MemorySink>();
  console::Context context{*db, config, service, outbox, log::Logger(sink, log::Level::debug)};
  http::Request request;
  std::vector<console::Route> routes = console::desk_routes();
  AgentRole role = AgentRole::agent;
  console::Language language = console::Language::en;

  // Runs the route `method` `pattern` with its parameters, query and form.
  http::Response call(const std::string& method, const std::string& pattern,
                      std::map<std::string, std::string> params,
                      std::map<std::string, std::string> query = {},
                      std::map<std::string, std::string> form = {}) {
    const auto route = std::find_if(routes.begin(), routes.end(), [&](const console::Route& r) {
      return r.method == method && r.path == pattern;
    });
    REQUIRE_MESSAGE(route != routes.end(), method << " " << pattern);
    // What the frame checks before a handler runs.
    REQUIRE(may(role, route->action));
    request.method = method;
    console::Page page{request, pattern, {}, {}, {}, {}};
    page.params = std::move(params);
    page.query = std::move(query);
    page.form = std::move(form);
    page.session = {1, "alice", role, "csrf-token", language == console::Language::zh ? "zh" : "en"};
    page.language = language;
    page.now = now;
    page.actor = {"console", "alice"};
    return route->handler(context, page);
  }
  http::Response search(const std::string& q) { return call("GET", "/console/search", {}, {{"q", q}}); }
  http::Response member(const std::string& msisdn = kDeskZh,
                        std::map<std::string, std::string> query = {}) {
    return call("GET", "/console/members/{msisdn}", {{"msisdn", msisdn}}, std::move(query));
  }
  http::Response voucher_page(const std::string& code,
                              std::map<std::string, std::string> query = {}) {
    return call("GET", "/console/vouchers/{code}", {{"code", code}}, std::move(query));
  }
  http::Response on_voucher(const std::string& action, const std::string& code,
                            std::map<std::string, std::string> form) {
    form["csrf"] = "csrf-token";
    return call("POST", "/console/vouchers/{code}/" + action, {{"code", code}}, {}, std::move(form));
  }
  http::Response on_member(const std::string& action, const std::string& msisdn,
                           std::map<std::string, std::string> form) {
    form["csrf"] = "csrf-token";
    return call("POST", "/console/members/{msisdn}/" + action, {{"msisdn", msisdn}}, {},
                std::move(form));
  }
};

// A code with its check digit changed: one character misheard.
std::string misheard(std::string code) {
  code[9] = code[9] == '9' ? '0' : static_cast<char>(code[9] + 1);
  return code;
}

// The value of the hidden field `name` in `html`.
std::string hidden(const std::string& html, const std::string& name) {
  const auto at = html.find("name=\"" + name + "\" value=\"");
  if (at == std::string::npos) return {};
  const auto start = at + name.size() + 15;
  return html.substr(start, html.find('"', start) - start);
}

}  // namespace

TEST_CASE("console desk: the routes are the contract's, each with its action") {
  const auto routes = console::desk_routes();
  const std::vector<std::tuple<std::string, std::string, DeskAction>> expected = {
      {"GET", "/console/search", DeskAction::look},
      {"GET", "/console/members/{msisdn}", DeskAction::look},
      {"GET", "/console/vouchers/{code}", DeskAction::look},
      {"POST", "/console/vouchers/{code}/resend", DeskAction::resend},
      {"POST", "/console/vouchers/{code}/void", DeskAction::void_voucher},
      {"POST", "/console/vouchers/{code}/reinstate", DeskAction::reinstate},
      {"POST", "/console/members/{msisdn}/redeem", DeskAction::redeem},
      {"POST", "/console/members/{msisdn}/points", DeskAction::correct_points},
  };
  REQUIRE(routes.size() == expected.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    CAPTURE(i);
    CHECK(routes[i].method == std::get<0>(expected[i]));
    CHECK(routes[i].path == std::get<1>(expected[i]));
    CHECK(routes[i].action == std::get<2>(expected[i]));
    CHECK(routes[i].handler);
  }
}

TEST_CASE("console desk: search by a number as a caller reads it out") {
  ConsoleDesk f;
  for (const std::string spoken :
       {"+86 138 0013 8000", "138-0013-8000", "13800138000", "\xEF\xBC\x91\xEF\xBC\x93\xEF\xBC\x98"
                                                              "\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x91"
                                                              "\xEF\xBC\x93\xEF\xBC\x98\xEF\xBC\x90"
                                                              "\xEF\xBC\x90\xEF\xBC\x90",
        "  +86 (138) 0013.8000 "}) {
    CAPTURE(spoken);
    const auto r = f.search(spoken);
    CHECK(r.status == 303);
    CHECK(location(r) == "/console/members/8613800138000");
  }
  auto r = f.search("13812345678");  // a number, no member
  CHECK(r.status == 404);
  CHECK(contains(r.body, "id=\"not-found\""));
  r = f.search("hello <b>");
  CHECK(r.status == 404);
  CHECK(contains(r.body, "id=\"not-found\""));
  CHECK_FALSE(contains(r.body, "<b>"));
  r = f.search("");
  CHECK(r.status == 200);
  CHECK(contains(r.body, "id=\"search\""));
}

TEST_CASE("console desk: search by code, a typo caught by the check digit said so") {
  ConsoleDesk f;
  const auto code = f.voucher();
  auto r = f.search(code);
  CHECK(r.status == 303);
  CHECK(location(r) == "/console/vouchers/" + code);
  // As read out: lower case, spaced.
  std::string spoken = code.substr(0, 2) + " " + code.substr(2, 4) + " " + code.substr(6);
  std::transform(spoken.begin(), spoken.end(), spoken.begin(), ::tolower);
  r = f.search(spoken);
  CHECK(r.status == 303);
  CHECK(location(r) == "/console/vouchers/" + code);

  r = f.search(misheard(code));
  CHECK(r.status == 200);
  CHECK(contains(r.body, "<p class=\"error\" id=\"check-digit\">The check digit does not match: a "
                         "character was probably misheard; ask the member to read the code again."));
  f.language = console::Language::zh;
  r = f.search(misheard(code));
  CHECK(contains(r.body, "id=\"check-digit\">校验位不符"));
  f.language = console::Language::en;

  r = f.search(unknown_code());  // a good code no voucher has
  CHECK(r.status == 404);
  CHECK(contains(r.body, "id=\"not-found\""));
}

TEST_CASE("console desk: the member page has every section, the balance and escaped texts") {
  ConsoleDesk f;
  const auto code = f.voucher();
  f.text_from(kDeskZh, "<script>alert(1)</script>");
  const auto balance = f.balance(kDeskZh);
  const auto r = f.member();
  REQUIRE(r.status == 200);
  for (const char* id : {"<section id=\"balance\">", "<section id=\"vouchers\">",
                         "<section id=\"ledger\">", "<section id=\"messages\">",
                         "<section id=\"texts\">", "<section id=\"ussd\">",
                         "<section id=\"pushes\">", "<section id=\"complaints\">",
                         "id=\"vouchers-table\"", "id=\"parts-table\"", "<form method=\"post\" "
                         "action=\"/console/members/8613800138000/redeem\" id=\"redeem\""}) {
    CAPTURE(id);
    CHECK(contains(r.body, id));
  }
  CHECK(contains(r.body, "<span id=\"balance-points\">" + std::to_string(balance) + "</span>"));
  CHECK(contains(r.body, "<a href=\"/console/vouchers/" + code + "\">" + code + "</a>"));
  // The member's text shows as text, never as markup.
  CHECK(contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_FALSE(contains(r.body, "<script"));
  // The redeem form's request: random, 16 characters or more, new each time.
  const auto request = hidden(r.body, "request");
  CHECK(request.size() >= 16);
  CHECK(hidden(f.member().body, "request") != request);
  CHECK(contains(r.body, "name=\"csrf\" value=\"csrf-token\""));
  // Points corrections: supervisors only.
  CHECK_FALSE(contains(r.body, "id=\"correct-points\""));
  f.role = AgentRole::supervisor;
  CHECK(contains(f.member().body, "id=\"correct-points\""));

  // Any spoken form of the number in the path is sent to the one page.
  const auto other = f.member("+86 138-0013-8000");
  CHECK(other.status == 303);
  CHECK(location(other) == "/console/members/8613800138000");
  CHECK(f.member("8613000000000").status == 404);
  CHECK(contains(f.member("not a number").body, "id=\"not-found\""));
}

TEST_CASE("console desk: the voucher page shows its timeline and a merchant's name as text") {
  ConsoleDesk f;
  const auto code = f.voucher();
  f.use(code);
  const auto r = f.voucher_page(code);
  REQUIRE(r.status == 200);
  for (const char* id : {"<section id=\"facts\">", "<section id=\"timeline\">",
                         "id=\"timeline-table\"", "id=\"resend\"", "id=\"void\"",
                         "name=\"refund\" value=\"1\" checked"}) {
    CAPTURE(id);
    CHECK(contains(r.body, id));
  }
  // Issue to use, where and by which terminal.
  CHECK(contains(r.body, "voucher_issued"));
  CHECK(contains(r.body, "voucher_used"));
  CHECK(contains(r.body, "till-1"));
  CHECK(contains(r.body, "merchant bj-1"));
  CHECK(contains(r.body, "&lt;b&gt;Star&lt;/b&gt; KTV &amp; Bar"));
  CHECK_FALSE(contains(r.body, "<b>Star"));
  CHECK(contains(r.body, "<a href=\"/console/members/8613800138000\">"));
  // Reinstate: supervisors only.
  CHECK_FALSE(contains(r.body, "id=\"reinstate\""));
  f.role = AgentRole::supervisor;
  CHECK(contains(f.voucher_page(code).body, "id=\"reinstate\""));

  auto typo = f.voucher_page(misheard(code));
  CHECK(contains(typo.body, "id=\"check-digit\""));
  CHECK(f.voucher_page(unknown_code()).status == 404);
  // A code as typed goes to the canonical page.
  std::string lower = code;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  CHECK(location(f.voucher_page(lower)) == "/console/vouchers/" + code);
}

TEST_CASE("console desk: void with a reason voids and refunds, without one nothing changes") {
  ConsoleDesk f;
  const auto before = f.balance(kDeskZh);
  const auto code = f.voucher();
  REQUIRE(f.balance(kDeskZh) < before);

  auto r = f.on_voucher("void", code, {{"refund", "1"}});
  CHECK(r.status == 400);
  CHECK(contains(r.body, "id=\"error\""));
  r = f.on_voucher("void", code, {{"refund", "1"}, {"reason", ""}});
  CHECK(r.status == 400);
  CHECK(f.state(code) == "issued");
  CHECK(f.balance(kDeskZh) < before);

  r = f.on_voucher("void", code, {{"refund", "1"}, {"reason", "member <i>asked</i>"}});
  CHECK(r.status == 303);
  CHECK(location(r) == "/console/vouchers/" + code + "?done=voided-refunded");
  CHECK(f.state(code) == "void");
  CHECK(f.balance(kDeskZh) == before);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'voucher_voided' AND channel = "
                "'console' AND actor = 'alice'") == 1);
  // The result, said on the page it comes back to; the reason escaped there.
  const auto page = f.voucher_page(code, {{"done", "voided-refunded"}});
  CHECK(contains(page.body, "<p class=\"done\" id=\"done\">The voucher is voided and its points given back.</p>"));
  CHECK(contains(page.body, "member &lt;i&gt;asked&lt;/i&gt;"));
  CHECK_FALSE(contains(page.body, "<i>asked"));

  // Again: the wrong state, said; an unknown code: not found.
  r = f.on_voucher("void", code, {{"refund", "1"}, {"reason", "again"}});
  CHECK(r.status == 409);
  CHECK(contains(r.body, "id=\"error\""));
  CHECK(f.on_voucher("void", unknown_code(), {{"reason", "x"}}).status == 404);
  CHECK(f.balance(kDeskZh) == before);

  // Unticked, the refund is not sent: voided without the points.
  const auto kept = f.voucher();
  const auto after = f.balance(kDeskZh);
  r = f.on_voucher("void", kept, {{"reason", "fraud"}});
  CHECK(location(r) == "/console/vouchers/" + kept + "?done=voided");
  CHECK(f.balance(kDeskZh) == after);
}

TEST_CASE("console desk: resend and reinstate, with their refusals") {
  ConsoleDesk f;
  const auto code = f.voucher();
  auto r = f.on_voucher("resend", code, {});
  CHECK(r.status == 400);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_resend'") == 0);
  r = f.on_voucher("resend", code, {{"reason", "lost the SMS"}});
  CHECK(r.status == 303);
  CHECK(location(r) == "/console/vouchers/" + code + "?done=resent");
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_resend' AND actor = 'alice'") == 1);

  f.role = AgentRole::supervisor;
  r = f.on_voucher("reinstate", code, {{"reason", "x"}});
  CHECK(r.status == 409);  // not used
  f.use(code);
  r = f.on_voucher("reinstate", code, {{"reason", "till error"}});
  CHECK(r.status == 303);
  CHECK(location(r) == "/console/vouchers/" + code + "?done=reinstated");
  CHECK(f.state(code) == "issued");
  CHECK(f.on_voucher("resend", misheard(code), {{"reason", "x"}}).status == 200);  // check digit said
}

TEST_CASE("console desk: redeem on the member's behalf, once per form") {
  ConsoleDesk f;
  const auto request = hidden(f.member().body, "request");
  REQUIRE(request.size() >= 16);
  const auto before = f.balance(kDeskZh);
  auto r = f.on_member("redeem", kDeskZh, {{"tier", "A"}, {"request", request}});
  CHECK(r.status == 400);  // no reason
  r = f.on_member("redeem", kDeskZh, {{"tier", "A"}, {"reason", "x"}});
  CHECK(r.status == 400);  // no request
  CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 0);

  const std::map<std::string, std::string> form = {
      {"tier", "A"}, {"reason", "SMS channel down"}, {"request", std::string(request)}};
  r = f.on_member("redeem", kDeskZh, form);
  CHECK(r.status == 303);
  CHECK(location(r) == "/console/members/8613800138000?done=redeemed");
  // Sent twice (a double click, a reload): one voucher.
  CHECK(f.on_member("redeem", kDeskZh, form).status == 303);
  CHECK(f.count("SELECT COUNT(*) FROM vouchers") == 1);
  CHECK(f.balance(kDeskZh) == before - f.config.campaign.tier("A")->price);
  CHECK(f.text("SELECT request FROM vouchers") == "console:alice:1:" + request);
  CHECK(f.count("SELECT COUNT(*) FROM events WHERE kind = 'desk_redeem' AND actor = 'alice'") == 1);

  // Too few points: the SMS reply's meaning, in the agent's language.
  r = f.on_member("redeem", kDeskEn, {{"tier", "A"}, {"reason", "x"}, {"request", request}});
  CHECK(r.status == 422);
  CHECK(contains(r.body, "Not enough points"));
  f.language = console::Language::zh;
  r = f.on_member("redeem", kDeskEn, {{"tier", "A"}, {"reason", "x"}, {"request", request}});
  CHECK(contains(r.body, "积分不足"));
}

TEST_CASE("console desk: a supervisor corrects points within the bounds") {
  ConsoleDesk f;
  f.role = AgentRole::supervisor;
  const auto before = f.balance(kDeskEn);
  auto r = f.on_member("points", kDeskEn, {{"delta", "+50"}, {"reason", "goodwill"}});
  CHECK(r.status == 303);
  CHECK(location(r) == "/console/members/8613900000001?done=points");
  CHECK(f.balance(kDeskEn) == before + 50);
  CHECK(f.on_member("points", kDeskEn, {{"delta", "abc"}, {"reason", "x"}}).status == 400);
  CHECK(f.on_member("points", kDeskEn, {{"delta", "0"}, {"reason", "x"}}).status == 400);
  CHECK(f.on_member("points", kDeskEn, {{"delta", "-50"}}).status == 400);
  r = f.on_member("points", kDeskEn, {{"delta", "-99999"}, {"reason", "x"}});
  CHECK(r.status == 422);
  CHECK(f.balance(kDeskEn) == before + 50);
  CHECK(contains(f.member(kDeskEn, {{"done", "points"}}).body, "id=\"done\""));
}

TEST_CASE("console desk: labels in Chinese for an agent who reads Chinese") {
  ConsoleDesk f;
  f.voucher();
  f.language = console::Language::zh;
  const auto r = f.member();
  REQUIRE(r.status == 200);
  for (const char* label : {"积分余额", "积分明细", "发出的短信", "会员发来的短信", "USSD 会话",
                            "收到的推送", "投诉", "代会员兑换", "原因", "券码"}) {
    CAPTURE(label);
    CHECK(contains(r.body, label));
  }
  CHECK_FALSE(contains(r.body, "Points ledger"));
  CHECK_FALSE(contains(r.body, "Redeem for the member"));
}

TEST_CASE("console desk: a database failure is a 503 to try again, logged without the number") {
  ConsoleDesk f;
  const auto code = f.voucher();
  f.db->fail_statement_after(0, SQLITE_IOERR);
  auto r = f.member();
  CHECK(r.status == 503);
  CHECK(contains(r.body, "id=\"error\""));
  CHECK_FALSE(contains(r.body, "No member"));
  REQUIRE(f.sink->contains("console database failed"));
  for (const auto& line : f.sink->lines()) {
    CHECK_FALSE(contains(line, "13800138000"));
    CHECK_FALSE(contains(line, code));
  }
  f.db->fail_statement_after(0, SQLITE_IOERR);
  r = f.on_voucher("void", code, {{"reason", "x"}, {"refund", "1"}});
  CHECK(r.status == 503);
  CHECK(f.state(code) == "issued");
  for (const auto& line : f.sink->lines()) CHECK_FALSE(contains(line, code));
}
