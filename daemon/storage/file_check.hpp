// What SQLite itself can say of a database file, for the tools that judge
// one (giftctl check, backup, restore): its structure, its foreign keys, and
// queries whose every row is a problem. A damaged file is an answer here,
// not a crash: SQLITE_CORRUPT or SQLITE_NOTADB from any statement (also one
// that does not prepare because the schema page is garbage) comes back as a
// Finding that says corrupt.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/storage/sqlite.hpp"

namespace giftgate::db {

// How many problems a finding describes; the rest are only counted.
constexpr std::size_t kExamples = 5;

// Whether a status says the file is damaged: SQLITE_CORRUPT or SQLITE_NOTADB
// under any extended code.
bool is_corrupt(const Status& status);

// The result of one check: the problems found (count, the first kExamples
// described), or the status that stopped it.
struct Finding {
  Status status;  // ok when the check ran to its end
  std::int64_t problems = 0;
  std::vector<std::string> examples;

  bool ran() const { return status.ok(); }
  bool corrupt() const { return is_corrupt(status); }
};

// PRAGMA integrity_check, or quick_check (no index against its table: far
// quicker on a large file, still every page's structure). Each line SQLite
// reports other than "ok" is a problem; any problem means the file is
// damaged.
Finding structure_check(Database& db, bool quick);

// PRAGMA foreign_key_check: each row naming a parent that is missing.
Finding foreign_key_check(Database& db);

// Runs `sql` (no parameters); every row it yields is one problem, which
// `describe` turns into a line for the first kExamples.
Finding problem_rows(Database& db, std::string_view sql,
                     const std::function<std::string(const Statement&)>& describe);

// The names of the tables in the file's schema; empty with *status failed
// when they cannot be read.
std::vector<std::string> table_names(Database& db, Status* status);

}  // namespace giftgate::db
