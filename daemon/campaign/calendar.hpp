// The campaign's calendar: months as "YYYY-MM" and wall-clock times in an
// IANA zone (the campaign's time_zone), turned into UTC instants and back.
//
// Zones come from the system's zoneinfo through Howard Hinnant's date
// library, never through the process's TZ: every function here is pure and
// safe from any thread (a reload on SIGHUP runs with the daemon's threads
// alive). Each conversion uses the zone's offset at the instant concerned,
// so times and days stay right across a change to or from summer time.
//
// Wall times a zone's clocks show never or twice (a change to or from
// summer time) are settled one way everywhere: one the clocks skip is
// refused, one they show twice is the first of the two, while summer time
// still holds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/campaign/settings.hpp"
#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

// Whether `zone` names a zone in the system's zoneinfo ("Asia/Shanghai",
// "UTC"); a path or a file there that is no zone ("zone.tab") is not one.
bool known_zone(const std::string& zone);

// "2026-12-25 13:26": instant t on the clocks of `zone`, as members read
// times. In UTC for a zone that is not known (the configuration refuses
// those).
std::string format_local_time(const std::string& zone, Time t);

// The month ("2026-10") in which instant t falls in `zone`.
std::string local_month(const std::string& zone, Time t);

// A month as "YYYY-MM" (month 01 to 12, nothing else, surrounding spaces
// dropped), or nullopt: "2026-10-01", "Oct 2026" and "2026-1" are refused so
// that one month always has one spelling.
std::optional<std::string> parse_month(std::string_view text);

// A wall-clock time ("2026-10-01 00:00", "2026-10-01T00:00:00", "2026-10-01")
// in an IANA zone, as UTC; nullopt when malformed, the zone is unknown, or
// the zone's clocks skip that time (then `why`, if given, says so). A time
// shown twice is the first (see above).
std::optional<Time> parse_local_time(std::string_view text, const std::string& zone,
                                     std::string* why = nullptr);

// A time as the database stores it ("2026-10-01T08:00:00Z", iso_time's
// form), or nullopt.
std::optional<Time> parse_iso_time(std::string_view iso);

// "21:00-09:00" as DailyHours (each end HH:MM, 00:00 to 23:59; equal ends
// are no time at all), or nullopt.
std::optional<DailyHours> parse_daily_hours(std::string_view text);
// "21:00-09:00", as parse_daily_hours reads it.
std::string format_daily_hours(const DailyHours& hours);
// The minute of the day (0 to 1439) instant t shows on the clocks of `zone`.
int local_minute_of_day(const std::string& zone, Time t);

// From `from` on, a zone's offset from UTC (summer time included).
struct ZoneOffset {
  Time from;
  std::chrono::seconds offset;
};
// The offsets a zone has between first and last (inclusive), oldest first:
// the first from `first` itself, each other from the change that brought
// it. Empty for an unknown zone or last before first.
std::vector<ZoneOffset> zone_offsets(const std::string& zone, Time first, Time last);

}  // namespace giftgate
