// Two processes redeeming against one database file at the same time: the
// daemon and giftctl's call-centre redeem, or two daemons by mistake. Each
// process has its own connection; SQLite's write lock and the conditional
// updates must keep every point and every voucher counted once.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "daemon/storage/schema.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using namespace std::chrono_literals;

namespace {

constexpr int kMembers = 100;
constexpr int kVouchersEach = 3;  // each member can afford exactly this many
constexpr int kStock = 250;       // fewer than kMembers * kVouchersEach

Campaign campaign() {
  Campaign c;
  c.tiers = {{"C", 20, 100}};
  c.start = std::chrono::sys_days{std::chrono::year{2026} / 10 / 1};
  c.end = c.start + std::chrono::days(90);
  c.confirm_minutes = 0;
  return c;
}

std::string member(int i) { return fmt::format("86138000{:05}", i); }

// One process's work: every member asks kVouchersEach + 1 times, under
// request keys of its own. Returns how many it issued.
int redeem_all(const std::string& path, int process) {
  std::string error;
  auto db = db::Database::open({path, 10000ms}, schema_migrations(), &error);
  if (!db) return -1;
  Vouchers vouchers(*db, campaign());
  int issued = 0;
  const Time now = campaign().start + 1h;
  for (int round = 0; round <= kVouchersEach; ++round)
    for (int i = 0; i < kMembers; ++i) {
      const auto r = vouchers.redeem(member(i), "C", fmt::format("p{}-{}-{}", process, i, round),
                                     {"test", std::to_string(process)}, now);
      if (r.status == Redemption::Status::issued) ++issued;
      else if (r.status == Redemption::Status::failed) return -1;
      // A pause between asks, as between MOs: otherwise whichever process
      // holds the write lock first keeps it and the other only waits.
      ::usleep(100 + static_cast<unsigned>((i * 37 + process * 11) % 200));
    }
  return issued;
}

}  // namespace

TEST_CASE("two processes redeeming against one database spend nothing twice") {
  giftgate::test::TempDir dir;
  const std::string path = dir.file("shared.db");
  {
    auto db = giftgate::test::open_campaign_db(path);
    Ledger ledger(*db);
    for (int i = 0; i < kMembers; ++i)
      REQUIRE(ledger.add_member({0, member(i), "beijing", "zh", false}, 100 * kVouchersEach,
                                {"import", "t"}, {}) == Ledger::Result::ok);
    Vouchers vouchers(*db, campaign());
    REQUIRE(vouchers.set_stock("C", "beijing", kStock, {"giftctl", "t"}));
  }

  // Both children wait at a starting gate so that their work overlaps.
  int gate[2];
  REQUIRE(::pipe(gate) == 0);
  int pipes[2][2];
  pid_t pids[2];
  for (int p = 0; p < 2; ++p) {
    REQUIRE(::pipe(pipes[p]) == 0);
    pids[p] = ::fork();
    REQUIRE(pids[p] >= 0);
    if (pids[p] == 0) {  // the child: no doctest from here on
      ::close(gate[1]);
      char go = 0;
      if (::read(gate[0], &go, 1) != 1) ::_exit(2);
      const int issued = redeem_all(path, p);
      const bool written = ::write(pipes[p][1], &issued, sizeof issued) == sizeof issued;
      ::_exit(written ? 0 : 1);
    }
    ::close(pipes[p][1]);
  }
  ::close(gate[0]);
  CHECK(::write(gate[1], "gg", 2) == 2);
  ::close(gate[1]);
  int issued[2] = {-1, -1};
  for (int p = 0; p < 2; ++p) {
    CHECK(::read(pipes[p][0], &issued[p], sizeof issued[p]) == sizeof issued[p]);
    ::close(pipes[p][0]);
    int status = 0;
    REQUIRE(::waitpid(pids[p], &status, 0) == pids[p]);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  MESSAGE("process 0 issued " << issued[0] << ", process 1 issued " << issued[1]);
  CHECK(issued[0] >= 0);
  CHECK(issued[1] >= 0);
  CHECK(issued[0] + issued[1] == kStock);  // stock ran out before the points did

  auto db = giftgate::test::open_campaign_db(path);
  auto q = db->prepare(
      "SELECT (SELECT COUNT(*) FROM vouchers), (SELECT quantity FROM stock), "
      "(SELECT COUNT(*) FROM ledger WHERE delta < 0), "
      "(SELECT COUNT(*) FROM vouchers v WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE "
      "l.reference = 'redeem:' || v.code AND l.delta = -v.price)), "
      "(SELECT MIN(b) FROM (SELECT SUM(delta) AS b FROM ledger GROUP BY member_id))");
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == kStock);  // vouchers issued
  CHECK(q.column_int(1) == 0);       // stock left
  CHECK(q.column_int(2) == kStock);  // deductions: one per voucher
  CHECK(q.column_int(3) == 0);       // vouchers without their deduction
  CHECK(q.column_int(4) >= 0);       // no balance below zero
}
