// giftctl backup, restore and check as operators run them: the built binary
// on a campaign database, its output, its exit status and the files it
// leaves.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/storage/daemon_lock.hpp"
#include "daemon/storage/sqlite.hpp"
#include "tests/support/corrupt_page.hpp"
#include "tests/support/giftctl_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using Run = giftgate::test::CtlRun;
using giftgate::test::slurp;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A campaign on its own database: two members, one voucher redeemed.
class Campaign {
 public:
  Campaign() {
    std::ofstream(dir_.file("giftgate.yaml"))
        << "storage:\n  path: " << db() << "\ncampaign:\n  start: 2026-01-01\n"
        << "  end: 2036-01-01\n  confirm_minutes: 0\n";
    std::ofstream(dir_.file("members.csv"))
        << "msisdn,city,points\n13800138000,beijing,20000\n13800138001,beijing,9000\n";
    REQUIRE(ctl("import members " + dir_.file("members.csv")).status == 0);
    REQUIRE(ctl("stock A beijing 5").status == 0);
    REQUIRE(ctl("redeem 13800138000 A").status == 0);
  }

  Run ctl(const std::string& args) {
    return giftgate::test::run_giftctl(dir_, dir_.file("giftgate.yaml"), "--operator test " + args);
  }
  std::string db() const { return dir_.file("campaign.db"); }
  std::string file(const std::string& name) const { return dir_.file(name); }

  // A number read from a database file, as it is (no migration, read-only).
  std::int64_t count(const std::string& path, const std::string& sql) {
    std::string error;
    auto db = giftgate::db::Database::open_existing(path, false, std::chrono::seconds(1), &error);
    REQUIRE_MESSAGE(db, error);
    auto q = db->prepare(sql);
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    return q.column_int(0);
  }
  // The files in the folder whose names contain `part`.
  std::vector<std::string> files_with(const std::string& part) const {
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path()))
      if (contains(e.path().filename().string(), part)) found.push_back(e.path().string());
    return found;
  }

 private:
  giftgate::test::TempDir dir_;
};

}  // namespace

