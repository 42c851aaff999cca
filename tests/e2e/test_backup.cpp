// giftctl backup, check and restore beside a running giftgated: the copy is
// taken while MOs are being answered, and holds every one acknowledged
// before it began.
#include <csignal>
#include <map>

#include "daemon/storage/sqlite.hpp"
#include "tests/e2e/gate.hpp"

using namespace giftgate;
using namespace giftgate::e2e;

namespace {

// giftctl with the gate's configuration; its exit status (log in `log`).
int giftctl(Gate& g, const std::vector<std::string>& args, std::string* log = nullptr) {
  static int runs = 0;
  std::vector<std::string> all{"--config", g.config_path, "--operator", "e2e"};
  all.insert(all.end(), args.begin(), args.end());
  test::DaemonProcess run(GIFTGATE_GIFTCTL, all, g.dir.file(fmt::format("ctl{}.log", ++runs)));
  const auto rc = run.wait_exit(60s);
  if (log) *log = run.log();
  INFO(run.log());
  REQUIRE(rc);
  return *rc;
}

std::int64_t value_in(const std::string& path, const std::string& sql) {
  std::string error;
  auto db = db::Database::open_existing(path, false, 1s, &error);
  REQUIRE_MESSAGE(db, error);
  auto q = db->prepare(sql);
  REQUIRE(q.step() == db::StepResult::row);
  return q.column_int(0);
}

}  // namespace

TEST_CASE("giftctl backup: taken mid-burst, the copy holds every MO acknowledged before it began") {
  constexpr int kMembers = 150;
  Gate g("  confirm_minutes: 0\n", kMembers + 2);
  g.sim.command("set receipts=on");
  g.start();
  std::vector<std::string> burst, sender;
  for (int i = 2; i < kMembers + 2; ++i) {
    sender.push_back(fmt::format("861370000{:04}", i));
    burst.push_back("mo src=" + sender.back() + " dst=12580 text=DH%20A");
  }
  auto sending = std::async(std::launch::async, [&] { return g.sim.commands(burst, 30s); });
  // What the SMSC has been told is done: taken once some are, just before
  // the backup begins, while the burst goes on.
  std::set<std::string> acked;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (acked.size() < 20 && std::chrono::steady_clock::now() < deadline) {
    acked.clear();
    for (const auto& e : g.sim.history())
      if (e.name == "deliver_resp" && e.fields.count("kind") && e.fields.at("kind") == "mo" &&
          e.fields.count("status") && e.fields.at("status") == "0")
        acked.insert(e.fields.at("seq"));
    std::this_thread::sleep_for(1ms);
  }
  const std::string copy = g.dir.file("backup.db");
  std::string log;
  REQUIRE(giftctl(g, {"backup", copy}, &log) == 0);
  CHECK(contains(log, "integrity ok"));

  // The answers to the burst's mo commands, in order: each MO's sequence number.
  const auto answers = sending.get();
  REQUIRE(answers.size() == sender.size());
  std::map<std::string, std::string> sender_of;
  for (std::size_t i = 0; i < answers.size(); ++i) sender_of[answers[i].fields.at("seqs")] = sender[i];
  int missing = 0;
  for (const auto& seq : acked) {
    REQUIRE(sender_of.count(seq));
    if (value_in(copy, "SELECT COUNT(*) FROM inbox WHERE msisdn = '" + sender_of[seq] + "'") != 1)
      ++missing;
  }
  const auto in_copy = value_in(copy, "SELECT COUNT(*) FROM inbox");
  MESSAGE(acked.size() << " MOs acknowledged before the backup began, " << in_copy
                       << " in the copy, " << kMembers << " sent");
  CHECK(acked.size() >= 20);
  CHECK(missing == 0);
  CHECK(in_copy >= static_cast<std::int64_t>(acked.size()));
  CHECK(value_in(copy, "SELECT COUNT(*) FROM vouchers") == in_copy);  // each MO whole, or not at all
  CHECK(giftctl(g, {"check", "--db", copy}) == 0);

  // Then the disk is lost: the daemon stops, the backup comes back.
  CHECK(g.wait_value("SELECT COUNT(*) FROM vouchers", kMembers, 30s));
  CHECK(giftctl(g, {"restore", copy}, &log) == 1);  // refused while the daemon runs
  CHECK(contains(log, "stop it first"));
  g.daemon->signal(SIGTERM);
  REQUIRE(g.daemon->wait_exit(30s));
  REQUIRE(giftctl(g, {"restore", copy}, &log) == 0);
  CHECK(contains(log, "kept as " + g.db_path + ".replaced-"));
  CHECK(value_in(g.db_path, "SELECT COUNT(*) FROM inbox") == in_copy);
  CHECK(giftctl(g, {"check"}) == 0);
  g.start();  // the restored file is the daemon's again
  CHECK(contains(g.ask("8613800138000", "JF"), "12000"));
}
