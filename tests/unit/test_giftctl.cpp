// giftctl as operators run it: the built binary, its output and exit status.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.hpp"

namespace {

struct Run {
  int status = -1;
  std::string out, err;
};

class Ctl {
 public:
  Ctl() {
    write("giftgate.yaml",
          "storage:\n  path: " + dir_.file("campaign.db") +
              "\ncampaign:\n  start: 2026-01-01\n  end: 2036-01-01\n  confirm_minutes: 0\n");
  }

  Run operator()(const std::string& args) {
    const std::string cmd = std::string("GIFTGATE_CONFIG=") + dir_.file("giftgate.yaml") + " " +
                            GIFTGATE_GIFTCTL + " --operator test " + args + " >" +
                            dir_.file("out") + " 2>" + dir_.file("err");
    const int raw = std::system(cmd.c_str());
    Run r;
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = read("out");
    r.err = read("err");
    return r;
  }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name), std::ios::binary) << text;
    return dir_.file(name);
  }
  std::string path(const std::string& name) const { return dir_.file(name); }
  std::string read(const std::string& name) {
    std::ifstream in(dir_.file(name), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  giftgate::test::TempDir dir_;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

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
  CHECK(contains(r.out, "ok, 34 messages"));
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
