// How big the campaign's file is, how fast it grows, and what fills it:
// for the daemon's metrics and daily sample (size_history) and for giftctl
// stats. Reads only, except record_size, which writes one row a day.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// The file as SQLite and the file system see it.
struct DatabaseSize {
  std::int64_t bytes = 0;       // pages (in use and free) times the page size
  std::int64_t free_bytes = 0;  // of which on the free list, reused before the file grows
  std::int64_t wal_bytes = 0;   // the "-wal" file; 0 when there is none
};

// Cheap (three pragmas and a stat): the metrics read it on every scrape.
std::optional<DatabaseSize> measure_database(db::Database& db);

// Upserts today's (UTC) size_history row with the size now.
db::Status record_size(db::Database& db, Time now);

// When the newest backup giftctl backup recorded finished, or nullopt when
// there is none (or it cannot be read).
std::optional<Time> last_backup_finished(db::Database& db);

// One table or index and the space it takes (SQLite's dbstat).
struct ObjectSize {
  std::string name;
  std::string table;  // the table it belongs to (itself for a table)
  bool index = false;
  std::int64_t bytes = 0;
};
// Every table and index by the pages it holds, largest first; nullopt with
// `why` when this SQLite has no dbstat (built without SQLITE_ENABLE_DBSTAT_VTAB).
std::optional<std::vector<ObjectSize>> object_sizes(db::Database& db, std::string* why);

// One day's sample.
struct SizeSample {
  std::string day;  // YYYY-MM-DD
  std::int64_t bytes = 0, free_bytes = 0, wal_bytes = 0;
};
// The last `days` samples, oldest first; *status says whether they could
// be read (none read and none recorded look alike otherwise).
std::vector<SizeSample> size_history(db::Database& db, int days, db::Status* status);

// Rows a table gained per day (UTC) by its time column, the last `days`
// days up to `now`, oldest first; a day with none is 0. *status: whether
// they were read (not ok: the counts are incomplete).
struct DayCount {
  std::string day;
  std::int64_t rows = 0;
};
std::vector<DayCount> rows_per_day(db::Database& db, const std::string& table,
                                   const std::string& time_column, Time now, int days,
                                   db::Status* status);

}  // namespace giftgate
