// The table's rows of the campaign: its window and tiers' rules, verification,
// limits and accrual.
#include "daemon/config/settings_rows.hpp"

#include "daemon/config/setting_kinds.hpp"

namespace giftgate {
using namespace setting_kinds;

void add_campaign_settings(std::vector<Setting>& t) {
  constexpr auto applied = Reload::applied;
  constexpr auto restart = Reload::restart;
  // The campaign's window and rules are read at each MO; the zone is where
  // reports cut days, fixed at start.
  t.push_back(text("campaign.time_zone", "Asia/Shanghai", "an IANA zone name", restart,
                   "The zone the times below are written in.",
                   [](auto& c) -> auto& { return c.time_zone; },
                   [](Config& c, const std::string& v, const std::string&) {
                     c.time_zone = v;
                     if (known_zone(v)) return std::string();
                     return fmt::format("unknown time zone '{}' (not in /usr/share/zoneinfo)", v);
                   }));
  t.push_back(local_time("campaign.start", "2026-10-01 00:00", "Redemptions are taken from then.",
                         [](auto& c) -> auto& { return c.campaign.start; }));
  t.push_back(local_time("campaign.end", "2027-01-01 00:00", "... until just before then.",
                         [](auto& c) -> auto& { return c.campaign.end; }));
  t.push_back(number("campaign.voucher_days", 30, 1, 3650, applied,
                     "A voucher is valid this many days after issue.",
                     [](auto& c) -> auto& { return c.campaign.voucher_days; }));
  {
    auto expire = local_time("campaign.vouchers_expire", "",
                             "A fixed expiry for every voucher instead; after end.",
                             [](auto& c) -> auto& { return c.campaign.vouchers_expire_at; });
    expire.allowed = "empty, or a time like 2027-01-31 23:59, in campaign.time_zone";
    t.push_back(std::move(expire));
  }
  t.push_back(number("campaign.confirm_minutes", 10, 0, 1440, applied,
                     "How long an ask holds the offer for a confirmation; 0: none asked.",
                     [](auto& c) -> auto& { return c.campaign.confirm_minutes; }));
  t.push_back(text("campaign.default_country", "86", "a country code, 1 to 3 digits", applied,
                   "The country of national numbers.",
                   [](auto& c) -> auto& { return c.default_country; },
                   [](Config& c, const std::string& v, const std::string&) {
                     c.default_country = v;
                     if (v.empty() || v.size() > 3 ||
                         v.find_first_not_of("0123456789") != std::string::npos || v[0] == '0')
                       return std::string("default_country must be a country code like 86");
                     return std::string();
                   }));
  t.push_back(number("campaign.max_points_change", 1'000'000, 1, kMaxPoints, applied,
                     "The most points one change may add or take.",
                     [](auto& c) -> auto& { return c.campaign.points.max_change; }));
  t.push_back(number("campaign.max_balance", 10'000'000, 1, kMaxPoints, applied,
                     "The most points a member may hold.",
                     [](auto& c) -> auto& { return c.campaign.points.max_balance; }));

  t.push_back(number("verification.max_failures", 5, 0, 1000, applied,
                     "Failed verifications in the window that lock a merchant out; 0: off.",
                     [](auto& c) -> auto& { return c.campaign.guard_failures; }));
  t.push_back(number("verification.window_minutes", 10, 1, 1440, applied,
                     "The window max_failures are counted in.",
                     [](auto& c) -> auto& { return c.campaign.guard_window_minutes; }));
  t.push_back(number("verification.lockout_minutes", 30, 1, 10080, applied,
                     "How long that lock lasts.",
                     [](auto& c) -> auto& { return c.campaign.guard_lockout_minutes; }));
  t.push_back(number("verification.daily_max_failures", 20, 0, 100000, applied,
                     "Failed verifications in any 24 hours that lock a merchant out; 0: off.",
                     [](auto& c) -> auto& { return c.campaign.guard_daily_failures; }));

  // Limits are read at each MO.
  const auto limit = [&](const char* name, int def, const char* help, auto get) {
    t.push_back(number(fmt::format("limits.{}", name), def, 0, 1000000, applied, help, get));
  };
  limit("mo_per_minute", 10, "SMS from a number, per minute; 0: no limit.",
        [](auto& c) -> auto& { return c.limits.mo_per_minute; });
  limit("mo_per_day", 100, "SMS from a number, per day.",
        [](auto& c) -> auto& { return c.limits.mo_per_day; });
  limit("replies_per_minute", 10, "SMS sent to a number, per minute.",
        [](auto& c) -> auto& { return c.limits.replies_per_minute; });
  limit("replies_per_day", 100, "SMS sent to a number, per day.",
        [](auto& c) -> auto& { return c.limits.replies_per_day; });
  limit("merchant_mo_per_minute", 60, "SMS from a merchant's number, per minute.",
        [](auto& c) -> auto& { return c.limits.merchant_mo_per_minute; });
  limit("merchant_mo_per_day", 3000, "SMS from a merchant's number, per day.",
        [](auto& c) -> auto& { return c.limits.merchant_mo_per_day; });
  limit("ussd_per_minute", 20, "USSD dials and answers from a number, per minute.",
        [](auto& c) -> auto& { return c.limits.ussd_per_minute; });
  limit("ussd_per_day", 200, "USSD dials and answers from a number, per day.",
        [](auto& c) -> auto& { return c.limits.ussd_per_day; });
  limit("non_member_replies_per_day", 1, "SMS a day to a number that is no one's.",
        [](auto& c) -> auto& { return c.limits.non_member_replies_per_day; });

  // Accrual is giftctl's: it reads the file at each run.
  t.push_back(number("accrual.network_month", 100, 0, kMaxInt, applied,
                     "Points per month on the network.",
                     [](auto& c) -> auto& { return c.accrual.network_month; }));
  t.push_back(number("accrual.rbt_fee_yuan", 10, 0, kMaxInt, applied,
                     "Points per yuan of ring-back-tone fees.",
                     [](auto& c) -> auto& { return c.accrual.rbt_fee_yuan; }));
  t.push_back(number("accrual.service_use", 20, 0, kMaxInt, applied,
                     "Points per use of the club's services.",
                     [](auto& c) -> auto& { return c.accrual.service_use; }));
  t.push_back(month("accrual.first_period",
                    "The first month activity is credited for; empty: start's.",
                    [](auto& c) -> auto& { return c.accrual.first_period; }));
  t.push_back(month("accrual.last_period",
                    "The last month activity is credited for; empty: the one before end.",
                    [](auto& c) -> auto& { return c.accrual.last_period; }));
}

}  // namespace giftgate
