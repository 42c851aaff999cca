// giftctl push as operators run it: the built binary on a small seeded
// campaign, its output (text, CSV, JSON) and exit status. The push is moved
// on by the Pushes class itself (step), as giftgated would, so that show and
// report have figures to give.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/campaign/audience.hpp"
#include "daemon/campaign/pushes.hpp"
#include "daemon/config/config.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/giftctl_run.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;

namespace {

using Run = test::CtlRun;

using giftgate::test::contains;
using giftgate::test::line_with;

// 40 members in Beijing with 6000 points, 10 in Shanghai with 100, and one
// in Beijing who opted out (TD): no push may count or reach them.
struct Club {
  test::TempDir dir;
  std::string db_path = dir.file("campaign.db");
  std::string config_path = dir.file("giftgate.yaml");

  Club() {
    // No quiet hours and no interval between pushes: the steps below may
    // run at any hour, and more than one push reaches a member.
    std::ofstream(config_path) << "storage:\n  path: " << db_path
                               << "\ncampaign:\n  start: 2026-01-01\n  end: 2036-01-01\n"
                                  "templates:\n  path: " GIFTGATE_SOURCE_DIR
                                  "/templates/messages.yaml\n"
                                  "pushes:\n  quiet_hours: \"00:00-00:00\"\n"
                                  "  member_interval_hours: 0\n";
    std::string csv = "msisdn,city,language,opt_out,points\n";
    for (int i = 0; i < 40; ++i) csv += fmt::format("138000{:05},beijing,zh,0,6000\n", i);
    for (int i = 0; i < 10; ++i) csv += fmt::format("139000{:05},shanghai,en,0,100\n", i);
    csv += "13700000000,beijing,zh,1,6000\n";
    std::ofstream(dir.file("members.csv")) << csv;
    const auto r = (*this)("import members " + dir.file("members.csv"));
    INFO(r.err);
    REQUIRE(r.status == 0);
  }

  Run operator()(const std::string& args) {
    return test::run_giftctl(dir, config_path, "--operator test " + args);
  }

  std::int64_t value(const std::string& sql) {
    auto db = test::open_campaign_db(db_path);
    auto q = db->prepare(sql);
    return q.step() == db::StepResult::row ? q.column_int(0) : -1;
  }

  // Moves the push on as giftgated would, until it has given every
  // recipient their turn (at most 100 steps).
  void send_all(const std::string& push) {
    std::string error;
    auto config = load_config(config_path, &error);
    REQUIRE_MESSAGE(config, error);
    auto templates = Templates::load(config->templates_path, config->max_parts, &error);
    REQUIRE_MESSAGE(templates, error);
    auto db = test::open_campaign_db(db_path);
    Pushes pushes(*db, *config, templates);
    const Time start =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    PushInfo info;
    for (int i = 0; i < 100; ++i) {
      const auto step = pushes.step(start + std::chrono::seconds(i), std::chrono::seconds(1));
      REQUIRE_MESSAGE(step.status.ok(), step.status.message);
      REQUIRE(pushes.show(push, info, &error) == Pushes::Found::found);
      if (info.state == "done") break;
    }
    REQUIRE(info.state == "done");
  }
};

// The members of a push in one state, in member id order, with their turn.
struct Recipient {
  std::int64_t member_id, at, outbox_id;
};
std::vector<Recipient> recipients(const std::string& db_path, const std::string& push,
                                  const std::string& state) {
  auto db = test::open_campaign_db(db_path);
  auto q = db->prepare(
      "SELECT r.member_id, r.at, COALESCE(r.outbox_id, 0) FROM push_recipients r JOIN pushes p "
      "ON p.id = r.push_id WHERE p.name = ? AND r.state = ? ORDER BY r.member_id");
  q.bind(1, push).bind(2, state);
  std::vector<Recipient> found;
  REQUIRE(q.each_row([&] {
             found.push_back({q.column_int(0), q.column_int(1), q.column_int(2)});
           }).ok());
  return found;
}

// CSV's header and first row, as column: value.
std::map<std::string, std::string> csv_row(const std::string& text) {
  std::istringstream lines(text);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  const auto split = [](const std::string& line) {
    std::vector<std::string> fields;
    std::istringstream s(line);
    for (std::string f; std::getline(s, f, ',');) fields.push_back(f);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    return fields;
  };
  const auto names = split(header), values = split(row);
  std::map<std::string, std::string> m;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) m[names[i]] = values[i];
  return m;
}

