// giftctl's commands for the database file itself: backup (a checked copy
// while giftgated runs), restore (a checked backup put in the database's
// place while giftgated is stopped, the replaced one kept aside) and check
// (the file's integrity and the campaign's rules, for people and cron).
//
// None of them opens the database the way the other commands do (creating
// it, running migrations): a backup copies the file as it is, a check must
// not change what it judges, and a restore must not create or touch the
// live database before the backup has passed its checks.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/chrono.h>

#include "daemon/campaign/integrity.hpp"
#include "daemon/giftctl/giftctl.hpp"
#include "daemon/storage/backup.hpp"
#include "daemon/storage/daemon_lock.hpp"
#include "daemon/storage/schema.hpp"

namespace giftgate::ctl {
namespace {

int newest_schema() { return schema_migrations().back().version; }

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// A progress line on a terminal, overwritten at each step; nothing when
// standard error is a file or a pipe (cron mail, logs).
std::function<void(const db::CopyProgress&)> progress_line(bool show, const std::string& what) {
  if (!show) return {};
  return [what](const db::CopyProgress& p) {
    const double mb = 1024.0 * 1024.0;
    const int pct = p.pages_total ? static_cast<int>(p.pages_done * 100 / p.pages_total) : 100;
    // The integrity check after the last step reads the whole copy again.
    fmt::print(stderr, "\r{}: {:3}% ({:.1f} of {:.1f} MB){}", what, pct,
               static_cast<double>(p.pages_done * p.page_size) / mb,
               static_cast<double>(p.pages_total * p.page_size) / mb,
               p.pages_done >= p.pages_total ? ", checking the copy" : "");
  };
}

std::string row_counts(const db::CheckedCopy& copy) {
  std::string out;
  for (const auto& t : copy.rows())
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", t.table,
                       t.rows ? std::to_string(*t.rows) : std::string("-"));
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void print_report(const std::string& path, const IntegrityReport& report) {
  using O = CheckLine::Outcome;
  fmt::print("giftctl check: {} (schema {}, one snapshot)\n", escape_text(path),
             report.schema_version);
  int failed = 0, skipped = 0;
  for (const CheckLine& line : report.lines) {
    switch (line.outcome) {
      case O::ok: fmt::print("{}: ok\n", line.name); break;
      case O::problems: fmt::print("{}: {} problems\n", line.name, line.problems); break;
      case O::corrupt:
        fmt::print("{}: corrupt{}{}\n", line.name,
                   line.problems ? fmt::format(", {} problems", line.problems) : std::string(),
                   line.note.empty() ? std::string() : " (" + escape_text(line.note) + ")");
        break;
      case O::failed: fmt::print("{}: not checked: {}\n", line.name, escape_text(line.note)); break;
      case O::skipped: fmt::print("{}: skipped ({})\n", line.name, line.note); break;
    }
    for (const auto& example : line.examples) fmt::print("    {}\n", escape_text(example));
    if (line.outcome != O::ok && line.outcome != O::skipped) ++failed;
    if (line.outcome == O::skipped) ++skipped;
  }
  if (report.corrupt)
    fmt::print("result: the file is corrupt (restore the newest backup that passes giftctl "
               "check)\n");
  else if (failed)
    fmt::print("result: {} of {} checks failed\n", failed, report.lines.size());
  else if (skipped)
    fmt::print("result: {} checks passed, {} skipped (not in this schema)\n",
               report.lines.size() - static_cast<std::size_t>(skipped), skipped);
  else
    fmt::print("result: all {} checks passed\n", report.lines.size());
}

// "20261202T050000Z": a name part that sorts by time.
std::string compact_utc_now() {
  return fmt::format("{:%Y%m%dT%H%M%SZ}", std::chrono::time_point_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now()));
}

}  // namespace

