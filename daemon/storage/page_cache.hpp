// SQLite's own page cache, with one waste taken out.
//
// SQLite's default page cache remembers the highest page number it has ever
// held, and each commit asks it to drop the pages past the end of the
// database. When a b-tree split renumbers pages, SQLite parks one for a
// moment at the lock-byte page (page 262,145 with 4 KiB pages). From then on
// the cache believes it may hold a page that far out, and every commit walks
// all of it: 8,192 pages with the daemon's 32 MB, a twelfth of the database
// thread's time at 1,000 MO/s.
//
// This wraps the default cache (the same code, the same memory) and keeps
// its own bound on the page numbers held. A truncation is passed on only when
// a page past the limit may be there: after a rollback, never after a
// commit that only grew the database.
#pragma once

#include <cstdint>

namespace giftgate::db {

// Installs the wrapper for every connection the process opens from now on.
// Must run before SQLite initialises (Database::open calls it first); when
// it is too late, SQLite keeps its default cache and this returns false.
bool install_page_cache();

struct PageCacheCounts {
  std::uint64_t truncations = 0;  // asked for by SQLite
  std::uint64_t passed_on = 0;    // that could drop a page, so done
  std::uint64_t parked = 0;       // pages moved to the parking place
};

// Since the process started, over every connection.
PageCacheCounts page_cache_counts();

}  // namespace giftgate::db
