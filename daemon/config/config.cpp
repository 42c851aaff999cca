#include "daemon/config/config.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/config/config_reader.hpp"

namespace giftgate {
namespace {

using config_detail::child;
using config_detail::Reader;

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int32_t>::max();
// The most max_points_change and max_balance may be set to: the 8 digits
// the message templates are checked with for a balance or a price
// (longest_value in templates.cpp), far inside what 64 bits hold.
constexpr std::int64_t kMaxPoints = 99'999'999;

void read_tiers(Reader& r, const YAML::Node& node, Campaign& c) {
  if (!node) return;
  if (!node.IsSequence() || node.size() == 0) {
    r.fail(node, "tiers must be a list of { name, value, points }");
    return;
  }
  c.tiers.clear();
  for (const auto& t : node) {
    if (!r.section(t, "a tier", {"name", "value", "points"})) return;
    Tier tier{r.text(t, "name", ""), r.integer(t, "value", 0, 1, kMaxInt),
              r.integer(t, "points", 0, 1, kMaxInt)};
    if (tier.name.empty() || tier.name.size() > 8 || !t["value"] || !t["points"]) {
      r.fail(t, "a tier needs a name (up to 8 characters), a value and points");
      return;
    }
    if (c.tier(tier.name)) {
      r.fail(t, fmt::format("tier '{}' is listed twice", tier.name));
      return;
    }
    c.tiers.push_back(tier);
  }
}

void read_keywords(Reader& r, const YAML::Node& node, Keywords& keywords) {
  if (!node || node.IsNull()) return;
  if (!node.IsMap()) {
    r.fail(node, "keywords must map commands to lists of words");
    return;
  }
  std::map<std::string, std::string> owner;  // folded word -> command
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>();
    Command command;
    if (!command_from_name(name, &command)) {
      r.fail(kv.first, fmt::format("unknown command '{}' in keywords (balance, redeem, confirm, "
                                   "my_vouchers, merchants, opt_out, opt_in, help, verify)",
                                   name));
      return;
    }
    if (!kv.second.IsSequence() || kv.second.size() == 0) {
      r.fail(kv.second, fmt::format("keywords.{} must be a list of words, like [JF, 积分]", name));
      return;
    }
    std::vector<std::string> words;
    for (const auto& w : kv.second) {
      const std::string folded = w.IsScalar() ? fold_keyword_text(w.Scalar()) : "";
      if (folded.empty()) {
        r.fail(w, fmt::format("keywords.{}: an empty word", name));
        return;
      }
      if (const auto [it, fresh] = owner.emplace(folded, name); !fresh && it->second != name) {
        r.fail(w, fmt::format("keyword '{}' is given to both {} and {}", w.Scalar(), it->second,
                              name));
        return;
      }
      words.push_back(w.Scalar());
    }
    keywords.set(command, std::move(words));
  }
}

void read_limits(Reader& r, const YAML::Node& node, Limits& l) {
  r.section(node, "limits",
            {"mo_per_minute", "mo_per_day", "replies_per_minute", "replies_per_day",
             "merchant_mo_per_minute", "merchant_mo_per_day", "ussd_per_minute", "ussd_per_day",
             "non_member_replies_per_day"});
  auto get = [&](const char* key, int fallback) {
    return static_cast<int>(r.integer(node, key, fallback, 0, 1000000));
  };
  l.mo_per_minute = get("mo_per_minute", 10);
  l.mo_per_day = get("mo_per_day", 100);
  l.replies_per_minute = get("replies_per_minute", 10);
  l.replies_per_day = get("replies_per_day", 100);
  l.merchant_mo_per_minute = get("merchant_mo_per_minute", 60);
  l.merchant_mo_per_day = get("merchant_mo_per_day", 3000);
  l.ussd_per_minute = get("ussd_per_minute", 20);
  l.ussd_per_day = get("ussd_per_day", 200);
  l.non_member_replies_per_day = get("non_member_replies_per_day", 1);
}

}  // namespace


