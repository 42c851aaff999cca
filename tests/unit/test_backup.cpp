#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/storage/backup.hpp"
#include "tests/support/campaign_db.hpp"
#include "tests/support/corrupt_page.hpp"
#include "tests/support/temp_dir.hpp"

using namespace giftgate;
using giftgate::test::TempDir;

namespace {

std::int64_t count(db::Database& db, const char* sql) {
  auto q = db.prepare(sql);
  return q.step() == db::StepResult::row ? q.column_int(0) : -1;
}

// A campaign database of `members` members, each row padded so the file
// takes many pages.
void fill(db::Database& db, int members) {
  db::Transaction tx(db);
  auto add = db.prepare("INSERT INTO members(msisdn, city) VALUES (?, ?)");
  for (int i = 0; i < members; ++i) {
    add.reset();
    REQUIRE(add.bind(1, std::to_string(8613800000000 + i)).bind(2, std::string(200, 'c')).run().ok());
  }
  REQUIRE(tx.commit().ok());
}

db::CheckedCopy::Options options_for(const std::string& source, const std::string& target) {
  db::CheckedCopy::Options o;
  o.source = source;
  o.target = target;
  return o;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whatever the folder holds besides `keep` and the source's -wal and -shm
// (which SQLite makes for any reader of a database in WAL mode): a leftover
// temporary file.
std::string others_in(const TempDir& dir, std::initializer_list<std::string> keep) {
  std::string found;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const auto name = e.path().filename().string();
    if (name == "live.db-wal" || name == "live.db-shm") continue;
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) found += name + " ";
  }
  return found;
}

}  // namespace

TEST_CASE("backup: the copy is the snapshot of its start while another connection writes") {
  TempDir dir;
  const auto live_path = dir.file("live.db");
  auto live = test::open_campaign_db(live_path);
  fill(*live, 3000);
  auto writer = test::open_campaign_db(live_path);  // giftgated, in effect
  auto o = options_for(live_path, dir.file("copy.db"));
  o.pages_per_step = 8;
  int steps = 0, written = 0;
  std::int64_t last_done = 0;
  bool stood_or_went_back = false;  // a restart copies from page 1 again
  o.after_step = [&](const db::CopyProgress& p) {
    ++steps;
    stood_or_went_back = stood_or_went_back || p.pages_done <= last_done;
    last_done = p.pages_done;
    if (p.pages_done >= p.pages_total || written >= 40) return;
    // Commits between steps, each its own transaction, as the daemon's.
    auto add = writer->prepare("INSERT INTO members(msisdn, city) VALUES (?, 'during')");
    REQUIRE(add.bind(1, std::to_string(8613900000000 + written)).run().ok());
    ++written;
  };
  std::string error;
  auto copy = db::CheckedCopy::make(o, &error);
  REQUIRE_MESSAGE(copy, error);
  CHECK(steps > 10);
  CHECK(written > 10);
  CHECK_FALSE(stood_or_went_back);
  CHECK(copy->restarts() == 0);
  CHECK(copy->rows()[0].table == "members");
  CHECK(copy->rows()[0].rows == 3000);
  REQUIRE(copy->install().ok());
  CHECK(count(*live, "SELECT COUNT(*) FROM members") == 3000 + written);
  auto copied = db::Database::open_existing(dir.file("copy.db"), false, {}, &error);
  REQUIRE_MESSAGE(copied, error);
  CHECK(count(*copied, "SELECT COUNT(*) FROM members") == 3000);
  CHECK(count(*copied, "SELECT COUNT(*) FROM members WHERE city = 'during'") == 0);
  // One file: no write-ahead log goes with it.
  auto mode = copied->prepare("PRAGMA journal_mode");
  REQUIRE(mode.step() == db::StepResult::row);
  CHECK(mode.column_text(0) == "delete");
}

