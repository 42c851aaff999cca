#include "daemon/storage/page_cache.hpp"

#include <algorithm>
#include <atomic>
#include <new>

#include <sqlite3.h>

namespace giftgate::db {
namespace {

// SQLite never stores data in the page that holds the lock bytes, at 1 GiB
// into the file; balancing a b-tree uses its number as a spare while it
// swaps two pages' numbers.
constexpr unsigned kLockByteOffset = 0x40000000u;

sqlite3_pcache_methods2 g_default{};

std::atomic<std::uint64_t> g_truncations{0};
std::atomic<std::uint64_t> g_passed_on{0};
std::atomic<std::uint64_t> g_parked{0};

// One cache: the default one, and what it may hold. A cache belongs to one
// connection, which SQLite uses from one thread at a time.
struct Tracked {
  sqlite3_pcache* inner;
  unsigned parking;      // the lock-byte page's number
  unsigned highest = 0;  // no page above this, except one at parking
  bool parked = false;   // a page is at parking now
};

Tracked* tracked(sqlite3_pcache* p) { return reinterpret_cast<Tracked*>(p); }

void held(Tracked& t, unsigned key) {
  if (key == t.parking) t.parked = true;
  else t.highest = std::max(t.highest, key);
}

int init(void*) { return g_default.xInit ? g_default.xInit(g_default.pArg) : SQLITE_OK; }

void shutdown(void*) {
  if (g_default.xShutdown) g_default.xShutdown(g_default.pArg);
}

sqlite3_pcache* create(int page_size, int extra, int purgeable) {
  sqlite3_pcache* inner = g_default.xCreate(page_size, extra, purgeable);
  if (!inner) return nullptr;
  auto* t = new (std::nothrow)
      Tracked{inner, kLockByteOffset / static_cast<unsigned>(std::max(page_size, 1)) + 1};
  if (!t) {
    g_default.xDestroy(inner);
    return nullptr;
  }
  return reinterpret_cast<sqlite3_pcache*>(t);
}

void cache_size(sqlite3_pcache* p, int pages) { g_default.xCachesize(tracked(p)->inner, pages); }

int page_count(sqlite3_pcache* p) { return g_default.xPagecount(tracked(p)->inner); }

sqlite3_pcache_page* fetch(sqlite3_pcache* p, unsigned key, int create_flag) {
  Tracked& t = *tracked(p);
  sqlite3_pcache_page* page = g_default.xFetch(t.inner, key, create_flag);
  if (page) held(t, key);
  return page;
}

void unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  g_default.xUnpin(tracked(p)->inner, page, discard);
}

void rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned from, unsigned to) {
  Tracked& t = *tracked(p);
  g_default.xRekey(t.inner, page, from, to);
  if (from == t.parking) t.parked = false;
  if (to == t.parking) g_parked.fetch_add(1, std::memory_order_relaxed);
  held(t, to);
}

void truncate(sqlite3_pcache* p, unsigned limit) {
  // Drops every page numbered limit or more.
  Tracked& t = *tracked(p);
  g_truncations.fetch_add(1, std::memory_order_relaxed);
  const bool beyond = t.highest >= limit || (t.parked && t.parking >= limit);
  if (!beyond) return;
  g_passed_on.fetch_add(1, std::memory_order_relaxed);
  g_default.xTruncate(t.inner, limit);
  t.highest = std::min(t.highest, limit == 0 ? 0 : limit - 1);
  if (t.parking >= limit) t.parked = false;
}

void destroy(sqlite3_pcache* p) {
  Tracked* t = tracked(p);
  g_default.xDestroy(t->inner);
  delete t;
}

void shrink(sqlite3_pcache* p) { g_default.xShrink(tracked(p)->inner); }

sqlite3_pcache_methods2 g_tracked{
    1,     nullptr, init,     shutdown, create,  cache_size, page_count,
    fetch, unpin,   rekey,    truncate, destroy, shrink,
};

}  // namespace

bool install_page_cache() {
  static bool installed = [] {
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &g_default) != SQLITE_OK) return false;
    if (!g_default.xCreate) return false;
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &g_tracked) == SQLITE_OK;
  }();
  return installed;
}

PageCacheCounts page_cache_counts() {
  return {g_truncations.load(), g_passed_on.load(), g_parked.load()};
}

}  // namespace giftgate::db
