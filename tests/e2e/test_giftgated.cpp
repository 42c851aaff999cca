// giftgated end to end: the built daemon against the SMSC simulator, the
// campaign database seeded in-process, every wait bounded.
#include <pthread.h>
#include <sys/stat.h>

#include <csignal>
#include <cstring>

#include "protocol/utf8.hpp"
#include "tests/e2e/gate.hpp"

using namespace giftgate;
using namespace giftgate::e2e;

TEST_CASE("giftgated: a member redeems and a merchant verifies, every message delivered") {
  Gate g;
  g.sim.command("set receipts=on");
  g.start();
  CHECK(contains(g.ask("8613800138000", "积分"), "您的积分：12000"));
  CHECK(contains(g.ask("8613800138000", "兑换A"), "10分钟内回复Y确认"));
  const std::string voucher = g.ask("8613800138000", "是");
  const std::string code = code_in(voucher);
  REQUIRE_MESSAGE(code.size() == 10, voucher);
  CHECK(contains(voucher, "剩余积分7000"));
  CHECK(contains(g.ask("8613800138000", "查询"), code));
  CHECK(contains(g.ask("8613911111111", "HX " + code), "核销成功"));
  CHECK(contains(g.reply("8613800138000"), "已于"));  // the member's note
  CHECK(contains(g.ask("8613911111111", code), "不能重复核销"));
  // Every reply was delivered, and the SMSC saw every MO acknowledged.
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'", 0, 10s));
  CHECK(g.value("SELECT COUNT(*) FROM outbox") == 7);
  CHECK(g.value("SELECT COUNT(*) FROM inbox") == 6);
  // No voucher code in the log, no whole phone number.
  const std::string log = g.daemon->log();
  CHECK_FALSE(contains(log, code));
  CHECK_FALSE(contains(log, "8613800138000"));
  g.daemon->signal(SIGTERM);
  CHECK(g.daemon->wait_exit(15s) == 0);
  CHECK(g.sim.wait_for("unbind", 2s));
}

TEST_CASE("giftgated: a merchant disabled by giftctl is refused at its next MO, and back when enabled") {
  Gate g;
  g.start();
  int runs = 0;
  auto ctl = [&](const std::vector<std::string>& args) {
    std::vector<std::string> all{"--config", g.config_path, "--operator", "e2e"};
    all.insert(all.end(), args.begin(), args.end());
    test::DaemonProcess run(GIFTGATE_GIFTCTL, all, g.dir.file(fmt::format("ctl{}.log", ++runs)));
    const auto rc = run.wait_exit(10s);
    INFO(run.log());
    CHECK(rc == 0);
  };
  const std::string member = "8613800138000", star = "8613911111111", en = "8613900000001";
  CHECK(contains(g.ask(member, "DH A"), "10分钟内回复Y确认"));
  const std::string code = code_in(g.ask(member, "Y"));
  REQUIRE(code.size() == 10);
  CHECK(contains(g.ask(en, "SH"), "Star KTV"));

  // While the daemon runs, with nothing asked of it: the next MO sees it.
  ctl({"merchant", "disable", "bj-1", "--reason", "contract ended"});
  CHECK(contains(g.ask(star, "HX " + code), "本号码所属商户已暂停核销"));
  CHECK(contains(g.ask(star, code), "本号码所属商户已暂停核销"));
  CHECK(g.value("SELECT COUNT(*) FROM vouchers WHERE state = 'used'") == 0);
  const std::string listed = g.ask(en, "SH");
  CHECK_FALSE(contains(listed, "Star KTV"));
  CHECK(contains(listed, "Sky Cinema"));

  ctl({"merchant", "enable", "bj-1", "--reason", "renewed"});
  CHECK(contains(g.ask(star, "HX " + code), "核销成功"));
  CHECK(contains(g.reply(member), "Star KTV"));  // the member's note
  CHECK(contains(g.ask(en, "SH"), "Star KTV"));
  CHECK(g.value("SELECT COUNT(*) FROM events WHERE kind IN ('merchant_disabled', "
                "'merchant_enabled') AND actor = 'e2e' AND real_uid IS NOT NULL") == 2);
}

