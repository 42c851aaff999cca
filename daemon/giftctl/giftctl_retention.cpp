// giftctl's retention commands: prune (what giftgated does at quiet times,
// now, or with --dry-run only shown) and stats (what fills the file and
// how fast it grows).
#include <unistd.h>

#include <chrono>
#include <iostream>

#include <fmt/ostream.h>

#include "daemon/campaign/database_size.hpp"
#include "daemon/campaign/retention.hpp"
#include "daemon/giftctl/giftctl.hpp"

namespace giftgate::ctl {
namespace {

Time wall_now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// "557.3 MB": sizes for people (the bytes are in the metrics and --format csv).
std::string human_bytes(std::int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  while (v >= 1000 && u + 1 < std::size(units)) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string share(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) /
                                                static_cast<double>(whole))
                   : "-";
}

// Tables with a time their rows are written in order of, for rows per day.
struct TimedTable {
  const char* table;
  const char* column;
};
constexpr TimedTable kTimedTables[] = {
    {"inbox", "received_at"},   {"outbox", "created_at"}, {"receipts", "received_at"},
    {"events", "at"},           {"ledger", "created_at"}, {"vouchers", "issued_at"},
    {"ussd_sessions", "started_at"}, {"message_history", "created_at"},
};
constexpr int kGrowthDays = 14;
constexpr int kRowDays = 7;
// giftctl prune stops after this many batches (a full prune of years of
// history at batch_rows 500 takes far fewer); a bound, not a goal.
constexpr int kMaxBatches = 10'000'000;

}  // namespace

int Ctl::prune() {
  Format f;
  if (!format(&f, Format::table)) return usage("--format must be table, csv or json");
  Retention retention(*db_, config_.retention);
  const Time now = wall_now();
  if (has("dry-run")) {
    const auto plan = retention.plan(now);
    if (!plan.status.ok())
      return refused(fmt::format("the database refused: {}", plan.status.message));
    Table t;
    t.add_column("kind");
    t.add_column("table");
    t.add_column("days", true);
    t.add_column("cutoff");
    t.add_column("rows", true);
    t.add_column("not_final_kept", true);
    for (const auto& k : plan.kinds)
      t.rows.push_back({std::string(prune_kind_name(k.kind)),
                        std::string(prune_kind_table(k.kind)), std::to_string(k.days),
                        k.cutoff ? iso_time(*k.cutoff) : "kept for ever", std::to_string(k.rows),
                        std::to_string(k.left)});
    print(output(), t, f);
    if (f == Format::table)
      fmt::print(output(), "{} rows would go (dry run: nothing changed)\n", plan.total());
    return kOk;
  }
  // Batches of retention.batch_rows, each its own short transaction, so a
  // running giftgated waits for one batch at most, never for the whole prune.
  std::array<std::int64_t, kPruneKindCount> pruned{};
  std::int64_t batches = 0;
  const auto began = std::chrono::steady_clock::now();
  for (bool more = true; more && batches < kMaxBatches;) {
    const auto r = retention.prune_batch(now, config_.retention.batch_rows);
    if (!r.status.ok())
      return refused(fmt::format("the database refused after {} batches: {}", batches,
                                 r.status.message));
    ++batches;
    for (std::size_t i = 0; i < kPruneKindCount; ++i) pruned[i] += r.pruned[i];
    more = r.more;
  }
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began);
  Table t;
  t.add_column("kind");
  t.add_column("table");
  t.add_column("days", true);
  t.add_column("pruned", true);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < kPruneKindCount; ++i) {
    total += pruned[i];
    t.rows.push_back({std::string(prune_kind_name(kPruneKinds[i])),
                      std::string(prune_kind_table(kPruneKinds[i])),
                      std::to_string(retention.days(kPruneKinds[i])), std::to_string(pruned[i])});
  }
  print(output(), t, f);
  if (f == Format::table)
    fmt::print(output(), "{} rows pruned in {} batches, {:.3f} s\n", total, batches,
               took.count());
  return kOk;
}