std::string pct(std::int64_t n, std::int64_t of) {
  return fmt::format("{:.2f}", 100.0 * static_cast<double>(n) / static_cast<double>(of));
}

}  // namespace

TEST_CASE("giftctl push create: --dry-run counts the audience, opted-out members excluded") {
  Club club;
  auto r = club("push create tips --template push_tips --audience 'city = beijing' --dry-run");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "push tips: 40 members match the audience now"));
  CHECK(contains(r.out, "nothing created, nothing sent"));
  r = club("push create tips --template push_tips --audience 'city = shanghai' --dry-run");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, ": 10 members match"));
  CHECK(club.value("SELECT COUNT(*) FROM pushes") == 0);
  CHECK(club.value("SELECT COUNT(*) FROM outbox") == 0);

  r = club("push create tips --template push_tips --audience 'city = beijing' --holdout 25%");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "push tips created: 40 members match the audience now"));
  CHECK(club.value("SELECT holdout_pct FROM pushes WHERE name = 'tips'") == 25);
  // A name is a push's for good.
  r = club("push create tips --template push_tips --audience all");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "tips"));
  CHECK(club.value("SELECT COUNT(*) FROM pushes") == 1);
}

TEST_CASE("giftctl push create: what is wrong is said, exit 2, and nothing is created") {
  Club club;
  const std::string ok = " --template push_tips --audience 'city = beijing'";
  const std::pair<std::string, std::string> wrong[] = {
      {"push create p --template nosuch --audience all", "nosuch"},
      {"push create p --template help --audience all", "help"},  // not a push_ text
      {"push create p --template push_tips --audience 'city =='", "audience"},
      {"push create p --template push_tips --audience 'colour = red'", "colour"},
      {"push create p" + ok + " --at tomorrow", "--at 'tomorrow' is not a time"},
      {"push create p" + ok + " --until 2026-02-30", "--until '2026-02-30' is not a time"},
      {"push create p" + ok + " --at '2030-01-02 10:00' --until '2030-01-01 10:00'", "until"},
      {"push create p" + ok + " --holdout 95", "holdout"},
      {"push create p" + ok + " --holdout half", "--holdout 'half' is not a percentage"},
      {"push create p" + ok + " --rate fast", "--rate 'fast'"},
      {"push create 'Bad Name!'" + ok, "name"},
      {"push create p --audience all", "needs --template"},
      {"push create p --template push_tips", "needs --audience"},
  };
  for (const auto& [args, said] : wrong) {
    const auto r = club(args);
    INFO(args);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(contains(r.err, said));
    CHECK(r.out.empty());
  }
  CHECK(club.value("SELECT COUNT(*) FROM pushes") == 0);
}

