// giftgate-history: a campaign's history, day by day, written by the domain's
// own functions (the service that answers MOs, the outbox that sends and
// takes receipts) at simulated times, to measure what the database grows by
// with and without retention. Run by scripts/bench-retention.sh.
//
//   giftgate-history --db PATH --days D --per-day R [--members M] [--prune]
//                    [--templates FILE] [--retention-days N] [--batch-rows N]
//
// Each simulated day, between 08:00 and 22:00, every redemption comes with
// the load's mix around it (as scripts/bench.sh sends it): two balance asks,
// the ask for a voucher, its confirmation, and a merchant verifying every
// third voucher. Every message is submitted and gets its delivery receipt
// a few seconds later. With --prune the retention of every kind is
// --retention-days (default 90) and pruning runs at the end of each day
// until nothing is left to prune, in batches of --batch-rows (default the
// shipped retention.batch_rows), timed; without, nothing is ever pruned.
// One line per day: the file's size, its free pages, the prune's time, its
// batches and the longest of them (what an MO could wait behind one).
//
// The members, merchants and stock are written straight into their tables
// (what an import leaves, without its events), so the figures are those of
// the traffic alone on top of a fixed start.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "daemon/campaign/outbox.hpp"
#include "daemon/campaign/retention.hpp"
#include "daemon/campaign/service.hpp"
#include "daemon/campaign/templates.hpp"
#include "daemon/config/config.hpp"
#include "daemon/storage/schema.hpp"
#include "protocol/split.hpp"

using namespace giftgate;
using Clock = std::chrono::steady_clock;

namespace {

const char* kCities[] = {"beijing", "shanghai", "shenzhen", "nanjing", "fuzhou"};
constexpr int kMerchantsPerCity = 4;

struct Options {
  std::string db;
  std::string templates = GIFTGATE_SOURCE_DIR "/templates/messages.yaml";
  int days = 100;
  long per_day = 1000;
  long members = 20000;
  bool prune = false;
  int retention_days = 90;
  int batch_rows = RetentionSettings{}.batch_rows;
};

std::string member_msisdn(long i) { return fmt::format("8613{:09}", i); }
std::string merchant_msisdn(int city, int k) { return fmt::format("86139{:02}{:06}", city, k); }

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "giftgate-history: %s\n", what.c_str());
  std::exit(1);
}

void must(const db::Status& s, const char* what) {
  if (!s.ok()) fail(fmt::format("{}: {}", what, s.message));
}

std::int64_t pragma(db::Database& db, const char* name) {
  auto q = db.prepare(fmt::format("PRAGMA {}", name));
  if (q.step() != db::StepResult::row) fail(fmt::format("PRAGMA {}", name));
  return q.column_int(0);
}

void setup(db::Database& db, const Options& o) {
  db::Transaction tx(db);
  auto m = db.prepare("INSERT INTO members(id, msisdn, city, created_at) VALUES (?, ?, ?, '')");
  auto l = db.prepare(
      "INSERT INTO ledger(member_id, delta, reason, channel, actor, created_at) "
      "VALUES (?, 10000000, 'opening balance', 'import', 'history', '')");
  for (long i = 0; i < o.members; ++i) {
    m.reset();
    l.reset();
    must(m.bind(1, i + 1).bind(2, member_msisdn(i)).bind(3, kCities[i % 5]).run(), "member");
    must(l.bind(1, i + 1).run(), "opening balance");
  }
  for (int c = 0; c < 5; ++c) {
    for (int k = 0; k < kMerchantsPerCity; ++k) {
      const auto id = fmt::format("{}-{}", kCities[c], k);
      must(db.prepare("INSERT INTO merchants(id, name, city, kind, level) VALUES (?, ?, ?, ?, "
                      "'middle')")
               .bind(1, id).bind(2, "History " + id).bind(3, kCities[c])
               .bind(4, k % 2 ? "cinema" : "ktv").run(),
           "merchant");
      must(db.prepare("INSERT INTO merchant_phones(msisdn, merchant_id) VALUES (?, ?)")
               .bind(1, merchant_msisdn(c, k)).bind(2, id).run(),
           "merchant phone");
      must(db.prepare("INSERT INTO merchant_offers(merchant_id, tier, offer) VALUES (?, 'C', "
                      "'1 hour')")
               .bind(1, id).run(),
           "offer");
    }
    must(db.prepare("INSERT INTO stock(tier, city, quantity) VALUES ('C', ?, 100000000)")
             .bind(1, kCities[c]).run(),
         "stock");
  }
  must(tx.commit(), "setup");
}

