#include "daemon/config/config.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <algorithm>
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
#include "daemon/config/settings_table.hpp"

namespace giftgate {
namespace {

using config_detail::child;
using config_detail::Reader;

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int32_t>::max();

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

// The node at a setting's path ("smsc.tls.enabled"), or an undefined one.
// (Recursive: assigning one YAML::Node to another would overwrite the
// first's content, not rebind it.)
YAML::Node node_at(const YAML::Node& map, std::string_view name) {
  const auto dot = name.find('.');
  const YAML::Node next = child(map, std::string(name.substr(0, dot)).c_str());
  return dot == std::string_view::npos ? next : node_at(next, name.substr(dot + 1));
}

// Every mapping holds only the keys the table (and the lists and maps read
// on their own) has beneath its path; `path` empty: the file itself.
bool check_keys(Reader& r, const YAML::Node& node, const std::string& path) {
  const std::string prefix = path.empty() ? "" : path + ".";
  std::vector<std::string> known;
  const auto add = [&](const std::string& name) {
    if (!name.starts_with(prefix)) return;
    const std::string rest = name.substr(prefix.size());
    const std::string first = rest.substr(0, rest.find('.'));
    if (std::find(known.begin(), known.end(), first) == known.end()) known.push_back(first);
  };
  for (const auto& s : settings()) add(s.name);
  for (const auto& s : special_settings()) add(s.name);
  if (!r.section(node, path.empty() ? "the file" : path,
                 std::vector<std::string_view>(known.begin(), known.end())))
    return false;
  for (const auto& key : known) {
    const std::string full = prefix + key;
    const bool has_settings = std::any_of(settings().begin(), settings().end(), [&](const auto& s) {
      return s.name.starts_with(full + ".");
    });
    if (has_settings && !check_keys(r, child(node, key.c_str()), full)) return false;
  }
  return true;
}

// A setting's value from its node, or its default where the file has none;
// false (with the error) when the node holds the wrong kind of value.
bool read_value(Reader& r, const YAML::Node& node, const Setting& s, SettingValue& v) {
  const bool given = node.IsDefined();
  switch (s.kind) {
    case SettingKind::integer:
      if (given) return r.number_at(node, s.key(), s.min, s.max, v.number);
      v.number = std::stoll(s.default_value);
      return true;
    case SettingKind::flag:
      if (given) return r.flag_at(node, s.key(), v.flag);
      v.flag = s.default_value == "true";
      return true;
    case SettingKind::text:
    case SettingKind::choice:
      if (given) return r.text_at(node, s.key(), v.text);
      v.text = s.default_value;
      return true;
  }
  return false;
}

// What one setting's value may not be given the others: checked once all
// are read, each at the key a reader would change.
void check_together(Reader& r, const YAML::Node& root, Config& c) {
  auto& camp = c.campaign;
  auto at = [&](std::string_view name) { return node_at(root, name); };
  // The one the file sets of two, else the first.
  auto either = [&](std::string_view a, std::string_view b) {
    const auto node = at(a);
    return node.IsDefined() ? node : at(b);
  };
  if (!r.failed() && camp.end <= camp.start) r.fail(at("campaign.end"), "end must come after start");
  // A voucher issued just before end must still be good for something: a
  // fixed expiry at or before end would issue vouchers already expired for
  // points taken.
  if (!r.failed() && camp.vouchers_expire_at && *camp.vouchers_expire_at <= camp.end)
    r.fail(at("campaign.vouchers_expire"),
           fmt::format("vouchers_expire ({}) must come after end: vouchers issued near "
                       "the end would be expired when issued",
                       at("campaign.vouchers_expire").Scalar()));
  if (!r.failed())
  if (!r.failed() && camp.points.max_change > camp.points.max_balance)
    r.fail(either("campaign.max_balance", "campaign.max_points_change"),
           fmt::format("max_points_change ({}) must not be more than max_balance ({})",
                       camp.points.max_change, camp.points.max_balance));
  for (const auto& tier : camp.tiers)  // a redemption is a change of points too
    if (!r.failed() && tier.price > camp.points.max_change)
      r.fail(at("campaign.tiers"),
             fmt::format("tier {} costs {} points, more than max_points_change ({})", tier.name,
                         tier.price, camp.points.max_change));

  // Activity is credited by month; left empty, the months are the
  // campaign's own, from start's to the one just before end.
  if (!r.failed() && c.accrual.first_period.empty())
    c.accrual.first_period = local_month(c.time_zone, camp.start);
  if (!r.failed() && c.accrual.last_period.empty())
    c.accrual.last_period = local_month(c.time_zone, camp.end - std::chrono::seconds(1));
  if (!r.failed() && c.accrual.last_period < c.accrual.first_period)
    r.fail(either("accrual.last_period", "accrual.first_period"),
           fmt::format("last_period ({}) must not come before first_period ({})",
                       c.accrual.last_period, c.accrual.first_period));

  const auto& u = c.ussd;
  if (!r.failed() && u.op_begin == u.op_continue)
    r.fail(either("ussd.operations.continue", "ussd.operations.begin"),
           "begin and continue must differ: the daemon tells them apart");
  if (!r.failed() && u.op_menu == u.op_end)
    r.fail(either("ussd.operations.end", "ussd.operations.menu"),
           "menu and end must differ: the centre tells them apart");
  // The per-number daily limits count the last day's MOs, and redelivery
  // detection looks back mo_dedupe_seconds: pruning must leave both.
  if (!r.failed() && c.retention.inbox_days == 1)
    r.fail(at("retention.inbox_days"),
           "inbox_days must be 0 (keep for ever) or at least 2: the daily limits count the "
           "last day's MOs");
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
  if (!check_keys(r, root, "")) {
    *error = r.error();
    return std::nullopt;
  }
  for (const auto& s : settings()) {
    const auto node = node_at(root, s.name);
    SettingValue value;
    if (!read_value(r, node, s, value)) break;
    if (const std::string why = s.store(c, value); !why.empty()) r.fail(node, why);
    if (r.failed()) break;
  }
  // The lists and maps, read on their own.
  c.campaign.tiers = {{"A", 100, 5000}, {"B", 50, 2500}, {"C", 20, 1000}};
  if (!r.failed()) read_tiers(r, node_at(root, "campaign.tiers"), c.campaign);
  if (!r.failed()) read_keywords(r, child(root, "keywords"), c.keywords);
  check_together(r, root, c);

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
  return path.empty() ? parse_config("", "(built-in defaults)", error)
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
