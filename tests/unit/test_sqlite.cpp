#include <doctest/doctest.h>

#include <sys/stat.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <sqlite3.h>

#include "daemon/storage/page_cache.hpp"
#include "daemon/storage/sqlite.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate::db;
using giftgate::test::TempDir;
using namespace std::chrono_literals;

namespace {

constexpr Migration kTwo[] = {
    {1, "CREATE TABLE t(x INTEGER NOT NULL UNIQUE);"},
    {2, "ALTER TABLE t ADD COLUMN y TEXT;"},
};

std::unique_ptr<Database> open_ok(const std::string& path, std::span<const Migration> m = kTwo,
                                  std::chrono::milliseconds busy = 2000ms) {
  std::string error;
  auto db = Database::open({path, busy}, m, &error);
  INFO(error);
  REQUIRE(db);
  return db;
}

std::string pragma(Database& db, const char* sql) {
  auto q = db.prepare(sql);
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  return q.column_text(0);
}

}  // namespace

TEST_CASE("sqlite: a new database is private, in WAL mode, durable on commit") {
  TempDir dir;
  const auto path = dir.file("campaign.db");
  auto db = open_ok(path);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(pragma(*db, "PRAGMA journal_mode") == "wal");
  CHECK(pragma(*db, "PRAGMA synchronous") == "2");  // FULL
  CHECK(pragma(*db, "PRAGMA foreign_keys") == "1");
}

namespace {
int mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}
}  // namespace

TEST_CASE("sqlite: a database and its -wal and -shm files are made private, whatever they were") {
  TempDir dir;
  const auto path = dir.file("campaign.db");
  // Made with a loose umask, as a copy restored by hand might be.
  const mode_t old_umask = ::umask(022);
  {
    auto db = open_ok(path);
    REQUIRE(db->exec("INSERT INTO t(x) VALUES (1)").ok());
    CHECK(mode_of(path + "-wal") == 0600);  // new ones follow the database's mode
    CHECK(mode_of(path + "-shm") == 0600);
  }
  // Another connection keeps the -wal and -shm files while everything is
  // opened up to 0644, as an older giftgate or a restore leaves them.
  sqlite3* keep = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &keep, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(keep, "INSERT INTO t(x) VALUES (2)", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  for (const char* suffix : {"", "-wal", "-shm"})
    REQUIRE(::chmod((path + suffix).c_str(), 0644) == 0);
  {
    auto db = open_ok(path);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      INFO(suffix);
      CHECK(mode_of(path + suffix) == 0600);
    }
    auto q = db->prepare("SELECT COUNT(*) FROM t");
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    CHECK(q.column_int(0) == 2);  // nothing lost on the way
  }
  sqlite3_close(keep);
  ::umask(old_umask);
}

TEST_CASE("sqlite: migrations run once each, in order") {
  TempDir dir;
  const auto path = dir.file("m.db");
  {
    auto db = open_ok(path, std::span(kTwo).first(1));
    CHECK(db->schema_version() == 1);
    CHECK(db->prepare("INSERT INTO t(x) VALUES (1)").run().ok());
  }
  auto db = open_ok(path);
  CHECK(db->schema_version() == 2);
  CHECK(db->prepare("UPDATE t SET y = 'kept' WHERE x = 1").run().ok());
  auto again = open_ok(path);  // nothing to apply, nothing lost
  CHECK(pragma(*again, "SELECT y FROM t") == "kept");
}

TEST_CASE("sqlite: a database newer than the program is refused") {
  TempDir dir;
  const auto path = dir.file("new.db");
  open_ok(path);
  std::string error;
  CHECK_FALSE(Database::open({path, 1000ms}, std::span(kTwo).first(1), &error));
  CHECK(error.find("schema version 2 is newer than this program's 1") != std::string::npos);
}

TEST_CASE("sqlite: a failing migration changes nothing and says which") {
  TempDir dir;
  const auto path = dir.file("bad.db");
  constexpr Migration broken[] = {
      {1, "CREATE TABLE t(x INTEGER);"},
      {2, "CREATE TABLE u(y INTEGER); CREATE TABLE t(z INTEGER);"},
  };
  std::string error;
  CHECK_FALSE(Database::open({path, 1000ms}, broken, &error));
  CHECK(error.find("migration 2") != std::string::npos);
  auto db = open_ok(path, std::span(broken).first(1));
  CHECK(db->schema_version() == 1);
  CHECK_FALSE(db->exec("SELECT * FROM u").ok());  // rolled back with its migration
}

