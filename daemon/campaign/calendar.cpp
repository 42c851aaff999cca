#include "daemon/campaign/calendar.hpp"

#include <cstdio>
#include <exception>

#include <date/tz.h>
#include <fmt/chrono.h>
#include <fmt/format.h>

namespace giftgate {
namespace {

// The zone, or null. The library throws for a name it does not know; here
// that is an expected answer, so it becomes one. A zoneinfo it cannot read
// at all makes every zone unknown, which the configuration then refuses.
const date::time_zone* find_zone(const std::string& name) {
  if (name.empty()) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// Instant t on the zone's clocks, as a count from the epoch like a UTC time
// (so that fmt's chrono formats print it); t itself for no zone.
Time on_clocks(const date::time_zone* zone, Time t) {
  if (!zone) return t;
  return Time{zone->to_local(t).time_since_epoch()};
}

}  // namespace

bool known_zone(const std::string& zone) { return find_zone(zone) != nullptr; }

std::string format_local_time(const std::string& zone, Time t) {
  return fmt::format("{:%Y-%m-%d %H:%M}", on_clocks(find_zone(zone), t));
}

int local_minute_of_day(const std::string& zone, Time t) {
  const auto local = on_clocks(find_zone(zone), t).time_since_epoch();
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(local).count();
  return static_cast<int>(((minutes % 1440) + 1440) % 1440);
}

std::optional<DailyHours> parse_daily_hours(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  // HH:MM-HH:MM, nothing else
  if (text.size() != 11 || text[2] != ':' || text[5] != '-' || text[8] != ':') return std::nullopt;
  const auto minute = [&](std::size_t at) -> std::optional<int> {
    for (std::size_t i : {at, at + 1, at + 3, at + 4})
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
    const int h = (text[at] - '0') * 10 + (text[at + 1] - '0');
    const int m = (text[at + 3] - '0') * 10 + (text[at + 4] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    return h * 60 + m;
  };
  const auto from = minute(0);
  const auto to = minute(6);
  if (!from || !to) return std::nullopt;
  return DailyHours{*from, *to};
}

std::string format_daily_hours(const DailyHours& hours) {
  return fmt::format("{:02}:{:02}-{:02}:{:02}", hours.from / 60, hours.from % 60, hours.to / 60,
                     hours.to % 60);
}

std::string local_month(const std::string& zone, Time t) {
  return fmt::format("{:%Y-%m}", on_clocks(find_zone(zone), t));
}

std::optional<std::string> parse_month(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i)
      if (text[i] < '0' || text[i] > '9') return false;
    return true;
  };
  if (text.size() != 7 || text[4] != '-' || !digits(0, 4) || !digits(5, 2)) return std::nullopt;
  const int month = (text[5] - '0') * 10 + (text[6] - '0');
  if (month < 1 || month > 12) return std::nullopt;
  return std::string(text);
}

std::optional<Time> parse_local_time(std::string_view text, const std::string& zone,
                                     std::string* why) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char sep = 0;
  int used = 0;
  const std::string t(text);
  bool ok = false;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &s, &used) == 7)
    ok = used == static_cast<int>(t.size());
  else if (s = 0, std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &used) == 6)
    ok = used == static_cast<int>(t.size());
  else if (h = mi = 0, sep = ' ', std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3)
    ok = used == static_cast<int>(t.size());
  if (!ok || (sep != ' ' && sep != 'T')) return std::nullopt;
  const std::chrono::year_month_day day{std::chrono::year{y}, std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!day.ok() || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return std::nullopt;
  const date::time_zone* tz = find_zone(zone);
  if (!tz) return std::nullopt;
  const date::local_seconds wall{std::chrono::sys_days(day).time_since_epoch() +
                                 std::chrono::hours(h) + std::chrono::minutes(mi) +
                                 std::chrono::seconds(s)};
  const date::local_info info = tz->get_info(wall);
  switch (info.result) {
    case date::local_info::unique: return Time{wall.time_since_epoch() - info.first.offset};
    case date::local_info::ambiguous:
      // Shown twice: the first, on the offset before the change, so nothing
      // starts or ends an hour after the clocks first read its time.
      return Time{wall.time_since_epoch() - info.first.offset};
    case date::local_info::nonexistent: {
      // The clocks jump from the end of the first period to the start of
      // the second, over the time asked for.
      const auto clock = [](date::sys_seconds at, std::chrono::seconds offset) {
        return fmt::format("{:%H:%M}", Time{at.time_since_epoch() + offset});
      };
      if (why)
        *why = fmt::format("the clocks in {} skip it (at {} they go on to {})", zone,
                           clock(info.first.end, info.first.offset),
                           clock(info.second.begin, info.second.offset));
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<Time> parse_iso_time(std::string_view iso) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  const std::string text(iso);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
      used != static_cast<int>(text.size()))
    return std::nullopt;
  const std::chrono::year_month_day day{std::chrono::year{y}, std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!day.ok() || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return std::nullopt;
  return Time{std::chrono::sys_days(day).time_since_epoch() + std::chrono::hours(h) +
              std::chrono::minutes(mi) + std::chrono::seconds(s)};
}

std::vector<ZoneOffset> zone_offsets(const std::string& zone, Time first, Time last) {
  std::vector<ZoneOffset> out;
  const date::time_zone* tz = find_zone(zone);
  if (!tz || last < first) return out;
  date::sys_info info = tz->get_info(first);
  out.push_back({first, info.offset});
  // One step per change of the zone's rules, which are finite over any span.
  while (info.end <= last && info.end > info.begin) {
    info = tz->get_info(info.end);
    // A change of name only (or of its summer-time part alone) keeps the offset.
    if (info.offset != out.back().offset) out.push_back({info.begin, info.offset});
  }
  return out;
}

}  // namespace giftgate