TEST_CASE("giftgated: every keyword, in English") {
  // More than one member asks in a minute: the per-number limits, off.
  Gate g("limits:\n  mo_per_minute: 0\n  replies_per_minute: 0\n");
  g.start();
  const std::string en = "8613900000001";
  CHECK(contains(g.ask(en, "bal"), "Your points: 6000."));
  CHECK(contains(g.ask(en, "REDEEM b"), "Reply Y within 10 minutes"));
  CHECK(contains(g.ask(en, "yes"), "12580 gift voucher worth 50 yuan"));
  CHECK(contains(g.ask(en, "MY"), "You have 1 unused vouchers"));
  CHECK(contains(g.ask(en, "SH"), "Star KTV (KTV) A: 5 hours; B: 2 hours"));
  CHECK_FALSE(contains(g.ask(en, "SH 影院"), "Star KTV"));
  CHECK(contains(g.ask(en, "TD"), "no more tips"));
  CHECK(contains(g.ask(en, "KT"), "Tips are on again"));
  CHECK(contains(g.ask(en, "HELP"), "12580 points for gifts"));
  CHECK(contains(g.ask(en, "？"), "12580 points for gifts"));
  CHECK(contains(g.ask(en, "DH Q"), "No such tier"));
  CHECK(contains(g.ask(en, "Y"), "Nothing is waiting for your confirmation"));  // not the voucher again
  CHECK(contains(g.ask(en, "garbage ' OR 1=1; --"), "12580 points for gifts"));
}

TEST_CASE("giftgated: every keyword, in Chinese, full-width too") {
  Gate g;
  g.start();
  const std::string zh = "8613800138000";
  CHECK(contains(g.ask(zh, "ＪＦ"), "您的积分：12000"));
  CHECK(contains(g.ask(zh, "DH B"), "A档") == false);
  const std::string voucher = g.ask(zh, "Y");
  CHECK(contains(voucher, "12580礼券：50元"));
  CHECK(contains(g.ask(zh, "CX"), "您有1张未使用礼券"));
  CHECK(contains(g.ask(zh, "商户 KTV"), "Star KTV(KTV)"));
  CHECK(contains(g.ask(zh, "退订"), "已退订"));
  CHECK(contains(g.ask(zh, "开通"), "已开通"));
  CHECK(contains(g.ask(zh, "帮助"), "12580积分兑换"));
  // The merchant's Chinese keyword, with the code typed in full-width.
  std::string wide;
  for (const char c : code_in(voucher)) utf8::append(wide, U'\uFF00' + static_cast<char32_t>(c - 0x20));
  CHECK(contains(g.ask("8613911111112", "核销 " + wide), "核销成功"));
  CHECK(contains(g.reply(zh), "Sky Cinema"));  // the member's note
  CHECK(contains(g.ask("8613600000000", "积分"), "不是音乐俱乐部会员"));
}

TEST_CASE("giftgated: a confirmation after the offer timed out redeems nothing") {
  Gate g;
  g.start();
  const std::string zh = "8613800138000";
  const std::string en = "8613900000001";
  CHECK(contains(g.ask(zh, "兑换A"), "10分钟内回复Y确认"));
  CHECK(contains(g.ask(en, "redeem b"), "Reply Y within 10 minutes"));
  // Ten minutes pass: the offers' deadlines are moved into the past, which
  // the daemon reads afresh for every MO.
  REQUIRE(test::open_campaign_db(g.db_path)->exec(
                "UPDATE offers SET expires_at = '2026-01-01T00:00:00Z'").ok());
  CHECK(contains(g.ask(zh, "Y"), "已超过10分钟"));
  CHECK(contains(g.ask(en, "yes"), "The 10 minutes to confirm have passed"));
  CHECK(contains(g.ask(en, "Y"), "have passed"));  // and again: still nothing redeemed
  CHECK(g.value("SELECT COUNT(*) FROM vouchers") == 0);
  CHECK(g.value("SELECT COUNT(*) FROM ledger WHERE delta < 0") == 0);
  CHECK(contains(g.ask(zh, "JF"), "您的积分：12000"));
}

TEST_CASE("giftgated: UNDELIV is resent and then delivered") {
  Gate g;
  g.sim.command("set receipts=on receipt_stat=UNDELIV");
  g.start();
  CHECK(contains(g.ask("8613800138000", "JF"), "12000"));
  REQUIRE(g.sim.wait_for("receipt_sent", 5s));
  g.sim.command("set receipt_stat=DELIVRD");
  CHECK(contains(g.reply("8613800138000", 15s), "12000"));  // the resend
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered' AND attempts = 2", 1,
                     10s));
}

