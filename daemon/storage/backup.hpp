// A consistent, checked copy of a campaign database in one file, taken
// while giftgated writes it (giftctl backup), or made from a backup beside
// the database it is to replace (giftctl restore).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/storage/sqlite.hpp"

namespace giftgate::db {

// The tables whose rows a copy counts and prints: what a campaign is.
std::span<const std::string_view> counted_tables();

// How far a copy has come, after each step.
struct CopyProgress {
  std::int64_t pages_done = 0;
  std::int64_t pages_total = 0;
  std::int64_t page_size = 0;
};

// The rows of one table in a copy; nullopt when its schema has no such table.
struct TableRows {
  std::string_view table;
  std::optional<std::int64_t> rows;
};

// A copy of a database, made and checked in a temporary file.
//
// Contract:
// - The copy is exactly the source as it was when the copy began: SQLite's
//   online backup copies it in steps of a bounded number of pages, and one
//   read transaction is held on the source across all of them, so commits
//   made meanwhile by others (giftgated) are not in it and never make it
//   start again. In WAL mode a reader does not block the writer: MOs go on;
//   the write-ahead log only grows until the copy is done.
// - The copy is gentle with the disk the daemon commits to: the copy's
//   pages are written back after each step (a few MB at a time, never one
//   flush of the whole file at the end, which would hold up giftgated's
//   fsyncs behind it), with pause_between_steps between steps.
// - Nothing is at the target until install(): the copy is built in a new
//   file beside the target (created 0600 with O_EXCL, so never someone
//   else's file), turned into a single file (journal_mode=DELETE), checked
//   (integrity_check, user_version equal to the source's, the rows of
//   counted_tables() counted), and fsynced. Whatever fails, or an object
//   destroyed before install(), removes the temporary file.
// - A target that exists is refused unless `replace`; the source itself
//   never, also with `replace`.
// - The source is opened read-only and never written.
class CheckedCopy {
 public:
  struct Options {
    std::string source;
    std::string target;
    bool replace = false;
    std::chrono::milliseconds busy_timeout{5000};
    int pages_per_step = 1024;  // 4 MB of 4 kB pages: a progress line a step on a large file
    // A rest between steps, so that giftgated's own writes and fsyncs find
    // the disk free between two of the copy's (giftctl backup: 5 ms).
    std::chrono::milliseconds pause_between_steps{0};
    std::function<void(const CopyProgress&)> after_step;  // progress; tests write between steps
  };

  // The copy made and checked, or null with `error` saying why (a damaged
  // source or copy is said to be corrupt).
  static std::unique_ptr<CheckedCopy> make(const Options& options, std::string* error);
  ~CheckedCopy();  // removes the temporary file unless installed
  CheckedCopy(const CheckedCopy&) = delete;
  CheckedCopy& operator=(const CheckedCopy&) = delete;

  // Renames the copy to the target (refused when the target exists, unless
  // the options said replace) and fsyncs the directory, so the rename
  // outlives a power cut.
  Status install();

  const std::string& temp_path() const { return temp_; }
  int schema_version() const { return schema_version_; }
  const std::vector<TableRows>& rows() const { return rows_; }
  std::int64_t bytes() const { return bytes_; }
  // When the copy's snapshot was taken (UTC, as the database stores times).
  const std::string& started_at() const { return started_at_; }
  // How often SQLite started the copy again because the source changed
  // under it: 0 while the snapshot holds.
  int restarts() const { return restarts_; }

 private:
  explicit CheckedCopy(Options options, std::string temp)
      : options_(std::move(options)), temp_(std::move(temp)) {}
  std::string copy_pages();
  std::string check();

  Options options_;
  std::string temp_;
  bool installed_ = false;
  int schema_version_ = 0;
  std::vector<TableRows> rows_;
  std::int64_t bytes_ = 0;
  std::string started_at_;
  int restarts_ = 0;
};

// One backup as the backups table records it (schema 11).
struct BackupRecord {
  std::string started_at;
  std::string finished_at;
  std::string path;
  std::int64_t bytes = 0;
  std::string actor;
};

// Adds `record` to the backups table of the database at db_path (which
// must exist; opened as it is, no migration), waiting up to busy_timeout
// for giftgated's write lock. A database without the table (a schema older
// than 11) is an error that says so.
Status record_backup(const std::string& db_path, std::chrono::milliseconds busy_timeout,
                     const BackupRecord& record);

// The current time as the database stores times: "2026-12-02T05:00:00Z".
std::string utc_now();

// Makes the directory entry of `path` durable: fsyncs its directory.
Status sync_directory_of(const std::string& path);

}  // namespace giftgate::db
