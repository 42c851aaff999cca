// The table of settings: every scalar key of giftgate.yaml, once, with its
// type, default, allowed values, one line of help, whether SIGHUP applies it
// to a running giftgated, and the field of Config it fills in.
//
// One source for each fact: parse_config reads the file through this table
// (a key that is missing takes the table's default, parsed like a value in
// the file), giftgated --print-settings prints it, and tests check the
// shipped conf/giftgate.yaml and the SETTINGS section of giftgate.yaml(5)
// against it. The lists and maps (campaign.tiers, keywords) are read by
// their own code in config.cpp; they are named here only for reloads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/config.hpp"

namespace giftgate {

// What a running giftgated does with a changed setting on SIGHUP.
enum class Reload {
  applied,  // takes effect with the reload
  restart,  // logged as setting_needs_restart; the value in force stays
};

// How a value is written: a whole number, true/false, text, or one of a few names.
enum class SettingKind { integer, flag, text, choice };

// A value as read from the file (or the default), before it is stored.
struct SettingValue {
  std::int64_t number = 0;
  bool flag = false;
  std::string text;  // text and choice
};

struct Setting {
  std::string name;     // the YAML path: "limits.mo_per_minute"
  SettingKind kind = SettingKind::text;
  std::string default_value;  // as written in conf/giftgate.yaml
  std::int64_t min = 0, max = 0;      // integer
  std::vector<std::string> choices;   // choice
  std::string allowed;  // what the value may be, in words
  std::string help;     // one line
  Reload reload = Reload::restart;
  // Puts a value into the configuration; an error naming the key, or empty.
  // Settings are stored in table order, so a time is read after the zone.
  std::function<std::string(Config&, const SettingValue&)> store;
  // Whether two configurations have the same value here.
  std::function<bool(const Config&, const Config&)> same;
  // Sets `to`'s value (and what is derived from it alone) to `from`'s.
  std::function<void(Config&, const Config&)> copy;

  // The last part of the name, as error messages say it ("mo_per_minute").
  std::string_view key() const;
};

// Every scalar setting, in the order of conf/giftgate.yaml.
const std::vector<Setting>& settings();

// The lists and maps with their own readers: a known key of their section,
// not read through the table.
struct SpecialSetting {
  std::string name;  // "keywords", "campaign.tiers", "smscs"
  std::string help;
  Reload reload = Reload::applied;
};
const std::vector<SpecialSetting>& special_settings();

// A setting whose value differs between two configurations.
struct SettingChange {
  std::string name;
  Reload reload;
  bool operator==(const SettingChange&) const = default;
};
// What differs between the configuration in force and a fresh one, in table
// order (the tiers and keywords included; "smscs" when the list of SMSCs
// differs beyond what the smsc.* rows say).
std::vector<SettingChange> changed_settings(const Config& running, const Config& fresh);
// `running` with every reloadable setting (tiers and keywords too) taken
// from `fresh`; what needs a restart (the SMSCs too) stays as it runs.
Config with_reloadable(const Config& running, const Config& fresh);

// The table for people: `text` (giftgated --print-settings) or `man`, the
// SETTINGS section of giftgate.yaml(5) that a test compares with the page.
enum class SettingsFormat { text, man };
std::string settings_reference(SettingsFormat format);

}  // namespace giftgate