TEST_CASE("giftgated: no receipt at all fails the message after its attempts") {
  Gate g;
  // Two attempts, a second each to wait for the receipt.
  std::string text = read_file(g.config_path);
  text.replace(text.find("outbox:\n"), 8, "outbox:\n  max_attempts: 2\n  receipt_timeout_seconds: 1\n");
  std::ofstream(g.config_path, std::ios::trunc) << text;
  g.start();
  g.ask("8613800138000", "JF");
  CHECK(contains(g.reply("8613800138000", 15s), "12000"));  // resent once
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND attempts = 2", 1, 20s));
}

TEST_CASE("giftgated: a receipt that comes before its submit_sm_resp is matched, counted as early") {
  Gate g;
  g.enable_metrics();
  g.sim.command("set receipts=on receipt_before_resp=on resp_delay_ms=300");
  g.start();
  g.ask("8613800138000", "JF");
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 1, 10s));
  CHECK(g.value("SELECT COUNT(*) FROM receipts") >= 1);
  CHECK(g.value("SELECT COUNT(*) FROM receipts WHERE matched = 0") == 0);
  CHECK(g.value("SELECT COUNT(*) FROM receipts WHERE outcome <> 'applied'") == 0);
  CHECK(g.metric("giftgate_receipts_early_total") >= 1);
  // Early is not unmatched: no unmatched line at all.
  CHECK(g.metrics("giftgate_receipts_early_total").find("giftgate_receipts_unmatched_total{") ==
        std::string::npos);
}

TEST_CASE("giftgated: a receipt from another number is not applied to the message") {
  Gate g;
  g.enable_metrics();
  g.start();
  CHECK(contains(g.ask("8613900000001", "CX"), "no unused vouchers"));  // one part
  const auto submit = g.sim.wait_for("submit", 5s);
  REQUIRE(submit);
  const std::string id = submit->fields.at("id");
  // Its id, but from another member's number: counted, stored, not applied.
  g.sim.command("receipt id=" + id + " src=8613800138000 dst=12580");
  CHECK(g.wait_value("SELECT COUNT(*) FROM receipts WHERE outcome = 'unmatched'", 1, 5s));
  CHECK(g.metric("giftgate_receipts_unmatched_total{reason=\"recipient\"}") == 1);
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE state = 'submitted'") == 1);
  // From the member's own number it is.
  g.sim.command("receipt id=" + id + " src=8613900000001 dst=12580");
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 1, 5s));
}

TEST_CASE("giftgated: a question asked again after a reconnect is answered again") {
  Gate g;
  g.start();
  CHECK(contains(g.ask("8613800138000", "JF"), "12000"));
  g.sim.command("drop");
  REQUIRE(g.sim.wait_for("bind", 10s));
  // Within mo_dedupe_seconds, on a new connection: still answered.
  CHECK(contains(g.ask("8613800138000", "JF"), "12000"));
  CHECK(g.value("SELECT COUNT(*) FROM inbox") == 2);
}

TEST_CASE("giftgated: an MO delivered again after a lost answer is answered once") {
  Gate g;
  g.start();
  // The answer to this MO is lost with the connection; the SMSC delivers
  // it again after the daemon binds anew.
  g.sim.command("set silent=on");
  g.mo("8613800138000", "DH A");
  REQUIRE(g.daemon->wait_log("event=mo ", 5s));  // handled and committed
  g.sim.command("drop");
  g.sim.command("set silent=off");
  REQUIRE(g.sim.wait_for("bind", 10s));
  g.mo("8613800138000", "DH A");
  REQUIRE(g.daemon->wait_log("event=mo_duplicate", 5s));
  CHECK(g.value("SELECT COUNT(*) FROM inbox") == 1);
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox", 1, 5s));
  // The same text again on this connection is the member asking again.
  g.mo("8613800138000", "DH A");
  CHECK(g.wait_value("SELECT COUNT(*) FROM inbox", 2, 5s));
}

TEST_CASE("giftgated: a concatenated MO is reassembled before it is read") {
  Gate g;
  g.start();
  g.sim.command("mo src=8613900000001 dst=12580 split=udh8 part_len=3 text=" +
                SimProcess::encode("  redeem   a  "));
  CHECK(contains(g.reply("8613900000001"), "Redeem 5000 points"));
  CHECK(g.value("SELECT COUNT(*) FROM inbox") == 1);
}

