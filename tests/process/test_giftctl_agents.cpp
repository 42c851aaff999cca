// giftctl agent as operators run it: the built binary adds an account with
// a password read from standard input or a file, lists accounts, refuses a
// taken name, disables and enables one, sets a new password; the password
// is never printed and never in the event history.
#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "daemon/campaign/agents.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/giftctl_run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;

namespace {

using Run = test::CtlRun;
using giftgate::test::contains;
using giftgate::test::line_with;

const std::string kPassword = "winter plum 2026";

struct Desk {
  test::TempDir dir;
  std::string db_path = dir.file("campaign.db");
  std::string config_path = dir.file("giftgate.yaml");

  Desk() {
    std::ofstream(config_path) << "storage:\n  path: " << db_path
                               << "\ncampaign:\n  start: 2026-01-01\n  end: 2036-01-01\n";
  }
  Run operator()(const std::string& args) {
    return test::run_giftctl(dir, config_path, "--operator test " + args);
  }
  // giftctl ARGS with `input` on its standard input (a file, not a terminal).
  Run with_input(const std::string& args, const std::string& input) {
    std::ofstream(dir.file("stdin")) << input;
    return (*this)(args + " <" + dir.file("stdin"));
  }
  std::string events() {
    auto db = test::open_campaign_db(db_path);
    auto q = db->prepare("SELECT group_concat(kind || ' ' || detail, '\n') FROM events");
    return q.step() == db::StepResult::row ? q.column_text(0) : std::string();
  }
  // Whether `password` signs `name` in, as the console will check it.
  bool signs_in(const std::string& name, const std::string& password) {
    auto db = test::open_campaign_db(db_path);
    Agents agents(*db);
    db::Status status;
    const auto c = agents.credential(name, Time(std::chrono::seconds(1798761600)), &status);
    REQUIRE(c);
    return c->agent_id != 0 && password_matches(password, c->hash);
  }
};

}  // namespace

TEST_CASE("giftctl agent: add reads the password from standard input, never shows it") {
  Desk desk;
  auto r = desk.with_input("agent add Wang.Fang --role supervisor", kPassword + "\n");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "agent wang.fang added (role supervisor)"));
  CHECK(!contains(r.out + r.err, kPassword));
  CHECK(desk.signs_in("wang.fang", kPassword));
  CHECK(!desk.signs_in("wang.fang", "winter plum 2027"));

  // A file's first line, with a Windows line end.
  std::ofstream(desk.dir.file("pw")) << "spring rain 2026\r\nsecond line\n";
  r = desk("agent add li.lei --role agent --password-file " + desk.dir.file("pw"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(desk.signs_in("li.lei", "spring rain 2026"));

  r = desk("agent list");
  REQUIRE(r.status == 0);
  CHECK(line_with(r.out, {"wang.fang", "supervisor", "no", "0"}));
  CHECK(line_with(r.out, {"li.lei", "agent"}));
  CHECK(!contains(r.out, kPassword));
  CHECK(!contains(r.out, "scrypt"));

  r = desk("agent list --format json");
  REQUIRE(r.status == 0);
  const auto rows = nlohmann::json::parse(r.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["name"] == "li.lei");
  CHECK(rows[1]["role"] == "supervisor");
  CHECK(rows[1]["disabled"] == "no");
  CHECK(rows[1]["last_sign_in"] == "");
  CHECK(std::string(rows[1]["created_at"]).size() == 20);  // ISO-8601 UTC

  const std::string history = desk.events();
  CHECK(contains(history, "agent_added agent wang.fang: role supervisor"));
  CHECK(!contains(history, kPassword));
  CHECK(!contains(history, "spring rain"));
  CHECK(!contains(history, "scrypt"));
}

TEST_CASE("giftctl agent: a taken name, a bad name, a weak or missing password are refused") {
  Desk desk;
  REQUIRE(desk.with_input("agent add wang.fang --role agent", kPassword + "\n").status == 0);

  auto r = desk.with_input("agent add WANG.FANG --role agent", "another long one\n");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "exists already"));
  CHECK(desk.signs_in("wang.fang", kPassword));  // the first one's password stands

  r = desk.with_input("agent add chen.jie --role admin", kPassword + "\n");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--role 'admin'"));
  r = desk.with_input("agent add chen.jie", kPassword + "\n");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--role"));
  r = desk.with_input("agent add 'chen jie' --role agent", kPassword + "\n");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "1 to 32"));
  r = desk.with_input("agent add chen.jie --role agent", "short\n");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "at least 10 characters"));
  CHECK(!contains(r.err, "short\n"));
  r = desk.with_input("agent add chen.jie --role agent", "");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "no password"));
  r = desk("agent add chen.jie --role agent --password-file " + desk.dir.file("missing"));
  CHECK(r.status == 2);
  CHECK(contains(r.err, "cannot be read"));

  r = desk("agent list --format csv");
  REQUIRE(r.status == 0);
  CHECK(!contains(r.out, "chen.jie"));
}

TEST_CASE("giftctl agent: disable, enable and a new password, each in the history") {
  Desk desk;
  REQUIRE(desk.with_input("agent add wang.fang --role agent", kPassword + "\n").status == 0);

  auto r = desk("agent disable wang.fang");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--reason"));
  r = desk("agent disable nobody --reason test");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "no agent nobody"));

  r = desk("agent disable wang.fang --reason 'left the desk'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "agent wang.fang disabled"));
  CHECK(!desk.signs_in("wang.fang", kPassword));
  r = desk("agent list");
  CHECK(line_with(r.out, {"wang.fang", "yes"}));
  r = desk("agent disable wang.fang --reason again");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "already disabled"));

  r = desk("agent enable wang.fang --reason back");
  REQUIRE(r.status == 0);
  CHECK(desk.signs_in("wang.fang", kPassword));

  r = desk.with_input("agent password wang.fang", "a brand new password\n");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(!contains(r.out + r.err, "a brand new password"));
  CHECK(desk.signs_in("wang.fang", "a brand new password"));
  CHECK(!desk.signs_in("wang.fang", kPassword));
  r = desk.with_input("agent password nobody", "a brand new password\n");
  CHECK(r.status == 1);

  const std::string history = desk.events();
  CHECK(contains(history, "agent_disabled agent wang.fang: left the desk"));
  CHECK(contains(history, "agent_enabled agent wang.fang: back"));
  CHECK(contains(history, "agent_password_set agent wang.fang"));
  CHECK(!contains(history, "a brand new password"));
  CHECK(!contains(history, kPassword));
}