std::optional<Config> parse_config(std::string_view text, const std::string& source,
                                   std::string* error) {
  YAML::Node loaded;
  try {
    loaded = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    *error = fmt::format("{}:{}: {}", source, e.mark.line + 1, e.msg);
    return std::nullopt;
  }
  const YAML::Node root = loaded;
  Reader r(source);
  Config c;
  c.source = source;
  if (root && !root.IsNull() &&
      !r.section(root, "the file",
                 {"storage", "templates", "campaign", "verification", "limits", "accrual",
                  "keywords", "ussd", "smsc", "outbox", "daemon", "logging", "metrics"})) {
    *error = r.error();
    return std::nullopt;
  }
  const auto storage = child(root, "storage");
  const auto templates = child(root, "templates");
  const auto campaign = child(root, "campaign");
  const auto verification = child(root, "verification");
  const auto accrual = child(root, "accrual");
  r.section(storage, "storage", {"path", "busy_timeout_ms"});
  r.section(templates, "templates", {"path", "max_parts"});
  r.section(campaign, "campaign",
            {"time_zone", "start", "end", "voucher_days", "vouchers_expire", "confirm_minutes",
             "default_country", "max_points_change", "max_balance", "tiers"});
  r.section(verification, "verification",
            {"max_failures", "window_minutes", "lockout_minutes", "daily_max_failures"});
  r.section(accrual, "accrual",
            {"network_month", "rbt_fee_yuan", "service_use", "first_period", "last_period"});

  c.db_path = r.text(storage, "path", "/var/lib/giftgate/giftgate.db");
  if (c.db_path.empty()) r.fail(child(storage, "path"), "path must not be empty");
  c.busy_timeout = std::chrono::milliseconds(r.integer(storage, "busy_timeout_ms", 5000, 0, 600000));

  c.templates_path = r.text(templates, "path", "/etc/giftgate/messages.yaml");
  if (c.templates_path.empty()) r.fail(child(templates, "path"), "path must not be empty");
  c.max_parts = static_cast<std::size_t>(r.integer(templates, "max_parts", 3, 1, 10));

  c.time_zone = r.text(campaign, "time_zone", "Asia/Shanghai");
  if (!known_zone(c.time_zone))
    r.fail(child(campaign, "time_zone"),
           fmt::format("unknown time zone '{}' (not in /usr/share/zoneinfo)", c.time_zone));
  auto& camp = c.campaign;
  camp.tiers = {{"A", 100, 5000}, {"B", 50, 2500}, {"C", 20, 1000}};
  if (!r.failed()) {
    camp.start = r.time(campaign, "start", c.time_zone)
                     .value_or(*parse_local_time("2026-10-01 00:00", c.time_zone));
    camp.end = r.time(campaign, "end", c.time_zone)
                   .value_or(*parse_local_time("2027-01-01 00:00", c.time_zone));
    camp.vouchers_expire_at = r.time(campaign, "vouchers_expire", c.time_zone);
    if (!r.failed() && camp.end <= camp.start)
      r.fail(child(campaign, "end"), "end must come after start");
    // A voucher issued just before end must still be good for something:
    // a fixed expiry at or before end would issue vouchers already expired
    // for points taken.
    if (!r.failed() && camp.vouchers_expire_at && *camp.vouchers_expire_at <= camp.end)
      r.fail(child(campaign, "vouchers_expire"),
             fmt::format("vouchers_expire ({}) must come after end: vouchers issued near "
                         "the end would be expired when issued",
                         r.text(campaign, "vouchers_expire", "")));
  }
  camp.voucher_days = static_cast<int>(r.integer(campaign, "voucher_days", 30, 1, 3650));
  camp.confirm_minutes = static_cast<int>(r.integer(campaign, "confirm_minutes", 10, 0, 1440));
  c.default_country = r.text(campaign, "default_country", "86");
  if (c.default_country.empty() || c.default_country.size() > 3 ||
      c.default_country.find_first_not_of("0123456789") != std::string::npos ||
      c.default_country[0] == '0')
    r.fail(child(campaign, "default_country"), "default_country must be a country code like 86");
  read_tiers(r, child(campaign, "tiers"), camp);
  camp.points.max_change = r.integer(campaign, "max_points_change", 1'000'000, 1, kMaxPoints);
  camp.points.max_balance = r.integer(campaign, "max_balance", 10'000'000, 1, kMaxPoints);
  if (!r.failed() && camp.points.max_change > camp.points.max_balance)
    r.fail(child(campaign, "max_balance").IsDefined() ? child(campaign, "max_balance")
                                                      : child(campaign, "max_points_change"),
           fmt::format("max_points_change ({}) must not be more than max_balance ({})",
                       camp.points.max_change, camp.points.max_balance));
  for (const auto& tier : camp.tiers)  // a redemption is a change of points too
    if (!r.failed() && tier.price > camp.points.max_change)
      r.fail(child(campaign, "tiers"),
             fmt::format("tier {} costs {} points, more than max_points_change ({})", tier.name,
                         tier.price, camp.points.max_change));

  camp.guard_failures = static_cast<int>(r.integer(verification, "max_failures", 5, 0, 1000));
  camp.guard_window_minutes =
      static_cast<int>(r.integer(verification, "window_minutes", 10, 1, 1440));
  camp.guard_lockout_minutes =
      static_cast<int>(r.integer(verification, "lockout_minutes", 30, 1, 10080));
  camp.guard_daily_failures =
      static_cast<int>(r.integer(verification, "daily_max_failures", 20, 0, 100000));

  read_limits(r, child(root, "limits"), c.limits);

  c.accrual.network_month = r.integer(accrual, "network_month", 100, 0, kMaxInt);
  c.accrual.rbt_fee_yuan = r.integer(accrual, "rbt_fee_yuan", 10, 0, kMaxInt);
  c.accrual.service_use = r.integer(accrual, "service_use", 20, 0, kMaxInt);
  // Activity is credited by month; left empty, the months are the
  // campaign's own, from start's to the one just before end.
  auto period = [&](const char* key, Time campaign_time) {
    const std::string text = r.text(accrual, key, "");
    if (text.empty()) return r.failed() ? std::string() : local_month(c.time_zone, campaign_time);
    const auto month = parse_month(text);
    if (!month)
      r.fail(child(accrual, key),
             fmt::format("{} must be a month like 2026-10, not '{}'", key, text));
    return month.value_or("");
  };
  c.accrual.first_period = period("first_period", camp.start);
  c.accrual.last_period = period("last_period", camp.end - std::chrono::seconds(1));
  if (!r.failed() && c.accrual.last_period < c.accrual.first_period)
    r.fail(child(accrual, "last_period").IsDefined() ? child(accrual, "last_period")
                                                     : child(accrual, "first_period"),
           fmt::format("last_period ({}) must not come before first_period ({})",
                       c.accrual.last_period, c.accrual.first_period));

  read_keywords(r, child(root, "keywords"), c.keywords);
  config_detail::read_ussd(r, child(root, "ussd"), c.ussd);
  config_detail::read_daemon(r, root, c.daemon);

  if (r.failed()) {
    *error = r.error();
    return std::nullopt;
  }
  return c;
}

std::vector<std::string> config_warnings(const Config& config) {
  std::vector<std::string> out;
  const auto& camp = config.campaign;
  if (camp.guard_failures == 0 && camp.guard_daily_failures == 0)
    out.push_back(
        "verification.max_failures and daily_max_failures are 0: a merchant may guess codes "
        "without limit");
  else if (camp.guard_failures == 0)
    out.push_back("verification.max_failures is 0: only the daily cap stops a merchant guessing codes");
  else if (camp.guard_daily_failures == 0)
    out.push_back(
        "verification.daily_max_failures is 0: a merchant that stays under max_failures may guess "
        "codes for ever");
  return out;
}

std::string config_path(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("GIFTGATE_CONFIG"); env && *env) return env;
  std::error_code ec;
  if (std::filesystem::exists("/etc/giftgate/giftgate.yaml", ec)) return "/etc/giftgate/giftgate.yaml";
  return {};
}

std::optional<Config> find_config(const std::string& given, std::string* error) {
  const std::string path = config_path(given);
  return path.empty() ? parse_config(default_config_text(), "(built-in defaults)", error)
                      : load_config(path, error);
}

std::optional<Config> load_config(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("{}: cannot be read", path);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, error);
}

}  // namespace giftgate