TEST_CASE("backup: a file at the target is kept unless replacing is asked for") {
  TempDir dir;
  { test::open_campaign_db(dir.file("live.db")); }
  std::ofstream(dir.file("copy.db")) << "an operator's file";
  std::string error;
  auto copy = db::CheckedCopy::make(options_for(dir.file("live.db"), dir.file("copy.db")), &error);
  CHECK_FALSE(copy);
  CHECK(error.find("exists") != std::string::npos);
  CHECK(slurp(dir.file("copy.db")) == "an operator's file");
  CHECK(others_in(dir, {"live.db", "copy.db"}) == "");

  auto o = options_for(dir.file("live.db"), dir.file("copy.db"));
  o.replace = true;
  copy = db::CheckedCopy::make(o, &error);
  REQUIRE_MESSAGE(copy, error);
  REQUIRE(copy->install().ok());
  CHECK(slurp(dir.file("copy.db")).rfind("SQLite format 3", 0) == 0);

  // The database itself, never, even when told to replace.
  o.target = dir.file("live.db");
  CHECK_FALSE(db::CheckedCopy::make(o, &error));
  CHECK(error.find("the database itself") != std::string::npos);
}

TEST_CASE("backup: the copy is mode 0600 whatever the umask") {
  TempDir dir;
  { test::open_campaign_db(dir.file("live.db")); }
  const mode_t was = ::umask(0);
  std::string error;
  auto copy = db::CheckedCopy::make(options_for(dir.file("live.db"), dir.file("copy.db")), &error);
  ::umask(was);
  REQUIRE_MESSAGE(copy, error);
  REQUIRE(copy->install().ok());
  struct stat st {};
  REQUIRE(::stat(dir.file("copy.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("backup: a copy that fails its check is removed, and said to be corrupt") {
  TempDir dir;
  {
    auto live = test::open_campaign_db(dir.file("live.db"));
    fill(*live, 300);
  }  // closed: the log is in the file, and the page to damage with it
  test::corrupt_page_of(dir.file("live.db"), "members");
  std::string error;
  auto copy = db::CheckedCopy::make(options_for(dir.file("live.db"), dir.file("copy.db")), &error);
  CHECK_FALSE(copy);
  CHECK(error.find("corrupt") != std::string::npos);
  CHECK(others_in(dir, {"live.db"}) == "");

  // Not a database at all: refused at the first read, nothing left behind.
  std::ofstream(dir.file("junk.db")) << std::string(8192, 'x');
  CHECK_FALSE(db::CheckedCopy::make(options_for(dir.file("junk.db"), dir.file("copy.db")), &error));
  CHECK(error.find("corrupt") != std::string::npos);
  CHECK(others_in(dir, {"live.db", "junk.db"}) == "");
}

TEST_CASE("backup: an object dropped before install leaves nothing") {
  TempDir dir;
  { test::open_campaign_db(dir.file("live.db")); }
  std::string error;
  auto copy = db::CheckedCopy::make(options_for(dir.file("live.db"), dir.file("copy.db")), &error);
  REQUIRE_MESSAGE(copy, error);
  CHECK(std::filesystem::exists(copy->temp_path()));
  copy.reset();
  CHECK(others_in(dir, {"live.db"}) == "");
}

TEST_CASE("backup: record_backup adds the copy to the backups table") {
  TempDir dir;
  auto live = test::open_campaign_db(dir.file("live.db"));
  REQUIRE(db::record_backup(dir.file("live.db"), {},
                            {"2026-12-02T01:00:00Z", "2026-12-02T01:00:05Z", "/b/1.db", 4096,
                             "li.na"})
              .ok());
  auto q = live->prepare("SELECT started_at, finished_at, path, bytes, actor FROM backups");
  REQUIRE(q.step() == db::StepResult::row);
  CHECK(q.column_text(1) == "2026-12-02T01:00:05Z");
  CHECK(q.column_text(2) == "/b/1.db");
  CHECK(q.column_int(3) == 4096);
  CHECK(q.column_text(4) == "li.na");
}