TEST_CASE("giftgated: the SMSC dropping the connection mid-window loses nothing") {
  Gate g("", 12);
  g.sim.command("set receipts=on resp_delay_ms=200");
  g.start();
  for (int i = 2; i < 12; ++i) g.mo(fmt::format("861370000{:04}", i), "JF");
  REQUIRE(g.sim.wait_for("submit", 5s));
  g.sim.command("drop");
  REQUIRE(g.sim.wait_for("bind", 10s));  // reconnected
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 10, 20s));
  CHECK(g.value("SELECT COUNT(*) FROM outbox") == g.value("SELECT COUNT(*) FROM inbox"));
}

TEST_CASE("giftgated: killed mid-traffic, restarted: nothing acknowledged is lost or done twice") {
  // 20 MOs one by one, each answered; then a burst of 100 during which the
  // daemon dies: some committed and unanswered, some never read.
  constexpr int kMembers = 120;
  constexpr int kFirst = 20;
  Gate g("  confirm_minutes: 0\n", kMembers + 2);
  g.sim.command("set receipts=on");
  g.start();
  for (int i = 2; i < kFirst + 2; ++i) g.mo(fmt::format("861370000{:04}", i), "DH A");
  for (int i = 0; i < kFirst; ++i)
    REQUIRE(g.sim.wait_for("deliver_resp", 10s,
                           [](const SimProcess::Event& e) { return e.fields.at("kind") == "mo"; }));
  std::vector<std::string> burst;
  for (int i = kFirst + 2; i < kMembers + 2; ++i)
    burst.push_back(fmt::format("mo src=861370000{:04} dst=12580 text=DH%20A", i));
  // One burst, as an SMSC with a queue for us would send it; the daemon is
  // killed once it has committed the first few, while the rest are in
  // flight. (Its answers may still be unwritten: it reads the burst first.)
  auto sending = std::async(std::launch::async, [&] {
    try {
      g.sim.commands(burst, 20s);
    } catch (const std::runtime_error&) {
      // MOs after the kill find no receiver: they are delivered below.
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (g.value("SELECT COUNT(*) FROM inbox") < kFirst + 5 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  g.daemon->signal(SIGKILL);
  REQUIRE(g.daemon->wait_exit(5s));
  sending.get();
  // The SMSC delivers again what was not acknowledged, as SMSCs do.
  std::set<std::string> acked;
  for (const auto& e : g.sim.history())
    if (e.name == "deliver_resp" && e.fields.count("kind") && e.fields.at("kind") == "mo" &&
        e.fields.count("status") && e.fields.at("status") == "0")
      acked.insert(e.fields.at("seq"));
  const auto acked_before = acked.size();
  const auto committed_before = g.value("SELECT COUNT(*) FROM inbox");
  MESSAGE(acked_before << " of " << kMembers << " MOs acknowledged before the kill, "
                       << committed_before << " committed");
  CHECK(acked_before >= static_cast<std::size_t>(kFirst));
  CHECK(acked_before < static_cast<std::size_t>(kMembers));
  // Every acknowledged MO had its effect committed: one voucher each.
  CHECK(g.value("SELECT COUNT(*) FROM vouchers") >= static_cast<std::int64_t>(acked_before));
  g.start();
  for (int i = 2; i < kMembers + 2; ++i) g.mo(fmt::format("861370000{:04}", i), "DH A");  // redelivered
  CHECK(g.wait_value("SELECT COUNT(*) FROM vouchers", kMembers, 20s));
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE voucher_code IS NOT NULL AND state = "
                     "'delivered'", kMembers, 30s));
  CHECK(g.value("SELECT COUNT(*) FROM ledger WHERE delta < 0") == kMembers);
  CHECK(g.value("SELECT MAX(n) FROM (SELECT COUNT(*) n FROM vouchers GROUP BY member_id)") == 1);
  CHECK(g.value("SELECT MIN(b) FROM (SELECT SUM(delta) b FROM ledger GROUP BY member_id)") >= 0);
  CHECK(g.value("SELECT COUNT(*) FROM vouchers v WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE "
                "l.reference = 'redeem:' || v.code)") == 0);
}

TEST_CASE("giftgated: SIGHUP loads good templates and refuses a broken file") {
  Gate g;
  g.start();
  std::string text = read_file(g.templates_path);
  const std::string old_help = "12580 points for gifts: JF";
  text.replace(text.find(old_help), old_help.size(), "Hello from the new file: JF");
  std::ofstream(g.templates_path, std::ios::trunc) << text;
  g.daemon->signal(SIGHUP);
  REQUIRE(g.daemon->wait_log("event=reloaded", 5s));
  CHECK(contains(g.ask("8613900000001", "help"), "Hello from the new file"));
  std::ofstream(g.templates_path, std::ios::trunc) << "help:\n  zh: \"{nope}\"\n";
  g.daemon->signal(SIGHUP);
  REQUIRE(g.daemon->wait_log("event=reload_refused", 5s));
  CHECK(contains(g.ask("8613900000001", "help"), "Hello from the new file"));
}

TEST_CASE("giftgated: SIGHUP applies a changed limit at once and names a change that needs a restart") {
  Gate g("limits:\n  mo_per_minute: 1\n");
  g.start();
  const std::string en = "8613900000001";
  const auto began = std::chrono::steady_clock::now();
  CHECK(contains(g.ask(en, "JF"), "Your points: 6000."));
  CHECK(contains(g.ask(en, "JF"), "too many messages"));  // past one a minute: told once
  g.edit_config("mo_per_minute: 1", "mo_per_minute: 5");
  g.edit_config(fmt::format("port: {}\n", g.sim.port()), fmt::format("port: {}\n", g.sim.port() + 1));
  g.daemon->signal(SIGHUP);
  REQUIRE(g.daemon->wait_log("event=reloaded", 5s));
  const std::string log = g.daemon->log();
  CHECK(contains(log, "event=setting_applied name=limits.mo_per_minute"));
  CHECK(contains(log, "event=setting_needs_restart name=smsc.port"));
  CHECK_FALSE(contains(log, "name=smsc.host"));  // only what changed
  // The same minute, the same process and bind: under the old limit this
  // MO would get nothing (the slow-down was sent), under the new one an answer.
  CHECK(contains(g.ask(en, "JF"), "Your points: 6000."));
  // Else the minute, not the reload, may have let it through.
  CHECK(std::chrono::steady_clock::now() - began < 50s);
  CHECK(g.value("SELECT COUNT(*) FROM outbox WHERE msisdn = '" + en + "' AND message = 'balance'") == 2);
}

TEST_CASE("giftctl reload: checks the templates first, then signals the daemon") {
  Gate g;
  const std::string pid_file = g.dir.file("giftgated.pid");
  std::ofstream(g.config_path, std::ios::app) << "daemon:\n  pid_file: " << pid_file << "\n";
  auto ctl = [&](const std::string& log) {
    test::DaemonProcess run(GIFTGATE_GIFTCTL, {"--config", g.config_path, "reload"},
                            g.dir.file(log));
    const auto rc = run.wait_exit(10s);
    return std::make_pair(rc.value_or(-1), run.log());
  };
  // No daemon yet: nothing to signal.
  CHECK(ctl("ctl0.log").first == 1);
  g.start();
  REQUIRE(g.daemon->wait_log("event=started", 5s));
  std::string text = read_file(g.templates_path);
  const std::string old_help = "12580 points for gifts: JF";
  text.replace(text.find(old_help), old_help.size(), "Reloaded by giftctl: JF");
  std::ofstream(g.templates_path, std::ios::trunc) << text;
  const auto good = ctl("ctl1.log");
  CHECK_MESSAGE(good.first == 0, good.second);
  REQUIRE(g.daemon->wait_log("event=reloaded", 5s));
  CHECK(contains(g.ask("8613900000001", "help"), "Reloaded by giftctl"));
  // A broken file: refused by giftctl with the reason; the daemon is not
  // even asked, and keeps the templates in force.
  std::ofstream(g.templates_path, std::ios::trunc) << "help:\n  zh: \"{nope}\"\n";
  const auto bad = ctl("ctl2.log");
  CHECK(bad.first == 2);
  CHECK(contains(bad.second, "nope"));
  CHECK(contains(bad.second, "not asked to reload"));
  CHECK(contains(g.ask("8613900000001", "help"), "Reloaded by giftctl"));
  // After a clean stop the pid file is gone, and reload says so.
  g.daemon->signal(SIGTERM);
  CHECK(g.daemon->wait_exit(15s) == 0);
  // Had giftctl sent a SIGHUP, the daemon would have refused the broken file
  // before it stopped: the SIGHUP was sent before giftctl exited, so before
  // the SIGTERM, and pending signals are delivered lowest number first and
  // handled in the order delivered.
  CHECK_FALSE(contains(g.daemon->log(), "reload_refused"));
  CHECK_FALSE(std::filesystem::exists(pid_file));
  // A stale file naming some other process: that process is left alone.
  std::ofstream(g.templates_path, std::ios::trunc) << text;
  std::ofstream(pid_file) << ::getpid() << "\n";
  const auto stale = ctl("ctl3.log");
  CHECK(stale.first == 1);
  CHECK(contains(stale.second, "not a running giftgated"));
}

namespace {
int mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE_MESSAGE(::stat(path.c_str(), &st) == 0, path);
  return static_cast<int>(st.st_mode & 07777);
}
}  // namespace

TEST_CASE("giftgated: one daemon per database, a second start names it and touches nothing") {
  Gate g;
  const std::string pid_file = g.dir.file("giftgated.pid");
  std::ofstream(g.config_path, std::ios::app) << "daemon:\n  pid_file: " << pid_file << "\n";
  // A database left open to all, as a copy restored by hand might be.
  REQUIRE(::chmod(g.db_path.c_str(), 0644) == 0);
  g.start();
  REQUIRE(g.daemon->wait_log("event=started", 5s));
  CHECK(contains(g.ask("8613900000001", "JF"), "Your points"));
  for (const char* suffix : {"", "-wal", "-shm"}) CHECK(mode_of(g.db_path + suffix) == 0600);
  const std::string first = std::to_string(g.daemon->pid());
  CHECK(read_file(pid_file) == first + "\n");
  CHECK(read_file(g.db_path + ".lock") == first + "\n");
  const auto outbox = [&] {
    auto db = test::open_campaign_db(g.db_path);
    auto q = db->prepare("SELECT COUNT(*), COALESCE(GROUP_CONCAT(id || state), '') FROM outbox");
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    return q.column_text(0) + " " + q.column_text(1);
  };
  const std::string before = outbox();

  test::DaemonProcess second(GIFTGATE_GIFTGATED, {"--config", g.config_path},
                             g.dir.file("second.log"));
  CHECK(second.wait_exit(10s) == 1);
  CHECK(contains(second.log(), fmt::format("{} is in use by giftgated process {} (it holds {}.lock)",
                                           g.db_path, first, g.db_path)));
  CHECK_FALSE(contains(second.log(), "event="));  // it logged nothing: it did nothing
  CHECK(read_file(pid_file) == first + "\n");
  CHECK(outbox() == before);
  CHECK(contains(g.ask("8613900000001", "JF"), "Your points"));  // the first serves on

  g.daemon->signal(SIGTERM);
  CHECK(g.daemon->wait_exit(15s) == 0);
  CHECK_FALSE(std::filesystem::exists(pid_file));
  g.start();  // the lock went with the first, even though its file stays
  CHECK(contains(g.ask("8613900000001", "JF"), "Your points"));
}

TEST_CASE("giftgated: at stop the pid file is removed only by the process it names") {
  Gate g;
  const std::string pid_file = g.dir.file("giftgated.pid");
  std::ofstream(g.config_path, std::ios::app) << "daemon:\n  pid_file: " << pid_file << "\n";
  g.start();
  REQUIRE(g.daemon->wait_log("event=started", 5s));
  CHECK(read_file(pid_file) == std::to_string(g.daemon->pid()) + "\n");
  // Another daemon's since (on another database, the same path by mistake).
  std::ofstream(pid_file, std::ios::trunc) << "4242\n";
  g.daemon->signal(SIGTERM);
  CHECK(g.daemon->wait_exit(15s) == 0);
  CHECK(read_file(pid_file) == "4242\n");
}

TEST_CASE("giftctl reload: signals only the process holding the database's lock") {
  Gate g;
  const std::string pid_file = g.dir.file("giftgated.pid");
  std::ofstream(g.config_path, std::ios::app) << "daemon:\n  pid_file: " << pid_file << "\n";
  // A decoy: sleep, copied under the daemon's name, so /proc/PID/comm says
  // giftgated. It starts with SIGHUP blocked (the mask is inherited), so a
  // SIGHUP sent to it stays pending where /proc shows it, and it lives on.
  const std::string decoy = g.dir.file("giftgated");
  std::filesystem::copy_file("/bin/sleep", decoy);
  std::filesystem::permissions(decoy, std::filesystem::perms::owner_all);
  sigset_t hup, old;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  REQUIRE(::pthread_sigmask(SIG_BLOCK, &hup, &old) == 0);
  test::DaemonProcess sleeper(decoy, {"60"}, g.dir.file("decoy.log"));
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  const std::string pid = std::to_string(sleeper.pid());
  const std::string proc = "/proc/" + pid;
  for (int i = 0; i < 100 && read_file(proc + "/comm") != "giftgated\n"; ++i)
    std::this_thread::sleep_for(20ms);  // until the exec is done
  REQUIRE(read_file(proc + "/comm") == "giftgated\n");
  // Its number where the daemon's would be: the pid file and the lock file.
  std::ofstream(pid_file) << pid << "\n";
  std::ofstream(g.db_path + ".lock") << pid << "\n";

  test::DaemonProcess ctl(GIFTGATE_GIFTCTL, {"--config", g.config_path, "reload"},
                          g.dir.file("ctl.log"));
  CHECK(ctl.wait_exit(10s) == 1);
  CHECK(contains(ctl.log(), fmt::format("no process holds the lock, so process {} is not a "
                                        "running giftgated",
                                        pid)));
  CHECK(contains(ctl.log(), "nothing was signalled"));
  // Whatever giftctl did is done by its exit: a SIGHUP would be pending now.
  const std::string status = read_file(proc + "/status");
  for (const char* line : {"\nSigPnd:\t", "\nShdPnd:\t"}) {
    const auto at = status.find(line);
    REQUIRE(at != std::string::npos);
    const auto pending = std::stoull(status.substr(at + std::strlen(line), 16), nullptr, 16);
    CHECK_MESSAGE((pending & (1ull << (SIGHUP - 1))) == 0, line);
  }
  CHECK_FALSE(sleeper.wait_exit(std::chrono::milliseconds(0)));
}

TEST_CASE("giftgated: --check-config names file and line, and metrics are served") {
  Gate g;
  {
    std::ofstream(g.dir.file("bad.yaml")) << "smsc:\n  port: 2775\n  colour: red\n";
    test::DaemonProcess check(GIFTGATE_GIFTGATED, {"--config", g.dir.file("bad.yaml"), "--check-config"},
                              g.dir.file("check.log"));
    CHECK(check.wait_exit(10s) == 2);
    CHECK(contains(check.log(), "bad.yaml:3: unknown key 'colour' in smsc"));
  }
  g.enable_metrics();
  g.start();
  g.ask("8613800138000", "JF");
  const std::string body = g.metrics("giftgate_mo_total");
  CHECK(contains(body, "HTTP/1.0 200 OK"));
  CHECK(contains(body, "giftgate_bind_up{smsc=\"smsc\",bind=\"1\"} 1"));
  CHECK(contains(body, "giftgate_mo_total{command=\"balance\"} 1"));
}

TEST_CASE("giftgated: --check-config and a start refuse vouchers that expire before the end") {
  test::TempDir dir;
  std::ofstream(dir.file("late.yaml"))
      << "storage:\n  path: " << dir.file("campaign.db")
      << "\ncampaign:\n  end: 2027-01-01\n  vouchers_expire: 2026-12-31 23:59\n";
  const std::string said =
      "late.yaml:5: vouchers_expire (2026-12-31 23:59) must come after end";
  test::DaemonProcess check(GIFTGATE_GIFTGATED,
                            {"--config", dir.file("late.yaml"), "--check-config"},
                            dir.file("check.log"));
  CHECK(check.wait_exit(10s) == 2);
  CHECK(contains(check.log(), said));
  test::DaemonProcess start(GIFTGATE_GIFTGATED, {"--config", dir.file("late.yaml")},
                            dir.file("start.log"));
  CHECK(start.wait_exit(10s) == 2);
  CHECK(contains(start.log(), said));
  CHECK_FALSE(std::filesystem::exists(dir.file("campaign.db")));  // nothing opened
}

TEST_CASE("giftgated: an SMSC password open to others, or a credential not handed over, stops it") {
  test::TempDir dir;
  const std::string password = dir.file("smsc-password");
  std::ofstream(password) << "s3cret\n";
  REQUIRE(::chmod(password.c_str(), 0644) == 0);
  std::ofstream(dir.file("loose.yaml"))
      << "storage:\n  path: " << dir.file("campaign.db") << "\nsmsc:\n  password_file: " << password
      << "\n";
  test::DaemonProcess loose(GIFTGATE_GIFTGATED, {"--config", dir.file("loose.yaml")},
                            dir.file("loose.log"));
  CHECK(loose.wait_exit(10s) == 2);
  CHECK(contains(loose.log(), fmt::format("loose.yaml:4: {} has mode 0644", password)));
  CHECK_FALSE(contains(loose.log(), "s3cret"));
  CHECK_FALSE(std::filesystem::exists(dir.file("campaign.db")));

  ::unsetenv("CREDENTIALS_DIRECTORY");
  std::ofstream(dir.file("cred.yaml"))
      << "storage:\n  path: " << dir.file("campaign.db")
      << "\nsmsc:\n  password_file: $CREDENTIALS_DIRECTORY/smsc-password\n";
  test::DaemonProcess cred(GIFTGATE_GIFTGATED, {"--config", dir.file("cred.yaml")},
                           dir.file("cred.log"));
  CHECK(cred.wait_exit(10s) == 2);
  CHECK(contains(cred.log(), "names the credential smsc-password in $CREDENTIALS_DIRECTORY, "
                             "which is not set"));
  CHECK_FALSE(std::filesystem::exists(dir.file("campaign.db")));
}

namespace {
// Sends a burst of balance asks from members 2..39 and returns who was
// answered (bounded: 80 messages, 10 s each).
std::set<std::string> burst_of_asks(Gate& g) {
  std::vector<std::string> burst;
  for (int i = 2; i < 40; ++i) burst.push_back(fmt::format("mo src=861370000{:04} dst=12580 text=JF", i));
  g.sim.commands(burst);
  std::set<std::string> answered;
  for (int i = 0; i < 80 && answered.size() < burst.size(); ++i) {
    const auto m = g.sim.wait_for("message", 10s);
    if (!m) break;
    answered.insert(m->fields.at("dst"));
  }
  return answered;
}
}  // namespace

TEST_CASE("giftgated: a burst of MOs, receipts and answers is committed in a few transactions") {
  Gate g("", 40);
  g.enable_metrics();
  g.sim.command("set receipts=on");
  g.start();
  CHECK(burst_of_asks(g).size() == 38);
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 38, 10s));
  // 38 MOs, at least 38 submit answers and 38 receipts: one transaction
  // each would be more than 114 (and more again to take the replies).
  const auto commits = g.metric("giftgate_db_commits_total");
  INFO("commits: " << commits);
  CHECK(commits > 0);
  CHECK(commits < 60);
}

