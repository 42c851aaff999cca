// giftctl as operators run it: the built binary, its output and exit status.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/campaign_db.hpp"
#include "tests/support/giftctl_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using Run = giftgate::test::CtlRun;

class Ctl {
 public:
  Ctl() {
    write("giftgate.yaml",
          "storage:\n  path: " + dir_.file("campaign.db") +
              "\ncampaign:\n  start: 2026-01-01\n  end: 2036-01-01\n  confirm_minutes: 0\n");
  }

  Run operator()(const std::string& args) {
    return giftgate::test::run_giftctl(dir_, dir_.file("giftgate.yaml"), "--operator test " + args);
  }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name), std::ios::binary) << text;
    return dir_.file(name);
  }
  std::string path(const std::string& name) const { return dir_.file(name); }
  std::string file(const std::string& name) const { return dir_.file(name); }
  std::string read(const std::string& name) {
    std::ifstream in(dir_.file(name), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  giftgate::test::TempDir dir_;
};

using giftgate::test::contains;
using giftgate::test::line_with;

}  // namespace

TEST_CASE("giftctl: usage errors exit 2 and say what") {
  Ctl ctl;
  auto r = ctl("");
  CHECK(r.status == 2);
  CHECK(contains(r.out, "usage: giftctl"));
  CHECK(ctl("--help").status == 0);
  r = ctl("frobnicate");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "unknown command 'frobnicate'"));
  r = ctl("--colour red member 13800138000");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "unknown option --colour"));
  r = ctl("points 13800138000 12 --reason x");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "'12' is not +N or -N"));
  r = ctl("report --by colour");
  CHECK(r.status == 2);
  r = ctl("--config /nonexistent/giftgate.yaml member 13800138000");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "/nonexistent/giftgate.yaml: cannot be read"));
  // Each command takes its own options only, and says which with --help.
  r = ctl("member 13800138000 --by tier");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--by is not an option of member"));
  CHECK(r.out.empty());
  r = ctl("merchant disable --help");
  CHECK(r.status == 0);
  CHECK(contains(r.out, "usage: giftctl merchant disable [options] ID"));
  CHECK(contains(r.out, "--reason TEXT"));
  CHECK_FALSE(contains(r.out, "--by"));
}

TEST_CASE("giftctl: a member's story, from import to voided voucher") {
  Ctl ctl;
  const auto members = ctl.write("members.csv", "msisdn,city,points\n13800138000,beijing,12000\n");
  auto r = ctl("import members " + members);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "1 rows, 1 applied, 0 already there, 12000 points added"));
  REQUIRE(ctl("stock A beijing 1").status == 0);

  r = ctl("redeem 13800138000 A --request call-7");
  REQUIRE(r.status == 0);
  const auto at = r.out.find("voucher ") + 8;
  const std::string code = r.out.substr(at, 10);
  r = ctl("redeem 13800138000 A --request call-8");
  CHECK(r.status == 1);  // no stock left: a business rule
  CHECK(contains(r.err, "none of that tier left"));
  r = ctl("points +86-138-0013-8000 -8000 --reason 'too many'");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "has 7000 points"));
  // The largest number 64 bits hold is refused, so one more cannot overflow.
  r = ctl("points 13800138000 +9223372036854775807 --reason typo");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "more than campaign.max_points_change (1000000); nothing changed"));
  r = ctl("points 13800138000 +1 --reason fine");
  CHECK(r.status == 0);
  CHECK(contains(r.out, "8613800138000: +1 points, balance 7001"));
  REQUIRE(ctl("points 13800138000 -1 --reason back").status == 0);

  r = ctl("void " + code);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "needs --reason"));
  REQUIRE(ctl("void " + code + " --reason 'member complaint 17'").status == 0);
  CHECK(ctl("void " + code + " --reason again").status == 1);

  r = ctl("member 13800138000");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "balance  12000 points"));
  CHECK(contains(r.out, "void"));
  r = ctl("voucher " + code);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "voucher_issued"));
  CHECK(contains(r.out, "voucher_voided"));
  CHECK(contains(r.out, "member complaint 17 (points refunded)"));

  r = ctl("report --by tier --format csv");
  REQUIRE(r.status == 0);
  CHECK(r.out == "tier,issued,used,voided,expired,points_spent,value_issued,value_used\nA,1,0,1,0,0,0,0\n");
  r = ctl("export redemptions --since 2026-01-01");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "8613800138000," + code + ",A,5000,100,beijing,giftctl,"));
}

