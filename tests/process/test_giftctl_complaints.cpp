// giftctl complaints and giftctl report's complaint counts, as operators run
// them: the built binary reads the complaints the console recorded.
#include <doctest/doctest.h>

#include <fstream>

#include "daemon/campaign/complaints.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/giftctl_run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;

namespace {

struct Desk {
  test::TempDir dir;
  std::string db_path = dir.file("campaign.db");
  std::string config_path = dir.file("giftgate.yaml");

  Desk() {
    std::ofstream(config_path) << "storage:\n  path: " << db_path
                               << "\ncampaign:\n  start: 2026-01-01\n  end: 2036-01-01\n";
    std::ofstream(dir.file("m.csv")) << "msisdn,city\n13800138000,beijing\n13900000001,beijing\n";
    REQUIRE((*this)("import members " + dir.file("m.csv")).status == 0);
    auto db = test::open_campaign_db(db_path);
    Complaints c(*db);
    const Actor wang{"console", "wang"};
    const Time t0{std::chrono::seconds(1798761600)};  // 2027-01-01
    std::int64_t first = 0, second = 0, third = 0;
    REQUIRE(c.open("8613800138000", std::nullopt, "not_received", "no SMS came", wang, t0, &first) ==
            Complaints::Result::ok);
    REQUIRE(c.open("8613900000001", std::nullopt, "merchant", "rude staff", wang,
                   t0 + std::chrono::hours(1), &second) == Complaints::Result::ok);
    REQUIRE(c.open("8613900000001", std::nullopt, "other", "asked twice", wang,
                   t0 + std::chrono::hours(2), &third) == Complaints::Result::ok);
    REQUIRE(c.close(second, "resolved", "apologised", wang, t0 + std::chrono::hours(5)) ==
            Complaints::Result::ok);
  }
  test::CtlRun operator()(const std::string& args) {
    return test::run_giftctl(dir, config_path, "--operator test " + args);
  }
};

}  // namespace

TEST_CASE("giftctl complaints: the open ones oldest first, the closed ones on request") {
  Desk d;
  const auto open = d("complaints --format csv");
  REQUIRE(open.status == 0);
  const auto header = open.out.substr(0, open.out.find('\n'));
  CHECK(header.find("id,opened_at,age_hours,msisdn,voucher,category,state") == 0);
  const auto not_received = open.out.find("not_received");
  const auto other = open.out.find(",other,");
  CHECK(not_received != std::string::npos);
  CHECK(other != std::string::npos);
  CHECK(not_received < other);  // oldest first
  CHECK(open.out.find("merchant") == std::string::npos);  // the closed one is not listed
  const auto all = d("complaints --state all --format csv");
  REQUIRE(all.status == 0);
  CHECK(all.out.find(",merchant,closed,") != std::string::npos);
  const auto closed = d("complaints --state closed");
  REQUIRE(closed.status == 0);
  CHECK(closed.out.find("resolved") != std::string::npos);
  CHECK(closed.out.find("not_received") == std::string::npos);
  const auto bad = d("complaints --state pending");
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--state must be open, closed or all") != std::string::npos);
}

TEST_CASE("giftctl report counts the complaints by category") {
  Desk d;
  const auto by = d("report --by complaints --format csv");
  REQUIRE(by.status == 0);
  CHECK(by.out.find("category,open,closed,median_hours_to_close") == 0);
  CHECK(by.out.find("merchant,0,1,4.0") != std::string::npos);
  CHECK(by.out.find("not_received,1,0,") != std::string::npos);
  const auto whole = d("report");
  REQUIRE(whole.status == 0);
  CHECK(whole.out.find("\ncomplaints\n") != std::string::npos);
}
