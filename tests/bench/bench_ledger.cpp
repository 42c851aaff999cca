// Measures the campaign ledger on SQLite: redemptions committed per second
// (each its own transaction, synced to disk as the daemon does it), and how
// long finding one member and summing their balance takes as the member
// count grows. Run by scripts/bench-ledger.sh.
//
//   giftgate-bench-ledger --members N [--redemptions R] [--lookups L] --db PATH
//                         [--synchronous FULL|NORMAL]
//
// The members are generated straight into the tables (one opening-balance
// ledger entry each, no events), which is what a large import leaves.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "daemon/storage/schema.hpp"
#include "daemon/campaign/vouchers.hpp"

using namespace giftgate;
using Clock = std::chrono::steady_clock;

namespace {

std::string member(long i) { return fmt::format("8613{:09}", i); }
const char* kCities[] = {"beijing", "shanghai", "shenzhen", "nanjing", "fuzhou"};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool generate(db::Database& db, long members) {
  const auto t = Clock::now();
  auto m = db.prepare("INSERT INTO members(id, msisdn, city, created_at) VALUES (?, ?, ?, '')");
  auto l = db.prepare(
      "INSERT INTO ledger(member_id, delta, reason, channel, actor, created_at) "
      "VALUES (?, 100000, 'opening balance', 'import', 'bench', '')");
  constexpr long kBatch = 200000;
  for (long start = 0; start < members; start += kBatch) {
    db::Transaction tx(db);
    for (long i = start; i < std::min(members, start + kBatch); ++i) {
      m.reset();
      l.reset();
      if (!m.bind(1, i + 1).bind(2, member(i)).bind(3, kCities[i % 5]).run().ok() ||
          !l.bind(1, i + 1).run().ok())
        return false;
    }
    if (!tx.commit().ok()) return false;
    if (members >= 1000000)
      std::fprintf(stderr, "\rgenerated %ld of %ld members", std::min(members, start + kBatch),
                   members);
  }
  if (members >= 1000000) std::fprintf(stderr, "\n");
  std::printf("generated     %ld members in %.1f s\n", members, seconds_since(t));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long members = 10000, redemptions = 2000, lookups = 20000;
  std::string path, synchronous = "FULL";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--members") members = std::atol(argv[i + 1]);
    else if (a == "--redemptions") redemptions = std::atol(argv[i + 1]);
    else if (a == "--lookups") lookups = std::atol(argv[i + 1]);
    else if (a == "--db") path = argv[i + 1];
    else if (a == "--synchronous") synchronous = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (path.empty() || members < 1 || (synchronous != "FULL" && synchronous != "NORMAL")) {
    std::fprintf(stderr,
                 "usage: giftgate-bench-ledger --members N [--redemptions R] [--lookups L] "
                 "--db PATH [--synchronous FULL|NORMAL]\n");
    return 2;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  std::string error;
  auto db = db::Database::open({path, std::chrono::milliseconds(5000)}, schema_migrations(), &error);
  if (!db) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  if (!generate(*db, members)) {
    std::fprintf(stderr, "generating failed\n");
    return 1;
  }
  db->exec("PRAGMA wal_checkpoint(TRUNCATE)");

  // Look-ups: a random member's row and balance, as every MO does first.
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<long> pick(0, members - 1);
  Ledger ledger(*db);
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(lookups));
  std::int64_t sink = 0;
  for (long i = 0; i < lookups; ++i) {
    const auto t = Clock::now();
    giftgate::db::Status found;
    const auto m = ledger.find_member(member(pick(rng)), &found);
    if (!m) return 1;
    sink += ledger.balance(m->id).value_or(0);
    us.push_back(seconds_since(t) * 1e6);
  }
  std::sort(us.begin(), us.end());
  double total = 0;
  for (double v : us) total += v;
  std::printf("lookup        %ld members: mean %.1f us, p50 %.1f us, p99 %.1f us (%ld look-ups)\n",
              members, total / static_cast<double>(us.size()), us[us.size() / 2],
              us[us.size() * 99 / 100], lookups);

  // Redemptions, each committed to disk on its own.
  db->exec("PRAGMA synchronous=" + synchronous);
  Campaign campaign;
  campaign.tiers = {{"C", 20, 1000}};
  campaign.start = std::chrono::sys_days{std::chrono::year{2026} / 10 / 1};
  campaign.end = campaign.start + std::chrono::days(90);
  Vouchers vouchers(*db, campaign);
  for (const char* city : kCities)
    if (!vouchers.set_stock("C", city, redemptions, {"bench", "bench"})) return 1;
  const Time now = campaign.start + std::chrono::hours(1);
  const auto t = Clock::now();
  for (long i = 0; i < redemptions; ++i) {
    const auto r = vouchers.redeem(member(pick(rng)), "C", fmt::format("bench-{}", i),
                                   {"sms", "bench"}, now);
    if (r.status != Redemption::Status::issued) {
      std::fprintf(stderr, "redemption %ld: status %d %s\n", i, static_cast<int>(r.status),
                   r.error.c_str());
      return 1;
    }
  }
  const double elapsed = seconds_since(t);
  std::printf("redeem        %ld members: %.0f redemptions/s committed (synchronous=%s, %ld in %.2f s)\n",
              members, static_cast<double>(redemptions) / elapsed, synchronous.c_str(),
              redemptions, elapsed);
  std::printf("database      %.1f MB\n",
              static_cast<double>(std::filesystem::file_size(path)) / 1e6);
  return sink == -1 ? 1 : 0;
}