TEST_CASE("sqlite: a transaction rolls back unless committed") {
  TempDir dir;
  auto db = open_ok(dir.file("tx.db"));
  {
    Transaction tx(*db);
    REQUIRE(tx.begun().ok());
    CHECK(db->prepare("INSERT INTO t(x) VALUES (7)").run().ok());
  }
  CHECK(pragma(*db, "SELECT COUNT(*) FROM t") == "0");
  {
    Transaction tx(*db);
    CHECK(db->prepare("INSERT INTO t(x) VALUES (7)").run().ok());
    CHECK(tx.commit().ok());
  }
  CHECK(pragma(*db, "SELECT COUNT(*) FROM t") == "1");
  const auto dup = db->prepare("INSERT INTO t(x) VALUES (7)").run();
  CHECK(dup.constraint());
}

TEST_CASE("sqlite: waiting for another writer is bounded and reported") {
  TempDir dir;
  const auto path = dir.file("busy.db");
  auto holder = open_ok(path);
  auto waiter = open_ok(path, kTwo, 150ms);
  Transaction held(*holder);
  REQUIRE(held.begun().ok());
  const auto start = std::chrono::steady_clock::now();
  Transaction blocked(*waiter);
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(blocked.begun().busy());
  CHECK_FALSE(blocked.begun().message.empty());
  CHECK(waited >= 140ms);
  // Readers are not blocked by the writer (WAL).
  CHECK(pragma(*waiter, "SELECT COUNT(*) FROM t") == "0");
}

TEST_CASE("sqlite: SQL that does not prepare is a programming error") {
  TempDir dir;
  auto db = open_ok(dir.file("p.db"));
  CHECK_THROWS_AS(db->prepare("SELEKT 1"), std::logic_error);
}

TEST_CASE("sqlite: an empty string binds as an empty text, never as NULL") {
  TempDir dir;
  auto db = open_ok(dir.file("e.db"));
  auto q = db->prepare("SELECT ? IS NULL, ? = ''");
  q.bind(1, std::string_view()).bind(2, std::string_view());
  REQUIRE(q.step() == giftgate::db::StepResult::row);
  CHECK(q.column_int(0) == 0);
  CHECK(q.column_int(1) == 1);
}

TEST_CASE("sqlite: a transaction inside another is a savepoint") {
  TempDir dir;
  auto db = open_ok(dir.file("n.db"));
  {
    Transaction outer(*db);
    REQUIRE(outer.begun().ok());
    {
      Transaction kept(*db);
      REQUIRE(kept.begun().ok());
      CHECK(db->prepare("INSERT INTO t(x) VALUES (1)").run().ok());
      CHECK(kept.commit().ok());
    }
    {
      Transaction undone(*db);
      CHECK(db->prepare("INSERT INTO t(x) VALUES (2)").run().ok());
    }  // rolled back: only its own insert
    CHECK(pragma(*db, "SELECT group_concat(x) FROM t") == "1");
  }  // the outer one rolls back everything
  CHECK(pragma(*db, "SELECT COUNT(*) FROM t") == "0");
  {
    Transaction outer(*db);
    {
      Transaction inner(*db);
      CHECK(db->prepare("INSERT INTO t(x) VALUES (3)").run().ok());
      CHECK(inner.commit().ok());
    }
    CHECK(outer.commit().ok());
  }
  CHECK(pragma(*db, "SELECT group_concat(x) FROM t") == "3");
}

namespace {
int statements_prepared(Database& db) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.handle(), nullptr); s;
       s = sqlite3_next_stmt(db.handle(), s))
    ++n;
  return n;
}
}  // namespace