TEST_CASE("giftctl push pause, resume and cancel change the state, and refuse what it forbids") {
  Club club;
  REQUIRE(club("push create later --template push_tips --audience all --at '2035-12-24 10:00' "
               "--until '2035-12-25 10:00'")
              .status == 0);
  // 2035-12-24 10:00 in Shanghai (UTC+8) is 02:00 UTC.
  CHECK(club.value("SELECT start_at = '2035-12-24T02:00:00Z' FROM pushes") == 1);
  auto r = club("push resume later");
  CHECK(r.status == 1);  // not paused
  r = club("push pause later");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "push later paused"));
  CHECK(line_with(club("push show later").out, {"state", "scheduled (paused)"}));
  CHECK(club.value("SELECT paused FROM pushes WHERE name = 'later'") == 1);
  r = club("push resume later");
  CHECK(r.status == 0);
  CHECK(club.value("SELECT paused FROM pushes WHERE name = 'later'") == 0);
  r = club("push resume later");
  CHECK(r.status == 1);
  r = club("push cancel later");
  CHECK(r.status == 0);
  CHECK(contains(r.out, "push later cancelled"));
  CHECK(line_with(club("push show later").out, {"state", "cancelled"}));
  r = club("push cancel later");
  CHECK(r.status == 1);  // already ended
  r = club("push pause later");
  CHECK(r.status == 1);
  r = club("push resume nosuch");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "no push nosuch"));
  CHECK(club("push show nosuch").status == 1);
  CHECK(club("push show later --format yaml").status == 2);

  r = club("push list --format csv");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "name,state,template,"));
  CHECK(contains(r.out, "later,cancelled,push_tips,2035-12-24T02:00:00Z,2035-12-25T02:00:00Z,0,"));
  r = club("push list");
  REQUIRE(r.status == 0);
  CHECK(line_with(r.out, {"later", "cancelled", "2035-12-24 10:00", "2035-12-25 10:00"}));
}

TEST_CASE("giftctl push test queues one message per number, rendered for its member") {
  Club club;
  REQUIRE(club("push create tips --template push_tips --audience 'city = beijing'").status == 0);
  const std::string member = "8613900000003";  // a member in Shanghai, 100 points, English
  const std::string staff = "8613611112222";   // no member: sample values
  auto r = club("push test tips 13900000003 +86-136-1111-2222");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "2 test message(s) of push tips queued"));
  auto db = test::open_campaign_db(club.db_path);
  for (const auto& number : {member, staff}) {
    auto q = db->prepare("SELECT COUNT(*), MAX(body) FROM outbox WHERE msisdn = ?");
    q.bind(1, number);
    REQUIRE(q.step() == db::StepResult::row);
    CHECK(q.column_int(0) == 1);
    const std::string body = q.column_text(1);
    CHECK(!body.empty());
    CHECK(line_with(r.out, {number + ": " + body}));
  }
  auto q = db->prepare("SELECT body FROM outbox WHERE msisdn = ?");
  q.bind(1, member);
  REQUIRE(q.step() == db::StepResult::row);
  CHECK(contains(q.column_text(0), "you have 100 points"));
  // The test messages are not the push's: it has queued nothing.
  CHECK(club.value("SELECT COUNT(*) FROM outbox WHERE push_id IS NOT NULL") == 0);

  r = club("push test tips hello");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "'hello' is not a phone number"));
  CHECK(club("push test tips").status == 2);
  CHECK(club("push test nosuch 13900000003").status == 1);
  CHECK(club.value("SELECT COUNT(*) FROM outbox") == 2);
}

