// The dashboard's pages (dashboard_pages.cpp), their handlers called
// directly over a campaign counted by hand (tests/support/dashboard_seed.hpp)
// with a signed-in agent: every figure's section, the CSV downloads and
// their guard against spreadsheet formulas, the agent's language, what is
// not a figure, and a database that fails.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <fmt/format.h>

#include "daemon/campaign/dashboard.hpp"
#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/console/console.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/dashboard_seed.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace giftgate::console;

namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("c.db"));
  Config config = test::campaign_config();
  std::shared_ptr<const Templates> templates = test::shipped_templates();
  Service service{*db, config, templates};
  Outbox outbox{*db, ResendPolicy{}};
  Context context{*db, config, service, outbox, log::Logger()};
  std::vector<Route> routes = dashboard_routes();

  explicit Fixture(bool seeded = true) {
    if (seeded) test::seed_dashboard(*db, config);
  }

  // GET `path` as a signed-in agent, through the route the frame would pick.
  http::Response get(const std::string& path, Language language = Language::en,
                     Time now = test::dashboard_now()) {
    const http::Request request{"GET", path, {}, "", "127.0.0.1"};
    Page page{request,
              path,
              {},
              {},
              {},
              AgentSession{1, "alice", AgentRole::agent, "csrf-token",
                           language == Language::zh ? "zh" : "en"},
              language,
              now,
              Actor{"console", "alice"}};
    const std::string prefix = "/console/dashboard/";
    const Route* route = nullptr;
    for (const auto& r : routes) {
      if (r.path == path) route = &r;
      if (r.path == prefix + "{file}" && path.starts_with(prefix)) {
        route = &r;
        page.params["file"] = path.substr(prefix.size());
      }
    }
    REQUIRE_MESSAGE(route, path);
    CHECK(route->method == "GET");
    CHECK(route->action == DeskAction::look);
    return route->handler(context, page);
  }
};

std::string header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// The text between <section id="figure-NAME" and its </section>.
std::string section(const std::string& body, std::string_view name) {
  const auto from = body.find(fmt::format("<section id=\"figure-{}\"", name));
  if (from == std::string::npos) return {};
  const auto to = body.find("</section>", from);
  return body.substr(from, to - from);
}

}  // namespace

TEST_CASE("console dashboard: a section per figure with its chart, CSV link and table") {
  Fixture f;
  const auto r = f.get("/console/dashboard");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(contains(r.body, "<h1>Campaign dashboard</h1>"));
  for (const auto name : figure_names()) {
    CAPTURE(name);
    const auto s = section(r.body, name);
    REQUIRE_FALSE(s.empty());
    CHECK(contains(s, "<svg "));
    CHECK(contains(s, "role=\"img\""));
    CHECK(contains(s, fmt::format("<a class=\"csv\" href=\"/console/dashboard/{}.csv\">", name)));
    CHECK(contains(s, fmt::format("<table id=\"table-{}\">", name)));
    CHECK(contains(r.body, fmt::format("href=\"#figure-{}\"", name)));
  }
  CHECK(contains(section(r.body, "vouchers-by-day"), "<h2>Vouchers by day</h2>"));
  // A figure's numbers are in its table.
  CHECK(contains(section(r.body, "stock"),
                 "<td>shanghai</td><td class=\"n\">3</td><td class=\"n\">0</td>"
                 "<td class=\"n\">7</td><td class=\"n\">1</td><td class=\"n\">11</td>"));
  // A merchant's name with HTML in it shows as text, in the table and the chart.
  CHECK_FALSE(contains(r.body, "<b>KTV"));
  CHECK(contains(section(r.body, "verifications"), "<td>Star &lt;b&gt;KTV&lt;/b&gt;</td>"));
  CHECK(contains(section(r.body, "verifications"),
                 "<title>Star &lt;b&gt;KTV&lt;/b&gt;: verified 1</title>"));
}

TEST_CASE("console dashboard: titles in the agent's language") {
  Fixture f;
  const auto r = f.get("/console/dashboard", Language::zh);
  CHECK(r.status == 200);
  CHECK(contains(r.body, "<h1>活动看板</h1>"));
  std::string error;
  for (const auto name : figure_names()) {
    CAPTURE(name);
    const auto fig = dashboard_figure(*f.db, f.config, name, test::dashboard_now(), &error);
    REQUIRE_MESSAGE(fig, error);
    const auto s = section(r.body, name);
    CHECK(contains(s, fmt::format("<h2>{}</h2>", fig->title_zh)));
    CHECK_FALSE(contains(s, fig->title_en));
    CHECK(contains(s, "下载 CSV"));
  }
}

TEST_CASE("console dashboard: an empty campaign shows each figure with no chart") {
  Fixture f(false);
  const auto r = f.get("/console/dashboard");
  CHECK(r.status == 200);
  for (const auto name : figure_names()) {
    CAPTURE(name);
    const auto s = section(r.body, name);
    REQUIRE_FALSE(s.empty());
    CHECK_FALSE(contains(s, "<svg"));
    CHECK(contains(s, fmt::format("<p class=\"empty\" id=\"table-{}\">Nothing yet.</p>", name)));
    CHECK(contains(s, "class=\"csv\""));
  }
}