TEST_CASE("giftctl backup and restore: the backup's rows come back, the replaced database aside") {
  Campaign c;
  const mode_t old_umask = ::umask(022);
  auto r = c.ctl("backup " + c.file("b.db"));
  ::umask(old_umask);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "integrity ok; rows: members 2, ledger 3, vouchers 1,"));
  CHECK(contains(r.out, "mode 0600, done in "));
  CHECK(r.err.empty());  // no terminal: no progress line
  struct stat st {};
  REQUIRE(::stat(c.file("b.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(c.count(c.db(), "SELECT COUNT(*) FROM backups WHERE actor = 'test' AND path = '" +
                            c.file("b.db") + "' AND bytes > 0") == 1);
  CHECK(c.files_with(".partial-").empty());

  r = c.ctl("backup " + c.file("b.db"));
  CHECK(r.status == 1);
  CHECK(contains(r.err, "exists; not replaced (backup --force replaces it)"));
  r = c.ctl("backup " + c.file("b.db") + " --force");
  CHECK(r.status == 0);
  CHECK(c.count(c.db(), "SELECT COUNT(*) FROM backups") == 2);

  // The campaign goes on after the backup, then the backup is restored.
  REQUIRE(c.ctl("redeem 13800138001 A").status == 0);
  r = c.ctl("check --db " + c.file("b.db"));
  CHECK(r.status == 0);
  CHECK(contains(r.out, "result: all 14 checks passed"));
  r = c.ctl("restore " + c.file("b.db"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto aside = c.files_with("campaign.db.replaced-");
  REQUIRE(!aside.empty());
  CHECK(contains(r.out, "the database it replaced is kept as " + c.db() + ".replaced-"));
  CHECK(c.count(c.db(), "SELECT COUNT(*) FROM vouchers") == 1);
  const auto kept = std::find_if(aside.begin(), aside.end(), [](const std::string& p) {
    return p.size() > 1 && p.back() == 'Z';  // the database, not its -wal or -shm
  });
  REQUIRE(kept != aside.end());
  CHECK(c.count(*kept, "SELECT COUNT(*) FROM vouchers") == 2);
  CHECK(c.files_with(".partial-").empty());
  CHECK(c.ctl("check").status == 0);
  REQUIRE(c.ctl("redeem 13800138001 A").status == 0);  // giftctl works on the restored file
}

TEST_CASE("giftctl restore: refused while giftgated holds the database's lock") {
  Campaign c;
  REQUIRE(c.ctl("backup " + c.file("b.db")).status == 0);
  REQUIRE(c.ctl("redeem 13800138001 A").status == 0);
  {
    // POSIX locks belong to the process: the giftctl child finds it held.
    std::string error;
    const auto lock = giftgate::DaemonLock::acquire(c.db(), &error);
    REQUIRE_MESSAGE(lock, error);
    const auto r = c.ctl("restore " + c.file("b.db"));
    CHECK(r.status == 1);
    CHECK(contains(r.err, "giftgated (pid " + std::to_string(::getpid()) + ") runs on " + c.db()));
    CHECK(contains(r.err, "nothing restored"));
    CHECK(c.count(c.db(), "SELECT COUNT(*) FROM vouchers") == 2);
    CHECK(c.files_with(".replaced-").empty());
    CHECK(c.files_with(".partial-").empty());
  }
  CHECK(c.ctl("restore " + c.file("b.db")).status == 0);
  CHECK(c.count(c.db(), "SELECT COUNT(*) FROM vouchers") == 1);
}

TEST_CASE("giftctl check and restore: a copy with a damaged page is caught, the database kept") {
  Campaign c;
  REQUIRE(c.ctl("backup " + c.file("b.db")).status == 0);
  giftgate::test::corrupt_page_of(c.file("b.db"), "vouchers");
  auto r = c.ctl("check --db " + c.file("b.db"));
  CHECK(r.status == 1);
  CHECK(contains(r.out, "file: structure (integrity_check): corrupt"));
  CHECK(contains(r.out, "result: the file is corrupt"));
  CHECK(c.ctl("check --quick --db " + c.file("b.db")).status == 1);

  const std::string before = slurp(c.db());
  r = c.ctl("restore " + c.file("b.db"));
  CHECK(r.status == 1);
  CHECK(contains(r.err, "is corrupt"));
  CHECK(contains(r.err, "nothing changed"));
  CHECK(slurp(c.db()) == before);
  CHECK(c.files_with(".replaced-").empty());
  CHECK(c.files_with(".partial-").empty());
  CHECK(c.ctl("check").status == 0);
}

TEST_CASE("giftctl check: a copy of an older schema says which checks it skipped") {
  Campaign c;
  REQUIRE(c.ctl("backup " + c.file("b.db")).status == 0);
  {
    // What a backup taken before version 12 holds: no message_history.
    std::string error;
    auto db = giftgate::db::Database::open_existing(c.file("b.db"), true, std::chrono::seconds(1),
                                                    &error);
    REQUIRE_MESSAGE(db, error);
    REQUIRE(db->exec("DROP VIEW messages; DROP TABLE message_history; PRAGMA user_version=11").ok());
  }
  const auto r = c.ctl("check --db " + c.file("b.db"));
  CHECK(r.status == 0);
  CHECK(contains(r.out, "skipped (schema 11 has no table message_history)"));
  CHECK(contains(r.out, "result: 12 checks passed, 2 skipped (not in this schema)"));
}

TEST_CASE("giftctl check: usage, and a file that is not there") {
  Campaign c;
  CHECK(c.ctl("check extra").status == 2);
  const auto r = c.ctl("check --db " + c.file("missing.db"));
  CHECK(r.status == 1);
  CHECK(contains(r.err, "missing.db cannot be read"));
  CHECK_FALSE(std::filesystem::exists(c.file("missing.db")));
  CHECK(c.ctl("backup").status == 2);
  CHECK(c.ctl("restore").status == 2);
}

TEST_CASE("giftctl restore: run as root, the restored file keeps the replaced one's owner") {
  if (::geteuid() != 0) {
    MESSAGE("not root: chown is not giftctl's to do");
    return;
  }
  Campaign c;
  REQUIRE(c.ctl("backup " + c.file("b.db")).status == 0);
  // The daemon's user, in effect.
  REQUIRE(::chown(c.db().c_str(), 65534, 65534) == 0);
  REQUIRE(c.ctl("restore " + c.file("b.db")).status == 0);
  for (const std::string& path : {c.db(), c.db() + ".lock"}) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(st.st_uid == 65534);
    CHECK(st.st_gid == 65534);
  }
}
