// The dashboard's figures (dashboard.hpp) over a campaign counted by hand
// (tests/support/dashboard_seed.hpp): every figure's rows, days cut at
// midnight in Shanghai, an unknown name, and a database failure at each
// statement a figure runs.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include "daemon/campaign/dashboard.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/campaign_service.hpp"
#include "tests/support/dashboard_seed.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;

namespace {

using Rows = std::vector<std::vector<std::string>>;

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<db::Database> db = test::open_campaign_db(dir.file("d.db"));
  Config config = test::campaign_config();

  Fixture() { test::seed_dashboard(*db, config); }

  Figure figure(std::string_view name) {
    std::string error;
    auto f = dashboard_figure(*db, config, name, test::dashboard_now(), &error);
    REQUIRE_MESSAGE(f, error);
    CHECK(error.empty());
    CHECK(f->name == name);
    CHECK_FALSE(f->title_en.empty());
    CHECK_FALSE(f->title_zh.empty());
    CHECK(f->table.numeric.size() == f->table.columns.size());
    for (const auto& row : f->table.rows) CHECK(row.size() == f->table.columns.size());
    return std::move(*f);
  }
};

std::vector<std::string> columns(std::initializer_list<const char*> names) {
  return {names.begin(), names.end()};
}

}  // namespace

TEST_CASE("dashboard: the figures, in the dashboard's order") {
  const std::vector<std::string_view> expected = {
      "vouchers-by-day", "vouchers-by-city", "vouchers-by-tier", "vouchers-by-merchant",
      "stock",           "messages",         "pushes",           "verifications"};
  CHECK(figure_names() == expected);
}

TEST_CASE("dashboard: vouchers by day, cut at midnight in Shanghai, days without any filled") {
  Fixture f;
  const auto fig = f.figure("vouchers-by-day");
  CHECK(fig.chart == ChartKind::line);
  CHECK(fig.table.columns == columns({"day", "issued", "used", "voided", "expired", "points_spent",
                                      "value_issued", "value_used"}));
  CHECK(fig.series == std::vector<std::size_t>{1, 2, 3, 4});
  // V1 issued 15:59:59 UTC (23:59:59 in Shanghai) counts on the 10th, used
  // a second later on the 11th; V2 issued at 16:00:00 UTC on the 11th.
  const Rows rows = {
      {"2026-11-09", "1", "0", "0", "1", "1000", "20", "0"},
      {"2026-11-10", "2", "0", "1", "0", "5000", "100", "0"},
      {"2026-11-11", "1", "1", "0", "0", "5000", "100", "100"},
      {"2026-11-12", "2", "2", "0", "0", "10000", "200", "200"},
      {"2026-11-13", "0", "0", "0", "0", "0", "0", "0"},
      {"2026-11-14", "0", "0", "0", "0", "0", "0", "0"},
      {"2026-11-15", "1", "0", "0", "0", "2500", "50", "0"},
  };
  CHECK(fig.table.rows == rows);
}

TEST_CASE("dashboard: a day's count follows the campaign's zone") {
  Fixture f;
  f.config.time_zone = "UTC";
  const auto fig = f.figure("vouchers-by-day");
  REQUIRE(fig.table.rows.size() >= 2);
  // In UTC V1 (15:59:59) and V2 (16:00:00) are both issued on the 10th, with V3.
  CHECK(fig.table.rows[1] ==
        std::vector<std::string>{"2026-11-10", "3", "1", "1", "0", "10000", "200", "100"});
}

TEST_CASE("dashboard: vouchers by city and by tier, expired as at the dashboard's time") {
  Fixture f;
  const auto city = f.figure("vouchers-by-city");
  CHECK(city.chart == ChartKind::bars);
  CHECK(city.table.rows == Rows{{"beijing", "3", "1", "0", "0", "12500", "250", "100"},
                                {"shanghai", "4", "2", "1", "1", "11000", "220", "200"}});
  const auto tier = f.figure("vouchers-by-tier");
  CHECK(tier.table.rows == Rows{{"A", "4", "3", "0", "0", "20000", "400", "300"},
                                {"B", "2", "0", "1", "0", "2500", "50", "0"},
                                {"C", "1", "0", "0", "1", "1000", "20", "0"}});
  // Before V4's expiry (2026-11-15) nothing had expired.
  std::string error;
  const auto before = dashboard_figure(*f.db, f.config, "vouchers-by-tier",
                                       test::utc("2026-11-14T00:00:00Z"), &error);
  REQUIRE_MESSAGE(before, error);
  CHECK(before->table.rows[2][4] == "0");
}

TEST_CASE("dashboard: vouchers used by merchant, busiest first, by name") {
  Fixture f;
  const auto fig = f.figure("vouchers-by-merchant");
  CHECK(fig.table.columns == columns({"merchant", "id", "used", "value_used"}));
  CHECK(fig.series == std::vector<std::size_t>{2});
  CHECK(fig.table.rows ==
        Rows{{"=cmd|' /C calc'!A0", "sh-1", "2", "200"}, {"Star <b>KTV</b>", "bj-1", "1", "100"}});
}

