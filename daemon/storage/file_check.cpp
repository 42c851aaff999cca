#include "daemon/storage/file_check.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

namespace giftgate::db {

bool is_corrupt(const Status& status) {
  const int primary = status.code & 0xFF;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

Finding problem_rows(Database& db, std::string_view sql,
                     const std::function<std::string(const Statement&)>& describe) {
  Finding f;
  auto q = db.try_prepare(sql, &f.status);
  if (!q) return f;
  f.status = q->each_row([&] {
    ++f.problems;
    if (f.examples.size() < kExamples) f.examples.push_back(describe(*q));
  });
  return f;
}

Finding structure_check(Database& db, bool quick) {
  // integrity_check stops after 100 problems by default; a count beyond that
  // would add nothing an operator acts on.
  Finding f = problem_rows(db, quick ? "PRAGMA quick_check" : "PRAGMA integrity_check",
                           [](const Statement& row) { return row.column_text(0); });
  // A sound file answers one row, "ok".
  if (f.problems == 1 && f.examples.size() == 1 && f.examples.front() == "ok") {
    f.problems = 0;
    f.examples.clear();
  }
  // SQLite reports a damaged file through these rows, not an error code:
  // said here as the corruption it is, so every caller treats both alike.
  if (f.ran() && f.problems > 0) f.status = Status{SQLITE_CORRUPT, "the integrity check failed"};
  return f;
}

Finding foreign_key_check(Database& db) {
  return problem_rows(db, "PRAGMA foreign_key_check", [](const Statement& row) {
    return fmt::format("{} row {} names a {} that does not exist", row.column_text(0),
                       row.column_null(1) ? std::string("?") : std::to_string(row.column_int(1)),
                       row.column_text(2));
  });
}

std::vector<std::string> table_names(Database& db, Status* status) {
  std::vector<std::string> names;
  Status s;
  auto q = db.try_prepare("SELECT name FROM sqlite_schema WHERE type = 'table'", &s);
  if (q) s = q->each_row([&] { names.push_back(q->column_text(0)); });
  if (!s.ok()) names.clear();
  if (status) *status = s;
  return names;
}

}  // namespace giftgate::db
