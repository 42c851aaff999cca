// The console in a real browser: Debian's chromium, headless, driven by
// tests/browser/console.mjs against giftgated over TLS, as an agent and a
// supervisor use it: sign in, search by a number as a caller reads it out,
// the member's page, a void with a reason, a complaint opened, noted and
// closed, the dashboard and a CSV, the language, sign-out. The driver fails
// the run on any request to another origin, on an error the browser
// reports, and on a blank screenshot; afterwards the database is checked
// for what the clicks should have done, by whom.
//
// Without chromium the tests exit 77, which ctest counts as skipped
// (scripts/bootstrap.sh installs it, so scripts/test.sh runs them).
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "tests/e2e/console_gate.hpp"

namespace giftgate::e2e {
namespace {

const std::string kChromium = "/usr/bin/chromium";
const std::string kAgentPassword = "quiet-harbour-41";
const std::string kSupervisorPassword = "amber-lantern-77";

// What one run of the driver reported (its JSON line), and its exit status.
struct BrowserRun {
  int status = -1;
  json result;
  std::string log;  // the driver's progress, for the failure message
};

void require_chromium() {
  if (!std::filesystem::exists(kChromium)) {
    std::fprintf(stderr, "no %s: the browser tests are skipped (scripts/bootstrap.sh installs it)\n",
                 kChromium.c_str());
    std::exit(77);
  }
}

// The folder the screenshots and downloads of `test` are kept in: in the
// build tree, so a person can look at them after the run.
std::string shots_dir(const std::string& test) {
  const auto dir = std::filesystem::path(GIFTGATE_BROWSER_SHOTS) / test;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Runs the driver's `steps` against the gate's console (bounded: the driver
// stops itself after 150 s, and `timeout` kills it 20 s later).
BrowserRun drive(ConsoleGate& g, const json& steps, const std::string& shots) {
  const std::string steps_file = g.dir.file("steps.json");
  std::ofstream(steps_file, std::ios::trunc) << steps.dump(2);
  const std::string driver = std::string(GIFTGATE_SOURCE_DIR) + "/tests/browser/console.mjs";
  const std::string cmd =
      "timeout -k 5 170 " + test::shell_quoted(GIFTGATE_NODE) + " " + test::shell_quoted(driver) +
      " --base " + test::shell_quoted(g.url("")) + " --ca " + test::shell_quoted(g.ca) + " --shots " +
      test::shell_quoted(shots) + " --steps " + test::shell_quoted(steps_file) + " --chromium " +
      test::shell_quoted(kChromium) + " --timeout 150 >" + test::shell_quoted(g.dir.file("driver.json")) +
      " 2>" + test::shell_quoted(g.dir.file("driver.log"));
  const int raw = std::system(cmd.c_str());
  BrowserRun run;
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  run.log = test::slurp(g.dir.file("driver.log"));
  run.result = json::parse(test::slurp(g.dir.file("driver.json")), nullptr, false);
  return run;
}

// The run passed: every step, no foreign request, no error on a page.
void require_passed(const BrowserRun& run, ConsoleGate& g) {
  INFO("driver: " << run.log);
  INFO("result: " << run.result.dump());
  INFO("giftgated: " << g.daemon->log());
  if (run.status == 77) std::exit(77);
  REQUIRE(!run.result.is_discarded());
  CHECK(run.result["foreign"].empty());
  CHECK(run.result["page_errors"].empty());
  REQUIRE(run.status == 0);
  REQUIRE(run.result["ok"] == true);
}

// Steps that make sure a page is the one expected and has these elements.
void expect_all(json& steps, std::initializer_list<const char*> selectors) {
  for (const char* s : selectors) steps.push_back({{"do", "expect"}, {"selector", s}});
}

json sign_in_steps(const std::string& name, const std::string& password) {
  return json::array({
      {{"do", "goto"}, {"path", "/console/login"}},
      {{"do", "fill"}, {"selector", "#sign-in [name=name]"}, {"value", name}},
      {{"do", "fill"}, {"selector", "#sign-in [name=password]"}, {"value", password}},
      {{"do", "submit"}, {"form", "#sign-in"}},
      {{"do", "url"}, {"pattern", "^/console/$"}},
      {{"do", "expect"}, {"selector", "nav .who"}, {"text", name}},
  });
}

// A screenshot the driver kept and found not blank.
void check_screenshot(const BrowserRun& run, const std::string& name) {
  for (const auto& shot : run.result["screenshots"]) {
    if (shot["name"] != name) continue;
    CAPTURE(shot.dump());
    CHECK(std::filesystem::file_size(shot["path"].get<std::string>()) > 1000);
    CHECK(shot["colours"].get<int>() >= 3);
    CHECK(shot["foreground_fraction"].get<double>() >= 0.01);
    return;
  }
  FAIL("no screenshot " << name << " in " << run.result.dump());
}

}  // namespace

TEST_CASE("console: an agent signs in, finds a member by a spoken number, voids a voucher, settles a complaint") {
  require_chromium();
  ConsoleGate g;
  g.add_agent("wang", "agent", kAgentPassword);
  g.start();
  g.wait_api();
  const std::string member = "8613800138000";
  const std::string code = g.voucher(member);
  const std::string member_page = "/console/members/" + member;

  json steps = sign_in_steps("wang", kAgentPassword);
  const json search = json::array({
      // As the caller reads it out.
      {{"do", "fill"}, {"selector", "#search [name=q]"}, {"value", "+86 138 0013 8000"}},
      {{"do", "submit"}, {"form", "#search"}},
      {{"do", "url"}, {"pattern", "^" + member_page + "$"}},
      {{"do", "status"}, {"code", 200}},
  });
  steps.insert(steps.end(), search.begin(), search.end());
  // Every section the member page promises, and the forms an agent gets.
  expect_all(steps, {"#balance", "#vouchers", "#vouchers-table", "#ledger", "#messages", "#texts", "#ussd",
                     "#pushes", "#complaints", "#redeem", "#open-complaint"});
  const json voucher = json::array({
      {{"do", "read"}, {"selector", "#balance-points"}, {"as", "balance"}},
      {{"do", "absent"}, {"selector", "#correct-points"}},
      {{"do", "screenshot"}, {"name", "member"}},
      // The voucher, from the member's list; void it with its points back.
      {{"do", "click"}, {"selector", "#vouchers-table a[href=\"/console/vouchers/" + code + "\"]"}},
      {{"do", "url"}, {"pattern", "^/console/vouchers/" + code + "$"}},
  });
  steps.insert(steps.end(), voucher.begin(), voucher.end());
  const json rest = json::array({
      {{"do", "expect"}, {"selector", "#facts"}},
      {{"do", "expect"}, {"selector", "#timeline-table"}},
      {{"do", "expect"}, {"selector", "#resend"}},
      {{"do", "absent"}, {"selector", "#reinstate"}},
      {{"do", "fill"}, {"selector", "#void [name=reason]"}, {"value", "caller never got the SMS"}},
      {{"do", "check"}, {"selector", "#void [name=refund]"}},
      {{"do", "submit"}, {"form", "#void"}},
      {{"do", "url"}, {"pattern", "^/console/vouchers/" + code + "\\?done="}},
      {{"do", "expect"}, {"selector", "#done"}},
      // A complaint on the member: opened, noted, seen in the list, closed.
      {{"do", "goto"}, {"path", member_page}},
      {{"do", "select"}, {"selector", "#open-complaint [name=category]"}, {"value", "not_received"}},
      {{"do", "fill"}, {"selector", "#open-complaint [name=text]"}, {"value", "The SMS with the code never came."}},
      {{"do", "submit"}, {"form", "#open-complaint"}},
      {{"do", "url"}, {"pattern", "^/console/complaints/[0-9]+$"}},
      {{"do", "read_url"}, {"pattern", "^/console/complaints/([0-9]+)"}, {"as", "complaint"}},
      {{"do", "expect"}, {"selector", "#complaint"}, {"text", "The SMS with the code never came."}},
      {{"do", "fill"}, {"selector", "#add-note [name=text]"}, {"value", "Called back: voided, points refunded."}},
      {{"do", "submit"}, {"form", "#add-note"}},
      {{"do", "url"}, {"pattern", "^/console/complaints/{{complaint}}\\?done="}},
      {{"do", "expect"}, {"selector", "#notes-table"}, {"text", "Called back"}},
      {{"do", "click"}, {"selector", "nav a[href=\"/console/complaints\"]"}},
      {{"do", "url"}, {"pattern", "^/console/complaints$"}},
      {{"do", "expect"}, {"selector", "#complaints-table"}},
      {{"do", "goto"}, {"path", "/console/complaints/{{complaint}}"}},
      {{"do", "select"}, {"selector", "#close-complaint [name=outcome]"}, {"value", "resolved"}},
      {{"do", "fill"}, {"selector", "#close-complaint [name=text]"}, {"value", "Member satisfied."}},
      {{"do", "submit"}, {"form", "#close-complaint"}},
      {{"do", "expect"}, {"selector", "#done"}},
      {{"do", "absent"}, {"selector", "#close-complaint"}},
      {{"do", "goto"}, {"path", "/console/complaints?state=closed"}},
      {{"do", "expect"}, {"selector", "#complaints-table"}},
      // The dashboard: charts drawn by the server, one figure as CSV.
      {{"do", "click"}, {"selector", "nav a[href=\"/console/dashboard\"]"}},
      {{"do", "url"}, {"pattern", "^/console/dashboard$"}},
      {{"do", "expect"}, {"selector", "section#figure-vouchers-by-day svg"}},
      {{"do", "count"}, {"selector", "section[id^=\"figure-\"] svg"}, {"min", 3}},
      {{"do", "count"}, {"selector", "section[id^=\"figure-\"] a.csv"}, {"min", 7}},
      {{"do", "screenshot"}, {"name", "dashboard"}},
      {{"do", "download"}, {"selector", "#figure-vouchers-by-tier a.csv"}, {"name", "vouchers-by-tier.csv"}},
      // In Chinese, from the navigation bar, kept for the next page.
      {{"do", "goto"}, {"path", member_page}},
      {{"do", "submit"}, {"form", "#language"}},
      {{"do", "url"}, {"pattern", "^" + member_page + "$"}},
      {{"do", "expect"}, {"selector", "html[lang=\"zh-CN\"]"}},
      {{"do", "text"}, {"contains", "退出"}},
      {{"do", "text"}, {"contains", "看板"}},
      {{"do", "no_text"}, {"contains", "Sign out"}},
      {{"do", "screenshot"}, {"name", "member-zh"}},
      // Sign-out: the member page is refused, the sign-in page shown.
      {{"do", "submit"}, {"form", "#logout"}},
      {{"do", "url"}, {"pattern", "^/console/login$"}},
      {{"do", "goto"}, {"path", member_page}},
      {{"do", "url"}, {"pattern", "^/console/login$"}},
      {{"do", "expect"}, {"selector", "#sign-in"}},
      {{"do", "absent"}, {"selector", "#balance"}},
  });
  steps.insert(steps.end(), rest.begin(), rest.end());
  const auto balance_before = g.value(
      "SELECT SUM(l.delta) FROM ledger l JOIN members m ON m.id = l.member_id WHERE m.msisdn = '" + member + "'");

  const auto run = drive(g, steps, shots_dir("agent"));
  require_passed(run, g);
  check_screenshot(run, "member");
  check_screenshot(run, "dashboard");
  check_screenshot(run, "member-zh");
  CHECK(run.result["requests"].get<int>() > 20);

  // The page showed the balance the ledger holds.
  CHECK(run.result["values"]["balance"] == std::to_string(balance_before));
  // The void: done, by the agent, with the reason, through the console; the points back.
  CHECK(g.value("SELECT COUNT(*) FROM vouchers WHERE code = '" + code + "' AND state = 'void'") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE kind = 'voucher_voided' AND voucher_code = '" + code +
                "' AND actor = 'wang' AND channel = 'console' AND detail LIKE '%caller never got the SMS%'") == 1);
  CHECK(g.value("SELECT SUM(l.delta) FROM ledger l JOIN members m ON m.id = l.member_id WHERE m.msisdn = '" +
                member + "'") > balance_before);
  // The complaint: opened and closed by the agent, with its note.
  const std::string id = run.result["values"]["complaint"].get<std::string>();
  CHECK(g.value("SELECT COUNT(*) FROM complaints c JOIN members m ON m.id = c.member_id WHERE c.id = " + id +
                " AND m.msisdn = '" + member + "' AND c.state = 'closed' AND c.outcome = 'resolved' "
                "AND c.opened_by = 'wang' AND c.closed_by = 'wang' AND c.category = 'not_received'") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM complaint_notes WHERE complaint_id = " + id) >= 1);
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE kind = 'complaint_closed' AND actor = 'wang'") == 1);
  // The CSV came down: a header and a row at least.
  REQUIRE(run.result["downloads"].size() == 1);
  const auto csv = test::slurp(run.result["downloads"][0]["path"].get<std::string>());
  CHECK(csv.find(',') < csv.find('\n'));
  CHECK(std::count(csv.begin(), csv.end(), '\n') >= 2);
}

TEST_CASE("console: a supervisor finds a member by full-width digits, corrects points, reinstates a voucher") {
  require_chromium();
  ConsoleGate g;
  g.add_agent("li", "supervisor", kSupervisorPassword);
  g.start();
  g.wait_api();
  const std::string member = "8613900000001";
  const std::string code = g.voucher(member, "A");
  const auto used = g.call("till-1", "POST", "/v1/verifications", json{{"code", code}}.dump());
  REQUIRE(used.status == 200);
  // The same code with its last digit misheard: the check digit catches it.
  std::string misheard = code;
  misheard.back() = static_cast<char>('0' + (misheard.back() - '0' + 1) % 10);
  const auto balance = [&] {
    return g.value("SELECT SUM(l.delta) FROM ledger l JOIN members m ON m.id = l.member_id "
                   "WHERE m.msisdn = '" + member + "'");
  };
  const auto before = balance();

  json steps = sign_in_steps("li", kSupervisorPassword);
  const json rest = json::array({
      // Full-width digits, typed into the navigation bar's search and sent with Enter.
      {{"do", "fill"}, {"selector", "#nav-search [name=q]"}, {"value", "１３９ ０００ ０００ ０１"}},
      {{"do", "press"}, {"selector", "#nav-search [name=q]"}, {"key", "Enter"}},
      {{"do", "url"}, {"pattern", "^/console/members/" + member + "$"}},
      {{"do", "fill"}, {"selector", "#correct-points [name=delta]"}, {"value", "250"}},
      {{"do", "fill"}, {"selector", "#correct-points [name=reason]"}, {"value", "points lost in the import"}},
      {{"do", "submit"}, {"form", "#correct-points"}},
      {{"do", "url"}, {"pattern", "^/console/members/" + member + "\\?done="}},
      {{"do", "expect"}, {"selector", "#done"}},
      {{"do", "goto"}, {"path", "/console/vouchers/" + code}},
      // Where it was used: the merchant, and the terminal that verified it.
      {{"do", "expect"}, {"selector", "#facts"}, {"text", "Star KTV"}},
      {{"do", "expect"}, {"selector", "#timeline-table"}, {"text", "till-1"}},
      {{"do", "fill"}, {"selector", "#reinstate [name=reason]"}, {"value", "the terminal used it by mistake"}},
      {{"do", "submit"}, {"form", "#reinstate"}},
      {{"do", "url"}, {"pattern", "^/console/vouchers/" + code + "\\?done="}},
      {{"do", "expect"}, {"selector", "#done"}},
      {{"do", "screenshot"}, {"name", "voucher"}},
      // A code as misheard on the phone: not looked up, and the page says why.
      {{"do", "fill"}, {"selector", "#nav-search [name=q]"}, {"value", misheard}},
      {{"do", "press"}, {"selector", "#nav-search [name=q]"}, {"key", "Enter"}},
      {{"do", "expect"}, {"selector", "#check-digit"}},
      {{"do", "submit"}, {"form", "#logout"}},
      {{"do", "url"}, {"pattern", "^/console/login$"}},
  });
  steps.insert(steps.end(), rest.begin(), rest.end());

  const auto run = drive(g, steps, shots_dir("supervisor"));
  require_passed(run, g);
  check_screenshot(run, "voucher");
  CHECK(balance() == before + 250);
  CHECK(g.value("SELECT COUNT(*) FROM ledger l JOIN members m ON m.id = l.member_id WHERE m.msisdn = '" +
                member + "' AND l.delta = 250 AND l.actor = 'li' AND l.channel = 'console'") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM vouchers WHERE code = '" + code + "' AND state = 'issued'") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE voucher_code = '" + code +
                "' AND actor = 'li' AND channel = 'console' AND detail LIKE '%used it by mistake%'") == 1);
}

}  // namespace giftgate::e2e