TEST_CASE("dashboard: stock left per city, a column per tier, unconfigured tiers after") {
  Fixture f;
  const auto fig = f.figure("stock");
  CHECK(fig.chart == ChartKind::stacked_bars);
  CHECK(fig.table.columns == columns({"city", "A", "B", "C", "Z", "total"}));
  CHECK(fig.series == std::vector<std::size_t>{1, 2, 3, 4});
  CHECK(fig.table.rows ==
        Rows{{"beijing", "5", "0", "0", "0", "5"}, {"shanghai", "3", "0", "7", "1", "11"}});
}

TEST_CASE("dashboard: messages by state, the history's included, with the resend rate") {
  Fixture f;
  const auto fig = f.figure("messages");
  CHECK(fig.chart == ChartKind::stacked_bars);
  CHECK(fig.table.columns == columns({"message", "total", "queued", "submitted", "delivered",
                                      "failed", "expired", "resent", "resend_pct"}));
  CHECK(fig.table.rows == Rows{{"help", "1", "1", "0", "0", "0", "0", "0", "0.00"},
                               {"voucher_issued", "4", "0", "0", "2", "1", "1", "2", "50.00"}});
}

TEST_CASE("dashboard: pushes with their holdouts and lift, a negative lift too") {
  Fixture f;
  const auto fig = f.figure("pushes");
  CHECK(fig.table.columns ==
        columns({"push", "state", "targeted", "held_out", "sent", "delivered", "failed",
                 "sent_rate_7d_pct", "holdout_rate_7d_pct", "lift_7d_pp"}));
  CHECK(fig.series == std::vector<std::size_t>{7, 8});
  // nov-push: of its two sent, member 1 redeemed (V1) within a day; of its
  // two held out nobody. dec-push: its one sent did not, its one held out
  // (member 2, V5) did.
  CHECK(fig.table.rows ==
        Rows{{"dec-push", "done", "2", "1", "1", "1", "0", "0.00", "100.00", "-100.00"},
             {"nov-push", "done", "4", "2", "2", "1", "1", "50.00", "0.00", "50.00"}});
}

TEST_CASE("dashboard: verifications, wrong codes and lock-outs per merchant") {
  Fixture f;
  const auto fig = f.figure("verifications");
  CHECK(fig.table.columns ==
        columns({"merchant", "id", "verified", "failed", "lockouts", "locked_until"}));
  CHECK(fig.series == std::vector<std::size_t>{2, 3, 4});
  CHECK(fig.table.rows ==
        Rows{{"Star <b>KTV</b>", "bj-1", "1", "10", "2", test::dashboard_lock_until()},
             {"-2+3 Cinema", "bj-10", "0", "5", "1", ""},
             {"=cmd|' /C calc'!A0", "sh-1", "2", "1", "0", ""},
             {"@Quiet Cinema", "gz-1", "0", "0", "0", ""}});
  // Once the lock has run out it is no longer shown as in force.
  std::string error;
  const auto later = dashboard_figure(*f.db, f.config, "verifications",
                                      test::dashboard_now() + std::chrono::hours(1), &error);
  REQUIRE_MESSAGE(later, error);
  CHECK(later->table.rows[0][5] == "");
}

TEST_CASE("dashboard: an empty campaign has every figure, with no rows") {
  test::TempDir dir;
  auto db = test::open_campaign_db(dir.file("e.db"));
  const Config config = test::campaign_config();
  for (const auto name : figure_names()) {
    CAPTURE(name);
    std::string error;
    const auto fig = dashboard_figure(*db, config, name, test::dashboard_now(), &error);
    REQUIRE_MESSAGE(fig, error);
    CHECK(fig->table.rows.empty());
    CHECK_FALSE(fig->table.columns.empty());
  }
}

TEST_CASE("dashboard: an unknown figure says so") {
  Fixture f;
  std::string error;
  CHECK_FALSE(dashboard_figure(*f.db, f.config, "colour", test::dashboard_now(), &error));
  CHECK(error.find("colour") != std::string::npos);
}

TEST_CASE("dashboard: a database failure at any statement of a figure gives no figure") {
  Fixture f;
  for (const auto name : figure_names()) {
    CAPTURE(name);
    const Figure whole = f.figure(name);
    int n = 0;
    for (;; ++n) {
      REQUIRE(n < 100);
      f.db->fail_statement_after(n, n % 2 ? SQLITE_BUSY : SQLITE_IOERR);
      std::string error;
      const auto fig = dashboard_figure(*f.db, f.config, name, test::dashboard_now(), &error);
      const bool hit = f.db->statement_failure_spent();
      f.db->fail_statement_after(-1, 0);
      if (!hit) {
        // Past the figure's last statement: the whole figure again.
        REQUIRE_MESSAGE(fig, error);
        CHECK(fig->table.rows == whole.table.rows);
        break;
      }
      CAPTURE(n);
      CHECK_FALSE(fig);  // never a figure cut short
      CHECK_FALSE(error.empty());
    }
    CHECK(n > 0);
  }
}

TEST_CASE("dashboard: giftctl's push report is the pushes figure") {
  Fixture f;
  std::string error;
  const auto report = push_report(*f.db, f.config, &error);
  REQUIRE_MESSAGE(report, error);
  CHECK(report->rows == f.figure("pushes").table.rows);
}
