// Damages a database file the way a failing disk does: one page of a table
// overwritten with garbage, the rest of the file intact.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <sqlite3.h>

namespace giftgate::test {

// Overwrites the first page of `table` (as SQLite's dbstat table lists its
// pages) in the database at `path`, which must hold everything in its main
// file (a backup, or a database whose connections are all closed). Returns
// the page's number.
inline std::int64_t corrupt_page_of(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  std::int64_t page = 0, page_size = 0;
  sqlite3_stmt* q = nullptr;
  const std::string sql = "SELECT pageno, pgsize FROM dbstat WHERE name = '" + table +
                          "' ORDER BY pageno DESC LIMIT 1";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW) {
    page = sqlite3_column_int64(q, 0);
    page_size = sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  if (page <= 1 || page_size <= 0) throw std::runtime_error("no page of " + table + " in " + path);
  std::vector<unsigned char> garbage(static_cast<std::size_t>(page_size));
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<unsigned char>(0xA5 ^ (i * 31));
  const int fd = ::open(path.c_str(), O_WRONLY);
  const bool written =
      fd >= 0 && ::pwrite(fd, garbage.data(), garbage.size(), (page - 1) * page_size) ==
                     static_cast<ssize_t>(garbage.size());
  if (fd >= 0) ::close(fd);
  if (!written) throw std::runtime_error("cannot write " + path);
  return page;
}

}  // namespace giftgate::test