int Ctl::backup() {
  if (args_.words.size() != 2) return usage("backup needs the file to write: backup FILE");
  const std::string& target = args_.words[1];
  const std::string& db = config_.db_path;
  if (!exists(db)) return refused(fmt::format("{}: no database there; nothing backed up", db));
  if (!has("force") && exists(target))
    return refused(fmt::format("{} exists; not replaced (backup --force replaces it)", target));
  const auto began = std::chrono::steady_clock::now();
  const bool bar = !has("quiet") && ::isatty(STDERR_FILENO);
  db::CheckedCopy::Options options;
  options.source = db;
  options.target = target;
  options.replace = has("force");
  options.busy_timeout = config_.busy_timeout;
  options.after_step = progress_line(bar, "backup");
  // The daemon's replies come first: the copy rests between steps and runs
  // at the lowest CPU priority (its integrity check is all CPU).
  options.pause_between_steps = std::chrono::milliseconds(5);
  (void)::setpriority(PRIO_PROCESS, 0, 19);
  std::string error;
  auto copy = db::CheckedCopy::make(options, &error);
  if (bar) fmt::print(stderr, "\n");
  if (!copy) return refused(fmt::format("backup of {} failed: {}; {} not written", db, error, target));
  fmt::print("{}: schema version {}, integrity ok; rows: {}\n", escape_text(target),
             copy->schema_version(), row_counts(*copy));
  if (const auto s = copy->install(); !s.ok())
    return refused(fmt::format("backup of {}: {}", db, s.message));
  const std::string path = std::filesystem::absolute(target).lexically_normal().string();
  const auto recorded = db::record_backup(
      db, config_.busy_timeout,
      {copy->started_at(), db::utc_now(), path, copy->bytes(), actor().who});
  fmt::print("{}: backup of {} as it was at {}, {} bytes, mode 0600, done in {:.1f} s\n",
             escape_text(path), escape_text(db), copy->started_at(), copy->bytes(),
             seconds_since(began));
  if (!recorded.ok())
    return refused(fmt::format("the copy {} is complete and checked, but it is not recorded in "
                               "{} (the last backup's age will not count it): {}",
                               path, db, recorded.message));
  return kOk;
}

int Ctl::check() {
  if (args_.words.size() != 1) return usage("check takes no arguments (--db FILE checks a copy)");
  const std::string& path = config_.db_path;
  std::string error;
  auto db = db::Database::open_existing(path, false, config_.busy_timeout, &error);
  if (!db) return refused(fmt::format("{} cannot be read: {}", path, error));
  const auto report = IntegrityCheck(*db, newest_schema())
                          .run(has("quick") ? IntegrityCheck::Depth::quick
                                            : IntegrityCheck::Depth::full);
  if (!report.refused.empty())
    return refused(fmt::format("{} cannot be checked: {}", path, report.refused));
  print_report(path, report);
  return report.passed() ? kOk : kRefused;
}