TEST_CASE("giftctl push show and report: recipients, messages and the effect against the holdout") {
  Club club;
  REQUIRE(club("push create tips --template push_tips --audience 'city = beijing' --holdout 50 "
               "--rate 1000")
              .status == 0);
  club.send_all("tips");
  const auto sent = recipients(club.db_path, "tips", "queued");
  const auto held = recipients(club.db_path, "tips", "holdout");
  REQUIRE(sent.size() + held.size() == 40);
  REQUIRE(sent.size() >= 5);
  REQUIRE(held.size() >= 2);
  {
    // Their turns ten days ago, so that every window has passed; then three
    // messages delivered, one failed; redemptions 2 hours, 2, 5 and 10 days
    // after the turn in the sent group, 6 days after in the holdout.
    auto db = test::open_campaign_db(club.db_path);
    REQUIRE(db->exec("UPDATE push_recipients SET at = at - 864000").ok());
    for (std::size_t i = 0; i < 4; ++i)
      REQUIRE(db->prepare("UPDATE outbox SET state = ?, attempts = 1, final_at = created_at "
                          "WHERE id = ?")
                  .bind(1, i < 3 ? "delivered" : "failed")
                  .bind(2, sent[i].outbox_id)
                  .run()
                  .ok());
    const auto voucher = [&](const std::string& code, const Recipient& who, std::int64_t after) {
      const Time issued{std::chrono::seconds(who.at - 864000 + after)};
      REQUIRE(db->prepare("INSERT INTO vouchers(code, member_id, tier, city, price, face_value, "
                          "channel, issued_at, expires_at) VALUES (?, ?, 'A', 'beijing', 5000, "
                          "100, 'sms', ?, '2036-01-01T00:00:00Z')")
                  .bind(1, code)
                  .bind(2, who.member_id)
                  .bind(3, iso_time(issued))
                  .run()
                  .ok());
    };
    voucher("AA00000001", sent[0], 2 * 3600);
    voucher("AA00000002", sent[1], 2 * 86400);
    voucher("AA00000003", sent[2], 5 * 86400);
    voucher("AA00000004", sent[3], 10 * 86400);
    voucher("AA00000005", held[0], 6 * 86400);
  }
  const auto ns = static_cast<std::int64_t>(sent.size());
  const auto nh = static_cast<std::int64_t>(held.size());
  const double lift7 = 100.0 * 3 / static_cast<double>(ns) - 100.0 * 1 / static_cast<double>(nh);

  auto r = club("push show tips --format json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["name"] == "tips");
  CHECK(j["state"] == "done");
  CHECK(j["paused"] == false);
  CHECK(j["template"] == "push_tips");
  CHECK(j["holdout_pct"] == 50);
  CHECK(j["rate"] == 1000);
  CHECK(j["until_at"].is_null());
  CHECK(j["targeted"] == 40);
  CHECK(j["held_out"] == nh);
  CHECK(j["recipients"]["queued"] == ns);
  CHECK(j["recipients"]["pending"] == 0);
  CHECK(j["messages"]["delivered"] == 3);
  CHECK(j["messages"]["failed"] == 1);
  CHECK(j["messages"]["sent"] == 4);
  CHECK(j["messages"]["queued"] == ns - 4);
  CHECK(j["effect"]["days"] == nlohmann::json({1, 3, 7}));
  CHECK(j["effect"]["sent"]["members"] == ns);
  CHECK(j["effect"]["sent"]["redeemed"] == nlohmann::json({1, 2, 3}));
  CHECK(j["effect"]["holdout"]["members"] == nh);
  CHECK(j["effect"]["holdout"]["redeemed"] == nlohmann::json({0, 0, 1}));
  CHECK(j["effect"]["sent"]["rate_pct"][2].get<double>() ==
        doctest::Approx(300.0 / static_cast<double>(ns)));
  CHECK(j["effect"]["lift_pp"][2].get<double>() == doctest::Approx(lift7));
  CHECK(j["effect"]["lift_pp"][0].get<double>() ==
        doctest::Approx(100.0 / static_cast<double>(ns)));
  CHECK(j["effect"]["opted_out_since"] == 0);

  r = club("push show tips --format csv");
  REQUIRE(r.status == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);  // a header and one row
  auto row = csv_row(r.out);
  CHECK(row["name"] == "tips");
  CHECK(row["state"] == "done");
  CHECK(row["targeted"] == "40");
  CHECK(row["held_out"] == std::to_string(nh));
  CHECK(row["recipients_queued"] == std::to_string(ns));
  CHECK(row["messages_delivered"] == "3");
  CHECK(row["messages_failed"] == "1");
  CHECK(row["sent_redeemed_1d"] == "1");
  CHECK(row["sent_redeemed_3d"] == "2");
  CHECK(row["sent_redeemed_7d"] == "3");
  CHECK(row["holdout_redeemed_7d"] == "1");
  CHECK(row["sent_rate_7d_pct"] == pct(3, ns));
  CHECK(row["holdout_rate_7d_pct"] == pct(1, nh));
  CHECK(row["lift_7d_pp"] == fmt::format("{:.2f}", lift7));

  r = club("push show tips");
  REQUIRE(r.status == 0);
  CHECK(line_with(r.out, {"state", "done"}));
  CHECK(line_with(r.out, {"audience", "beijing"}));
  CHECK(line_with(r.out, {"holdout", "50%"}));
  CHECK(line_with(r.out, {"rate", "1000 messages a second"}));
  CHECK(line_with(r.out, {"targeted", "40"}));
  CHECK(line_with(r.out, {"held out", std::to_string(nh)}));
  CHECK(line_with(r.out, {"delivered", "3"}));
  CHECK(line_with(r.out, {"failed", "1"}));
  CHECK(line_with(r.out, {"members", std::to_string(ns), std::to_string(nh)}));
  CHECK(line_with(r.out, {"within 7 days", fmt::format("{:+.1f} pp", lift7)}));

  r = club("report --by pushes --format csv");
  REQUIRE(r.status == 0);
  CHECK(r.out == fmt::format("push,state,targeted,held_out,sent,delivered,failed,"
                             "sent_rate_7d_pct,holdout_rate_7d_pct,lift_7d_pp\n"
                             "tips,done,40,{},4,3,1,{},{},{:.2f}\n",
                             nh, pct(3, ns), pct(1, nh), lift7));
  r = club("report --by pushes --format json");
  REQUIRE(r.status == 0);
  const auto report = nlohmann::json::parse(r.out);
  REQUIRE(report.size() == 1);
  CHECK(report[0]["push"] == "tips");
  CHECK(report[0]["lift_7d_pp"].get<double>() == doctest::Approx(lift7).epsilon(0.01));
  r = club("report");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "\npushes\n"));
  CHECK(line_with(r.out, {"tips", "done", "40", std::to_string(nh)}));
}

