// The campaign's calendar: months as "YYYY-MM" and wall-clock times in an
// IANA zone (the campaign's time_zone), turned into UTC instants.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/campaign/vouchers.hpp"

namespace giftgate {

// Whether `zone` names a zone in the system's zoneinfo ("UTC" always does).
bool known_zone(const std::string& zone);

// The month ("2026-10") in which instant t falls in `zone`.
std::string local_month(const std::string& zone, Time t);

// A month as "YYYY-MM" (month 01 to 12, nothing else, surrounding spaces
// dropped), or nullopt: "2026-10-01", "Oct 2026" and "2026-1" are refused so
// that one month always has one spelling.
std::optional<std::string> parse_month(std::string_view text);

// A wall-clock time ("2026-10-01 00:00", "2026-10-01T00:00:00", "2026-10-01")
// in an IANA zone, as UTC; nullopt when malformed or the zone is unknown.
std::optional<Time> parse_local_time(std::string_view text, const std::string& zone);
// A zone's offset from UTC at instant t.
std::optional<std::chrono::minutes> zone_offset(const std::string& zone, Time t);

}  // namespace giftgate