TEST_CASE("sqlite: a statement run again is prepared once, and comes back reset") {
  TempDir dir;
  auto db = open_ok(dir.file("cache.db"));
  const int before = statements_prepared(*db);
  for (int i = 0; i < 100; ++i) {
    auto q = db->prepare("SELECT ? + 1");
    q.bind(1, std::int64_t{i});
    REQUIRE(q.step() == giftgate::db::StepResult::row);
    CHECK(q.column_int(0) == i + 1);
  }
  CHECK(statements_prepared(*db) == before + 1);

  SUBCASE("two of the same SQL at once are two statements") {
    auto a = db->prepare("SELECT ? + 1");
    auto b = db->prepare("SELECT ? + 1");
    a.bind(1, std::int64_t{10});
    b.bind(1, std::int64_t{20});
    REQUIRE(a.step() == giftgate::db::StepResult::row);
    REQUIRE(b.step() == giftgate::db::StepResult::row);
    CHECK(a.column_int(0) == 11);
    CHECK(b.column_int(0) == 21);
    CHECK(statements_prepared(*db) == before + 2);
  }
  SUBCASE("given back in the middle of its rows, with its bindings") {
    db->exec("CREATE TABLE r(v INTEGER); INSERT INTO r VALUES (1), (2), (3);");
    {
      auto q = db->prepare("SELECT v FROM r WHERE v >= ? ORDER BY v");
      q.bind(1, std::int64_t{2});
      REQUIRE(q.step() == giftgate::db::StepResult::row);
      CHECK(q.column_int(0) == 2);
    }  // left with a row to go: reset, not left holding a read
    auto again = db->prepare("SELECT v FROM r WHERE v >= ? ORDER BY v");
    CHECK_FALSE(again.step() == giftgate::db::StepResult::row);  // the binding was cleared: NULL matches nothing
    Transaction tx(*db);  // and nothing is still reading
    REQUIRE(tx.begun().ok());
    CHECK(tx.commit().ok());
  }
}

TEST_CASE("sqlite: a statement that outlives its database is finalized, not leaked") {
  TempDir dir;
  auto db = open_ok(dir.file("outlive.db"));
  auto q = std::make_unique<Statement>(db->prepare("SELECT 1"));
  REQUIRE(q->step() == giftgate::db::StepResult::row);
  db.reset();  // the connection closes (as a zombie until its last statement goes)
  CHECK(q->column_int(0) == 1);
  q.reset();  // finalized; under ASan a use after free or a leak would show here
}

TEST_CASE("sqlite: the checkpointer's own connection copies the log into the database") {
  TempDir dir;
  const std::string path = dir.file("checkpoint.db");
  auto db = open_ok(path);
  db->set_checkpoint_pages(0);  // only the other thread checkpoints
  giftgate::db::Checkpointer checkpointer(path, 10ms);
  REQUIRE(db->exec("CREATE TABLE big(v TEXT)").ok());
  for (int i = 0; i < 50; ++i)
    REQUIRE(db->exec("INSERT INTO big VALUES (printf('%.2000c', 'x'))").ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (checkpointer.pages_copied() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  CHECK(checkpointer.runs() > 0);
  CHECK(checkpointer.pages_copied() > 0);
}

TEST_CASE("sqlite: commits that split pages leave the page cache alone, and a rollback still trims it") {
  TempDir dir;
  auto db = open_ok(dir.file("cache.db"));
  REQUIRE(giftgate::db::install_page_cache());
  REQUIRE(db->exec("CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT)").ok());
  // Keys in no order, so that pages split all over the index and SQLite
  // renumbers some of them through the lock-byte page.
  auto key = [](int i) { return fmt::format("{:08x}", (static_cast<unsigned>(i) * 2654435761u)); };
  const auto before = giftgate::db::page_cache_counts();
  for (int batch = 0; batch < 100; ++batch) {
    Transaction tx(*db);
    for (int i = batch * 50; i < (batch + 1) * 50; ++i)
      REQUIRE(db->prepare("INSERT INTO kv VALUES (?, printf('%.100c', 'v'))").bind(1, key(i)).run().ok());
    REQUIRE(tx.commit().ok());
  }
  const auto grown = giftgate::db::page_cache_counts();
  CHECK(grown.parked > before.parked);
  CHECK(grown.truncations - before.truncations >= 100);
  CHECK(grown.passed_on - before.passed_on <= 2);
  {
    Transaction tx(*db);  // grows the file by some hundred pages, then rolls back
    for (int i = 0; i < 200; ++i)
      REQUIRE(db->prepare("INSERT INTO kv VALUES (?, printf('%.3000c', 'w'))")
                  .bind(1, fmt::format("rolled back {}", i))
                  .run()
                  .ok());
  }
  CHECK(giftgate::db::page_cache_counts().passed_on > grown.passed_on);
  REQUIRE(db->prepare("INSERT INTO kv VALUES ('after', 'x')").run().ok());
  auto rows = db->prepare("SELECT COUNT(*), SUM(length(v)) FROM kv");
  REQUIRE(rows.step() == giftgate::db::StepResult::row);
  CHECK(rows.column_int(0) == 5001);
  CHECK(rows.column_int(1) == 500001);
  auto integrity = db->prepare("PRAGMA integrity_check");
  REQUIRE(integrity.step() == giftgate::db::StepResult::row);
  CHECK(integrity.column_text(0) == "ok");
}
