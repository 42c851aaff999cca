// How each kind of setting is read, stored, compared and copied: the
// building blocks of the table of settings (settings_table.hpp), shared by
// the files that hold its rows by section (settings_*.cpp). Internal to
// daemon/config.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "daemon/campaign/calendar.hpp"
#include "daemon/config/settings_table.hpp"
#include "protocol/ussd.hpp"

namespace giftgate::setting_kinds {

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int32_t>::max();
// The most max_points_change and max_balance may be set to: the 8 digits
// the message templates are checked with for a balance or a price
// (longest_value in templates.cpp), far inside what 64 bits hold.
constexpr std::int64_t kMaxPoints = 99'999'999;

template <class T>
struct is_duration : std::false_type {};
template <class R, class P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

// A whole number into its field; a duration in the unit the key's name
// ends with (_ms, _minutes, else seconds).
template <class T>
void assign_number(T& field, std::int64_t v, std::string_view name) {
  if constexpr (is_duration<T>::value) {
    using namespace std::chrono;
    if (name.ends_with("_ms")) field = duration_cast<T>(milliseconds(v));
    else if (name.ends_with("_minutes")) field = duration_cast<T>(minutes(v));
    else field = duration_cast<T>(seconds(v));
  } else {
    field = static_cast<T>(v);
  }
}

// `get` returns the field of a Config (const or not): comparing and copying
// come from it.
template <class Get>
void compare_by(Setting& s, Get get) {
  s.same = [get](const Config& a, const Config& b) { return get(a) == get(b); };
  s.copy = [get](Config& to, const Config& from) { get(to) = get(from); };
}

template <class Get>
Setting number(std::string name, std::int64_t def, std::int64_t min, std::int64_t max,
               Reload reload, std::string help, Get get) {
  Setting s;
  s.name = std::move(name);
  s.kind = SettingKind::integer;
  s.default_value = std::to_string(def);
  s.min = min;
  s.max = max;
  s.allowed = fmt::format("{} to {}", min, max);
  s.help = std::move(help);
  s.reload = reload;
  s.store = [get, name = s.name](Config& c, const SettingValue& v) {
    assign_number(get(c), v.number, name);
    return std::string();
  };
  compare_by(s, get);
  return s;
}

template <class Get>
Setting flag(std::string name, bool def, Reload reload, std::string help, Get get) {
  Setting s;
  s.name = std::move(name);
  s.kind = SettingKind::flag;
  s.default_value = def ? "true" : "false";
  s.allowed = "true or false";
  s.help = std::move(help);
  s.reload = reload;
  s.store = [get](Config& c, const SettingValue& v) {
    get(c) = v.flag;
    return std::string();
  };
  compare_by(s, get);
  return s;
}

// "a, b or c"
inline std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

// One of a few names, each standing for a value of the field.
template <class V, class Get>
Setting choice(std::string name, std::string def, std::vector<std::pair<std::string, V>> values,
               Reload reload, std::string help, Get get) {
  Setting s;
  s.name = std::move(name);
  s.kind = SettingKind::choice;
  s.default_value = std::move(def);
  for (const auto& [text, value] : values) s.choices.push_back(text);
  s.allowed = one_of(s.choices);
  s.help = std::move(help);
  s.reload = reload;
  s.store = [get, values, key = std::string(s.key()), allowed = s.allowed](
                Config& c, const SettingValue& v) {
    for (const auto& [text, value] : values)
      if (text == v.text) {
        get(c) = value;
        return std::string();
      }
    return fmt::format("{} must be {}", key, allowed);
  };
  compare_by(s, get);
  return s;
}

// Text, checked by `check` (an error, or empty) and stored by `put`;
// compared through `get`.
template <class Get, class Put>
Setting text(std::string name, std::string def, std::string allowed, Reload reload,
             std::string help, Get get, Put put) {
  Setting s;
  s.name = std::move(name);
  s.kind = SettingKind::text;
  s.default_value = std::move(def);
  s.allowed = std::move(allowed);
  s.help = std::move(help);
  s.reload = reload;
  s.store = [put, key = std::string(s.key())](Config& c, const SettingValue& v) {
    return put(c, v.text, key);
  };
  compare_by(s, get);
  return s;
}

// Text stored as it is, with at least `min_chars` and at most `max_chars`.
template <class Get>
Setting plain_text(std::string name, std::string def, std::string allowed, Reload reload,
                   std::string help, Get get, std::size_t min_chars = 0,
                   std::size_t max_chars = std::string::npos) {
  return text(std::move(name), std::move(def), std::move(allowed), reload, std::move(help), get,
              [get, min_chars, max_chars](Config& c, const std::string& v, const std::string& key) {
                get(c) = v;
                if (v.size() >= min_chars && v.size() <= max_chars) return std::string();
                if (max_chars == std::string::npos) return fmt::format("{} must not be empty", key);
                return fmt::format("{} must have {} to {} characters", key, min_chars, max_chars);
              });
}

// A time in the campaign's zone (read before it in table order).
template <class Get>
Setting local_time(std::string name, std::string def, std::string help, Get get) {
  return text(std::move(name), def, "a time like 2026-10-01 00:00, in campaign.time_zone",
              Reload::applied, std::move(help), get,
              [get, def](Config& c, const std::string& v, const std::string& key) {
                const std::string& given = v.empty() ? def : v;
                if (given.empty()) {
                  get(c) = {};
                  return std::string();
                }
                std::string why;
                const auto t = parse_local_time(given, c.time_zone, &why);
                if (!t && !why.empty())
                  return fmt::format("{} ({}) is no time: {}", key, given, why);
                if (!t)
                  return fmt::format("{} must be a time like 2026-10-01 00:00, not '{}'", key,
                                     given);
                get(c) = *t;
                return std::string();
              });
}

template <class Get>
Setting month(std::string name, std::string help, Get get) {
  return text(std::move(name), "", "empty, or a month like 2026-10", Reload::applied,
              std::move(help), get,
              [get](Config& c, const std::string& v, const std::string& key) {
                get(c).clear();  // empty: the campaign's own (parse_config fills it in)
                if (v.empty()) return std::string();
                const auto m = parse_month(v);
                if (!m) return fmt::format("{} must be a month like 2026-10, not '{}'", key, v);
                get(c) = *m;
                return std::string();
              });
}

template <class Get>
Setting ussd_op(std::string name, std::string def, std::string help, Get get) {
  return text(std::move(name), std::move(def), "an ussd_service_op: a name, or 0 to 255",
              Reload::applied, std::move(help), get,
              [get](Config& c, const std::string& v, const std::string& key) {
                const auto op = smpp::parse_ussd_op(v);
                if (!op)
                  return fmt::format(
                      "{} must be an ussd_service_op: a name like pssr_indication, or 0 to 255",
                      key);
                get(c) = *op;
                return std::string();
              });
}

}  // namespace giftgate::setting_kinds
