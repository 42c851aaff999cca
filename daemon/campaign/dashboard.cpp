#include "daemon/campaign/dashboard.hpp"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <map>
#include <set>

#include <fmt/format.h>

#include "daemon/campaign/pushes.hpp"
#include "daemon/campaign/reports.hpp"

namespace giftgate {
namespace {

constexpr std::string_view kVouchersByDay = "vouchers-by-day";
constexpr std::string_view kVouchersByCity = "vouchers-by-city";
constexpr std::string_view kVouchersByTier = "vouchers-by-tier";
constexpr std::string_view kVouchersByMerchant = "vouchers-by-merchant";
constexpr std::string_view kStock = "stock";
constexpr std::string_view kMessages = "messages";
constexpr std::string_view kPushes = "pushes";
constexpr std::string_view kVerifications = "verifications";

// A count the database gave as text; 0 for anything else (never thrown).
std::int64_t count_of(std::string_view text) {
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// The columns of campaign_report: 0 the key, 1 issued, 2 used, 3 voided,
// 4 expired, 5 points spent, 6 value issued, 7 value used.
const std::vector<std::size_t> kVoucherCounts = {1, 2, 3, 4};

std::optional<std::chrono::sys_days> parse_day(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto number = [&](std::size_t at, std::size_t n, auto& out) {
    const auto r = std::from_chars(text.data() + at, text.data() + at + n, out);
    return r.ec == std::errc{} && r.ptr == text.data() + at + n;
  };
  if (!number(0, 4, y) || !number(5, 2, m) || !number(8, 2, d)) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

// The days between the first and the last with no voucher issued or used,
// as rows of zeros: a line over days must not join two days across a gap
// as if they were neighbours. Left as it is past two years (no campaign
// runs that long; a stray date should not make a table of thousands).
void fill_missing_days(Table& t) {
  if (t.rows.size() < 2) return;
  const auto first = parse_day(t.rows.front()[0]);
  const auto last = parse_day(t.rows.back()[0]);
  if (!first || !last || *last - *first > std::chrono::days(731)) return;
  std::map<std::chrono::sys_days, std::vector<std::string>> by_day;
  for (auto& row : t.rows) {
    const auto day = parse_day(row[0]);
    if (!day) return;  // not a table of days after all: leave it alone
    by_day[*day] = std::move(row);
  }
  t.rows.clear();
  for (auto day = *first; day <= *last; day += std::chrono::days(1)) {
    auto it = by_day.find(day);
    if (it != by_day.end()) {
      t.rows.push_back(std::move(it->second));
      continue;
    }
    std::vector<std::string> zeros(t.columns.size(), "0");
    const std::chrono::year_month_day ymd{day};
    zeros[0] = fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                           static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    t.rows.push_back(std::move(zeros));
  }
}

std::optional<Table> vouchers_by(db::Database& db, const CampaignConfig& config,
                                 std::string_view by, Time now, std::string* error) {
  auto t = campaign_report(db, by, config.time_zone, error, now);
  if (!t && error->empty()) *error = fmt::format("no report by {}", by);
  return t;
}

// Used vouchers per merchant, from campaign_report, with each merchant's
// name as the label (its id beside it): issue has no merchant, so only the
// used count and their face value mean anything here. Busiest first, so a
// chart of the first rows shows the merchants that matter.
std::optional<Table> vouchers_by_merchant(db::Database& db, const CampaignConfig& config, Time now,
                                          std::string* error) {
  const auto report = vouchers_by(db, config, "merchant", now, error);
  if (!report) return std::nullopt;
  const auto names = query_table(db, error, "SELECT id, name FROM merchants", {"id", "name"});
  if (!names) return std::nullopt;
  std::map<std::string, std::string> name_of;
  for (const auto& row : names->rows) name_of[row[0]] = row[1];
  Table t;
  t.add_column("merchant");
  t.add_column("id");
  t.add_column("used", true);
  t.add_column("value_used", true);
  for (const auto& row : report->rows) {
    const auto it = name_of.find(row[0]);
    t.rows.push_back({it == name_of.end() ? row[0] : it->second, row[0], row[2], row[7]});
  }
  std::stable_sort(t.rows.begin(), t.rows.end(),
                   [](const auto& a, const auto& b) { return count_of(a[2]) > count_of(b[2]); });
  return t;
}

// Stock left: one row per city, one column per tier (the configured tiers
// in their order, then any other tier the stock table still holds), and
// the city's total.
std::optional<Table> stock_left(db::Database& db, const CampaignConfig& config,
                                std::string* error) {
  const auto rows =
      query_table(db, error, "SELECT city, tier, quantity FROM stock ORDER BY city, tier",
                {"city", "tier", "#quantity"});
  if (!rows) return std::nullopt;
  std::vector<std::string> tiers;
  for (const auto& tier : config.campaign.tiers) tiers.push_back(tier.name);
  std::set<std::string> extra;
  for (const auto& row : rows->rows)
    if (std::find(tiers.begin(), tiers.end(), row[1]) == tiers.end()) extra.insert(row[1]);
  tiers.insert(tiers.end(), extra.begin(), extra.end());

  std::map<std::string, std::map<std::string, std::int64_t>> left;  // city -> tier -> quantity
  for (const auto& row : rows->rows) left[row[0]][row[1]] = count_of(row[2]);
  Table t;
  t.add_column("city");
  for (const auto& tier : tiers) t.add_column(tier, true);
  t.add_column("total", true);
  for (const auto& [city, quantities] : left) {
    std::vector<std::string> row{city};
    std::int64_t total = 0;
    for (const auto& tier : tiers) {
      const auto it = quantities.find(tier);
      const std::int64_t n = it == quantities.end() ? 0 : it->second;
      total += n;
      row.push_back(std::to_string(n));
    }
    row.push_back(std::to_string(total));
    t.rows.push_back(std::move(row));
  }
  return t;
}

// message_report (by template and state), with each template's resend
// rate: the share of its messages sent more than once, in percent.
std::optional<Table> messages(db::Database& db, std::string* error) {
  auto t = message_report(db, error);
  if (!t) return std::nullopt;
  // message_report's columns: message, total, queued, submitted, delivered,
  // failed, expired, resent.
  t->add_column("resend_pct", true);
  for (auto& row : t->rows) {
    const auto total = count_of(row[1]);
    row.push_back(total > 0 ? fmt::format("{:.2f}", 100.0 * static_cast<double>(count_of(row[7])) /
                                                        static_cast<double>(total))
                            : "0.00");
  }
  return t;
}

// Per merchant: vouchers verified (used there now), wrong codes counted
// against it, how many times the guard locked it, and until when it is
// locked now (empty when it is not). Busiest first.
std::optional<Table> verifications(db::Database& db, Time now, std::string* error) {
  // A lock leaves a merchant_locked event whose detail starts "merchant ID
  // after": merchant_lockouts keeps only the last lock of each merchant.
  // Such events have no member, and the index on events(member_id) finds
  // the few rows without one, so this does not read the whole history.
  return query_table(
      db, error,
      "WITH used AS (SELECT used_by AS merchant_id, COUNT(*) AS n FROM vouchers "
      "  WHERE used_by IS NOT NULL AND state = 'used' GROUP BY used_by), "
      "failed AS (SELECT merchant_id, COUNT(*) AS n FROM verify_failures "
      "  WHERE merchant_id IS NOT NULL GROUP BY merchant_id), "
      "locks AS (SELECT m.id AS merchant_id, COUNT(*) AS n FROM events e JOIN merchants m "
      "  ON substr(e.detail, 1, length(m.id) + 16) = 'merchant ' || m.id || ' after ' "
      "  WHERE e.member_id IS NULL AND e.kind = 'merchant_locked' GROUP BY m.id) "
      "SELECT m.name, m.id, COALESCE(u.n, 0), COALESCE(f.n, 0), COALESCE(l.n, 0), "
      "  COALESCE(lo.until, '') FROM merchants m "
      "LEFT JOIN used u ON u.merchant_id = m.id LEFT JOIN failed f ON f.merchant_id = m.id "
      "LEFT JOIN locks l ON l.merchant_id = m.id "
      "LEFT JOIN merchant_lockouts lo ON lo.merchant_id = m.id AND lo.until > ? "
      "ORDER BY COALESCE(u.n, 0) + COALESCE(f.n, 0) DESC, m.id",
      {"merchant", "id", "#verified", "#failed", "#lockouts", "locked_until"}, {iso_time(now)});
}

// For the report's tables: a bare number, empty when there is none.
std::string number_text(std::optional<double> v) {
  return v ? fmt::format("{:.2f}", *v) : std::string();
}

std::optional<double> redemption_pct(const PushEffect::Group& g, std::size_t window) {
  if (g.members == 0) return std::nullopt;
  return 100.0 * static_cast<double>(g.redeemed[window]) / static_cast<double>(g.members);
}

}  // namespace

const std::vector<std::string_view>& figure_names() {
  static const std::vector<std::string_view> names = {
      kVouchersByDay, kVouchersByCity, kVouchersByTier, kVouchersByMerchant,
      kStock,         kMessages,       kPushes,         kVerifications};
  return names;
}

std::optional<Table> push_report(db::Database& db, const CampaignConfig& config,
                                 std::string* error) {
  Pushes pushes(db, config, nullptr);
  const auto all = pushes.list(error);
  if (!all) return std::nullopt;
  constexpr std::size_t kWeek = 2;  // PushEffect::kDays[2]: 7 days
  static_assert(PushEffect::kDays[kWeek] == 7);
  Table t;
  t.add_column("push");
  t.add_column("state");
  for (const char* c : {"targeted", "held_out", "sent", "delivered", "failed", "sent_rate_7d_pct",
                        "holdout_rate_7d_pct", "lift_7d_pp"})
    t.add_column(c, true);
  for (const auto& p : *all) {
    PushEffect effect;
    switch (pushes.effect(p.name, effect, error)) {
      case Pushes::Found::found:
        break;
      case Pushes::Found::not_found:  // gone between the list and now: none of its figures
        continue;
      case Pushes::Found::failed:
        return std::nullopt;
    }
    t.rows.push_back({p.name, p.state + (p.paused ? " (paused)" : ""), std::to_string(p.targeted),
                      std::to_string(p.held_out), std::to_string(p.messages.sent),
                      std::to_string(p.messages.delivered), std::to_string(p.messages.failed),
                      number_text(redemption_pct(effect.sent, kWeek)),
                      number_text(redemption_pct(effect.holdout, kWeek)),
                      number_text(effect.lift(kWeek))});
  }
  return t;
}

std::optional<Figure> dashboard_figure(db::Database& db, const CampaignConfig& config,
                                       std::string_view name, Time now, std::string* error) {
  error->clear();
  Figure f;
  f.name = std::string(name);
  std::optional<Table> table;
  if (name == kVouchersByDay) {
    f.title_en = "Vouchers by day";
    f.title_zh = "每日礼券";
    f.chart = ChartKind::line;
    f.series = kVoucherCounts;
    table = vouchers_by(db, config, "day", now, error);
    if (table) fill_missing_days(*table);
  } else if (name == kVouchersByCity) {
    f.title_en = "Vouchers by city";
    f.title_zh = "各城市礼券";
    f.series = kVoucherCounts;
    table = vouchers_by(db, config, "city", now, error);
  } else if (name == kVouchersByTier) {
    f.title_en = "Vouchers by tier";
    f.title_zh = "各档位礼券";
    f.series = kVoucherCounts;
    table = vouchers_by(db, config, "tier", now, error);
  } else if (name == kVouchersByMerchant) {
    f.title_en = "Vouchers used by merchant";
    f.title_zh = "各商户已用礼券";
    f.series = {2};
    table = vouchers_by_merchant(db, config, now, error);
  } else if (name == kStock) {
    f.title_en = "Stock left by tier and city";
    f.title_zh = "各城市各档位剩余库存";
    f.chart = ChartKind::stacked_bars;
    table = stock_left(db, config, error);
    // Every tier stacked; the total is the stack's height.
    if (table)
      for (std::size_t i = 1; i + 1 < table->columns.size(); ++i) f.series.push_back(i);
  } else if (name == kMessages) {
    f.title_en = "Messages by final state, with the resend rate";
    f.title_zh = "短信最终状态与重发率";
    f.chart = ChartKind::stacked_bars;
    f.series = {2, 3, 4, 5, 6};  // queued .. expired: together the total
    table = messages(db, error);
  } else if (name == kPushes) {
    f.title_en = "Pushes: redemption within 7 days, sent against held out";
    f.title_zh = "推送：7天内兑换率，发送组对比对照组";
    f.series = {7, 8};  // the two groups' rates
    table = push_report(db, config, error);
  } else if (name == kVerifications) {
    f.title_en = "Verifications and lock-outs by merchant";
    f.title_zh = "各商户核销与锁定";
    f.series = {2, 3, 4};
    table = verifications(db, now, error);
  } else {
    *error = fmt::format("no figure is called \"{}\"", name);
    return std::nullopt;
  }
  if (!table) return std::nullopt;
  f.table = std::move(*table);
  return f;
}

}  // namespace giftgate