TEST_CASE("giftctl: --output files hold numbers and codes, so only the owner may read them") {
  Ctl ctl;
  const auto members = ctl.write("members.csv", "msisdn,city,points\n13800138000,beijing,12000\n");
  REQUIRE(ctl("import members " + members).status == 0);
  REQUIRE(ctl("stock A beijing 1").status == 0);
  REQUIRE(ctl("redeem 13800138000 A").status == 0);
  const mode_t old_umask = ::umask(022);  // what would make a new file 0644
  const auto mode_of = [&](const std::string& name) {
    struct stat st {};
    REQUIRE(::stat(ctl.path(name).c_str(), &st) == 0);
    return static_cast<int>(st.st_mode & 07777);
  };
  auto r = ctl("export redemptions --since 2026-01-01 --output " + ctl.path("export.csv"));
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(mode_of("export.csv") == 0600);
  CHECK(contains(ctl.read("export.csv"), "8613800138000,"));
  // A file that was there, open to all (an older export): private before
  // anything is written to it.
  ctl.write("member.txt", "old\n");
  REQUIRE(::chmod(ctl.path("member.txt").c_str(), 0644) == 0);
  CHECK(ctl("member 13800138000 --output " + ctl.path("member.txt")).status == 0);
  CHECK(mode_of("member.txt") == 0600);
  CHECK(contains(ctl.read("member.txt"), "balance  7000 points"));
  CHECK(ctl("report --output " + ctl.path("report.txt")).status == 0);
  CHECK(mode_of("report.txt") == 0600);
  ::umask(old_umask);
}

TEST_CASE("giftctl: a bad import changes nothing and names file and line") {
  Ctl ctl;
  const auto bad =
      ctl.write("bad.csv", "msisdn,city,points\n13800138000,beijing,10\n13800138001,beijing,-5\n");
  auto r = ctl("import members " + bad);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "bad.csv:3: points must be a whole number of 0 or more, not '-5'"));
  CHECK(contains(r.err, "nothing of " + bad + " was imported"));
  r = ctl("member 13800138000");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "8613800138000 is not a member"));
}

TEST_CASE("giftctl: templates check and render, before a change goes live") {
  Ctl ctl;
  const std::string shipped = std::string(GIFTGATE_SOURCE_DIR) + "/templates/messages.yaml";
  auto r = ctl("templates check " + shipped);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "ok, 37 messages"));  // web_code since schema 15
  r = ctl("templates render voucher_line --lang en --file " + shipped +
          " code=AE12098768 value=50 expires=2026-12-31");
  CHECK(r.status == 0);
  CHECK(r.out == "AE12098768 50 yuan until 2026-12-31\n-- 35 characters, 1 SMS part(s)\n");
  const auto broken = ctl.write("broken.yaml", "help:\n  zh: \"{code}\"\n  en: x\n");
  r = ctl("templates check " + broken);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "broken.yaml:2: 'help' zh: unknown placeholder {code}"));
  r = ctl("templates render nosuch --file " + shipped);
  CHECK(r.status == 2);
  // The USSD menus, against the screen limits.
  const std::string menus = std::string(GIFTGATE_SOURCE_DIR) + "/templates/menus.yaml";
  r = ctl("templates check --menus " + menus);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "within 182 GSM or 80 UCS-2 characters"));
  const auto wordy = ctl.write("wordy.yaml", "help:\n  zh: \"" + std::string(200, 'x') + "\"\n");
  r = ctl("templates check --menus " + wordy);
  CHECK(r.status == 2);
  CHECK(contains(r.err, "wordy.yaml:"));
}

TEST_CASE("giftctl: resend needs a code or a message id that exists") {
  Ctl ctl;
  auto r = ctl("resend hello");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "neither a voucher code nor a message id"));
  r = ctl("resend 42");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "no message for 42"));
  r = ctl("report --by messages --format csv");
  CHECK(r.status == 0);
  CHECK(r.out == "message,total,queued,submitted,delivered,failed,expired,resent\n");
}