// The campaign's settings for the simulated months: a campaign over all of
// them, no per-number limits in the way of the generated merchants.
Config history_config(const Options& o) {
  std::string error;
  auto c = parse_config(fmt::format("campaign:\n  start: 2027-01-01\n  end: 2028-01-01\n"
                                    "  max_points_change: 10000000\n"
                                    "limits:\n  merchant_mo_per_minute: 0\n"
                                    "  merchant_mo_per_day: 0\n"
                                    "storage:\n  path: {}\n",
                                    o.db),
                        "history.yaml", &error);
  if (!c) fail(error);
  return *c;
}

// One simulated SMSC: every submit accepted with a fresh id, every part's
// receipt (DELIVRD) a few seconds later.
class Traffic {
 public:
  Traffic(db::Database& db, Outbox& outbox) : db_(db), outbox_(outbox) {}

  // Sends what is due at `now` and applies the receipts due by then.
  void run(Time now) {
    while (!receipts_.empty() && receipts_.front().due <= now) {
      const auto r = receipts_.front();
      receipts_.pop_front();
      ReceiptReport report;
      report.ids = MessageIds(r.id);
      report.recipient = r.msisdn;
      report.stat = "DELIVRD";
      report.error = "000";
      if (outbox_.receipt(report, now) == Outbox::ReceiptMatch::failed) fail("receipt");
      ++receipts_applied_;
    }
    for (;;) {
      const auto due = outbox_.take_due(now, 500);
      if (due.empty()) break;
      for (const auto& m : due) {
        const int total =
            std::max<int>(1, static_cast<int>(smpp::count_parts(m.body, smpp::SplitOptions{})));
        for (int part = 1; part <= total; ++part) {
          must(outbox_.sending(m.id, m.attempt, part, total, now), "sending");
          const auto id = fmt::format("{}", ++next_id_);
          must(outbox_.submitted(m.id, m.attempt, part, total, MessageIds(id), now), "submitted");
          receipts_.push_back({id, m.msisdn, now + std::chrono::seconds(5)});
          ++parts_;
        }
      }
    }
  }
  std::uint64_t parts() const { return parts_; }

