#include "daemon/campaign/database_size.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"

namespace giftgate {
namespace {

std::string day_of(Time t) { return iso_time(t).substr(0, 10); }

}  // namespace

std::optional<DatabaseSize> measure_database(db::Database& db) {
  db::Status s;
  const auto pages = db.first_int("PRAGMA page_count", &s);
  const auto free = db.first_int("PRAGMA freelist_count", &s);
  const auto page_size = db.first_int("PRAGMA page_size", &s);
  if (!pages || !free || !page_size) return std::nullopt;
  DatabaseSize size;
  size.bytes = *pages * *page_size;
  size.free_bytes = *free * *page_size;
  // The log is a file beside the database; its size is what the disk holds
  // for it (it is reused from the start after a checkpoint, not shrunk).
  struct stat st {};
  if (::stat((db.path() + "-wal").c_str(), &st) == 0) size.wal_bytes = st.st_size;
  return size;
}

db::Status record_size(db::Database& db, Time now) {
  const auto size = measure_database(db);
  if (!size) return {1, "the database's size could not be read"};
  auto q = db.prepare(
      "INSERT INTO size_history(day, bytes, free_bytes, wal_bytes, recorded_at) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT(day) DO UPDATE SET bytes = excluded.bytes, "
      "free_bytes = excluded.free_bytes, wal_bytes = excluded.wal_bytes, "
      "recorded_at = excluded.recorded_at");
  return q.bind(1, day_of(now))
      .bind(2, size->bytes)
      .bind(3, size->free_bytes)
      .bind(4, size->wal_bytes)
      .bind(5, iso_time(now))
      .run();
}

std::optional<Time> last_backup_finished(db::Database& db) {
  auto q = db.prepare("SELECT MAX(finished_at) FROM backups");
  if (q.step() != db::StepResult::row || q.column_null(0)) return std::nullopt;
  return parse_iso_time(q.column_text(0));
}

std::optional<std::vector<ObjectSize>> object_sizes(db::Database& db, std::string* why) {
  // Debian's libsqlite3 has it; a build without it refuses the table's name.
  if (auto probe = db.exec("SELECT 1 FROM dbstat LIMIT 1"); !probe.ok()) {
    *why = fmt::format("this SQLite has no dbstat table ({}): sizes by table are not known",
                       probe.message);
    return std::nullopt;
  }
  // aggregate = TRUE: one row per object, not one per page.
  auto q = db.prepare(
      "SELECT d.name, COALESCE(s.tbl_name, d.name), COALESCE(s.type, 'table') = 'index', "
      "d.pgsize FROM dbstat AS d LEFT JOIN sqlite_schema AS s ON s.name = d.name "
      "WHERE d.aggregate = TRUE ORDER BY d.pgsize DESC, d.name");
  std::vector<ObjectSize> out;
  const auto s = q.each_row([&] {
    out.push_back({q.column_text(0), q.column_text(1), q.column_int(2) != 0, q.column_int(3)});
  });
  if (!s.ok()) {
    *why = s.message;
    return std::nullopt;
  }
  return out;
}

std::vector<SizeSample> size_history(db::Database& db, int days, db::Status* status) {
  auto q = db.prepare(
      "SELECT day, bytes, free_bytes, wal_bytes FROM (SELECT * FROM size_history ORDER BY day "
      "DESC LIMIT ?) ORDER BY day");
  q.bind(1, days);
  std::vector<SizeSample> out;
  *status = q.each_row([&] {
    out.push_back({q.column_text(0), q.column_int(1), q.column_int(2), q.column_int(3)});
  });
  return out;
}

std::vector<DayCount> rows_per_day(db::Database& db, const std::string& table,
                                   const std::string& time_column, Time now, int days,
                                   db::Status* status) {
  std::vector<DayCount> out;
  const Time first = std::chrono::floor<std::chrono::days>(now) - std::chrono::days(days - 1);
  for (int d = 0; d < days; ++d) out.push_back({day_of(first + std::chrono::days(d)), 0});
  // `table` and `time_column` are the caller's constants, never input.
  // Rows are written in time order, so the first row of the period is
  // found by halving the rowid range (a few dozen lookups by id) instead of
  // reading a table with no index on its time.
  const std::string since = iso_time(first);
  auto bounds = db.prepare(fmt::format("SELECT MIN(rowid), MAX(rowid) FROM {}", table));
  switch (bounds.step()) {
    case db::StepResult::row: break;
    case db::StepResult::done: return out;
    case db::StepResult::error: *status = bounds.status(); return out;
  }
  if (bounds.column_null(0)) return out;  // an empty table
  std::int64_t lo = bounds.column_int(0), hi = bounds.column_int(1) + 1;
  auto at = db.prepare(
      fmt::format("SELECT {} FROM {} WHERE rowid >= ? ORDER BY rowid LIMIT 1", time_column, table));
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    at.reset();
    at.bind(1, mid);
    const auto r = at.step();
    if (r == db::StepResult::error) {
      *status = at.status();
      return out;
    }
    if (r == db::StepResult::row && at.column_text(0) < since) lo = mid + 1;
    else hi = mid;
  }
  auto q = db.prepare(fmt::format(
      "SELECT substr({0}, 1, 10), COUNT(*) FROM {1} WHERE rowid >= ? AND {0} >= ? GROUP BY 1",
      time_column, table));
  q.bind(1, lo).bind(2, since);
  *status = q.each_row([&] {
    for (auto& d : out)
      if (d.day == q.column_text(0)) d.rows = q.column_int(1);
  });
  return out;
}

}  // namespace giftgate
