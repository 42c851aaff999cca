#include "daemon/campaign/calendar.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

namespace giftgate {
namespace {

// Runs f with the process's local time zone set to `zone`, then puts it back.
// Only used while loading configuration, before any thread starts.
template <typename F>
auto in_zone(const std::string& zone, F f) {
  const char* old = std::getenv("TZ");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  ::setenv("TZ", (":" + zone).c_str(), 1);
  ::tzset();
  auto result = f();
  if (saved) ::setenv("TZ", saved->c_str(), 1);
  else ::unsetenv("TZ");
  ::tzset();
  return result;
}

}  // namespace

bool known_zone(const std::string& zone) {
  if (zone.empty() || zone.front() == '/' || zone.find("..") != std::string::npos) return false;
  if (zone == "UTC") return true;
  std::error_code ec;
  return std::filesystem::is_regular_file("/usr/share/zoneinfo/" + zone, ec);
}

// The month ("2026-10") in which instant t falls in `zone`.
std::string local_month(const std::string& zone, Time t) {
  return in_zone(zone, [&] {
    const std::time_t when = t.time_since_epoch().count();
    std::tm tm{};
    ::localtime_r(&when, &tm);
    return fmt::format("{:04}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1);
  });
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

std::optional<Time> parse_local_time(std::string_view text, const std::string& zone) {
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
  if (!day.ok() || h > 23 || mi > 59 || s > 59 || !known_zone(zone)) return std::nullopt;
  return in_zone(zone, [&]() -> std::optional<Time> {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    const std::time_t when = std::mktime(&tm);
    if (when == static_cast<std::time_t>(-1)) return std::nullopt;
    return Time{std::chrono::seconds(when)};
  });
}

std::optional<std::chrono::minutes> zone_offset(const std::string& zone, Time t) {
  if (!known_zone(zone)) return std::nullopt;
  return in_zone(zone, [&] {
    const std::time_t when = t.time_since_epoch().count();
    std::tm tm{};
    ::localtime_r(&when, &tm);
    return std::chrono::minutes(tm.tm_gmtoff / 60);
  });
}

}  // namespace giftgate