TEST_CASE("giftgated: MOs wait unacknowledged while their replies cannot leave") {
  Gate g("", 40);
  // One submit at a time, each answered 50 ms later: replies leave at 20/s.
  g.edit_config("  rate: 0\n", "  rate: 0\n  window: 1\n");
  g.enable_metrics();
  g.sim.command("set resp_delay_ms=50 receipts=on");
  g.start();
  CHECK(burst_of_asks(g).size() == 38);
  CHECK(g.wait_value("SELECT COUNT(*) FROM inbox", 38, 5s));
  CHECK(g.metric("giftgate_mo_waited_total") > 0);
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 38, 10s));
}

TEST_CASE("giftgated: a second SIGTERM stops at once, and what was in flight is picked up again") {
  Gate g;
  g.start();
  g.sim.command("set silent=on");  // the reply's submit goes unanswered: the stop drains
  g.mo("8613800138000", "JF");
  REQUIRE(g.daemon->wait_log("event=mo ", 5s));
  REQUIRE(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'submitted'", 1, 5s));
  g.daemon->signal(SIGTERM);
  REQUIRE(g.daemon->wait_log("event=stopping", 5s));
  g.daemon->signal(SIGTERM);
  // Well inside the ten seconds the first one would have waited.
  CHECK(g.daemon->wait_exit(3s) == 0);
  CHECK(contains(g.daemon->log(), "event=stopping_now"));
  // The next start sends the reply whose answer never came.
  g.sim.command("set silent=off");
  g.sim.command("set receipts=on");
  g.start();
  CHECK(contains(g.reply("8613800138000"), "12000"));
  CHECK(g.wait_value("SELECT COUNT(*) FROM outbox WHERE state = 'delivered'", 1, 10s));
}