TEST_CASE("console dashboard: a CSV download is the figure's table, as an attachment") {
  Fixture f;
  const auto r = f.get("/console/dashboard/vouchers-by-day.csv");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/csv; charset=utf-8");
  CHECK(header(r, "Content-Disposition") == "attachment; filename=\"vouchers-by-day.csv\"");
  CHECK(header(r, "X-Content-Type-Options") == "nosniff");
  CHECK(r.body ==
        "day,issued,used,voided,expired,points_spent,value_issued,value_used\n"
        "2026-11-09,1,0,0,1,1000,20,0\n"
        "2026-11-10,2,0,1,0,5000,100,0\n"
        "2026-11-11,1,1,0,0,5000,100,100\n"
        "2026-11-12,2,2,0,0,10000,200,200\n"
        "2026-11-13,0,0,0,0,0,0,0\n"
        "2026-11-14,0,0,0,0,0,0,0\n"
        "2026-11-15,1,0,0,0,2500,50,0\n");
  for (const auto name : figure_names()) {
    CAPTURE(name);
    const auto csv = f.get(fmt::format("/console/dashboard/{}.csv", name));
    CHECK(csv.status == 200);
    CHECK(header(csv, "Content-Disposition") ==
          fmt::format("attachment; filename=\"{}.csv\"", name));
    CHECK_FALSE(csv.body.empty());
  }
}

TEST_CASE("console dashboard: a CSV cell a spreadsheet would run is made text, numbers stay") {
  Fixture f;
  const auto verifications = f.get("/console/dashboard/verifications.csv");
  CHECK(verifications.body ==
        "merchant,id,verified,failed,lockouts,locked_until\n"
        "Star <b>KTV</b>,bj-1,1,10,2," +
            test::dashboard_lock_until() +
            "\n"
            "'-2+3 Cinema,bj-10,0,5,1,\n"
            "'=cmd|' /C calc'!A0,sh-1,2,1,0,\n"
            "'@Quiet Cinema,gz-1,0,0,0,\n");
  // A negative lift is a number, and stays one.
  const auto pushes = f.get("/console/dashboard/pushes.csv");
  CHECK(contains(pushes.body, "dec-push,done,2,1,1,1,0,0.00,100.00,-100.00\n"));
}

TEST_CASE("console dashboard: a CSV download of what is no figure is not found") {
  Fixture f;
  for (const char* path :
       {"/console/dashboard/colour.csv", "/console/dashboard/stock", "/console/dashboard/.csv",
        "/console/dashboard/stock.json", "/console/dashboard/stock.csv.csv"}) {
    CAPTURE(path);
    const auto r = f.get(path);
    CHECK(r.status == 404);
    CHECK(r.content_type == "text/html; charset=utf-8");
    CHECK(contains(r.body, "id=\"error\""));
  }
}

TEST_CASE("console dashboard: a database failure is a try-again page, never a partial figure") {
  Fixture f;
  const std::pair<const char*, int> cases[] = {{"/console/dashboard", 0},
                                               {"/console/dashboard", 3},
                                               {"/console/dashboard", 12},
                                               {"/console/dashboard/verifications.csv", 0}};
  for (const auto& [path, n] : cases) {
    CAPTURE(path);
    CAPTURE(n);
    {
      f.db->fail_statement_after(n, SQLITE_IOERR);
      const auto r = f.get(path);
      REQUIRE(f.db->statement_failure_spent());
      f.db->fail_statement_after(-1, 0);
      CHECK(r.status == 503);
      CHECK(contains(r.body, "id=\"error\""));
      CHECK_FALSE(contains(r.body, "Nothing yet"));
    }
  }
}

TEST_CASE("console dashboard: figures are read again after a minute, not on every reload") {
  Fixture f;
  const Time now = test::dashboard_now();
  const auto first = f.get("/console/dashboard");
  CHECK(contains(first.body, "<p id=\"as-of\">Figures as of 2026-11-20 08:00</p>"));
  const std::string shanghai = "<td>shanghai</td><td class=\"n\">3</td>";
  CHECK(contains(section(first.body, "stock"), shanghai));
  REQUIRE(f.db->exec("UPDATE stock SET quantity = 2 WHERE tier = 'A' AND city = 'shanghai'").ok());
  // Within the minute: what was read, on the page and in its download.
  const auto again = f.get("/console/dashboard", Language::en, now + std::chrono::seconds(59));
  CHECK(contains(section(again.body, "stock"), shanghai));
  CHECK(contains(again.body, "as of 2026-11-20 08:00<"));
  const auto csv =
      f.get("/console/dashboard/stock.csv", Language::en, now + std::chrono::seconds(59));
  CHECK(contains(csv.body, "shanghai,3,0,7,1,11\n"));
  // After it, read again.
  const auto later = f.get("/console/dashboard", Language::en, now + std::chrono::seconds(60));
  CHECK(contains(section(later.body, "stock"), "<td>shanghai</td><td class=\"n\">2</td>"));
  CHECK(contains(later.body, "as of 2026-11-20 08:01<"));
  const auto later_csv =
      f.get("/console/dashboard/stock.csv", Language::en, now + std::chrono::seconds(61));
  CHECK(contains(later_csv.body, "shanghai,2,0,7,1,10\n"));
  // A clock that went back does not keep the old figures for ever.
  const auto back = f.get("/console/dashboard", Language::en, now - std::chrono::seconds(5));
  CHECK(contains(back.body, "as of 2026-11-20 07:59<"));
}