 private:
  struct Pending {
    std::string id, msisdn;
    Time due;
  };
  db::Database& db_;
  Outbox& outbox_;
  std::deque<Pending> receipts_;
  std::uint64_t next_id_ = 5000000000;
  std::uint64_t parts_ = 0, receipts_applied_ = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("missing value for " + a);
      return argv[++i];
    };
    if (a == "--db") o.db = value();
    else if (a == "--templates") o.templates = value();
    else if (a == "--days") o.days = std::atoi(value().c_str());
    else if (a == "--per-day") o.per_day = std::atol(value().c_str());
    else if (a == "--members") o.members = std::atol(value().c_str());
    else if (a == "--retention-days") o.retention_days = std::atoi(value().c_str());
    else if (a == "--batch-rows") o.batch_rows = std::atoi(value().c_str());
    else if (a == "--prune") o.prune = true;
    else fail("unknown option " + a);
  }
  if (o.db.empty() || o.days < 1 || o.per_day < 1 || o.members < 10) fail("bad options");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::filesystem::remove(o.db);
  std::string error;
  auto db = db::Database::open({o.db}, schema_migrations(), &error);
  if (!db) fail(error);
  setup(*db, o);
  const Config config = history_config(o);
  auto templates = Templates::load(o.templates, 3, &error);
  if (!templates) fail(error);
  Service service(*db, config, templates);
  Outbox outbox(*db, ResendPolicy{});
  Traffic traffic(*db, outbox);
  RetentionSettings settings;
  settings.message_days = settings.receipt_days = settings.inbox_days = settings.ussd_days =
      o.retention_days;
  settings.batch_rows = o.batch_rows;
  Retention retention(*db, settings);
  // The first whole UTC day inside the campaign (which starts at local midnight).
  const Time first_day = std::chrono::floor<std::chrono::days>(config.campaign.start) + std::chrono::days(1);

  long next_member = 0;
  std::uint64_t mo_count = 0, redemptions = 0;
  std::int64_t last_voucher_rowid = 0;
  std::vector<std::deque<std::string>> codes(5);  // per city, issued, not yet verified
  const auto started = Clock::now();
  const auto base_bytes = pragma(*db, "page_count") * pragma(*db, "page_size");
  std::printf("start members=%ld bytes=%lld\n", o.members, static_cast<long long>(base_bytes));
  for (int day = 0; day < o.days; ++day) {
    const Time morning = first_day + std::chrono::days(day) + std::chrono::hours(8);
    // The day's MOs in order: per redemption JF, JF, DH C, Y; every third a
    // verification of a code issued earlier.
    struct Planned {
      std::string from, text;
    };
    std::vector<Planned> plan;
    for (long r = 0; r < o.per_day; ++r) {
      const auto who = member_msisdn(next_member);
      next_member = (next_member + 1) % o.members;
      plan.push_back({who, "JF"});
      plan.push_back({who, "JF"});
      plan.push_back({who, "DH C"});
      plan.push_back({who, "Y"});
      if (r % 3 == 2) plan.push_back({"", "HX"});  // filled with a code when its turn comes
    }
    const auto step = std::chrono::seconds(14 * 3600) / static_cast<long>(plan.size());
    const auto t0 = Clock::now();
    constexpr std::size_t kChunk = 200;
    for (std::size_t start = 0; start < plan.size(); start += kChunk) {
      db::Transaction tx(*db);
      must(tx.begun(), "begin");
      Time now{};
      for (std::size_t i = start; i < std::min(plan.size(), start + kChunk); ++i) {
        now = std::chrono::floor<std::chrono::seconds>(morning + step * static_cast<long>(i));
        Mo mo;
        mo.msisdn = plan[i].from;
        mo.text = plan[i].text;
        if (mo.text == "HX") {
          const int city = static_cast<int>(mo_count % 5);
          if (codes[city].empty()) continue;
          mo.text = "HX " + codes[city].front();
          codes[city].pop_front();
          mo.msisdn = merchant_msisdn(city, static_cast<int>(mo_count / 5 % kMerchantsPerCity));
        }
        mo.key = fmt::format("history-{}", ++mo_count);
        mo.now = now;
        mo.fingerprint = mo_fingerprint(mo.msisdn, "10658888", mo.text);
        mo.epoch = "history";
        const auto out = service.handle(mo);
        if (out.status != MoOutcome::Status::done) fail("an MO was not handled: " + out.error);
        if (mo.text == "Y") ++redemptions;
      }
      traffic.run(now);
      must(tx.commit(), "commit");
      auto q = db->prepare("SELECT rowid, code, city FROM vouchers WHERE rowid > ? ORDER BY rowid");
      q.bind(1, last_voucher_rowid);
      must(q.each_row([&] {
        last_voucher_rowid = q.column_int(0);
        const std::string city = q.column_text(2);
        for (int c = 0; c < 5; ++c)
          if (city == kCities[c]) codes[c].push_back(q.column_text(1));
      }),
           "vouchers");
    }
    {
      // The last receipts of the day.
      db::Transaction tx(*db);
      traffic.run(morning + std::chrono::hours(15));
      must(tx.commit(), "commit");
    }
    const double generate_s = seconds_since(t0);
    double prune_s = 0;
    std::uint64_t pruned = 0, batches = 0;
    double longest_batch_ms = 0;
    if (o.prune) {
      // What giftgated does at quiet times, all at once at the day's end:
      // batches of the shipped size until nothing is left.
      const auto p0 = Clock::now();
      for (;;) {
        const auto b0 = Clock::now();
        const auto r = retention.prune_batch(morning + std::chrono::hours(15), settings.batch_rows);
        if (!r.status.ok()) fail("prune: " + r.status.message);
        longest_batch_ms = std::max(longest_batch_ms, seconds_since(b0) * 1000);
        ++batches;
        pruned += static_cast<std::uint64_t>(r.total());
        if (!r.more) break;
      }
      prune_s = seconds_since(p0);
    }
    const auto bytes = pragma(*db, "page_count") * pragma(*db, "page_size");
    const auto free_bytes = pragma(*db, "freelist_count") * pragma(*db, "page_size");
    std::printf("day=%d redemptions=%llu mos=%llu parts=%llu bytes=%lld free=%lld "
                "generate_s=%.1f pruned=%llu prune_s=%.2f batches=%llu longest_batch_ms=%.1f\n",
                day + 1, static_cast<unsigned long long>(redemptions),
                static_cast<unsigned long long>(mo_count),
                static_cast<unsigned long long>(traffic.parts()), static_cast<long long>(bytes),
                static_cast<long long>(free_bytes), generate_s,
                static_cast<unsigned long long>(pruned), prune_s,
                static_cast<unsigned long long>(batches), longest_batch_ms);
    std::fflush(stdout);
  }
  const auto bytes = pragma(*db, "page_count") * pragma(*db, "page_size");
  const auto free_bytes = pragma(*db, "freelist_count") * pragma(*db, "page_size");
  const double per_million =
      redemptions ? static_cast<double>(bytes - free_bytes - base_bytes) / redemptions * 1e6 : 0;
  std::printf("end redemptions=%llu bytes=%lld free=%lld used_over_start_per_million_redemptions=%.0f "
              "seconds=%.0f\n",
              static_cast<unsigned long long>(redemptions), static_cast<long long>(bytes),
              static_cast<long long>(free_bytes), per_million, seconds_since(started));
  return 0;
}
