#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/config/config.hpp"
#include "daemon/config/settings_table.hpp"
#include "daemon/campaign/templates.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;

namespace {

std::string refusal(const std::string& text) {
  std::string error;
  const auto c = parse_config(text, "giftgate.yaml", &error);
  CHECK_FALSE(c);
  return error;
}

}  // namespace

TEST_CASE("config: the shipped file is the defaults, and it loads") {
  std::string error;
  const auto c = parse_config(default_config_text(), "built-in", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->db_path == "/var/lib/giftgate/giftgate.db");
  CHECK(c->templates_path == "/etc/giftgate/messages.yaml");
  CHECK(c->max_parts == 3);
  CHECK(c->time_zone == "Asia/Shanghai");
  CHECK(iso_time(c->campaign.start) == "2026-09-30T16:00:00Z");
  CHECK(iso_time(c->campaign.end) == "2026-12-31T16:00:00Z");
  REQUIRE(c->campaign.tiers.size() == 3);
  CHECK(c->campaign.tiers[0].face_value == 100);
  CHECK(c->campaign.confirm_minutes == 10);
  CHECK_FALSE(c->campaign.vouchers_expire_at);
  CHECK(c->accrual.rate("network_month") == 100);
  CHECK_FALSE(c->accrual.rate("lottery"));
  // The bounds on points, and the code's own defaults for them, which
  // structures built without a file (tests, tools) use.
  CHECK(c->campaign.points.max_change == 1'000'000);
  CHECK(c->campaign.points.max_balance == 10'000'000);
  CHECK(c->campaign.points.max_change == PointLimits{}.max_change);
  CHECK(c->campaign.points.max_balance == PointLimits{}.max_balance);

  // An empty file means every default, the same as the shipped one.
  const auto empty = parse_config("", "empty.yaml", &error);
  REQUIRE(empty);
  CHECK(empty->campaign.start == c->campaign.start);
  CHECK(empty->campaign.tiers.size() == 3);
  CHECK(empty->campaign.points.max_change == c->campaign.points.max_change);
  CHECK(empty->campaign.points.max_balance == c->campaign.points.max_balance);
}

TEST_CASE("config: the months activity is credited for") {
  std::string error;
  auto c = parse_config("", "empty.yaml", &error);
  REQUIRE(c);
  CHECK(c->accrual.first_period == "2026-10");  // the campaign's own months
  CHECK(c->accrual.last_period == "2026-12");   // end is 2027-01-01 00:00, not in it
  c = parse_config("campaign:\n  start: 2026-10-15\n  end: 2027-01-01 00:01\n"
                   "accrual:\n  first_period: 2026-01\n",
                   "p.yaml", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->accrual.first_period == "2026-01");
  CHECK(c->accrual.last_period == "2027-01");
  CHECK(refusal("accrual:\n  first_period: Oct 2026\n") ==
        "giftgate.yaml:2: first_period must be a month like 2026-10, not 'Oct 2026'");
  CHECK(refusal("accrual:\n  first_period: 2026-11\n  last_period: 2026-10\n") ==
        "giftgate.yaml:3: last_period (2026-10) must not come before first_period (2026-11)");

  CHECK(parse_month("2026-10") == "2026-10");
  CHECK(parse_month(" 2026-12 ") == "2026-12");
  for (const char* bad : {"2026-10-01", "Oct 2026", "2026-1", "2026-00", "2026-13", "+026-10",
                          "2026-1a", "", "2026 10"})
    CHECK_FALSE(parse_month(bad));
}

TEST_CASE("config: the bounds on points, checked against each other and the tiers") {
  CHECK(refusal("campaign:\n  max_points_change: 0\n") ==
        "giftgate.yaml:2: max_points_change must be between 1 and 99999999");
  CHECK(refusal("campaign:\n  max_balance: 9223372036854775807\n") ==
        "giftgate.yaml:2: max_balance must be between 1 and 99999999");
  // The bound is the longest balance the texts are checked to fit with.
  CHECK(longest_value("balance") == "99999999");
  CHECK(longest_value("price") == "99999999");
  CHECK(refusal("campaign:\n  max_balance: 5000\n") ==
        "giftgate.yaml:2: max_points_change (1000000) must not be more than max_balance (5000)");
  CHECK(refusal("campaign:\n  max_points_change: 4000\n  max_balance: 4000\n") ==
        "giftgate.yaml: tier A costs 5000 points, more than max_points_change (4000)");
  std::string error;
  const auto c = parse_config("campaign:\n  max_points_change: 5000\n  max_balance: 5000\n",
                              "p.yaml", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->campaign.points.max_change == 5000);
}

