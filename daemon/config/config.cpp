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
#include "daemon/http/server.hpp"

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

// The key node of a mapping's entry (its line is where the key is
// written, even when the value is empty), or an undefined node.
YAML::Node key_node(const YAML::Node& map, std::string_view key) {
  if (map.IsMap())
    for (const auto& kv : map)
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.first;
  return YAML::Node(YAML::NodeType::Undefined);
}

// The section whose table rows an entry of smscs: is read with.
constexpr std::string_view kSmscSection = "smsc";

// Every mapping holds only the keys the table (and the lists and maps read
// on their own) has beneath its path; `path` empty: the file itself. An
// entry of smscs: is checked as the smsc section's path, and named in
// errors by `entry` ("entry 2 of smscs", "tls of entry 2 of smscs") instead.
bool check_keys(Reader& r, const YAML::Node& node, const std::string& path,
                const std::string& entry = {}) {
  const std::string prefix = path.empty() ? "" : path + ".";
  std::string shown = path.empty() ? "the file" : path;
  if (!entry.empty())
    shown = path == kSmscSection
                ? entry
                : fmt::format("{} of {}", path.substr(kSmscSection.size() + 1), entry);
  std::vector<std::string> known;
  const auto add = [&](const std::string& name) {
    if (!name.starts_with(prefix)) return;
    const std::string rest = name.substr(prefix.size());
    const std::string first = rest.substr(0, rest.find('.'));
    if (std::find(known.begin(), known.end(), first) == known.end()) known.push_back(first);
  };
  for (const auto& s : settings()) add(s.name);
  for (const auto& s : special_settings()) add(s.name);
  if (!r.section(node, shown, std::vector<std::string_view>(known.begin(), known.end())))
    return false;
  for (const auto& key : known) {
    const std::string full = prefix + key;
    const bool has_settings = std::any_of(settings().begin(), settings().end(), [&](const auto& s) {
      return s.name.starts_with(full + ".");
    });
    if (has_settings && !check_keys(r, child(node, key.c_str()), full, entry)) return false;
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

// The table's settings whose names start with `prefix`, from the nodes
// beneath `section` at the rest of their names (prefix "": every setting,
// from the file; "smsc.": an entry of smscs:), stored into c; false at the
// first error.
bool read_settings(Reader& r, const YAML::Node& section, std::string_view prefix, Config& c) {
  for (const auto& s : settings()) {
    if (!s.name.starts_with(prefix)) continue;
    const auto node = node_at(section, std::string_view(s.name).substr(prefix.size()));
    SettingValue value;
    if (!read_value(r, node, s, value)) return false;
    if (const std::string why = s.store(c, value); !why.empty()) r.fail(node, why);
    if (r.failed()) return false;
  }
  return true;
}

// What one SMSC's settings may not be together; `section` is the smsc:
// section or the entry of smscs: it was read from.
void check_smsc(Reader& r, const YAML::Node& section, const SmscEntry& smsc) {
  const auto rate = static_cast<long long>(smsc.session.rate);
  if (rate > 0 && static_cast<std::size_t>(rate) < smsc.binds) {
    const auto at = child(section, "rate");
    r.fail(at.IsDefined() ? at : child(section, "binds"),
           fmt::format("rate {} cannot be shared by {} binds: each would get less than one "
                       "submit_sm a second. rate is the SMSC's limit for all its binds: give at "
                       "least {}, fewer binds, or 0 for no limit",
                       rate, smsc.binds, smsc.binds));
  }
}

// The SMSCs: the entries of smscs:, each read through the smsc.* rows of
// the table (so each takes the same keys, checks and defaults as the smsc:
// section), or else the smsc: section alone as the one entry.
void read_smscs(Reader& r, const YAML::Node& root, Config& c) {
  const YAML::Node list = child(root, "smscs");
  const YAML::Node single = child(root, "smsc");
  auto& smscs = c.daemon.smscs;
  smscs.clear();
  if (!list.IsDefined()) {
    check_smsc(r, single, c.daemon.smsc);
    smscs.push_back(c.daemon.smsc);
    return;
  }
  if (single.IsDefined()) {
    r.fail(key_node(root, "smscs"),
           "smsc: and smscs: are both given: smsc: is one SMSC and smscs: a list of them. "
           "Move the smsc: section into smscs: as an entry (with an id), or remove smscs:");
    return;
  }
  if (list.IsNull() || (list.IsSequence() && list.size() == 0)) {
    r.fail(key_node(root, "smscs"),
           "smscs: is an empty list: list at least one SMSC, or remove smscs: and describe "
           "the one SMSC in an smsc: section");
    return;
  }
  if (!list.IsSequence()) {
    r.fail(list, "smscs must be a list of SMSCs, each a mapping with the keys of the smsc: "
                 "section (- id: a, host: ..., port: ...)");
    return;
  }
  for (std::size_t i = 0; i < list.size() && !r.failed(); ++i) {
    const YAML::Node entry = list[i];
    const std::string name = fmt::format("entry {} of smscs", i + 1);
    if (!entry.IsMap()) {
      r.fail(entry, fmt::format("{} must be a mapping with the keys of the smsc: section "
                                "(id, host, port, ...)",
                                name));
      return;
    }
    if (!check_keys(r, entry, std::string(kSmscSection), name)) return;
    Config scratch;
    if (!read_settings(r, entry, fmt::format("{}.", kSmscSection), scratch)) return;
    const SmscEntry& read = scratch.daemon.smsc;
    check_smsc(r, entry, read);
    for (const auto& earlier : smscs)
      if (!r.failed() && earlier.id == read.id) {
        const auto id = child(entry, "id");
        r.fail(id.IsDefined() ? id : entry,
               fmt::format("{} has the id '{}' of an earlier entry{}: the id names an SMSC "
                           "in receipts' matching, metrics and the database, so each needs "
                           "its own",
                           name, read.id, id.IsDefined() ? "" : " (the default, none given)"));
      }
    smscs.push_back(read);
  }
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
  // The API, when on: TLS needs both files; plain HTTP stays on loopback, where no
  // one else can read the keys and codes it carries.
  const auto& api = c.daemon.api;
  if (!r.failed() && !api.listen.empty() && api.tls_certificate.empty() != api.tls_key.empty())
    r.fail(either("api.tls_certificate", "api.tls_key"),
           "tls_certificate and tls_key go together: give both (TLS) or neither (plain HTTP, "
           "on loopback only)");
  if (!r.failed() && !api.listen.empty() && api.tls_certificate.empty() &&
      !http::is_loopback(api.listen))
    r.fail(at("api.listen"),
           fmt::format("plain HTTP is served on loopback only, and {} is not: give "
                       "tls_certificate and tls_key, or listen on 127.0.0.1",
                       api.listen));
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
  read_settings(r, root, "", c);
  // The lists and maps, read on their own.
  if (!r.failed()) read_smscs(r, root, c);
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
  const auto& smscs = config.daemon.smscs;
  // Beyond what SMSCs commonly allow an account: likely a window meant for
  // the whole SMSC, written where each bind gets one.
  for (const auto& smsc : smscs)
    if (smsc.session.window * smsc.binds > 1000)
      out.push_back(fmt::format(
          "smsc '{}': window {} on each of {} binds lets {} submits wait for their answers at "
          "once, more than SMSCs commonly allow an account; window is per bind",
          smsc.id, smsc.session.window, smsc.binds, smsc.session.window * smsc.binds));
  for (std::size_t i = 0; i < smscs.size(); ++i)
    for (std::size_t j = i + 1; j < smscs.size(); ++j) {
      const auto& a = smscs[i].session;
      const auto& b = smscs[j].session;
      if (a.host == b.host && a.port == b.port && a.system_id == b.system_id)
        out.push_back(fmt::format(
            "smscs '{}' and '{}' both bind to {}:{} as system_id {}: if that is one account, "
            "their binds and rates add up against its contract, and the SMSC may refuse binds "
            "or throttle; make them one entry",
            smscs[i].id, smscs[j].id, a.host, a.port, a.system_id));
    }
  return out;
}

std::vector<std::string> missing_credentials(const Config& config) {
  std::vector<std::string> out;
  for (const auto& smsc : config.daemon.smscs)
    if (!smsc.password_credential.empty())
      out.push_back(fmt::format(
          "{}: the password_file of SMSC '{}' names the credential {} in "
          "$CREDENTIALS_DIRECTORY, which is not set: start giftgated from a systemd unit with "
          "LoadCredential={}:FILE, or name a file",
          config.source, smsc.id, smsc.password_credential, smsc.password_credential));
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