TEST_CASE("giftctl push create --help and the manual give the audience grammar the parser reads") {
  Club club;
  const auto r = club("push create --help");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, describe_audience_grammar()));
  // Every condition the parser describes (the first word of each of its
  // indented lines, and the words after a comma there) has its entry under
  // AUDIENCES in the manual.
  std::ifstream in(GIFTGATE_SOURCE_DIR "/man/giftctl.1");
  std::ostringstream page;
  page << in.rdbuf();
  const std::string man = page.str();
  const auto from = man.find(".SH AUDIENCES");
  REQUIRE(from != std::string::npos);
  const std::string section = man.substr(from, man.find(".SH ", from + 1) - from);
  std::istringstream lines(describe_audience_grammar());
  int conditions = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  ", 0) != 0) continue;
    std::istringstream words(line);
    std::string word;
    words >> word;
    if (!word.empty() && word.back() == ',') word.pop_back();
    ++conditions;
    INFO(line);
    CHECK(contains(section, ".B " + word) + contains(section, ".BI \"" + word) +
              contains(section, ".BR " + word) + contains(section, ".BR \"" + word) > 0);
    for (const char* other : {"no_voucher", "imported_before", "not in"})
      if (contains(line, std::string(", ") + other)) CHECK(contains(section, other));
  }
  CHECK(conditions >= 9);
}

TEST_CASE("giftctl push show: a name typed with escapes reaches no terminal raw, in any format") {
  Club club;
  // An operator's name with an escape sequence, a right-to-left override
  // and a byte that is not UTF-8, as --operator gives it to the history.
  const std::string typed = "ops\x1b[31m\xe2\x80\xae\xff";
  REQUIRE(club("push create tips --template push_tips --audience all --operator '" + typed + "'")
              .status == 0);
  for (const char* form : {"text", "csv", "json"}) {
    const auto r = club(std::string("push show tips --format ") + form);
    INFO(form);
    REQUIRE(r.status == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find("\xe2\x80\xae") == std::string::npos);
    CHECK(r.out.find('\xff') == std::string::npos);
  }
  const auto j = nlohmann::json::parse(club("push show tips --format json").out);
  // The text as stored, but the byte that is not UTF-8 as the text \xff.
  CHECK(j["created_by"] == "ops\x1b[31m\xe2\x80\xae\\xff");
  CHECK(contains(club("push show tips").out, "ops\\x1b[31m\\u202e\\xff"));
}