TEST_CASE("config: values are read in the configured zone") {
  std::string error;
  const auto c = parse_config(
      "campaign:\n  time_zone: Europe/Berlin\n  start: 2026-07-01 12:30\n"
      "  end: 2026-12-01\n  vouchers_expire: 2027-01-31T23:59:59\n"
      "  tiers:\n    - { name: A, value: 80, points: 900 }\n",
      "x.yaml", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(iso_time(c->campaign.start) == "2026-07-01T10:30:00Z");  // summer time, +2
  CHECK(iso_time(c->campaign.end) == "2026-11-30T23:00:00Z");    // winter, +1
  CHECK(iso_time(*c->campaign.vouchers_expire_at) == "2027-01-31T22:59:59Z");
  REQUIRE(c->campaign.tiers.size() == 1);
  CHECK(c->campaign.tiers[0].price == 900);
}

TEST_CASE("config: mistakes are refused with the file and the line") {
  CHECK(refusal("storage:\n  path: /tmp/x.db\n  colour: red\n") ==
        "giftgate.yaml:3: unknown key 'colour' in storage");
  CHECK(refusal("campaign:\n  confirm_minutes: soon\n") ==
        "giftgate.yaml:2: confirm_minutes must be a whole number");
  CHECK(refusal("campaign:\n\n  voucher_days: 0\n") ==
        "giftgate.yaml:3: voucher_days must be between 1 and 3650");
  CHECK(refusal("campaign:\n  time_zone: Mars/Olympus\n") ==
        "giftgate.yaml:2: unknown time zone 'Mars/Olympus' (not in /usr/share/zoneinfo)");
  CHECK(refusal("campaign:\n  start: 2026-13-01\n") ==
        "giftgate.yaml:2: start must be a time like 2026-10-01 00:00, not '2026-13-01'");
  CHECK(refusal("campaign:\n  start: 2027-01-01\n  end: 2026-01-01\n") ==
        "giftgate.yaml:3: end must come after start");
  // Vouchers issued near the end would be expired at issue, for points taken.
  CHECK(refusal("campaign:\n  vouchers_expire: 2026-12-31 23:59\n") ==
        "giftgate.yaml:2: vouchers_expire (2026-12-31 23:59) must come after end: vouchers "
        "issued near the end would be expired when issued");
  CHECK(refusal("campaign:\n  end: 2026-12-01\n  vouchers_expire: 2026-12-01\n") ==
        "giftgate.yaml:3: vouchers_expire (2026-12-01) must come after end: vouchers "
        "issued near the end would be expired when issued");
  CHECK(refusal("campaign:\n  tiers:\n    - { name: A, value: 100 }\n") ==
        "giftgate.yaml:3: a tier needs a name (up to 8 characters), a value and points");
  CHECK(refusal("campaign:\n  tiers:\n    - { name: A, value: 1, points: 1 }\n"
                "    - { name: a, value: 2, points: 2 }\n") ==
        "giftgate.yaml:4: tier 'a' is listed twice");
  CHECK(refusal("smtp: {}\n") == "giftgate.yaml:1: unknown key 'smtp' in the file");
  CHECK(refusal("storage: [1, 2\n").rfind("giftgate.yaml:", 0) == 0);
  CHECK(refusal("- a list\n") == "giftgate.yaml:1: the file must be a mapping of keys");
}

TEST_CASE("config: local times, strictly parsed") {
  CHECK(parse_local_time("2026-10-01 00:00", "Asia/Shanghai"));
  CHECK(parse_local_time("2026-10-01T00:00:00", "UTC"));
  CHECK_FALSE(parse_local_time("2026-10-01 00:00 extra", "UTC"));
  CHECK_FALSE(parse_local_time("2026-02-30", "UTC"));
  CHECK_FALSE(parse_local_time("2026-10-01 24:00", "UTC"));
  CHECK_FALSE(parse_local_time("2026-10-01", "../../etc/passwd"));
}

TEST_CASE("config: keywords, checked") {
  std::string error;
  const auto c = parse_config("keywords:\n  balance: [POINTS, 查分]\n", "k.yaml", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->keywords.parse("points", false).command == Command::balance);
  CHECK(c->keywords.parse("DH A", false).command == Command::redeem);  // others stay default
  CHECK(refusal("keywords:\n  lottery: [LT]\n").rfind(
            "giftgate.yaml:2: unknown command 'lottery' in keywords", 0) == 0);
  CHECK(refusal("keywords:\n  balance: JF\n") ==
        "giftgate.yaml:2: keywords.balance must be a list of words, like [JF, 积分]");
  CHECK(refusal("keywords:\n  balance: [JF]\n  help: [jf]\n") ==
        "giftgate.yaml:3: keyword 'jf' is given to both balance and help");
}

TEST_CASE("config: the SMSC, outbox, logging and metrics sections") {
  std::string error;
  const auto c = parse_config(
      "smsc:\n  host: smsc.example.net\n  port: 3775\n  tls: { enabled: true, verify: false }\n"
      "  system_id: gift\n  password: s3cret\n  bind: transmitter_and_receiver\n"
      "  window: 20\n  rate: 100\n  message_ids: hex\n  receipt_ids: decimal\n"
      "outbox:\n  max_attempts: 5\n  receipt_timeout_seconds: 300\n"
      "logging:\n  level: debug\nmetrics:\n  port: 0\n",
      "d.yaml", &error);
  INFO(error);
  REQUIRE(c);
  const auto& d = c->daemon;
  CHECK(d.smsc.session.host == "smsc.example.net");
  CHECK(d.smsc.session.port == 3775);
  CHECK(d.smsc.session.tls.enabled);
  CHECK_FALSE(d.smsc.session.tls.verify);
  CHECK(d.smsc.session.password == "s3cret");
  CHECK(d.smsc.split_bind);
  CHECK(d.smsc.session.window == 20);
  CHECK(d.smsc.response_ids == smpp::IdFormat::hex);
  CHECK(d.smsc.receipt_ids == smpp::IdFormat::decimal);
  CHECK(d.resend.max_attempts == 5);
  CHECK(d.resend.receipt_timeout == std::chrono::seconds(300));
  CHECK(d.log_level == "debug");
  CHECK(d.metrics_port == 0);

  CHECK(refusal("smsc:\n  bind: both\n") ==
        "giftgate.yaml:2: bind must be transceiver or transmitter_and_receiver");
  CHECK(refusal("smsc:\n  tls: { enabled: maybe }\n") ==
        "giftgate.yaml:2: enabled must be true or false");
  CHECK(refusal("smsc:\n  password: waytoolongpassword\n") ==
        "giftgate.yaml:2: an SMPP password has at most 8 characters");
  CHECK(refusal("smsc:\n  password_file: /nonexistent/pw\n") ==
        "giftgate.yaml:2: /nonexistent/pw cannot be read");
  CHECK(refusal("metrics:\n  listen: 0.0.0.0\n") ==
        "giftgate.yaml:2: metrics are served on loopback only (127.0.0.1 or ::1)");
  CHECK(refusal("outbox:\n  retries: 3\n") == "giftgate.yaml:2: unknown key 'retries' in outbox");
}

TEST_CASE("config: smsc: alone is the one SMSC, with the id smsc") {
  std::string error;
  auto c = parse_config("", "empty.yaml", &error);
  REQUIRE(c);
  REQUIRE(c->daemon.smscs.size() == 1);
  CHECK(c->daemon.smscs[0].id == "smsc");
  CHECK(c->daemon.smscs[0].binds == 1);
  CHECK(c->daemon.smscs[0].session.host == "127.0.0.1");
  CHECK(c->daemon.smscs[0].session.rate == 50);
  CHECK(c->daemon.reply_via_origin);
  c = parse_config("smsc:\n  host: smsc.example.net\n  binds: 4\n  rate: 200\n"
                   "  ussd_same_bind: true\nrouting:\n  reply_via_origin: false\n",
                   "s.yaml", &error);
  INFO(error);
  REQUIRE(c);
  REQUIRE(c->daemon.smscs.size() == 1);
  const auto& one = c->daemon.smscs[0];
  CHECK(one.id == "smsc");
  CHECK(one.session.host == "smsc.example.net");
  CHECK(one.binds == 4);
  CHECK(one.session.rate == 200);
  CHECK(one.session.burst == 20);
  CHECK(one.ussd_same_bind);
  CHECK_FALSE(c->daemon.reply_via_origin);
  CHECK(refusal("smsc:\n  id: smsc 1\n") ==
        "giftgate.yaml:2: id must have 1 to 16 letters, digits, - or _, not 'smsc 1'");
  CHECK(refusal("smsc:\n  id: a234567890abcdefg\n") ==
        "giftgate.yaml:2: id must have 1 to 16 letters, digits, - or _, not 'a234567890abcdefg'");
  CHECK(refusal("smsc:\n  binds: 65\n") == "giftgate.yaml:2: binds must be between 1 and 64");
}

TEST_CASE("config: smscs: a list of SMSCs, each read like the smsc: section") {
  std::string error;
  const auto c = parse_config(
      "smscs:\n"
      "  - id: north\n"
      "    host: smsc1.example.net\n"
      "    port: 3775\n"
      "    tls: { enabled: true }\n"
      "    system_id: gift1\n"
      "    password: pw1\n"
      "    bind: transmitter_and_receiver\n"
      "    binds: 4\n"
      "    window: 20\n"
      "    rate: 400\n"
      "    message_ids: hex\n"
      "    default_alphabet: latin1\n"
      "    source_addr: \"10086\"\n"
      "    ussd_same_bind: true\n"
      "  - id: south_2\n"
      "    host: smsc2.example.net\n",
      "l.yaml", &error);
  INFO(error);
  REQUIRE(c);
  const auto& list = c->daemon.smscs;
  REQUIRE(list.size() == 2);
  const auto& a = list[0];
  CHECK(a.id == "north");
  CHECK(a.session.host == "smsc1.example.net");
  CHECK(a.session.port == 3775);
  CHECK(a.session.tls.enabled);
  CHECK(a.session.tls.verify);  // the default, inside a section given in part
  CHECK(a.session.system_id == "gift1");
  CHECK(a.session.password == "pw1");
  CHECK(a.split_bind);
  CHECK(a.binds == 4);
  CHECK(a.session.window == 20);
  CHECK(a.session.rate == 400);
  CHECK(a.session.burst == 40);
  CHECK(a.response_ids == smpp::IdFormat::hex);
  CHECK(a.receipt_ids == smpp::IdFormat::automatic);
  CHECK(a.alphabet == smpp::DefaultAlphabet::latin1);
  CHECK(a.source_addr == "10086");
  CHECK(a.ussd_same_bind);
  // Everything the second leaves out is the smsc: section's default.
  const auto& b = list[1];
  CHECK(b.id == "south_2");
  CHECK(b.session.host == "smsc2.example.net");
  CHECK(b.session.port == 2775);
  CHECK_FALSE(b.session.tls.enabled);
  CHECK(b.session.system_id == "giftgate");
  CHECK(b.session.password.empty());
  CHECK_FALSE(b.split_bind);
  CHECK(b.binds == 1);
  CHECK(b.session.window == 10);
  CHECK(b.session.rate == 50);
  CHECK(b.session.burst == 5);
  CHECK(b.response_ids == smpp::IdFormat::automatic);
  CHECK(b.alphabet == smpp::DefaultAlphabet::gsm7_unpacked);
  CHECK(b.source_addr == "12580");
  CHECK_FALSE(b.ussd_same_bind);
  CHECK(b.receipt_check_recipient);
  CHECK(config_warnings(*c).empty());
}

TEST_CASE("config: smscs: refused with the line and what to do") {
  // One form or the other.
  CHECK(refusal("smsc:\n  host: a\nsmscs:\n  - id: b\n") ==
        "giftgate.yaml:3: smsc: and smscs: are both given: smsc: is one SMSC and smscs: a list "
        "of them. Move the smsc: section into smscs: as an entry (with an id), or remove smscs:");
  const std::string empty =
      "smscs: is an empty list: list at least one SMSC, or remove smscs: and describe the one "
      "SMSC in an smsc: section";
  CHECK(refusal("logging:\n  level: info\nsmscs: []\n") == "giftgate.yaml:3: " + empty);
  CHECK(refusal("logging:\n  level: info\nsmscs:\n") == "giftgate.yaml:3: " + empty);
  CHECK(refusal("smscs:\n  host: a\n") ==
        "giftgate.yaml:2: smscs must be a list of SMSCs, each a mapping with the keys of the "
        "smsc: section (- id: a, host: ..., port: ...)");
  CHECK(refusal("smscs:\n  - id: a\n  - b\n") ==
        "giftgate.yaml:3: entry 2 of smscs must be a mapping with the keys of the smsc: section "
        "(id, host, port, ...)");
  // Ids name an SMSC in the database: unique, given or defaulted.
  CHECK(refusal("smscs:\n  - id: a\n    host: x\n  - id: b\n  - id: a\n    host: y\n") ==
        "giftgate.yaml:5: entry 3 of smscs has the id 'a' of an earlier entry: the id names an "
        "SMSC in receipts' matching, metrics and the database, so each needs its own");
  CHECK(refusal("smscs:\n  - host: x\n  - host: y\n") ==
        "giftgate.yaml:3: entry 2 of smscs has the id 'smsc' of an earlier entry (the default, "
        "none given): the id names an SMSC in receipts' matching, metrics and the database, so "
        "each needs its own");
  // A rate below one submit a second per bind cannot be shared.
  CHECK(refusal("smscs:\n  - id: a\n  - id: b\n    binds: 8\n    rate: 5\n") ==
        "giftgate.yaml:5: rate 5 cannot be shared by 8 binds: each would get less than one "
        "submit_sm a second. rate is the SMSC's limit for all its binds: give at least 8, fewer "
        "binds, or 0 for no limit");
  CHECK(refusal("smsc:\n  rate: 3\n  binds: 4\n") ==
        "giftgate.yaml:2: rate 3 cannot be shared by 4 binds: each would get less than one "
        "submit_sm a second. rate is the SMSC's limit for all its binds: give at least 4, fewer "
        "binds, or 0 for no limit");
  CHECK(refusal("smsc:\n  binds: 64\n") ==
        "giftgate.yaml:2: rate 50 cannot be shared by 64 binds: each would get less than one "
        "submit_sm a second. rate is the SMSC's limit for all its binds: give at least 64, "
        "fewer binds, or 0 for no limit");
  std::string error;
  CHECK(parse_config("smsc:\n  binds: 64\n  rate: 0\n", "r.yaml", &error));
  CHECK(parse_config("smsc:\n  binds: 64\n  rate: 64\n", "r.yaml", &error));
  // Each entry's values are checked as the smsc: section's are.
  CHECK(refusal("smscs:\n  - id: a\n    window: 0\n") ==
        "giftgate.yaml:3: window must be between 1 and 1000");
  CHECK(refusal("smscs:\n  - id: a b\n") ==
        "giftgate.yaml:2: id must have 1 to 16 letters, digits, - or _, not 'a b'");
}

TEST_CASE("config: an unknown key in an entry of smscs is refused with its line") {
  CHECK(refusal("smscs:\n  - id: a\n  - id: b\n    hots: x\n") ==
        "giftgate.yaml:4: unknown key 'hots' in entry 2 of smscs");
  CHECK(refusal("smscs:\n  - id: a\n    tls:\n      enabled: true\n      verfy: false\n") ==
        "giftgate.yaml:5: unknown key 'verfy' in tls of entry 1 of smscs");
  // The file's other sections are not an entry's.
  CHECK(refusal("smscs:\n  - id: a\n    outbox: { max_attempts: 2 }\n") ==
        "giftgate.yaml:3: unknown key 'outbox' in entry 1 of smscs");
}

TEST_CASE("config: a password_file for each entry of smscs, a credential included") {
  giftgate::test::TempDir dir;
  const std::string path = dir.file("north-password");
  std::ofstream(path) << "north\n";
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  std::ofstream(dir.file("south-password")) << "south\n";
  REQUIRE(::chmod(dir.file("south-password").c_str(), 0400) == 0);
  const std::string yaml = "smscs:\n  - id: north\n    password_file: " + path +
                           "\n  - id: south\n    password_file: "
                           "$CREDENTIALS_DIRECTORY/south-password\n  - id: east\n"
                           "    password: east\n";
  std::string error;
  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto c = parse_config(yaml, "p.yaml", &error);
  INFO(error);
  REQUIRE(c);
  REQUIRE(c->daemon.smscs.size() == 3);
  CHECK(c->daemon.smscs[0].session.password == "north");
  CHECK(c->daemon.smscs[0].password_credential.empty());
  CHECK(c->daemon.smscs[1].session.password.empty());  // left for systemd
  CHECK(c->daemon.smscs[1].password_credential == "south-password");
  CHECK(c->daemon.smscs[2].session.password == "east");
  CHECK(c->daemon.smscs[2].password_credential.empty());
  ::setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
  c = parse_config(yaml, "p.yaml", &error);
  ::unsetenv("CREDENTIALS_DIRECTORY");
  REQUIRE(c);
  CHECK(c->daemon.smscs[1].session.password == "south");
  CHECK(c->daemon.smscs[1].password_credential.empty());
  // An entry's file is checked as the smsc: section's is.
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  CHECK(refusal(yaml).rfind("giftgate.yaml:3: " + path + " has mode 0644", 0) == 0);
  CHECK(refusal("smscs:\n  - id: a\n  - id: b\n    password: x\n    password_file: " + path +
                "\n") == "giftgate.yaml:5: give password or password_file, not both");
}

TEST_CASE("config: giftgated cannot start while any SMSC's credential is not handed over") {
  giftgate::test::TempDir dir;
  std::ofstream(dir.file("b-password")) << "bbb\n";
  REQUIRE(::chmod(dir.file("b-password").c_str(), 0400) == 0);
  const std::string yaml =
      "smscs:\n  - id: a\n    password: aaa\n"
      "  - id: b\n    password_file: $CREDENTIALS_DIRECTORY/b-password\n"
      "  - id: c\n    password_file: $CREDENTIALS_DIRECTORY/c-password\n";
  std::string error;
  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto c = parse_config(yaml, "m.yaml", &error);
  INFO(error);
  REQUIRE(c);
  const auto sentence = [](const std::string& id, const std::string& name) {
    return fmt::format("m.yaml: the password_file of SMSC '{}' names the credential {} in "
                       "$CREDENTIALS_DIRECTORY, which is not set: start giftgated from a systemd "
                       "unit with LoadCredential={}:FILE, or name a file",
                       id, name, name);
  };
  CHECK(missing_credentials(*c) ==
        std::vector<std::string>{sentence("b", "b-password"), sentence("c", "c-password")});
  // The smsc: section alone, as before.
  c = parse_config("smsc:\n  password_file: $CREDENTIALS_DIRECTORY/smsc-password\n", "m.yaml",
                   &error);
  REQUIRE(c);
  CHECK(missing_credentials(*c) == std::vector<std::string>{sentence("smsc", "smsc-password")});
  CHECK(missing_credentials(*parse_config("", "m.yaml", &error)).empty());
}

TEST_CASE("config: warned about, not refused: a large window on many binds, one account twice") {
  std::string error;
  auto c = parse_config("smsc:\n  window: 300\n  binds: 4\n  rate: 400\n", "w.yaml", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(config_warnings(*c) ==
        std::vector<std::string>{
            "smsc 'smsc': window 300 on each of 4 binds lets 1200 submits wait for their answers "
            "at once, more than SMSCs commonly allow an account; window is per bind"});
  c = parse_config("smsc:\n  window: 250\n  binds: 4\n  rate: 400\n", "w.yaml", &error);
  REQUIRE(c);
  CHECK(config_warnings(*c).empty());  // 1000 exactly
  c = parse_config("smscs:\n  - { id: a, host: h, port: 2775, system_id: x }\n"
                   "  - { id: b, host: h, port: 2776, system_id: x }\n"
                   "  - { id: c, host: h, port: 2775, system_id: x }\n",
                   "w.yaml", &error);
  REQUIRE(c);
  CHECK(config_warnings(*c) ==
        std::vector<std::string>{
            "smscs 'a' and 'c' both bind to h:2775 as system_id x: if that is one account, their "
            "binds and rates add up against its contract, and the SMSC may refuse binds or "
            "throttle; make them one entry"});
}

TEST_CASE("config: a password file open to group or others is refused, as ssh does") {
  giftgate::test::TempDir dir;
  const std::string path = dir.file("smsc-password");
  std::ofstream(path) << "s3cret\n";
  const std::string yaml = "smsc:\n  password_file: " + path + "\n";
  for (const mode_t loose : {0644, 0640, 0604, 0620}) {
    REQUIRE(::chmod(path.c_str(), loose) == 0);
    CHECK(refusal(yaml) ==
          fmt::format("giftgate.yaml:2: {} has mode {:04o}: a password file must be closed to "
                      "group and others (chmod 600 {}, or hand it over with systemd's "
                      "LoadCredential=); not used",
                      path, loose, path));
  }
  std::string error;
  for (const mode_t tight : {0600, 0400}) {
    REQUIRE(::chmod(path.c_str(), tight) == 0);
    const auto c = parse_config(yaml, "p.yaml", &error);
    INFO(error);
    REQUIRE(c);
    CHECK(c->daemon.smsc.session.password == "s3cret");
    CHECK(c->daemon.smsc.password_credential.empty());
  }
}

TEST_CASE("config: a password handed over by systemd's LoadCredential=") {
  giftgate::test::TempDir dir;
  std::ofstream(dir.file("smsc-password")) << "fromsd\r\n";
  REQUIRE(::chmod(dir.file("smsc-password").c_str(), 0400) == 0);
  const std::string yaml = "smsc:\n  password_file: $CREDENTIALS_DIRECTORY/smsc-password\n";
  std::string error;
  // Outside the unit (giftctl, a check by hand): not read, and said so.
  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto c = parse_config(yaml, "p.yaml", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->daemon.smsc.session.password.empty());
  CHECK(c->daemon.smsc.password_credential == "smsc-password");
  // Under the unit: read from the folder systemd names.
  ::setenv("CREDENTIALS_DIRECTORY", dir.path().c_str(), 1);
  c = parse_config(yaml, "p.yaml", &error);
  ::unsetenv("CREDENTIALS_DIRECTORY");
  REQUIRE(c);
  CHECK(c->daemon.smsc.session.password == "fromsd");
  CHECK(c->daemon.smsc.password_credential.empty());
}

TEST_CASE("config: the ussd section, operations by name or number") {
  std::string error;
  auto c = parse_config("", "empty.yaml", &error);
  REQUIRE(c);
  CHECK(c->ussd.enabled);
  CHECK(c->ussd.service_code == "*12580#");
  CHECK(c->ussd.op_begin == 1);
  CHECK(c->ussd.op_continue == 18);
  CHECK(c->ussd.op_menu == 2);
  CHECK(c->ussd.op_end == 17);
  CHECK(c->ussd.op_abort == 0x81);
  CHECK(c->ussd.max_chars_ucs2 == 80);
  c = parse_config(
      "ussd:\n  service_code: \"*100#\"\n  session_timeout_seconds: 30\n"
      "  operations:\n    begin: pssd_indication\n    continue: 0x12\n    end: 16\n",
      "u.yaml", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->ussd.service_code == "*100#");
  CHECK(c->ussd.session_timeout == std::chrono::seconds(30));
  CHECK(c->ussd.op_begin == 0);
  CHECK(c->ussd.op_continue == 18);
  CHECK(c->ussd.op_end == 16);

  CHECK(refusal("ussd:\n  service_code: 12580\n") ==
        "giftgate.yaml:2: service_code must look like *12580#");
  CHECK(refusal("ussd:\n  operations:\n    begin: hello\n") ==
        "giftgate.yaml:3: begin must be an ussd_service_op: a name like pssr_indication, or 0 "
        "to 255");
  CHECK(refusal("ussd:\n  operations:\n    begin: 18\n") ==
        "giftgate.yaml:3: begin and continue must differ: the daemon tells them apart");
  CHECK(refusal("ussd:\n  operations:\n    stop: 1\n") ==
        "giftgate.yaml:3: unknown key 'stop' in ussd.operations");
  CHECK(refusal("ussd:\n  max_chars_gsm: 200\n").find("giftgate.yaml:2: max_chars_gsm") == 0);
}

TEST_CASE("config: the retention section, in days, and inbox_days 0 or at least 2") {
  std::string error;
  auto c = parse_config("retention:\n  message_days: 30\n  inbox_days: 2\n  ussd_days: 0\n"
                        "  batch_interval_ms: 250\n",
                        "r.yaml", &error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->retention.message_days == 30);
  CHECK(c->retention.receipt_days == 90);
  CHECK(c->retention.inbox_days == 2);
  CHECK(c->retention.ussd_days == 0);
  CHECK(c->retention.batch_rows == 500);
  CHECK(c->retention.batch_interval == std::chrono::milliseconds(250));
  CHECK(parse_config("retention:\n  inbox_days: 0\n", "r.yaml", &error));
  // The daily limits count the last day's MOs: one day would prune some.
  CHECK(refusal("retention:\n  inbox_days: 1\n") ==
        "giftgate.yaml:2: inbox_days must be 0 (keep for ever) or at least 2: the daily limits "
        "count the last day's MOs");
  CHECK(refusal("retention:\n  message_days: -1\n").find("giftgate.yaml:2: message_days") == 0);
}

TEST_CASE("config: times in the database are UTC to the second, the same second or the next") {
  const Time t = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + std::chrono::hours(23) +
      std::chrono::minutes(59) + std::chrono::seconds(59));
  CHECK(iso_time(t) == "2026-11-27T23:59:59Z");
  CHECK(iso_time(t) == "2026-11-27T23:59:59Z");  // again: the one kept from before
  CHECK(iso_time(t + std::chrono::seconds(1)) == "2026-11-28T00:00:00Z");
  CHECK(iso_time(t) == "2026-11-27T23:59:59Z");  // and back
}

// The table of settings (daemon/config/settings_table.hpp) against what is
// shipped beside it, the structs it fills in, and a reload.
namespace {

bool special(const std::string& name) {
  for (const auto& s : special_settings())
    if (s.name == name) return true;
  return false;
}

// The scalar leaves of a YAML mapping by path; tiers and keywords, read on
// their own, are left out.
void leaves(const YAML::Node& node, const std::string& path,
            std::map<std::string, std::string>& out) {
  for (const auto& kv : node) {
    const std::string name = (path.empty() ? "" : path + ".") + kv.first.as<std::string>();
    if (special(name)) continue;
    if (kv.second.IsMap()) leaves(kv.second, name, out);
    else out[name] = kv.second.IsScalar() ? kv.second.Scalar() : "(not a single value)";
  }
}

// How a configuration file differs from the table: a setting it leaves
// out, a key the table has not, a value that is not the default; and tiers
// or keywords other than the built-in ones.
std::vector<std::string> drift_from_table(const std::string& yaml) {
  std::map<std::string, std::string> found;
  leaves(YAML::Load(yaml), "", found);
  std::vector<std::string> problems;
  for (const auto& s : settings()) {
    const auto it = found.find(s.name);
    if (it == found.end()) {
      problems.push_back(s.name + ": missing");
      continue;
    }
    if (it->second != s.default_value)
      problems.push_back(fmt::format("{}: {} where the default is {}", s.name, it->second,
                                     s.default_value));
    found.erase(it);
  }
  for (const auto& [name, value] : found) problems.push_back(name + ": not a setting");
  std::string error;
  const auto file = parse_config(yaml, "conf", &error);
  const auto built_in = parse_config("", "built-in", &error);
  if (!file || !built_in) return {error};
  for (const auto& change : changed_settings(*file, *built_in))
    if (special(change.name)) problems.push_back(change.name + ": not the built-in default");
  return problems;
}

// The generated part of giftgate.yaml(5)'s SETTINGS section: from its first
// .TP to the next section.
std::string man_settings(const std::string& page) {
  const auto section = page.find("\n.SH SETTINGS\n");
  if (section == std::string::npos) return "(no SETTINGS section)";
  const auto first = page.find("\n.TP\n", section);
  const auto end = page.find("\n.SH ", section + 1);
  if (first == std::string::npos || end == std::string::npos || first > end) return "(empty)";
  return page.substr(first + 1, end - first);
}

std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(GIFTGATE_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> names(const std::vector<SettingChange>& changes, Reload reload) {
  std::vector<std::string> out;
  for (const auto& c : changes)
    if (c.reload == reload) out.push_back(c.name);
  return out;
}

}  // namespace

TEST_CASE("settings: the shipped conf/giftgate.yaml has every setting, with its default") {
  const std::string conf = source_file("conf/giftgate.yaml");
  REQUIRE_FALSE(conf.empty());
  const auto problems = drift_from_table(conf);
  CHECK(problems == std::vector<std::string>{});
  for (const auto& problem : problems) MESSAGE(problem);

  // The check has teeth: a default changed, a key missing or added.
  auto drifted = conf;
  drifted.replace(drifted.find("  window: 10 "), 13, "  window: 11 ");
  CHECK(drift_from_table(drifted) ==
        std::vector<std::string>{"smsc.window: 11 where the default is 10"});
  drifted = conf;
  drifted.erase(drifted.find("  drain_seconds: 10\n"), 20);
  CHECK(drift_from_table(drifted) == std::vector<std::string>{"daemon.drain_seconds: missing"});
  drifted = conf;
  drifted.replace(drifted.find("    - { name: C, value: 20"), 26, "    - { name: C, value: 30");
  CHECK(drift_from_table(drifted) ==
        std::vector<std::string>{"campaign.tiers: not the built-in default"});
}

TEST_CASE("settings: the shipped file's commented smscs: example loads as it says") {
  // The block from "#smscs:" to the first line that is no longer part of
  // it, uncommented, is a whole file on its own (without smsc:).
  std::istringstream conf(source_file("conf/giftgate.yaml"));
  std::string line, example;
  bool in = false;
  while (std::getline(conf, line)) {
    in = in ? line.starts_with("#  ") : line == "#smscs:";
    if (in) example += line.substr(1) + "\n";
  }
  REQUIRE_FALSE(example.empty());
  ::unsetenv("CREDENTIALS_DIRECTORY");
  std::string error;
  const auto c = parse_config(example, "example", &error);
  INFO(error);
  REQUIRE(c);
  REQUIRE(c->daemon.smscs.size() == 2);
  const auto& north = c->daemon.smscs[0];
  const auto& south = c->daemon.smscs[1];
  CHECK(north.id == "north");
  CHECK(north.binds == 4);
  CHECK(north.session.window == 10);
  CHECK(north.session.rate == 400);
  CHECK(north.password_credential == "north-password");
  CHECK(south.id == "south");
  CHECK(south.session.tls.enabled);
  CHECK(south.split_bind);
  CHECK(south.binds == 2);
  CHECK(south.session.rate == 100);
  CHECK(south.ussd_same_bind);
  CHECK(config_warnings(*c).empty());
}

TEST_CASE("settings: giftgate.yaml(5) lists every setting as the table has it") {
  const std::string page = source_file("man/giftgate.yaml.5");
  REQUIRE_FALSE(page.empty());
  // Regenerate with: giftgated --print-settings man
  CHECK(man_settings(page) == settings_reference(SettingsFormat::man));
  CHECK(man_settings(page).find(".B limits.mo_per_minute\n") != std::string::npos);
  // Defaults are stated there only, where the test holds them.
  std::string rest = page;
  rest.erase(rest.find(man_settings(page)), man_settings(page).size());
  CHECK(rest.find("(default") == std::string::npos);
  CHECK(rest.find("Default") == std::string::npos);

  // The check has teeth: one default changed in the page.
  auto drifted = page;
  const std::string window =
      ".B smsc.window\nSubmits sent and not yet answered, on each bind.\nDefault 10.";
  REQUIRE(drifted.find(window) != std::string::npos);
  drifted.replace(drifted.find(window) + window.size() - 3, 2, "20");
  CHECK(man_settings(drifted) != settings_reference(SettingsFormat::man));
}

TEST_CASE("settings: a struct built without a file holds the table's defaults") {
  std::string error;
  const auto defaults = parse_config("", "empty.yaml", &error);
  REQUIRE(defaults);
  const Config built{};
  std::vector<std::string> differ;
  for (const auto& s : settings())
    if (!s.same(built, *defaults)) differ.push_back(s.name);
  // Times are read in the zone, which no initialiser knows (Time{} is
  // unset), and the accrual months follow from them; the session's own
  // default rate is 0 (unpaced) for its other users, where an SMSC's usual
  // limit is the daemon's default.
  CHECK(differ == std::vector<std::string>{"smsc.rate", "campaign.start", "campaign.end",
                                           "accrual.first_period", "accrual.last_period"});
}

TEST_CASE("settings: each maps onto its own field, and a reload takes only what it may") {
  std::string error;
  const auto defaults = parse_config("", "empty.yaml", &error);
  REQUIRE(defaults);
  giftgate::test::TempDir dir;
  const std::string password = dir.file("pw");
  std::ofstream(password) << "pw\n";
  REQUIRE(::chmod(password.c_str(), 0600) == 0);
  // For each setting, a file that sets it to something else: it must be
  // the one change found (beside what follows from it), and a reload must
  // take it exactly when the table says so.
  const std::vector<std::string> texts = {"/x", "gift", "UTC", "2026-10-02 00:00",
                                          "2027-02-01 00:00", "2026-11", "*100#", "44", "::1",
                                          "16", "08:00-18:00", password};
  for (const auto& s : settings()) {
    std::vector<std::string> candidates;
    switch (s.kind) {
      case SettingKind::integer:
        for (const std::int64_t v : {s.min, s.max, std::int64_t{std::stoll(s.default_value)} - 1,
                                     std::int64_t{std::stoll(s.default_value)} + 1})
          candidates.push_back(std::to_string(v));
        break;
      case SettingKind::flag: candidates = {"true", "false"}; break;
      case SettingKind::choice: candidates = s.choices; break;
      case SettingKind::text: candidates = texts; break;
    }
    std::optional<Config> varied;
    for (const auto& value : candidates) {
      if (value == s.default_value) continue;
      // "a.b.c: v" as nested mappings
      std::string yaml, indent, rest = s.name;
      for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
        yaml += indent + rest.substr(0, dot) + ":\n";
        indent += "  ";
        rest.erase(0, dot + 1);
      }
      yaml += indent + rest + ": \"" + value + "\"\n";
      if (s.kind != SettingKind::text && s.kind != SettingKind::choice)
        yaml = yaml.substr(0, yaml.size() - value.size() - 3) + value + "\n";
      varied = parse_config(yaml, "v.yaml", &error);
      if (varied && !s.same(*varied, *defaults)) break;
      varied.reset();
    }
    INFO(s.name);
    REQUIRE_MESSAGE(varied, "no other value accepted");
    const auto changes = changed_settings(*defaults, *varied);
    CHECK(std::any_of(changes.begin(), changes.end(),
                      [&](const SettingChange& c) { return c.name == s.name && c.reload == s.reload; }));
    const Config next = with_reloadable(*defaults, *varied);
    CHECK(s.same(next, *varied) == (s.reload == Reload::applied));
    CHECK(s.same(next, *defaults) == (s.reload == Reload::restart));
  }
}

TEST_CASE("settings: what a reload changes, by name and class") {
  std::string error;
  const auto running = parse_config("limits:\n  mo_per_minute: 10\n", "a.yaml", &error);
  REQUIRE(running);
  const auto fresh = parse_config(
      "smsc:\n  port: 2776\n  rate: 80\nlimits:\n  mo_per_minute: 3\n"
      "outbox:\n  max_attempts: 5\nkeywords:\n  balance: [POINTS]\n"
      "campaign:\n  tiers:\n    - { name: A, value: 100, points: 4000 }\n",
      "b.yaml", &error);
  INFO(error);
  REQUIRE(fresh);
  CHECK(changed_settings(*running, *running).empty());
  const auto changes = changed_settings(*running, *fresh);
  CHECK(names(changes, Reload::restart) == std::vector<std::string>{"smsc.port", "smsc.rate"});
  CHECK(names(changes, Reload::applied) ==
        std::vector<std::string>{"outbox.max_attempts", "limits.mo_per_minute", "campaign.tiers",
                                 "keywords"});

  const Config next = with_reloadable(*running, *fresh);
  CHECK(next.limits.mo_per_minute == 3);
  CHECK(next.daemon.resend.max_attempts == 5);
  CHECK(next.campaign.tiers.size() == 1);
  CHECK(next.keywords.parse("points", false).command == Command::balance);
  CHECK(next.daemon.smsc.session.port == 2775);   // needs a restart: as it runs
  CHECK(next.daemon.smsc.session.rate == 50);
  CHECK(next.daemon.smsc.session.burst == 5);     // with the rate it follows from
  CHECK(next.source == "b.yaml");
  // Asked again, only what waits for a restart is still different.
  CHECK(changed_settings(next, *fresh) ==
        std::vector<SettingChange>{{"smsc.port", Reload::restart}, {"smsc.rate", Reload::restart}});
}

TEST_CASE("settings: a reload keeps the SMSCs in force, and says a changed list needs a restart") {
  std::string error;
  const std::string two = "smscs:\n  - { id: a, host: h1 }\n  - { id: b, host: h2, binds: 2 }\n";
  const auto running = parse_config(two, "a.yaml", &error);
  INFO(error);
  REQUIRE(running);
  CHECK(changed_settings(*running, *running).empty());
  CHECK(changed_settings(*running, *parse_config(two, "again.yaml", &error)).empty());
  // Any one setting of any entry, an entry more or fewer, or the order.
  for (const std::string& other :
       {std::string("smscs:\n  - { id: a, host: h1 }\n  - { id: b, host: h2, binds: 3 }\n"),
        std::string("smscs:\n  - { id: a, host: h1 }\n  - { id: b, host: h2, binds: 2, "
                    "ussd_same_bind: true }\n"),
        std::string("smscs:\n  - { id: a, host: h1, tls: { server_name: x } }\n"
                    "  - { id: b, host: h2, binds: 2 }\n"),
        std::string("smscs:\n  - { id: a, host: h1 }\n"),
        std::string("smscs:\n  - { id: b, host: h2, binds: 2 }\n  - { id: a, host: h1 }\n")}) {
    INFO(other);
    const auto fresh = parse_config(other, "b.yaml", &error);
    REQUIRE(fresh);
    CHECK(changed_settings(*running, *fresh) ==
          std::vector<SettingChange>{{"smscs", Reload::restart}});
    const Config next = with_reloadable(*running, *fresh);
    REQUIRE(next.daemon.smscs.size() == 2);
    CHECK(next.daemon.smscs[0].id == "a");
    CHECK(next.daemon.smscs[1].binds == 2);
    CHECK_FALSE(next.daemon.smscs[1].ussd_same_bind);
    CHECK(next.daemon.smscs[0].session.tls.server_name.empty());
    CHECK(changed_settings(next, *fresh) == std::vector<SettingChange>{{"smscs", Reload::restart}});
  }
  // From the smsc: section to a list: what the section's rows say, and the list.
  const auto single = parse_config("smsc:\n  host: h1\n", "s.yaml", &error);
  REQUIRE(single);
  CHECK(changed_settings(*single, *running) ==
        std::vector<SettingChange>{{"smsc.host", Reload::restart}, {"smscs", Reload::restart}});
}

TEST_CASE("settings: SIGHUP applies routing.reply_via_origin") {
  std::string error;
  const auto running = parse_config("smscs:\n  - { id: a }\n  - { id: b }\n", "a.yaml", &error);
  const auto fresh = parse_config(
      "smscs:\n  - { id: a }\n  - { id: b }\nrouting:\n  reply_via_origin: false\n", "b.yaml",
      &error);
  INFO(error);
  REQUIRE(running);
  REQUIRE(fresh);
  CHECK(running->daemon.reply_via_origin);
  CHECK_FALSE(fresh->daemon.reply_via_origin);
  CHECK(changed_settings(*running, *fresh) ==
        std::vector<SettingChange>{{"routing.reply_via_origin", Reload::applied}});
  const Config next = with_reloadable(*running, *fresh);
  CHECK_FALSE(next.daemon.reply_via_origin);
  CHECK(next.daemon.smscs.size() == 2);
  CHECK(changed_settings(next, *fresh).empty());
}

TEST_CASE("config: the API's TLS files go together, and plain HTTP only on loopback") {
  CHECK(refusal("api:\n  listen: 127.0.0.1\n  tls_certificate: /etc/giftgate/api.crt\n") ==
        "giftgate.yaml:3: tls_certificate and tls_key go together: give both (TLS) or neither "
        "(plain HTTP, on loopback only)");
  CHECK(refusal("api:\n  listen: 0.0.0.0\n") ==
        "giftgate.yaml:2: plain HTTP is served on loopback only, and 0.0.0.0 is not: give "
        "tls_certificate and tls_key, or listen on 127.0.0.1");
  std::string error;
  for (const char* fine : {"api:\n  listen: 127.0.0.1\n", "api:\n  listen: ::1\n",
                           "api:\n  listen: 0.0.0.0\n  tls_certificate: a.crt\n  tls_key: a.key\n",
                           "api:\n  listen: \"\"\n"}) {
    INFO(fine);
    CHECK(parse_config(fine, "giftgate.yaml", &error));
  }
}
