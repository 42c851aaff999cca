// Abuse end to end: floods from one number, and a merchant guessing codes,
// against the SMSC simulator with the shipped limits and guard.
#include "daemon/campaign/voucher_code.hpp"
#include "tests/e2e/gate.hpp"

using namespace giftgate;
using namespace giftgate::e2e;

namespace {

const std::string kZh = "8613800138000";
const std::string kEn = "8613900000001";

// Redeems tier A for the Chinese member and returns the code.
std::string redeem(Gate& g) {
  CHECK(contains(g.ask(kZh, "DH A"), "回复Y确认"));
  const std::string code = code_in(g.ask(kZh, "Y"));
  REQUIRE(code.size() == 10);
  return code;
}

// A well-formed code (its check digit right) that no voucher has.
std::string unknown_code(int n) {
  const std::string body = fmt::format("ZZ{:07}", n);
  return body + *voucher_check_digit(body);
}

}  // namespace

TEST_CASE("abuse: one member's flood is answered up to the limit, told once, and holds no one up") {
  Gate g;
  g.enable_metrics();
  g.start();
  for (int i = 0; i < 200; ++i) g.mo(kZh, "JF");
  // Another member asks behind the whole flood and is answered.
  CHECK(contains(g.ask(kEn, "JF"), "Your points: 6000."));
  // Every MO recorded and acknowledged; ten answers and one slow-down sent.
  REQUIRE(g.wait_value("SELECT COUNT(*) FROM inbox WHERE msisdn = '" + kZh + "'", 200, 20s));
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE msisdn = '" + kZh + "' AND message = 'balance'") ==
        10);
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE msisdn = '" + kZh +
                "' AND message = 'slow_down'") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE msisdn = '" + kZh + "'") == 11);
  // Ninety past the minute's ten, then a hundred past the day's hundred.
  CHECK(g.metric("giftgate_mo_limited_total{limit=\"minute\"}") == 90);
  CHECK(g.metric("giftgate_mo_limited_total{limit=\"day\"}") == 100);
  CHECK(g.sim.wait_for("message", 10s, [&](const SimProcess::Event& e) {
    return e.fields.count("dst") && e.fields.at("dst") == kZh &&
           contains(e.fields.at("text"), "过于频繁");
  }));
}

TEST_CASE("abuse: a stranger's texts get one help text, then nothing") {
  Gate g;
  g.start();
  const std::string stranger = "8613700000099";
  CHECK(contains(g.ask(stranger, "hello"), "12580积分兑换"));
  for (int i = 0; i < 20; ++i) g.mo(stranger, fmt::format("text {}", i));
  REQUIRE(g.wait_value("SELECT COUNT(*) FROM inbox WHERE msisdn = '" + stranger + "'", 21, 10s));
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE msisdn = '" + stranger + "'") == 1);
}

TEST_CASE("abuse: USSD dials past the limit end with one slow-down screen, then nothing") {
  Gate g;
  g.start();
  for (int i = 0; i < 20; ++i) {
    g.dial(kEn, "*12580*1#");
    CHECK(contains(g.screen(kEn).fields.at("text"), "Your points: 6000"));
  }
  g.dial(kEn, "*12580*1#");
  const auto told = g.screen(kEn);
  CHECK(contains(told.fields.at("text"), "Too many requests from your number"));
  CHECK(told.fields.at("ends") == "1");
  g.dial(kEn, "*12580*1#");
  REQUIRE(g.wait_value("SELECT COUNT(*) FROM inbox WHERE channel = 'ussd'", 22, 10s));
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE channel = 'ussd'") == 21);
}

TEST_CASE("abuse: a merchant guessing from two numbers is locked after five failures in all") {
  Gate g;
  {
    // bj-1 gets a second number; a Shanghai merchant is added.
    auto db = test::open_campaign_db(g.db_path);
    REQUIRE(db->exec("INSERT INTO merchant_phones VALUES ('8613911111113', 'bj-1');"
                     "INSERT INTO merchants(id, name, city, kind, level) VALUES "
                     "('sh-1', 'Sea KTV', 'shanghai', 'ktv', 'high');"
                     "INSERT INTO merchant_phones VALUES ('8613922222222', 'sh-1');")
              .ok());
  }
  g.enable_metrics();
  g.start();
  const std::string code = redeem(g);
  // A live Beijing code in Shanghai reads exactly as a code that does not
  // exist: the guesser learns nothing.
  const std::string elsewhere = g.ask("8613922222222", "HX " + code);
  const std::string none = g.ask("8613922222222", "HX " + unknown_code(1));
  CHECK(elsewhere == "券码" + code + "无效或不能在本店使用，请核对。");
  CHECK(none == "券码" + unknown_code(1) + "无效或不能在本店使用，请核对。");

  // bj-1 uses the code, then fails five times across its two numbers
  // (asking again for the used code counts too).
  CHECK(contains(g.ask("8613911111111", "HX " + code), "核销成功"));
  g.reply(kZh);  // the member's note
  CHECK(contains(g.ask("8613911111111", "HX " + code), "不能重复核销"));
  CHECK(contains(g.ask("8613911111113", "HX " + unknown_code(2)), "无效"));
  CHECK(contains(g.ask("8613911111111", "HX " + unknown_code(3)), "无效"));
  CHECK(contains(g.ask("8613911111113", "HX AB12"), "格式不对"));
  g.ask("8613911111111", "HX " + unknown_code(4));  // the fifth: locks the merchant
  for (const char* n : {"8613911111111", "8613911111113"})
    CHECK(contains(g.ask(n, "HX " + unknown_code(5)), "暂停核销"));
  CHECK(g.metric("giftgate_verify_failures_total{merchant=\"bj-1\"}") == 5);
  CHECK(g.metric("giftgate_verify_failures_total{merchant=\"sh-1\"}") == 2);
  CHECK(g.metric("giftgate_merchant_lockouts_total{merchant=\"bj-1\"}") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM merchant_lockouts WHERE merchant_id = 'bj-1'") == 1);
}

TEST_CASE("abuse: a verification guard turned off is warned about, by --check-config and at start") {
  Gate g("verification:\n  max_failures: 0\n");
  test::DaemonProcess check(GIFTGATE_GIFTGATED, {"--config", g.config_path, "--check-config"},
                            g.dir.file("check.log"));
  CHECK(check.wait_exit(10s) == 0);
  CHECK(contains(check.log(), "warning: verification.max_failures is 0"));
  g.start();
  CHECK(g.daemon->wait_log("config_warning", 5s));
}
