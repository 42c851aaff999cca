#include "daemon/storage/backup.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include "daemon/storage/file_check.hpp"

namespace giftgate::db {
namespace {

constexpr std::string_view kCounted[] = {
    "members", "ledger", "vouchers", "events",        "outbox",
    "outbox_parts", "receipts", "inbox", "ussd_sessions", "message_history"};

std::string errno_text(const std::string& path) {
  return fmt::format("{}: {}", path, std::strerror(errno));
}

// What went wrong, saying "corrupt" when SQLite found the file damaged:
// the word operators and scripts look for.
std::string said(const std::string& what, const Status& s) {
  return is_corrupt(s) ? fmt::format("{} is corrupt: {}", what, s.message)
                       : fmt::format("{}: {}", what, s.message);
}

Status fsync_file(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status{SQLITE_IOERR, errno_text(path)};
  const bool synced = ::fsync(fd) == 0;
  const std::string why = synced ? std::string() : errno_text(path);
  ::close(fd);
  return synced ? Status{} : Status{SQLITE_IOERR, why};
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

std::span<const std::string_view> counted_tables() { return kCounted; }

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::time_point_cast<std::chrono::seconds>(
                                                  std::chrono::system_clock::now()));
}

Status sync_directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  return fsync_file(dir, O_RDONLY | O_DIRECTORY);
}

std::unique_ptr<CheckedCopy> CheckedCopy::make(const Options& options, std::string* error) {
  struct stat st {};
  if (::lstat(options.target.c_str(), &st) == 0) {
    if (same_file(options.target, options.source)) {
      *error = fmt::format("{} is the database itself: a copy never replaces it", options.target);
      return nullptr;
    }
    if (!options.replace) {
      *error = fmt::format("{} exists; not replaced", options.target);
      return nullptr;
    }
  }
  // Beside the target, so that the final rename stays on one file system.
  const std::string temp = fmt::format("{}.partial-{}", options.target, ::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = errno_text(temp);
    return nullptr;
  }
  ::close(fd);
  std::unique_ptr<CheckedCopy> copy(new CheckedCopy(options, temp));
  if (std::string e = copy->copy_pages(); !e.empty()) {
    *error = std::move(e);
    return nullptr;  // the destructor removes the temporary file
  }
  if (std::string e = copy->check(); !e.empty()) {
    *error = std::move(e);
    return nullptr;
  }
  return copy;
}

std::string CheckedCopy::copy_pages() {
  const std::string& source_path = options_.source;
  std::string error;
  auto source = Database::open_existing(source_path, false, options_.busy_timeout, &error);
  if (!source) return error;
  // The snapshot: BEGIN alone takes no lock; the first read does, and the
  // transaction keeps it until the end, across every backup step (a step
  // opens a read transaction of its own only when none is open).
  if (Status s = source->exec("BEGIN"); !s.ok()) return said(source_path, s);
  Status s;
  const auto version = source->first_int("PRAGMA user_version", &s);
  if (!version) return said(source_path, s);
  const auto page_size = source->first_int("PRAGMA page_size", &s);
  if (!page_size) return said(source_path, s);
  if (!source->first_int("SELECT COUNT(*) FROM sqlite_schema", &s)) return said(source_path, s);
  started_at_ = utc_now();
  schema_version_ = static_cast<int>(*version);

  auto target = Database::open_existing(temp_, true, options_.busy_timeout, &error);
  if (!target) return error;
  // No sync by SQLite while it copies: nothing is at the target until
  // check() has fsynced the finished file. The pages are pushed to the
  // disk after each step instead, through a descriptor of our own.
  if (Status off = target->exec("PRAGMA synchronous=OFF"); !off.ok()) return said(temp_, off);
  const int writeback = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (writeback < 0) return errno_text(temp_);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{writeback};
  sqlite3_backup* backup = sqlite3_backup_init(target->handle(), "main", source->handle(), "main");
  if (!backup) return fmt::format("{}: {}", temp_, sqlite3_errmsg(target->handle()));
  std::int64_t last_done = 0;
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK) {
    rc = sqlite3_backup_step(backup, options_.pages_per_step);
    if (rc != SQLITE_OK && rc != SQLITE_DONE) break;
    CopyProgress p;
    p.pages_total = sqlite3_backup_pagecount(backup);
    p.pages_done = p.pages_total - sqlite3_backup_remaining(backup);
    p.page_size = *page_size;
    // Every step that copies moves on by at least a page; one that does not
    // began again from page 1 (it reports the pages since).
    if (p.pages_done <= last_done) ++restarts_;
    last_done = p.pages_done;
    if (options_.after_step) options_.after_step(p);
    if (rc == SQLITE_OK) {
      // Written back while the step's few MB are all there is to write.
      ::sync_file_range(writeback, 0, 0, SYNC_FILE_RANGE_WRITE);
      if (options_.pause_between_steps.count() > 0)
        std::this_thread::sleep_for(options_.pause_between_steps);
    }
  }
  const int finished = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE)
    return said(fmt::format("copying {}", source_path), Status{rc, sqlite3_errstr(rc)});
  if (finished != SQLITE_OK) return said(temp_, target->last_status(finished));
  (void)source->exec("ROLLBACK");  // only read: nothing to keep
  return {};
}