TEST_CASE("giftctl: what a member texted cannot drive the terminal or forge a row") {
  Ctl ctl;
  const auto members = ctl.write("members.csv", "msisdn,city,points\n13800138000,beijing,100\n");
  REQUIRE(ctl("import members " + members).status == 0);
  {
    // Set the window title, clear the screen, then a line that reads as a
    // row of the table below; a right-to-left override; a byte not UTF-8.
    auto db = giftgate::test::open_campaign_db(ctl.file("campaign.db"));
    REQUIRE(db->exec("INSERT INTO inbox(mo_key, msisdn, body, command, channel, received_at) "
                     "VALUES ('k1', '8613800138000', 'JF\x1b]0;pwned\x07\x1b[2J\n"
                     "2026-01-01T00:00:00Z  sms      refund  all points', 'balance', 'sms', "
                     "'2026-01-02T00:00:00Z'), ('k2', '8613800138000', 'ok \xe2\x80\xae"
                     "gpj.exe \xc2\x9b" "2J \xff', 'help', 'sms', '2026-01-02T00:00:01Z')")
                .ok());
  }
  auto r = ctl("member 13800138000");
  REQUIRE(r.status == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find('\x07') == std::string::npos);
  CHECK(r.out.find("\xe2\x80\xae") == std::string::npos);
  CHECK(r.out.find("\xc2\x9b") == std::string::npos);
  CHECK(r.out.find('\xff') == std::string::npos);
  CHECK(contains(r.out, "JF\\x1b]0;pwned\\x07\\x1b[2J\\n2026-01-01T00:00:00Z  sms"));
  CHECK(contains(r.out, "ok \\u202egpj.exe \\u009b2J \\xff"));
  // No line of the output starts with the forged time.
  CHECK_FALSE(contains(r.out, "\n2026-01-01T00:00:00Z"));

  // A city typed with escapes, listed as a table, CSV and JSON.
  REQUIRE(ctl("stock A 'bj\x1b[31m\xe2\x80\xae' 5").status == 0);
  r = ctl("stock");
  CHECK(contains(r.out, "bj\\x1b[31m\\u202e"));
  CHECK(r.out.find('\x1b') == std::string::npos);
  r = ctl("stock --format csv");
  CHECK(r.out == "tier,city,quantity\nA,bj\\x1b[31m\\u202e,5\n");
  r = ctl("stock --format json");
  CHECK(r.out == "[\n {\"tier\": \"A\", \"city\": \"bj\\u001b[31m\\u202e\", \"quantity\": 5}\n]\n");
}

TEST_CASE("giftctl: the history shows the real account beside the operator declared") {
  Ctl ctl;  // runs every command with --operator test
  const passwd* pw = ::getpwuid(::getuid());
  const std::string real =
      "(uid " + std::to_string(::getuid()) + (pw ? std::string(" ") + pw->pw_name : "") + ")";
  REQUIRE(std::string(pw ? pw->pw_name : "") != "test");  // declared and real differ
  const auto members = ctl.write("members.csv", "msisdn,city,points\n13800138000,beijing,9000\n");
  REQUIRE(ctl("import members " + members).status == 0);
  REQUIRE(ctl("points 13800138000 +50 --reason goodwill").status == 0);
  REQUIRE(ctl("stock A beijing 1").status == 0);
  auto r = ctl("redeem 13800138000 A");
  REQUIRE(r.status == 0);
  const std::string code = r.out.substr(r.out.find("voucher ") + 8, 10);

  r = ctl("member 13800138000");
  REQUIRE(r.status == 0);
  // The ledger and the history: the import, the points and the redemption.
  CHECK(line_with(r.out, {"opening balance", "test (" + members + ") " + real}));
  CHECK(line_with(r.out, {"goodwill", "giftctl", "test " + real}));
  CHECK(line_with(r.out, {"voucher_issued", "giftctl", "test " + real}));
  r = ctl("voucher " + code);
  CHECK(line_with(r.out, {"voucher_issued", "giftctl", "test " + real}));

  // And in SQL, as columns beside the actor.
  auto db = giftgate::test::open_campaign_db(ctl.file("campaign.db"));
  auto q = db->prepare(
      "SELECT COUNT(*), SUM(real_uid = ?), SUM(real_user IS ?) FROM events WHERE channel = "
      "'giftctl' AND actor = 'test'");
  q.bind(1, std::int64_t{::getuid()});
  if (pw) q.bind(2, pw->pw_name);
  else q.bind(2, std::nullopt);
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) >= 3);  // points, stock, voucher issued ...
  CHECK(q.column_int(1) == q.column_int(0));
  CHECK(q.column_int(2) == q.column_int(0));
  auto l = db->prepare("SELECT COUNT(*) FROM ledger WHERE real_uid IS NULL");
  REQUIRE(l.step() == giftgate::db::StepResult::row);
  CHECK(l.column_int(0) == 0);  // the opening balance too: an import by an operator
}

