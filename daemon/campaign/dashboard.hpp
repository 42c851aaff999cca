// The campaign dashboard's figures: what campaign managers look at to judge
// the campaign's effect, each as a Table the console draws as a chart and
// offers as CSV, and giftctl can print. Read-only; each figure is read whole
// or is nullopt with *error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/table.hpp"
#include "daemon/campaign/vouchers.hpp"
#include "daemon/storage/sqlite.hpp"

namespace giftgate {

// How a figure is best drawn: bars per row (one series per numeric column),
// a line over days, or a table alone.
enum class ChartKind { bars, stacked_bars, line, none };

struct Figure {
  std::string name;      // in URLs and CSV file names: "vouchers-by-day"
  std::string title_en;
  std::string title_zh;
  ChartKind chart = ChartKind::bars;
  Table table;           // first column: the label (day, city, tier, merchant ...)
  // The numeric columns drawn, by index (counts, not the points or yuan
  // beside them, whose scale would flatten them); empty: every numeric column.
  std::vector<std::size_t> series;
};

// The names of every figure, in the dashboard's order:
//   vouchers-by-day, vouchers-by-city, vouchers-by-tier, vouchers-by-merchant
//     (issued, used, voided, expired; points spent),
//   stock (left per tier and city),
//   messages (by final state, with the resend rate),
//   pushes (sent, held out, redemption rates, lift against the holdout),
//   verifications (per merchant: verified, failed, lock-outs).
const std::vector<std::string_view>& figure_names();

// One figure, at `now`, days cut in the campaign's time zone; nullopt for
// an unknown name (*error says so) or when the database failed.
std::optional<Figure> dashboard_figure(db::Database& db, const CampaignConfig& config,
                                       std::string_view name, Time now, std::string* error);

// Every push, newest first: its state, targeted and held-out members, its
// messages sent, delivered and failed, the share of each group that
// redeemed within 7 days of its turn, and the lift (percentage points,
// empty without a holdout). The dashboard's "pushes" figure and giftctl
// report --by pushes; nullopt with *error when the database failed.
std::optional<Table> push_report(db::Database& db, const CampaignConfig& config,
                                 std::string* error);

}  // namespace giftgate