std::string CheckedCopy::check() {
  std::string error;
  auto copy = Database::open_existing(temp_, true, options_.busy_timeout, &error);
  if (!copy) return error;
  // The source's header says WAL when it runs in WAL mode, and so does the
  // copy's: one self-contained file is what a backup must be.
  Status s;
  auto mode = copy->try_prepare("PRAGMA journal_mode=DELETE", &s);
  if (mode && mode->step() == StepResult::row && mode->column_text(0) != "delete")
    return fmt::format("{}: journal_mode is {}, not delete", temp_, mode->column_text(0));
  if (!mode || !mode->status().ok())
    return said(fmt::format("{}: journal_mode=DELETE", temp_), mode ? mode->status() : s);
  mode.reset();
  const Finding structure = structure_check(*copy, false);
  if (!structure.ran()) {
    std::string problems;
    for (const auto& e : structure.examples) problems += "; " + e;
    return said(fmt::format("the copy of {}", options_.source), structure.status) +
           (structure.problems ? fmt::format(" ({} problems{})", structure.problems, problems)
                               : std::string());
  }
  const auto version = copy->first_int("PRAGMA user_version", &s);
  if (!version) return said(temp_, s);
  if (*version != schema_version_)
    return fmt::format("the copy's schema version is {}, the source's {}", *version,
                       schema_version_);
  const auto tables = table_names(*copy, &s);
  if (!s.ok()) return said(temp_, s);
  for (std::string_view table : kCounted) {
    TableRows t{table, std::nullopt};
    if (std::find(tables.begin(), tables.end(), table) != tables.end()) {
      t.rows = copy->first_int(fmt::format("SELECT COUNT(*) FROM \"{}\"", table), &s);
      if (!t.rows) return said(fmt::format("{}: counting {}", temp_, table), s);
    }
    rows_.push_back(t);
  }
  copy.reset();  // closed before the fsync: everything it wrote is in the file
  if (Status synced = fsync_file(temp_, O_RDONLY); !synced.ok()) return synced.message;
  struct stat st {};
  if (::stat(temp_.c_str(), &st) != 0) return errno_text(temp_);
  bytes_ = st.st_size;
  return {};
}

Status CheckedCopy::install() {
  // RENAME_NOREPLACE: a file that appeared at the target since make() is
  // refused, not overwritten.
  const unsigned flags = options_.replace ? 0 : RENAME_NOREPLACE;
  if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, options_.target.c_str(), flags) != 0)
    return Status{SQLITE_IOERR, errno == EEXIST
                                    ? fmt::format("{} exists; not replaced", options_.target)
                                    : errno_text(options_.target)};
  installed_ = true;
  return sync_directory_of(options_.target);
}

CheckedCopy::~CheckedCopy() {
  if (installed_) return;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((temp_ + suffix).c_str());
}

Status record_backup(const std::string& db_path, std::chrono::milliseconds busy_timeout,
                     const BackupRecord& record) {
  std::string error;
  auto db = Database::open_existing(db_path, true, busy_timeout, &error);
  if (!db) return Status{SQLITE_CANTOPEN, error};
  Status s;
  const auto tables = table_names(*db, &s);
  if (!s.ok()) return s;
  if (std::find(tables.begin(), tables.end(), "backups") == tables.end())
    return Status{SQLITE_ERROR, fmt::format("{} has no backups table (a schema older than 11: "
                                            "giftgated adds it when it starts)",
                                            db_path)};
  auto insert = db->prepare(
      "INSERT INTO backups(started_at, finished_at, path, bytes, actor) VALUES (?, ?, ?, ?, ?)");
  return insert.bind(1, record.started_at)
      .bind(2, record.finished_at)
      .bind(3, record.path)
      .bind(4, record.bytes)
      .bind(5, record.actor)
      .run();
}

}  // namespace giftgate::db
