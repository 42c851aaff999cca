#include "daemon/config/settings_table.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "daemon/config/settings_rows.hpp"

namespace giftgate {
namespace {

std::vector<Setting> make_table() {
  std::vector<Setting> t;
  add_smsc_settings(t);
  add_daemon_settings(t);
  add_campaign_settings(t);
  add_channel_settings(t);
  return t;
}

bool same_tiers(const Config& a, const Config& b) {
  const auto& x = a.campaign.tiers;
  const auto& y = b.campaign.tiers;
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i].name != y[i].name || x[i].face_value != y[i].face_value || x[i].price != y[i].price)
      return false;
  return true;
}

bool same_keywords(const Config& a, const Config& b) {
  for (const char* name : {"balance", "redeem", "confirm", "my_vouchers", "merchants", "opt_out",
                           "opt_in", "help", "verify"}) {
    Command command;
    if (command_from_name(name, &command) &&
        a.keywords.words(command) != b.keywords.words(command))
      return false;
  }
  return true;
}

// Whether two SMSCs are the same in every setting an entry has: the
// table's smsc.* rows compare them, so a new row is compared too.
bool same_smsc(const SmscEntry& a, const SmscEntry& b) {
  Config x, y;
  x.daemon.smsc = a;
  y.daemon.smsc = b;
  for (const auto& s : settings())
    if (s.name.starts_with("smsc.") && !s.same(x, y)) return false;
  return true;
}

bool same_smscs(const std::vector<SmscEntry>& a, const std::vector<SmscEntry>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_smsc);
}

// Whether the SMSCs are just the smsc: section (no smscs: list), whose
// rows then say what changed.
bool only_smsc_section(const Config& c) {
  return c.daemon.smscs.size() == 1 && same_smsc(c.daemon.smscs[0], c.daemon.smsc);
}

// roff for a value or help text: backslashes, hyphens and a leading dot.
std::string roff(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '\\') out += "\\e";
    else if (ch == '-') out += "\\-";
    else out += ch;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

}  // namespace

std::string_view Setting::key() const {
  const auto dot = name.rfind('.');
  return std::string_view(name).substr(dot == std::string::npos ? 0 : dot + 1);
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = make_table();
  return table;
}

const std::vector<SpecialSetting>& special_settings() {
  static const std::vector<SpecialSetting> special = {
      {"campaign.tiers", "The gifts: a list of { name, value, points }."},
      {"keywords", "What members and merchants text, by command."},
      {"smscs",
       "Several SMSCs: a list of entries, each with the keys of the smsc section (id, "
       "host, port, binds, rate, ...), their defaults and checks; instead of smsc.",
       Reload::restart},
  };
  return special;
}

std::vector<SettingChange> changed_settings(const Config& running, const Config& fresh) {
  std::vector<SettingChange> out;
  for (const auto& s : settings())
    if (!s.same(running, fresh)) out.push_back({s.name, s.reload});
  if (!same_tiers(running, fresh)) out.push_back({"campaign.tiers", Reload::applied});
  if (!same_keywords(running, fresh)) out.push_back({"keywords", Reload::applied});
  // With the smsc: section alone on both sides, its rows have named each
  // change already.
  if (!same_smscs(running.daemon.smscs, fresh.daemon.smscs) &&
      !(only_smsc_section(running) && only_smsc_section(fresh)))
    out.push_back({"smscs", Reload::restart});
  return out;
}

Config with_reloadable(const Config& running, const Config& fresh) {
  Config next = running;
  next.source = fresh.source;
  for (const auto& s : settings())
    if (s.reload == Reload::applied) s.copy(next, fresh);
  next.campaign.tiers = fresh.campaign.tiers;
  next.keywords = fresh.keywords;
  // The SMSCs are bound at start: the list in force stays, as the smsc.*
  // rows (restart) do.
  next.daemon.smscs = running.daemon.smscs;
  return next;
}

// The built-in tiers and keywords, as the reference shows them; no list
// of SMSCs (the smsc section is the one).
std::string special_default(const std::string& name) {
  if (name == "smscs") return "none: the smsc section is the one SMSC";
  std::string error;
  const auto defaults = parse_config("", "(built-in defaults)", &error);
  if (!defaults) return error;
  std::string out;
  if (name == "campaign.tiers") {
    for (const auto& t : defaults->campaign.tiers)
      out += fmt::format("{}{}: {} yuan, {} points", out.empty() ? "" : "; ", t.name,
                         t.face_value, t.price);
    return out;
  }
  for (const char* command_name : {"balance", "redeem", "confirm", "my_vouchers", "merchants",
                                   "opt_out", "opt_in", "help", "verify"}) {
    Command command;
    if (!command_from_name(command_name, &command)) continue;
    std::string words;
    for (const auto& w : defaults->keywords.words(command)) words += (words.empty() ? "" : ", ") + w;
    out += fmt::format("{}{} [{}]", out.empty() ? "" : "; ", command_name, words);
  }
  return out;
}

std::string settings_reference(SettingsFormat format) {
  std::string out;
  const auto reload_words = [](Reload r) {
    return r == Reload::applied ? "SIGHUP applies it" : "Needs a restart";
  };
  if (format == SettingsFormat::text) {
    for (const auto& s : settings())
      out += fmt::format("{} = {}\n    {}\n    Allowed: {}. {}.\n", s.name,
                         s.default_value.empty() ? "\"\"" : s.default_value, s.help, s.allowed,
                         reload_words(s.reload));
    for (const auto& s : special_settings())
      out += fmt::format("{} = {}\n    {}\n    {}.\n", s.name, special_default(s.name), s.help,
                         reload_words(s.reload));
    return out;
  }
  for (const auto& s : settings())
    out += fmt::format(".TP\n.B {}\n{}\nDefault {}.\nAllowed: {}.\n{}.\n", s.name, roff(s.help),
                       s.default_value.empty() ? "empty" : roff(s.default_value),
                       roff(s.allowed), reload_words(s.reload));
  for (const auto& s : special_settings())
    out += fmt::format(".TP\n.B {}\n{}\nDefault {}.\n{}.\n", s.name, roff(s.help),
                       roff(special_default(s.name)), reload_words(s.reload));
  return out;
}

}  // namespace giftgate