int Ctl::stats() {
  std::ostream& out = output();
  const auto size = measure_database(*db_);
  if (!size) return refused("the database's size could not be read");
  fmt::print(out, "file {}: {} ({} bytes), {} free pages ({} bytes), write-ahead log {} ({} bytes)\n",
             escape_text(config_.db_path), human_bytes(size->bytes), size->bytes,
             human_bytes(size->free_bytes), size->free_bytes, human_bytes(size->wal_bytes),
             size->wal_bytes);

  std::string why;
  if (const auto objects = object_sizes(*db_, &why)) {
    Table t;
    t.add_column("name");
    t.add_column("type");
    t.add_column("table");
    t.add_column("rows", true);
    t.add_column("bytes", true);
    t.add_column("size", true);
    t.add_column("share", true);
    for (const auto& o : *objects) {
      std::string rows = "";
      if (!o.index) {
        // The name comes from the database's own schema, quoted as one.
        auto q = db_->prepare(fmt::format("SELECT COUNT(*) FROM \"{}\"", o.name));
        if (q.step() != db::StepResult::row)
          return refused(fmt::format("the database refused: {}", q.status().message));
        rows = std::to_string(q.column_int(0));
      }
      t.rows.push_back({o.name, o.index ? "index" : "table", o.table, rows,
                        std::to_string(o.bytes), human_bytes(o.bytes),
                        share(o.bytes, size->bytes)});
    }
    fmt::print(out, "\nby table and index (dbstat):\n");
    print(out, t, Format::table);
  } else {
    fmt::print(out, "\n{}\n", escape_text(why));
  }

  db::Status read;
  const auto history = size_history(*db_, kGrowthDays + 1, &read);
  if (!read.ok()) return refused(fmt::format("the database refused: {}", read.message));
  fmt::print(out, "\nsize per day (giftgated's daily sample, UTC):\n");
  if (history.empty()) {
    fmt::print(out, "no samples yet: giftgated records one an hour while it runs\n");
  } else {
    Table t;
    t.add_column("day");
    t.add_column("size", true);
    t.add_column("growth", true);
    t.add_column("free", true);
    t.add_column("wal", true);
    for (std::size_t i = 0; i < history.size(); ++i) {
      const auto& h = history[i];
      // Growth in the pages in use: free pages are reused before the file grows.
      const std::int64_t used = h.bytes - h.free_bytes;
      std::string growth = "-";
      if (i > 0) {
        const std::int64_t d = used - (history[i - 1].bytes - history[i - 1].free_bytes);
        growth = (d < 0 ? "-" : "+") + human_bytes(d < 0 ? -d : d);
      }
      t.rows.push_back({h.day, human_bytes(h.bytes), growth, human_bytes(h.free_bytes),
                        human_bytes(h.wal_bytes)});
    }
    print(out, t, Format::table);
  }

  fmt::print(out, "\nrows added per day (UTC), last {} days:\n", kRowDays);
  Table t;
  t.add_column("day");
  std::vector<std::vector<DayCount>> columns;
  const Time now = wall_now();  // one clock for every column: the same days in each
  for (const auto& timed : kTimedTables) {
    t.add_column(timed.table, true);
    columns.push_back(rows_per_day(*db_, timed.table, timed.column, now, kRowDays, &read));
    if (!read.ok()) return refused(fmt::format("the database refused: {}", read.message));
  }
  for (int d = 0; d < kRowDays; ++d) {
    std::vector<std::string> row{columns[0][static_cast<std::size_t>(d)].day};
    for (const auto& c : columns) row.push_back(std::to_string(c[static_cast<std::size_t>(d)].rows));
    t.rows.push_back(std::move(row));
  }
  print(out, t, Format::table);
  return kOk;
}

}  // namespace giftgate::ctl