TEST_CASE("giftctl: merchants disabled, enabled and a number taken away, each in the history") {
  Ctl ctl;
  const auto merchants = ctl.write(
      "merchants.csv",
      "id,name,city,kind,level,phones,offer_a\n"
      "bj-1,Star KTV,beijing,ktv,high,13911111111 13911111113,5 hours\n"
      "bj-2,Sky Cinema,beijing,cinema,low,13911111112,\n");
  auto r = ctl("import merchants " + merchants);
  INFO(r.err);
  REQUIRE(r.status == 0);

  r = ctl("merchant disable bj-1");
  CHECK(r.status == 2);
  CHECK(contains(r.err, "merchant disable needs --reason TEXT"));
  CHECK(ctl("merchant frobnicate bj-1").status == 2);
  CHECK(ctl("merchant disable nosuch --reason x").status == 1);
  r = ctl("merchant disable bj-1 --reason 'contract ended'");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "merchant bj-1 disabled"));
  r = ctl("merchant disable bj-1 --reason again");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "merchant bj-1 is already disabled"));
  r = ctl("merchant list --format csv");
  REQUIRE(r.status == 0);
  CHECK(r.out == "id,name,city,kind,level,state,numbers,offers\n"
                 "bj-1,Star KTV,beijing,ktv,high,disabled,8613911111111 8613911111113,A: 5 hours\n"
                 "bj-2,Sky Cinema,beijing,cinema,low,enabled,8613911111112,\n");
  // Importing the file again keeps the merchant disabled.
  REQUIRE(ctl("import merchants " + merchants).status == 0);
  CHECK(contains(ctl("merchant list").out, "disabled"));
  REQUIRE(ctl("merchant enable bj-1 --reason renewed").status == 0);
  CHECK_FALSE(contains(ctl("merchant list").out, "disabled"));

  r = ctl("merchant remove-number bj-1 13911111112 --reason x");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "8613911111112 is not a number of merchant bj-1"));
  r = ctl("merchant remove-number bj-2 139-1111-1112 --reason x");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "the only number of merchant bj-2"));
  CHECK(ctl("merchant remove-number bj-1 hello --reason x").status == 2);
  r = ctl("merchant remove-number bj-1 +86 139 1111 1113 --reason 'handset stolen'");
  CHECK(r.status == 2);  // unquoted: too many words
  r = ctl("merchant remove-number bj-1 '+86 139 1111 1113' --reason 'handset stolen'");
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "8613911111113 is no longer a number of merchant bj-1"));
  CHECK(line_with(ctl("merchant list").out, {"bj-1", "enabled", "8613911111111  A: 5 hours"}));

  auto db = giftgate::test::open_campaign_db(ctl.file("campaign.db"));
  auto q = db->prepare(
      "SELECT group_concat(kind || ' by ' || actor || ' uid ' || real_uid || ': ' || detail, "
      "'\n') FROM events WHERE kind <> 'merchant_loaded' ORDER BY id");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  const std::string uid = std::to_string(::getuid());
  CHECK(q.column_text(0) ==
        "merchant_disabled by test uid " + uid + ": merchant bj-1: contract ended\n"
        "merchant_enabled by test uid " + uid + ": merchant bj-1: renewed\n"
        "merchant_number_removed by test uid " + uid + ": merchant bj-1 number 8613911111113: "
        "handset stolen");
}

TEST_CASE("giftctl: a query the database fails is an error, never an empty or short listing") {
  Ctl ctl;
  REQUIRE(ctl("stock").status == 0);  // creates the database
  {
    // Two vouchers whose prices add up past 64 bits: SQLite's checked SUM
    // fails while the report is read, as a read error of the disk would.
    auto db = giftgate::test::open_campaign_db(ctl.path("campaign.db"));
    REQUIRE(db->exec("INSERT INTO members(msisdn, city) VALUES ('8613800138000', 'beijing');"
                     "INSERT INTO vouchers(code, member_id, tier, city, price, face_value, "
                     "channel, issued_at, expires_at) VALUES "
                     "('AA00000001', 1, 'A', 'beijing', 5000000000000000000, 100, 'sms', "
                     "'2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z'), "
                     "('AA00000002', 1, 'A', 'beijing', 5000000000000000000, 100, 'sms', "
                     "'2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z')")
                .ok());
  }
  auto r = ctl("report --by tier");
  CHECK(r.status == 1);
  CHECK(contains(r.err, "the database refused: integer overflow"));
  CHECK(r.out.empty());  // nothing of a report the error cut short
  r = ctl("report");
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  // What does not need the failing sum still answers.
  CHECK(ctl("report --by messages").status == 0);
}