int Ctl::restore() {
  if (args_.words.size() != 2) return usage("restore needs the backup: restore FILE");
  const std::string& source = args_.words[1];
  const std::string& db = config_.db_path;
  const auto began = std::chrono::steady_clock::now();
  // Held to the end: no giftgated can start on a half-restored database.
  std::string error;
  const auto lock = DaemonLock::acquire(db, &error);
  if (!lock) {
    std::string unused;
    const auto pid = DaemonLock::holder(db, &unused);
    return refused(pid ? fmt::format("giftgated (pid {}) runs on {}: stop it first; nothing "
                                     "restored",
                                     *pid, db)
                       : fmt::format("{}; nothing restored", error));
  }
  if (!exists(source)) return refused(fmt::format("{}: no such file; nothing restored", source));

  // The backup is copied beside the database first and the copy checked:
  // what passed the checks is exactly what is put in place.
  db::CheckedCopy::Options options;
  options.source = source;
  options.target = db;
  options.replace = true;  // the database is moved aside before the copy goes in
  options.busy_timeout = config_.busy_timeout;
  options.after_step = progress_line(!has("quiet") && ::isatty(STDERR_FILENO), "restore");
  auto copy = db::CheckedCopy::make(options, &error);
  if (options.after_step) fmt::print(stderr, "\n");
  if (!copy) return refused(fmt::format("{} cannot be restored: {}; nothing changed", source, error));
  if (copy->schema_version() > newest_schema())
    return refused(fmt::format("{} has schema version {}, newer than this build's {}: use the "
                               "giftgate that wrote it; nothing changed",
                               source, copy->schema_version(), newest_schema()));
  {
    auto copied = db::Database::open_existing(copy->temp_path(), false, config_.busy_timeout,
                                              &error);
    if (!copied) return refused(fmt::format("{}; nothing changed", error));
    // quick: the copy passed the full integrity check already.
    const auto report = IntegrityCheck(*copied, newest_schema()).run(IntegrityCheck::Depth::quick);
    if (!report.passed()) {
      if (report.refused.empty()) print_report(source, report);
      return refused(fmt::format("{} fails the campaign's checks{}; nothing changed", source,
                                 report.refused.empty() ? "" : ": " + report.refused));
    }
  }

  // Run as root (after a lost disk, on a new machine), the restored file
  // and a lock file made here would be root's, and the daemon, running as
  // its own user, could open neither: they take the owner of the database
  // they replace, or of its folder.
  if (::geteuid() == 0) {
    struct stat like {};
    const std::string folder = std::filesystem::path(db).parent_path().string();
    if (::stat(db.c_str(), &like) != 0 && ::stat(folder.empty() ? "." : folder.c_str(), &like) != 0)
      return refused(fmt::format("{}: {}; nothing changed", folder, std::strerror(errno)));
    for (const std::string& path : {copy->temp_path(), DaemonLock::path_for(db)})
      if (::chown(path.c_str(), like.st_uid, like.st_gid) != 0)
        return refused(fmt::format("{}: cannot be given to uid {}: {}; nothing changed", path,
                                   like.st_uid, std::strerror(errno)));
  }

  // The files SQLite keeps beside a database go with it: one left beside
  // the restored file would be read as part of it. They go first: a crash
  // halfway leaves the old database without its log (which waits aside)
  // rather than the restored one with the old database's log.
  const std::string aside = db + ".replaced-" + compact_utc_now();
  std::vector<std::string> moved;
  const auto put_back = [&] {
    for (auto it = moved.rbegin(); it != moved.rend(); ++it)
      (void)::rename((aside + *it).c_str(), (db + *it).c_str());
  };
  for (const std::string suffix : {"-wal", "-shm", "-journal", ""}) {
    if (!exists(db + suffix)) continue;
    if (::renameat2(AT_FDCWD, (db + suffix).c_str(), AT_FDCWD, (aside + suffix).c_str(),
                    RENAME_NOREPLACE) != 0) {
      const std::string why = std::strerror(errno);
      put_back();
      return refused(fmt::format("{} cannot be moved to {}: {}; nothing changed", db + suffix,
                                 aside + suffix, why));
    }
    moved.push_back(suffix);
  }
  if (const auto s = copy->install(); !s.ok()) {
    put_back();
    return refused(fmt::format("{} could not be put in place: {}", source, s.message));
  }
  if (moved.empty()) {
    fmt::print("{}: there was no database; installed {}\n", escape_text(db), escape_text(source));
  } else {
    std::string kept = aside;
    for (const auto& suffix : moved)
      if (!suffix.empty()) kept += fmt::format(" and {}{}", aside, suffix);
    fmt::print("{}: the database it replaced is kept as {}\n", escape_text(db), escape_text(kept));
  }
  fmt::print("{}: restored from {} (schema version {}, checked) in {:.1f} s; rows: {}\n",
             escape_text(db), escape_text(source), copy->schema_version(), seconds_since(began),
             row_counts(*copy));
  return kOk;
}

}  // namespace giftgate::ctl
